// A checkpoint to and from its text or bytes, for callers that keep checkpoints somewhere other
// than a file (a database, a page's IndexedDB, a network response). The same read → verify →
// decode → validate path as loading from disk. Not here: files (src/node/checkpoints.ts).

import { encodeCheckpoint, type CheckpointState } from "../checkpoint/format.js";
import { decodeCheckpoint, type Checkpoint } from "../checkpoint/load.js";

/** Decodes a checkpoint from its JSON text or its UTF-8 bytes; `name` names it in error messages. */
export function parseCheckpoint(source: string | Uint8Array, name = "the checkpoint"): Checkpoint {
  return decodeCheckpoint(source, name);
}

/** The checkpoint's text, exactly what `charnn train` writes to latest.json. */
export function serializeCheckpoint(state: CheckpointState): string {
  return encodeCheckpoint(state);
}

/** The checkpoint as UTF-8 bytes. */
export function checkpointBytes(state: CheckpointState): Uint8Array {
  return new TextEncoder().encode(encodeCheckpoint(state));
}
