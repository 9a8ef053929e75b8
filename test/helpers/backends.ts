// The float32 kernel sets every backend-parameterised test runs on: the TypeScript kernels, the
// wasm kernels on one thread and on two (workers from dist/, built by test/global-setup.ts), and
// the relaxed-SIMD build (fused multiply-adds) on one thread and on two.
// A test file that takes them disposes them in afterAll, so no worker outlives its file.

import type { Kernels } from "../../src/core/tensor/kernels.js";
import { jsKernels } from "../../src/core/tensor/kernels.js";
import { createWasmKernels } from "../../src/node/wasm/node-kernels.js";

export interface BackendSet {
  list: Array<[string, Kernels]>;
  dispose(): void;
}

export function float32Backends(): BackendSet {
  const wasm = createWasmKernels({ threads: 1 });
  const wasm2 = createWasmKernels({ threads: 2 });
  const relaxed = createWasmKernels({ threads: 1, relaxed: true });
  const relaxed2 = createWasmKernels({ threads: 2, relaxed: true });
  return {
    list: [["js", jsKernels], ["wasm", wasm], ["wasm, 2 threads", wasm2], ["wasm-relaxed", relaxed], ["wasm-relaxed, 2 threads", relaxed2]],
    dispose() {
      for (const kernels of [wasm, wasm2, relaxed, relaxed2]) kernels.dispose();
    },
  };
}
