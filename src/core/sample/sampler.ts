// Running a trained model one character at a time (batch 1): warm the state up on a prime,
// then draw characters. Owns its own small workspace; shares the model's parameters.
// Not here: decoding text, stopping rules, output — the sample command does those.

import type { Arena, DType } from "../tensor/arena.js";
import type { Kernels } from "../tensor/kernels.js";
import type { Rng } from "../tensor/rng.js";
import { CharModel, Workspace, type RecurrentState } from "../nn/model.js";
import type { ModelConfig } from "../nn/params.js";
import { pickScratch, pickToken, type Pick, type PickScratch, type SamplingPolicy } from "./policy.js";

export class Sampler {
  readonly model: CharModel;
  private readonly workspace: Workspace;
  private readonly state: RecurrentState;
  private readonly input: Int32Array;
  private readonly scratch: PickScratch;
  /** False until the first token has been fed since reset(): that step starts from the initial state. */
  private started = false;

  static arenaFloats(config: ModelConfig, dtype: DType): number {
    return Workspace.arenaFloats(config, 1, 1, dtype);
  }

  constructor(model: CharModel, kernels: Kernels, arena?: Arena) {
    this.model = model;
    const memory = arena ?? kernels.newArena(model.dtype, Sampler.arenaFloats(model.config, model.dtype));
    this.workspace = new Workspace(model, 1, 1, memory, kernels);
    this.input = kernels.newIndexBuffer(1);
    this.state = model.newState(1);
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
    this.input[0] = token;
    // Weights cannot change within one sample (reset() starts the next), so W_hh stays packed.
    this.workspace.forward(this.input, null, this.state, { fromInit: !this.started, weightsUnchanged: this.started });
    this.started = true;
  }

  /** Draws the next token after the ones fed so far (without feeding it). */
  pick(policy: SamplingPolicy, rng: Rng): Pick {
    return pickToken(this.workspace.logits, 0, this.model.config.vocabSize, policy, rng.next(), this.scratch);
  }

  get hasContext(): boolean {
    return this.started;
  }
}
