// Training for the library in Node: the same run as `charnn train` (the engine's
// src/core/train/run.ts), with text from strings or files, checkpoints through a save hook (the
// run folder store when `out` is given), events through a callback or an async iterator, and an
// AbortSignal that finishes the current step, saves and stops. Settings are named by their keys.
// Not here: the run's decisions (run.ts), or the command's file handling (train.ts, trainFiles).

import { constants as bufferConstants } from "node:buffer";
import { existsSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { CheckpointState } from "../core/checkpoint/format.js";
import { validateCheckpoint, type Checkpoint } from "../core/checkpoint/load.js";
import { usageError } from "../core/errors.js";
import { resolveTrainSettings, type TrainConfig } from "../core/settings.js";
import { decideStart, folderHoldsRunError, planRun, resumeStart, train as runPlan, type RunStart, type Text } from "../core/train/run.js";
import type { EndReason, TrainEvent } from "../core/train/events.js";
import { codePointsOf } from "../core/util/chars.js";
import { selectKernels } from "./backend.js";
import { readCheckpoint, runFolder, type SaveHook } from "./checkpoints.js";
import { readCorpus } from "./corpus.js";
import { hostFacts } from "./host.js";
import { acquireLock } from "./store.js";

/** The settings of `charnn train`, by the same names (`hidden`, `seqLen`, `steps`, ...), all optional. */
export type TrainSettings = Partial<Omit<TrainConfig, "resume" | "initFrom" | "json" | "dryRun">>;

export interface TrainOptions extends TrainSettings {
  /** The training text. Give this or `files`. */
  text?: string;
  /** Files (or folders) to read, as `charnn train FILES` reads them. */
  files?: string[];
  /**
   * Continue a run exactly where it stopped: its checkpoint, a path to one (or to its run folder),
   * or `true` for the run in `out`. Settings given here are laid over the saved ones by the
   * CLI's rules (shape and data layout cannot change).
   */
  resume?: CheckpointState | string | true;
  /** Start a new run from another run's weights (fine-tuning): a checkpoint or a path to one. */
  initFrom?: CheckpointState | string;
  /**
   * Where checkpoints go. Default: the run folder `out` when it is given (latest.json, best.json
   * and numbered checkpoints, written atomically, with the folder locked while the run lasts);
   * otherwise nowhere, and the final checkpoint is only in the result.
   */
  save?: SaveHook;
  /** Called with every event, in order. */
  onEvent?: (event: TrainEvent) => void;
  /** Aborting finishes the current step, saves a checkpoint and ends the run ("interrupted"). */
  signal?: AbortSignal;
}

/** How a run ended. */
export interface TrainResult {
  reason: EndReason;
  /** Updates made in total (a resumed run counts its earlier ones). */
  step: number;
  /** The settings the run used (a resume's are the saved ones with this call's laid over). */
  config: TrainConfig;
  /** The run's state at its last save: pass it to modelFrom() to sample, or to resume. */
  checkpoint: CheckpointState | null;
  /** Where the last save went, as the save hook reported it; null when nothing was saved. */
  savedTo: string | null;
}

const API_ONLY = ["text", "files", "resume", "initFrom", "save", "onEvent", "signal"] as const;

/** The training run as an async iterator of its events, with the outcome in `result`. */
export interface TrainingRun extends AsyncIterable<TrainEvent> {
  readonly result: Promise<TrainResult>;
}

/**
 * Trains a model, as `charnn train` does with the same settings, and resolves with how the run
 * ended. A run that diverges resolves with reason "diverged" (the CLI turns that into exit 4).
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const settings: Record<string, unknown> = { ...options };
  for (const key of API_ONLY) delete settings[key];
  const { config: requested, given } = resolveTrainSettings(settings, {}, "the train options");
  const emit = (event: TrainEvent) => options.onEvent?.(event);

  const start = await startOf(options, requested);
  const text = await textOf(options);
  const plan = await planRun({
    requested, given, start, text,
    readValidation: async (file) => readCorpus([file]),
    maxCheckpointChars: bufferConstants.MAX_STRING_LENGTH,
    emit,
    nameOf: keyName,
  });

  const out = options.save === undefined && options.out !== undefined ? path.resolve(options.out) : null;
  const save: SaveHook | null = options.save ?? (out === null ? null : runFolder(out, { keep: plan.config.keep }));
  let checkpoint: CheckpointState | null = null, savedTo: string | null = null;
  const kernels = selectKernels(plan.config.backend, plan.config.threads);
  try {
    const end = await runPlan(plan, kernels, {
      emit,
      save: async (state, isBest) => {
        checkpoint = state;
        savedTo = save === null ? "(not saved)" : await save(state, { isBest, step: state.step });
        return savedTo;
      },
      now: () => performance.now(),
      signal: options.signal,
      acquire: out === null ? undefined : () => acquireLock(out),
      command: [],
      host: hostFacts(),
      isoNow: () => new Date().toISOString(),
      corpusPaths: options.files?.map((file) => path.resolve(file)) ?? [],
    }, keyName);
    return { reason: end.reason, step: end.step, config: end.config, checkpoint, savedTo: save === null ? null : savedTo };
  } finally {
    kernels.dispose();
  }
}

/** Starts a run and hands back its events as an async iterator; `result` settles when it ends. */
export function trainEvents(options: TrainOptions): TrainingRun {
  const queue: TrainEvent[] = [];
  let wake: (() => void) | null = null;
  let finished = false;
  const notify = () => { wake?.(); wake = null; };
  const result = train({ ...options, onEvent: (event) => { options.onEvent?.(event); queue.push(event); notify(); } })
    .finally(() => { finished = true; notify(); });
  result.catch(() => undefined); // the iterator rethrows; an unread result must not be an unhandled rejection
  return {
    result,
    async *[Symbol.asyncIterator]() {
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        if (finished) break;
        await new Promise<void>((resolve) => { wake = resolve; });
      }
      await result;
    },
  };
}

