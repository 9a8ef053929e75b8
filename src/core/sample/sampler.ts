// Running a trained model one character at a time (batch 1): warm the state up on a prime,
// then draw characters. Steps through the kernels' own batch-1 stepper where they have one
// (weights laid out once, one call per character), else through a Workspace of one step; the two
// give the same logits bit for bit. Shares the model's parameters.
// Not here: decoding text, stopping rules, output — the sample command does those.

import type { Arena, DType, FloatArray } from "../tensor/arena.js";
import type { Kernels, StepModel, Stepper } from "../tensor/kernels.js";
import type { Rng } from "../tensor/rng.js";
import { CharModel, Workspace, type RecurrentState } from "../nn/model.js";
import type { ModelConfig } from "../nn/params.js";
import { pickScratch, pickToken, type Pick, type PickScratch, type SamplingPolicy } from "./policy.js";

/** The model's shape and weight views as a stepper reads them. */
export function stepModelOf(model: CharModel): StepModel {
  const config = model.config;
  const p = model.params;
  return {
    cell: config.cell,
    relu: config.cell === "rnn" && config.activation === "relu",
    hidden: config.hidden,
    vocabSize: config.vocabSize,
    embed: config.embed,
    embedding: config.embed > 0 ? p.get("embedding.weight").value : null,
    layers: Array.from({ length: config.layers }, (_, l) => ({
      wIh: p.get(`weight_ih_l${l}`).value, wHh: p.get(`weight_hh_l${l}`).value,
      bIh: p.get(`bias_ih_l${l}`).value, bHh: p.get(`bias_hh_l${l}`).value,
    })),
    decoderWeight: p.get("decoder.weight").value,
    decoderBias: p.get("decoder.bias").value,
  };
}

export class Sampler {
  readonly model: CharModel;
  /** The kernels' batch-1 stepper, or null: then the workspace steps. */
  private readonly stepper: Stepper | null;
  private readonly workspace: Workspace | null;
  private readonly state: RecurrentState;
  private readonly input: Int32Array;
  private readonly scratch: PickScratch;
  /** False until the first token has been fed since reset(): that step starts from the initial state. */
  private started = false;
  /**
   * True when the weights may have changed since they were laid out (a trainer samples between
   * steps with one sampler): each sample starts by reading them again.
   */
  private stale = false;

  static arenaFloats(config: ModelConfig, dtype: DType): number {
    return Workspace.arenaFloats(config, 1, 1, dtype);
  }

  constructor(model: CharModel, kernels: Kernels, arena?: Arena) {
    this.model = model;
    this.stepper = model.dtype === "float32" && kernels.stepper ? kernels.stepper(stepModelOf(model)) : null;
    if (this.stepper) {
      this.workspace = null;
      this.state = { h: this.stepper.h, c: this.stepper.c };
    } else {
      const memory = arena ?? kernels.newArena(model.dtype, Sampler.arenaFloats(model.config, model.dtype));
      this.workspace = new Workspace(model, 1, 1, memory, kernels);
      this.state = model.newState(1);
    }
    this.input = kernels.newIndexBuffer(1);
    this.scratch = pickScratch(model.config.vocabSize);
  }

  /** The state reset() returns to instead of the initial one (see start-state.ts); null: none. */
  private startState: RecurrentState | null = null;

  /** Starts every later sample from `state` (shape (L, 1, H)), or from the initial state with null. */
  useStartState(state: RecurrentState | null): void {
    this.startState = state;
  }

  /** Back to the start state when one is set, else the initial state (learned, or zeros). */
  reset(): void {
    this.stale = true;
    if (this.startState === null) {
      this.started = false;
      return;
    }
    this.state.h.set(this.startState.h);
    if (this.state.c !== null && this.startState.c !== null) this.state.c.set(this.startState.c);
    // The next feed reads the carried state, so it goes on from the start state.
    this.started = true;
  }

  /** Advances the state by one token; the logits for the next one are then ready to pick from. */
  feed(token: number): void {
    if (this.stepper) {
      if (this.stale) this.stepper.repack();
      if (!this.started) this.model.writeInitialState(this.state);
      this.stepper.step(token);
    } else {
      this.input[0] = token;
      // Weights cannot change within one sample (reset() starts the next), so W_hh stays packed.
      this.workspace!.forward(this.input, null, this.state, { fromInit: !this.started, weightsUnchanged: !this.stale });
    }
    this.stale = false;
    this.started = true;
  }

  /** Draws the next token after the ones fed so far (without feeding it). */
  pick(policy: SamplingPolicy, rng: Rng): Pick {
    return pickToken(this.logits, 0, this.model.config.vocabSize, policy, rng.next(), this.scratch);
  }

  /** (V) the logits for the next token, after feed(); read them before the next feed. */
  get logits(): FloatArray {
    return this.stepper ? this.stepper.logits : this.workspace!.logits;
  }

  get hasContext(): boolean {
    return this.started;
  }
}
