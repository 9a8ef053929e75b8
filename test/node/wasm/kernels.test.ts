// The wasm kernel set's memory handling: arenas and token buffers in its own memory, growth that
// keeps earlier views valid, plain arrays copied in and out, float64 refused, and the packed
// size agreeing with the module's. The arithmetic itself is checked in test/tensor/kernels.test.ts.

import { afterAll, describe, expect, it } from "vitest";
import { packedFloats } from "../../../src/core/tensor/kernels.js";
import { createWasmKernels } from "../../../src/node/wasm/node-kernels.js";
import { kernelModule } from "../../../src/node/wasm/module.js";

const kernels = createWasmKernels();
afterAll(() => kernels.dispose());

describe("wasm kernel memory", () => {
  it("hands out zeroed arenas and token buffers inside its own memory", () => {
    const arena = kernels.newArena("float32", 100);
    const a = arena.take(100);
    const tokens = kernels.newIndexBuffer(7);
    for (const view of [a, tokens]) {
      expect(view.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(view.byteOffset).toBeGreaterThan(0);
      expect(view.byteOffset + view.byteLength).toBeLessThanOrEqual(kernels.memory.buffer.byteLength);
      expect(view.every((v) => v === 0)).toBe(true);
    }
    expect(tokens.length).toBe(7);
  });

  it("keeps earlier arrays valid and apart when it grows", () => {
    const small = kernels.newArena("float32", 16).take(16);
    small.fill(3);
    const before = kernels.memory.buffer.byteLength;
    const big = kernels.newArena("float32", 8 << 20).take(8 << 20); // 32 MiB: must grow
    expect(kernels.memory.buffer.byteLength).toBeGreaterThan(before);
    big.fill(1);
    expect(small.every((v) => v === 3)).toBe(true);
    // Both work in place after the growth: add reads big and writes small.
    kernels.add(small, 0, big, 5, 16);
    expect(small.every((v) => v === 4)).toBe(true);
  });

  it("copies plain arrays in and the results back out, overlapping views included", () => {
    const plain = new Float32Array(12).fill(1);
    const x = new Float32Array([1, 2, 3, 4]);
    kernels.add(plain, 2, x, 0, 4);
    expect(Array.from(plain)).toEqual([1, 1, 2, 3, 4, 5, 1, 1, 1, 1, 1, 1]);
    // The same buffer as output and input, at different offsets.
    kernels.add(plain, 8, plain, 2, 4);
    expect(Array.from(plain.subarray(8))).toEqual([3, 4, 5, 6]);
  });

  it("refuses float64 arrays and arenas, and stays usable afterwards", () => {
    expect(() => kernels.newArena("float64", 4)).toThrow(/float32/);
    const out = new Float32Array(4);
    expect(() => kernels.add(out, 0, new Float64Array(4), 0, 4)).toThrow(/float32/);
    kernels.add(out, 0, new Float32Array([1, 2, 3, 4]), 0, 4);
    expect(Array.from(out)).toEqual([1, 2, 3, 4]);
  });

  it("each kernel set has its own memory", () => {
    const other = createWasmKernels();
    expect(other.memory).not.toBe(kernels.memory);
    other.dispose();
  });

  it("sizes packed weights as the module does", () => {
    const instance = new WebAssembly.Instance(kernelModule(), { env: { memory: new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true }) } });
    const modulePacked = instance.exports.packedFloats as (K: number, N: number) => number;
    for (const [K, N] of [[1, 1], [128, 512], [7, 9], [512, 128], [33, 65]]) expect(packedFloats(K, N)).toBe(modulePacked(K, N));
  });
});
