// The portable loader of the wasm kernels: which kernel set a host without Node gets for what its
// runtime offers (a table), a set asked for by name that cannot run is an error and never a
// quiet fallback, and kernels made from the built modules' bytes alone sample exactly what Node's
// own wasm kernels (file loading, threads) sample, on both builds.

import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../../src/cli/main.js";
import { Model } from "../../../src/core/api/model.js";
import { parseCheckpoint } from "../../../src/core/api/checkpoint-text.js";
import { CharnnError } from "../../../src/core/errors.js";
import { chooseKernels, kernelCapabilities, kernelsFromBinaries, type KernelBinaries, type KernelCapabilities } from "../../../src/core/wasm/load.js";
import { createWasmKernels } from "../../../src/node/wasm/node-kernels.js";
import { builtFile, wasmRelaxedSimdSupported } from "../../../src/node/wasm/module.js";
import { createTestIO } from "../../cli/helpers.js";

const bytesOf = (name: string): Uint8Array<ArrayBuffer> => new Uint8Array(readFileSync(builtFile(name)));
// Node 20 keeps relaxed SIMD behind a flag, which Node's loader switches on (a browser has it or not).
wasmRelaxedSimdSupported();
const binaries: KernelBinaries = { simd: bytesOf("kernels.wasm"), relaxed: bytesOf("kernels-relaxed.wasm") };

const ALL: KernelCapabilities = { simd: true, relaxedSimd: true, sharedMemory: true, simdBuild: true, relaxedBuild: true };

describe("choosing a kernel set", () => {
  it.each([
    ["everything", ALL, "wasm-relaxed", ""],
    ["no relaxed SIMD", { ...ALL, relaxedSimd: false, relaxedBuild: false }, "wasm", "no relaxed WebAssembly SIMD in this browser"],
    ["no relaxed build", { ...ALL, relaxedBuild: false }, "wasm", "the wasm-relaxed kernels are not in this page"],
    ["no shared memory", { ...ALL, sharedMemory: false }, "js", "no WebAssembly shared memory in this page"],
    ["no SIMD", { simd: false, relaxedSimd: false, sharedMemory: false, simdBuild: false, relaxedBuild: false }, "js", "no WebAssembly SIMD in this browser"],
    ["no builds", { ...ALL, simdBuild: false, relaxedBuild: false }, "js", "the wasm kernels are not in this page"],
  ] as const)("auto with %s gives %s", (_, can, name, reason) => {
    expect(chooseKernels("auto", can)).toEqual({ name, reason });
  });

  it("gives a set asked for by name when it runs, js always", () => {
    expect(chooseKernels("wasm", ALL).name).toBe("wasm");
    expect(chooseKernels("wasm-relaxed", ALL).name).toBe("wasm-relaxed");
    expect(chooseKernels("js", { ...ALL, simd: false }).name).toBe("js");
  });

  it("refuses a set asked for by name that cannot run, saying why, instead of picking another", () => {
    const attempt = () => chooseKernels("wasm-relaxed", { ...ALL, relaxedSimd: false });
    expect(attempt).toThrow(CharnnError);
    expect(attempt).toThrow("cannot run the wasm-relaxed kernels: no relaxed WebAssembly SIMD in this browser");
    expect(() => chooseKernels("wasm", { ...ALL, sharedMemory: false })).toThrow(/no WebAssembly shared memory/);
  });

  it("reads this runtime's offer: Node has SIMD, relaxed SIMD (flag on) and shared memory, and validates both builds", () => {
    expect(kernelCapabilities(binaries)).toEqual(ALL);
    expect(chooseKernels("auto", kernelCapabilities(binaries)).name).toBe("wasm-relaxed");
  });

  it("does not count bytes that are not a valid module as a build", () => {
    const broken = kernelCapabilities({ simd: new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 42]), relaxed: null });
    expect([broken.simdBuild, broken.relaxedBuild]).toEqual([false, false]);
    expect(chooseKernels("auto", broken)).toEqual({ name: "js", reason: "the wasm kernels are not in this page" });
  });
});

describe("kernels from the modules' bytes", () => {
  let dir: string;
  let checkpointText: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "charnn-wasm-load-"));
    await writeFile(path.join(dir, "corpus.txt"), "a quiet cat sat by the warm fire.\n".repeat(30));
    const { io, stderr } = createTestIO({ cwd: dir });
    const code = await main(["train", "corpus.txt", "--out", "run", "--steps", "30", "--hidden", "24", "--layers", "2", "--batch", "4", "--seq-len", "16", "--backend", "js"], io);
    if (code !== 0) throw new Error(`train exited ${code}: ${stderr()}`);
    checkpointText = readFileSync(path.join(dir, "run", "latest.json"), "utf8");
  }, 60_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each([{ name: "wasm", relaxed: false }, { name: "wasm-relaxed", relaxed: true }] as const)("$name: one thread, its own name, and the samples of Node's own $name kernels", ({ name, relaxed }) => {
    const fromBytes = kernelsFromBinaries(name, binaries);
    expect([fromBytes.name, fromBytes.threads]).toEqual([name, 1]);
    const nodes = createWasmKernels({ threads: 2, relaxed });
    try {
      const settings = { seed: 5, length: 400, temp: 0.9, prime: "a quiet" };
      const portable = new Model(parseCheckpoint(checkpointText), fromBytes).sample(settings);
      const portableText = [...portable].join("");
      const node = new Model(parseCheckpoint(checkpointText), nodes).sample(settings);
      const nodeText = [...node].join("");
      expect(portableText).toBe(nodeText);
      expect(portable.logProbability).toBe(node.logProbability);
    } finally {
      nodes.dispose();
    }
  });

  it("the two builds and the js kernels differ in the last bits, so the comparison above tells them apart", () => {
    const settings = { seed: 5, length: 400, temp: 0.9, prime: "a quiet" };
    const logProbabilities = (["js", "wasm", "wasm-relaxed"] as const).map((name) => {
      const stream = new Model(parseCheckpoint(checkpointText), kernelsFromBinaries(name, binaries)).sample(settings);
      for (const _ of stream);
      return stream.logProbability;
    });
    expect(new Set(logProbabilities).size).toBe(3);
  });

  it("a missing build is an error, not another set", () => {
    expect(() => kernelsFromBinaries("wasm-relaxed", { simd: binaries.simd })).toThrow("the wasm-relaxed kernels' module was not supplied");
  });
});
