// Checkpoints for the library in Node: read one from a path (a run folder means its latest.json),
// write one atomically to a path, or hand the atomic run-folder store (latest, best, numbered,
// rotated) to a training run as its `save` hook. Decoding and encoding are the core's.
// Not here: the format (src/core/checkpoint), the store's mechanics (store.ts).

import { statSync } from "node:fs";
import path from "node:path";
import type { CheckpointState } from "../core/checkpoint/format.js";
import { expectedShapes } from "../core/checkpoint/model.js";
import { loadCheckpoint, saveCheckpoint, writeFileAtomic } from "./store.js";
import { encodeCheckpoint } from "../core/checkpoint/format.js";

/** A checkpoint file, or a run folder (its latest.json; best.json with `best`). */
export function checkpointFileFor(location: string, options: { best?: boolean } = {}): string {
  let isFolder = false;
  try {
    isFolder = statSync(location).isDirectory();
  } catch {
    // A missing path is reported by the reader, with its own message.
  }
  if (isFolder) return path.join(location, options.best === true ? "best.json" : "latest.json");
  return options.best === true ? path.join(path.dirname(location), "best.json") : location;
}

/** Reads, verifies, decodes and validates the checkpoint at `location`. */
export async function readCheckpoint(location: string, options: { best?: boolean } = {}): Promise<CheckpointState> {
  const file = path.resolve(checkpointFileFor(location, options));
  return loadCheckpoint(file, { expectedShapes });
}

/** Writes `state` to `file` atomically (a temporary file, then a rename): a crash leaves the old file or the new one. */
export async function writeCheckpoint(file: string, state: CheckpointState): Promise<void> {
  await writeFileAtomic(path.resolve(file), encodeCheckpoint(state));
}

/** What a training run calls when a checkpoint is due; returns where it went (for the checkpoint event). */
export type SaveHook = (state: CheckpointState, info: { isBest: boolean; step: number }) => Promise<string>;

/**
 * The CLI's store as a save hook: `dir/latest.json` every time, `dir/best.json` on a new best
 * validation loss, and numbered checkpoints of which the newest `keep` are kept.
 */
export function runFolder(dir: string, options: { keep?: number } = {}): SaveHook {
  const folder = path.resolve(dir);
  return async (state, { isBest }) => (await saveCheckpoint(folder, state, { keep: options.keep ?? 3, isBest })).latest;
}
