// charnn's portable core, published as `charnn/core`: what runs in a browser (or any JavaScript
// runtime without Node) — a model from a checkpoint's text or bytes, sampling and scoring on
// the TypeScript kernels or, on one thread, on the WebAssembly kernels from the module bytes the
// caller supplies (dist/node/wasm/kernels.wasm and kernels-relaxed.wasm), the checkpoint codec,
// the error class and the event schema. It imports nothing from Node; reading files and worker
// threads are the Node entry's.

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
export { chooseKernels, kernelCapabilities, kernelsFromBinaries, type KernelBinaries, type KernelCapabilities, type KernelChoice, type KernelSetName } from "./core/wasm/load.js";

/** A model from a checkpoint's decoded state, text or bytes, on the TypeScript kernels unless others are given. */
export function modelFrom(checkpoint: CheckpointState | string | Uint8Array, kernels: Kernels = jsKernels): Model {
  const state = typeof checkpoint === "string" || checkpoint instanceof Uint8Array ? parseCheckpoint(checkpoint) : validateCheckpoint(checkpoint, "the checkpoint");
  return new Model(state, kernels);
}
