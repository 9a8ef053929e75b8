// The start state: where its candidate line starts lie, that each candidate is the state its
// stretch of text leaves (read window by window), that the loss matrix is what the scorer gives,
// that the pick is the line start the other states predict best, and that the sampler and the
// scorer start from it; and, on a trained checkpoint named by CHARNN_START_STATE_CHECKPOINT (its
// corpus in CHARNN_START_STATE_CORPUS), the targets it is for, measured as described in
// measureTargets below.

import { describe, expect, it } from "vitest";
import { modelFromCheckpoint } from "../../../src/core/checkpoint/load.js";
import { TextScorer } from "../../../src/core/eval/score.js";
import { splitLines } from "../../../src/core/eval/lines.js";
import { CharModel, Workspace, type RecurrentState } from "../../../src/core/nn/model.js";
import type { ModelConfig } from "../../../src/core/nn/params.js";
import { Sampler } from "../../../src/core/sample/sampler.js";
import { StartStateRecorder, lineStartStateOf, lineStarts, recordStartState, refineStepsFor, startStateOf } from "../../../src/core/sample/start-state.js";
import { generateCharacters } from "../../../src/core/sample/text.js";
import { jsKernels } from "../../../src/core/tensor/kernels.js";
import { createRng } from "../../../src/core/tensor/rng.js";
import { selectKernels } from "../../../src/node/backend.js";
import { readCorpus } from "../../../src/node/corpus.js";
import { loadCheckpointFile } from "../../../src/node/store.js";

const NL = 9;

/** A small lstm with random weights (seeded), so states differ from stretch to stretch. */
function randomModel(): CharModel {
  const config: ModelConfig = { cell: "lstm", activation: "tanh", layers: 2, hidden: 6, vocabSize: 10, embed: 0, dropout: 0, learnInit: false };
  const model = new CharModel(config, jsKernels.newArena("float32", CharModel.arenaFloats(config, "float32")));
  const rng = createRng(7);
  const values = model.params.values;
  for (let i = 0; i < values.length; i++) values[i] = (rng.next() - 0.5) * 1.5;
  return model;
}

/** Tokens 0..8 in a seeded order, with a line break (9) every 5 to 12 tokens. */
function text(length: number): number[] {
  const rng = createRng(3);
  const tokens: number[] = [];
  let untilBreak = 6;
  for (let i = 0; i < length; i++) {
    if (untilBreak-- === 0) {
      tokens.push(NL);
      untilBreak = 5 + Math.floor(rng.next() * 8);
    } else tokens.push(Math.floor(rng.next() * 9));
  }
  return tokens;
}

/** The state after running `tokens` from the initial state, one stream. */
function runAlone(model: CharModel, tokens: number[]): RecurrentState {
  const workspace = new Workspace(model, 1, tokens.length, jsKernels.newArena("float32", Workspace.arenaFloats(model.config, 1, tokens.length, "float32")), jsKernels);
  const state = model.newState(1);
  workspace.forward(Int32Array.from(tokens), null, state, { steps: tokens.length, fromInit: true });
  return state;
}

describe("lineStarts", () => {
  it("places each candidate at a line break with room before and after it, spread through the text", () => {
    const tokens = text(2000);
    const { breaks, stretchLength, probeLength } = lineStarts(tokens, NL, 8, 40, 10);
    expect([stretchLength, probeLength]).toEqual([40, 10]);
    expect(breaks.length).toBe(8);
    for (const at of breaks) {
      expect(tokens[at]).toBe(NL);
      expect(at).toBeGreaterThanOrEqual(40);
      expect(at + 10).toBeLessThan(tokens.length);
    }
    expect(Math.min(...breaks)).toBeLessThan(300);
    expect(Math.max(...breaks)).toBeGreaterThan(1500);
  });

  it("falls back to the last line break of a short text, and to none without one", () => {
    expect(lineStarts([1, 2, 3, NL, 4], NL, 8, 40, 10)).toEqual({ breaks: [3], stretchLength: 3, probeLength: 0 });
    expect(lineStarts([1, 2, 3], NL, 8, 40, 10)).toEqual({ breaks: [], stretchLength: 0, probeLength: 0 });
  });
});

