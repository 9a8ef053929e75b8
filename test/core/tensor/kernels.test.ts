// The fast kernels against the naive reference, in float64 (tight) and float32 (float32
// rounding), on odd shapes that exercise the register tiles and their ragged edges: the
// TypeScript kernels in both precisions, the wasm kernels (one thread and two) in float32, on
// plain arrays (which the wasm set copies in) and on its own memory. Then each backend's
// whole-layer time loops against the step kernels called by hand.

import { afterAll, describe, expect, it } from "vitest";
import { floatArray, type DType, type FloatArray } from "../../../src/core/tensor/arena.js";
import { decodeBackwardInTurn, decodeInTurn, jsKernels, packedFloats, type Kernels } from "../../../src/core/tensor/kernels.js";
import { naiveKernels } from "../../../src/core/tensor/kernels-naive.js";
import { createRng } from "../../../src/core/tensor/rng.js";
import { float32Backends } from "../../helpers/backends.js";

const rng = createRng(42);
const random = (dtype: DType, n: number, scale = 1): FloatArray => {
  const a = floatArray(dtype, n);
  for (let i = 0; i < n; i++) a[i] = (rng.next() * 2 - 1) * scale;
  return a;
};
const tokens = (n: number, V: number): Int32Array => Int32Array.from({ length: n }, () => Math.floor(rng.next() * V));

function expectClose(actual: FloatArray, expected: FloatArray, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const error = Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!));
    worst = Math.max(worst, error);
  }
  expect(worst).toBeLessThanOrEqual(tolerance);
}

const tolerance = (dtype: DType): number => (dtype === "float64" ? 1e-12 : 1e-5);

const backends = float32Backends();
afterAll(() => backends.dispose());
const cases: Array<[string, DType, Kernels]> = [
  ["js", "float64", jsKernels],
  ...backends.list.map(([name, kernels]) => [name, "float32", kernels] as [string, DType, Kernels]),
];

