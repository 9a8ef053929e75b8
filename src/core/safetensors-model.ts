// charnn's parameters as a PyTorch state dict in a safetensors file, and back: the names, the
// metadata (vocabulary, model config), the learned initial states' layout, and on import the
// checks (names, shapes, vocabulary) and the reordering of rows into charnn's sorted vocabulary.
// Not here: the container bytes (safetensors.ts) or files and flags (src/cli/export.ts, import.ts).

import { badInput, type CharnnError } from "./errors.js";
import { parameterShapes, type CellType, type ModelConfig } from "./nn/params.js";
import type { Float32Tensor, SafetensorsHeader, TensorEntry } from "./safetensors.js";

/** The metadata keys; "vocabulary" is the only one whose name contains "vocab". */
export const METADATA_FORMAT = "pt";

/** The model settings written as the `config` metadata (JSON), snake_case as Python reads them. */
export interface ExportedConfig {
  cell: CellType;
  activation: "tanh" | "relu";
  layers: number;
  hidden: number;
  embed: number;
  dropout: number;
  learn_init: boolean;
}

const INIT_STATE = /^([hc])0_l(\d+)$/;

/**
 * The tensors of a model in export order and layout (charnn's order, initial states stacked):
 * embedding.weight (V, E); weight_ih_l{k} (G·H, in), weight_hh_l{k} (G·H, H), bias_ih_l{k} and
 * bias_hh_l{k} (G·H) as torch.nn.RNN/LSTM/GRU name them (G = 1, 4 (i,f,g,o) or 3 (r,z,n));
 * decoder.weight (V, H) and decoder.bias (V) as nn.Linear; learned initial states as h0 (L, H),
 * and c0 (L, H) for the LSTM, row k for layer k (charnn keeps h0_l{k}, c0_l{k} of shape (H)); a
 * PyTorch model uses them as h0.unsqueeze(1).expand(L, B, H).
 */
export function exportTensors(config: ModelConfig, params: Record<string, Float32Tensor>): Array<[string, Float32Tensor]> {
  const out: Array<[string, Float32Tensor]> = [];
  for (const [name, shape] of parameterShapes(config)) {
    if (INIT_STATE.test(name)) continue;
    out.push([name, { shape: [...shape], data: params[name]!.data }]);
  }
  if (config.learnInit) {
    const { layers: L, hidden: H } = config;
    for (const kind of config.cell === "lstm" ? ["h", "c"] : ["h"]) {
      const stacked = new Float32Array(L * H);
      for (let l = 0; l < L; l++) stacked.set(params[`${kind}0_l${l}`]!.data, l * H);
      out.push([`${kind}0`, { shape: [L, H], data: stacked }]);
    }
  }
  return out;
}

export function exportMetadata(config: ModelConfig, vocabulary: readonly number[], charnnVersion: string): Record<string, string> {
  const exported: ExportedConfig = {
    cell: config.cell, activation: config.activation, layers: config.layers, hidden: config.hidden,
    embed: config.embed, dropout: config.dropout, learn_init: config.learnInit,
  };
  return {
    format: METADATA_FORMAT,
    charnn_version: charnnVersion,
    vocabulary: JSON.stringify(vocabulary),
    config: JSON.stringify(exported),
  };
}

// ---------------------------------------------------------------------------------------------
// Import

export interface ImportOptions {
  /** Name prefixes to strip, in order, each from the names that start with it ("module.", "rnn."). */
  prefixes?: readonly string[];
  /** Code points in row order, for a file without a `vocabulary` entry. */
  vocabulary?: readonly number[];
  /** The Elman cell's non-linearity, for a file without a `config` entry (it cannot be inferred). */
  activation?: "tanh" | "relu";
}

