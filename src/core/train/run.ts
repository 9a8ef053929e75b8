// A training run's decisions, from settings and text to how the run ended: where it starts (new,
// resumed, or from another run's weights), which settings hold, the vocabulary and the
// validation split, the checks made before any step (the checkpoint must fit in one string), the
// dry-run estimate, and the trainer driven through the loop. It reads no files, takes no locks
// and prints nothing: the caller passes the text and any checkpoint it loaded, and hooks (emit,
// save, now, interrupted or an AbortSignal). src/node/train.ts is that caller for files on disk.

import { StartStateRecorder, refineStepsFor, startStateRecord } from "../sample/start-state.js";
import { modelConfigOf, settingSourcesFor, trainingCheckpoint, type HostFacts } from "../checkpoint/model.js";
import type { CheckpointState, SettingSource } from "../checkpoint/format.js";
import type { Checkpoint, TrainingCheckpoint } from "../checkpoint/load.js";
import { StreamBatcher, splitValidation } from "../data/batches.js";
import { fingerprintCodePoints } from "../data/fingerprint.js";
import { Vocabulary } from "../data/vocab.js";
import { badInput, usageError } from "../errors.js";
import { CharModel, Workspace } from "../nn/model.js";
import { parameterCount, type ModelConfig } from "../nn/params.js";
import { Optimizer, optimizerDefaults, type OptimizerSettings } from "../optim/optimizers.js";
import { describeSchedule, type Schedule } from "../optim/schedule.js";
import { Sampler } from "../sample/sampler.js";
import { generateText } from "../sample/text.js";
import { MODEL_SHAPE_KEYS, fineTuneSettings, flagName, readSavedConfig, resumeSettings, type TrainConfig } from "../settings.js";
import type { Kernels } from "../tensor/kernels.js";
import { createRng } from "../tensor/rng.js";
import { trainEvent, type EndReason, type TrainEvent } from "./events.js";
import { runLoop, totalSteps, type Progress, type Retime } from "./loop.js";
import { Trainer, type TrainerOptions } from "./trainer.js";
import { applyChoice, budgetChoiceApplies, calibrateForBudget, type BudgetCalibrationInputs } from "./budget.js";
import { retimedSteps, retimeSteps, type Choice } from "./chooser.js";
import { formatCount } from "../util/format.js";
import { shapeForText } from "./small-text.js";

// ---------------------------------------------------------------------------------------------
// where the run starts, and the settings that hold
// ---------------------------------------------------------------------------------------------

/** Where a run starts: nothing, its own latest checkpoint, or another run's weights. */
export type RunStart =
  | { kind: "new" }
  | { kind: "resume"; checkpoint: TrainingCheckpoint }
  | { kind: "init"; checkpoint: Checkpoint; path: string };

/**
 * The start a resume of `checkpoint` makes; a weights-only checkpoint has no optimiser state,
 * position or random state to continue from, so it is refused with the way to start from it.
 * `file` names it as the user gave it.
 */
export function resumeStart(checkpoint: Checkpoint, file: string, nameOf: (key: string) => string = flagName): RunStart {
  if (checkpoint.kind === "weights") {
    throw usageError(
      `${file} holds weights only (no optimiser state, position or random state), so it cannot be resumed`,
      `start a new run from its weights: ${nameOf("initFrom")} ${file} ${nameOf("out")} NEWDIR`,
      { code: "checkpoint.weights-only", facts: { file } },
    );
  }
  return { kind: "resume", checkpoint };
}

/**
 * What to do, from the switches and whether the output folder already holds a run:
 * "resume" it; "nothing-to-resume" (a new run, said so); "folder-holds-a-run" (refuse: a new run
 * would overwrite it; a dry run is allowed); "init" from another run's weights; or "new".
 */
export type StartDecision = "new" | "resume" | "nothing-to-resume" | "folder-holds-a-run" | "init";

export function decideStart(requested: Pick<TrainConfig, "resume" | "initFrom" | "dryRun">, folderHoldsRun: boolean): StartDecision {
  if (requested.resume) return folderHoldsRun ? "resume" : "nothing-to-resume";
  if (folderHoldsRun && !requested.dryRun) return "folder-holds-a-run";
  return requested.initFrom !== null ? "init" : "new";
}

