// A checkpoint to and from its text or bytes, for callers that keep checkpoints somewhere other
// than a file (a database, a page's IndexedDB, a network response). The same read → verify →
// decode → validate path as loading from disk. Not here: files (src/node/checkpoints.ts).

import { decodeCheckpoint, encodeCheckpoint, type CheckpointState } from "../checkpoint/format.js";
import { expectedShapes } from "../checkpoint/model.js";

/** Decodes a checkpoint from its JSON text or its UTF-8 bytes; `name` names it in error messages. */
export function parseCheckpoint(source: string | Uint8Array, name = "the checkpoint"): CheckpointState {
  const text = typeof source === "string" ? source : new TextDecoder("utf-8", { fatal: false }).decode(source);
  return decodeCheckpoint(text, name, { expectedShapes });
}

/** The checkpoint's text, exactly what `charnn train` writes to latest.json. */
export function serializeCheckpoint(state: CheckpointState): string {
  return encodeCheckpoint(state);
}

/** The checkpoint as UTF-8 bytes. */
export function checkpointBytes(state: CheckpointState): Uint8Array {
  return new TextEncoder().encode(encodeCheckpoint(state));
}