describe("refineStepsFor", () => {
  it("gives 40 steps to a small model, fewer to a large one but never below 12 for size alone", () => {
    expect(refineStepsFor(244_167)).toBe(40);
    expect(refineStepsFor(1_000_000)).toBe(12); // 40·250k/1M = 10, raised to 12
    expect(refineStepsFor(500_000)).toBe(20);
    expect(refineStepsFor(3_320_385)).toBe(12);
  });

  it("keeps the refining under a tenth of the training between two saves", () => {
    // 1,000 steps of 2,048 characters: room for 200 steps of 32×32, so size decides.
    expect(refineStepsFor(244_167, { steps: 1000 }, 2048)).toBe(40);
    // 100 steps: 20,480 characters of refining at most, 20 steps.
    expect(refineStepsFor(244_167, { steps: 100 }, 2048)).toBe(20);
    // A save every step of 16 characters: none, so the line state is the start state.
    expect(refineStepsFor(2_000, { steps: 1 }, 16)).toBe(0);
    // Only at the end; by time: a minute or more is room for all, less in proportion.
    expect(refineStepsFor(244_167, { steps: 0 }, 16)).toBe(40);
    expect(refineStepsFor(244_167, { ms: 300_000 }, 2048)).toBe(40);
    expect(refineStepsFor(244_167, { ms: 15_000 }, 2048)).toBe(10);
  });
});

describe("startStateOf and lineStartStateOf", () => {
  it("read the two states of a checkpoint's field; an older field's start state stands in for its line state", () => {
    const model = randomModel();
    const { layers: L, hidden: H } = model.config;
    const filled = (value: number) => ({ shape: [L, H], data: new Float32Array(L * H).fill(value) });
    const both = { h: filled(1), c: filled(2), lineH: filled(3), lineC: filled(4) };
    expect(Array.from(startStateOf(model, both)!.h)).toEqual(new Array(L * H).fill(1));
    const line = lineStartStateOf(model, both)!;
    expect([line.h[0], line.c![0]]).toEqual([3, 4]);
    const older = { h: filled(1), c: filled(2) };
    const fallback = lineStartStateOf(model, older)!;
    expect([fallback.h[0], fallback.c![0]]).toEqual([1, 2]);
    expect(lineStartStateOf(model, null)).toBeNull();
  });
});

