// Checkpoints for the library in Node: read one from a path (a run folder means its latest.json),
// write one atomically to a path, or hand the atomic run-folder store (latest, best, numbered,
// rotated) to a training run as its `save` hook. Decoding and encoding are the core's.
// Not here: the format (src/core/checkpoint), the store's mechanics (store.ts).

import path from "node:path";
import type { CheckpointState } from "../core/checkpoint/format.js";
import type { Checkpoint } from "../core/checkpoint/load.js";
import { badInput } from "../core/errors.js";
import { locateCheckpoint } from "./checkpoint-path.js";
import { loadCheckpointFile, saveCheckpoint, writeFileAtomic } from "./store.js";
import { encodeCheckpointBytes } from "../core/checkpoint/format.js";
import { nodeCodec } from "./codec.js";

/**
 * Reads, verifies, decodes and validates a checkpoint: a file, or a run folder's latest.json
 * (best.json with `best`, also for a file: the best of its folder).
 */
export async function readCheckpoint(location: string, options: { best?: boolean } = {}): Promise<Checkpoint> {
  const found = locateCheckpoint(location, options.best === true, process.cwd());
  if (!found.found) {
    const why = found.reason === "no-best" ? "the run has no best.json yet (no validation pass has improved its loss)"
      : found.reason === "not-a-run" ? "the folder holds no latest.json" : "nothing is there";
    throw badInput(`no checkpoint at ${found.file}: ${why}`, found.runFolders.length > 0 ? `run folders nearby: ${found.runFolders.join(", ")}` : undefined,
      { code: "checkpoint.missing", facts: { file: found.file, reason: found.reason, runFolders: found.runFolders } });
  }
  return loadCheckpointFile(path.resolve(found.file));
}

/** Writes `state` to `file` atomically (a temporary file, then a rename): a crash leaves the old file or the new one. */
export async function writeCheckpoint(file: string, state: CheckpointState): Promise<void> {
  await writeFileAtomic(path.resolve(file), encodeCheckpointBytes(state, nodeCodec));
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
