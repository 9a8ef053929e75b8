// The library's Model: a checkpoint's weights ready to sample from and to score text with,
// on a kernel set the caller chose. Portable: the Node entry (src/index.ts) picks the kernels
// and reads files; a page passes the js kernels and a checkpoint it fetched.
// Not here: training (src/core/train), reading or writing files (src/node).

import { modelFromCheckpoint, type Checkpoint } from "../checkpoint/load.js";
import type { RunSettings } from "../settings.js";
import { resolveSampleOptions, type SampleOptions } from "../config.js";
import { usageError } from "../errors.js";
import { evaluateCodePoints, type Evaluation } from "../eval/evaluate.js";
import { DEFAULT_WINDOW_STEPS, TextScorer } from "../eval/score.js";
import type { CharModel } from "../nn/model.js";
import type { Vocabulary } from "../data/vocab.js";
import { primeTokens, SEED_RANGE, type UnknownPolicy } from "../sample/prime.js";
import { Sampler } from "../sample/sampler.js";
import { startStateOf } from "../sample/start-state.js";
import { generateCharacters } from "../sample/text.js";
import type { Kernels } from "../tensor/kernels.js";
import { createRng } from "../tensor/rng.js";
import { codePointsOf } from "../util/chars.js";
import { traceText, type Trace, type TraceOptions } from "../viz/trace.js";

/** The sampling options of `charnn sample`, by the same names (defaults in SAMPLE_DEFAULTS). */
export interface SampleSettings {
  /** Characters to generate (the prime is not counted). Default 500. */
  length?: number;
  /** Stop once the generated text ends with this string (it is included). Default none. */
  stop?: string | null;
  /** Softmax temperature; 0 always takes the most likely character. Default 1. */
  temp?: number;
  /** Keep only the K most likely characters; 0 = off. */
  topK?: number;
  /** Keep the smallest set of characters with this much probability; 1 = off. */
  topP?: number;
  /** The random seed (a whole number in [0, 2^32)); the same seed gives the same text as `charnn sample --seed`. Default: a random one, reported as `seed` on the returned iterator. */
  seed?: number | null;
  /** Text to warm the model up with (not part of the output). */
  prime?: string | null;
  /** Prime characters the model never saw: "error" (default) or "skip". */
  unknown?: UnknownPolicy;
}

/** The characters of one sample, one string per character, with the seed that made them. */
export interface SampleStream extends IterableIterator<string> {
  readonly seed: number;
  /** The prime as the model saw it. */
  readonly prime: string;
  /** The summed log-probability of the characters read so far, as `charnn sample --json` reports it for the whole sample. */
  readonly logProbability: number;
}

export interface ModelInfo {
  cell: CharModel["config"]["cell"];
  layers: number;
  hidden: number;
  vocabularySize: number;
  parameters: number;
  /** Training steps the weights have had. */
  step: number;
}

export class Model {
  /** The checkpoint the weights came from (its config, history and vocabulary). */
  readonly checkpoint: Checkpoint;
  readonly config: RunSettings;
  readonly vocabulary: Vocabulary;
  private readonly model: CharModel;
  private readonly kernels: Kernels;
  private readonly ownsKernels: boolean;
  private readonly sampler: Sampler;
  private readonly scorer: TextScorer;
  private disposed = false;

  /**
   * A model on `kernels` with the checkpoint's weights. With `ownsKernels`, dispose() also ends
   * the kernels' worker threads (the Node entry's loadModel passes kernels it made).
   */
  constructor(checkpoint: Checkpoint, kernels: Kernels, options: { ownsKernels?: boolean } = {}) {
    const loaded = modelFromCheckpoint(checkpoint, kernels);
    this.checkpoint = checkpoint;
    this.config = loaded.config;
    this.vocabulary = loaded.vocabulary;
    this.model = loaded.model;
    this.kernels = kernels;
    this.ownsKernels = options.ownsKernels === true;
    this.sampler = new Sampler(loaded.model, kernels);
    this.scorer = new TextScorer(loaded.model, kernels, undefined, DEFAULT_WINDOW_STEPS);
  }

