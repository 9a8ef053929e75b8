// Choosing the kernel backend for --backend. Only the TypeScript kernels exist so far; the
// WebAssembly backend is planned (issue: speed), and asking for it says so rather than
// silently running something else.

import type { Backend } from "../config.js";
import { usageError } from "../errors.js";
import { jsKernels, type Kernels } from "../tensor/kernels.js";

export function selectKernels(backend: Backend): Kernels {
  if (backend === "wasm") {
    throw usageError("the wasm backend is not available in this version of charnn", "use --backend js (or auto)");
  }
  return jsKernels;
}
