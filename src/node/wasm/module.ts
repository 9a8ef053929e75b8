// Finding and compiling the kernel module built from assembly/kernels.ts in Node, and switching
// relaxed SIMD on where Node keeps it behind a flag. The probes and binary checks any runtime can
// use are in src/core/wasm/module.ts (re-exported here). Not here: memory, the kernel calls,
// threads (src/core/wasm/kernels.ts, node-kernels.ts and threads.ts).

import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { CharnnError, ExitCode } from "../../core/errors.js";
import { relaxedSimdValidates, type KernelVariant } from "../../core/wasm/module.js";

export { sectionIds, wasmSimdSupported, type KernelExports, type KernelVariant } from "../../core/wasm/module.js";

/**
 * The built module's path (or the worker's). From dist/node/wasm/ it sits beside this file; from
 * the CLI bundle (dist/cli/charnn.js, where this code is inlined) it is in ../node/wasm/; when the
 * TypeScript sources run directly (the tests), it is the one `npm run build` put in dist/.
 */
export function builtFile(name: string): string {
  const here = import.meta.url;
  const folder = here.endsWith(".ts") ? "../../../dist/node/wasm/" : here.endsWith("/node/wasm/module.js") ? "./" : "../node/wasm/";
  return fileURLToPath(new URL(`${folder}${name}`, here));
}

/**
 * Whether relaxed SIMD can be used, switching it on first where Node 20 keeps it behind a flag
 * (--experimental-wasm-relaxed-simd; V8 reads it when a module is compiled, so turning it on at
 * run time works, for every thread of the process).
 */
export function wasmRelaxedSimdSupported(): boolean {
  try {
    if (relaxedSimdValidates()) return true;
    setFlagsFromString("--experimental-wasm-relaxed-simd");
    return relaxedSimdValidates();
  } catch {
    return false;
  }
}

const compiled = new Map<KernelVariant, WebAssembly.Module>();

/** The compiled kernel module (compiled once per process; a Module can be sent to workers). */
export function kernelModule(variant: KernelVariant = "simd"): WebAssembly.Module {
  const cached = compiled.get(variant);
  if (cached) return cached;
  const file = builtFile(variant === "simd" ? "kernels.wasm" : "kernels-relaxed.wasm");
  if (!existsSync(file)) {
    throw new CharnnError(`the WebAssembly kernels are not built (${file} is missing)`, ExitCode.failure,
      "run `npm run build`, or use the js backend", { code: "backend.not-built", facts: { file, part: "kernels" } });
  }
  if (variant === "relaxed" && !wasmRelaxedSimdSupported()) {
    throw new CharnnError("this JavaScript runtime has no relaxed WebAssembly SIMD", ExitCode.usage, undefined,
      { code: "backend.unsupported", facts: { backend: "wasm-relaxed", missing: "relaxed-simd" } });
  }
  const module = new WebAssembly.Module(readFileSync(file));
  compiled.set(variant, module);
  return module;
}
