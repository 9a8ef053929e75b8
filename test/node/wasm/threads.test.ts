// Worker threads of the wasm kernels: a split product equals the unsplit one bit for bit, a
// failing part in a worker surfaces as an error without wedging the pool, and workers neither
// keep a process alive nor survive dispose().

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { packedFloats } from "../../../src/core/tensor/kernels.js";
import { naiveKernels } from "../../../src/core/tensor/kernels-naive.js";
import { createWasmKernels } from "../../../src/node/wasm/node-kernels.js";

const one = createWasmKernels({ threads: 1 });
const two = createWasmKernels({ threads: 2 });
afterAll(() => {
  one.dispose();
  two.dispose();
});

function filled(kernels: typeof one, n: number, seed: number): Float32Array {
  const a = kernels.newArena("float32", n + 16).take(n) as Float32Array;
  for (let i = 0; i < n; i++) a[i] = Math.sin(seed * 1000 + i * 0.37);
  return a;
}

describe("wasm kernel threads", () => {
  it.each([[37, 300, 129], [301, 37, 129], [7, 3, 20000]])("split products (%i×%i, K %i) are bit-identical to one thread's, for every layout", (M, N, K) => {
    // Wider than tall is split by columns, taller than wide by rows (ragged 6-row slivers; in the
    // last shape the second thread's share is one row, which must not take the matrix-vector path).
    for (const [transA, transB] of [[false, false], [false, true], [true, false], [true, true]] as const) {
      const results = [one, two].map((k) => {
        const A = filled(k, M * K, 1), B = filled(k, K * N, 2), C = filled(k, M * N, 3);
        k.gemm(transA, transB, M, N, K, A, 0, transA ? M : K, B, 0, transB ? K : N, C, 0, N, true);
        return C;
      });
      expect(Buffer.from(results[1]!.buffer, results[1]!.byteOffset, results[1]!.byteLength)
        .equals(Buffer.from(results[0]!.buffer, results[0]!.byteOffset, results[0]!.byteLength))).toBe(true);
    }
  });

  it.each([2, 3, 5])("whole-layer time loops with %i streams (one or two per thread) give one thread's bits", (B) => {
    // Big enough for every loop to be split (T·B·G·H ≥ 2^18 multiply-adds), H ragged.
    const T = 16, H = 98;
    const outputs = [one, two].map((k) => {
      const run: Float32Array[] = [];
      for (const [gates, cell] of [[4, "lstm"], [3, "gru"], [1, "rnn"]] as const) {
        const G = gates * H;
        const wHh = filled(k, G * H, 20), bHh = filled(k, G, 21), xProj = filled(k, T * B * G, 22), hProj = filled(k, T * B * G, 0);
        const hs = filled(k, (T + 1) * B * H, 23), cs = filled(k, (T + 1) * B * H, 24), tanhC = filled(k, T * B * H, 0);
        const dOut = filled(k, T * B * H, 25), dGates = filled(k, T * B * G, 0), dHh = filled(k, T * B * G, 0);
        const dh = filled(k, B * H, 0), dc = filled(k, B * H, 0);
        const packedT = filled(k, packedFloats(H, G), 0), packedP = filled(k, packedFloats(G, H), 0);
        k.pack(true, H, G, wHh, 0, H, packedT);
        k.pack(false, G, H, wHh, 0, H, packedP);
        if (cell === "lstm") {
          k.lstmSequenceForward(T, B, H, xProj, hs, cs, tanhC, wHh, packedT);
          k.lstmSequenceBackward(T, B, H, xProj, hs, cs, tanhC, dOut, dGates, dh, dc, wHh, packedP);
        } else if (cell === "gru") {
          k.gruSequenceForward(T, B, H, xProj, hProj, hs, bHh, wHh, packedT);
          k.gruSequenceBackward(T, B, H, xProj, hProj, hs, dOut, dGates, dHh, dh, wHh, packedP);
        } else {
          k.rnnSequenceForward(T, B, H, hs, false, wHh, packedT);
          k.rnnSequenceBackward(T, B, H, hs, false, dOut, dGates, dh, wHh, packedP);
        }
        run.push(hs, cs, dGates, dHh, dh, dc);
      }
      return run;
    });
    outputs[0]!.forEach((a, i) => {
      const b = outputs[1]![i]!;
      expect(Buffer.from(b.buffer, b.byteOffset, b.byteLength).equals(Buffer.from(a.buffer, a.byteOffset, a.byteLength)), `buffer ${i}`).toBe(true);
    });
  });

  it("a batch-1 LSTM step (sampling) split by hidden units gives one thread's bits", () => {
    // H = 258: big enough to be split, and not a multiple of 4 (a ragged last group).
    const H = 258, G = 4 * H;
    const results = [one, two].map((k) => {
      const wHh = filled(k, G * H, 8), gates = filled(k, G, 9), hs = filled(k, 2 * H, 10), cs = filled(k, 2 * H, 11);
      const tanhC = filled(k, H, 12), packed = filled(k, packedFloats(H, G), 0);
      k.lstmSequenceForward(1, 1, H, gates, hs, cs, tanhC, wHh, packed);
      return { hs, cs, gates, wHh };
    });
    for (const name of ["hs", "cs", "gates"] as const) {
      const [a, b] = results.map((r) => r[name]);
      expect(Buffer.from(b!.buffer, b!.byteOffset, b!.byteLength).equals(Buffer.from(a!.buffer, a!.byteOffset, a!.byteLength)), name).toBe(true);
    }
    // And it is the LSTM step: the reference on plain copies of the inputs.
    const gates = new Float32Array(G), hs = new Float32Array(2 * H), cs = new Float32Array(2 * H), tanhC = new Float32Array(H);
    for (let i = 0; i < G; i++) gates[i] = Math.sin(9000 + i * 0.37);
    for (let i = 0; i < 2 * H; i++) { hs[i] = Math.sin(10000 + i * 0.37); cs[i] = Math.sin(11000 + i * 0.37); }
    const packed = new Float32Array(packedFloats(H, G));
    naiveKernels.pack(true, H, G, results[0]!.wHh, 0, H, packed);
    naiveKernels.lstmSequenceForward(1, 1, H, gates, hs, cs, tanhC, results[0]!.wHh, packed);
    let worst = 0;
    for (let i = H; i < 2 * H; i++) worst = Math.max(worst, Math.abs(hs[i]! - results[1]!.hs[i]!));
    expect(worst).toBeLessThan(1e-4);
  });

  it("a part that fails in a worker is reported, and the pool keeps working", () => {
    // A fresh set: one that has found its workers late (a busy machine) runs calls alone for a while.
    const two = createWasmKernels({ threads: 2 });
    const K = 8192, N = 64; // 2^19 weights: a matrix-vector product big enough to be split
    const x = filled(two, K, 4), W = filled(two, N * K, 5);
    // An output that runs off the end of memory after 40 of its 64 values: part 0 (columns
    // 0..31) fits, part 1 (32..63), run by the worker, traps.
    const end = two.memory.buffer.byteLength;
    const y = new Float32Array(two.memory.buffer, end - 40 * 4, 40);
    expect(() => two.gemm(false, true, 1, N, K, x, 0, K, W, 0, K, y, 0, N, false)).toThrow(/worker/);
    const ok = filled(two, N, 6);
    two.gemm(false, true, 1, N, K, x, 0, K, W, 0, K, ok, 0, N, false);
    let expected = 0;
    for (let k = 0; k < K; k++) expected += x[k]! * W[5 * K + k]!;
    expect(ok[5]).toBeCloseTo(expected, 2);
    two.dispose();
  });

  it("never keep a process alive: a script that forgets dispose() still exits at once", () => {
    const kernelsUrl = new URL("../../../dist/node/wasm/node-kernels.js", import.meta.url).href;
    const script = `
      const { createWasmKernels } = await import(${JSON.stringify(kernelsUrl)});
      const k = createWasmKernels({ threads: 2 });
      const a = k.newArena("float32", 64 * 64 * 3);
      const A = a.take(4096), B = a.take(4096), C = a.take(4096);
      A.fill(1); B.fill(1);
      k.gemm(false, false, 64, 64, 64, A, 0, 64, B, 0, 64, C, 0, 64, false);
      console.log(C[0]);`;
    const started = performance.now();
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: fileURLToPath(new URL("../../..", import.meta.url)), encoding: "utf8", timeout: 20_000,
    });
    expect({ status: child.status, signal: child.signal, stderr: child.stderr, ms: Math.round(performance.now() - started) }).toEqual({ status: 0, signal: null, stderr: "", ms: expect.any(Number) });
    expect(child.stdout.trim()).toBe("64");
    expect(child.status).toBe(0);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it("start only when a call is worth splitting (a small model never starts them)", () => {
    const k = createWasmKernels({ threads: 2 });
    const small = filled(k, 8 * 8, 13);
    k.gemm(false, false, 8, 8, 8, small, 0, 8, small, 0, 8, small, 0, 8, true);
    expect(k.threadsStarted).toBe(false);
    const big = filled(k, 128 * 128, 14), out = filled(k, 128 * 128, 0);
    k.gemm(false, false, 128, 128, 128, big, 0, 128, big, 0, 128, out, 0, 128, false);
    expect(k.threadsStarted).toBe(true);
    k.dispose();
  });

  it("refuse work after dispose()", () => {
    const k = createWasmKernels({ threads: 2 });
    const a = filled(k, 64 * 64, 7);
    k.dispose();
    expect(() => k.gemm(false, false, 64, 64, 64, a, 0, 64, a, 0, 64, a, 0, 64, true)).toThrow(/disposed/);
  });
});
