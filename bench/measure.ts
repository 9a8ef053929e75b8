// Measures one charnn workload on one backend and thread count, in this process: training
// throughput, batch-1 sampling, the eval pass, checkpoint save and load, and the step's matrix
// products run alone. Built from the same pieces the CLI uses (Trainer, Sampler, the checkpoint
// format and store). Not the orchestration: child.ts runs this in a fresh process per workload
// (so peak RSS is the workload's own) and run.ts collects the results.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { TRAIN_DEFAULTS, type TrainConfig } from "../dist/core/config.js";
import { splitValidation } from "../dist/core/data/batches.js";
import { readCorpus } from "../dist/node/corpus.js";
import { fingerprintCodePoints } from "../dist/core/data/fingerprint.js";
import { Vocabulary } from "../dist/core/data/vocab.js";
import { CharnnError, ExitCode } from "../dist/core/errors.js";
import { encodeCheckpoint, type CheckpointState } from "../dist/core/checkpoint/format.js";
import { decodeCheckpoint, modelFromCheckpoint, validateCheckpoint } from "../dist/core/checkpoint/load.js";
import { modelConfigOf, settingSourcesFor, trainingCheckpoint } from "../dist/core/checkpoint/model.js";
import { hostFacts } from "../dist/node/host.js";
import { loadCheckpointFile, saveCheckpoint } from "../dist/node/store.js";
import { TextScorer } from "../dist/core/eval/score.js";
import { optimizerDefaults } from "../dist/core/optim/optimizers.js";
import { Sampler } from "../dist/core/sample/sampler.js";
import { generateText } from "../dist/core/sample/text.js";
import type { Kernels } from "../dist/core/tensor/kernels.js";
import { createRng } from "../dist/core/tensor/rng.js";
import { Trainer } from "../dist/core/train/trainer.js";
import type { CharnnRun } from "./results.js";
import { iterationsToFill, median, nowMs, timeMs, timeMsAsync } from "./timing.js";
import { kernelsFor, kernelThreads, releaseKernels, variantLabel, type Variant } from "./variants.js";
import { productFlops, productMix, WORKLOADS, type ProductShape, type Workload, type WorkloadId } from "./workloads.js";

/** Characters per eval window: what `charnn eval` feeds at a time (batch 1, state carried). */
export const EVAL_WINDOW = 256;
/** Held out for the eval measurement, as `charnn train`'s default --val-frac. */
const HELD_OUT_FRACTION = 0.05;
/** Training iterations a timed window may hold at most (C1 steps take tens of microseconds). */
const MAX_TRAIN_ITERATIONS = 100_000;
/** Timed batches per product shape when measuring the kernels alone; the fastest counts. */
const PRODUCT_BATCHES = 3;

export interface MeasureSpec extends Variant {
  workload: WorkloadId;
  corpusPath: string;
  /** Timed windows or runs per measurement; the median is reported. */
  windows: number;
  windowSeconds: number;
  sampleLength: number;
}

/** The settings a `charnn train` run of this workload would resolve to. */
export function trainConfigFor(workload: Workload, variant: Variant): TrainConfig {
  return {
    ...TRAIN_DEFAULTS,
    model: workload.cell, layers: workload.layers, hidden: workload.hidden,
    seqLen: workload.seqLen, batch: workload.batch, optimizer: workload.optimizer, lr: workload.lr,
    clip: workload.clip.limit, clipMode: workload.clip.mode, valFrac: HELD_OUT_FRACTION,
    backend: variant.backend, threads: variant.threads,
  };
}

/** A workload ready to train: the corpus read and split, a Trainer built as `charnn train` builds it. */
export interface PreparedWorkload {
  workload: Workload;
  kernels: Kernels;
  config: TrainConfig;
  vocabulary: Vocabulary;
  text: Uint32Array;
  /** The held-out tail, for the eval pass. */
  validation: Uint32Array;
  trainer: Trainer;
}

