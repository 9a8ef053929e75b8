// The four optimisers, each a single loop over the flat parameter and gradient buffers, with
// PyTorch 1.13's update rules (torch/optim/*.py) so that its results can be matched step for
// step. Their state is plain buffers plus a step count, saved and restored exactly.
// Weight decay: decoupled (AdamW, Loshchilov & Hutter 2019) for Adam; for SGD, RMSProp and
// Adagrad it is PyTorch's `weight_decay`, an L2 term added to the gradient.

import { Arena, arenaFloatsFor, floatArray, type DType, type FloatArray } from "../tensor/arena.js";
import type { Kernels } from "../tensor/kernels.js";

export type OptimizerType = "sgd" | "rmsprop" | "adagrad" | "adam";

export interface OptimizerSettings {
  type: OptimizerType;
  /** SGD momentum (0 = plain SGD). */
  momentum: number;
  weightDecay: number;
  /** RMSProp's smoothing constant. */
  alpha: number;
  beta1: number;
  beta2: number;
  eps: number;
}

/** PyTorch's defaults for each optimiser (eps 1e-10 for Adagrad, 1e-8 elsewhere). */
export function optimizerDefaults(type: OptimizerType): OptimizerSettings {
  return { type, momentum: 0, weightDecay: 0, alpha: 0.99, beta1: 0.9, beta2: 0.999, eps: type === "adagrad" ? 1e-10 : 1e-8 };
}

export interface OptimizerState {
  type: OptimizerType;
  step: number;
  buffers: Record<string, FloatArray>;
}

export class Optimizer {
  readonly settings: OptimizerSettings;
  /** Steps taken so far (Adam's bias correction depends on it). */
  stepCount = 0;
  private readonly buffers: Record<string, FloatArray>;

  /** Buffers come from `memory` when it is an arena (beside the parameters), else are allocated. */
  constructor(settings: OptimizerSettings, size: number, memory: DType | Arena = "float32") {
    this.settings = settings;
    const names = Optimizer.bufferNames(settings);
    const allocate = (): FloatArray => (memory instanceof Arena ? memory.take(size) : floatArray(memory, size));
    this.buffers = Object.fromEntries(names.map((name) => [name, allocate()]));
  }

  /** Floats an arena needs for this optimiser's buffers. */
  static arenaFloats(settings: OptimizerSettings, size: number, dtype: DType): number {
    return arenaFloatsFor(Optimizer.bufferNames(settings).map(() => size), dtype);
  }

  /** Which per-parameter buffers an optimiser keeps. */
  static bufferNames(settings: OptimizerSettings): string[] {
    switch (settings.type) {
      case "sgd": return settings.momentum > 0 ? ["momentum"] : [];
      case "rmsprop": return ["squareAverage"];
      case "adagrad": return ["squareSum"];
      case "adam": return ["firstMoment", "secondMoment"];
    }
  }

  state(): OptimizerState {
    return { type: this.settings.type, step: this.stepCount, buffers: this.buffers };
  }

  /** Restores a saved state exactly; the buffers must match by name and length. */
  load(state: OptimizerState): void {
    if (state.type !== this.settings.type) throw new Error(`optimizer state is for ${state.type}, not ${this.settings.type}`);
    for (const [name, buffer] of Object.entries(this.buffers)) {
      const saved = state.buffers[name];
      if (!saved || saved.length !== buffer.length) throw new Error(`optimizer buffer ${name} is missing or the wrong size`);
      buffer.set(saved);
    }
    this.stepCount = state.step;
  }

  /**
   * One update of values from grads with learning rate lr; on `kernels`' own Adam loop where they
   * have one (float32 only), which gives the same bits as the loop here.
   */
  step(values: FloatArray, grads: FloatArray, lr: number, kernels?: Pick<Kernels, "adamStep">): void {
    this.stepCount++;
    const s = this.settings;
    const n = values.length;
    const wd = s.weightDecay;
    switch (s.type) {
      case "sgd": {
        if (s.momentum > 0) {
          const m = this.buffers.momentum!;
          const first = this.stepCount === 1;
          for (let i = 0; i < n; i++) {
            const g = grads[i]! + wd * values[i]!;
            // PyTorch starts the buffer at the first gradient, then buf = μ·buf + g.
            const v = first ? g : s.momentum * m[i]! + g;
            m[i] = v;
            values[i] = values[i]! - lr * m[i]!;
          }
        } else {
          for (let i = 0; i < n; i++) values[i] = values[i]! - lr * (grads[i]! + wd * values[i]!);
        }
        return;
      }
      case "rmsprop": {
        const sq = this.buffers.squareAverage!;
        for (let i = 0; i < n; i++) {
          const g = grads[i]! + wd * values[i]!;
          sq[i] = s.alpha * sq[i]! + (1 - s.alpha) * g * g;
          values[i] = values[i]! - (lr * g) / (Math.sqrt(sq[i]!) + s.eps);
        }
        return;
      }
      case "adagrad": {
        const sum = this.buffers.squareSum!;
        for (let i = 0; i < n; i++) {
          const g = grads[i]! + wd * values[i]!;
          sum[i] = sum[i]! + g * g;
          values[i] = values[i]! - (lr * g) / (Math.sqrt(sum[i]!) + s.eps);
        }
        return;
      }
      case "adam": {
        const m = this.buffers.firstMoment!, v = this.buffers.secondMoment!;
        const stepSize = lr / (1 - Math.pow(s.beta1, this.stepCount));
        const correction2 = Math.sqrt(1 - Math.pow(s.beta2, this.stepCount));
        const decay = 1 - lr * wd;
        if (kernels?.adamStep && values instanceof Float32Array) {
          kernels.adamStep(values, grads, m, v, n, {
            beta1: s.beta1, oneMinusBeta1: 1 - s.beta1, beta2: s.beta2, oneMinusBeta2: 1 - s.beta2,
            stepSize, correction2, eps: s.eps, decay, decayed: wd !== 0,
          });
          return;
        }
        for (let i = 0; i < n; i++) {
          const g = grads[i]!;
          if (wd !== 0) values[i] = values[i]! * decay;
          m[i] = s.beta1 * m[i]! + (1 - s.beta1) * g;
          v[i] = s.beta2 * v[i]! + (1 - s.beta2) * g * g;
          values[i] = values[i]! - (stepSize * m[i]!) / (Math.sqrt(v[i]!) / correction2 + s.eps);
        }
        return;
      }
    }
  }
}