/** The refusal for "folder-holds-a-run"; `out` is the folder as given. */
export function folderHoldsRunError(out: string, nameOf: (key: string) => string = flagName): Error {
  return usageError(`${out} already holds a run (latest.json)`, `add ${nameOf("resume")} to continue it, use ${nameOf("out")} DIR for a new run, or delete the folder`, {
    code: "run.folder-holds-a-run",
    facts: { out },
  });
}

export interface StartSettings {
  config: TrainConfig;
  /** Settings this invocation changed that make a resumed run differ from an uninterrupted one. */
  inexact: (keyof TrainConfig)[];
}

/** The settings that hold for a start: the saved run's for a resume, the checkpoint's shape for init. */
export function startSettings(requested: TrainConfig, given: ReadonlySet<string>, start: RunStart, nameOf: (key: string) => string = flagName): StartSettings {
  if (start.kind === "resume") return resumeSettings(readSavedConfig(start.checkpoint.config), requested, given, nameOf);
  if (start.kind === "init") return { config: fineTuneSettings(readSavedConfig(start.checkpoint.config), requested, given, nameOf), inexact: [] };
  return { config: requested, inexact: [] };
}

// ---------------------------------------------------------------------------------------------
// the plan: everything decided before the first step
// ---------------------------------------------------------------------------------------------

/** Decoded text and where it came from. */
export interface Text {
  codePoints: Uint32Array;
  /** The name of each piece, for messages. */
  sources: string[];
}

export interface PlanInput {
  /** This invocation's settings, resolved, and the keys it gave. */
  requested: TrainConfig;
  given: ReadonlySet<string>;
  start: RunStart;
  /** The training text; its code points are overwritten with vocabulary indices. */
  text: Text;
  /** Reads the validation text when the run's settings name a file (`valFile`). */
  readValidation(file: string): Promise<Text>;
  /** The longest checkpoint text the save can write, in characters (see checkCheckpointFits). */
  maxCheckpointChars: number;
  emit(event: TrainEvent): void;
  /** How a message spells a setting; the CLI passes flagName. */
  nameOf?: (key: string) => string;
  /**
   * Kernels and a clock for the time-budget calibration (budget.ts). Without them a run that
   * could choose its settings for --time keeps the defaults instead.
   */
  calibration?: Pick<BudgetCalibrationInputs, "newKernels" | "now">;
}

/** What the time-budget chooser decided for this invocation, and which settings it set. */
export type PlannedChoice = Choice & { chosen: string[] };

export interface RunPlan {
  config: TrainConfig;
  start: RunStart;
  inexact: (keyof TrainConfig)[];
  vocabulary: Vocabulary;
  /** Vocabulary indices. */
  train: Uint32Array;
  validation: Uint32Array;
  corpus: { fingerprint: string; length: number };
  /** Where each of the run's settings came from (the saved run's, for what this invocation did not give). */
  settingSources: Record<string, SettingSource>;
  model: ModelConfig;
  windowsPerEpoch: number;
  /** The step count the schedule is defined over; null when only time limits the run. */
  totalSteps: number | null;
  /** The time-budget choice made by this invocation (null when it made none). */
  choice: PlannedChoice | null;
  /** True when the run would choose its settings for the budget (a dry run says so and does not). */
  choosesForBudget: boolean;
  /** Calibration's wall time and the time kept for the final validation and save, ms: both count inside this invocation's --time. */
  reservedMs: number;
}