/** What a header holds, checked, before any tensor data is read. */
export interface ImportPlan {
  config: ModelConfig;
  /** Code points in the file's row order. */
  fileVocabulary: number[];
  /** Ascending: the order charnn's rows take. */
  vocabulary: number[];
  /** By export name (prefixes stripped). */
  entries: Map<string, TensorEntry>;
  parameterCount: number;
  /** Where the config came from: the file's metadata, or the names and shapes. */
  configSource: "metadata" | "inferred";
}

const importError = (sourceName: string, code: string, message: string, facts: Record<string, unknown> = {}): CharnnError =>
  badInput(`${sourceName}: ${message}`, undefined, { code: `import.${code}`, facts: { file: sourceName, ...facts } });

const formatShape = (shape: readonly number[]): string => `[${shape.join(",")}]`;

/** The checked model, vocabulary and tensor entries of a header (options fill what it lacks). */
export function planImport(header: SafetensorsHeader, sourceName: string, options: ImportOptions = {}): ImportPlan {
  const entries = new Map<string, TensorEntry>();
  for (const entry of header.tensors) {
    let name = entry.name;
    for (const prefix of options.prefixes ?? []) if (name.startsWith(prefix)) name = name.slice(prefix.length);
    if (entries.has(name)) throw importError(sourceName, "names", `two tensors are named ${name} once prefixes are stripped`, { tensor: name });
    entries.set(name, entry);
  }

  const fileVocabulary = vocabularyOf(header.metadata, sourceName, options.vocabulary);
  const metadataConfig = header.metadata.config;
  let config: ModelConfig;
  if (metadataConfig !== undefined) {
    config = readConfig(metadataConfig, fileVocabulary.length, sourceName);
    if (options.activation !== undefined && options.activation !== config.activation) {
      throw importError(sourceName, "config", `the file's config says activation ${config.activation}, not ${options.activation}`);
    }
  } else {
    config = inferConfig(entries, fileVocabulary.length, options.activation ?? "tanh", sourceName);
  }

  let parameterCount = 0;
  const expected = expectedTensors(config);
  for (const [name, shape] of expected) {
    const entry = entries.get(name);
    if (entry === undefined) throw importError(sourceName, "names", `no tensor named ${name} (a ${describe(config)} needs it)`, { tensor: name });
    if (formatShape(entry.shape) !== formatShape(shape)) {
      const V = config.vocabSize;
      const vocabularyNote = shape.some((size, axis) => size === V && entry.shape[axis] !== V) ? ` (the vocabulary has ${V} characters)` : "";
      throw importError(sourceName, "shapes", `${name} has shape ${formatShape(entry.shape)}, expected ${formatShape(shape)}${vocabularyNote}`, { tensor: name, shape: entry.shape, expected: shape });
    }
    parameterCount += shape.reduce((a, b) => a * b, 1);
  }
  for (const name of entries.keys()) {
    if (!expected.has(name)) {
      throw importError(sourceName, "names", `unexpected tensor ${name} (a ${describe(config)} has ${[...expected.keys()].join(", ")})`, { tensor: name });
    }
  }
  const vocabulary = [...fileVocabulary].sort((a, b) => a - b);
  return { config, fileVocabulary, vocabulary, entries, parameterCount, configSource: metadataConfig !== undefined ? "metadata" : "inferred" };
}

const describe = (config: ModelConfig): string =>
  `${config.layers}-layer ${config.cell}${config.embed > 0 ? " with an embedding" : ""}${config.learnInit ? " with learned initial states" : ""}`;

/** The export names and shapes a model has. */
export function expectedTensors(config: ModelConfig): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const [name, shape] of parameterShapes(config)) if (!INIT_STATE.test(name)) shapes.set(name, shape);
  if (config.learnInit) {
    shapes.set("h0", [config.layers, config.hidden]);
    if (config.cell === "lstm") shapes.set("c0", [config.layers, config.hidden]);
  }
  return shapes;
}

/**
 * Charnn's parameters from the planned tensors: initial states split by layer, rows (and, for
 * one-hot input, the columns of weight_ih_l0) put in sorted-vocabulary order, every value finite.
 */
