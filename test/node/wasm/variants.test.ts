// The two wasm builds against each other: the relaxed one (fused multiply-adds) may differ from
// the plain one only by rounding, within the bounds stated here per kernel, and ten training steps
// on either stay within a stated tolerance. (Each build against the naive reference is checked
// in test/core/tensor/kernels.test.ts.)

import { afterAll, describe, expect, it } from "vitest";
import type { FloatArray } from "../../../src/core/tensor/arena.js";
import { packedFloats, type Kernels } from "../../../src/core/tensor/kernels.js";
import { naiveKernels } from "../../../src/core/tensor/kernels-naive.js";
import { createRng } from "../../../src/core/tensor/rng.js";
import { optimizerDefaults } from "../../../src/core/optim/optimizers.js";
import { Trainer } from "../../../src/core/train/trainer.js";
import { createWasmKernels } from "../../../src/node/wasm/node-kernels.js";

const plain = createWasmKernels({ threads: 1 });
const relaxed = createWasmKernels({ threads: 1, relaxed: true });
afterAll(() => {
  plain.dispose();
  relaxed.dispose();
});

const rng = createRng(7);
const random = (n: number, scale = 1): Float32Array => Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);
/** One unit in the last place of float32 at 1. */
const ULP = 2 ** -23;

/** The largest |a − b| / max(1, |b|) over the elements. */
function worstRelative(a: FloatArray, b: FloatArray): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return worst;
}

/** Runs `kernel` on both builds, each on its own copies of `inputs`, and returns the copies. */
function onBoth(inputs: Float32Array[], kernel: (k: Kernels, arrays: Float32Array[]) => void): [Float32Array[], Float32Array[]] {
  const a = inputs.map((x) => x.slice()), b = inputs.map((x) => x.slice());
  kernel(plain, a);
  kernel(relaxed, b);
  return [a, b];
}

