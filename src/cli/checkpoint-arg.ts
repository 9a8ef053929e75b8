// How every command names a checkpoint: `-c/--checkpoint FILE|DIR` (a run folder means its
// latest.json) and `--best` (its best.json); info and export also take it as their first
// argument. Turns a checkpoint that is not there into a message whose hint is a command that
// works when pasted. Not here: finding the file (src/node/checkpoint-path.ts) or its format.

import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { DEFAULT_CHECKPOINT } from "../core/settings.js";
import { modelFromCheckpoint, type Checkpoint, type LoadedModel } from "../core/checkpoint/load.js";
import { badInput, usageError } from "../core/errors.js";
import type { Kernels } from "../core/tensor/kernels.js";
import { locateCheckpoint } from "../node/checkpoint-path.js";
import { loadCheckpointFile } from "../node/store.js";
import type { CliIO } from "./io.js";

/** The checkpoint read when none is named: the latest.json of `charnn train`'s default --out. */
export { DEFAULT_CHECKPOINT };
/** `charnn train`'s default --out, where the default checkpoint comes from. */
const DEFAULT_RUN_FOLDER = "checkpoints";

export interface CheckpointArgument {
  /** A checkpoint file or a run folder, relative to the working directory. */
  checkpoint: string;
  /** best.json of the run folder instead. */
  best: boolean;
}

/**
 * The command line that names another checkpoint (null: the default one) and keeps what else
 * the command needs, as words after `charnn`. Hints are built from it.
 */
export type RetryCommand = (checkpoint: string | null, best: boolean) => string[];

/** `charnn COMMAND [-c CHECKPOINT | CHECKPOINT] [--best] REST...` (positional: info, export). */
export function retryCommand(command: string, rest: readonly string[] = [], positional = false): RetryCommand {
  return (checkpoint, best) => [
    command,
    ...(checkpoint === null ? [] : positional ? [checkpoint] : ["-c", checkpoint]),
    ...(best ? ["--best"] : []),
    ...rest,
  ];
}

/**
 * For info and export: the optional first argument, which names the checkpoint like -c (the
 * options come from the settings table's checkpoint and best); checkpointOfArguments then
 * reconciles the two.
 */
export function addCheckpointArgument(command: Command): void {
  command.argument("[checkpoint]", "checkpoint file or run folder (same as -c)");
}

/**
 * The checkpoint of a command that takes it as an argument or as -c (`flag` is undefined when
 * -c was not typed). Both, naming different things, is a usage error.
 */
export function checkpointOfArguments(positional: string | undefined, flag: string | undefined, retry: RetryCommand): string {
  if (positional !== undefined && flag !== undefined && positional !== flag) {
    throw usageError(
      `two checkpoints given: ${positional} and -c ${flag}`,
      `name one, e.g.: ${commandLine(retry(positional, false))}`,
      { code: "checkpoint.given-twice", facts: { positional, flag } },
    );
  }
  return positional ?? flag ?? DEFAULT_CHECKPOINT;
}

// A word the shell passes through unchanged; anything else is single-quoted.
const PLAIN_WORD = /^[A-Za-z0-9_/.,:@%+=-]+$/;

/** `words` as a line a POSIX shell reads back as the same words. */
export function commandLine(words: readonly string[]): string {
  const quoted = words.map((word) => (PLAIN_WORD.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`));
  return ["charnn", ...quoted].join(" ");
}

/** The text that ships with charnn, absolute, when the installed package has it. */
function shippedCorpus(): string | null {
  // src/cli/ and dist/cli/ both sit two folders below the package root.
  const file = fileURLToPath(new URL("../../corpora/harbour.txt", import.meta.url));
  return existsSync(file) ? file : null;
}

/** A hint that makes a checkpoint at `folder` and then runs `retry` on it. */
function trainHint(folder: string, argument: CheckpointArgument, retry: RetryCommand): string {
  const corpus = shippedCorpus();
  if (corpus === null) return `train a model first (see: charnn train --help)`;
  const out = folder === DEFAULT_RUN_FOLDER ? [] : ["--out", folder];
  const train = commandLine(["train", corpus, ...out]);
  const then = commandLine(retry(argument.checkpoint === DEFAULT_CHECKPOINT ? null : folder, false));
  return `train a model first, e.g. on the sample text in the package: ${train}, then: ${then}`;
}

/** One run folder to try, and the others after it. */
function suggestionHint(runFolders: readonly string[], best: boolean, retry: RetryCommand): string {
  const [first, ...others] = runFolders;
  const also = others.length > 0 ? ` (other runs: ${others.join(", ")})` : "";
  return `${runFolders.length > 1 ? "the newest run here" : "a run here"}: ${commandLine(retry(first!, best))}${also}`;
}

/** The file to read for `argument`, or an error saying what is missing and what to type instead. */
export function checkpointFileFor(argument: CheckpointArgument, io: CliIO, retry: RetryCommand): string {
  const location = locateCheckpoint(argument.checkpoint, argument.best, io.cwd);
  if (location.found) return location.file;
  const facts = { checkpoint: argument.checkpoint, file: location.file, runFolders: location.runFolders };
  const folderOf = (file: string): string => path.dirname(file);
  switch (location.reason) {
    case "no-best":
      return fail(
        `no best.json in ${folderOf(location.file)} (--best)`,
        `best.json is written when a validation pass improves the loss; the latest instead: ${commandLine(retry(folderOf(location.file), false))}`,
        "checkpoint.no-best",
      );
    case "not-a-run":
      return fail(
        `${argument.checkpoint} is a folder without a checkpoint (no latest.json in it)`,
        location.runFolders.length > 0 ? suggestionHint(location.runFolders, argument.best, retry) : trainHint(argument.checkpoint, argument, retry),
        "checkpoint.not-a-run",
      );
    case "missing": {
      const named = location.file.endsWith(".json") ? folderOf(location.file) : argument.checkpoint;
      return fail(
        `no checkpoint at ${location.file}`,
        location.runFolders.length > 0 ? suggestionHint(location.runFolders, argument.best, retry) : trainHint(named, argument, retry),
        "checkpoint.missing",
      );
    }
  }

  function fail(message: string, hint: string, code: string): never {
    throw badInput(message, hint, { code, facts });
  }
}

/** Reads and validates the checkpoint `argument` names; damage is reported by the loader. */
export async function readCheckpointFor(
  argument: CheckpointArgument,
  io: CliIO,
  retry: RetryCommand,
): Promise<{ state: Checkpoint; file: string }> {
  const file = checkpointFileFor(argument, io, retry);
  return { state: await loadCheckpointFile(path.resolve(io.cwd, file)), file };
}

/** The checkpoint's model with its weights, made by `kernels`; a sampler or scorer adds its own workspace. */
export async function loadModelFor(
  argument: CheckpointArgument,
  io: CliIO,
  retry: RetryCommand,
  kernels: Kernels,
): Promise<LoadedModel & { file: string; state: Checkpoint }> {
  const { state, file } = await readCheckpointFor(argument, io, retry);
  return { ...modelFromCheckpoint(state, kernels), file, state };
}
