// Loading a checkpoint, as one straight line: text -> parse and verify (format.ts) -> settings
// read back through the config rules -> weights held to the shapes those settings and the
// vocabulary call for -> a checked Checkpoint, from which modelFromCheckpoint builds the model.
// Every command and the library load through decodeCheckpoint; nothing here reads a file
// (src/node/store/load.ts does) or sizes memory for anyone else.

import { TRAIN_DEFAULTS, flagName, readSavedConfig, type RunSettings, type TrainConfig } from "../settings.js";
import { Vocabulary } from "../data/vocab.js";
import { CharnnError, badInput } from "../errors.js";
import { CharModel } from "../nn/model.js";
import { parameterShapes } from "../nn/params.js";
import { jsKernels, type Kernels } from "../tensor/kernels.js";
import {
  DAMAGED,
  DAMAGED_HINT,
  formatShape,
  parseCheckpoint,
  type CheckpointState,
  type SettingSource,
  type TensorRecord,
  type TrainingCheckpointState,
  type WeightsCheckpointState,
} from "./format.js";
import { loadWeights, modelConfigOf } from "./model.js";
import { portableCodec, type CheckpointCodec } from "./codec.js";

/** A checkpoint whose settings passed the config rules and whose weights fit them. */
export type Checkpoint = CheckpointState<RunSettings>;
export type TrainingCheckpoint = TrainingCheckpointState<RunSettings>;
export type WeightsCheckpoint = WeightsCheckpointState<RunSettings>;

/**
 * The checkpoint `input` holds (file text, or its UTF-8 bytes), checked all the way: envelope,
 * checksum, field types, settings, and every tensor's shape. `sourceName` names it in messages;
 * `codec` is the SHA-256 and base64 to use (a host's faster ones; the portable ones by default).
 */
export function decodeCheckpoint(input: string | Uint8Array, sourceName = "checkpoint", codec: CheckpointCodec = portableCodec): Checkpoint {
  // Bytes that are not UTF-8 become U+FFFD, as reading the file as text would make them; a BOM
  // is kept, so such a file fails as "not JSON" whichever way it arrives.
  const text = typeof input === "string" ? input : new TextDecoder("utf-8", { ignoreBOM: true }).decode(input);
  return validateCheckpoint(parseCheckpoint(text, sourceName, codec), sourceName);
}

/** Holds a parsed state to the rules its config and vocabulary imply. */
export function validateCheckpoint(state: CheckpointState, sourceName: string): Checkpoint {
  const config = checkedSettings(state.config, sourceName);
  const vocabularySize = state.vocabulary.length;
  checkTensors(state.params, new Map(parameterShapes(modelConfigOf(config, vocabularySize))), vocabularySize, sourceName, "parameter");
  if (state.startState !== null) {
    const lineShapes = lineStateShapes(config);
    const present = [...lineShapes.keys()].some((name) => state.startState![name] !== undefined);
    checkTensors(state.startState, new Map([...startStateShapes(config), ...(present ? lineShapes : [])]), vocabularySize, sourceName, "start state");
  }
  const settingSources = completedSources(state, config);
  return { ...state, config, settingSources };
}

/** The saved settings read back through the settings table's rules (readSavedConfig), the file named. */
function checkedSettings(config: Record<string, unknown>, sourceName: string): RunSettings {
  try {
    return readSavedConfig(config);
  } catch (error) {
    if (error instanceof CharnnError) {
      throw badInput(`${sourceName}: ${error.message}`, error.hint ?? DAMAGED_HINT, { code: error.code ?? "checkpoint.damaged", facts: error.facts });
    }
    throw error;
  }
}

/**
 * Sources for every setting. Saved ones are kept; one the file does not name (every one in a
 * format 1 file) is "given" when a saved command line names its flag or its value is not the
 * default (it came from a --config file or an earlier invocation), else "default".
 */
