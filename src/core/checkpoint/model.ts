// Between checkpoints and models: the model config a checkpoint's training config implies, the
// parameter shapes the loader checks a file against, and a ready model (weights loaded) for the
// sample, eval and info commands.

import { readSavedConfig, type TrainConfig } from "../settings.js";
import { Vocabulary } from "../data/vocab.js";
import type { Arena, DType } from "../tensor/arena.js";
import { jsKernels, type Kernels } from "../tensor/kernels.js";
import { CharModel } from "../nn/model.js";
import { parameterShapes, type ModelConfig } from "../nn/params.js";
import type { Trainer } from "../train/trainer.js";
import { packageVersion } from "../../node/version.js";
import type { CheckpointState, TensorRecord } from "./format.js";

/** The model part of a training config, for a vocabulary of V characters. */
export function modelConfigOf(config: Pick<TrainConfig, "model" | "activation" | "layers" | "hidden" | "embed" | "dropout" | "learnInit">, vocabSize: number): ModelConfig {
  return {
    cell: config.model,
    activation: config.activation,
    layers: config.layers,
    hidden: config.hidden,
    vocabSize,
    embed: config.embed,
    dropout: config.dropout,
    learnInit: config.learnInit,
  };
}

/**
 * For decodeCheckpoint: the shapes a checkpoint with this config and vocabulary must hold. The
 * config is first read back through the settings' rules (readSavedConfig in settings.ts), since
 * everything after the loader trusts it.
 */
export function expectedShapes(config: Record<string, unknown>, vocabularySize: number): Map<string, number[]> {
  return new Map(parameterShapes(modelConfigOf(readSavedConfig(config), vocabularySize)));
}

/** Copies weights into a model; the checkpoint was validated against expectedShapes. */
export function loadWeights(model: CharModel, params: Record<string, TensorRecord>): void {
  for (const view of model.params.views) view.value.set(params[view.name]!.data);
}

/** The parameters as checkpoint tensors (copies). */
export function weightRecords(model: CharModel): Record<string, TensorRecord> {
  const out: Record<string, TensorRecord> = {};
  for (const view of model.params.views) out[view.name] = { shape: [...view.shape], data: Float32Array.from(view.value) };
  return out;
}

export interface LoadedModel {
  model: CharModel;
  vocabulary: Vocabulary;
  config: TrainConfig;
  arena: Arena;
}

/**
 * A model with the checkpoint's weights, in an arena with `extraFloats` to spare for the
 * caller's workspaces, made by `kernels` so they can work on it. Dropout is off: this model is
 * for sampling and evaluation.
 */
export function modelFromCheckpoint(state: CheckpointState, extraFloats: (model: ModelConfig, dtype: DType) => number, kernels: Kernels = jsKernels): LoadedModel {
  const config = state.config as unknown as TrainConfig;
  const vocabulary = new Vocabulary(state.vocabulary);
  const modelConfig = { ...modelConfigOf(config, vocabulary.size), dropout: 0 };
  const dtype: DType = "float32";
  const arena = kernels.newArena(dtype, CharModel.arenaFloats(modelConfig, dtype) + extraFloats(modelConfig, dtype));
  const model = new CharModel(modelConfig, arena);
  loadWeights(model, state.params);
  return { model, vocabulary, config, arena };
}

export interface RunRecord {
  config: TrainConfig;
  vocabulary: Vocabulary;
  command: string[];
  history: CheckpointState["history"];
  bestValidationLoss: number | null;
  corpus: CheckpointState["corpus"];
  kernels: Kernels;
}

/** Everything a checkpoint holds for a trainer now: its exact state plus the run's record. */
export function trainingCheckpoint(trainer: Trainer, run: RunRecord): CheckpointState {
  const snapshot = trainer.snapshot();
  return {
    charnnVersion: packageVersion(),
    createdAt: new Date().toISOString(),
    command: run.command,
    config: { ...run.config } as unknown as Record<string, unknown>,
    vocabulary: run.vocabulary.toJSON(),
    params: weightRecords(trainer.model),
    optimizer: { type: snapshot.optimizer.type, step: snapshot.optimizer.step, buffers: snapshot.optimizer.buffers as Record<string, Float32Array> },
    rng: snapshot.rng,
    cursor: snapshot.cursor,
    hiddenState: snapshot.hiddenState as Float32Array,
    step: snapshot.step,
    epoch: trainer.epoch,
    history: run.history,
    bestValidationLoss: run.bestValidationLoss,
    corpus: run.corpus,
    runtime: { backend: run.kernels.name, threads: run.kernels.threads, node: process.version, platform: `${process.platform}-${process.arch}` },
  };
}
