// The numeric kernels: every heavy loop of the model goes through here, so that a compiled
// backend can replace them as a set. This file holds the fast TypeScript versions; the naive
// reference versions, written for clarity and used only by tests, are in kernels-naive.ts.
// Kernels take (array, offset) pairs rather than subarrays, so a step allocates nothing.
// The compiled backend (src/wasm/) implements the same interface; the whole-layer time loops
// (the *Sequence kernels) are written once here, for both TypeScript sets, from the step kernels.
// Shape letters: B batch, T time, V vocabulary, H hidden, G gate rows (1, 3 or 4 times H).

import { CharnnError, ExitCode } from "../errors.js";
import { Arena, type DType, type FloatArray } from "./arena.js";

/**
 * Floats that op(B) (K,N) takes once packed by Kernels.pack: K rows of N rounded up to whole
 * 8-column panels. The same for every backend, so workspaces are sized without knowing which.
 */
export const packedFloats = (K: number, N: number): number => K * Math.ceil(N / 8) * 8;

export interface Kernels {
  readonly name: string;
  /** Threads the heavy kernels are split across (1 for the TypeScript kernels). */
  readonly threads: number;
  /**
   * An arena these kernels can work on in place: plain memory for the TypeScript kernels, the
   * module's own memory for a compiled backend. Every buffer handed to a kernel comes from one.
   */
  newArena(dtype: DType, floats: number): Arena;
  /** A token buffer the kernels read in place (zero-filled); any Int32Array works, more slowly. */
  newIndexBuffer(length: number): Int32Array;
  /** Ends any threads; the kernels must not be used afterwards. A no-op without threads. */
  dispose(): void;
  /**
   * Copies op(B) (K,N) into `packed` (packedFloats(K, N) floats) in the layout this backend's
   * time loops read, so a weight used at every step is rearranged once per window.
   */
  pack(transB: boolean, K: number, N: number, B: FloatArray, bOff: number, ldb: number, packed: FloatArray): void;
  /**
   * C[M,N] (+)= op(A)[M,K] · op(B)[K,N], row-major with leading dimensions lda, ldb, ldc.
   * transA: A is stored (K,M); transB: B is stored (N,K) — the layout of PyTorch's weights,
   * so x·Wᵀ is gemm(false, true, …).
   */
  gemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number,
    A: FloatArray, aOff: number, lda: number,
    B: FloatArray, bOff: number, ldb: number,
    C: FloatArray, cOff: number, ldc: number,
    accumulate: boolean,
  ): void;
  /** out[r, :] = W[:, tokens[r]] + bias: W (G,V) times a one-hot column, which is a column lookup. */
  oneHotProject(out: FloatArray, tokens: Int32Array, rows: number, W: FloatArray, bias: FloatArray, G: number, V: number): void;
  /** dW[:, tokens[r]] += dOut[r, :]: the weight gradient of oneHotProject. */
  oneHotAccumulate(dW: FloatArray, dOut: FloatArray, tokens: Int32Array, rows: number, G: number, V: number): void;
  /** out[r, :] = E[tokens[r], :] (an embedding lookup). */
  embedLookup(out: FloatArray, tokens: Int32Array, rows: number, E: FloatArray, width: number): void;
  /** dE[tokens[r], :] += dOut[r, :]. */
  embedAccumulate(dE: FloatArray, dOut: FloatArray, tokens: Int32Array, rows: number, width: number): void;
  /** out[outOff + i] += x[xOff + i] for i < n. */
  add(out: FloatArray, outOff: number, x: FloatArray, xOff: number, n: number): void;
  /** C[r, :] += bias for r < rows. */
  addBias(C: FloatArray, cOff: number, rows: number, cols: number, bias: FloatArray): void;
  /** dBias += Σ_r dC[r, :]. */
  sumRows(dBias: FloatArray, dC: FloatArray, rows: number, cols: number): void;
  /** LSTM step: gates (B,4H) pre-activations i,f,g,o → activated in place; c = f⊙cPrev + i⊙g; h = o⊙tanh(c). */
  lstmForward(
    gates: FloatArray, gOff: number, cPrev: FloatArray, cpOff: number,
    c: FloatArray, cOff: number, tanhC: FloatArray, tOff: number, h: FloatArray, hOff: number,
    B: number, H: number,
  ): void;
  /**
   * LSTM step backward. In: activated gates, cPrev, tanh(c), dh (B,H), dc (B,H) holding ∂L/∂c_t.
   * Out: dGates (B,4H) pre-activation gradients; dc overwritten with ∂L/∂c_{t-1} (the f⊙dc path).
   * dGates may be the gates themselves at the same offset (the model does that, saving a (T,B,4H)
   * buffer): each element's four gates are read before their gradients are written.
   */
  lstmBackward(
    gates: FloatArray, gOff: number, cPrev: FloatArray, cpOff: number, tanhC: FloatArray, tOff: number,
    dh: FloatArray, dc: FloatArray, dGates: FloatArray, dgOff: number, B: number, H: number,
  ): void;
  /**
   * GRU step (PyTorch's equations): r = σ(xr + hr), z = σ(xz + hz), n = tanh(xn + r⊙hn),
   * h = (1−z)⊙n + z⊙hPrev, where x· = W_i· x + b_i· and h· = W_h· hPrev + b_h·.
   * xProj and hProj are (B,3H) in r,z,n order; acts receives r,z,n.
   */
  gruForward(
    xProj: FloatArray, xOff: number, hProj: FloatArray, hpOff: number, hPrev: FloatArray, hPrevOff: number,
    acts: FloatArray, aOff: number, h: FloatArray, hOff: number, B: number, H: number,
  ): void;
  /**
   * GRU step backward. In: dh (B,H) = ∂L/∂h_t. Out: dX (B,3H) gradient of xProj, dHh (B,3H) of
   * hProj, and dh overwritten with the direct part of ∂L/∂hPrev (z⊙dh; the W_hh part is added by
   * the caller's product).
   */
  gruBackward(
    hProj: FloatArray, hpOff: number, hPrev: FloatArray, hPrevOff: number, acts: FloatArray, aOff: number,
    dh: FloatArray, dX: FloatArray, dxOff: number, dHh: FloatArray, dhhOff: number, B: number, H: number,
  ): void;
  /** Elman step: h = act(pre) in place over n values. */
  rnnForward(pre: FloatArray, off: number, n: number, relu: boolean): void;
  /** dPre[i] = dh[i]·act'(h[i]), with act' written in terms of the output h. */
  rnnBackward(h: FloatArray, hOff: number, dh: FloatArray, dPre: FloatArray, pOff: number, n: number, relu: boolean): void;
  /**
   * Softmax cross-entropy over rows of V logits. Writes gradScale·(softmax − onehot(target)) into
   * dLogits and returns the summed loss (nats) over the rows.
   */
  softmaxCrossEntropy(logits: FloatArray, targets: Int32Array, rows: number, V: number, dLogits: FloatArray, gradScale: number): number;
  /** out[i] = x[i]·mask[i] (inverted dropout: mask holds 0 or 1/(1−p)). */
  multiply(out: FloatArray, x: FloatArray, mask: FloatArray, n: number): void;
  /**
   * The decoder and its loss: logits (rows,V) = y (rows,H, from yOff) · Wᵀ + bias, then, given
   * targets, softmaxCrossEntropy of them (its loss sum returned; NaN without targets). The same
   * bits as gemm, addBias and softmaxCrossEntropy called in turn, which a set may do.
   */
  decoderForward(y: FloatArray, yOff: number, rows: number, H: number, W: FloatArray, bias: FloatArray, V: number,
    logits: FloatArray, targets: Int32Array | null, dLogits: FloatArray, gradScale: number): number;
  /**
   * The decoder's gradient: dW (V,H) += dLogitsᵀ · y; dBias += Σ_r dLogits[r]; dY (rows,H) =
   * dLogits · W. The same bits as the two gemm calls and sumRows.
   */
  decoderBackward(dLogits: FloatArray, rows: number, V: number, y: FloatArray, yOff: number, H: number, W: FloatArray,
    dW: FloatArray, dBias: FloatArray, dY: FloatArray): void;

  // Whole time loops of one layer, in the buffer layouts of src/nn/cell.ts: hs (T+1, B, H) with
  // the initial state in block 0; per-step rows (T, B, ·). wHh is W_hh (G,H) as stored; wHhT is
  // pack(true, H, G, wHh) (for h·W_hhᵀ) and wHhP is pack(false, G, H, wHh) (for dGates·W_hh).
  /** LSTM steps 0..T−1: gates (T,B,4H) hold W_ih·x + b_ih + b_hh and are activated in place; fills hs, cs, tanhC. */
  lstmSequenceForward(T: number, B: number, H: number, gates: FloatArray, hs: FloatArray, cs: FloatArray, tanhC: FloatArray,
    wHh: FloatArray, wHhT: FloatArray): void;
  /** LSTM steps T−1..0: adds dOut into dh, writes dGates; dh and dc end as ∂L/∂(initial state). */
  lstmSequenceBackward(T: number, B: number, H: number, gates: FloatArray, hs: FloatArray, cs: FloatArray, tanhC: FloatArray,
    dOut: FloatArray, dGates: FloatArray, dh: FloatArray, dc: FloatArray, wHh: FloatArray, wHhP: FloatArray): void;
  /** GRU steps 0..T−1: xProj (T,B,3H) becomes r,z,n in place; hProj (T,B,3H) = W_hh·h + b_hh. */
  gruSequenceForward(T: number, B: number, H: number, xProj: FloatArray, hProj: FloatArray, hs: FloatArray, bHh: FloatArray,
    wHh: FloatArray, wHhT: FloatArray): void;
  /** GRU steps T−1..0: writes dGates (of xProj) and dHh (of hProj); dh ends as ∂L/∂h_0. */
  gruSequenceBackward(T: number, B: number, H: number, acts: FloatArray, hProj: FloatArray, hs: FloatArray,
    dOut: FloatArray, dGates: FloatArray, dHh: FloatArray, dh: FloatArray, wHh: FloatArray, wHhP: FloatArray): void;
  /** Elman steps 0..T−1: hs[t+1] holds W_ih·x + b_ih + b_hh and becomes act(· + W_hh·h_t). */
  rnnSequenceForward(T: number, B: number, H: number, hs: FloatArray, relu: boolean, wHh: FloatArray, wHhT: FloatArray): void;
  /** Elman steps T−1..0: writes dGates (T,B,H) of the pre-activations; dh ends as ∂L/∂h_0. */
  rnnSequenceBackward(T: number, B: number, H: number, hs: FloatArray, relu: boolean, dOut: FloatArray, dGates: FloatArray,
    dh: FloatArray, wHh: FloatArray, wHhP: FloatArray): void;

  /**
   * Batch-1 steps for one model (sampling), where this kernel set has its own: the weights laid
   * out for them once, and each step every layer and the decoder in one call. A stepper gives
   * the same logits, bit for bit, as a Workspace forward of one step on the same kernels.
   * Absent: the caller steps a Workspace of one step.
   */
  stepper?(model: StepModel): Stepper;

  /**
   * One Adam update over n float32 parameters, where this kernel set has its own: the same bits as
   * the TypeScript loop in src/core/optim/optimizers.ts (float64 arithmetic, each stored value
   * rounded to float32), split across the threads. Absent: the optimiser runs its own loop.
   */
  adamStep?(values: FloatArray, grads: FloatArray, m: FloatArray, v: FloatArray, n: number, rule: AdamRule): void;
}

