// `charnn train`: from text on disk or stdin to checkpoints, resumable exactly. This file wires
// the pieces together — corpus, vocabulary, a new, resumed or fine-tuned run, the lock, signals,
// the reporter — and maps how the run ended to an exit code. The numeric work is in
// src/core/train; the file format in src/core/checkpoint.

import { constants as bufferConstants } from "node:buffer";
import { existsSync } from "node:fs";
import path from "node:path";
import { fineTuneSettings, flagName, readSavedConfig, resumeSettings, type TrainConfig } from "../core/settings.js";
import { StreamBatcher, splitValidation } from "../core/data/batches.js";
import { STDIN_INPUT, readCorpus } from "../node/corpus.js";
import { commandLine } from "./checkpoint-arg.js";
import { corpusNotes } from "./corpus-notes.js";
import { fingerprintCodePoints } from "../core/data/fingerprint.js";
import { Vocabulary } from "../core/data/vocab.js";
import { badInput, CharnnError, ExitCode, usageError } from "../core/errors.js";
import type { CheckpointState } from "../core/checkpoint/format.js";
import { expectedShapes, modelConfigOf, trainingCheckpoint } from "../core/checkpoint/model.js";
import { acquireLock, faultsFromEnv, loadCheckpoint, nodeAtomicFs, saveCheckpoint, withFaults, writeFileAtomic, type AtomicFs } from "../node/store.js";
import { encodeCheckpoint } from "../core/checkpoint/format.js";
import { CharModel, Workspace } from "../core/nn/model.js";
import { parameterCount } from "../core/nn/params.js";
import { Optimizer, optimizerDefaults, type OptimizerSettings } from "../core/optim/optimizers.js";
import { describeSchedule, type Schedule } from "../core/optim/schedule.js";
import { createRng } from "../core/tensor/rng.js";
import { Sampler } from "../core/sample/sampler.js";
import { generateText } from "../core/sample/text.js";
import { runLoop, totalSteps, type Progress } from "../core/train/loop.js";
import { trainEvent } from "../core/train/events.js";
import { Trainer, type TrainerOptions } from "../core/train/trainer.js";
import { selectKernels } from "../node/backend.js";
import type { CliIO, SignalName } from "./io.js";
import { watchForClosedPipe, writeOut } from "./io.js";
import { createReporter } from "./reporter.js";

const MAX_STRING_LENGTH = bufferConstants.MAX_STRING_LENGTH;

function optimizerSettings(config: TrainConfig): OptimizerSettings {
  return { ...optimizerDefaults(config.optimizer), momentum: config.optimizer === "sgd" ? config.momentum : 0, weightDecay: config.weightDecay };
}

function scheduleOf(config: TrainConfig, windowsPerEpoch: number): Schedule {
  return {
    kind: config.lrSchedule,
    baseLr: config.lr,
    decay: config.lrDecay,
    decayEvery: config.lrDecayEvery,
    warmup: config.warmup,
    totalSteps: totalSteps({ steps: config.steps, epochs: config.epochs, timeMs: null, patience: 0 }, windowsPerEpoch),
  };
}

/** Where a run starts: nothing, its own latest checkpoint, or another run's weights. */
type Origin =
  | { kind: "new" }
  | { kind: "resume"; checkpoint: CheckpointState; inexact: (keyof TrainConfig)[] }
  | { kind: "init"; checkpoint: CheckpointState; path: string };

const loadFor = (file: string) => loadCheckpoint(file, { expectedShapes });

