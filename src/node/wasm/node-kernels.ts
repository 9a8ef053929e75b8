// The wasm kernels in Node: the kernel set of src/core/wasm/kernels.ts over the module built into
// dist/node/wasm/, split across worker threads (threads.ts) when asked for more than one.
// Not here: which backend a setting means (src/node/backend.ts), the kernels themselves.

import { requireWasmSimd, wasmKernelsOn, type WasmKernels } from "../../core/wasm/kernels.js";
import { kernelModule } from "./module.js";
import { ThreadPool } from "./threads.js";

export type { WasmKernels } from "../../core/wasm/kernels.js";

export interface WasmKernelOptions {
  /** Threads to split the heavy kernels across (a whole number from 1; the caller resolves "all cores"). Default 1. */
  threads?: number;
  /**
   * Use the relaxed-SIMD build (fused multiply-adds in the products): faster, and deterministic
   * on one machine for any thread count, but its last bits differ from the plain build's and can
   * differ between processors. Default false.
   */
  relaxed?: boolean;
}

/**
 * A new wasm kernel set with its own memory (and, for threads > 1, its own workers: call dispose()
 * when done). Throws a CharnnError when this runtime has no WebAssembly SIMD.
 */
export function createWasmKernels(options: WasmKernelOptions = {}): WasmKernels {
  // Before compiling: without SIMD the module would not compile, and this says why.
  requireWasmSimd();
  // The caller decides how many threads (the Node layer's backend.ts turns 0 into the core count).
  const variant = options.relaxed === true ? "relaxed" : "simd";
  return wasmKernelsOn({
    module: kernelModule(variant), variant, threads: options.threads ?? 1,
    startThreads: (module, memory, parts) => new ThreadPool(module, memory, parts),
  });
}