/** The constants of one Adam step, as the optimiser computes them in float64. */
export interface AdamRule {
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  /** lr / (1 − β1^t) */
  stepSize: number;
  /** √(1 − β2^t) */
  correction2: number;
  eps: number;
  /** 1 − lr·wd, applied to each value first when wd ≠ 0 (decoupled weight decay). */
  decay: number;
  decayed: boolean;
}

/** A model as a batch-1 stepper reads it: its shape, and its weights in PyTorch's layout (src/core/nn/params.ts). */
export interface StepModel {
  cell: "rnn" | "lstm" | "gru";
  /** Elman cell only: ReLU instead of tanh. */
  relu: boolean;
  hidden: number;
  vocabSize: number;
  /** 0: one-hot input; otherwise the embedding width E. */
  embed: number;
  /** (V, E) when embed > 0, else null. */
  embedding: FloatArray | null;
  /** Per layer, bottom first: W_ih (G, I), W_hh (G, H), b_ih (G), b_hh (G). */
  layers: ReadonlyArray<{ wIh: FloatArray; wHh: FloatArray; bIh: FloatArray; bHh: FloatArray }>;
  /** (V, H) and (V). */
  decoderWeight: FloatArray;
  decoderBias: FloatArray;
}

/** Batch-1 steps over weights laid out for them (Kernels.stepper). */
export interface Stepper {
  /** (L, H) the hidden state a step reads and replaces; the caller may write it between steps. */
  readonly h: FloatArray;
  /** (L, H) the LSTM's cell state, likewise; null for the other cells. */
  readonly c: FloatArray | null;
  /** (V) the logits after the last step. */
  readonly logits: FloatArray;
  /** Lays the weights out again from the model's parameters: after they changed. */
  repack(): void;
  /** Feeds one token: every layer, then the logits; the state advances in place. */
  step(token: number): void;
}