export async function planRun(input: PlanInput): Promise<RunPlan> {
  const { requested, start, text } = input;
  const nameOf = input.nameOf ?? flagName;
  const warn = (message: string) => input.emit(trainEvent({ type: "warning", message }));
  const started = startSettings(requested, input.given, start, nameOf);
  const inexact = started.inexact;
  let config = started.config;

  if (text.codePoints.length === 0) {
    throw badInput(`the corpus is empty (${text.sources.join(", ")})`, "give charnn train a file with some text in it", { code: "corpus.empty" });
  }
  const length = text.codePoints.length;
  const fingerprint = fingerprintCodePoints(text.codePoints);
  const vocabulary = vocabularyFor(start, text.codePoints, fingerprint, `${nameOf("initFrom")} ${requested.out.replace(/\/+$/, "")}/latest.json ${nameOf("out")} NEWDIR`, warn);
  const encoded = encodeInPlace(text.codePoints, vocabulary);

  let train: Uint32Array, validation: Uint32Array;
  if (config.valFile) {
    const validationText = await input.readValidation(config.valFile);
    // Asked for by name, so an empty one is a mistake, not a wish to skip validation.
    if (validationText.codePoints.length === 0) {
      throw badInput(`the validation text is empty (${validationText.sources.join(", ")})`, `give ${nameOf("valFile")} a file with text, or leave it out to hold out ${nameOf("valFrac")} of the corpus`, {
        code: "corpus.empty",
      });
    }
    const { indices, unknown } = vocabulary.encode(validationText.codePoints);
    if (unknown.size > 0) warn(`${config.valFile}: ${[...unknown.values()].reduce((a, b) => a + b, 0)} characters not in the training text are left out of validation`);
    train = encoded;
    validation = indices;
  } else {
    ({ train, validation } = splitValidation(encoded, config.valFrac));
  }

  // A new run with only a time budget and no model shape: time a few shapes on this text and
  // these kernels, then train the chosen one for the rest of the budget (chooser.ts, docs/TUNING.md).
  const choosesForBudget = budgetChoiceApplies(config, input.given, start.kind === "new");
  let choice: PlannedChoice | null = null;
  let reservedMs = 0;
  if (choosesForBudget && !config.dryRun && input.calibration) {
    const decision = calibrateForBudget({ config, train, validationChars: validation.length, vocabularySize: vocabulary.size, ...input.calibration });
    const applied = applyChoice(config, decision.choice.settings, input.given);
    config = applied.config;
    choice = { ...decision.choice, chosen: applied.chosen };
    reservedMs = decision.calibrationMs + decision.finishMs;
  }
  const lengthGiven = input.given.has("steps") || input.given.has("epochs");
  if (start.kind === "resume" && input.given.has("time") && !lengthGiven && config.steps > 0 && config.lrSchedule === "cosine") {
    warn(`the learning-rate schedule still ends at step ${formatCount(config.steps)}, as recorded: ${nameOf("time")} only cuts this invocation off; to train longer give ${nameOf("steps")} N (the schedule then stretches to N, so the run is no longer exact)`);
  }

  // A text too short for the batch and window trains with smaller ones the user left open (small-text.ts).
  const fitted = shapeForText(train.length, config, input.given, nameOf);
  if (fitted.note !== null) warn(fitted.note);
  config = { ...config, ...fitted.shape };
  const model = modelConfigOf(config, vocabulary.size);
  checkCheckpointFits(config, parameterCount(model), input.maxCheckpointChars, nameOf);
  const windowsPerEpoch = new StreamBatcher(train, config.batch, config.seqLen).windowsPerEpoch;
  return {
    config,
    start,
    inexact,
    vocabulary,
    train,
    validation,
    corpus: { fingerprint, length },
    settingSources: { ...settingSourcesFor(config, input.given, inheritedSources(start)), ...Object.fromEntries([...(choice?.chosen ?? []), ...fitted.chosen].map((key) => [key, "chosen" as const])) },
    model,
    windowsPerEpoch,
    totalSteps: totalSteps({ steps: config.steps, epochs: config.epochs, timeMs: null, patience: 0 }, windowsPerEpoch),
    choice,
    choosesForBudget,
    reservedMs,
  };
}

/** The sources a start carries over: the resumed run's, or the model shape's from a fine-tune's checkpoint. */
function inheritedSources(start: RunStart): Record<string, SettingSource> {
  if (start.kind === "resume") return start.checkpoint.settingSources;
  if (start.kind === "init") return Object.fromEntries(MODEL_SHAPE_KEYS.map((key) => [key, start.checkpoint.settingSources[key] ?? "default"]));
  return {};
}