describe("relaxed and plain wasm builds", () => {
  it("are the builds they say", () => {
    expect(plain.name).toBe("wasm");
    expect(relaxed.name).toBe("wasm-relaxed");
  });

  it.each([[false, false], [false, true], [true, false], [true, true]])(
    "gemm transA=%s transB=%s: each entry within K·2⁻²³·Σ|a||b| (twice float32's bound for a K-term sum)", (transA, transB) => {
      for (const [M, N, K] of [[5, 13, 7], [32, 512, 128], [67, 70, 300], [1, 520, 128]] as const) {
        const A = random(M * K), B = random(K * N), C = random(M * N);
        const lda = transA ? M : K, ldb = transB ? K : N;
        const [[, , p], [, , r]] = onBoth([A, B, C], (k, [a, b, c]) => k.gemm(transA, transB, M, N, K, a!, 0, lda, b!, 0, ldb, c!, 0, N, true));
        // Σ|a||b| per entry, plus |c| (the accumulated term), from the reference on absolute values.
        const magnitude = C.map(Math.abs);
        naiveKernels.gemm(transA, transB, M, N, K, A.map(Math.abs), 0, lda, B.map(Math.abs), 0, ldb, magnitude, 0, N, true);
        let worst = 0, moved = false, differ = false;
        for (let i = 0; i < p!.length; i++) {
          worst = Math.max(worst, Math.abs(p![i]! - r![i]!) / ((K + 1) * ULP * magnitude[i]!));
          moved ||= p![i] !== C[i];
          differ ||= p![i] !== r![i];
        }
        expect(moved).toBe(true);
        // On a processor with FMA (every x86-64 since 2013, every arm64) the builds really differ.
        if (K > 8) expect(differ, `${M}x${N}x${K}`).toBe(true);
        expect(worst, `${M}x${N}x${K}`).toBeLessThanOrEqual(1);
      }
    });

  // The gate functions run a dozen roundings (exp's polynomial, a division); fusing some of them
  // moves a result by a few units in the last place. Bound: 16 ulps of max(1, |value|).
  const pointwiseBound = 16 * ULP;

  it("LSTM step forward and backward within 16 ulps", () => {
    const B = 5, H = 37;
    const [p, r] = onBoth([random(B * 4 * H, 4), random(B * H), random(B * H), random(B * H), random(B * H), random(B * H), random(B * H), random(B * 4 * H)],
      (k, [gates, cPrev, c, tanhC, h, dh, dc, dGates]) => {
        k.lstmForward(gates!, 0, cPrev!, 0, c!, 0, tanhC!, 0, h!, 0, B, H);
        k.lstmBackward(gates!, 0, cPrev!, 0, tanhC!, 0, dh!, dc!, dGates!, 0, B, H);
      });
    p.forEach((array, i) => expect(worstRelative(array, r[i]!), `array ${i}`).toBeLessThanOrEqual(pointwiseBound));
  });

  it("GRU step forward and backward within 16 ulps", () => {
    const B = 3, H = 21;
    const [p, r] = onBoth([random(B * 3 * H, 4), random(B * 3 * H, 2), random(B * H), random(B * 3 * H), random(B * H), random(B * H), random(B * 3 * H), random(B * 3 * H)],
      (k, [xProj, hProj, hPrev, acts, h, dh, dX, dHh]) => {
        k.gruForward(xProj!, 0, hProj!, 0, hPrev!, 0, acts!, 0, h!, 0, B, H);
        k.gruBackward(hProj!, 0, hPrev!, 0, acts!, 0, dh!, dX!, 0, dHh!, 0, B, H);
      });
    p.forEach((array, i) => expect(worstRelative(array, r[i]!), `array ${i}`).toBeLessThanOrEqual(pointwiseBound));
  });

  it("softmax cross-entropy within 16 ulps, loss within 1e-6", () => {
    const rows = 9, V = 65;
    const targets = Int32Array.from({ length: rows }, (_, i) => (i * 17) % V);
    const losses: number[] = [];
    const [p, r] = onBoth([random(rows * V, 8), new Float32Array(rows * V)], (k, [logits, d]) => {
      losses.push(k.softmaxCrossEntropy(logits!, targets, rows, V, d!, 1 / rows));
    });
    expect(worstRelative(p[1]!, r[1]!)).toBeLessThanOrEqual(pointwiseBound);
    expect(Math.abs(losses[0]! - losses[1]!) / losses[0]!).toBeLessThan(1e-6);
  });

  it("an LSTM window (time loops forward and backward) within 1e-5 relative", () => {
    const T = 8, B = 5, H = 37, G = 4 * H;
    const wHh = random(G * H, 0.3);
    const hs0 = new Float32Array((T + 1) * B * H);
    hs0.set(random(B * H, 0.5));
    const [p, r] = onBoth([random(T * B * G, 1), hs0, new Float32Array((T + 1) * B * H), new Float32Array(T * B * H), random(T * B * H),
      new Float32Array(T * B * G), new Float32Array(B * H), new Float32Array(B * H), new Float32Array(packedFloats(H, G)), new Float32Array(packedFloats(G, H))],
    (k, [gates, hs, cs, tanhC, dOut, dGates, dh, dc, packedT, packedP]) => {
      k.pack(true, H, G, wHh, 0, H, packedT!);
      k.pack(false, G, H, wHh, 0, H, packedP!);
      k.lstmSequenceForward(T, B, H, gates!, hs!, cs!, tanhC!, wHh, packedT!);
      k.lstmSequenceBackward(T, B, H, gates!, hs!, cs!, tanhC!, dOut!, dGates!, dh!, dc!, wHh, packedP!);
    });
    p.forEach((array, i) => expect(worstRelative(array, r[i]!), `array ${i}`).toBeLessThanOrEqual(1e-5));
  });

  it("ten training steps (LSTM 2x48, Adam): losses within 1e-5 relative, weights within 1e-4", () => {
    const tokens = Uint32Array.from({ length: 4000 }, (_, i) => (i * 7919 + (i >> 2)) % 29);
    const make = (kernels: Kernels) => new Trainer({
      model: { cell: "lstm", activation: "tanh", layers: 2, hidden: 48, vocabSize: 29, embed: 0, dropout: 0, learnInit: false },
      batch: 6, seqLen: 20, optimizer: optimizerDefaults("adam"),
      schedule: { kind: "constant", baseLr: 0.01, decay: 1, decayEvery: 1, warmup: 0, totalSteps: null },
      clip: { mode: "norm", limit: 5 }, seed: 11, kernels,
    }, tokens, new Uint32Array(0));
    const a = make(plain), b = make(relaxed);
    const first = a.trainStep().loss;
    expect(Math.abs(b.trainStep().loss - first) / first).toBeLessThan(1e-5);
    let last = first;
    for (let s = 1; s < 10; s++) {
      last = a.trainStep().loss;
      expect(Math.abs(b.trainStep().loss - last) / last, `step ${s + 1}`).toBeLessThan(1e-5);
    }
    expect(last).toBeLessThan(first); // it trained
    const pa = a.model.params.values, pb = b.model.params.values;
    let worst = 0;
    for (let i = 0; i < pa.length; i++) worst = Math.max(worst, Math.abs(pa[i]! - pb[i]!));
    expect(worst).toBeLessThan(1e-4);
  });
});