function completedSources(state: CheckpointState, config: RunSettings): Record<string, SettingSource> {
  const sources: Record<string, SettingSource> = {};
  const argv = state.invocations.flatMap((invocation) => invocation.argv);
  for (const [key, value] of Object.entries(config)) {
    const saved = state.settingSources[key];
    if (saved !== undefined) {
      sources[key] = saved;
      continue;
    }
    const flag = flagName(key);
    const named = argv.some((arg) => arg === flag || arg.startsWith(`${flag}=`) || arg === `--no-${flag.slice(2)}`);
    const isDefault = JSON.stringify(value) === JSON.stringify(TRAIN_DEFAULTS[key as keyof TrainConfig]);
    sources[key] = named || !isDefault ? "given" : "default";
  }
  return sources;
}

/** The shapes of a start state: h, and c for the LSTM, each [L, H]. */
export function startStateShapes(config: Pick<RunSettings, "model" | "layers" | "hidden">): Map<string, number[]> {
  const shapes = new Map<string, number[]>([["h", [config.layers, config.hidden]]]);
  if (config.model === "lstm") shapes.set("c", [config.layers, config.hidden]);
  return shapes;
}

/** The line state beside it (start-state.ts), the same shapes; absent from checkpoints saved before it. */
function lineStateShapes(config: Pick<RunSettings, "model" | "layers" | "hidden">): Map<string, number[]> {
  return new Map([...startStateShapes(config)].map(([name, shape]) => [name === "h" ? "lineH" : "lineC", shape]));
}

function checkTensors(
  tensors: Record<string, TensorRecord>,
  expected: Map<string, number[]>,
  vocabularySize: number,
  sourceName: string,
  what: "parameter" | "start state",
): void {
  for (const [name, expectedShape] of expected) {
    const tensor = tensors[name];
    if (tensor === undefined) {
      throw badInput(`${sourceName}: ${what} ${name} is missing (the config does not match the weights)`, DAMAGED_HINT, DAMAGED);
    }
    if (!sameShape(tensor.shape, expectedShape)) {
      // Where the expected size is the vocabulary's, the vocabulary is what disagrees.
      const vocabularyDims = expectedShape.some((size, axis) => size !== tensor.shape[axis] && size === vocabularySize);
      const culprit = vocabularyDims ? "the vocabulary" : "the config";
      throw badInput(
        `${sourceName}: ${what === "parameter" ? "" : "start state "}${name} has shape ${formatShape(tensor.shape)}, expected ${formatShape(expectedShape)} (${culprit} does not match the weights)`,
        DAMAGED_HINT,
        DAMAGED,
      );
    }
  }
  for (const name of Object.keys(tensors)) {
    if (!expected.has(name)) {
      throw badInput(`${sourceName}: unexpected ${what} ${name} (the config does not match the weights)`, DAMAGED_HINT, DAMAGED);
    }
  }
}

const sameShape = (a: number[], b: number[]): boolean => a.length === b.length && a.every((size, axis) => size === b[axis]);

export interface LoadedModel {
  model: CharModel;
  vocabulary: Vocabulary;
  config: RunSettings;
}

/**
 * The checkpoint's model with its weights, in an arena of its own made by `kernels` (so they can
 * work on it); a sampler or scorer built on it takes its own workspace. Dropout is off: this
 * model is for sampling and evaluation.
 */
export function modelFromCheckpoint(checkpoint: Checkpoint, kernels: Kernels = jsKernels): LoadedModel {
  const vocabulary = new Vocabulary(checkpoint.vocabulary);
  const modelConfig = { ...modelConfigOf(checkpoint.config, vocabulary.size), dropout: 0 };
  const arena = kernels.newArena("float32", CharModel.arenaFloats(modelConfig, "float32"));
  const model = new CharModel(modelConfig, arena);
  loadWeights(model, checkpoint.params);
  return { model, vocabulary, config: checkpoint.config };
}