export function importParameters(plan: ImportPlan, readTensor: (entry: TensorEntry) => Float32Array, sourceName: string): Record<string, Float32Tensor> {
  const { config } = plan;
  const V = config.vocabSize;
  const rowOf = new Map(plan.fileVocabulary.map((codePoint, row) => [codePoint, row]));
  /** sortedRow j holds the file's row fileRow[j]. */
  const fileRow = plan.vocabulary.map((codePoint) => rowOf.get(codePoint)!);
  const params: Record<string, Float32Tensor> = {};
  for (const [name, shape] of parameterShapes(config)) {
    const state = INIT_STATE.exec(name);
    const entry = plan.entries.get(state ? `${state[1]}0` : name)!;
    const source = readTensor(entry);
    let data: Float32Array;
    if (state) {
      const layer = Number(state[2]), H = config.hidden;
      data = source.slice(layer * H, (layer + 1) * H);
    } else if (name === "embedding.weight" || name === "decoder.weight" || name === "decoder.bias") {
      const width = name === "decoder.bias" ? 1 : shape[1]!;
      data = new Float32Array(V * width);
      for (let j = 0; j < V; j++) data.set(source.subarray(fileRow[j]! * width, (fileRow[j]! + 1) * width), j * width);
    } else if (name === "weight_ih_l0" && config.embed === 0) {
      const rows = shape[0]!;
      data = new Float32Array(rows * V);
      for (let r = 0; r < rows; r++) for (let j = 0; j < V; j++) data[r * V + j] = source[r * V + fileRow[j]!]!;
    } else {
      data = source;
    }
    const bad = data.findIndex((value) => !Number.isFinite(value));
    if (bad >= 0) throw importError(sourceName, "not-finite", `${entry.name} holds ${data[bad]} (a diverged or damaged model)`, { tensor: entry.name });
    params[name] = { shape: [...shape], data };
  }
  return params;
}

function vocabularyOf(metadata: Record<string, string>, sourceName: string, given: readonly number[] | undefined): number[] {
  const text = metadata.vocabulary;
  if (text === undefined) {
    if (given === undefined) {
      throw importError(sourceName, "no-vocabulary", "no vocabulary in the file's metadata (a plain PyTorch state dict?); pass --vocabulary FILE");
    }
    return checkVocabulary(given, sourceName, "--vocabulary");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw importError(sourceName, "vocabulary", "the vocabulary metadata is not JSON");
  }
  const vocabulary = checkVocabulary(parsed, sourceName, "the vocabulary metadata");
  if (given !== undefined && JSON.stringify(checkVocabulary(given, sourceName, "--vocabulary")) !== JSON.stringify(vocabulary)) {
    throw importError(sourceName, "vocabulary", "--vocabulary differs from the vocabulary the file carries; leave it out");
  }
  return vocabulary;
}

/** Distinct Unicode scalar values, in any order; at least one. */
export function checkVocabulary(value: unknown, sourceName: string, what: string): number[] {
  if (!Array.isArray(value) || value.length === 0) throw importError(sourceName, "vocabulary", `${what} must be a non-empty list of code points`);
  const seen = new Set<number>();
  value.forEach((codePoint: unknown, index) => {
    const valid = Number.isInteger(codePoint) && (codePoint as number) >= 0 && (codePoint as number) <= 0x10ffff &&
      !((codePoint as number) >= 0xd800 && (codePoint as number) <= 0xdfff);
    if (!valid) throw importError(sourceName, "vocabulary", `${what}: entry ${index} (${JSON.stringify(codePoint)}) is not a Unicode code point`);
    if (seen.has(codePoint as number)) throw importError(sourceName, "vocabulary", `${what}: U+${(codePoint as number).toString(16).toUpperCase().padStart(4, "0")} appears twice`);
    seen.add(codePoint as number);
  });
  return [...value] as number[];
}

