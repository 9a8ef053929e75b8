// Choosing the kernel backend from the `backend` and `threads` settings: `js` is the TypeScript
// kernels, `wasm` the WebAssembly SIMD ones (src/node/wasm/), `wasm-relaxed` the same kernels
// built with relaxed SIMD (fused multiply-adds), and `auto` the fastest of these this runtime
// runs. Node-only because it reads the built files and the core count. Not here: the kernels
// themselves, or recording the choice in a checkpoint (the training run does that).

import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import type { Backend } from "../core/config.js";
import { usageError } from "../core/errors.js";
import { jsKernels, type Kernels } from "../core/tensor/kernels.js";
import { createWasmKernels } from "./wasm/node-kernels.js";
import { builtFile, wasmRelaxedSimdSupported, wasmSimdSupported } from "./wasm/module.js";

/** A backend as kernels report it by name (and checkpoints record it): `auto` resolved. */
export type ConcreteBackend = Exclude<Backend, "auto">;

/** Whether the plain wasm kernels can run here: SIMD validates and the module is built. */
export function wasmAvailable(): boolean {
  return wasmSimdSupported() && existsSync(builtFile("kernels.wasm"));
}

/**
 * Whether the relaxed-SIMD build can run here: it is built, and this runtime has relaxed SIMD
 * (Node 20 keeps it behind a V8 flag, which module.ts switches on at run time).
 */
export function wasmRelaxedAvailable(): boolean {
  return wasmAvailable() && existsSync(builtFile("kernels-relaxed.wasm")) && wasmRelaxedSimdSupported();
}

/** What `auto` means here: wasm-relaxed where it runs, else wasm, else js. */
export function autoBackend(): ConcreteBackend {
  return wasmRelaxedAvailable() ? "wasm-relaxed" : wasmAvailable() ? "wasm" : "js";
}

/** The thread count a `threads` setting means: 0 is every available core. */
export function resolveThreads(requested: number): number {
  return requested === 0 ? Math.max(1, availableParallelism()) : requested;
}

/**
 * The kernels for a `backend` setting, split across `threads` threads (0 = every available core;
 * the TypeScript kernels always run on one). A kernel set with threads owns worker threads:
 * call its dispose() when done (the workers are unref'd, so a forgotten one never keeps the
 * process alive). `wasm-relaxed` asked for by name where it cannot run is a usage error;
 * `auto` never is.
 */
export function selectKernels(backend: Backend, threads = 1): Kernels {
  if (!Number.isInteger(threads) || threads < 0) {
    throw usageError(`threads must be a whole number ≥ 0, not ${threads}`, undefined,
      { code: "setting.out-of-range", facts: { key: "threads", value: threads, min: 0 } });
  }
  const chosen = backend === "auto" ? autoBackend() : backend;
  if (chosen === "js") return jsKernels;
  if (chosen === "wasm-relaxed" && !wasmRelaxedAvailable()) {
    throw usageError("this JavaScript runtime cannot run the relaxed-SIMD kernels (no relaxed WebAssembly SIMD, or the build is missing)",
      "use the wasm backend (plain SIMD) or auto", { code: "backend.unsupported", facts: { backend: "wasm-relaxed", missing: "relaxed-simd" } });
  }
  return createWasmKernels({ threads: resolveThreads(threads), relaxed: chosen === "wasm-relaxed" });
}

/**
 * The backend a resumed run computes on. Unless this invocation names one (`given`), it is the
 * one the run recorded (the name its kernels reported: js, wasm or wasm-relaxed), because exact
 * resume needs the same arithmetic: a run that trained on plain SIMD continues on it even where
 * `auto` would now pick wasm-relaxed. A recorded build that cannot run here (`canRun` false),
 * or a name this version does not know, leaves the configured setting; the caller warns that the
 * resume is then not bit-identical.
 */
export function resumeBackend(configured: Backend, recorded: string, given: boolean, canRun: (backend: ConcreteBackend) => boolean): Backend {
  if (given) return configured;
  if (recorded !== "js" && recorded !== "wasm" && recorded !== "wasm-relaxed") return configured;
  return canRun(recorded) ? recorded : configured;
}

/** Whether a concrete backend runs in this process (for resumeBackend). */
export function backendRuns(backend: ConcreteBackend): boolean {
  return backend === "js" || (backend === "wasm" ? wasmAvailable() : wasmRelaxedAvailable());
}