/** The kernels a TypeScript set writes itself; the rest (packing, time loops) come from withTimeLoops. */
export type StepKernels = Omit<Kernels, "threads" | "newIndexBuffer" | "dispose" | "pack" | "decoderForward" | "decoderBackward" |
  "lstmSequenceForward" | "lstmSequenceBackward" | "gruSequenceForward" | "gruSequenceBackward" |
  "rnnSequenceForward" | "rnnSequenceBackward">;

type DecoderParts = Pick<Kernels, "gemm" | "addBias" | "softmaxCrossEntropy" | "sumRows">;

/** Kernels.decoderForward as gemm, addBias and softmaxCrossEntropy in turn (any set's own). */
export function decodeInTurn(k: DecoderParts, y: FloatArray, yOff: number, rows: number, H: number, W: FloatArray, bias: FloatArray,
  V: number, logits: FloatArray, targets: Int32Array | null, dLogits: FloatArray, gradScale: number): number {
  k.gemm(false, true, rows, V, H, y, yOff, H, W, 0, H, logits, 0, V, false);
  k.addBias(logits, 0, rows, V, bias);
  return targets ? k.softmaxCrossEntropy(logits, targets, rows, V, dLogits, gradScale) : NaN;
}

/** Kernels.decoderBackward as gemm, sumRows and gemm in turn. */
export function decodeBackwardInTurn(k: DecoderParts, dLogits: FloatArray, rows: number, V: number, y: FloatArray, yOff: number,
  H: number, W: FloatArray, dW: FloatArray, dBias: FloatArray, dY: FloatArray): void {
  k.gemm(true, false, V, H, rows, dLogits, 0, V, y, yOff, H, dW, 0, H, true);
  k.sumRows(dBias, dLogits, rows, V);
  k.gemm(false, false, rows, H, V, dLogits, 0, V, W, 0, H, dY, 0, H, false);
}

