// A start state the model knows, for text that begins with no context: unprimed samples start
// from it. Recorded from training text, saved in the checkpoint beside the weights (checkpoint
// field `startState`: "h" [L,H] and, for lstm, "c" [L,H]). Not here: where it is stored, or when
// it is recorded (the trainer's save does that).
//
// Method: K line starts spread evenly through the training text are the candidates. Candidate
// k's state is the one W characters of text leave just before its line break, run from the
// initial state (K parallel streams). Then every candidate's state j predicts every candidate's
// next N characters k (its line break first): loss[j][k] in nats per character. The start state
// is the state of the line start whose next characters the *other* states predict best (the
// lowest column mean, j ≠ k): a line start where typical text follows, whatever came before, so
// a sample from its state opens with text any context would accept. Ties go to the earlier line
// start; the result is an actual state of the model on actual text, never an average.
// The consumer then feeds the line break itself, as the text after a line break starts.
//
// Why these choices (measured on harbour.txt, see README "charnn sample"): the mean of the K
// states is a state the nonlinear model never reaches and started samples worse; the state that
// predicts the others best (lowest row mean) is the most uncertain one, and a sample drawn at
// temperature 1 from an uncertain state opens with unlikely characters; the zero state is both.

import { Workspace, type CharModel, type RecurrentState } from "../nn/model.js";
import type { Kernels } from "../tensor/kernels.js";

export interface StartStateOptions {
  /** Line starts tried (K). */
  candidates?: number;
  /** Characters of text read before each line break, from the initial state (W). */
  stretchLength?: number;
  /** Characters after each line break that the states are judged on, the line break first (N). */
  probeLength?: number;
}

export const START_STATE_DEFAULTS: Required<StartStateOptions> = { candidates: 8, stretchLength: 96, probeLength: 32 };

/** Where the candidates lie: line breaks, and the stretch and probe lengths they leave room for. */
export interface LineStarts {
  /** Positions of the line breaks (tokens[at] is the newline), in text order. */
  breaks: number[];
  /** Tokens read before each (W): tokens[at - W, at). */
  stretchLength: number;
  /** Tokens judged after each (N): tokens[at + 1, at + N], predicted from tokens[at, at + N). */
  probeLength: number;
}

/**
 * Up to `count` line breaks spread evenly through the text, each with `stretchLength` tokens
 * before it and `probeLength` after it. A text too short for any gives one: its last line break,
 * with all the text before it and nothing to judge; a text without a line break after its first
 * token gives none.
 */
export function lineStarts(tokens: ArrayLike<number>, newline: number, count: number, stretchLength: number, probeLength: number): LineStarts {
  const breaks: number[] = [];
  for (let i = 1; i < tokens.length; i++) if (tokens[i] === newline) breaks.push(i);
  if (breaks.length === 0) return { breaks: [], stretchLength: 0, probeLength: 0 };
  const usable = breaks.filter((at) => at >= stretchLength && at + probeLength < tokens.length);
  if (usable.length === 0) {
    const last = breaks[breaks.length - 1]!;
    return { breaks: [last], stretchLength: last, probeLength: 0 };
  }
  const picked = new Set<number>();
  for (let k = 0; k < count; k++) picked.add(usable[Math.floor(((k + 0.5) * usable.length) / count)]!);
  return { breaks: [...picked], stretchLength, probeLength };
}

/** What one recording found: the candidates, how each state predicted each line start, the pick. */
export interface StartStateChoice {
  lineStarts: LineStarts;
  /** loss[j][k]: mean nats per character of line start k's next N characters from state j. */
  loss: number[][];
  /** Per candidate k: the mean of loss[j][k] over the other states j (NaN with one candidate). */
  score: number[];
  /** The candidate picked: the lowest score, the earliest on a tie (0 with one candidate). */
  chosen: number;
  /** Its state, shape (L, 1, H). */
  state: RecurrentState;
}

/**
 * Records start states for one model: its workspace (K streams of N steps) is allocated once, so
 * a trainer can record one at every save without allocating again. Cost: K·W steps to reach the
 * candidates and K·K·N to judge them, in K-stream windows of N steps.
 */
export class StartStateRecorder {
  private readonly workspace: Workspace;
  private readonly inputs: Int32Array;
  /** (L, K, H) the candidates' states, and the copy of them each judging pass runs from. */
  private readonly candidates: RecurrentState;
  private readonly judging: RecurrentState;
  private readonly options: Required<StartStateOptions>;

  constructor(
    readonly model: CharModel,
    kernels: Kernels,
    options: StartStateOptions = {},
  ) {
    this.options = { ...START_STATE_DEFAULTS, ...options };
    const { candidates: K, probeLength: N } = this.options;
    const arena = kernels.newArena(model.dtype, Workspace.arenaFloats(model.config, K, N, model.dtype));
    this.workspace = new Workspace(model, K, N, arena, kernels);
    this.inputs = kernels.newIndexBuffer(N * K);
    this.candidates = model.newState(K);
    this.judging = model.newState(K);
  }

