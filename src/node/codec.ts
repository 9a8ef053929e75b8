// The checkpoint codec on Node's native primitives: SHA-256 from node:crypto and base64 through
// Buffer, several times faster than the core's portable ones on a big checkpoint and giving
// exactly their answers (Buffer's base64 reader is lenient, so what it reads is held to canonical
// form, and the portable reader speaks for whatever fails). Not here: the format (src/core).

import { createHash } from "node:crypto";
import { base64ToFloats as portableBase64ToFloats } from "../core/checkpoint/base64.js";
import type { CheckpointCodec } from "../core/checkpoint/codec.js";

const hostIsLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Buffer decodes, and the result is accepted only when Buffer encodes it back to exactly `text`:
 * that holds for canonical base64 and for nothing else, since an encoder writes only canonical
 * form. Anything else goes to the portable reader, which says what is wrong in its own words.
 */
function base64ToFloats(text: string): Float32Array | string {
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const byteLength = (text.length / 4) * 3 - padding;
  if (!hostIsLittleEndian || text.length % 4 !== 0 || byteLength % 4 !== 0) return portableBase64ToFloats(text);
  const floats = new Float32Array(byteLength / 4);
  const bytes = Buffer.from(floats.buffer);
  bytes.write(text, 0, byteLength, "base64");
  return bytes.toString("base64") === text ? floats : portableBase64ToFloats(text);
}

export const nodeCodec: CheckpointCodec = {
  sha256Hex(parts) {
    const hash = createHash("sha256");
    for (const part of parts) {
      if (typeof part === "string") hash.update(part, "utf8");
      else hash.update(part);
    }
    return hash.digest("hex");
  },
  base64ToFloats,
};
