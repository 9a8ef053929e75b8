// The two primitives a checkpoint's bulk goes through, as an interface a host may fill with
// faster ones: SHA-256 over the document and base64 of the float arrays. The core ships the
// portable TypeScript ones (portableCodec); the Node layer passes node:crypto and Buffer ones
// (src/node/codec.ts), which must give the same answers bit for bit, messages included.
// Not here: where the checksum sits or what the floats are (format.ts).

import { Sha256 } from "../hash/sha256.js";
import { base64ToFloats } from "./base64.js";

export interface CheckpointCodec {
  /** The SHA-256 of the parts one after the other (text as UTF-8), as 64 lowercase hex digits. */
  sha256Hex(parts: ReadonlyArray<string | Uint8Array>): string;
  /** The floats canonical base64 `text` encodes, or in words why it encodes none (base64ToFloats's words). */
  base64ToFloats(text: string): Float32Array | string;
}

export const portableCodec: CheckpointCodec = {
  sha256Hex(parts) {
    const hash = new Sha256();
    for (const part of parts) {
      if (typeof part === "string") hash.updateText(part);
      else hash.update(part);
    }
    return hash.digestHex();
  },
  base64ToFloats,
};
