// Backend selection: js, wasm, wasm-relaxed and auto, thread counts, refusing a bad thread count,
// and which backend a resumed run computes on.

import { afterEach, describe, expect, it } from "vitest";
import { availableParallelism } from "node:os";
import { autoBackend, backendRuns, resumeBackend, selectKernels, wasmAvailable, wasmRelaxedAvailable, type ConcreteBackend } from "../../src/node/backend.js";
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

  it("wasm-relaxed is the relaxed-SIMD build, named apart since its last bits differ", () => {
    expect(wasmRelaxedAvailable()).toBe(true);
    const relaxed = select("wasm-relaxed", 2);
    expect(relaxed.name).toBe("wasm-relaxed");
    expect(relaxed.threads).toBe(2);
  });

  it("0 threads means every available core", () => {
    expect(select("wasm", 0).threads).toBe(availableParallelism());
  });

  it("auto picks wasm-relaxed where relaxed SIMD runs (Node 20, once the flag is on) and the build is there", () => {
    expect(autoBackend()).toBe("wasm-relaxed");
    expect(select("auto").name).toBe("wasm-relaxed");
    expect(backendRuns("js") && backendRuns("wasm") && backendRuns("wasm-relaxed")).toBe(true);
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

describe("resumeBackend", () => {
  const all = (): boolean => true;
  const plainOnly = (backend: ConcreteBackend): boolean => backend !== "wasm-relaxed";
  it.each([
    // configured, recorded, given, expected, which backends run here
    ["auto", "wasm", false, "wasm", all], // trained on plain SIMD: stays on it where auto would pick relaxed
    ["auto", "wasm-relaxed", false, "wasm-relaxed", all],
    ["auto", "js", false, "js", all],
    ["wasm", "wasm-relaxed", false, "wasm-relaxed", all], // the record wins over the saved setting
    ["auto", "wasm-relaxed", false, "auto", plainOnly], // cannot run here: the setting, and a warning
    ["auto", "tfjs", false, "auto", all], // a name this version does not know
    ["wasm-relaxed", "wasm", true, "wasm-relaxed", all], // --backend given on resume
    ["js", "wasm-relaxed", true, "js", all],
  ] as const)("configured %s, recorded %s, given %s → %s", (configured, recorded, given, expected, canRun) => {
    expect(resumeBackend(configured, recorded, given, canRun)).toBe(expected);
  });
});
