// A content fingerprint of the decoded corpus, stored in checkpoints so that a resume on a
// different text is noticed. Not a file hash: two encodings of the same text (UTF-8, UTF-16,
// with or without BOM) give the same fingerprint, because it hashes code points.

import { Sha256 } from "../hash/sha256.js";

const hostIsLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** "sha256:<hex>" of the code points as 32-bit little-endian integers. */
export function fingerprintCodePoints(codePoints: Uint32Array): string {
  const hash = new Sha256();
  if (hostIsLittleEndian) {
    // The array's own memory already is the little-endian byte sequence: hash it in place.
    hash.update(new Uint8Array(codePoints.buffer, codePoints.byteOffset, codePoints.byteLength));
  } else {
    // Big-endian hosts: write in chunks so a 100 MB corpus needs no second full copy.
    const chunkLength = 1 << 16;
    const chunk = new DataView(new ArrayBuffer(chunkLength * 4));
    for (let start = 0; start < codePoints.length; start += chunkLength) {
      const end = Math.min(codePoints.length, start + chunkLength);
      for (let i = start; i < end; i++) chunk.setUint32((i - start) * 4, codePoints[i]!, true);
      hash.update(new Uint8Array(chunk.buffer, 0, (end - start) * 4));
    }
  }
  return `sha256:${hash.digestHex()}`;
}
