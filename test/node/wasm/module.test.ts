// The built kernel module: SIMD detection, where the module is found, and the shape of the
// binary that makes sharing one memory safe (imported shared memory, no data segments).

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { builtFile, kernelModule, sectionIds, wasmRelaxedSimdSupported, wasmSimdSupported } from "../../../src/node/wasm/module.js";

const SECTION = { import: 2, memory: 5, data: 11, dataCount: 12 };

describe("the kernel module", () => {
  it("Node 20 validates the SIMD probe", () => {
    expect(wasmSimdSupported()).toBe(true);
  });

  it("Node 20 has relaxed SIMD once the flag is switched on at run time, and compiles that build", () => {
    expect(wasmRelaxedSimdSupported()).toBe(true);
    expect(WebAssembly.Module.exports(kernelModule("relaxed")).map((e) => e.name)).toContain("gemm");
  });

  it("is found in dist/ when the sources run directly", () => {
    expect(builtFile("kernels.wasm")).toMatch(/dist[/\\]node[/\\]wasm[/\\]kernels\.wasm$/);
  });

  it.each(["kernels.wasm", "kernels-relaxed.wasm"])("%s imports its memory and carries no data segments another instance could re-apply", (file) => {
    const binary = new Uint8Array(readFileSync(builtFile(file)));
    const ids = sectionIds(binary);
    expect(ids).toContain(SECTION.import);
    expect(ids).not.toContain(SECTION.memory);
    expect(ids).not.toContain(SECTION.data);
    expect(ids).not.toContain(SECTION.dataCount);
    const memoryImport = WebAssembly.Module.imports(kernelModule()).find((i) => i.kind === "memory");
    expect(memoryImport).toEqual({ module: "env", name: "memory", kind: "memory" });
  });

  it("reads section ids of a hand-made binary", () => {
    // magic, version, then a type section (1) of 4 bytes and a custom section (0) of 1 byte
    const binary = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 0, 1, 0]);
    expect(sectionIds(binary)).toEqual([1, 0]);
  });

  it("exports every kernel the JavaScript side calls", () => {
    const names = WebAssembly.Module.exports(kernelModule()).map((e) => e.name);
    for (const name of ["gemm", "pack", "lstmSequenceForward", "gruSequenceBackward", "rnnSequenceForward", "softmaxCrossEntropy", "scratchBytesPerPart", "packedFloats"]) {
      expect(names).toContain(name);
    }
  });
});