  get info(): ModelInfo {
    const config = this.model.config;
    return { cell: config.cell, layers: config.layers, hidden: config.hidden, vocabularySize: config.vocabSize, parameters: this.model.params.size, step: this.checkpoint.step };
  }

  /** The kernel set the model runs on ("js", "wasm" or "wasm-relaxed") and its threads. */
  get backend(): { name: string; threads: number } {
    return { name: this.kernels.name, threads: this.kernels.threads };
  }

  /**
   * Generates characters one at a time, as `charnn sample` does with the same options: the
   * same seed gives the same text. Reading the iterator drives the model; starting another
   * sample (or evaluate) before this one is finished ends this one.
   */
  sample(settings: SampleSettings = {}): SampleStream {
    this.checkAlive();
    const options = sampleOptionsOf(settings);
    const prime = primeTokens(options.prime === null ? new Uint32Array(0) : codePointsOf(options.prime), this.vocabulary, options.unknown);
    const seed = options.seed ?? Math.floor(Math.random() * SEED_RANGE);
    // As charnn sample: without a prime, from the start state the checkpoint recorded (if any).
    this.sampler.useStartState(prime.text === "" ? startStateOf(this.model, this.checkpoint.startState) : null);
    const characters = generateCharacters(this.sampler, this.vocabulary, {
      length: options.length,
      policy: { temperature: options.temp, topK: options.topK, topP: options.topP },
      rng: createRng(seed),
      primeTokens: prime.tokens,
      stop: options.stop,
    });
    const self = this;
    let logProbability = 0;
    function* texts(): Generator<string> {
      for (const character of characters) {
        self.checkAlive();
        logProbability += character.logProbability;
        yield character.text;
      }
    }
    return Object.defineProperties(texts(), {
      seed: { value: seed, enumerable: true },
      prime: { value: prime.text, enumerable: true },
      logProbability: { get: () => logProbability, enumerable: true },
    }) as SampleStream;
  }

  /** A whole sample as one string (see sample()). */
  sampleText(settings: SampleSettings = {}): string {
    let text = "";
    for (const character of this.sample(settings)) text += character;
    return text;
  }

  /**
   * How well the model predicts `text`, in one exact pass from its initial state, as
   * `charnn eval --json` reports it: characters it never saw are left out and counted.
   */
  evaluate(text: string): Evaluation {
    this.checkAlive();
    return evaluateCodePoints(this.scorer, this.vocabulary, codePointsOf(text));
  }

  /**
   * The model reading `text` from its initial state, step by step: after each character, every
   * layer's hidden state h (and an LSTM's cell state c), shaped (T, L, H), and its `top` most
   * likely next characters. What `charnn viz` draws; characters the model never saw are left out
   * and counted in `skipped`.
   */
  trace(text: string, options: TraceOptions = {}): Trace {
    this.checkAlive();
    return traceText(this.model, this.kernels, this.vocabulary, text, options);
  }

  /** Frees the kernels' worker threads when the model owns them; the model cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.ownsKernels) this.kernels.dispose();
  }

  private checkAlive(): void {
    if (this.disposed) throw usageError("this model has been disposed", undefined, { code: "model.disposed" });
  }
}

/** The options of `charnn sample` with the caller's settings laid over, each checked by the same rules. */
const SAMPLE_SETTING_KEYS = ["length", "stop", "temp", "topK", "topP", "seed", "prime", "unknown"] as const;

function sampleOptionsOf(settings: SampleSettings): SampleOptions {
  for (const key of Object.keys(settings)) {
    if (!(SAMPLE_SETTING_KEYS as readonly string[]).includes(key)) {
      throw usageError(`unknown sample setting "${key}"`, `the settings are ${SAMPLE_SETTING_KEYS.join(", ")}`, { code: "setting.unknown", facts: { key } });
    }
  }
  const options = resolveSampleOptions(settings as Partial<SampleOptions>);
  if (options.temp === 0 && (options.topK !== 0 || options.topP !== 1)) {
    throw usageError(
      `${options.topK !== 0 ? "topK" : "topP"} has no effect with temp 0, which always takes the most likely character`,
      "leave out temp 0 to sample from the filtered distribution",
      { code: "setting.conflict", facts: { keys: [options.topK !== 0 ? "topK" : "topP", "temp"] } },
    );
  }
  return options;
}
