// Choosing the kernel backend from the `backend` and `threads` settings: `wasm` is the
// WebAssembly SIMD kernels (src/node/wasm/), `js` the TypeScript ones, and `auto` the wasm kernels
// wherever this runtime validates a SIMD module and they are built, else the TypeScript ones.
// Node-only because it reads the built files and the core count. Not here: the kernels
// themselves, or recording the choice in a checkpoint (the training run does that).

import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import type { Backend } from "../core/config.js";
import { usageError } from "../core/errors.js";
import { jsKernels, type Kernels } from "../core/tensor/kernels.js";
import { createWasmKernels } from "./wasm/kernels.js";
import { builtFile, wasmRelaxedSimdSupported, wasmSimdSupported } from "./wasm/module.js";

/** Whether `auto` would pick the wasm kernels here. */
export function wasmAvailable(): boolean {
  return wasmSimdSupported() && existsSync(builtFile("kernels.wasm"));
}

/** The thread count a `threads` setting means: 0 is every available core. */
export function resolveThreads(requested: number): number {
  return requested === 0 ? Math.max(1, availableParallelism()) : requested;
}

/**
 * The kernels for a `backend` setting, split across `threads` threads (0 = every available core;
 * the TypeScript kernels always run on one). A kernel set with threads owns worker threads:
 * call its dispose() when done (the workers are unref'd, so a forgotten one never keeps the
 * process alive). `relaxed` asks for the relaxed-SIMD build of the wasm kernels (named
 * "wasm-relaxed": faster products, deterministic on one machine, last bits of its own); where
 * the runtime lacks relaxed SIMD the plain build is used.
 */
export function selectKernels(backend: Backend, threads = 1, relaxed = false): Kernels {
  if (!Number.isInteger(threads) || threads < 0) {
    throw usageError(`threads must be a whole number ≥ 0, not ${threads}`, undefined,
      { code: "setting.out-of-range", facts: { key: "threads", value: threads, min: 0 } });
  }
  if (backend === "js") return jsKernels;
  if (backend === "auto" && !wasmAvailable()) return jsKernels;
  const useRelaxed = relaxed && wasmRelaxedSimdSupported() && existsSync(builtFile("kernels-relaxed.wasm"));
  return createWasmKernels({ threads: resolveThreads(threads), relaxed: useRelaxed });
}