export async function runTrain(requested: TrainConfig, inputs: string[], io: CliIO, explicit: ReadonlySet<string> = new Set()): Promise<number> {
  const out = path.resolve(io.cwd, requested.out);
  const latestPath = path.join(out, "latest.json");
  // Progress on stderr is a courtesy: when its reader goes away (`2>&1 | head`), the EPIPE must
  // not end the run before its checkpoints are written, so stderr gets an error listener too.
  watchForClosedPipe(io.stderr);
  if (requested.quiet && requested.verbose) throw usageError("--quiet and --verbose cannot be used together", "leave out one of them");
  const reporter = createReporter(io, { json: requested.json, logEvery: requested.logEvery, quiet: requested.quiet, verbose: requested.verbose });
  const warn = (message: string) => reporter.event(trainEvent({ type: "warning", message }));

  if (requested.resume && requested.initFrom) throw usageError("--resume and --init-from cannot be used together", "--resume continues a run; --init-from starts a new one from its weights");

  // Where the run starts, and so which config holds.
  let origin: Origin = { kind: "new" };
  let config = requested;
  if (requested.resume && existsSync(latestPath)) {
    const checkpoint = await loadFor(latestPath);
    const resumed = resumeSettings(readSavedConfig(checkpoint.config), requested, explicit);
    config = resumed.config;
    origin = { kind: "resume", checkpoint, inexact: resumed.inexact };
  } else if (requested.resume) {
    warn(`nothing to resume in ${requested.out}: starting a new run`);
  } else if (existsSync(latestPath) && !requested.dryRun) {
    // While a live run holds the folder (cron fired again), that is what the user needs to hear:
    // taking the lock says so with exit 5, and otherwise it is given straight back.
    await (await acquireLock(out))();
    throw usageError(
      `${requested.out} already holds a run (latest.json)`,
      "add --resume to continue it, use --out DIR for a new run, or delete the folder",
    );
  } else if (requested.initFrom) {
    const file = path.resolve(io.cwd, requested.initFrom);
    const checkpoint = await loadFor(file);
    config = fineTuneSettings(readSavedConfig(checkpoint.config), requested, explicit);
    origin = { kind: "init", checkpoint, path: requested.initFrom };
  }

  // The text, its vocabulary, and the split.
  const corpus = await readCorpus(inputs, { stdin: io.stdin, cwd: io.cwd });
  for (const note of corpusNotes(corpus)) warn(note);
  if (corpus.codePoints.length === 0) throw badInput(`the corpus is empty (${corpus.sources.join(", ") || inputs.join(", ")})`, "give charnn train a file with some text in it");
  const fingerprint = fingerprintCodePoints(corpus.codePoints);

  let vocabulary: Vocabulary;
  if (origin.kind === "resume") {
    const saved = origin.checkpoint.corpus;
    if (saved.fingerprint !== fingerprint) {
      throw badInput(
        `the text differs from the text this run was trained on (${corpus.codePoints.length} characters, ${saved.length} before)`,
        "to train on new text from this run's weights, start a new run: --init-from " + path.join(requested.out, "latest.json") + " --out NEWDIR",
      );
    }
    vocabulary = new Vocabulary(origin.checkpoint.vocabulary);
  } else if (origin.kind === "init") {
    const extended = new Vocabulary(origin.checkpoint.vocabulary).extendedWith(corpus.codePoints);
    vocabulary = extended.vocabulary;
    if (extended.added.length > 0) warn(`the vocabulary grows by ${extended.added.length} new characters: ${extended.added.slice(0, 10).map((c) => vocabulary.describe(c)).join(", ")}${extended.added.length > 10 ? ", …" : ""}`);
  } else {
    vocabulary = Vocabulary.fromCodePoints(corpus.codePoints);
  }
  const encoded = encodeInPlace(corpus.codePoints, vocabulary);
  let train: Uint32Array, validation: Uint32Array;
  if (config.valFile) {
    // Standard input can be read once: as the training text it would leave nothing to validate on.
    if (config.valFile === STDIN_INPUT && inputs.includes(STDIN_INPUT)) {
      throw usageError(`"-" (standard input) cannot be both the training text and --val-file`, "put the validation text in a file");
    }
    const valCorpus = await readCorpus([config.valFile], { stdin: io.stdin, cwd: io.cwd });
    // Asked for by name, so an empty one is a mistake, not a wish to skip validation.
    if (valCorpus.codePoints.length === 0) {
      throw badInput(`the validation text is empty (${valCorpus.sources.join(", ")})`, "give --val-file a file with text, or leave it out to hold out --val-frac of the corpus");
    }
    const { indices, unknown } = vocabulary.encode(valCorpus.codePoints);
    if (unknown.size > 0) warn(`${config.valFile}: ${[...unknown.values()].reduce((a, b) => a + b, 0)} characters not in the training text are left out of validation`);
    train = encoded;
    validation = indices;
  } else {
    ({ train, validation } = splitValidation(encoded, config.valFrac));
  }

  const modelConfig = modelConfigOf(config, vocabulary.size);
  checkCheckpointFits(config, parameterCount(modelConfig));
  const windows = new StreamBatcher(train, config.batch, config.seqLen).windowsPerEpoch;

  if (config.dryRun) {
    await writeOut(io, dryRunReport(config, vocabulary, train.length, validation.length, windows, origin, requested.json));
    return ExitCode.ok;
  }

  // Chosen once the text and any checkpoint have been read (so a bad input never starts worker
  // threads), from the run's own config: a resume keeps the backend and threads it was trained with.
  const kernels = selectKernels(config.backend, config.threads);
  try {
    const trainerOptions: TrainerOptions = {
      model: modelConfig,
      batch: config.batch,
      seqLen: config.seqLen,
      optimizer: optimizerSettings(config),
      schedule: scheduleOf(config, windows),
      clip: { mode: config.clipMode, limit: config.clip },
      seed: config.seed,
      kernels,
    };

    const trainer = new Trainer(trainerOptions, train, validation);
    const progress: Progress = { train: [], validation: [], bestValidationLoss: null };
    if (origin.kind === "resume") {
      const c = origin.checkpoint;
      trainer.restoreParameters(c.params);
      trainer.restore({ step: c.step, cursor: c.cursor, optimizer: { type: c.optimizer.type as OptimizerSettings["type"], step: c.optimizer.step, buffers: c.optimizer.buffers }, rng: c.rng as never, hiddenState: c.hiddenState ?? new Float32Array(0) });
      progress.train = c.history.train;
      progress.validation = c.history.validation;
      progress.bestValidationLoss = c.bestValidationLoss;
      if (origin.inexact.length > 0) warn(`${origin.inexact.map(flagName).join(", ")} changed on resume: training continues, but not as the uninterrupted run would have`);
      const runtime = c.runtime;
      if (runtime.backend !== kernels.name || runtime.threads !== kernels.threads) warn(`this run was trained with backend ${runtime.backend} and ${runtime.threads} thread(s); resuming with ${kernels.name} and ${kernels.threads} is not bit-identical`);
    } else if (origin.kind === "init") {
      transplantWeights(trainer.model, origin.checkpoint, vocabulary);
    }
    const note = describeSchedule(trainerOptions.schedule);
    if (note) warn(note);

    const release = await acquireLock(out);
    const fsImpl = withFaults(nodeAtomicFs, faultsFromEnv(io.env));
    let received: SignalName | null = null;
    const exitCodeOf = (name: SignalName) => (name === "SIGTERM" ? ExitCode.sigterm : name === "SIGHUP" ? ExitCode.sighup : ExitCode.sigint);
    const onSignal = (name: SignalName) => () => {
      if (received !== null) {
        // The second signal: stop now. Checkpoints are only ever replaced by rename, so none is damaged.
        if (io.signals === process) process.exit(exitCodeOf(name));
        return;
      }
      received = name;
      if (name === "SIGHUP") {
        // The terminal is gone: what is still written to it may fail, and must not stop the save.
        io.stderr.on("error", () => {});
        if (io.stdoutIsTTY) io.stdout.on("error", () => {});
      }
      warn(`${name}: finishing this step and saving a checkpoint (send it again to stop at once)`);
    };
    const handlers = { SIGINT: onSignal("SIGINT"), SIGTERM: onSignal("SIGTERM"), SIGHUP: onSignal("SIGHUP") };
    for (const name of ["SIGINT", "SIGTERM", "SIGHUP"] as const) io.signals?.on(name, handlers[name]);

    try {
      const buildState = (): CheckpointState => trainingCheckpoint(trainer, {
        config, vocabulary, command: process.argv.slice(2),
        history: { train: progress.train, validation: progress.validation },
        bestValidationLoss: progress.bestValidationLoss,
        corpus: { fingerprint, length: corpus.codePoints.length },
        kernels,
      });

      reporter.event(trainEvent({
        type: "start",
        config,
        parameterCount: trainer.model.params.size,
        vocabularySize: vocabulary.size,
        trainChars: train.length,
        validationChars: trainer.validationChars,
        resumedFromStep: origin.kind === "resume" ? trainer.step : null,
        totalSteps: totalSteps({ steps: config.steps, epochs: config.epochs, timeMs: null, patience: 0 }, windows),
      }));
      if (validation.length > 0 && trainer.validationChars === 0) warn(`the validation text (${validation.length} characters) is shorter than one window of ${config.seqLen + 1}: no validation`);

      const startCharacter = Math.max(0, vocabulary.indexOf(0x0a));
      const reason = await runLoop(trainer, progress, {
        steps: config.steps, epochs: config.epochs, timeMs: config.time, patience: config.patience,
      }, {
        evalEvery: config.evalEvery, checkpointEvery: config.checkpointEvery, sampleEvery: config.sampleEvery, logEvery: Math.max(1, config.logEvery),
      }, {
        emit: (event) => reporter.event(event),
        save: async (isBest, bestOnly) =>
          bestOnly === true
            ? await saveBestCheckpoint(out, buildState(), fsImpl)
            : (await saveCheckpoint(out, buildState(), { keep: config.keep, isBest, fsImpl })).latest,
        sample: () => generateText(trainer.sampler(), vocabulary, {
          length: config.sampleLength, policy: { temperature: 0.8, topK: 0, topP: 1 },
          // Its own generator, so previews never change the training run's random stream.
          rng: createRng(`sample-${trainer.step}`), primeTokens: [startCharacter],
        }).text,
        now: () => performance.now(),
        interrupted: () => received !== null,
      });
      reporter.close();
      if (reason === "diverged") {
        throw new CharnnError(
          `training diverged at step ${trainer.step}: the loss became ${Number.isFinite(trainer.lastLoss) ? "too large" : "non-finite"}; the last checkpoint is untouched`,
          ExitCode.diverged,
          `lower --lr (now ${config.lr}) or clip harder with --clip (now ${config.clip}), then --resume`,
        );
      }
      if (reason === "interrupted") {
        // After the end event, on stderr whatever the reporter: a person is reading it.
        if (!requested.quiet) io.stderr.write(`to continue this run: ${commandLine(["train", ...inputs, "--out", requested.out, "--resume"])}\n`);
        return exitCodeOf(received ?? "SIGINT");
      }
      return ExitCode.ok;
    } finally {
      reporter.close();
      for (const name of ["SIGINT", "SIGTERM", "SIGHUP"] as const) io.signals?.off(name, handlers[name]);
      await release();
    }
  } finally {
    kernels.dispose();
  }
}

