// Loading the PyTorch reference fixtures (written by scripts/torch_reference.py) into charnn
// models, for the parity and trajectory tests.

import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { fileURLToPath } from "node:url";
import type { DType } from "../../src/core/tensor/arena.js";
import { jsKernels, type Kernels } from "../../src/core/tensor/kernels.js";
import { CharModel, Workspace, type RecurrentState } from "../../src/core/nn/model.js";
import type { CellType, ModelConfig } from "../../src/core/nn/params.js";

export interface TorchCase {
  name: string;
  cell: CellType;
  activation: "tanh" | "relu";
  layers: number;
  hidden: number;
  vocab: number;
  embed: number;
  learnInit: boolean;
  batch: number;
  seqLen: number;
  params: Record<string, { shape: number[]; data: number[] }>;
}

export interface ParityCase extends TorchCase {
  inputs: number[];
  targets: number[];
  initialState: { h: number[]; c?: number[] } | null;
  loss: number;
  logits: number[];
  finalState: { h: number[]; c?: number[] };
  grads: Record<string, number[]>;
  initialStateGrad: { h: number[]; c?: number[] } | null;
  optimizers: Array<{
    name: string;
    type: "sgd" | "rmsprop" | "adagrad" | "adam" | "adamw";
    settings: { lr: number; momentum?: number; alpha?: number; eps?: number; betas?: [number, number]; weightDecay?: number };
    clip: { mode: "none" | "norm" | "value"; value: number | null };
    steps: number;
    lossesBefore: number[];
    gradNormsBeforeClip?: number[];
    paramsAfter: Record<string, number[]>;
  }>;
}

export function readFixture<T>(name: string): T {
  const path = fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

export function configOf(c: TorchCase, dropout = 0): ModelConfig {
  return {
    cell: c.cell, activation: c.activation, layers: c.layers, hidden: c.hidden,
    vocabSize: c.vocab, embed: c.embed, dropout, learnInit: c.learnInit,
  };
}

export interface Built {
  model: CharModel;
  workspace: Workspace;
  state: RecurrentState;
}

/** A model with the fixture's weights and a workspace for its batch, in one arena. */
export function buildFromCase(c: TorchCase, dtype: DType, kernels: Kernels = jsKernels, B = c.batch, T = c.seqLen): Built {
  const config = configOf(c);
  const arena = kernels.newArena(dtype, CharModel.arenaFloats(config, dtype) + Workspace.arenaFloats(config, B, T, dtype));
  const model = new CharModel(config, arena);
  for (const view of model.params.views) {
    const source = c.params[view.name];
    if (!source) throw new Error(`fixture has no ${view.name}`);
    expect(source.shape).toEqual(view.shape);
    view.value.set(source.data);
  }
  expect(Object.keys(c.params).length).toBe(model.params.views.length);
  const workspace = new Workspace(model, B, T, arena, kernels);
  return { model, workspace, state: model.newState(B) };
}

/** Worst relative error with an absolute floor: |a − e| / max(floor, |e|). */
export function worstError(actual: ArrayLike<number>, expected: ArrayLike<number>, floor: number): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / Math.max(floor, Math.abs(expected[i]!)));
  }
  return worst;
}
