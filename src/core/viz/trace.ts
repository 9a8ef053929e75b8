// A per-step trace of a model reading a text: after each character, every layer's hidden state
// h (and the LSTM's cell state c), and the model's most likely next characters. This is what the
// activation views (terminal, HTML, a page) draw and what unit ranking correlates against.
// Batch-1 forward through the model's own Workspace, one character at a time from the initial
// state. Not here: drawing, feature extraction, reading checkpoints.

import { countUnknown, type UnknownCounts } from "../data/unknown.js";
import type { Vocabulary } from "../data/vocab.js";
import type { DType } from "../tensor/arena.js";
import type { Kernels } from "../tensor/kernels.js";
import { CharModel, Workspace } from "../nn/model.js";
import type { ModelConfig } from "../nn/params.js";

export type StateName = "h" | "c";

export interface Prediction {
  /** The predicted character. */
  text: string;
  probability: number;
}

export interface Trace {
  cell: ModelConfig["cell"];
  layers: number;
  hidden: number;
  /** The characters fed, one entry per step (T), each one code point. */
  characters: string[];
  /** (T, L, H) hidden state after reading characters[t]. */
  h: Float32Array;
  /** (T, L, H) LSTM cell state after reading characters[t]; null for other cells. */
  c: Float32Array | null;
  /** Per step, the most likely next characters after characters[t], most likely first. */
  predictions: Prediction[][];
  /** Characters of the text outside the vocabulary, left out (neither fed nor shown), by code point. */
  skipped: UnknownCounts;
}

export interface TraceOptions {
  /** Predictions kept per step. */
  top?: number;
}

const DEFAULT_TOP = 5;

/** Floats a trace's workspace takes in an arena (one step of one stream). */
export function traceArenaFloats(config: ModelConfig, dtype: DType): number {
  return Workspace.arenaFloats(config, 1, 1, dtype);
}

/**
 * Feeds `text` to the model from its initial state (learned, or zeros) and records the state
 * after every character. `kernels` must be the set whose arena holds the model's parameters.
 */
export function traceText(model: CharModel, kernels: Kernels, vocabulary: Vocabulary, text: string, options: TraceOptions = {}): Trace {
  const config = model.config;
  const L = config.layers, H = config.hidden, V = config.vocabSize;
  const top = Math.max(0, Math.min(options.top ?? DEFAULT_TOP, V));

  const characters: string[] = [];
  const tokens: number[] = [];
  const skipped: UnknownCounts = new Map();
  for (const character of text) {
    const codePoint = character.codePointAt(0)!;
    const index = vocabulary.indexOf(codePoint);
    if (index < 0) countUnknown(skipped, codePoint);
    else {
      characters.push(character);
      tokens.push(index);
    }
  }

  const T = tokens.length;
  const h = new Float32Array(T * L * H);
  const c = config.cell === "lstm" ? new Float32Array(T * L * H) : null;
  const predictions: Prediction[][] = [];
  if (T === 0) return { cell: config.cell, layers: L, hidden: H, characters, h, c, predictions, skipped };

  const arena = kernels.newArena(model.dtype, traceArenaFloats(config, model.dtype));
  const workspace = new Workspace(model, 1, 1, arena, kernels);
  const input = kernels.newIndexBuffer(1);
  const state = model.newState(1); // (L, 1, H): the state after the latest step
  const probabilities = new Float64Array(V);
  for (let t = 0; t < T; t++) {
    input[0] = tokens[t]!;
    // The weights cannot change during a trace, so W_hh is packed once, on the first step.
    workspace.forward(input, null, state, { fromInit: t === 0, weightsUnchanged: t > 0 });
    h.set(state.h, t * L * H);
    if (c) c.set(state.c!, t * L * H);
    predictions.push(topPredictions(workspace.logits, V, top, vocabulary, probabilities));
  }
  return { cell: config.cell, layers: L, hidden: H, characters, h, c, predictions, skipped };
}

/** The `top` most likely characters under softmax(logits[0..V)), ties by index. */
function topPredictions(logits: ArrayLike<number>, V: number, top: number, vocabulary: Vocabulary, p: Float64Array): Prediction[] {
  let max = -Infinity;
  for (let v = 0; v < V; v++) max = Math.max(max, logits[v]!);
  let sum = 0;
  for (let v = 0; v < V; v++) sum += p[v] = Math.exp(logits[v]! - max);
  const best: number[] = [];
  for (let v = 0; v < V; v++) {
    // Insertion into a short sorted list: top is a handful, V at most a few thousand.
    let i = best.length;
    while (i > 0 && p[best[i - 1]!]! < p[v]!) i--;
    if (i < top) {
      best.splice(i, 0, v);
      if (best.length > top) best.pop();
    }
  }
  return best.map((v) => ({ text: vocabulary.charAt(v), probability: p[v]! / sum }));
}

/** One unit's values over the trace: (T) state[t, layer, unit]. */
export function unitValues(trace: Trace, layer: number, unit: number, state: StateName): Float32Array {
  const source = state === "c" ? trace.c : trace.h;
  if (source === null) throw new RangeError(`a ${trace.cell} has no cell state c`);
  if (!Number.isInteger(layer) || layer < 0 || layer >= trace.layers) throw new RangeError(`layer ${layer} is outside 0..${trace.layers - 1}`);
  if (!Number.isInteger(unit) || unit < 0 || unit >= trace.hidden) throw new RangeError(`unit ${unit} is outside 0..${trace.hidden - 1}`);
  const T = trace.characters.length, stride = trace.layers * trace.hidden;
  const values = new Float32Array(T);
  for (let t = 0; t < T; t++) values[t] = source[t * stride + layer * trace.hidden + unit]!;
  return values;
}
