// Finding, compiling and checking the kernel module built from assembly/kernels.ts, and telling
// whether this runtime can run it at all. Not here: memory, the kernel calls, threads
// (kernels.ts and threads.ts).

import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { CharnnError, ExitCode } from "../../core/errors.js";

/** What the module exports (pointers are byte addresses in the shared memory). */
export interface KernelExports {
  scratchBytesPerPart(): number;
  packedFloats(K: number, N: number): number;
  [name: string]: (...args: number[]) => number | void;
}

/**
 * The smallest module that uses a 128-bit SIMD instruction: (func (result v128) (v128.const 0)).
 * WebAssembly.validate on it answers whether this runtime has SIMD without compiling anything real.
 */
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, // code: v128.const
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b, // 16 zero bytes, end
]);

export function wasmSimdSupported(): boolean {
  try {
    return typeof WebAssembly === "object" && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

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
 * (func (param v128 v128 v128) (result v128) (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2))):
 * valid only where relaxed SIMD is on.
 */
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00,
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // body
]);

/**
 * Whether relaxed SIMD can be used, switching it on first where Node 20 keeps it behind a flag
 * (--experimental-wasm-relaxed-simd; V8 reads it when a module is compiled, so turning it on at
 * run time works, for every thread of the process).
 */
export function wasmRelaxedSimdSupported(): boolean {
  try {
    if (WebAssembly.validate(RELAXED_PROBE)) return true;
    setFlagsFromString("--experimental-wasm-relaxed-simd");
    return WebAssembly.validate(RELAXED_PROBE);
  } catch {
    return false;
  }
}

/** `simd`: plain 128-bit SIMD (the default); `relaxed`: the same kernels with fused multiply-adds. */
export type KernelVariant = "simd" | "relaxed";

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

/**
 * Section ids of a module binary, in order. The kernels must have no data section (id 11): an
 * instance's active data segments are copied into memory when it starts, which with one shared
 * memory would overwrite what the other instances are working on.
 */
export function sectionIds(binary: Uint8Array): number[] {
  const ids: number[] = [];
  let p = 8;
  while (p < binary.length) {
    const id = binary[p++]!;
    let size = 0, shift = 0, byte: number;
    do {
      byte = binary[p++]!;
      size |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    ids.push(id);
    p += size;
  }
  return ids;
}