describe("StartStateRecorder", () => {
  const options = { candidates: 5, stretchLength: 30, probeLength: 12 };

  it("judges real states: each candidate is its stretch's state, and loss[j][k] is the scorer's", () => {
    const model = randomModel();
    const tokens = text(3000);
    const choice = new StartStateRecorder(model, jsKernels, options).choose(tokens, NL)!;
    const { breaks } = choice.lineStarts;
    expect(breaks).toEqual(lineStarts(tokens, NL, 5, 30, 12).breaks);
    const { layers: L, hidden: H } = model.config;
    const states = breaks.map((at) => runAlone(model, tokens.slice(at - 30, at)));
    // The chosen state is candidate `chosen`'s own state, not a blend.
    const own = states[choice.chosen]!;
    for (let i = 0; i < L * H; i++) {
      expect(choice.state.h[i]).toBeCloseTo(own.h[i]!, 5);
      expect(choice.state.c![i]).toBeCloseTo(own.c![i]!, 5);
    }
    // loss[j][k]: the mean nats of the 12 tokens after line break k (k's newline read first), from state j.
    const scorer = new TextScorer(model, jsKernels, undefined, 16);
    for (let j = 0; j < breaks.length; j++) {
      for (let k = 0; k < breaks.length; k++) {
        const probe = Int32Array.from(tokens.slice(breaks[k]!, breaks[k]! + 13));
        expect(choice.loss[j]![k]).toBeCloseTo(scorer.score(probe, states[j]!).lossSum / 12, 4);
      }
    }
  });

  it("picks the line start the other states predict best (lowest column mean), the earliest on a tie", () => {
    const model = randomModel();
    const tokens = text(3000);
    const choice = new StartStateRecorder(model, jsKernels, options).choose(tokens, NL)!;
    const K = choice.loss.length;
    const columnMean = (k: number) => choice.loss.reduce((sum, row, j) => (j === k ? sum : sum + row[k]!), 0) / (K - 1);
    for (let k = 0; k < K; k++) expect(choice.score[k]).toBeCloseTo(columnMean(k), 10);
    const lowest = Math.min(...choice.score);
    expect(choice.chosen).toBe(choice.score.indexOf(lowest));
    // The row means (how well a state predicts the others) pick a different state here, so the test tells the two apart.
    const rowMeans = choice.loss.map((row, j) => row.reduce((sum, loss, k) => (k === j ? sum : sum + loss), 0) / (K - 1));
    expect(rowMeans.indexOf(Math.min(...rowMeans))).not.toBe(choice.chosen);
    // Recorded again, the same bits.
    const recorder = new StartStateRecorder(model, jsKernels, options);
    expect(Array.from(recorder.record(tokens, NL)!.state.h)).toEqual(Array.from(recorder.record(tokens, NL)!.state.h));
    // A short text: the state before its last line break, without judging or refining.
    const short = [1, 2, 3, 4, NL, 5];
    const alone = runAlone(model, short.slice(0, 4));
    const shortStates = recordStartState(model, jsKernels, short, NL, options)!;
    expect(Array.from(shortStates.state.h)).toEqual(Array.from(alone.h));
    expect(Array.from(shortStates.lineState.h)).toEqual(Array.from(alone.h));
    expect(recordStartState(model, jsKernels, [1, 2, 3], NL, options)).toBeNull();
  });

  it("the sampler and the scorer start from it: the same as going on after its stretch", () => {
    const model = randomModel();
    const tokens = text(400);
    const choice = new StartStateRecorder(model, jsKernels, { candidates: 3, stretchLength: 50, probeLength: 8 }).choose(tokens, NL)!;
    const start = choice.state;
    const at = choice.lineStarts.breaks[choice.chosen]!;
    const stretch = tokens.slice(at - 50, at);

    const vocabulary = { charAt: (index: number) => String.fromCharCode(97 + index) } as never;
    const policy = { temperature: 1, topK: 0, topP: 1 };
    const fromStart = new Sampler(model, jsKernels);
    fromStart.useStartState(start);
    const sampled = [...generateCharacters(fromStart, vocabulary, { length: 30, policy, rng: createRng(2), primeTokens: [NL] })];
    const warmed = [...generateCharacters(new Sampler(model, jsKernels), vocabulary, { length: 30, policy, rng: createRng(2), primeTokens: [...stretch, NL] })];
    expect(sampled.map((c) => c.text).join("")).toBe(warmed.map((c) => c.text).join(""));
    for (let i = 0; i < 30; i++) expect(sampled[i]!.logProbability).toBeCloseTo(warmed[i]!.logProbability, 4);

    const line = [NL, 3, 1, 4, 1, 5];
    const scorer = new TextScorer(model, jsKernels, undefined, 16);
    const scored = scorer.score(Int32Array.from(line), start);
    const inContext = scorer.score(Int32Array.from([...stretch, ...line])).lossSum - scorer.score(Int32Array.from([...stretch, NL])).lossSum;
    expect(scored.lossSum).toBeCloseTo(inContext, 3);
  });

  it("refines the line state from the chosen one by descent on line openings: their loss falls, the same bits twice", () => {
    const model = randomModel();
    const tokens = text(3000);
    const refining = { ...options, refineSteps: 30, refineLines: 8, refineLength: 10, refineRate: 0.05 };
    const choice = new StartStateRecorder(model, jsKernels, refining).choose(tokens, NL)!;
    const plain = new StartStateRecorder(model, jsKernels, { ...options, refineSteps: 0 }).choose(tokens, NL)!;
    // Refining starts from the state the judging chose and leaves that one as it was.
    expect(choice.chosen).toBe(plain.chosen);
    expect(Array.from(choice.state.h)).toEqual(Array.from(plain.state.h));
    expect(Array.from(plain.lineState.h)).toEqual(Array.from(plain.state.h));
    expect(plain.refineLoss).toEqual([]);
    expect(Array.from(choice.lineState.h)).not.toEqual(Array.from(choice.state.h));
    // The first step's loss is the scorer's for its openings (line break first) from the chosen state.
    expect(choice.refineLoss.length).toBe(30);
    const openings = lineStarts(tokens, NL, 30 * 8, 0, 10).breaks;
    const scorer = new TextScorer(model, jsKernels, undefined, 16);
    const meanLoss = (state: RecurrentState, at: number[]) =>
      at.reduce((sum, a) => sum + scorer.score(Int32Array.from(tokens.slice(a, a + 11)), state).lossSum, 0) / (at.length * 10);
    expect(choice.refineLoss[0]).toBeCloseTo(meanLoss(choice.state, openings.slice(0, 8)), 4);
    // Over every opening, the line state scores better than the state it started from.
    expect(meanLoss(choice.lineState, openings)).toBeLessThan(meanLoss(choice.state, openings) - 0.003);
    // The result depends only on the weights and the text, and the weights' gradients are left at zero.
    const again = new StartStateRecorder(model, jsKernels, refining).choose(tokens, NL)!;
    expect(Array.from(again.lineState.h)).toEqual(Array.from(choice.lineState.h));
    expect(Array.from(again.lineState.c!)).toEqual(Array.from(choice.lineState.c!));
    expect(model.params.grads.every((g) => g === 0)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// The targets, on a trained model

const CHECKPOINT = process.env.CHARNN_START_STATE_CHECKPOINT;
const CORPUS = process.env.CHARNN_START_STATE_CORPUS;

/** The state after reading `tokens` from the initial state, 256 steps at a time (batch 1). */
function stateAfter(model: CharModel, kernels: ReturnType<typeof selectKernels>, tokens: number[]): RecurrentState {
  const T = 256;
  const workspace = new Workspace(model, 1, T, kernels.newArena(model.dtype, Workspace.arenaFloats(model.config, 1, T, model.dtype)), kernels);
  const state = model.newState(1);
  const inputs = kernels.newIndexBuffer(T);
  for (let from = 0; from < tokens.length; from += T) {
    const steps = Math.min(T, tokens.length - from);
    for (let t = 0; t < steps; t++) inputs[t] = tokens[from + t]!;
    workspace.forward(inputs, null, state, { steps, fromInit: from === 0 });
  }
  return state;
}

/**
 * Method. The corpus is split as training splits it (the last 5% held out); the start state is
 * recorded from the training part, as every save records it.
 * (1) Unprimed samples: 20 seeds, 500 characters each at temperature 1, from the start state
 * (and, for comparison, from the initial state), each after the line break the sampler feeds.
 * A sample is judged by the same model reading it from a real context: the state 2,000
 * characters of held-out text leave just before a line break (not the state that made it, so a
 * garbled opening costs what it would cost inside real text). The ratio is the mean nats of the
 * first 50 characters over the mean nats of characters 50 to 499, pooled over the 20 seeds; its
 * standard error from the spread of the per-seed ratios is printed, and it is large (about 0.11
 * on harbour), so one 20-seed run can only be compared with the target within that.
 * The model's own log-loss of its samples (how surprised the sampler was) is printed beside it.
 * (2) Per-line: each held-out line (from the second on: the held-out text may start mid-line)
 * scored on its own after a line break, against the same characters scored in context (the
 * held-out text in one pass from the initial state); the ratio of the character-weighted sums,
 * from the line state (what eval --per-line does), from the start state for samples, and for the
 * newline warm-up from the initial state (what eval --per-line did before the line state).
 * Measured on harbour.txt after `charnn train corpora/harbour.txt --steps 1000 --lr 0.005` (see
 * the README's "charnn sample" for the numbers).
 */
describe.skipIf(CHECKPOINT === undefined || CORPUS === undefined)("start-state targets on a trained checkpoint (CHARNN_START_STATE_CHECKPOINT)", () => {
  it("unprimed samples open like the rest of them; per-line scores stay near the in-context ones", async () => {
    const kernels = selectKernels("auto", 1);
    const { model, vocabulary } = modelFromCheckpoint(await loadCheckpointFile(CHECKPOINT!), kernels);
    const tokens = Array.from(vocabulary.encode((await readCorpus([CORPUS!])).codePoints).indices);
    const split = tokens.length - Math.floor(tokens.length * 0.05);
    const train = tokens.slice(0, split), heldOut = tokens.slice(split);
    const newline = vocabulary.indexOf(0x0a);
    const started = performance.now();
    const { state: start, lineState } = recordStartState(model, kernels, train, newline)!;
    const recordMs = performance.now() - started;
    const scorer = new TextScorer(model, kernels, undefined, 256);

    // (1) samples, judged from the state a held-out stretch of 2,000 characters leaves before a line break
    const judgeAt = lineStarts(heldOut, newline, 1, 2000, 0).breaks[0]!;
    const judge = stateAfter(model, kernels, heldOut.slice(judgeAt - 2000, judgeAt));
    const ratioOfSamples = (from: RecurrentState | null) => {
      let head = 0, rest = 0, ownHead = 0, ownRest = 0;
      const perSeed: number[] = [];
      const sampler = new Sampler(model, kernels);
      sampler.useStartState(from);
      for (let seed = 1; seed <= 20; seed++) {
        const characters = [...generateCharacters(sampler, vocabulary, { length: 500, policy: { temperature: 1, topK: 0, topP: 1 }, rng: createRng(seed), primeTokens: [newline] })];
        const sample = characters.map((c) => c.token);
        const first = scorer.score(Int32Array.from([newline, ...sample.slice(0, 50)]), judge).lossSum;
        const all = scorer.score(Int32Array.from([newline, ...sample]), judge).lossSum;
        head += first;
        rest += all - first;
        perSeed.push(first / 50 / ((all - first) / 450));
        characters.forEach((c, i) => (i < 50 ? (ownHead -= c.logProbability) : (ownRest -= c.logProbability)));
      }
      const ratio = head / 50 / (rest / 450);
      const error = Math.sqrt(perSeed.reduce((sum, r) => sum + (r - ratio) ** 2, 0) / 19 / 20);
      return { ratio, error, own: ownHead / 50 / (ownRest / 450) };
    };
    const fromStart = ratioOfSamples(start);
    const fromZero = ratioOfSamples(null);

    // (2) per-line: lines from the second on, with something to score
    // splitLines cuts at code point 10: give it the held-out indices with the newline's index as 10.
    const asText = Uint32Array.from(heldOut, (t) => (t === newline ? 0x0a : t === 0x0a ? newline : t));
    const counted = splitLines(asText).filter((line) => line.start >= 1 && line.end > line.start);
    let alone = 0, fromLineState = 0, warmUp = 0, inContext = 0;
    // And a mixture, for comparison: the line's probability averaged over 33 contexts (the
    // initial state, first, whose score is the newline warm-up's, and the states 96 characters
    // leave before 32 line starts of the training text), a sequential predictor that weighs each
    // context by how well it has predicted the line so far.
    const contexts: (RecurrentState | null)[] = [null, ...lineStarts(train, newline, 32, 96, 32).breaks.map((at) => stateAfter(model, kernels, train.slice(at - 96, at)))];
    let mixture = 0;
    for (const { start: from, end } of counted) {
      const lineTokens = Int32Array.from([newline, ...heldOut.slice(from, end)]);
      alone += scorer.score(lineTokens, start).lossSum;
      fromLineState += scorer.score(lineTokens, lineState).lossSum;
      const logLikelihoods = contexts.map((context) => -scorer.score(lineTokens, context).lossSum);
      warmUp -= logLikelihoods[0]!;
      const top = Math.max(...logLikelihoods);
      mixture -= top + Math.log(logLikelihoods.reduce((sum, x) => sum + Math.exp(x - top), 0) / contexts.length);
    }
    // In context: the held-out text in one pass, span by span; a span's predictions are of
    // tokens a..b-1 given everything before them ("carried": the state has read all but the
    // previous span's last token, which this span reads first).
    const span = (a: number, b: number, first: boolean): number =>
      scorer.score(Int32Array.from(first ? heldOut.slice(0, b) : heldOut.slice(a - 1, b)), first ? null : "carried").lossSum;
    // The first character of each line on its own: from the line state, in context, and the
    // floor for any reader without context (the cross-entropy of the held-out lines' first
    // characters under how often each character follows a line break in the training text).
    let position = 1, first = true, firstInContext = 0, firstAlone = 0, firstFloor = 0;
    const lineScorer = new TextScorer(model, kernels, undefined, 16); // its own state: `scorer` carries the in-context one
    const followers = new Map<number, number>();
    let breaks = 0;
    for (let i = 0; i + 1 < train.length; i++) {
      if (train[i] !== newline) continue;
      followers.set(train[i + 1]!, (followers.get(train[i + 1]!) ?? 0) + 1);
      breaks++;
    }
    for (const { start: from, end } of counted) {
      if (from > position) {
        span(position, from, first);
        first = false;
      }
      const head = span(from, from + 1, first);
      firstInContext += head;
      inContext += head + (end > from + 1 ? span(from + 1, end, false) : 0);
      firstAlone += lineScorer.score(Int32Array.from([newline, heldOut[from]!]), lineState).lossSum;
      firstFloor -= Math.log(Math.max(0.5, followers.get(heldOut[from]!) ?? 0) / breaks);
      first = false;
      position = end;
    }
    console.log(
      `start state (${CHECKPOINT}, recorded in ${recordMs.toFixed(0)} ms): unprimed samples, first 50 chars / rest: ` +
        `${fromStart.ratio.toFixed(3)} ± ${fromStart.error.toFixed(3)} (own log-loss ${fromStart.own.toFixed(3)}); ` +
        `from the initial state ${fromZero.ratio.toFixed(3)} ± ${fromZero.error.toFixed(3)} (own ${fromZero.own.toFixed(3)}); ` +
        `per-line / in context: newline warm-up ${(warmUp / inContext).toFixed(3)}, start state ${(alone / inContext).toFixed(3)}, ` +
        `line state ${(fromLineState / inContext).toFixed(3)}, ` +
        `mixture of ${contexts.length} contexts ${(mixture / inContext).toFixed(3)} (${counted.length} lines); ` +
        `first characters, nats per line: line state ${(firstAlone / counted.length).toFixed(2)}, in context ${(firstInContext / counted.length).toFixed(2)}, ` +
        `floor without context ${(firstFloor / counted.length).toFixed(2)} (alone it makes per-line at least ${((inContext + firstFloor - firstInContext) / inContext).toFixed(3)})`,
    );
    // Samples: the 10% target, within two standard errors of this 20-seed measurement (0.91 ±
    // 0.13 and 1.12 ± 0.21 were measured on two training runs of harbour, so a plain 1.1 would
    // fail on one of them by chance alone); and below what the initial state gives (3.60 and
    // 2.90 on the same runs; on tinyshakespeare after the same command, 1.04 ± 0.03 against 1.21).
    expect(fromStart.ratio).toBeLessThan(1.1 + 2 * fromStart.error);
    expect(fromStart.ratio).toBeLessThan(fromZero.ratio);
    // Per-line: eval --per-line starts each line from the line state. On harbour (1,000 steps)
    // it scored 1.25 times the in-context nats, against 2.74 for the newline warm-up from the
    // initial state and 1.80 from the start state for samples; on tinyshakespeare, 1.05 against
    // 1.08 and 1.11. Harbour cannot meet the 10% target: which kind of line comes next is what its
    // context knows, and its lines' first characters alone cost about 1.12 times the in-context
    // total to a reader without context (README "charnn sample"). The bound here is 1.35.
    expect(fromLineState / inContext).toBeLessThan(1.35);
    expect(fromLineState).toBeLessThan(alone);
    expect(fromLineState).toBeLessThan(warmUp);
  }, 600_000);
});
