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
// For a line scored on its own (eval --per-line) a second state, the line state, is the chosen
// one refined by gradient descent: h (and c) of every layer are free variables, and Adam (the
// training optimiser's, with PyTorch's defaults) lowers the loss of the first P characters of R line openings of the
// training text read from them (its line break first), the gradient with respect to the initial
// state summed over the R streams; S steps, each on the next R line openings in a fixed,
// evenly spread order, so the result depends only on the weights and the text. The chosen state
// is one context among many and scores held-out lines worse; the refined one is the model's best
// guess at a line with no context, so it is uncertain, and samples drawn from it at temperature 1
// open with unlikely characters, as the lowest-row-mean state's do (README "charnn eval").
//
// Why these choices (measured on harbour.txt, see README "charnn sample"): the mean of the K
// states is a state the nonlinear model never reaches and started samples worse; the state that
// predicts the others best (lowest row mean) is the most uncertain one, and a sample drawn at
// temperature 1 from an uncertain state opens with unlikely characters; the zero state is both.

import { crossEntropyAt } from "../eval/score.js";
import { Workspace, type CharModel, type RecurrentState } from "../nn/model.js";
import { floatArray } from "../tensor/arena.js";
import type { Kernels } from "../tensor/kernels.js";
import { Optimizer, optimizerDefaults } from "../optim/optimizers.js";

export interface StartStateOptions {
  /** Line starts tried (K). */
  candidates?: number;
  /** Characters of text read before each line break, from the initial state (W). */
  stretchLength?: number;
  /** Characters after each line break that the states are judged on, the line break first (N). */
  probeLength?: number;
  /** Adam steps refining the chosen state (S); 0 keeps it as chosen. By default refineStepsFor(the model). */
  refineSteps?: number;
  /** Line openings per refining step (R). */
  refineLines?: number;
  /** Characters of each opening scored, the line break first (P). */
  refineLength?: number;
  /** Adam's step size for the state. */
  refineRate?: number;
}

export const START_STATE_DEFAULTS: Required<Omit<StartStateOptions, "refineSteps">> = {
  candidates: 8, stretchLength: 96, probeLength: 32,
  refineLines: 32, refineLength: 32, refineRate: 0.1,
};

/** How often a run saves: every N steps (0: only when it stops), or every so many milliseconds. */
export type SaveCadence = { steps: number } | { ms: number };

/**
 * Refining steps for a model of `parameters` weights: 40 up to 250,000 (a 2×128 LSTM), fewer
 * above it so the work stays near that model's (each step costs about in proportion to the
 * weights), never below 12 for size alone. Measured on harbour at 2×128: 40 steps score held-out
 * lines 1.235 times their in-context nats, 16 steps 1.27, 8 steps 1.33; at 2×512 the 12 steps
 * take about 3 s.
 * With a run's save cadence and characters per training step, also no more than a tenth of the
 * characters trained between two saves (each refining step reads R·P characters forward and
 * back, as a training step does): none for a run that saves every few tiny steps. A cadence in
 * time counts a minute or more as room for all of them, less in proportion.
 */
export function refineStepsFor(parameters: number, cadence?: SaveCadence, charsPerStep = 0): number {
  const bySize = Math.max(12, Math.min(40, Math.round((40 * 250_000) / parameters)));
  if (cadence === undefined) return bySize;
  if ("ms" in cadence) return Math.min(bySize, Math.floor((40 * cadence.ms) / 60_000));
  if (cadence.steps === 0) return bySize;
  const { refineLines: R, refineLength: P } = START_STATE_DEFAULTS;
  return Math.min(bySize, Math.floor((0.1 * cadence.steps * charsPerStep) / (R * P)));
}

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

/** What a save records: the start state for samples, and the line state for lines on their own. */
export interface StartStates {
  state: RecurrentState;
  lineState: RecurrentState;
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
  /** Its state, shape (L, 1, H): the start state for samples. */
  state: RecurrentState;
  /** The line state: `state` refined on line openings (the same as `state` with refineSteps 0). */
  lineState: RecurrentState;
  /** Mean loss (nats per character) of each refining step's line openings, before its update. */
  refineLoss: number[];
}

/**
 * Records start states for one model: its workspace (K streams of N steps) is allocated once, so
 * a trainer can record one at every save without allocating again. Cost: K·W steps to reach the
 * candidates and K·K·N to judge them, in K-stream windows of N steps.
 */