/**
 * Completes a TypeScript kernel set: packing is a plain copy of op(B) as (K, ⌈N/8⌉·8) row-major,
 * each time loop is one product plus one step kernel per step, in the order the model always
 * used, so results are bit-identical to calling the step kernels by hand, and the decoder is its
 * products, bias and loss in turn.
 */
export function withTimeLoops(k: StepKernels): Kernels {
  const ld = (N: number): number => Math.ceil(N / 8) * 8;
  return {
    ...k,
    threads: 1,
    newIndexBuffer: (length) => new Int32Array(length),
    dispose() {},
    decoderForward: (y, yOff, rows, H, W, bias, V, logits, targets, dLogits, gradScale) => decodeInTurn(k, y, yOff, rows, H, W, bias, V, logits, targets, dLogits, gradScale),
    decoderBackward: (dLogits, rows, V, y, yOff, H, W, dW, dBias, dY) => decodeBackwardInTurn(k, dLogits, rows, V, y, yOff, H, W, dW, dBias, dY),

    pack(transB, K, N, B, bOff, ldb, packed) {
      const width = ld(N);
      for (let kk = 0; kk < K; kk++) {
        for (let j = 0; j < N; j++) packed[kk * width + j] = transB ? B[bOff + j * ldb + kk]! : B[bOff + kk * ldb + j]!;
      }
    },

    lstmSequenceForward(T, B, H, gates, hs, cs, tanhC, _wHh, wHhT) {
      const G = 4 * H;
      for (let t = 0; t < T; t++) {
        // gates_t (B,4H) += h_{t-1} (B,H) · W_hhᵀ
        k.gemm(false, false, B, G, H, hs, t * B * H, H, wHhT, 0, ld(G), gates, t * B * G, G, true);
        k.lstmForward(gates, t * B * G, cs, t * B * H, cs, (t + 1) * B * H, tanhC, t * B * H, hs, (t + 1) * B * H, B, H);
      }
    },

    lstmSequenceBackward(T, B, H, gates, hs, cs, tanhC, dOut, dGates, dh, dc, _wHh, wHhP) {
      void hs;
      const G = 4 * H;
      for (let t = T - 1; t >= 0; t--) {
        k.add(dh, 0, dOut, t * B * H, B * H);
        k.lstmBackward(gates, t * B * G, cs, t * B * H, tanhC, t * B * H, dh, dc, dGates, t * B * G, B, H);
        // ∂L/∂h_{t-1} (B,H) = dGates_t (B,4H) · W_hh (4H,H)
        k.gemm(false, false, B, H, G, dGates, t * B * G, G, wHhP, 0, ld(H), dh, 0, H, false);
      }
    },

    gruSequenceForward(T, B, H, xProj, hProj, hs, bHh, _wHh, wHhT) {
      const G = 3 * H;
      for (let t = 0; t < T; t++) {
        // hProj_t (B,3H) = h_{t-1} (B,H) · W_hhᵀ + b_hh
        k.gemm(false, false, B, G, H, hs, t * B * H, H, wHhT, 0, ld(G), hProj, t * B * G, G, false);
        k.addBias(hProj, t * B * G, B, G, bHh);
        // The activations r, z, n overwrite xProj in place (each element is read before it is written).
        k.gruForward(xProj, t * B * G, hProj, t * B * G, hs, t * B * H, xProj, t * B * G, hs, (t + 1) * B * H, B, H);
      }
    },

    gruSequenceBackward(T, B, H, acts, hProj, hs, dOut, dGates, dHh, dh, _wHh, wHhP) {
      const G = 3 * H;
      for (let t = T - 1; t >= 0; t--) {
        k.add(dh, 0, dOut, t * B * H, B * H);
        k.gruBackward(hProj, t * B * G, hs, t * B * H, acts, t * B * G, dh, dGates, t * B * G, dHh, t * B * G, B, H);
        // ∂L/∂h_{t-1} = z ⊙ dh (left in dh by the step kernel) + dHh_t (B,3H) · W_hh (3H,H)
        k.gemm(false, false, B, H, G, dHh, t * B * G, G, wHhP, 0, ld(H), dh, 0, H, true);
      }
    },

    rnnSequenceForward(T, B, H, hs, relu, _wHh, wHhT) {
      for (let t = 0; t < T; t++) {
        const out = (t + 1) * B * H;
        k.gemm(false, false, B, H, H, hs, t * B * H, H, wHhT, 0, ld(H), hs, out, H, true);
        k.rnnForward(hs, out, B * H, relu);
      }
    },

    rnnSequenceBackward(T, B, H, hs, relu, dOut, dGates, dh, _wHh, wHhP) {
      for (let t = T - 1; t >= 0; t--) {
        k.add(dh, 0, dOut, t * B * H, B * H);
        k.rnnBackward(hs, (t + 1) * B * H, dh, dGates, t * B * H, B * H, relu);
        k.gemm(false, false, B, H, H, dGates, t * B * H, H, wHhP, 0, ld(H), dh, 0, H, false);
      }
    },
  };
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * The one GEMM loop, for all three layouts: element (i,k) of op(A) is at aOff + i·ai + k·ak and
 * element (k,j) of op(B) at bOff + k·bk + j·bj. A 4×4 block of C lives in sixteen locals while k
 * runs, which is what keeps V8's scalar code near its ceiling (about 4.5 GFLOP/s per core here).
 */
function gemmStrided(
  M: number, N: number, K: number,
  A: FloatArray, aOff: number, ai: number, ak: number,
  B: FloatArray, bOff: number, bk: number, bj: number,
  C: FloatArray, cOff: number, ldc: number, accumulate: boolean,
): void {
  const M4 = M - (M % 4);
  const N4 = N - (N % 4);
  for (let i = 0; i < M4; i += 4) {
    const a0 = aOff + i * ai, a1 = a0 + ai, a2 = a1 + ai, a3 = a2 + ai;
    for (let j = 0; j < N4; j += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      let pb = bOff + j * bj;
      let pk = 0;
      for (let k = 0; k < K; k++) {
        const x0 = A[a0 + pk]!, x1 = A[a1 + pk]!, x2 = A[a2 + pk]!, x3 = A[a3 + pk]!;
        const y0 = B[pb]!, y1 = B[pb + bj]!, y2 = B[pb + 2 * bj]!, y3 = B[pb + 3 * bj]!;
        c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
        c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
        c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
        c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
        pk += ak;
        pb += bk;
      }
      const r0 = cOff + i * ldc + j, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
      if (accumulate) {
        C[r0] += c00; C[r0 + 1] += c01; C[r0 + 2] += c02; C[r0 + 3] += c03;
        C[r1] += c10; C[r1 + 1] += c11; C[r1 + 2] += c12; C[r1 + 3] += c13;
        C[r2] += c20; C[r2 + 1] += c21; C[r2 + 2] += c22; C[r2 + 3] += c23;
        C[r3] += c30; C[r3 + 1] += c31; C[r3 + 2] += c32; C[r3 + 3] += c33;
      } else {
        C[r0] = c00; C[r0 + 1] = c01; C[r0 + 2] = c02; C[r0 + 3] = c03;
        C[r1] = c10; C[r1 + 1] = c11; C[r1 + 2] = c12; C[r1 + 3] = c13;
        C[r2] = c20; C[r2 + 1] = c21; C[r2 + 2] = c22; C[r2 + 3] = c23;
        C[r3] = c30; C[r3 + 1] = c31; C[r3 + 2] = c32; C[r3 + 3] = c33;
      }
    }
  }
  // The ragged right columns (all rows) and bottom rows (left columns), one element at a time.
  const edge = (i: number, j: number): void => {
    let sum = 0;
    let pa = aOff + i * ai;
    let pb = bOff + j * bj;
    for (let k = 0; k < K; k++) {
      sum += A[pa]! * B[pb]!;
      pa += ak;
      pb += bk;
    }
    const p = cOff + i * ldc + j;
    C[p] = accumulate ? C[p]! + sum : sum;
  };
  for (let i = 0; i < M; i++) for (let j = N4; j < N; j++) edge(i, j);
  // Leftover rows (all of them at batch 1, as in sampling) still take four columns at a time.
  for (let i = M4; i < M; i++) {
    const a0 = aOff + i * ai;
    for (let j = 0; j < N4; j += 4) {
      let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
      let pa = a0, pb = bOff + j * bj;
      for (let k = 0; k < K; k++) {
        const x = A[pa]!;
        c0 += x * B[pb]!; c1 += x * B[pb + bj]!; c2 += x * B[pb + 2 * bj]!; c3 += x * B[pb + 3 * bj]!;
        pa += ak;
        pb += bk;
      }
      const p = cOff + i * ldc + j;
      if (accumulate) { C[p] += c0; C[p + 1] += c1; C[p + 2] += c2; C[p + 3] += c3; }
      else { C[p] = c0; C[p + 1] = c1; C[p + 2] = c2; C[p + 3] = c3; }
    }
  }
}

export const jsKernels: Kernels = withTimeLoops({
  name: "js",

  newArena: (dtype, floats) => {
    try {
      return new Arena(dtype, floats);
    } catch (error) {
      // V8's "Array buffer allocation failed" says neither how much nor what to make smaller.
      if (!(error instanceof RangeError)) throw error;
      const mebibytes = Math.ceil((floats * (dtype === "float32" ? 4 : 8)) / 2 ** 20);
      throw new CharnnError(`could not allocate ${mebibytes} MiB for the model and its workspaces`, ExitCode.failure,
        "use a smaller batch size, sequence length, hidden size or layer count",
        { code: "memory.allocation-failed", facts: { mebibytes, backend: "js" } });
    }
  },

  gemm(transA, transB, M, N, K, A, aOff, lda, B, bOff, ldb, C, cOff, ldc, accumulate) {
    const ai = transA ? 1 : lda, ak = transA ? lda : 1;
    const bk = transB ? 1 : ldb, bj = transB ? ldb : 1;
    gemmStrided(M, N, K, A, aOff, ai, ak, B, bOff, bk, bj, C, cOff, ldc, accumulate);
  },

  oneHotProject(out, tokens, rows, W, bias, G, V) {
    for (let r = 0; r < rows; r++) {
      const token = tokens[r]!;
      const o = r * G;
      for (let g = 0; g < G; g++) out[o + g] = W[g * V + token]! + bias[g]!;
    }
  },

  oneHotAccumulate(dW, dOut, tokens, rows, G, V) {
    for (let r = 0; r < rows; r++) {
      const token = tokens[r]!;
      const o = r * G;
      for (let g = 0; g < G; g++) dW[g * V + token] += dOut[o + g]!;
    }
  },

  embedLookup(out, tokens, rows, E, width) {
    for (let r = 0; r < rows; r++) out.set(E.subarray(tokens[r]! * width, tokens[r]! * width + width), r * width);
  },

  embedAccumulate(dE, dOut, tokens, rows, width) {
    for (let r = 0; r < rows; r++) {
      const e = tokens[r]! * width, o = r * width;
      for (let k = 0; k < width; k++) dE[e + k] += dOut[o + k]!;
    }
  },

  add(out, outOff, x, xOff, n) {
    for (let i = 0; i < n; i++) out[outOff + i] += x[xOff + i]!;
  },

  addBias(C, cOff, rows, cols, bias) {
    for (let r = 0; r < rows; r++) {
      const o = cOff + r * cols;
      for (let k = 0; k < cols; k++) C[o + k] += bias[k]!;
    }
  },

  sumRows(dBias, dC, rows, cols) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      for (let k = 0; k < cols; k++) dBias[k] += dC[o + k]!;
    }
  },

  lstmForward(gates, gOff, cPrev, cpOff, c, cOff, tanhC, tOff, h, hOff, B, H) {
    for (let b = 0; b < B; b++) {
      const g = gOff + b * 4 * H, s = b * H;
      for (let k = 0; k < H; k++) {
        const i = sigmoid(gates[g + k]!);
        const f = sigmoid(gates[g + H + k]!);
        const u = Math.tanh(gates[g + 2 * H + k]!);
        const o = sigmoid(gates[g + 3 * H + k]!);
        gates[g + k] = i; gates[g + H + k] = f; gates[g + 2 * H + k] = u; gates[g + 3 * H + k] = o;
        const cNew = f * cPrev[cpOff + s + k]! + i * u;
        c[cOff + s + k] = cNew;
        // Read back the stored (possibly float32-rounded) cell so h, tanhC and backward agree.
        const t = Math.tanh(c[cOff + s + k]!);
        tanhC[tOff + s + k] = t;
        h[hOff + s + k] = o * t;
      }
    }
  },

  lstmBackward(gates, gOff, cPrev, cpOff, tanhC, tOff, dh, dc, dGates, dgOff, B, H) {
    for (let b = 0; b < B; b++) {
      const g = gOff + b * 4 * H, d = dgOff + b * 4 * H, s = b * H;
      for (let k = 0; k < H; k++) {
        const i = gates[g + k]!, f = gates[g + H + k]!, u = gates[g + 2 * H + k]!, o = gates[g + 3 * H + k]!;
        const t = tanhC[tOff + s + k]!;
        const dhk = dh[s + k]!;
        const dcTotal = dc[s + k]! + dhk * o * (1 - t * t);
        dGates[d + k] = dcTotal * u * i * (1 - i);
        dGates[d + H + k] = dcTotal * cPrev[cpOff + s + k]! * f * (1 - f);
        dGates[d + 2 * H + k] = dcTotal * i * (1 - u * u);
        dGates[d + 3 * H + k] = dhk * t * o * (1 - o);
        dc[s + k] = dcTotal * f;
      }
    }
  },

  gruForward(xProj, xOff, hProj, hpOff, hPrev, hPrevOff, acts, aOff, h, hOff, B, H) {
    for (let b = 0; b < B; b++) {
      const x = xOff + b * 3 * H, hp = hpOff + b * 3 * H, a = aOff + b * 3 * H, s = b * H;
      for (let k = 0; k < H; k++) {
        const r = sigmoid(xProj[x + k]! + hProj[hp + k]!);
        const z = sigmoid(xProj[x + H + k]! + hProj[hp + H + k]!);
        const n = Math.tanh(xProj[x + 2 * H + k]! + r * hProj[hp + 2 * H + k]!);
        acts[a + k] = r; acts[a + H + k] = z; acts[a + 2 * H + k] = n;
        h[hOff + s + k] = (1 - z) * n + z * hPrev[hPrevOff + s + k]!;
      }
    }
  },

  gruBackward(hProj, hpOff, hPrev, hPrevOff, acts, aOff, dh, dX, dxOff, dHh, dhhOff, B, H) {
    for (let b = 0; b < B; b++) {
      const hp = hpOff + b * 3 * H, a = aOff + b * 3 * H, dx = dxOff + b * 3 * H, dhh = dhhOff + b * 3 * H, s = b * H;
      for (let k = 0; k < H; k++) {
        const r = acts[a + k]!, z = acts[a + H + k]!, n = acts[a + 2 * H + k]!;
        const dhk = dh[s + k]!;
        const dnPre = dhk * (1 - z) * (1 - n * n);
        const dzPre = dhk * (hPrev[hPrevOff + s + k]! - n) * z * (1 - z);
        const drPre = dnPre * hProj[hp + 2 * H + k]! * r * (1 - r);
        dX[dx + k] = drPre; dX[dx + H + k] = dzPre; dX[dx + 2 * H + k] = dnPre;
        dHh[dhh + k] = drPre; dHh[dhh + H + k] = dzPre; dHh[dhh + 2 * H + k] = dnPre * r;
        dh[s + k] = dhk * z;
      }
    }
  },

  rnnForward(pre, off, n, relu) {
    if (relu) for (let i = off; i < off + n; i++) pre[i] = pre[i]! > 0 ? pre[i]! : 0;
    else for (let i = off; i < off + n; i++) pre[i] = Math.tanh(pre[i]!);
  },

  rnnBackward(h, hOff, dh, dPre, pOff, n, relu) {
    if (relu) for (let i = 0; i < n; i++) dPre[pOff + i] = h[hOff + i]! > 0 ? dh[i]! : 0;
    else for (let i = 0; i < n; i++) { const y = h[hOff + i]!; dPre[pOff + i] = dh[i]! * (1 - y * y); }
  },

  softmaxCrossEntropy(logits, targets, rows, V, dLogits, gradScale) {
    let total = 0;
    for (let r = 0; r < rows; r++) {
      const o = r * V;
      let max = -Infinity;
      for (let v = 0; v < V; v++) if (logits[o + v]! > max) max = logits[o + v]!;
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp(logits[o + v]! - max);
      const logSum = Math.log(sum) + max;
      const target = targets[r]!;
      total += logSum - logits[o + target]!;
      for (let v = 0; v < V; v++) dLogits[o + v] = Math.exp(logits[o + v]! - logSum) * gradScale;
      dLogits[o + target] -= gradScale;
    }
    return total;
  },

  multiply(out, x, mask, n) {
    for (let i = 0; i < n; i++) out[i] = x[i]! * mask[i]!;
  },
});
