// What any JavaScript runtime can tell about the kernel module built from assembly/kernels.ts,
// without Node: whether WebAssembly SIMD and relaxed SIMD validate here, what the module exports,
// and the section layout of a module binary. Not here: finding or reading the built files (the
// host does: src/node/wasm/module.ts in Node, the page's inlined bytes in a browser).

/** What the module exports (pointers are byte addresses in the shared memory). */
export interface KernelExports {
  scratchBytesPerPart(): number;
  packedFloats(K: number, N: number): number;
  [name: string]: (...args: number[]) => number | void;
}

/** `simd`: plain 128-bit SIMD (the default); `relaxed`: the same kernels with fused multiply-adds. */
export type KernelVariant = "simd" | "relaxed";

/** The name a kernel set of each build reports (and checkpoints record): the two differ in the last bits. */
export const VARIANT_BACKEND: Readonly<Record<KernelVariant, "wasm" | "wasm-relaxed">> = { simd: "wasm", relaxed: "wasm-relaxed" };

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

const validates = (probe: Uint8Array<ArrayBuffer>): boolean => {
  try {
    return typeof WebAssembly === "object" && WebAssembly.validate(probe);
  } catch {
    return false;
  }
};

/** Whether this runtime has WebAssembly with 128-bit SIMD, which both builds need. */
export function wasmSimdSupported(): boolean {
  return validates(SIMD_PROBE);
}

/** Whether relaxed SIMD validates here as the runtime stands (Node's layer can switch it on first). */
export function relaxedSimdValidates(): boolean {
  return validates(RELAXED_PROBE);
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

/**
 * Whether this runtime gives WebAssembly shared memory, which the kernels import (so that threads
 * can share it). Node always does; a browser may keep it to cross-origin isolated pages.
 */
export function sharedMemorySupported(): boolean {
  try {
    return typeof WebAssembly === "object" && new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer.byteLength === 65536;
  } catch {
    return false;
  }
}
