// Scoring text under a trained model: the summed cross-entropy (nats) of predicting each
// character from the ones before it, in one exact pass that carries the hidden state from the
// initial state through the whole text, T steps at a time (batch 1), or one step at a time on
// the kernels' batch-1 stepper for a large model on several threads (see TextScorer).
// Not here: reading files, unknown-character policy, formatting — the eval command does those.

import type { Arena, DType } from "../tensor/arena.js";
import type { Kernels, Stepper } from "../tensor/kernels.js";
import { stepModelOf } from "../sample/sampler.js";
import { Workspace, type CharModel, type RecurrentState } from "../nn/model.js";
import type { ModelConfig } from "../nn/params.js";
import { natsToBits } from "../util/units.js";

/** Steps per forward window. Large windows turn the input and decoder products into big GEMMs. */
export const DEFAULT_WINDOW_STEPS = 256;

export interface Score {
  /** Σ −ln p(x[i+1] | x[0..i]) over every prediction, in nats. */
  lossSum: number;
  /** Characters predicted: one fewer than the tokens scored (the first has no context). */
  predictions: number;
}

/** Mean nats, bits per character (nats / ln 2) and perplexity (e^nats) of a score. */
export function scoreSummary(score: Score): { nats: number; bits: number; perplexity: number } {
  const nats = score.predictions > 0 ? score.lossSum / score.predictions : NaN;
  return { nats, bits: natsToBits(nats), perplexity: Math.exp(nats) };
}

/** −ln softmax(logits[offset, offset + V))[target], in float64: the nats of one prediction. */
export function crossEntropyAt(logits: ArrayLike<number>, offset: number, V: number, target: number): number {
  let max = -Infinity;
  for (let v = 0; v < V; v++) if (logits[offset + v]! > max) max = logits[offset + v]!;
  let sum = 0;
  for (let v = 0; v < V; v++) sum += Math.exp(logits[offset + v]! - max);
  return max + Math.log(sum) - logits[offset + target]!;
}

/** Parameters from which a scorer on several threads steps the kernels' stepper (see TextScorer). */
export const STEPPER_MIN_PARAMETERS = 1_000_000;

/**
 * Scores text for a model whose weights no longer change (they are read once, when the scorer is
 * made). Two paths, the same numbers to float rounding: windows of T steps on a Workspace, whose
 * input and decoder products are matrix products over the window; or one stepper call per
 * character (every layer and the decoder, its rows split across the threads), where the kernels
 * have a batch-1 stepper and more than one thread and the model has STEPPER_MIN_PARAMETERS or
 * more: a batch of one cannot be split by stream, so windows leave the second core idle, while a
 * small model's step is too short to pay for a hand-off between threads every character.
 * Measured on two threads (LSTM 2 layers, relaxed SIMD): the stepper scored 1.41x the windows'
 * characters per second at 512 units (3.3M parameters); at 128 units (244K) anywhere from 0.6x
 * to 1.1x from run to run.
 */
export class TextScorer {
  readonly windowSteps: number;
  /** The batch-1 stepper this scorer steps, or null: then it runs windows on its workspace. */
  readonly stepper: Stepper | null;
  private readonly model: CharModel;
  private readonly workspace: Workspace;
  private readonly state: RecurrentState;
  /** (T) this window's inputs and targets, in memory the kernels read in place. */
  private readonly inputs: Int32Array;
  private readonly targets: Int32Array;

  /** Floats a scorer takes for its workspace. */
  static arenaFloats(config: ModelConfig, windowSteps: number, dtype: DType): number {
    return Workspace.arenaFloats(config, 1, windowSteps, dtype);
  }

  /** `arena`: where the workspace goes; by default one of its own, made by `kernels`. */
  constructor(model: CharModel, kernels: Kernels, arena?: Arena, windowSteps = DEFAULT_WINDOW_STEPS) {
    if (!Number.isInteger(windowSteps) || windowSteps < 1) throw new RangeError(`window of ${windowSteps} steps`);
    this.windowSteps = windowSteps;
    const memory = arena ?? kernels.newArena(model.dtype, TextScorer.arenaFloats(model.config, windowSteps, model.dtype));
    this.workspace = new Workspace(model, 1, windowSteps, memory, kernels);
    this.model = model;
    const stepped = model.dtype === "float32" && kernels.threads > 1 && model.params.size >= STEPPER_MIN_PARAMETERS;
    this.stepper = stepped && kernels.stepper ? kernels.stepper(stepModelOf(model)) : null;
    this.state = this.stepper ? { h: this.stepper.h, c: this.stepper.c } : model.newState(1);
    this.inputs = kernels.newIndexBuffer(windowSteps);
    this.targets = kernels.newIndexBuffer(windowSteps);
  }

  /**
   * Scores `tokens` (vocabulary indices) from the initial state, or from `from` (shape
   * (L, 1, H)) when given: token i is the input that
   * predicts token i+1. The state after one window is the initial state of the next, so the
   * total is the same as a one-step-at-a-time pass. Allocates nothing.
   */
  score(tokens: Int32Array, from: RecurrentState | null | "carried" = null): Score {
    const predictions = Math.max(0, tokens.length - 1);
    let lossSum = 0;
    // From a start state (start-state.ts), or "carried": the state the previous call left, which
    // has read all but that call's last token (scoring text piece by piece, in context).
    if (from !== null && from !== "carried") {
      this.state.h.set(from.h);
      if (this.state.c !== null && from.c !== null) this.state.c.set(from.c);
    }
    if (this.stepper) return { lossSum: this.stepThrough(tokens, from === null), predictions };
    for (let start = 0; start < predictions; start += this.windowSteps) {
      const steps = Math.min(this.windowSteps, predictions - start);
      // With B = 1 the time-major layout (T·B) is just the run of tokens itself. Copied, because
      // a compiled backend would otherwise copy the whole of `tokens` in for every window.
      for (let t = 0; t < steps; t++) {
        this.inputs[t] = tokens[start + t]!;
        this.targets[t] = tokens[start + t + 1]!;
      }
      // The weights never change during a pass, so W_hh packed for the first window is reused.
      const first = start === 0;
      this.workspace.forward(this.inputs, this.targets, this.state, { steps, fromInit: first && from === null, weightsUnchanged: !first });
      lossSum += this.workspace.lastLossSum;
    }
    return { lossSum, predictions };
  }

  /** Σ −ln p over tokens[1..], one stepper call per input token; the log-softmax in float64. */
  private stepThrough(tokens: Int32Array, fromInit: boolean): number {
    const stepper = this.stepper!;
    const V = this.model.config.vocabSize;
    if (fromInit && tokens.length > 1) this.model.writeInitialState(this.state);
    const logits = stepper.logits;
    let lossSum = 0;
    for (let i = 0; i + 1 < tokens.length; i++) {
      stepper.step(tokens[i]!);
      lossSum += crossEntropyAt(logits, 0, V, tokens[i + 1]!);
    }
    return lossSum;
  }
}