  /** The start state from `tokens` (vocabulary indices of training text); null without a line break. */
  record(tokens: ArrayLike<number>, newline: number): RecurrentState | null {
    return this.choose(tokens, newline)?.state ?? null;
  }

  /** The whole choice, for tests and for measuring; null when the text has no line break to use. */
  choose(tokens: ArrayLike<number>, newline: number): StartStateChoice | null {
    const { candidates: K, stretchLength, probeLength } = this.options;
    const starts = lineStarts(tokens, newline, K, stretchLength, probeLength);
    const used = starts.breaks.length;
    if (used === 0 || starts.stretchLength === 0) return null;
    const { layers: L, hidden: H, vocabSize: V } = this.model.config;
    const inputs = this.inputs, workspace = this.workspace;
    // Streams past `used` repeat the first line start; they are computed and never read.
    const breakOf = (b: number): number => starts.breaks[b < used ? b : 0]!;

    // The candidates: stream b reads the W tokens before its line break, N steps at a time,
    // (T, B) time-major, the state carried from window to window.
    const W = starts.stretchLength, N = this.options.probeLength;
    for (let from = 0; from < W; from += N) {
      const steps = Math.min(N, W - from);
      for (let t = 0; t < steps; t++) for (let b = 0; b < K; b++) inputs[t * K + b] = tokens[breakOf(b) - W + from + t]!;
      workspace.forward(inputs, null, this.candidates, { steps, fromInit: from === 0 });
    }

    // Judging: for each line start k, every stream b starts from candidate b's state and reads
    // k's line break and the N−1 tokens after it; the log-softmax of each row gives the nats of
    // predicting the next token (V per row: 1/H of what the decoder product above it costs).
    const loss: number[][] = Array.from({ length: used }, () => new Array<number>(used).fill(0));
    const judged = used > 1 ? Math.min(starts.probeLength, N) : 0;
    for (let k = 0; k < used && judged > 0; k++) {
      const at = starts.breaks[k]!;
      for (let t = 0; t < judged; t++) for (let b = 0; b < K; b++) inputs[t * K + b] = tokens[at + t]!;
      this.judging.h.set(this.candidates.h);
      if (this.judging.c !== null && this.candidates.c !== null) this.judging.c.set(this.candidates.c);
      workspace.forward(inputs, null, this.judging, { steps: judged });
      const logits = workspace.logits; // (T·B, V)
      for (let t = 0; t < judged; t++) {
        const target = tokens[at + t + 1]!;
        for (let j = 0; j < used; j++) {
          const row = (t * K + j) * V;
          let max = -Infinity;
          for (let v = 0; v < V; v++) if (logits[row + v]! > max) max = logits[row + v]!;
          let sum = 0;
          for (let v = 0; v < V; v++) sum += Math.exp(logits[row + v]! - max);
          loss[j]![k]! += (max + Math.log(sum) - logits[row + target]!) / judged;
        }
      }
    }

    const score = loss.map((_, k) => {
      let sum = 0;
      for (let j = 0; j < used; j++) if (j !== k) sum += loss[j]![k]!;
      return used > 1 ? sum / (used - 1) : NaN;
    });
    let chosen = 0;
    for (let k = 1; k < used; k++) if (score[k]! < score[chosen]!) chosen = k;

    const state = this.model.newState(1); // (L, 1, H): stream `chosen` of (L, K, H)
    for (let l = 0; l < L; l++) {
      const from = (l * K + chosen) * H;
      state.h.set(this.candidates.h.subarray(from, from + H), l * H);
      if (state.c !== null && this.candidates.c !== null) state.c.set(this.candidates.c.subarray(from, from + H), l * H);
    }
    return { lineStarts: starts, loss, score, chosen, state };
  }
}

/** One start state, with a recorder made for it (see StartStateRecorder for repeated use). */
export function recordStartState(
  model: CharModel,
  kernels: Kernels,
  tokens: ArrayLike<number>,
  newline: number,
  options: StartStateOptions = {},
): RecurrentState | null {
  return new StartStateRecorder(model, kernels, options).record(tokens, newline);
}

/** A start state as the checkpoint's `startState` field: "h" [L,H] and, for lstm, "c" [L,H]. */
export function startStateRecord(state: RecurrentState, layers: number, hidden: number): Record<string, { shape: number[]; data: Float32Array }> {
  const record: Record<string, { shape: number[]; data: Float32Array }> = { h: { shape: [layers, hidden], data: Float32Array.from(state.h) } };
  if (state.c !== null) record.c = { shape: [layers, hidden], data: Float32Array.from(state.c) };
  return record;
}

/** The checkpoint's `startState` field as a state for `model` (batch 1); null when it has none. */
export function startStateOf(model: CharModel, record: Record<string, { shape: number[]; data: Float32Array }> | null): RecurrentState | null {
  if (record === null || record.h === undefined) return null;
  const state = model.newState(1);
  state.h.set(record.h.data);
  if (state.c !== null) {
    if (record.c === undefined) return null;
    state.c.set(record.c.data);
  }
  return state;
}