/** A resumed run keeps its vocabulary (and its text), a fine-tune extends it, a new run builds one. */
/** `fineTune` is the hint's way to a new run from this one's weights, in the caller's spelling. */
function vocabularyFor(start: RunStart, codePoints: Uint32Array, fingerprint: string, fineTune: string, warn: (message: string) => void): Vocabulary {
  if (start.kind === "resume") {
    const saved = start.checkpoint.corpus;
    if (saved.fingerprint !== fingerprint) {
      throw badInput(
        `the text differs from the text this run was trained on (${codePoints.length} characters, ${saved.length} before)`,
        `to train on new text from this run's weights, start a new run: ${fineTune}`,
        { code: "run.text-differs", facts: { length: codePoints.length, savedLength: saved.length } },
      );
    }
    return new Vocabulary(start.checkpoint.vocabulary);
  }
  if (start.kind === "init") {
    const extended = new Vocabulary(start.checkpoint.vocabulary).extendedWith(codePoints);
    const vocabulary = extended.vocabulary;
    const added = extended.added;
    if (added.length > 0) warn(`the vocabulary grows by ${added.length} new characters: ${added.slice(0, 10).map((c) => vocabulary.describe(c)).join(", ")}${added.length > 10 ? ", …" : ""}`);
    return vocabulary;
  }
  return Vocabulary.fromCodePoints(codePoints);
}

/**
 * The text as vocabulary indices, written over its code points: once fingerprinted and counted
 * they are not needed, and a second array of 4 bytes a character would double the text's share
 * of memory (400 MB more for a 100 MB corpus). Every character is in the vocabulary here: it was
 * built from this text, extended with it, or checked against it by the fingerprint.
 */
function encodeInPlace(codePoints: Uint32Array, vocabulary: Vocabulary): Uint32Array {
  for (let i = 0; i < codePoints.length; i++) {
    const index = vocabulary.indexOf(codePoints[i]!);
    if (index < 0) throw new Error(`character U+${codePoints[i]!.toString(16)} at ${i} is not in the vocabulary`);
    codePoints[i] = index;
  }
  return codePoints;
}

export function optimizerSettings(config: TrainConfig): OptimizerSettings {
  return { ...optimizerDefaults(config.optimizer), momentum: config.optimizer === "sgd" ? config.momentum : 0, weightDecay: config.weightDecay };
}

export function scheduleOf(config: TrainConfig, windowsPerEpoch: number): Schedule {
  return {
    kind: config.lrSchedule,
    baseLr: config.lr,
    decay: config.lrDecay,
    decayEvery: config.lrDecayEvery,
    warmup: config.warmup,
    totalSteps: totalSteps({ steps: config.steps, epochs: config.epochs, timeMs: null, patience: 0 }, windowsPerEpoch),
  };
}

/**
 * Node's longest string on 64-bit builds (node:buffer's constants.MAX_STRING_LENGTH, 2^29 - 24
 * in node 20), for callers that cannot ask node; the Node layer passes the real constant.
 */
export const NODE_MAX_STRING_LENGTH = 2 ** 29 - 24;

/**
 * A checkpoint is one JSON text, and its writer can hold at most `maxChars` characters in one
 * string. A model whose weights and optimiser state, in base64, pass that could never be saved:
 * refuse it before training, not at its first save hours later.
 */
/** The base64 characters of `floats` float32 values: the bulk of a checkpoint's text. */
export const checkpointCharacters = (floats: number): number => Math.ceil((floats * 4) / 3) * 4;

/** The most tensor text a checkpoint may hold under a string limit: the rest of the document (config, vocabulary, history) is small beside it. */
export const checkpointCharacterLimit = (maxChars: number): number => Math.floor(maxChars * 0.95);

