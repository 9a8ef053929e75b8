// SHA-256 (FIPS 180-4) in plain TypeScript, so the core can checksum checkpoints and fingerprint
// corpora in a browser as in Node. Incremental: feed bytes or text in pieces, then take the hex
// digest once. Not a general crypto library: no HMAC, no other hashes; it is checked against
// node:crypto and the standard test vectors in test/core/hash/sha256.test.ts.

/** The first 32 bits of the fractional parts of the cube roots of the first 64 primes (FIPS 180-4 §4.2.2). */
const ROUND_CONSTANTS = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** The first 32 bits of the fractional parts of the square roots of the first 8 primes (§5.3.3). */
const INITIAL_HASH = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

const BLOCK_BYTES = 64;
/** Text is encoded to UTF-8 this many UTF-16 units at a time, so a 500 MB document needs no full copy. */
const TEXT_CHUNK_UNITS = 1 << 20;

export class Sha256 {
  private readonly state = Uint32Array.from(INITIAL_HASH);
  private readonly schedule = new Uint32Array(64);
  /** A partial block waiting for more bytes. */
  private readonly pending = new Uint8Array(BLOCK_BYTES);
  private pendingLength = 0;
  /** Total bytes fed; a double holds every count below 2^53 exactly. */
  private totalBytes = 0;
  private finished = false;
  private readonly encoder = new TextEncoder();
  private textBuffer: Uint8Array | null = null;

  update(bytes: Uint8Array): this {
    if (this.finished) throw new Error("Sha256: update after digest");
    this.totalBytes += bytes.length;
    let offset = 0;
    if (this.pendingLength > 0) {
      const taken = Math.min(BLOCK_BYTES - this.pendingLength, bytes.length);
      this.pending.set(bytes.subarray(0, taken), this.pendingLength);
      this.pendingLength += taken;
      offset = taken;
      if (this.pendingLength < BLOCK_BYTES) return this;
      this.compress(this.pending, 0);
      this.pendingLength = 0;
    }
    for (; offset + BLOCK_BYTES <= bytes.length; offset += BLOCK_BYTES) this.compress(bytes, offset);
    this.pending.set(bytes.subarray(offset), 0);
    this.pendingLength = bytes.length - offset;
    return this;
  }

  /** Feeds the UTF-8 bytes of `text` (lone surrogates become U+FFFD, as TextEncoder does). */
  updateText(text: string): this {
    // At most 3 UTF-8 bytes per UTF-16 unit.
    this.textBuffer ??= new Uint8Array(TEXT_CHUNK_UNITS * 3);
    for (let start = 0; start < text.length; ) {
      let end = Math.min(text.length, start + TEXT_CHUNK_UNITS);
      // Never split a surrogate pair between chunks: it would hash as two U+FFFD.
      const last = text.charCodeAt(end - 1);
      if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
      const { written } = this.encoder.encodeInto(text.slice(start, end), this.textBuffer);
      this.update(this.textBuffer.subarray(0, written));
      start = end;
    }
    return this;
  }

  /** The digest as 64 lowercase hex digits; the hash takes no more input afterwards. */
  digestHex(): string {
    if (this.finished) throw new Error("Sha256: digest taken twice");
    const bitLength = this.totalBytes * 8;
    // Padding (§5.1.1): a 1 bit, zeros up to 56 mod 64 bytes, then the length in bits, big-endian.
    const padding = new Uint8Array(((BLOCK_BYTES + 56 - ((this.totalBytes + 1) % BLOCK_BYTES)) % BLOCK_BYTES) + 1 + 8);
    padding[0] = 0x80;
    const view = new DataView(padding.buffer);
    view.setUint32(padding.length - 8, Math.floor(bitLength / 2 ** 32));
    view.setUint32(padding.length - 4, bitLength >>> 0);
    this.update(padding);
    this.finished = true;
    let hex = "";
    for (const word of this.state) hex += word.toString(16).padStart(8, "0");
    return hex;
  }

  /** One 64-byte block at `offset` (§6.2.2). */
  private compress(block: Uint8Array, offset: number): void {
    const w = this.schedule;
    for (let t = 0; t < 16; t++) {
      const i = offset + t * 4;
      w[t] = (block[i]! << 24) | (block[i + 1]! << 16) | (block[i + 2]! << 8) | block[i + 3]!;
    }
    for (let t = 16; t < 64; t++) {
      const x = w[t - 15]!, y = w[t - 2]!;
      const sigma0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const sigma1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[t] = (w[t - 16]! + sigma0 + w[t - 7]! + sigma1) | 0;
    }
    const s = this.state;
    let a = s[0]!, b = s[1]!, c = s[2]!, d = s[3]!, e = s[4]!, f = s[5]!, g = s[6]!, h = s[7]!;
    for (let t = 0; t < 64; t++) {
      const bigSigma1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const choose = (e & f) ^ (~e & g);
      const t1 = (h + bigSigma1 + choose + ROUND_CONSTANTS[t]! + w[t]!) | 0;
      const bigSigma0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const majority = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (bigSigma0 + majority) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    s[0] = (s[0]! + a) | 0;
    s[1] = (s[1]! + b) | 0;
    s[2] = (s[2]! + c) | 0;
    s[3] = (s[3]! + d) | 0;
    s[4] = (s[4]! + e) | 0;
    s[5] = (s[5]! + f) | 0;
    s[6] = (s[6]! + g) | 0;
    s[7] = (s[7]! + h) | 0;
  }
}

/** The SHA-256 of `input` (text is hashed as UTF-8), as 64 lowercase hex digits. */
export function sha256Hex(input: string | Uint8Array): string {
  const hash = new Sha256();
  return (typeof input === "string" ? hash.updateText(input) : hash.update(input)).digestHex();
}