describe.each(cases)("%s kernels match the naive ones (%s)", (_name, dtype, kernels) => {
  /** How far a float32 loss may be from the float64 reference's (the wasm set sums exps in float32). */
  const lossTolerance = dtype === "float64" ? 1e-9 : 1e-6;

  it.each([
    [false, false], [false, true], [true, false], [true, true],
  ])("gemm transA=%s transB=%s on ragged shapes, with offsets and accumulation", (transA, transB) => {
    // The last two shapes cross every blocking boundary of the wasm product (K > 256, M > 72,
    // N > 512), one split by columns between threads and one, taller than wide, by rows.
    const shapes = [[1, 1, 1], [3, 5, 7], [4, 4, 4], [9, 13, 6], [32, 20, 17], [1, 37, 19], [2, 9, 33], [11, 5, 9]];
    if (dtype === "float32") shapes.push([67, 523, 263], [151, 30, 263]);
    for (const [M, N, K] of shapes as Array<[number, number, number]>) {
      const lda = (transA ? M : K) + 2, ldb = (transB ? K : N) + 1, ldc = N + 3;
      const aOff = 5, bOff = 3, cOff = 7;
      const A = random(dtype, aOff + lda * (transA ? K : M));
      const B = random(dtype, bOff + ldb * (transB ? N : K));
      for (const accumulate of [false, true]) {
        const C0 = random(dtype, cOff + ldc * M);
        const fast = C0.slice(), naive = C0.slice();
        kernels.gemm(transA, transB, M, N, K, A, aOff, lda, B, bOff, ldb, fast, cOff, ldc, accumulate);
        naiveKernels.gemm(transA, transB, M, N, K, A, aOff, lda, B, bOff, ldb, naive, cOff, ldc, accumulate);
        // float32 sums of K products drift by up to about K ulps, whatever the order.
        expectClose(fast, naive, tolerance(dtype) * Math.max(1, K / 64));
        // Padding between rows is never written.
        expect(fast[cOff + N]).toBe(C0[cOff + N]);
      }
    }
  });

  it("one-hot projection and its gradient equal the full product with a one-hot vector", () => {
    const G = 12, V = 7, rows = 9;
    const W = random(dtype, G * V), bias = random(dtype, G), t = tokens(rows, V);
    const fast = floatArray(dtype, rows * G), naive = floatArray(dtype, rows * G);
    kernels.oneHotProject(fast, t, rows, W, bias, G, V);
    naiveKernels.oneHotProject(naive, t, rows, W, bias, G, V);
    expectClose(fast, naive, tolerance(dtype));
    const dOut = random(dtype, rows * G);
    const dFast = random(dtype, G * V), dNaive = dFast.slice();
    kernels.oneHotAccumulate(dFast, dOut, t, rows, G, V);
    naiveKernels.oneHotAccumulate(dNaive, dOut, t, rows, G, V);
    expectClose(dFast, dNaive, tolerance(dtype));
  });

  it("embedding lookup and accumulate", () => {
    const V = 6, width = 5, rows = 11;
    const E = random(dtype, V * width), t = tokens(rows, V);
    const fast = floatArray(dtype, rows * width), naive = floatArray(dtype, rows * width);
    kernels.embedLookup(fast, t, rows, E, width);
    naiveKernels.embedLookup(naive, t, rows, E, width);
    expectClose(fast, naive, 0);
    const dOut = random(dtype, rows * width);
    const dFast = floatArray(dtype, V * width), dNaive = floatArray(dtype, V * width);
    kernels.embedAccumulate(dFast, dOut, t, rows, width);
    naiveKernels.embedAccumulate(dNaive, dOut, t, rows, width);
    expectClose(dFast, dNaive, tolerance(dtype));
  });

  it("add, addBias, sumRows, multiply", () => {
    const rows = 7, cols = 9;
    const C = random(dtype, 3 + rows * cols), bias = random(dtype, cols);
    const fast = C.slice(), naive = C.slice();
    kernels.addBias(fast, 3, rows, cols, bias);
    naiveKernels.addBias(naive, 3, rows, cols, bias);
    expectClose(fast, naive, tolerance(dtype));
    const s1 = random(dtype, cols), s2 = s1.slice(), dC = random(dtype, rows * cols);
    kernels.sumRows(s1, dC, rows, cols);
    naiveKernels.sumRows(s2, dC, rows, cols);
    expectClose(s1, s2, tolerance(dtype));
    const x = random(dtype, 20), m = random(dtype, 20), o1 = floatArray(dtype, 20), o2 = floatArray(dtype, 20);
    kernels.multiply(o1, x, m, 20);
    naiveKernels.multiply(o2, x, m, 20);
    expectClose(o1, o2, 0);
    const a1 = random(dtype, 30), a2 = a1.slice();
    kernels.add(a1, 4, x, 2, 15);
    naiveKernels.add(a2, 4, x, 2, 15);
    expectClose(a1, a2, 0);
  });

  it("LSTM step forward and backward", () => {
    const B = 3, H = 5;
    const gates = random(dtype, 2 + B * 4 * H, 2), cPrev = random(dtype, 1 + B * H);
    const dhIn = random(dtype, B * H), dcIn = random(dtype, B * H);
    const run = (k: Kernels) => {
      const g = gates.slice(), c = floatArray(dtype, 4 + B * H), tc = floatArray(dtype, B * H), h = floatArray(dtype, 2 + B * H);
      k.lstmForward(g, 2, cPrev, 1, c, 4, tc, 0, h, 2, B, H);
      const dh = dhIn.slice(), dc = dcIn.slice();
      const dG = floatArray(dtype, B * 4 * H);
      k.lstmBackward(g, 2, cPrev, 1, tc, 0, dh, dc, dG, 0, B, H);
      return [g, c, tc, h, dG, dc];
    };
    const fast = run(kernels), naive = run(naiveKernels);
    fast.forEach((a, i) => expectClose(a, naive[i]!, tolerance(dtype)));
    // In place, as the model runs it (dGates over the activated gates): the same bits.
    const g = fast[0]!.slice(), dh = dhIn.slice(), dc = dcIn.slice();
    kernels.lstmBackward(g, 2, cPrev, 1, fast[2]!, 0, dh, dc, g, 2, B, H);
    expect(Array.from(g.subarray(2))).toEqual(Array.from(fast[4]!));
  });

  it("GRU step forward and backward", () => {
    const B = 2, H = 6;
    const x = random(dtype, B * 3 * H, 2), hp = random(dtype, B * 3 * H, 2), hPrev = random(dtype, B * H);
    const dhIn = random(dtype, B * H);
    const run = (k: Kernels) => {
      const acts = floatArray(dtype, B * 3 * H), h = floatArray(dtype, B * H);
      k.gruForward(x, 0, hp, 0, hPrev, 0, acts, 0, h, 0, B, H);
      const dh = dhIn.slice();
      const dX = floatArray(dtype, B * 3 * H), dHh = floatArray(dtype, B * 3 * H);
      k.gruBackward(hp, 0, hPrev, 0, acts, 0, dh, dX, 0, dHh, 0, B, H);
      return [acts, h, dX, dHh, dh];
    };
    const fast = run(kernels), naive = run(naiveKernels);
    fast.forEach((a, i) => expectClose(a, naive[i]!, tolerance(dtype)));
  });

  it.each([false, true])("Elman step forward and backward (relu=%s)", (relu) => {
    const n = 13;
    const pre = random(dtype, n, 2);
    const fast = pre.slice(), naive = pre.slice();
    kernels.rnnForward(fast, 0, n, relu);
    naiveKernels.rnnForward(naive, 0, n, relu);
    expectClose(fast, naive, tolerance(dtype));
    const dh = random(dtype, n), d1 = floatArray(dtype, n), d2 = floatArray(dtype, n);
    kernels.rnnBackward(fast, 0, dh, d1, 0, n, relu);
    naiveKernels.rnnBackward(naive, 0, dh, d2, 0, n, relu);
    expectClose(d1, d2, tolerance(dtype));
  });

  it("softmax cross-entropy: loss and gradient, stable for large logits", () => {
    const rows = 5, V = 9;
    const logits = random(dtype, rows * V, 30), t = tokens(rows, V);
    const d1 = floatArray(dtype, rows * V), d2 = floatArray(dtype, rows * V);
    const l1 = kernels.softmaxCrossEntropy(logits, t, rows, V, d1, 0.2);
    const l2 = naiveKernels.softmaxCrossEntropy(logits, t, rows, V, d2, 0.2);
    expect(Number.isFinite(l1)).toBe(true);
    expect(Math.abs(l1 - l2)).toBeLessThan(lossTolerance * Math.max(1, l2));
    expectClose(d1, d2, tolerance(dtype));
    // Each gradient row sums to zero (softmax minus a one-hot).
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let v = 0; v < V; v++) sum += d1[r * V + v]!;
      expect(Math.abs(sum)).toBeLessThan(1e-6);
    }
  });
});


