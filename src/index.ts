// charnn as a library, for Node: train character-level language models from text, load and
// save checkpoints, sample and score text. The CLI is one caller of these; the README's
// "Library" section documents them with examples. The portable part, without files or worker
// threads, is also published on its own as `charnn/core` (src/browser.ts).
// Stability: everything exported here follows semver (see CHANGELOG.md).

import type { CheckpointState } from "./core/checkpoint/format.js";
import { validateCheckpoint } from "./core/checkpoint/load.js";
import { parseCheckpoint } from "./core/api/checkpoint-text.js";
import { Model } from "./core/api/model.js";
import type { Backend } from "./core/settings.js";
import { selectKernels } from "./node/backend.js";
import { readCheckpoint } from "./node/checkpoints.js";

export { CharnnError, ExitCode, type ErrorDetails, type ExitCodeValue } from "./core/errors.js";
export { Model, type ModelInfo, type SampleSettings, type SampleStream } from "./core/api/model.js";
export type { Evaluation } from "./core/eval/evaluate.js";
export type { Prediction, Trace, TraceOptions } from "./core/viz/trace.js";
export type { UnknownCharacter, UnknownSummary } from "./core/data/unknown.js";
export type { UnknownPolicy } from "./core/sample/prime.js";
export { checkpointBytes, parseCheckpoint, serializeCheckpoint } from "./core/api/checkpoint-text.js";
export type { CheckpointState, TensorRecord } from "./core/checkpoint/format.js";
export { readCheckpoint, runFolder, writeCheckpoint, type SaveHook } from "./node/checkpoints.js";
export { TRAIN_EVENT_SCHEMA, type EndReason, type TrainEvent, type TrainEventType } from "./core/train/events.js";
export { SAMPLE_DEFAULTS, TRAIN_DEFAULTS, type Backend, type SampleOptions, type TrainConfig } from "./core/settings.js";

/** Which kernels a model runs on: as `--backend` and `--threads` (0 = every core). */
export interface KernelChoice {
  /** "auto" (default: WebAssembly SIMD where it runs, else TypeScript), "wasm" or "js". */
  backend?: Backend;
  /** Threads for the wasm kernels; 0 (default) = every available core. */
  threads?: number;
}

/**
 * A model from a checkpoint already in memory: its decoded state, or its text or bytes.
 * Call dispose() when done, to end the kernels' worker threads.
 */
export function modelFrom(checkpoint: CheckpointState | string | Uint8Array, options: KernelChoice = {}): Model {
  const state = typeof checkpoint === "string" || checkpoint instanceof Uint8Array ? parseCheckpoint(checkpoint) : validateCheckpoint(checkpoint, "the checkpoint");
  const kernels = selectKernels(options.backend ?? "auto", options.threads ?? 0);
  try {
    return new Model(state, kernels, { ownsKernels: true });
  } catch (error) {
    kernels.dispose();
    throw error;
  }
}

/**
 * The model in a checkpoint file, or in a run folder (its latest.json; best.json with `best`),
 * on the kernels `charnn sample` would use. Call dispose() when done.
 */
export async function loadModel(location: string, options: KernelChoice & { best?: boolean } = {}): Promise<Model> {
  return modelFrom(await readCheckpoint(location, { best: options.best }), options);
}
export { train, trainEvents, type TrainOptions, type TrainResult, type TrainSettings, type TrainingRun } from "./node/library-train.js";
