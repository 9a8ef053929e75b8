// Backend selection: js, wasm and auto, thread counts, and refusing a bad thread count.

import { afterEach, describe, expect, it } from "vitest";
import { availableParallelism } from "node:os";
import { selectKernels, wasmAvailable } from "../../src/node/backend.js";
import { CharnnError } from "../../src/core/errors.js";
import type { Kernels } from "../../src/core/tensor/kernels.js";

const made: Kernels[] = [];
const select = (...args: Parameters<typeof selectKernels>): Kernels => {
  const kernels = selectKernels(...args);
  made.push(kernels);
  return kernels;
};
afterEach(() => {
  for (const kernels of made.splice(0)) kernels.dispose();
});

describe("selectKernels", () => {
  it("js is the TypeScript kernels, on one thread whatever is asked", () => {
    expect(select("js").name).toBe("js");
    expect(select("js", 4).threads).toBe(1);
  });

  it("wasm is the WebAssembly kernels, with the threads asked for", () => {
    expect(wasmAvailable()).toBe(true);
    const one = select("wasm");
    expect(one.name).toBe("wasm");
    expect(one.threads).toBe(1);
    expect(select("wasm", 2).threads).toBe(2);
  });

  it("relaxed asks for the relaxed-SIMD build, named apart since its last bits differ", () => {
    expect(select("wasm", 1, true).name).toBe("wasm-relaxed");
    expect(select("auto", 2, true).name).toBe("wasm-relaxed");
    expect(select("js", 1, true).name).toBe("js");
  });

  it("0 threads means every available core", () => {
    expect(select("wasm", 0).threads).toBe(availableParallelism());
  });

  it("auto picks wasm where SIMD validates and the module is built", () => {
    expect(select("auto").name).toBe("wasm");
  });

  it("each wasm kernel set has memory of its own", () => {
    const a = select("wasm"), b = select("wasm");
    const x = a.newArena("float32", 4).take(4), y = b.newArena("float32", 4).take(4);
    expect(x.buffer).not.toBe(y.buffer);
  });

  it("refuses a negative or fractional thread count as a usage error", () => {
    for (const bad of [-1, 1.5]) {
      let caught: unknown;
      try {
        selectKernels("wasm", bad);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(CharnnError);
      expect((caught as CharnnError).exitCode).toBe(2);
    }
  });

  it("the wasm kernels refuse float64 arenas (the gradient checks use js)", () => {
    expect(() => select("wasm").newArena("float64", 8)).toThrow(/float32/);
  });
});
