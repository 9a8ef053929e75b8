// The wasm kernels from bytes the host supplies (a page that inlined the built modules), on one
// thread, and the choice of kernel set for such a host: wasm-relaxed where the runtime validates
// relaxed SIMD, else wasm (plain SIMD), else the TypeScript (js) kernels. Portable: nothing here
// reads files or starts threads; Node has its own loading and threads (src/node/backend.ts).

import { usageError } from "../errors.js";
import { jsKernels, type Kernels } from "../tensor/kernels.js";
import { wasmKernelsOn } from "./kernels.js";
import { relaxedSimdValidates, sharedMemorySupported, wasmSimdSupported, type KernelVariant } from "./module.js";

/** A kernel set by the name it reports (and `charnn sample --backend` takes). */
export type KernelSetName = "js" | "wasm" | "wasm-relaxed";

/** The built modules' bytes the host has (either may be missing). */
export interface KernelBinaries {
  simd?: Uint8Array<ArrayBuffer> | null;
  relaxed?: Uint8Array<ArrayBuffer> | null;
}

/** What the runtime offers, as far as the choice is concerned. */
export interface KernelCapabilities {
  /** WebAssembly with 128-bit SIMD. */
  simd: boolean;
  /** Relaxed SIMD validates. */
  relaxedSimd: boolean;
  /** WebAssembly shared memory can be made (the kernels import one). */
  sharedMemory: boolean;
  /** Which builds the host has and this runtime validates. */
  simdBuild: boolean;
  relaxedBuild: boolean;
}

export interface KernelChoice {
  name: KernelSetName;
  /** Why nothing faster, in words for the page ("" for the fastest). */
  reason: string;
}

const validModule = (bytes: Uint8Array<ArrayBuffer> | null | undefined): boolean => {
  try {
    return bytes != null && WebAssembly.validate(bytes);
  } catch {
    return false;
  }
};

/** What this runtime offers for these binaries. */
export function kernelCapabilities(binaries: KernelBinaries): KernelCapabilities {
  const simd = wasmSimdSupported();
  const relaxedSimd = simd && relaxedSimdValidates();
  return {
    simd, relaxedSimd, sharedMemory: simd && sharedMemorySupported(),
    simdBuild: simd && validModule(binaries.simd), relaxedBuild: relaxedSimd && validModule(binaries.relaxed),
  };
}

/** Why a wasm set cannot run here, or null when it can. */
function obstacle(name: "wasm" | "wasm-relaxed", can: KernelCapabilities): string | null {
  if (!can.simd) return "no WebAssembly SIMD in this browser";
  if (name === "wasm-relaxed" && !can.relaxedSimd) return "no relaxed WebAssembly SIMD in this browser";
  if (!(name === "wasm" ? can.simdBuild : can.relaxedBuild)) return `the ${name} kernels are not in this page`;
  if (!can.sharedMemory) return "no WebAssembly shared memory in this page";
  return null;
}

/**
 * The kernel set to run: `auto` is the fastest that runs here (wasm-relaxed, wasm, js); a set asked
 * for by name that cannot run is a usage error saying why, never a quiet fallback.
 */
export function chooseKernels(requested: "auto" | KernelSetName, can: KernelCapabilities): KernelChoice {
  if (requested === "js") return { name: "js", reason: "asked for" };
  if (requested !== "auto") {
    const why = obstacle(requested, can);
    if (why !== null) {
      throw usageError(`cannot run the ${requested} kernels: ${why}`, "use auto, or the js kernels",
        { code: "backend.unsupported", facts: { backend: requested, missing: why } });
    }
    return { name: requested, reason: "asked for" };
  }
  const relaxed = obstacle("wasm-relaxed", can);
  if (relaxed === null) return { name: "wasm-relaxed", reason: "" };
  const plain = obstacle("wasm", can);
  if (plain === null) return { name: "wasm", reason: relaxed };
  return { name: "js", reason: plain };
}

/** Compiled modules by their bytes, so a page compiles each build once. */
const compiled = new WeakMap<Uint8Array<ArrayBuffer>, WebAssembly.Module>();

/**
 * A new kernel set of that name with its own memory, on one thread: the TypeScript kernels for
 * js, else the build's module compiled from `binaries` (once). Dropping it frees its memory.
 */
export function kernelsFromBinaries(name: KernelSetName, binaries: KernelBinaries): Kernels {
  if (name === "js") return jsKernels;
  const variant: KernelVariant = name === "wasm" ? "simd" : "relaxed";
  const bytes = variant === "simd" ? binaries.simd : binaries.relaxed;
  if (bytes == null) throw new Error(`the ${name} kernels' module was not supplied`);
  let module = compiled.get(bytes);
  if (module === undefined) {
    module = new WebAssembly.Module(bytes);
    compiled.set(bytes, module);
  }
  return wasmKernelsOn({ module, variant });
}