export class StartStateRecorder {
  private readonly workspace: Workspace;
  /** R streams of P steps, for refining; null when refineSteps is 0. */
  private readonly refiner: { workspace: Workspace; inputs: Int32Array; targets: Int32Array; state: RecurrentState } | null;
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
    this.options = { ...START_STATE_DEFAULTS, refineSteps: refineStepsFor(model.params.size), ...options };
    const { candidates: K, probeLength: N } = this.options;
    const arena = kernels.newArena(model.dtype, Workspace.arenaFloats(model.config, K, N, model.dtype));
    this.workspace = new Workspace(model, K, N, arena, kernels);
    this.inputs = kernels.newIndexBuffer(N * K);
    this.candidates = model.newState(K);
    this.judging = model.newState(K);
    const { refineSteps: S, refineLines: R, refineLength: P } = this.options;
    this.refiner = S > 0 ? {
      workspace: new Workspace(model, R, P, kernels.newArena(model.dtype, Workspace.arenaFloats(model.config, R, P, model.dtype)), kernels),
      inputs: kernels.newIndexBuffer(P * R),
      targets: kernels.newIndexBuffer(P * R),
      state: model.newState(R),
    } : null;
  }

  /** The start states from `tokens` (vocabulary indices of training text); null without a line break. */
  record(tokens: ArrayLike<number>, newline: number): StartStates | null {
    const choice = this.choose(tokens, newline);
    return choice === null ? null : { state: choice.state, lineState: choice.lineState };
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
        for (let j = 0; j < used; j++) loss[j]![k]! += crossEntropyAt(logits, (t * K + j) * V, V, target) / judged;
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
    const { state: lineState, refineLoss } = this.refine(state, tokens, newline);
    return { lineStarts: starts, loss, score, chosen, state, lineState, refineLoss };
  }

  /** The refined copy of `from` (see the top of this file); `from` itself is left as it is. */
  private refine(from: RecurrentState, tokens: ArrayLike<number>, newline: number): { state: RecurrentState; refineLoss: number[] } {
    const { layers: L, hidden: H } = this.model.config;
    const n = L * H;
    // The free variables, h then c, each (L, H), in one buffer for the optimiser.
    const variables = floatArray(this.model.dtype, from.c === null ? n : 2 * n);
    const state: RecurrentState = { h: variables.subarray(0, n), c: from.c === null ? null : variables.subarray(n) };
    state.h.set(from.h);
    if (state.c !== null && from.c !== null) state.c.set(from.c);
    const refiner = this.refiner;
    const { refineSteps: S, refineLines: R, refineLength: P, refineRate: rate } = this.options;
    const spread = lineStarts(tokens, newline, S * R, 0, P);
    // (A text whose line breaks all lie too near its end gives a fallback with nothing to score.)
    const openings = refiner === null || spread.probeLength !== P ? [] : spread.breaks;
    if (refiner === null || openings.length === 0 || P < 1) return { state, refineLoss: [] };
    const { workspace, inputs, targets } = refiner;
    const gradient = floatArray(this.model.dtype, variables.length);
    const adam = new Optimizer(optimizerDefaults("adam"), variables.length, this.model.dtype);
    const refineLoss: number[] = [];
    for (let step = 0; step < S; step++) {
      // The next R openings, in text order, wrapping around when there are fewer than S·R.
      for (let b = 0; b < R; b++) {
        const at = openings[(step * R + b) % openings.length]!;
        for (let t = 0; t < P; t++) {
          inputs[t * R + b] = tokens[at + t]!;
          targets[t * R + b] = tokens[at + t + 1]!;
        }
      }
      for (let l = 0; l < L; l++) {
        for (let b = 0; b < R; b++) {
          refiner.state.h.set(state.h.subarray(l * H, l * H + H), (l * R + b) * H);
          if (refiner.state.c !== null && state.c !== null) refiner.state.c.set(state.c.subarray(l * H, l * H + H), (l * R + b) * H);
        }
      }
      refineLoss.push(workspace.forward(inputs, targets, refiner.state, { steps: P }));
      workspace.backward();
      // ∂loss/∂variable: the initial-state gradients of the R streams (R, H) summed, per layer.
      const sumStreams = (streams: ArrayLike<number>, at: number): void => {
        for (let j = 0; j < H; j++) {
          let g = 0;
          for (let b = 0; b < R; b++) g += streams[b * H + j]!;
          gradient[at + j] = g;
        }
      };
      for (let l = 0; l < L; l++) {
        sumStreams(workspace.initialHGrad(l), l * H);
        if (state.c !== null) sumStreams(workspace.initialCGrad(l), n + l * H);
      }
      adam.step(variables, gradient, rate);
    }
    // backward() added into the weights' gradients too: leave them as zero as a step leaves them.
    this.model.params.zeroGrads();
    return { state, refineLoss };
  }
}

/** The start states, with a recorder made for them (see StartStateRecorder for repeated use). */
export function recordStartState(
  model: CharModel,
  kernels: Kernels,
  tokens: ArrayLike<number>,
  newline: number,
  options: StartStateOptions = {},
): StartStates | null {
  return new StartStateRecorder(model, kernels, options).record(tokens, newline);
}

/**
 * The start states as the checkpoint's `startState` field: "h" [L,H] and, for lstm, "c" [L,H]
 * (for samples); "lineH" and "lineC" the same for the line state.
 */
export function startStateRecord(states: StartStates, layers: number, hidden: number): Record<string, { shape: number[]; data: Float32Array }> {
  const shape = [layers, hidden];
  const { state, lineState } = states;
  const record: Record<string, { shape: number[]; data: Float32Array }> = { h: { shape, data: Float32Array.from(state.h) } };
  if (state.c !== null) record.c = { shape, data: Float32Array.from(state.c) };
  record.lineH = { shape, data: Float32Array.from(lineState.h) };
  if (lineState.c !== null) record.lineC = { shape, data: Float32Array.from(lineState.c) };
  return record;
}

type StartStateField = Record<string, { shape: number[]; data: Float32Array }> | null;

/** The checkpoint's `startState` field as the start state for samples (batch 1); null when it has none. */
export function startStateOf(model: CharModel, record: StartStateField): RecurrentState | null {
  return stateFrom(model, record, "h", "c");
}

/**
 * The line state of the checkpoint's `startState` field (batch 1), for lines scored on their own;
 * the start state for samples where a checkpoint has no line state (one saved before it was
 * recorded); null when it has neither.
 */
export function lineStartStateOf(model: CharModel, record: StartStateField): RecurrentState | null {
  return stateFrom(model, record, "lineH", "lineC") ?? startStateOf(model, record);
}

function stateFrom(model: CharModel, record: StartStateField, h: string, c: string): RecurrentState | null {
  if (record === null || record[h] === undefined) return null;
  const state = model.newState(1);
  state.h.set(record[h].data);
  if (state.c !== null) {
    if (record[c] === undefined) return null;
    state.c.set(record[c].data);
  }
  return state;
}
