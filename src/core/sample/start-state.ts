// A start state the model knows, for text that begins with no context: unprimed samples and
// lines scored on their own. Recorded from training text, saved in the checkpoint beside the
// weights (checkpoint field `startState`: "h" [L,H] and, for lstm, "c" [L,H]).
// Not here: where it is stored, or when it is recorded (the trainer's save does that).
//
// Method: K stretches of W characters of the training text, each ending just before a line
// break, spread evenly over the text, are run through the model from its initial state, all at
// once as K parallel streams; the start state is the mean of their final states, layer by layer.
// The consumer then feeds the line break itself, so the first character of a line is predicted
// from "after a line break in typical text" rather than from a state (zeros) the model almost
// never saw in training, where the hidden state is carried across windows.

import { Workspace, type CharModel, type RecurrentState } from "../nn/model.js";
import type { Kernels } from "../tensor/kernels.js";

export interface StartStateOptions {
  /** Stretches averaged (K). */
  stretches?: number;
  /** Characters in each (W). */
  stretchLength?: number;
}

export const START_STATE_DEFAULTS: Required<StartStateOptions> = { stretches: 16, stretchLength: 256 };

/**
 * The start positions of the stretches: each of `length` tokens ending just before a `newline`
 * token, with the newline ending them spread evenly through the text. Fewer (or shorter) when
 * the text has few line breaks or is short; none when it has no line break after any text.
 */
export function stretchStarts(tokens: ArrayLike<number>, newline: number, stretches: number, length: number): { starts: number[]; length: number } {
  const breaks: number[] = [];
  for (let i = 1; i < tokens.length; i++) if (tokens[i] === newline) breaks.push(i);
  if (breaks.length === 0) return { starts: [], length: 0 };
  // The stretch ends at break-1, so it needs `length` tokens before a break.
  const usable = breaks.filter((at) => at >= length);
  if (usable.length === 0) {
    const last = breaks[breaks.length - 1]!;
    return { starts: [0], length: last };
  }
  const picked = new Set<number>();
  for (let k = 0; k < stretches; k++) picked.add(usable[Math.floor(((k + 0.5) * usable.length) / stretches)]!);
  return { starts: [...picked].map((at) => at - length), length };
}

/**
 * Records start states for one model: its workspace (K streams of W steps) is allocated once,
 * so a trainer can record one at every save without allocating again.
 */
export class StartStateRecorder {
  private readonly workspace: Workspace;
  private readonly inputs: Int32Array;
  private readonly streams: RecurrentState;
  private readonly options: Required<StartStateOptions>;

  constructor(
    readonly model: CharModel,
    kernels: Kernels,
    options: StartStateOptions = {},
  ) {
    this.options = { ...START_STATE_DEFAULTS, ...options };
    const { stretches: B, stretchLength: T } = this.options;
    const arena = kernels.newArena(model.dtype, Workspace.arenaFloats(model.config, B, T, model.dtype));
    this.workspace = new Workspace(model, B, T, arena, kernels);
    this.inputs = kernels.newIndexBuffer(T * B);
    this.streams = model.newState(B); // (L, B, H)
  }

  /**
   * The start state from `tokens` (vocabulary indices of training text), shape (L, 1, H); null
   * when the text has no line break to end a stretch at.
   */
  record(tokens: ArrayLike<number>, newline: number): RecurrentState | null {
    const { stretches, stretchLength } = this.options;
    const { starts, length: T } = stretchStarts(tokens, newline, stretches, stretchLength);
    if (starts.length === 0 || T === 0) return null;
    const B = stretches, used = starts.length;
    const { layers: L, hidden: H } = this.model.config;
    // (T, B) time-major: stream b reads its stretch; streams past `used` repeat the first.
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) this.inputs[t * B + b] = tokens[starts[b < used ? b : 0]! + t]!;
    this.workspace.forward(this.inputs, null, this.streams, { steps: T, fromInit: true });

    const mean = this.model.newState(1); // (L, 1, H)
    const average = (from: ArrayLike<number>, into: { [i: number]: number }): void => {
      for (let l = 0; l < L; l++) {
        for (let h = 0; h < H; h++) {
          let sum = 0;
          for (let b = 0; b < used; b++) sum += from[(l * B + b) * H + h]!;
          into[l * H + h] = sum / used;
        }
      }
    };
    average(this.streams.h, mean.h);
    if (this.streams.c !== null && mean.c !== null) average(this.streams.c, mean.c);
    return mean;
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