export async function prepareWorkload(workload: Workload, variant: Variant, corpusPath: string): Promise<PreparedWorkload> {
  const kernels = kernelsFor(variant);
  const threads = kernelThreads(kernels);
  if (threads !== variant.threads) throw new CharnnError(`backend ${variant.backend} runs on ${threads} thread(s), not ${variant.threads}`, ExitCode.usage);
  const corpus = await readCorpus([corpusPath]);
  const vocabulary = Vocabulary.fromCodePoints(corpus.codePoints);
  const { train, validation } = splitValidation(vocabulary.encode(corpus.codePoints).indices, HELD_OUT_FRACTION);
  const config = trainConfigFor(workload, variant);
  const trainer = new Trainer({
    model: modelConfigOf(config, vocabulary.size),
    batch: workload.batch,
    seqLen: workload.seqLen,
    optimizer: optimizerDefaults(workload.optimizer),
    schedule: { kind: "constant", baseLr: workload.lr, decay: 1, decayEvery: 1, warmup: 0, totalSteps: null },
    clip: workload.clip,
    seed: config.seed,
    kernels,
  }, train, new Uint32Array(0));
  return { workload, kernels, config, vocabulary, text: corpus.codePoints, validation, trainer };
}

export async function measureWorkload(spec: MeasureSpec, log: (line: string) => void): Promise<CharnnRun> {
  const workload = WORKLOADS[spec.workload];
  const tag = `[${workload.id} ${variantLabel(spec)}]`;
  const say = (line: string) => log(`${tag} ${line}`);
  const prepared = await prepareWorkload(workload, spec, spec.corpusPath);
  try {
    return await measurePrepared(prepared, spec, say);
  } finally {
    releaseKernels(prepared.kernels);
  }
}

async function measurePrepared(prepared: PreparedWorkload, spec: MeasureSpec, say: (line: string) => void): Promise<CharnnRun> {
  const { workload, trainer } = prepared;

  // Training: warm-up, then windows sized from the last warm-up step, as the peers time theirs.
  let stepMs = 0;
  for (let s = 0; s < workload.warmupSteps; s++) stepMs = timeMs(() => trainer.trainStep());
  const iterations = iterationsToFill(spec.windowSeconds, stepMs / 1000, MAX_TRAIN_ITERATIONS);
  say(`warm-up done (${workload.warmupSteps} steps, last ${stepMs.toFixed(1)} ms); ${iterations} steps per window`);
  const trainRates: number[] = [];
  for (let w = 0; w < spec.windows; w++) {
    const ms = timeMs(() => {
      for (let i = 0; i < iterations; i++) trainer.trainStep();
    });
    trainRates.push((trainer.charsPerStep * iterations) / (ms / 1000));
    say(`train window ${w + 1}/${spec.windows}: ${Math.round(trainRates[w]!)} chars/s (loss ${trainer.lastLoss.toFixed(3)})`);
  }

  // Checkpoint: this model's full training state through the format and the atomic store.
  const state = checkpointState(prepared);
  const checkpoint = await measureCheckpoint(state, spec.windows);
  say(`checkpoint ${(checkpoint.bytes / 1e6).toFixed(2)} MB: save ${checkpoint.saveMs.toFixed(1)} ms, load ${checkpoint.loadMs.toFixed(1)} ms`);

  // Sampling and eval run on the model loaded back from the checkpoint into a kernel set of their
  // own, as the commands do: not one whose threads a training run has just left waiting, or
  // (on a busy machine) running alone for a while.
  const inferenceKernels = kernelsFor(spec);
  try {
    return await measureInference(prepared, spec, say, inferenceKernels, { trainRates, iterations, checkpoint, state });
  } finally {
    releaseKernels(inferenceKernels);
  }
}

interface TrainingMeasured {
  trainRates: number[];
  iterations: number;
  checkpoint: CharnnRun["checkpoint"];
  state: CheckpointState;
}

