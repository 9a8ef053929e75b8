// Training from files on disk: the Node layer's side of a run. It finds what the output folder
// holds, loads the checkpoint a run resumes or starts from, reads the text, takes the folder's
// lock and saves checkpoints atomically; every decision is made by the engine (src/core/train/run.ts).
// No flags, signals or printing: the caller passes hooks and turns the result into output.

import { constants as bufferConstants } from "node:buffer";
import { existsSync } from "node:fs";
import path from "node:path";
import { flagName, type TrainConfig } from "../core/settings.js";
import { usageError } from "../core/errors.js";
import { trainEvent, type TrainEvent } from "../core/train/events.js";
import { buildTrainer, decideStart, dryRunEstimate, folderHoldsRunError, planRun, resumeStart, train, type DryRunEstimate, type RunEnd, type RunPlan, type RunStart } from "../core/train/run.js";
import { DRY_RUN_TIMING, stepTimeEstimate, timeSteps, type StepTimeEstimate } from "../core/train/step-timing.js";
import type { Kernels } from "../core/tensor/kernels.js";
import { parameterCount } from "../core/nn/params.js";
import { STDIN_INPUT, readCorpus, type Corpus } from "./corpus.js";
import { backendRuns, resumeBackend, selectKernels } from "./backend.js";
import { acquireLock, loadCheckpointFile, nodeAtomicFs, saveCheckpoint, writeFileAtomic, type AtomicFs } from "./store.js";
import { encodeCheckpoint, type CheckpointState } from "../core/checkpoint/format.js";
import { hostFacts } from "./host.js";

export interface TrainFilesOptions {
  /** Relative inputs, --out and --init-from are resolved against it. */
  cwd: string;
  /** Read for "-". */
  stdin?: NodeJS.ReadableStream;
  /** The command line, recorded in every checkpoint. */
  command: string[];
  emit(event: TrainEvent): void;
  /** Milliseconds, monotonic; defaults to performance.now. */
  now?: () => number;
  interrupted?: () => boolean;
  signal?: AbortSignal;
  /** The file system checkpoints are written through (tests inject faults here). */
  fsImpl?: AtomicFs;
  /** How a message spells a setting. */
  nameOf?: (key: string) => string;
  /** The warnings about what reading the text left out; by default one per binary file skipped. */
  corpusNotes?: (corpus: Corpus) => string[];
}

const binaryNotes = (corpus: Corpus): string[] => corpus.skipped.map((skipped) => `skipped ${skipped}: looks binary`);

/** The engine's estimate, and the time a step took here on the kernels the run would use. */
export type DryRunReport = DryRunEstimate & { stepTime: StepTimeEstimate };

export type TrainFilesResult = { kind: "dry-run"; estimate: DryRunReport } | { kind: "trained"; end: RunEnd };

const loadFor = (file: string) => loadCheckpointFile(file);

/** Trains on `inputs` (files, folders, "-") with checkpoints in `requested.out`. */
export async function trainFiles(requested: TrainConfig, given: ReadonlySet<string>, inputs: string[], options: TrainFilesOptions): Promise<TrainFilesResult> {
  const { cwd, stdin, emit } = options;
  const warn = (message: string) => emit(trainEvent({ type: "warning", message }));
  const out = path.resolve(cwd, requested.out);
  const latestPath = path.join(out, "latest.json");

  let start: RunStart = { kind: "new" };
  switch (decideStart(requested, existsSync(latestPath))) {
    case "resume":
      start = resumeStart(await loadFor(latestPath), path.join(requested.out, "latest.json"), options.nameOf);
      break;
    case "nothing-to-resume":
      warn(`nothing to resume in ${requested.out}: starting a new run`);
      break;
    case "folder-holds-a-run":
      // While a live run holds the folder (cron fired again), that is what the user needs to hear:
      // taking the lock says so with exit 5, and otherwise it is given straight back.
      await (await acquireLock(out))();
      throw folderHoldsRunError(requested.out, options.nameOf);
    case "init": {
      const file = path.resolve(cwd, requested.initFrom!);
      start = { kind: "init", checkpoint: await loadFor(file), path: requested.initFrom! };
      break;
    }
    case "new":
      break;
  }

  if (inputs.length === 0) inputs = recordedInputs(start, requested.out, options.nameOf ?? flagName);
  const corpus = await readCorpus(inputs, { ...(stdin && { stdin }), cwd });
  for (const note of (options.corpusNotes ?? binaryNotes)(corpus)) warn(note);
  const plan = await planRun({
    requested,
    given,
    start,
    text: { codePoints: corpus.codePoints, sources: corpus.sources.length > 0 ? corpus.sources : inputs },
    readValidation: async (file) => {
      // Standard input can be read once: as the training text it would leave nothing to validate on.
      if (file === STDIN_INPUT && inputs.includes(STDIN_INPUT)) {
        throw usageError(`"-" (standard input) cannot be both the training text and ${(options.nameOf ?? flagName)("valFile")}`, "put the validation text in a file");
      }
      return readCorpus([file], { ...(stdin && { stdin }), cwd });
    },
    maxCheckpointChars: bufferConstants.MAX_STRING_LENGTH,
    emit,
    // The calibration times steps on kernels of its own, released before the run's are made.
    calibration: { newKernels: () => selectKernels(requested.backend, requested.threads), now: options.now ?? (() => performance.now()) },
    ...(options.nameOf && { nameOf: options.nameOf }),
  });
  // Chosen once the text and any checkpoint have been read (so a bad input never starts worker
  // threads), from the run's own settings: a resume keeps the backend and threads it was trained
  // with, and the build it recorded unless the backend is given (auto may pick another here).
  const backend = start.kind === "resume" ? resumeBackend(plan.config.backend, start.checkpoint.runtime.variant, given.has("backend"), backendRuns) : plan.config.backend;
  const kernels = selectKernels(backend, plan.config.threads);
  try {
    if (plan.config.dryRun) return { kind: "dry-run", estimate: { ...dryRunEstimate(plan), stepTime: timedStepEstimate(plan, kernels, options.now ?? (() => performance.now())) } };
    const fsImpl = options.fsImpl ?? nodeAtomicFs;
    const end = await train(plan, kernels, {
      emit,
      command: options.command,
      host: hostFacts(),
      isoNow: () => new Date().toISOString(),
      corpusPaths: inputs.map((input) => (input === STDIN_INPUT ? STDIN_INPUT : path.resolve(cwd, input))),
      now: options.now ?? (() => performance.now()),
      ...(options.interrupted && { interrupted: options.interrupted }),
      ...(options.signal && { signal: options.signal }),
      save: async (state, isBest, bestOnly) =>
        bestOnly === true
          ? await saveBestCheckpoint(out, state, fsImpl)
          : (await saveCheckpoint(out, state, { keep: plan.config.keep, isBest, fsImpl })).latest,
      acquire: () => acquireLock(out),
    }, options.nameOf);
    return { kind: "trained", end };
  } finally {
    kernels.dispose();
  }
}