describe.each(backends.list)("%s whole-layer time loops equal the step kernels called by hand", (_name, kernels) => {
  // B = 5 splits unevenly over two threads; H = 6 leaves a ragged tail after the 4-lane loops.
  const T = 4, B = 5, H = 6;
  /** A float32 buffer in this backend's memory, filled from `values` (or zeros). */
  const arena = kernels.newArena("float32", 40_000);
  const take = (n: number, scale = 0): Float32Array => {
    const a = arena.take(n) as Float32Array;
    for (let i = 0; i < n; i++) a[i] = scale === 0 ? 0 : (rng.next() * 2 - 1) * scale;
    return a;
  };
  const copy = (a: Float32Array): Float32Array => a.slice();
  const reference = naiveKernels;
  const tol = 1e-5;

  it.each([[4, "lstm"], [3, "gru"], [1, "rnn-tanh"], [1, "rnn-relu"]] as const)("%i gates (%s): forward, then backward", (gates, cell) => {
    const G = gates * H;
    const wHh = take(G * H, 0.5), bHh = take(G, 0.5);
    const xProj = take(T * B * G, 1), hProj = take(T * B * G);
    const hs = take((T + 1) * B * H), cs = take((T + 1) * B * H, 0), tanhC = take(T * B * H);
    hs.set(take(B * H, 0.5));
    cs.set(take(B * H, 0.5));
    if (cell.startsWith("rnn")) hs.set(take(T * B * H, 1), B * H);
    const dOut = take(T * B * H, 1), dGates = take(T * B * G), dHh = take(T * B * G);
    const dh = take(B * H), dc = take(B * H);
    const packedT = take(packedFloats(H, G)), packedP = take(packedFloats(G, H));
    // The reference works on plain copies with its own packing.
    const r = {
      xProj: copy(xProj), hProj: copy(hProj), hs: copy(hs), cs: copy(cs), tanhC: copy(tanhC), dGates: copy(dGates), dHh: copy(dHh),
      dh: copy(dh), dc: copy(dc), packedT: new Float32Array(packedFloats(H, G)), packedP: new Float32Array(packedFloats(G, H)),
    };
    kernels.pack(true, H, G, wHh, 0, H, packedT);
    kernels.pack(false, G, H, wHh, 0, H, packedP);
    reference.pack(true, H, G, wHh, 0, H, r.packedT);
    reference.pack(false, G, H, wHh, 0, H, r.packedP);
    const relu = cell === "rnn-relu";
    if (cell === "lstm") {
      kernels.lstmSequenceForward(T, B, H, xProj, hs, cs, tanhC, wHh, packedT);
      reference.lstmSequenceForward(T, B, H, r.xProj, r.hs, r.cs, r.tanhC, wHh, r.packedT);
      kernels.lstmSequenceBackward(T, B, H, xProj, hs, cs, tanhC, dOut, dGates, dh, dc, wHh, packedP);
      reference.lstmSequenceBackward(T, B, H, r.xProj, r.hs, r.cs, r.tanhC, dOut, r.dGates, r.dh, r.dc, wHh, r.packedP);
      expectClose(cs, r.cs, tol);
      expectClose(dc, r.dc, tol);
    } else if (cell === "gru") {
      kernels.gruSequenceForward(T, B, H, xProj, hProj, hs, bHh, wHh, packedT);
      reference.gruSequenceForward(T, B, H, r.xProj, r.hProj, r.hs, bHh, wHh, r.packedT);
      kernels.gruSequenceBackward(T, B, H, xProj, hProj, hs, dOut, dGates, dHh, dh, wHh, packedP);
      reference.gruSequenceBackward(T, B, H, r.xProj, r.hProj, r.hs, dOut, r.dGates, r.dHh, r.dh, wHh, r.packedP);
      expectClose(hProj, r.hProj, tol);
      expectClose(dHh, r.dHh, tol);
    } else {
      kernels.rnnSequenceForward(T, B, H, hs, relu, wHh, packedT);
      reference.rnnSequenceForward(T, B, H, r.hs, relu, wHh, r.packedT);
      kernels.rnnSequenceBackward(T, B, H, hs, relu, dOut, dGates, dh, wHh, packedP);
      reference.rnnSequenceBackward(T, B, H, r.hs, relu, dOut, r.dGates, r.dh, wHh, r.packedP);
    }
    expectClose(hs, r.hs, tol);
    expectClose(xProj, r.xProj, tol);
    expectClose(dGates, r.dGates, tol);
    expectClose(dh, r.dh, tol);
    // The loops really ran: the last hidden state moved away from the first.
    expect(hs.subarray(T * B * H).some((v, i) => v !== hs[i])).toBe(true);
  });

  it("one stream (the sampler's matrix-vector path) gives the same as the reference", () => {
    const G = 4 * H, B1 = 1;
    const wHh = take(G * H, 0.5), xProj = take(T * G, 1), hs = take((T + 1) * H), cs = take((T + 1) * H), tanhC = take(T * H);
    hs.set(take(H, 0.5));
    const packedT = take(packedFloats(H, G));
    const r = { xProj: copy(xProj), hs: copy(hs), cs: copy(cs), tanhC: copy(tanhC), packedT: new Float32Array(packedFloats(H, G)) };
    kernels.pack(true, H, G, wHh, 0, H, packedT);
    reference.pack(true, H, G, wHh, 0, H, r.packedT);
    kernels.lstmSequenceForward(T, B1, H, xProj, hs, cs, tanhC, wHh, packedT);
    reference.lstmSequenceForward(T, B1, H, r.xProj, r.hs, r.cs, r.tanhC, wHh, r.packedT);
    expectClose(hs, r.hs, tol);
    expectClose(cs, r.cs, tol);
  });
});

