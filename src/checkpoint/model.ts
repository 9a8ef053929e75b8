// Between checkpoints and models: the model config a checkpoint's training config implies, the
// parameter shapes the loader checks a file against, and a ready model (weights loaded) for the
// sample, eval and info commands.

import type { TrainConfig } from "../config.js";
import { Vocabulary } from "../data/vocab.js";
import { badInput } from "../errors.js";
import type { Arena, DType } from "../tensor/arena.js";
import { jsKernels, type Kernels } from "../tensor/kernels.js";
import { CharModel } from "../nn/model.js";
import { parameterShapes, type ModelConfig } from "../nn/params.js";
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

/** For decodeCheckpoint: the shapes a checkpoint with this config and vocabulary must hold. */
export function expectedShapes(config: Record<string, unknown>, vocabularySize: number): Map<string, number[]> {
  const c = config as Partial<TrainConfig>;
  const valid =
    (c.model === "rnn" || c.model === "lstm" || c.model === "gru") &&
    Number.isInteger(c.layers) && Number.isInteger(c.hidden) && Number.isInteger(c.embed) && typeof c.learnInit === "boolean";
  if (!valid) throw badInput("the checkpoint's config does not describe a model (model, layers, hidden, embed, learnInit)");
  return new Map(parameterShapes(modelConfigOf(c as TrainConfig, vocabularySize)));
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