/** Settings are named as the library names them, by their keys. */
const keyName = (key: string): string => key;

async function startOf(options: TrainOptions, requested: TrainConfig): Promise<RunStart> {
  if (options.resume !== undefined && options.initFrom !== undefined) {
    throw usageError("resume and initFrom cannot be used together", "resume continues a run; initFrom starts a new one from its weights",
      { code: "setting.conflict", facts: { keys: ["resume", "initFrom"] } });
  }
  if (typeof options.resume === "object" || typeof options.resume === "string") {
    return resumeStart(await checkpointOf(options.resume), typeof options.resume === "string" ? options.resume : "the resume checkpoint", keyName);
  }
  if (options.initFrom !== undefined) {
    const name = typeof options.initFrom === "string" ? options.initFrom : "the initFrom checkpoint";
    return { kind: "init", checkpoint: await checkpointOf(options.initFrom), path: name };
  }
  // A run folder: the same rules as `charnn train --out DIR [--resume]`.
  if (options.out === undefined) return { kind: "new" };
  const latest = path.join(path.resolve(requested.out), "latest.json");
  switch (decideStart({ resume: options.resume === true, initFrom: null, dryRun: false }, existsSync(latest))) {
    case "resume":
      return resumeStart(await readCheckpoint(latest), latest, keyName);
    case "nothing-to-resume":
      throw usageError(`nothing to resume in ${requested.out}`, "leave out resume to start a new run there", { code: "run.nothing-to-resume", facts: { out: requested.out } });
    case "folder-holds-a-run":
      throw folderHoldsRunError(requested.out, keyName);
    default:
      return { kind: "new" };
  }
}

/** A checkpoint from a path, or one in memory held to the same rules as a file's. */
const checkpointOf = async (source: CheckpointState | string): Promise<Checkpoint> =>
  typeof source === "string" ? readCheckpoint(source) : validateCheckpoint(source, "the checkpoint given");

async function textOf(options: TrainOptions): Promise<Text> {
  if ((options.text === undefined) === (options.files === undefined)) {
    throw usageError("give the training text as `text` or as `files`, not both or neither", undefined, { code: "setting.conflict", facts: { keys: ["text", "files"] } });
  }
  if (options.text !== undefined) return { codePoints: codePointsOf(options.text), sources: ["the text"] };
  const corpus = await readCorpus(options.files!);
  return { codePoints: corpus.codePoints, sources: corpus.sources };
}