/**
 * A checkpoint is one JSON text, and node holds at most MAX_STRING_LENGTH characters in a string
 * (2^29 - 24 on 64-bit node 20). A model whose weights and optimiser state, in base64, pass that
 * could never be saved: refuse it before training, not at its first save hours later.
 */
function checkCheckpointFits(config: TrainConfig, parameters: number): void {
  const floats = parameters * (1 + Optimizer.bufferNames(optimizerSettings(config)).length);
  const characters = Math.ceil((floats * 4) / 3) * 4;
  // The rest of the document (config, vocabulary, history) is small beside the tensors.
  const limit = Math.floor(MAX_STRING_LENGTH * 0.95);
  if (characters > limit) {
    const mb = (n: number) => `${Math.round(n / 1e6).toLocaleString("en-US")} MB`;
    throw usageError(
      `this model's checkpoint would be about ${mb(characters)} of text, more than the ${mb(limit)} node can hold in one string`,
      `${parameters.toLocaleString("en-US")} parameters with ${config.optimizer}: lower --hidden or --layers (or --embed) to about ${Math.floor((parameters * limit) / characters).toLocaleString("en-US")} parameters`,
    );
  }
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

/**
 * Fine-tuning: copy a checkpoint's weights into a fresh model whose vocabulary may be larger.
 * Rows and columns indexed by character move to the character's new index; the new characters
 * keep their fresh initialisation.
 */
function transplantWeights(model: CharModel, checkpoint: CheckpointState, vocabulary: Vocabulary): void {
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

function dryRunReport(config: TrainConfig, vocabulary: Vocabulary, trainChars: number, validationChars: number, windows: number, origin: Origin, json: boolean): string {
  const modelConfig = modelConfigOf(config, vocabulary.size);
  const parameters = parameterCount(modelConfig);
  const settings = optimizerSettings(config);
  const validationStreams = Math.min(config.batch, Math.floor(validationChars / (config.seqLen + 1)));
  const floats =
    CharModel.arenaFloats(modelConfig, "float32") +
    Workspace.arenaFloats(modelConfig, config.batch, config.seqLen, "float32") +
    // The same sizes the Trainer takes (its validation workspace is built on the training model).
    (validationStreams > 0 ? Workspace.arenaFloats(modelConfig, validationStreams, config.seqLen, "float32") : 0) +
    Optimizer.arenaFloats(settings, parameters, "float32") +
    Sampler.arenaFloats(modelConfig, "float32");
  const modelBytes = floats * 4;
  // The text as indices, 4 bytes a character (encoded over its decoded code points).
  const corpusBytes = (trainChars + validationChars) * 4;
  const report = {
    start: origin.kind === "resume" ? `resume from step ${origin.checkpoint.step}` : origin.kind === "init" ? `new run from the weights of ${origin.path}` : "new run",
    parameters,
    vocabularySize: vocabulary.size,
    trainChars,
    validationChars,
    windowsPerEpoch: windows,
    totalSteps: totalSteps({ steps: config.steps, epochs: config.epochs, timeMs: null, patience: 0 }, windows),
    memoryBytes: { model: modelBytes, corpus: corpusBytes, total: modelBytes + corpusBytes },
    config,
  };
  if (json) return JSON.stringify(report) + "\n";
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
  return [
    `start        ${report.start}`,
    `model        ${config.model}${config.model === "rnn" ? ` (${config.activation})` : ""}, ${config.layers} layer(s) of ${config.hidden}, ${config.embed > 0 ? `embedding ${config.embed}` : "one-hot input"}, vocabulary ${vocabulary.size}`,
    `parameters   ${parameters.toLocaleString("en-US")}`,
    `text         ${trainChars.toLocaleString("en-US")} training characters, ${validationChars.toLocaleString("en-US")} validation`,
    `windows      ${windows.toLocaleString("en-US")} per epoch (${config.batch} streams x ${config.seqLen} steps)`,
    `steps        ${report.totalSteps === null ? "until the time budget ends" : report.totalSteps.toLocaleString("en-US")}`,
    `memory       about ${mb(report.memoryBytes.total)} (${mb(modelBytes)} weights, gradients, optimiser state and workspaces; ${mb(corpusBytes)} text)`,
    `config       ${JSON.stringify(config)}`,
    "",
  ].join("\n");
}

/** best.json alone, atomically: a new best validation loss between checkpoints. */
async function saveBestCheckpoint(dir: string, state: CheckpointState, fsImpl: AtomicFs): Promise<string> {
  const file = path.join(dir, "best.json");
  await writeFileAtomic(file, encodeCheckpoint(state), fsImpl);
  return file;
}

