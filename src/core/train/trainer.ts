// One training run's numeric state and its step: the model, the optimiser, the batcher's
// cursor, the carried hidden state and the random generator, all in one arena, and a step()
// that goes from a window of text to updated weights. Prints nothing and reads no files; the
// loop in loop.ts decides when to step, evaluate and save. Its snapshot is everything exact
// resume needs.

import type { Arena, DType } from "../tensor/arena.js";
import type { Kernels } from "../tensor/kernels.js";
import { createRng, type Rng, type RngState } from "../tensor/rng.js";
import { CharModel, Workspace, type RecurrentState } from "../nn/model.js";
import { parameterCount, type ModelConfig } from "../nn/params.js";
import { clipGradients, type ClipMode } from "../optim/clip.js";
import { Optimizer, type OptimizerSettings, type OptimizerState } from "../optim/optimizers.js";
import { learningRate, type Schedule } from "../optim/schedule.js";
import { StreamBatcher, type BatchCursor } from "../data/batches.js";
import { Sampler } from "../sample/sampler.js";

export interface TrainerOptions {
  model: ModelConfig;
  batch: number;
  seqLen: number;
  optimizer: OptimizerSettings;
  schedule: Schedule;
  clip: { mode: ClipMode; limit: number };
  seed: number;
  kernels: Kernels;
  dtype?: DType;
}

export interface StepResult {
  /** Mean loss per character (nats) of the window, before the update. */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  lr: number;
  /** False when the loss or gradient was not finite: no update was made. */
  finite: boolean;
}

/** Everything that makes a run continue bit-identically, as plain data. */
export interface TrainerSnapshot {
  step: number;
  cursor: BatchCursor;
  optimizer: OptimizerState;
  rng: RngState;
  /** The carried state, h then (LSTM) c, each (L, B, H). */
  hiddenState: Float32Array | Float64Array;
}

export class Trainer {
  readonly options: TrainerOptions;
  readonly model: CharModel;
  readonly optimizer: Optimizer;
  readonly batcher: StreamBatcher;
  readonly trainChars: number;
  /** Updates made so far (the learning-rate schedule's clock). */
  step = 0;
  /** The loss of the last step (NaN before the first). */
  lastLoss = NaN;
  private readonly workspace: Workspace;
  /** The learning-rate schedule: the options' own, until rescheduleTo moves its end. */
  private schedule: Schedule;
  private readonly validationWorkspace: Workspace | null;
  private readonly validationBatcher: StreamBatcher | null;
  private readonly samplerArena: Arena;
  private readonly state: RecurrentState;
  private readonly inputs: Int32Array;
  private readonly targets: Int32Array;
  private readonly validationInputs: Int32Array;
  private readonly validationTargets: Int32Array;
  private rng: Rng;
  private textSampler: Sampler | null = null;

  constructor(options: TrainerOptions, train: Uint32Array, validation: Uint32Array) {
    this.options = options;
    this.schedule = options.schedule;
    const dtype = options.dtype ?? "float32";
    const { batch: B, seqLen: T, model: config } = options;
    this.batcher = new StreamBatcher(train, B, T);
    this.trainChars = train.length;

    // Validation runs as up to B parallel streams of its own, forward only.
    const validationStreams = Math.min(B, Math.floor(validation.length / (T + 1)));
    this.validationBatcher = validationStreams > 0 ? new StreamBatcher(validation, validationStreams, T) : null;

    const paramCount = parameterCount(config);
    const arena = options.kernels.newArena(dtype,
      CharModel.arenaFloats(config, dtype) +
      Workspace.arenaFloats(config, B, T, dtype) +
      // Sized from the model's own config: Workspace takes dropout buffers whenever the model has
      // dropout, even though validation never uses them.
      (validationStreams > 0 ? Workspace.arenaFloats(config, validationStreams, T, dtype) : 0) +
      Optimizer.arenaFloats(options.optimizer, paramCount, dtype));
    this.model = new CharModel(config, arena);
    this.rng = createRng(options.seed);
    this.model.initialize(this.rng);
    this.workspace = new Workspace(this.model, B, T, arena, options.kernels);
    this.validationWorkspace = validationStreams > 0
      ? new Workspace(this.model, validationStreams, T, arena, options.kernels)
      : null;
    this.optimizer = new Optimizer(options.optimizer, this.model.params.size, arena);
    this.samplerArena = options.kernels.newArena(dtype, Sampler.arenaFloats(config, dtype));
    this.state = this.model.newState(B);
    // Token windows live where the kernels read them in place (a compiled backend's memory).
    this.inputs = options.kernels.newIndexBuffer(B * T);
    this.targets = options.kernels.newIndexBuffer(B * T);
    this.validationInputs = options.kernels.newIndexBuffer(validationStreams * T);
    this.validationTargets = options.kernels.newIndexBuffer(validationStreams * T);
  }

