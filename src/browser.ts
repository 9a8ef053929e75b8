// charnn's portable core, published as `charnn/core`: what runs in a browser (or any JavaScript
// runtime without Node) — a model from a checkpoint's text or bytes, sampling and scoring on
// the TypeScript kernels, the checkpoint codec, the error class and the event schema. It imports
// nothing from Node; files, worker threads and the WebAssembly kernels are the Node entry's.

import type { CheckpointState } from "./core/checkpoint/format.js";
import { validateCheckpoint } from "./core/checkpoint/load.js";
import { parseCheckpoint } from "./core/api/checkpoint-text.js";
import { Model } from "./core/api/model.js";
import { jsKernels, type Kernels } from "./core/tensor/kernels.js";

export { CharnnError, ExitCode, type ErrorDetails, type ExitCodeValue } from "./core/errors.js";
export { Model, type ModelInfo, type SampleSettings, type SampleStream } from "./core/api/model.js";
export type { Evaluation } from "./core/eval/evaluate.js";
export type { Prediction, Trace, TraceOptions } from "./core/viz/trace.js";
export type { UnknownCharacter, UnknownSummary } from "./core/data/unknown.js";
export type { UnknownPolicy } from "./core/sample/prime.js";
export { checkpointBytes, parseCheckpoint, serializeCheckpoint } from "./core/api/checkpoint-text.js";
export type { CheckpointState, TensorRecord } from "./core/checkpoint/format.js";
export { TRAIN_EVENT_SCHEMA, type EndReason, type TrainEvent, type TrainEventType } from "./core/train/events.js";
export { SAMPLE_DEFAULTS, TRAIN_DEFAULTS, type SampleOptions, type TrainConfig } from "./core/settings.js";
export { jsKernels, type Kernels } from "./core/tensor/kernels.js";

/** A model from a checkpoint's decoded state, text or bytes, on the TypeScript kernels unless others are given. */
export function modelFrom(checkpoint: CheckpointState | string | Uint8Array, kernels: Kernels = jsKernels): Model {
  const state = typeof checkpoint === "string" || checkpoint instanceof Uint8Array ? parseCheckpoint(checkpoint) : validateCheckpoint(checkpoint, "the checkpoint");
  return new Model(state, kernels);
}