/**
 * A few steps of the planned run timed on a throwaway trainer (step-timing.ts): the real model,
 * batch, text and kernels, any resumed state restored. Nothing is saved, and its warnings are the
 * real run's to give.
 */
function timedStepEstimate(plan: RunPlan, kernels: Kernels, now: () => number): StepTimeEstimate {
  // A step's work grows with its window: a huge model's full window could take minutes on the js
  // kernels, and a dry run must answer in seconds. Past MAX_TIMED_MACS the steps are timed on a
  // shorter window of a fresh model of the same shape and scaled back (the products, the gate
  // work and the decoder are all linear in the window; the optimiser's share is not, so this
  // overestimates a little).
  const macsPerCharacter = 3 * parameterCount(plan.model);
  const fullWindow = plan.config.seqLen;
  const timedWindow = Math.max(1, Math.min(fullWindow, Math.floor(MAX_TIMED_MACS / (macsPerCharacter * plan.config.batch))));
  const timedPlan: RunPlan = timedWindow === fullWindow ? plan : { ...plan, start: { kind: "new" }, config: { ...plan.config, seqLen: timedWindow } };
  const { trainer } = buildTrainer(timedPlan, kernels, () => {});
  const { warmupSteps, durations } = timeSteps(() => void trainer.trainStep(), now, DRY_RUN_TIMING);
  const scale = fullWindow / timedWindow;
  return stepTimeEstimate(durations.map((ms) => ms * scale), warmupSteps, plan.windowsPerEpoch, plan.totalSteps);
}

/** About a second of one step on the js kernels: the most work one timed dry-run step may do. */
const MAX_TIMED_MACS = 1e9;

/** best.json alone, atomically: a new best validation loss between checkpoints. */
async function saveBestCheckpoint(dir: string, state: CheckpointState, fsImpl: AtomicFs): Promise<string> {
  const file = path.join(dir, "best.json");
  await writeFileAtomic(file, encodeCheckpoint(state), fsImpl);
  return file;
}

/**
 * With no text named, a resumed run goes on with the text it recorded (its corpus paths; the
 * fingerprint check of the resume then says whether it is still the same text). Anything else
 * needs text named.
 */
function recordedInputs(start: RunStart, out: string, nameOf: (key: string) => string): string[] {
  if (start.kind !== "resume") {
    throw usageError("name the text to train on", `e.g. charnn train notes.txt, or ${nameOf("resume")} with ${nameOf("out")} to continue a run on the text it recorded`, { code: "corpus.none" });
  }
  const paths = start.checkpoint.corpus.paths;
  if (paths.length === 0) throw usageError(`the run in ${out} does not record its text`, "name the text it was trained on", { code: "corpus.not-recorded" });
  if (paths.includes(STDIN_INPUT)) {
    throw usageError(`the run in ${out} read standard input, which cannot be read again`, `give it again: ... | charnn train - ${nameOf("out")} ${out} ${nameOf("resume")}`, { code: "corpus.stdin-recorded" });
  }
  return [...paths];
}
