// The fast kernels against the naive reference, in float64 (tight) and float32 (float32
// rounding), on odd shapes that exercise the 4×4 blocks and their ragged edges.

import { describe, expect, it } from "vitest";
import { floatArray, type DType, type FloatArray } from "../../src/tensor/arena.js";
import { jsKernels } from "../../src/tensor/kernels.js";
import { naiveKernels } from "../../src/tensor/kernels-naive.js";
import { createRng } from "../../src/tensor/rng.js";

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

describe.each(["float64", "float32"] as const)("fast kernels match the naive ones (%s)", (dtype) => {
  it.each([
    [false, false], [false, true], [true, false], [true, true],
  ])("gemm transA=%s transB=%s on ragged shapes, with offsets and accumulation", (transA, transB) => {
    for (const [M, N, K] of [[1, 1, 1], [3, 5, 7], [4, 4, 4], [9, 13, 6], [32, 20, 17]] as const) {
      const lda = (transA ? M : K) + 2, ldb = (transB ? K : N) + 1, ldc = N + 3;
      const aOff = 5, bOff = 3, cOff = 7;
      const A = random(dtype, aOff + lda * (transA ? K : M));
      const B = random(dtype, bOff + ldb * (transB ? N : K));
      for (const accumulate of [false, true]) {
        const C0 = random(dtype, cOff + ldc * M);
        const fast = C0.slice(), naive = C0.slice();
        jsKernels.gemm(transA, transB, M, N, K, A, aOff, lda, B, bOff, ldb, fast, cOff, ldc, accumulate);
        naiveKernels.gemm(transA, transB, M, N, K, A, aOff, lda, B, bOff, ldb, naive, cOff, ldc, accumulate);
        expectClose(fast, naive, tolerance(dtype));
        // Padding between rows is never written.
        expect(fast[cOff + N]).toBe(C0[cOff + N]);
      }
    }
  });

  it("one-hot projection and its gradient equal the full product with a one-hot vector", () => {
    const G = 12, V = 7, rows = 9;
    const W = random(dtype, G * V), bias = random(dtype, G), t = tokens(rows, V);
    const fast = floatArray(dtype, rows * G), naive = floatArray(dtype, rows * G);
    jsKernels.oneHotProject(fast, t, rows, W, bias, G, V);
    naiveKernels.oneHotProject(naive, t, rows, W, bias, G, V);
    expectClose(fast, naive, tolerance(dtype));
    const dOut = random(dtype, rows * G);
    const dFast = random(dtype, G * V), dNaive = dFast.slice();
    jsKernels.oneHotAccumulate(dFast, dOut, t, rows, G, V);
    naiveKernels.oneHotAccumulate(dNaive, dOut, t, rows, G, V);
    expectClose(dFast, dNaive, tolerance(dtype));
  });

  it("embedding lookup and accumulate", () => {
    const V = 6, width = 5, rows = 11;
    const E = random(dtype, V * width), t = tokens(rows, V);
    const fast = floatArray(dtype, rows * width), naive = floatArray(dtype, rows * width);
    jsKernels.embedLookup(fast, t, rows, E, width);
    naiveKernels.embedLookup(naive, t, rows, E, width);
    expectClose(fast, naive, 0);
    const dOut = random(dtype, rows * width);
    const dFast = floatArray(dtype, V * width), dNaive = floatArray(dtype, V * width);
    jsKernels.embedAccumulate(dFast, dOut, t, rows, width);
    naiveKernels.embedAccumulate(dNaive, dOut, t, rows, width);
    expectClose(dFast, dNaive, tolerance(dtype));
  });

  it("add, addBias, sumRows, multiply", () => {
    const rows = 7, cols = 9;
    const C = random(dtype, 3 + rows * cols), bias = random(dtype, cols);
    const fast = C.slice(), naive = C.slice();
    jsKernels.addBias(fast, 3, rows, cols, bias);
    naiveKernels.addBias(naive, 3, rows, cols, bias);
    expectClose(fast, naive, tolerance(dtype));
    const s1 = random(dtype, cols), s2 = s1.slice(), dC = random(dtype, rows * cols);
    jsKernels.sumRows(s1, dC, rows, cols);
    naiveKernels.sumRows(s2, dC, rows, cols);
    expectClose(s1, s2, tolerance(dtype));
    const x = random(dtype, 20), m = random(dtype, 20), o1 = floatArray(dtype, 20), o2 = floatArray(dtype, 20);
    jsKernels.multiply(o1, x, m, 20);
    naiveKernels.multiply(o2, x, m, 20);
    expectClose(o1, o2, 0);
    const a1 = random(dtype, 30), a2 = a1.slice();
    jsKernels.add(a1, 4, x, 2, 15);
    naiveKernels.add(a2, 4, x, 2, 15);
    expectClose(a1, a2, 0);
  });

  it("LSTM step forward and backward", () => {
    const B = 3, H = 5;
    const gates = random(dtype, 2 + B * 4 * H, 2), cPrev = random(dtype, 1 + B * H);
    const dhIn = random(dtype, B * H), dcIn = random(dtype, B * H);
    const run = (k: typeof jsKernels) => {
      const g = gates.slice(), c = floatArray(dtype, 4 + B * H), tc = floatArray(dtype, B * H), h = floatArray(dtype, 2 + B * H);
      k.lstmForward(g, 2, cPrev, 1, c, 4, tc, 0, h, 2, B, H);
      const dh = dhIn.slice(), dc = dcIn.slice();
      const dG = floatArray(dtype, B * 4 * H);
      k.lstmBackward(g, 2, cPrev, 1, tc, 0, dh, dc, dG, 0, B, H);
      return [g, c, tc, h, dG, dc];
    };
    const fast = run(jsKernels), naive = run(naiveKernels);
    fast.forEach((a, i) => expectClose(a, naive[i]!, tolerance(dtype)));
  });

  it("GRU step forward and backward", () => {
    const B = 2, H = 6;
    const x = random(dtype, B * 3 * H, 2), hp = random(dtype, B * 3 * H, 2), hPrev = random(dtype, B * H);
    const dhIn = random(dtype, B * H);
    const run = (k: typeof jsKernels) => {
      const acts = floatArray(dtype, B * 3 * H), h = floatArray(dtype, B * H);
      k.gruForward(x, 0, hp, 0, hPrev, 0, acts, 0, h, 0, B, H);
      const dh = dhIn.slice();
      const dX = floatArray(dtype, B * 3 * H), dHh = floatArray(dtype, B * 3 * H);
      k.gruBackward(hp, 0, hPrev, 0, acts, 0, dh, dX, 0, dHh, 0, B, H);
      return [acts, h, dX, dHh, dh];
    };
    const fast = run(jsKernels), naive = run(naiveKernels);
    fast.forEach((a, i) => expectClose(a, naive[i]!, tolerance(dtype)));
  });

  it.each([false, true])("Elman step forward and backward (relu=%s)", (relu) => {
    const n = 13;
    const pre = random(dtype, n, 2);
    const fast = pre.slice(), naive = pre.slice();
    jsKernels.rnnForward(fast, 0, n, relu);
    naiveKernels.rnnForward(naive, 0, n, relu);
    expectClose(fast, naive, tolerance(dtype));
    const dh = random(dtype, n), d1 = floatArray(dtype, n), d2 = floatArray(dtype, n);
    jsKernels.rnnBackward(fast, 0, dh, d1, 0, n, relu);
    naiveKernels.rnnBackward(naive, 0, dh, d2, 0, n, relu);
    expectClose(d1, d2, tolerance(dtype));
  });

  it("softmax cross-entropy: loss and gradient, stable for large logits", () => {
    const rows = 5, V = 9;
    const logits = random(dtype, rows * V, 30), t = tokens(rows, V);
    const d1 = floatArray(dtype, rows * V), d2 = floatArray(dtype, rows * V);
    const l1 = jsKernels.softmaxCrossEntropy(logits, t, rows, V, d1, 0.2);
    const l2 = naiveKernels.softmaxCrossEntropy(logits, t, rows, V, d2, 0.2);
    expect(Number.isFinite(l1)).toBe(true);
    expect(Math.abs(l1 - l2)).toBeLessThan(1e-9 * Math.max(1, l2));
    expectClose(d1, d2, tolerance(dtype));
    // Each gradient row sums to zero (softmax minus a one-hot).
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let v = 0; v < V; v++) sum += d1[r * V + v]!;
      expect(Math.abs(sum)).toBeLessThan(1e-6);
    }
  });
});

