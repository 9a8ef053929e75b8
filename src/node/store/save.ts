// Saving a checkpoint into a run folder: one encoding written atomically as the numbered
// ckpt-<step>.json, latest.json and (when it is the best) best.json, then rotation of the
// numbered files down to `keep`. Not the atomic write itself (atomic.ts) nor the lock (lock.ts).

import { join } from "node:path";
import * as fsPromises from "node:fs/promises";
import { CharnnError, ExitCode } from "../../core/errors.js";
import { encodeCheckpointBytes, type CheckpointState } from "../../core/checkpoint/format.js";
import { removeLeftoverTemporaryFiles, writeFileAtomic, type AtomicFs } from "./atomic.js";
import { describeErrno, errnoCode, errnoHint, folderError } from "./errors.js";
import { nodeCodec } from "../codec.js";

export interface SaveOptions {
  /** How many numbered ckpt-*.json to keep (newest first); 0 writes none and removes the rest. */
  keep: number;
  /** Also write best.json (the caller judged this the best validation loss so far). */
  isBest: boolean;
  /** The file operations; nodeAtomicFs unless a test passes one that fails. */
  fsImpl?: AtomicFs;
}

/** Paths written; `numbered` is "" when `keep` is 0. */
export interface SavedPaths {
  latest: string;
  numbered: string;
  best?: string;
}

const NUMBERED_NAME = /^ckpt-(\d{8,})\.json$/;

export const numberedCheckpointName = (step: number): string => `ckpt-${String(step).padStart(8, "0")}.json`;

/**
 * Save `state` in `dir` (created if missing): ckpt-<step>.json, then latest.json, then best.json
 * when `isBest`, all from one encoding; then rotate the numbered files. Each file is replaced
 * atomically, so a failure part way leaves every file either old or new.
 */
export async function saveCheckpoint(dir: string, state: CheckpointState, options: SaveOptions): Promise<SavedPaths> {
  if (!Number.isSafeInteger(options.keep) || options.keep < 0) {
    throw new CharnnError(`keep must be a whole number >= 0, not ${options.keep}`, ExitCode.usage);
  }
  // Encoded once, as bytes: the same bytes go to every file, with no text copy per write.
  const bytes = encodeCheckpointBytes(state, nodeCodec);
  try {
    await fsPromises.mkdir(dir, { recursive: true });
  } catch (error) {
    throw folderError(dir, error);
  }
  await removeLeftoverTemporaryFiles(dir);
  const numberedName = numberedCheckpointName(state.step);
  const saved: SavedPaths = { latest: join(dir, "latest.json"), numbered: "" };
  if (options.keep > 0) {
    saved.numbered = join(dir, numberedName);
    await writeFileAtomic(saved.numbered, bytes, options.fsImpl);
  }
  await writeFileAtomic(saved.latest, bytes, options.fsImpl);
  if (options.isBest) {
    saved.best = join(dir, "best.json");
    await writeFileAtomic(saved.best, bytes, options.fsImpl);
  }
  await rotateNumbered(dir, options.keep, options.keep > 0 ? numberedName : undefined);
  return saved;
}

/** Delete numbered checkpoints beyond the newest `keep` by step, never the one just written. */
async function rotateNumbered(dir: string, keep: number, justWritten: string | undefined): Promise<void> {
  const numbered = (await fsPromises.readdir(dir))
    .map((name) => ({ name, step: NUMBERED_NAME.exec(name)?.[1] }))
    .filter((entry): entry is { name: string; step: string } => entry.step !== undefined && entry.name !== justWritten)
    .sort((a, b) => Number(b.step) - Number(a.step));
  const othersToKeep = Math.max(0, keep - (justWritten ? 1 : 0));
  for (const { name } of numbered.slice(othersToKeep)) {
    const path = join(dir, name);
    try {
      await fsPromises.unlink(path);
    } catch (error) {
      if (errnoCode(error) === "ENOENT") continue;
      throw new CharnnError(`saved the checkpoint, but cannot delete the old ${path}: ${describeErrno(error)}`, ExitCode.failure, errnoHint(error));
    }
  }
}

