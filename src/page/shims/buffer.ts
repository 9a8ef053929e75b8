// The few Buffer calls the checkpoint codec makes (base64 of little-endian float bytes, swap32),
// for the page bundle, on atob/btoa. A bridge until the codec decodes portably itself.
// Injected as the global `Buffer` by scripts/build-page.mjs only; never used in Node.

/** Bytes with Node's base64 toString and swap32. */
class PageBytes extends Uint8Array {
  override toString(encoding?: string): string {
    if (encoding !== "base64") throw new Error(`Buffer.toString(${String(encoding)}) is not in the page bundle`);
    let binary = "";
    const CHUNK = 0x8000;
    for (let i = 0; i < this.length; i += CHUNK) binary += String.fromCharCode(...this.subarray(i, i + CHUNK));
    return btoa(binary);
  }

  swap32(): this {
    for (let i = 0; i + 3 < this.length; i += 4) {
      const a = this[i]!, b = this[i + 1]!;
      this[i] = this[i + 3]!;
      this[i + 1] = this[i + 2]!;
      this[i + 2] = b;
      this[i + 3] = a;
    }
    return this;
  }
}

export const Buffer = {
  from(source: string | ArrayBufferLike | Uint8Array, encodingOrOffset?: string | number, length?: number): PageBytes {
    if (typeof source === "string") {
      if (encodingOrOffset !== "base64") throw new Error(`Buffer.from(string, ${String(encodingOrOffset)}) is not in the page bundle`);
      // Like Node's decoder, characters outside the alphabet are skipped (the caller re-encodes to check).
      const clean = source.replace(/[^A-Za-z0-9+/]/g, "");
      const binary = atob(clean + "===".slice((clean.length + 3) % 4));
      const bytes = new PageBytes(binary.length);
      for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
      return bytes;
    }
    if (source instanceof Uint8Array) return new PageBytes(Uint8Array.from(source));
    const offset = typeof encodingOrOffset === "number" ? encodingOrOffset : 0;
    return new PageBytes(source as ArrayBuffer, offset, length ?? source.byteLength - offset);
  },
};
