// Between models and checkpoints, the writing side: the model config a run's settings imply,
// weights in and out of a model, and the checkpoint states a trainer's run is saved as (a whole
// training state, or weights only). Reading a checkpoint back is load.ts's job. Pure: the facts
// only the host knows (package version, node, platform, the time) are passed in.

import { RUN_KEYS, runSettingsOf, type RunSettings, type TrainConfig } from "../settings.js";
import type { Vocabulary } from "../data/vocab.js";
import type { CharModel } from "../nn/model.js";
import type { ModelConfig } from "../nn/params.js";
import type { Kernels } from "../tensor/kernels.js";
import type { Trainer } from "../train/trainer.js";
import type {
  CheckpointState,
  ChoiceRecord,
  CorpusRecord,
  History,
  Invocation,
  KernelVariant,
  RuntimeRecord,
  ScheduleRecord,
  SettingSource,
  TensorRecord,
  TrainingCheckpointState,
  WeightsCheckpointState,
} from "./format.js";

/**
 * Where each of the run's settings came from: "given" when this invocation set it, else what an
 * earlier record says (the run being resumed, or the checkpoint a fine-tune takes its shape
 * from), else "default".
 */
export function settingSourcesFor(
  config: TrainConfig | RunSettings,
  given: ReadonlySet<string>,
  inherited: Readonly<Record<string, SettingSource>> = {},
): Record<string, SettingSource> {
  const sources: Record<string, SettingSource> = {};
  for (const key of RUN_KEYS) if (Object.hasOwn(config, key)) sources[key] = given.has(key) ? "given" : (inherited[key] ?? "default");
  return sources;
}

/** The model part of a run's settings, for a vocabulary of V characters. */
export function modelConfigOf(
  config: Pick<RunSettings, "model" | "activation" | "layers" | "hidden" | "embed" | "dropout" | "learnInit">,
  vocabSize: number,
): ModelConfig {
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

/** Copies weights into a model whose parameter shapes the checkpoint was validated against. */
export function loadWeights(model: CharModel, params: Record<string, TensorRecord>): void {
  for (const view of model.params.views) view.value.set(params[view.name]!.data);
}

/** The parameters as checkpoint tensors (copies). */
export function weightRecords(model: CharModel): Record<string, TensorRecord> {
  const out: Record<string, TensorRecord> = {};
  for (const view of model.params.views) out[view.name] = { shape: [...view.shape], data: Float32Array.from(view.value) };
  return out;
}

/** What only the host can say about the process writing a checkpoint. */
export interface HostFacts {
  charnnVersion: string;
  /** e.g. "v20.19.0". */
  node: string;
  /** e.g. "linux-x64". */
  platform: string;
}

/** The kernels' record: backend, threads and exact variant. */
export function runtimeOf(kernels: Pick<Kernels, "name" | "threads">, host: HostFacts): RuntimeRecord {
  const variant: KernelVariant = kernels.name === "wasm" || kernels.name === "wasm-relaxed" ? kernels.name : "js";
  return { backend: variant === "js" ? "js" : "wasm", threads: kernels.threads, variant, node: host.node, platform: host.platform };
}

/** Everything about a run a checkpoint records besides the trainer's own state. */
export interface RunRecord {
  /** The whole config or the run's settings; per-invocation ones are left out of the file. */
  config: TrainConfig | RunSettings;
  settingSources: Record<string, SettingSource>;
  vocabulary: Vocabulary;
  /** Every invocation of the run, this one last. */
  invocations: Invocation[];
  history: History;
  bestValidationLoss: number | null;
  corpus: CorpusRecord;
  schedule: ScheduleRecord;
  kernels: Pick<Kernels, "name" | "threads">;
  host: HostFacts;
  /** ISO time of the save. */
  createdAt: string;
  startState?: Record<string, TensorRecord> | null;
  choice?: ChoiceRecord | null;
}

/** Everything a checkpoint holds for a trainer now: its exact state plus the run's record. */
export function trainingCheckpoint(trainer: Trainer, run: RunRecord): TrainingCheckpointState {
  const snapshot = trainer.snapshot();
  return {
    kind: "training",
    charnnVersion: run.host.charnnVersion,
    createdAt: run.createdAt,
    config: runSettingsOf(run.config) as unknown as Record<string, unknown>,
    settingSources: { ...run.settingSources },
    vocabulary: run.vocabulary.toJSON(),
    params: weightRecords(trainer.model),
    startState: run.startState ?? null,
    corpus: run.corpus,
    invocations: run.invocations,
    schedule: run.schedule,
    runtime: runtimeOf(run.kernels, run.host),
    choice: run.choice ?? null,
    optimizer: { type: snapshot.optimizer.type, step: snapshot.optimizer.step, buffers: snapshot.optimizer.buffers as Record<string, Float32Array> },
    rng: snapshot.rng,
    cursor: snapshot.cursor,
    hiddenState: snapshot.hiddenState as Float32Array,
    step: snapshot.step,
    epoch: trainer.epoch,
    history: run.history,
    bestValidationLoss: run.bestValidationLoss,
  };
}

/** The same checkpoint without what only a resume needs (optimizer, rng, cursor, carried state). */
export function weightsOnly<Config>(state: CheckpointState<Config>): WeightsCheckpointState<Config> {
  const { charnnVersion, createdAt, config, settingSources, vocabulary, params, startState, corpus, invocations, schedule, runtime, choice, step, epoch, history, bestValidationLoss } = state;
  return { kind: "weights", charnnVersion, createdAt, config, settingSources, vocabulary, params, startState, corpus, invocations, schedule, runtime, choice, step, epoch, history, bestValidationLoss };
}