export function checkCheckpointFits(config: TrainConfig, parameters: number, maxChars: number, nameOf: (key: string) => string = flagName): void {
  const floats = parameters * (1 + Optimizer.bufferNames(optimizerSettings(config)).length);
  const characters = checkpointCharacters(floats);
  const limit = checkpointCharacterLimit(maxChars);
  if (characters > limit) {
    const mb = (n: number) => `${formatCount(n / 1e6)} MB`;
    throw usageError(
      `this model's checkpoint would be about ${mb(characters)} of text, more than the ${mb(limit)} node can hold in one string`,
      `${formatCount(parameters)} parameters with ${config.optimizer}: lower ${nameOf("hidden")} or ${nameOf("layers")} (or ${nameOf("embed")}) to about ${formatCount(Math.floor((parameters * limit) / characters))} parameters`,
      { code: "run.checkpoint-too-large", facts: { parameters, characters, limit } },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// the dry run
// ---------------------------------------------------------------------------------------------

export interface DryRunEstimate {
  start: string;
  parameters: number;
  vocabularySize: number;
  trainChars: number;
  validationChars: number;
  windowsPerEpoch: number;
  totalSteps: number | null;
  memoryBytes: { model: number; corpus: number; total: number };
  /** True when training would first choose the model and schedule for the --time budget. */
  choosesForBudget: boolean;
  config: TrainConfig;
}

/** What a run would be and hold in memory, without building it. */
export function dryRunEstimate(plan: RunPlan): DryRunEstimate {
  const { config, model, start } = plan;
  const parameters = parameterCount(model);
  const validationStreams = Math.min(config.batch, Math.floor(plan.validation.length / (config.seqLen + 1)));
  const floats =
    CharModel.arenaFloats(model, "float32") +
    Workspace.arenaFloats(model, config.batch, config.seqLen, "float32") +
    // The same sizes the Trainer takes (its validation workspace is built on the training model).
    (validationStreams > 0 ? Workspace.arenaFloats(model, validationStreams, config.seqLen, "float32") : 0) +
    Optimizer.arenaFloats(optimizerSettings(config), parameters, "float32") +
    Sampler.arenaFloats(model, "float32");
  const modelBytes = floats * 4;
  // The text as indices, 4 bytes a character (encoded over its decoded code points).
  const corpusBytes = (plan.train.length + plan.validation.length) * 4;
  return {
    start: start.kind === "resume" ? `resume from step ${start.checkpoint.step}` : start.kind === "init" ? `new run from the weights of ${start.path}` : "new run",
    parameters,
    vocabularySize: plan.vocabulary.size,
    trainChars: plan.train.length,
    validationChars: plan.validation.length,
    windowsPerEpoch: plan.windowsPerEpoch,
    totalSteps: plan.totalSteps,
    memoryBytes: { model: modelBytes, corpus: corpusBytes, total: modelBytes + corpusBytes },
    choosesForBudget: plan.choosesForBudget,
    config,
  };
}

// ---------------------------------------------------------------------------------------------
// training
// ---------------------------------------------------------------------------------------------

export interface RunHooks {
  emit(event: TrainEvent): void;
  /**
   * Writes the checkpoint; returns the path (or name) of the latest one, for checkpoint events.
   * With `bestOnly` (a new best between checkpoints, see loop.ts) best.json alone, and its path.
   */
  save(state: CheckpointState, isBest: boolean, bestOnly?: boolean): Promise<string>;
  /** Milliseconds, monotonic. */
  now(): number;
  /** Finish the current step, save and stop once this says so (or `signal` is aborted). */
  interrupted?(): boolean;
  signal?: AbortSignal;
  /** Called once the trainer is built, just before the first step; returns its release (a lock). */
  acquire?(): Promise<() => Promise<void>>;
  /** The command line this invocation was started with, recorded in every checkpoint. */
  command: string[];
  /** What only the host can say (charnn's version, node's, the platform), for the checkpoint's record. */
  host: HostFacts;
  /** The wall-clock time as ISO text, for the checkpoint's record. */
  isoNow(): string;
  /** The corpus's inputs as given, made absolute ("-" for standard input); [] when they have no path. */
  corpusPaths?: string[];
}

/** How a run ended. */
export interface RunEnd {
  reason: EndReason;
  step: number;
  /** The last training loss (NaN or Infinity when the run diverged). */
  lastLoss: number;
  config: TrainConfig;
}

/**
 * Fine-tuning: copy a checkpoint's weights into a fresh model whose vocabulary may be larger.
 * Rows and columns indexed by character move to the character's new index; the new characters
 * keep their fresh initialisation.
 */
export function transplantWeights(model: CharModel, checkpoint: Pick<CheckpointState, "vocabulary" | "params">, vocabulary: Vocabulary): void {
  const oldVocabulary = checkpoint.vocabulary;
  const newIndex = oldVocabulary.map((cp) => vocabulary.indexOf(cp));
  const V0 = oldVocabulary.length, V = vocabulary.size;
  for (const view of model.params.views) {
    const source = checkpoint.params[view.name]!;
    const perCharacterRows = view.name === "embedding.weight" || view.name === "decoder.weight" || view.name === "decoder.bias";
    const perCharacterColumns = view.name === "weight_ih_l0" && model.config.embed === 0;
    if (perCharacterRows) {
      const width = view.value.length / V;
      for (let i = 0; i < V0; i++) view.value.set(source.data.subarray(i * width, (i + 1) * width), newIndex[i]! * width);
    } else if (perCharacterColumns) {
      const rows = view.shape[0]!;
      for (let r = 0; r < rows; r++) for (let i = 0; i < V0; i++) view.value[r * V + newIndex[i]!] = source.data[r * V0 + i]!;
    } else {
      view.value.set(source.data);
    }
  }
}

/** The trainer a plan calls for, with the run's state restored or the weights transplanted. */
export function buildTrainer(plan: RunPlan, kernels: Kernels, warn: (message: string) => void, nameOf: (key: string) => string = flagName): { trainer: Trainer; progress: Progress } {
  const { config, start } = plan;
  const options: TrainerOptions = {
    model: plan.model,
    batch: config.batch,
    seqLen: config.seqLen,
    optimizer: optimizerSettings(config),
    schedule: scheduleOf(config, plan.windowsPerEpoch),
    clip: { mode: config.clipMode, limit: config.clip },
    seed: config.seed,
    kernels,
  };
  const trainer = new Trainer(options, plan.train, plan.validation);
  const progress: Progress = { train: [], validation: [], bestValidationLoss: null };
  if (start.kind === "resume") {
    const c = start.checkpoint;
    trainer.restoreParameters(c.params);
    trainer.restore({
      step: c.step,
      cursor: c.cursor,
      optimizer: { type: c.optimizer.type as OptimizerSettings["type"], step: c.optimizer.step, buffers: c.optimizer.buffers },
      rng: c.rng as never,
      hiddenState: c.hiddenState ?? new Float32Array(0),
    });
    progress.train = c.history.train;
    progress.validation = c.history.validation;
    progress.bestValidationLoss = c.bestValidationLoss;
    if (plan.inexact.length > 0) warn(`${plan.inexact.map(nameOf).join(", ")} changed on resume: training continues, but not as the uninterrupted run would have`);
    const runtime = c.runtime;
    if (runtime.variant !== kernels.name || runtime.threads !== kernels.threads) {
      warn(`this run was trained with backend ${runtime.backend} and ${runtime.threads} thread(s); resuming with ${kernels.name} and ${kernels.threads} is not bit-identical`);
    }
  } else if (start.kind === "init") {
    transplantWeights(trainer.model, start.checkpoint, plan.vocabulary);
  }
  const note = describeSchedule(options.schedule);
  if (note) warn(note);
  return { trainer, progress };
}

/**
 * The re-timing of a run that chose its settings for the budget in this invocation: after its
 * first few steps, and half-way, it plans the step count again from their measured time (chooser.ts). A resumed
 * run keeps the count its checkpoint recorded, so that it continues exactly.
 */
function retimeFor(plan: RunPlan, trainer: Trainer, moved: (steps: number) => void): Retime | undefined {
  const { config } = plan;
  const atSteps = plan.choice !== null && config.time !== null && config.steps > 0 ? retimeSteps(config.steps) : [];
  if (atSteps.length === 0) return undefined;
  const overheadCharsPerStep = config.evalEvery > 0 ? trainer.validationChars / config.evalEvery / 3 : 0;
  return {
    atSteps,
    plan: (stepsDone, timedSteps, stepMs, timeLeftMs) => retimedSteps({ stepsDone, timedSteps, stepMs, timeLeftMs, overheadCharsPerStep, charsPerStep: trainer.charsPerStep }),
    apply: (steps) => {
      trainer.rescheduleTo(steps);
      moved(steps);
    },
  };
}

/** Trains a plan on `kernels` until a limit, an interruption or divergence; saves through hooks. */
export async function train(plan: RunPlan, kernels: Kernels, hooks: RunHooks, nameOf: (key: string) => string = flagName): Promise<RunEnd> {
  const { vocabulary } = plan;
  // A budget run that re-times itself (retimeFor) moves its step count: what is saved follows.
  let config = plan.config;
  let scheduleSteps = plan.totalSteps;
  let choiceRecord = plan.choice !== null ? { reason: plan.choice.reason, measured: { ...plan.choice.measured } } : null;
  const warn = (message: string) => hooks.emit(trainEvent({ type: "warning", message }));
  const { trainer, progress } = buildTrainer(plan, kernels, warn, nameOf);
  const release = hooks.acquire ? await hooks.acquire() : async () => {};
  try {
    const start = plan.start;
    const invocation = { argv: hooks.command, startedAt: hooks.isoNow(), fromStep: start.kind === "resume" ? start.checkpoint.step : 0 };
    const invocations = [...(start.kind === "resume" ? start.checkpoint.invocations : []), invocation];
    // A start state for unprimed samples, recorded from the training text at every save (start-state.ts).
    const startStates = new StartStateRecorder(trainer.model, kernels, {
      refineSteps: refineStepsFor(trainer.model.params.size, config.checkpointEvery, trainer.charsPerStep),
    });
    const newline = vocabulary.indexOf(0x0a);
    const startState = () => {
      const states = newline < 0 ? null : startStates.record(plan.train, newline);
      return states === null ? null : startStateRecord(states, config.layers, config.hidden);
    };
    const buildState = (): CheckpointState =>
      trainingCheckpoint(trainer, {
        startState: startState(),
        config,
        settingSources: plan.settingSources,
        vocabulary,
        invocations,
        history: { train: progress.train, validation: progress.validation },
        bestValidationLoss: progress.bestValidationLoss,
        corpus: { ...plan.corpus, paths: hooks.corpusPaths ?? [] },
        schedule: { totalSteps: scheduleSteps },
        // A resumed budget run keeps the record of the choice its first invocation made.
        choice: choiceRecord ?? (start.kind === "resume" ? start.checkpoint.choice : null),
        kernels,
        host: hooks.host,
        createdAt: hooks.isoNow(),
      });

    hooks.emit(trainEvent({
      type: "start",
      config,
      parameterCount: trainer.model.params.size,
      vocabularySize: vocabulary.size,
      trainChars: plan.train.length,
      validationChars: trainer.validationChars,
      resumedFromStep: plan.start.kind === "resume" ? trainer.step : null,
      totalSteps: plan.totalSteps,
      choice: plan.choice,
    }));
    if (plan.validation.length > 0 && trainer.validationChars === 0) {
      warn(`the validation text (${plan.validation.length} characters) is shorter than one window of ${config.seqLen + 1}: no validation`);
    }

    const startCharacter = Math.max(0, vocabulary.indexOf(0x0a));
    const interrupted = () => hooks.signal?.aborted === true || hooks.interrupted?.() === true;
    const reason = await runLoop(
      trainer,
      progress,
      // The calibration counts inside the budget.
      {
        steps: config.steps,
        epochs: config.epochs,
        timeMs: config.time === null ? null : Math.max(1, config.time - plan.reservedMs),
        patience: config.patience,
        retime: retimeFor(plan, trainer, (steps) => {
          config = { ...config, steps };
          scheduleSteps = steps;
          if (choiceRecord !== null) choiceRecord.measured.retimedSteps = steps;
        }),
      },
      { evalEvery: config.evalEvery, checkpointEvery: config.checkpointEvery, sampleEvery: config.sampleEvery, logEvery: Math.max(1, config.logEvery) },
      {
        emit: hooks.emit,
        save: (isBest, bestOnly) => hooks.save(buildState(), isBest, bestOnly),
        sample: () =>
          generateText(trainer.sampler(), vocabulary, {
            length: config.sampleLength,
            policy: { temperature: 0.8, topK: 0, topP: 1 },
            // Its own generator, so previews never change the training run's random stream.
            rng: createRng(`sample-${trainer.step}`),
            primeTokens: [startCharacter],
          }).text,
        now: hooks.now,
        interrupted,
      },
    );
    return { reason, step: trainer.step, lastLoss: trainer.lastLoss, config };
  } finally {
    await release();
  }
}