describe.each(backends.list.filter(([name]) => name !== "js"))("%s sumRows", (_name, kernels) => {
  it("adds each column's rows in order in float32, 32 columns at a time and the ragged rest", () => {
    // 77 columns: two blocks of 32 and 13 more on one thread; split in two, each part has its own
    // block and rest. 4000 rows make the call big enough to be split.
    const rows = 4000, cols = 77;
    const arena = kernels.newArena("float32", rows * cols + cols + 16);
    const dC = arena.take(rows * cols) as Float32Array, dBias = arena.take(cols) as Float32Array;
    for (let i = 0; i < dC.length; i++) dC[i] = (rng.next() * 2 - 1) * 3;
    for (let k = 0; k < cols; k++) dBias[k] = rng.next();
    const expected = Float32Array.from(dBias, (b, k) => {
      let sum = Math.fround(b);
      for (let r = 0; r < rows; r++) sum = Math.fround(sum + dC[r * cols + k]!);
      return sum;
    });
    kernels.sumRows(dBias, dC, rows, cols);
    expect(Buffer.from(dBias.buffer, dBias.byteOffset, dBias.byteLength).equals(Buffer.from(expected.buffer))).toBe(true);
  });
});

describe.each(backends.list.filter(([name]) => name !== "js"))("%s decoder calls equal its products, bias and loss in turn", (_name, kernels) => {
  // The js set's decoder calls are that composition itself; a wasm set fuses them into one call
  // each, split by rows (forward) or as gemm and sumRows split (backward), and must keep the bits
  // (7 rows split 6 + 1 over two threads: a one-row share must not take the matrix-vector path).
  const bits = (a: FloatArray): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("hex");
  it.each([[37, 11, 20, true], [300, 65, 128, true], [1, 65, 128, true], [7, 65, 600, true], [13, 7, 9, false], [300, 65, 128, false]] as const)(
    "rows %i, V %i, H %i, targets %s", (rows, V, H, withTargets) => {
      const arena = kernels.newArena("float32", 4 * (rows * H + V * H + V + 2 * rows * V + rows * H) + 1000);
      const take = (n: number, scale: number): Float32Array => {
        const a = arena.take(n) as Float32Array;
        for (let i = 0; i < n; i++) a[i] = scale === 0 ? 0 : (rng.next() * 2 - 1) * scale;
        return a;
      };
      const yOff = 3 * H;
      const y = take(yOff + rows * H, 1), W = take(V * H, 0.5), bias = take(V, 0.5);
      const targets = withTargets ? Int32Array.from(tokens(rows, V)) : null;
      const dW0 = take(V * H, 0.1), dBias0 = take(V, 0.1), dY0 = take(rows * H, 3);
      const runs = [0, 1].map((fused) => {
        const logits = take(rows * V, 0), dLogits = take(rows * V, 0);
        const dW = arena.take(V * H) as Float32Array, dBias = arena.take(V) as Float32Array, dY = arena.take(rows * H) as Float32Array;
        dW.set(dW0); dBias.set(dBias0); dY.set(dY0);
        const loss = fused
          ? kernels.decoderForward(y, yOff, rows, H, W, bias, V, logits, targets, dLogits, 1 / rows)
          : decodeInTurn(kernels, y, yOff, rows, H, W, bias, V, logits, targets, dLogits, 1 / rows);
        if (withTargets) {
          if (fused) kernels.decoderBackward(dLogits, rows, V, y, yOff, H, W, dW, dBias, dY);
          else decodeBackwardInTurn(kernels, dLogits, rows, V, y, yOff, H, W, dW, dBias, dY);
        }
        return { loss, logits, out: [logits, dLogits, dW, dBias, dY].map(bits) };
      });
      expect(runs[1]!.loss).toBe(runs[0]!.loss);
      expect(withTargets ? Number.isFinite(runs[1]!.loss) : Number.isNaN(runs[1]!.loss)).toBe(true);
      runs[1]!.out.forEach((b, i) => expect(b, `output ${i}`).toBe(runs[0]!.out[i]));
      // Not vacuous: the logits are the naive product plus the bias, within float32 rounding.
      const naive = new Float64Array(rows * V);
      for (let r = 0; r < rows; r++) for (let v = 0; v < V; v++) {
        let sum = 0;
        for (let h = 0; h < H; h++) sum += y[yOff + r * H + h]! * W[v * H + h]!;
        naive[r * V + v] = sum + bias[v]!;
      }
      expectClose(runs[1]!.logits, naive, 1e-5 * Math.max(1, H / 64));
    });
});
