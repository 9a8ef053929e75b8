// Reference kernels: the same contract as kernels.ts, written as the textbook formulas with no
// blocking and no fusing, so a test can check every fast kernel against them. Slow on purpose;
// never used for training.

import { Arena } from "./arena.js";
import { withTimeLoops, type Kernels } from "./kernels.js";

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const dTanhFromOutput = (y: number): number => 1 - y * y;
const dSigmoidFromOutput = (y: number): number => y * (1 - y);

export const naiveKernels: Kernels = withTimeLoops({
  name: "naive",

  newArena: (dtype, floats) => new Arena(dtype, floats),

  gemm(transA, transB, M, N, K, A, aOff, lda, B, bOff, ldb, C, cOff, ldc, accumulate) {
    const a = (i: number, k: number): number => (transA ? A[aOff + k * lda + i]! : A[aOff + i * lda + k]!);
    const b = (k: number, j: number): number => (transB ? B[bOff + j * ldb + k]! : B[bOff + k * ldb + j]!);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let sum = 0;
        for (let k = 0; k < K; k++) sum += a(i, k) * b(k, j);
        const p = cOff + i * ldc + j;
        C[p] = (accumulate ? C[p]! : 0) + sum;
      }
    }
  },

  oneHotProject(out, tokens, rows, W, bias, G, V) {
    // The literal product W·onehot(token): every column contributes, all but one times zero.
    for (let r = 0; r < rows; r++) {
      for (let g = 0; g < G; g++) {
        let sum = bias[g]!;
        for (let v = 0; v < V; v++) sum += W[g * V + v]! * (v === tokens[r] ? 1 : 0);
        out[r * G + g] = sum;
      }
    }
  },

  oneHotAccumulate(dW, dOut, tokens, rows, G, V) {
    for (let r = 0; r < rows; r++)
      for (let g = 0; g < G; g++)
        for (let v = 0; v < V; v++) dW[g * V + v] += dOut[r * G + g]! * (v === tokens[r] ? 1 : 0);
  },

  embedLookup(out, tokens, rows, E, width) {
    for (let r = 0; r < rows; r++) for (let k = 0; k < width; k++) out[r * width + k] = E[tokens[r]! * width + k]!;
  },

  embedAccumulate(dE, dOut, tokens, rows, width) {
    for (let r = 0; r < rows; r++) for (let k = 0; k < width; k++) dE[tokens[r]! * width + k] += dOut[r * width + k]!;
  },

  add(out, outOff, x, xOff, n) {
    for (let i = 0; i < n; i++) out[outOff + i] = out[outOff + i]! + x[xOff + i]!;
  },

  addBias(C, cOff, rows, cols, bias) {
    for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) C[cOff + r * cols + k] += bias[k]!;
  },

  sumRows(dBias, dC, rows, cols) {
    for (let k = 0; k < cols; k++) {
      let sum = 0;
      for (let r = 0; r < rows; r++) sum += dC[r * cols + k]!;
      dBias[k] += sum;
    }
  },

  lstmForward(gates, gOff, cPrev, cpOff, c, cOff, tanhC, tOff, h, hOff, B, H) {
    const at = (b: number, gate: number, k: number): number => gOff + b * 4 * H + gate * H + k;
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < H; k++) {
        gates[at(b, 0, k)] = sigmoid(gates[at(b, 0, k)]!);
        gates[at(b, 1, k)] = sigmoid(gates[at(b, 1, k)]!);
        gates[at(b, 2, k)] = Math.tanh(gates[at(b, 2, k)]!);
        gates[at(b, 3, k)] = sigmoid(gates[at(b, 3, k)]!);
        const [i, f, g, o] = [0, 1, 2, 3].map((gate) => gates[at(b, gate, k)]!) as [number, number, number, number];
        c[cOff + b * H + k] = f * cPrev[cpOff + b * H + k]! + i * g;
        tanhC[tOff + b * H + k] = Math.tanh(c[cOff + b * H + k]!);
        h[hOff + b * H + k] = o * tanhC[tOff + b * H + k]!;
      }
    }
  },

  lstmBackward(gates, gOff, cPrev, cpOff, tanhC, tOff, dh, dc, dGates, dgOff, B, H) {
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < H; k++) {
        const gate = (n: number): number => gates[gOff + b * 4 * H + n * H + k]!;
        const [i, f, g, o] = [gate(0), gate(1), gate(2), gate(3)];
        const tc = tanhC[tOff + b * H + k]!;
        const dO = dh[b * H + k]! * tc;
        const dC = dc[b * H + k]! + dh[b * H + k]! * o * dTanhFromOutput(tc);
        const dI = dC * g;
        const dF = dC * cPrev[cpOff + b * H + k]!;
        const dG = dC * i;
        const out = dgOff + b * 4 * H + k;
        dGates[out] = dI * dSigmoidFromOutput(i);
        dGates[out + H] = dF * dSigmoidFromOutput(f);
        dGates[out + 2 * H] = dG * dTanhFromOutput(g);
        dGates[out + 3 * H] = dO * dSigmoidFromOutput(o);
        dc[b * H + k] = dC * f;
      }
    }
  },

  gruForward(xProj, xOff, hProj, hpOff, hPrev, hPrevOff, acts, aOff, h, hOff, B, H) {
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < H; k++) {
        const x = (n: number): number => xProj[xOff + b * 3 * H + n * H + k]!;
        const hh = (n: number): number => hProj[hpOff + b * 3 * H + n * H + k]!;
        const r = sigmoid(x(0) + hh(0));
        const z = sigmoid(x(1) + hh(1));
        const n = Math.tanh(x(2) + r * hh(2));
        acts[aOff + b * 3 * H + k] = r;
        acts[aOff + b * 3 * H + H + k] = z;
        acts[aOff + b * 3 * H + 2 * H + k] = n;
        h[hOff + b * H + k] = (1 - z) * n + z * hPrev[hPrevOff + b * H + k]!;
      }
    }
  },

  gruBackward(hProj, hpOff, hPrev, hPrevOff, acts, aOff, dh, dX, dxOff, dHh, dhhOff, B, H) {
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < H; k++) {
        const act = (n: number): number => acts[aOff + b * 3 * H + n * H + k]!;
        const [r, z, n] = [act(0), act(1), act(2)];
        const hn = hProj[hpOff + b * 3 * H + 2 * H + k]!;
        const dH = dh[b * H + k]!;
        const dN = dH * (1 - z);
        const dZ = dH * (hPrev[hPrevOff + b * H + k]! - n);
        const dNPre = dN * dTanhFromOutput(n);
        const dR = dNPre * hn;
        const row = (buffer: typeof dX, off: number, gate: number, value: number): void => {
          buffer[off + b * 3 * H + gate * H + k] = value;
        };
        row(dX, dxOff, 0, dR * dSigmoidFromOutput(r));
        row(dX, dxOff, 1, dZ * dSigmoidFromOutput(z));
        row(dX, dxOff, 2, dNPre);
        row(dHh, dhhOff, 0, dR * dSigmoidFromOutput(r));
        row(dHh, dhhOff, 1, dZ * dSigmoidFromOutput(z));
        row(dHh, dhhOff, 2, dNPre * r);
        dh[b * H + k] = dH * z;
      }
    }
  },

  rnnForward(pre, off, n, relu) {
    for (let i = 0; i < n; i++) pre[off + i] = relu ? Math.max(0, pre[off + i]!) : Math.tanh(pre[off + i]!);
  },

  rnnBackward(h, hOff, dh, dPre, pOff, n, relu) {
    for (let i = 0; i < n; i++) {
      const y = h[hOff + i]!;
      dPre[pOff + i] = dh[i]! * (relu ? (y > 0 ? 1 : 0) : dTanhFromOutput(y));
    }
  },

  softmaxCrossEntropy(logits, targets, rows, V, dLogits, gradScale) {
    let total = 0;
    for (let r = 0; r < rows; r++) {
      const row = Array.from(logits.subarray(r * V, r * V + V));
      const max = Math.max(...row);
      const exps = row.map((x) => Math.exp(x - max));
      const sum = exps.reduce((a, b) => a + b, 0);
      total += -Math.log(exps[targets[r]!]! / sum);
      for (let v = 0; v < V; v++) dLogits[r * V + v] = (exps[v]! / sum - (v === targets[r] ? 1 : 0)) * gradScale;
    }
    return total;
  },

  multiply(out, x, mask, n) {
    for (let i = 0; i < n; i++) out[i] = x[i]! * mask[i]!;
  },
});