const CONFIG_KEYS = ["cell", "activation", "layers", "hidden", "embed", "dropout", "learn_init"] as const;

function readConfig(text: string, vocabSize: number, sourceName: string): ModelConfig {
  const bad = (why: string) => importError(sourceName, "config", `the config metadata ${why}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad("is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw bad("is not a JSON object");
  const config = value as Record<string, unknown>;
  for (const key of Object.keys(config)) if (!(CONFIG_KEYS as readonly string[]).includes(key)) throw bad(`has an unknown key "${key}"`);
  for (const key of CONFIG_KEYS) if (!Object.hasOwn(config, key)) throw bad(`lacks "${key}"`);
  const { cell, activation, layers, hidden, embed, dropout, learn_init: learnInit } = config;
  const wholeIn = (v: unknown, min: number, max: number) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
  if (cell !== "rnn" && cell !== "lstm" && cell !== "gru") throw bad(`has cell ${JSON.stringify(cell)} (rnn, lstm or gru)`);
  if (activation !== "tanh" && activation !== "relu") throw bad(`has activation ${JSON.stringify(activation)} (tanh or relu)`);
  if (activation === "relu" && cell !== "rnn") throw bad("has activation relu for a cell other than rnn");
  if (!wholeIn(layers, 1, 16)) throw bad(`has layers ${JSON.stringify(layers)} (1 to 16)`);
  if (!wholeIn(hidden, 1, 8192)) throw bad(`has hidden ${JSON.stringify(hidden)} (1 to 8192)`);
  if (!wholeIn(embed, 0, 8192)) throw bad(`has embed ${JSON.stringify(embed)} (0 to 8192)`);
  if (typeof dropout !== "number" || !(dropout >= 0 && dropout < 1)) throw bad(`has dropout ${JSON.stringify(dropout)} (0 <= p < 1)`);
  if (typeof learnInit !== "boolean") throw bad(`has learn_init ${JSON.stringify(learnInit)} (true or false)`);
  return { cell, activation, layers: layers as number, hidden: hidden as number, embed: embed as number, dropout, learnInit, vocabSize };
}

/** The model a plain state dict describes: cell from the gate rows, layers, sizes, extras. */
function inferConfig(entries: Map<string, TensorEntry>, vocabSize: number, activation: "tanh" | "relu", sourceName: string): ModelConfig {
  const recurrent = entries.get("weight_hh_l0");
  if (recurrent === undefined || recurrent.shape.length !== 2) {
    throw importError(sourceName, "names", "no tensor weight_hh_l0 of two dimensions (names as torch.nn.LSTM/GRU/RNN give them; see --prefix)");
  }
  const [rows, hidden] = recurrent.shape as [number, number];
  const gates = hidden > 0 ? rows / hidden : 0;
  const cell: CellType | null = gates === 4 ? "lstm" : gates === 3 ? "gru" : gates === 1 ? "rnn" : null;
  if (cell === null || hidden < 1 || hidden > 8192) {
    throw importError(sourceName, "shapes", `weight_hh_l0 has shape ${formatShape(recurrent.shape)}, which is no LSTM, GRU or RNN layer`);
  }
  if (activation === "relu" && cell !== "rnn") throw importError(sourceName, "config", `--activation relu applies to an rnn, and this file holds a ${cell}`);
  let layers = 0;
  while (entries.has(`weight_hh_l${layers}`)) layers++;
  if (layers > 16) throw importError(sourceName, "shapes", `${layers} layers (charnn takes 1 to 16)`);
  const embedding = entries.get("embedding.weight");
  const embed = embedding?.shape.length === 2 ? embedding.shape[1]! : 0;
  if (embed > 8192) throw importError(sourceName, "shapes", `an embedding of ${embed} (charnn takes up to 8192)`);
  return { cell, activation, layers, hidden, embed, dropout: 0, learnInit: entries.has("h0"), vocabSize };
}