  get epoch(): number {
    return this.batcher.cursor.epoch;
  }

  get validationChars(): number {
    return this.validationBatcher ? this.validationBatcher.streamLength * this.validationBatcher.batchSize : 0;
  }

  /** Characters of training text one step consumes. */
  get charsPerStep(): number {
    return this.options.batch * this.options.seqLen;
  }

  /** Ends the learning-rate schedule at another step: a time-budget run re-timing itself. */
  rescheduleTo(totalSteps: number): void {
    this.schedule = { ...this.schedule, totalSteps };
  }

  /** One window: forward, backward, clip, update. */
  trainStep(): StepResult {
    const { epochStart } = this.batcher.next(this.inputs, this.targets);
    const lr = learningRate(this.schedule, this.step);
    const loss = this.workspace.forward(this.inputs, this.targets, this.state, {
      training: true, rng: this.rng, fromInit: epochStart,
    });
    const params = this.model.params;
    params.zeroGrads();
    this.workspace.backward();
    const gradNorm = clipGradients(params.grads, this.options.clip.mode, this.options.clip.limit);
    const finite = Number.isFinite(loss) && Number.isFinite(gradNorm);
    this.lastLoss = loss;
    if (finite) this.optimizer.step(params.values, params.grads, lr, this.options.kernels);
    this.step++;
    return { loss, gradNorm, lr, finite };
  }

  /**
   * Mean loss per character over the validation text, from the initial state, carrying the
   * state across windows; null when there is no validation text long enough for one window.
   */
  validationLoss(): number | null {
    const batcher = this.validationBatcher, workspace = this.validationWorkspace;
    if (!batcher || !workspace) return null;
    const B = batcher.batchSize;
    const state = this.model.newState(B);
    const inputs = this.validationInputs, targets = this.validationTargets;
    let sum = 0, count = 0;
    for (let w = 0; w < batcher.windowsPerEpoch; w++) {
      batcher.fill(w, inputs, targets);
      workspace.forward(inputs, targets, state, { fromInit: w === 0 });
      sum += workspace.lastLossSum;
      count += inputs.length;
    }
    return sum / count;
  }

  /** A generator over the current weights, for samples printed while training. */
  sampler(): Sampler {
    this.textSampler ??= new Sampler(this.model, this.options.kernels, this.samplerArena);
    return this.textSampler;
  }

  snapshot(): TrainerSnapshot {
    const h = this.state.h, c = this.state.c;
    const hidden = h instanceof Float32Array ? new Float32Array(h.length + (c?.length ?? 0)) : new Float64Array(h.length + (c?.length ?? 0));
    hidden.set(h);
    if (c) hidden.set(c, h.length);
    return {
      step: this.step,
      cursor: { ...this.batcher.cursor },
      optimizer: this.optimizer.state(),
      rng: this.rng.state(),
      hiddenState: hidden,
    };
  }

  /** Continues from a snapshot; parameters are restored separately (restoreParameters). */
  restore(snapshot: TrainerSnapshot): void {
    const h = this.state.h, c = this.state.c;
    const expected = h.length + (c?.length ?? 0);
    if (snapshot.hiddenState.length !== expected) {
      throw new Error(`carried state has ${snapshot.hiddenState.length} values, expected ${expected}`);
    }
    h.set(snapshot.hiddenState.subarray(0, h.length));
    if (c) c.set(snapshot.hiddenState.subarray(h.length));
    this.batcher.cursor = snapshot.cursor;
    this.optimizer.load(snapshot.optimizer);
    this.rng = createRng(this.options.seed, snapshot.rng);
    this.step = snapshot.step;
  }

  /** Sets weights by name; every parameter must be given with its exact length. */
  restoreParameters(params: Record<string, { data: Float32Array | Float64Array }>): void {
    for (const view of this.model.params.views) {
      const source = params[view.name];
      if (!source || source.data.length !== view.value.length) throw new Error(`parameter ${view.name} is missing or the wrong size`);
      view.value.set(source.data);
    }
  }
}