async function measureInference(prepared: PreparedWorkload, spec: MeasureSpec, say: (line: string) => void, kernels: Kernels,
  { trainRates, iterations, checkpoint, state }: TrainingMeasured): Promise<CharnnRun> {
  const { workload, vocabulary, validation, trainer } = prepared;
  const loaded = modelFromCheckpoint(validateCheckpoint(state, "bench"), kernels);
  const sampler = new Sampler(loaded.model, kernels);
  const prime = [Math.max(0, vocabulary.indexOf(0x0a))];
  const policy = { temperature: 1, topK: 0, topP: 1 };
  generateText(sampler, vocabulary, { length: Math.min(200, spec.sampleLength), policy, rng: createRng("bench-warm-up"), primeTokens: prime });
  // A sampler that splits its steps starts the kernel threads only after a few hundred steps and
  // goes on alone while they boot: warm up until they are up (or for 2 s), and through their
  // first split steps, so the timed runs show sampling as a long sample runs it, not the
  // threads' one-time start.
  const threaded = kernels as Kernels & { threadsStarted?: boolean; threadsReady?: boolean };
  const warmUp = (length: number): void => void generateText(sampler, vocabulary, { length, policy, rng: createRng("bench-warm-up"), primeTokens: prime });
  for (const started = performance.now(); performance.now() - started < 2000;) {
    warmUp(500);
    if (!threaded.threadsStarted) break;
    if (threaded.threadsReady) {
      warmUp(spec.sampleLength);
      break;
    }
  }
  const sampleRates: number[] = [];
  for (let r = 0; r < spec.windows; r++) {
    const ms = timeMs(() => generateText(sampler, vocabulary, { length: spec.sampleLength, policy, rng: createRng(`bench-${r}`), primeTokens: prime }));
    sampleRates.push(spec.sampleLength / (ms / 1000));
    say(`sample run ${r + 1}/${spec.windows}: ${Math.round(sampleRates[r]!)} chars/s`);
  }

  const evalScorer = new TextScorer(loaded.model, kernels, undefined, EVAL_WINDOW);
  const availableWindows = Math.floor((validation.length - 1) / EVAL_WINDOW);
  if (availableWindows < 1) throw new CharnnError(`the held-out text is too short for one eval window of ${EVAL_WINDOW}`, ExitCode.badInput);
  const oneWindowMs = timeMs(() => evalLoss(evalScorer, validation.subarray(0, EVAL_WINDOW + 1)));
  const evalWindows = iterationsToFill(spec.windowSeconds, oneWindowMs / 1000, availableWindows);
  const evalText = validation.subarray(0, evalWindows * EVAL_WINDOW + 1);
  const evalRates: number[] = [];
  let evalResult = { chars: 0, lossSum: 0 };
  for (let r = 0; r < spec.windows; r++) {
    const ms = timeMs(() => { evalResult = evalLoss(evalScorer, evalText); });
    evalRates.push(evalResult.chars / (ms / 1000));
    say(`eval run ${r + 1}/${spec.windows}: ${Math.round(evalRates[r]!)} chars/s over ${evalResult.chars} chars`);
  }

  const mix = productMix(workload, vocabulary.size);
  const kernelGflops = productRate(prepared.kernels, mix, Math.min(0.5, spec.windowSeconds / 4));
  const stepFlops = mix.reduce((sum, shape) => sum + productFlops(shape), 0);
  const trainGflops = (median(trainRates) * stepFlops) / trainer.charsPerStep / 1e9;
  say(`matrix products alone: ${kernelGflops.toFixed(2)} GFLOP/s; training sustains ${trainGflops.toFixed(2)}`);

  return {
    workload: workload.id,
    backend: prepared.kernels.name,
    threads: kernelThreads(prepared.kernels),
    vocabularySize: vocabulary.size,
    train: { charsPerSecond: median(trainRates), windows: trainRates, itersPerWindow: iterations, finalLoss: trainer.lastLoss },
    sample: { charsPerSecond: median(sampleRates), runs: sampleRates, length: spec.sampleLength },
    eval: { charsPerSecond: median(evalRates), runs: evalRates, charsPerRun: evalResult.chars, loss: evalResult.lossSum / evalResult.chars },
    checkpoint,
    products: { kernelGflops, trainGflops },
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

/**
 * The eval pass as `charnn eval` runs it: a TextScorer over `tokens` (batch 1, one exact pass from
 * the initial state, every character but the first predicted once). Returns the characters
 * predicted and their summed loss (nats).
 */
export function evalLoss(scorer: TextScorer, tokens: Uint32Array): { chars: number; lossSum: number } {
  // The indices are below 2^31, so the same bytes read as Int32 are the same numbers.
  const { lossSum, predictions } = scorer.score(new Int32Array(tokens.buffer, tokens.byteOffset, tokens.length));
  return { chars: predictions, lossSum };
}

/** What `charnn train` would save for this workload's trainer now. */
export function checkpointState({ trainer, config, vocabulary, text, kernels }: PreparedWorkload): CheckpointState {
  return trainingCheckpoint(trainer, {
    config, vocabulary, settingSources: settingSourcesFor(config, new Set()),
    invocations: [{ argv: ["bench"], startedAt: new Date().toISOString(), fromStep: 0 }],
    schedule: { totalSteps: null }, host: hostFacts(), createdAt: new Date().toISOString(),
    history: { train: Number.isFinite(trainer.lastLoss) ? [[trainer.step, trainer.lastLoss]] : [], validation: [] },
    bestValidationLoss: null,
    corpus: { fingerprint: fingerprintCodePoints(text), length: text.length, paths: [] },
    kernels,
  });
}

/** Medians over `runs` of encode, decode, and the store's save (atomic write) and load (read, checksum, decode). */
async function measureCheckpoint(state: CheckpointState, runs: number): Promise<CharnnRun["checkpoint"]> {
  const dir = await mkdtemp(path.join(tmpdir(), "charnn-bench-ckpt-"));
  try {
    const encode: number[] = [], decode: number[] = [], save: number[] = [], load: number[] = [];
    let text = "";
    for (let r = 0; r < runs; r++) {
      encode.push(timeMs(() => { text = encodeCheckpoint(state); }));
      decode.push(timeMs(() => decodeCheckpoint(text, "bench")));
      save.push(await timeMsAsync(() => saveCheckpoint(dir, state, { keep: 0, isBest: false })));
      load.push(await timeMsAsync(() => loadCheckpointFile(path.join(dir, "latest.json"))));
    }
    return { saveMs: median(save), loadMs: median(load), encodeMs: median(encode), decodeMs: median(decode), bytes: Buffer.byteLength(text) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * GFLOP/s of one training step's matrix products run alone on the same kernels and shapes:
 * each distinct shape is timed for about `secondsPerShape` (its fastest batch), then weighted by
 * how often the step makes it. The data is arbitrary but finite; products take the same time whatever the values.
 */
export function productRate(kernels: Kernels, shapes: readonly ProductShape[], secondsPerShape: number): number {
  let floatsA = 0, floatsB = 0, floatsC = 0;
  for (const s of shapes) {
    floatsA = Math.max(floatsA, s.M * s.K);
    floatsB = Math.max(floatsB, s.K * s.N);
    floatsC = Math.max(floatsC, s.M * s.N);
  }
  const arena = kernels.newArena("float32", floatsA + floatsB + floatsC + 64);
  const A = arena.take(floatsA), B = arena.take(floatsB), C = arena.take(floatsC);
  const rng = createRng("bench-products");
  for (const buffer of [A, B]) for (let i = 0; i < buffer.length; i++) buffer[i] = rng.next() - 0.5;

  let totalMs = 0, totalFlops = 0;
  for (const s of shapes) {
    const lda = s.transA ? s.M : s.K, ldb = s.transB ? s.K : s.N;
    const product = () => kernels.gemm(s.transA, s.transB, s.M, s.N, s.K, A, 0, lda, B, 0, ldb, C, 0, s.N, false);
    const firstMs = timeMs(product);
    let perCallMs = firstMs;
    if (firstMs < secondsPerShape * 1000) {
      product(); // the first call may have paid for compilation
      // The fastest of a few batches: this is a ceiling, and other work on the machine only slows it.
      const reps = iterationsToFill(secondsPerShape / PRODUCT_BATCHES, Math.max(firstMs, 1e-3) / 1000, 100_000);
      for (let batch = 0; batch < PRODUCT_BATCHES; batch++) {
        const start = nowMs();
        for (let r = 0; r < reps; r++) product();
        perCallMs = Math.min(perCallMs, (nowMs() - start) / reps);
      }
    }
    totalMs += perCallMs * s.count;
    totalFlops += productFlops(s);
  }
  return totalFlops / totalMs / 1e6;
}
