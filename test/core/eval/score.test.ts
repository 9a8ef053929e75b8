// TextScorer against a reference that feeds one character at a time and computes each
// log-softmax itself in float64: the windowed pass must give the same total whatever the window
// length, for every cell type, with a learned initial state, and on every backend.

import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_WINDOW_STEPS, STEPPER_MIN_PARAMETERS, TextScorer, scoreSummary } from "../../../src/core/eval/score.js";
import { CharModel, Workspace } from "../../../src/core/nn/model.js";
import type { ModelConfig } from "../../../src/core/nn/params.js";
import type { Kernels } from "../../../src/core/tensor/kernels.js";
import { createRng } from "../../../src/core/tensor/rng.js";
import { float32Backends } from "../../helpers/backends.js";

const backends = float32Backends();
afterAll(() => backends.dispose());

const V = 11;
const configs: Array<[string, ModelConfig]> = [
  ["lstm, 2 layers", { cell: "lstm", activation: "tanh", layers: 2, hidden: 12, vocabSize: V, embed: 0, dropout: 0, learnInit: false }],
  ["gru with an embedding", { cell: "gru", activation: "tanh", layers: 1, hidden: 9, vocabSize: V, embed: 5, dropout: 0, learnInit: false }],
  ["rnn relu, learned initial state", { cell: "rnn", activation: "relu", layers: 2, hidden: 7, vocabSize: V, embed: 0, dropout: 0, learnInit: true }],
];

function randomModel(config: ModelConfig, kernels: Kernels, extraFloats: number): { model: CharModel; arena: ReturnType<Kernels["newArena"]> } {
  const arena = kernels.newArena("float32", CharModel.arenaFloats(config, "float32") + extraFloats);
  const model = new CharModel(config, arena);
  model.initialize(createRng(42));
  // A learned initial state that is not zero, so starting from it is visible in the loss.
  const rng = createRng(7);
  for (const view of model.params.views) if (/^[hc]0_l/.test(view.name)) for (let i = 0; i < view.value.length; i++) view.value[i] = rng.next() - 0.5;
  return { model, arena };
}

const randomTokens = (n: number, seed: number): Int32Array => {
  const rng = createRng(seed);
  return Int32Array.from({ length: n }, () => Math.floor(rng.next() * V));
};

/** Σ −log softmax(logits_i)[tokens[i+1]], one forward step at a time, the softmax in float64 here. */
function referenceLossSum(model: CharModel, kernels: Kernels, tokens: Int32Array): number {
  const config = model.config;
  const workspace = new Workspace(model, 1, 1, kernels.newArena("float32", Workspace.arenaFloats(config, 1, 1, "float32")), kernels);
  const state = model.newState(1);
  const input = new Int32Array(1);
  let total = 0;
  for (let i = 0; i + 1 < tokens.length; i++) {
    input[0] = tokens[i]!;
    workspace.forward(input, null, state, { fromInit: i === 0 });
    const logits = workspace.logits;
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[v]!);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[v]! - max);
    total += Math.log(sum) + max - logits[tokens[i + 1]!]!;
  }
  return total;
}

describe("TextScorer", () => {
  for (const [backendName, kernels] of backends.list) {
    // The TypeScript kernels give bit-identical logits for any window; a compiled backend may
    // round a product of one row differently from a tile of four, at float32's last digit.
    const tolerance = backendName === "js" ? 1e-12 : 1e-6;
    for (const [configName, config] of configs) {
      it(`${backendName}, ${configName}: any window length gives the one-step total`, () => {
        const tokens = randomTokens(300, 3);
        const windows = [1, 7, 64, DEFAULT_WINDOW_STEPS];
        const { model, arena } = randomModel(config, kernels, windows.reduce((sum, T) => sum + TextScorer.arenaFloats(config, T, "float32"), 0));
        const reference = referenceLossSum(model, kernels, tokens);
        for (const T of windows) {
          const scorer = new TextScorer(model, kernels, arena, T);
          // Small models run windows on every backend.
          expect(scorer.stepper).toBeNull();
          const score = scorer.score(tokens);
          expect(score.predictions).toBe(299);
          expect(Math.abs(score.lossSum - reference)).toBeLessThanOrEqual(tolerance * reference);
        }
      });
    }

    // A model past STEPPER_MIN_PARAMETERS: on several threads the scorer steps the kernels' stepper.
    const large: ModelConfig = { cell: "lstm", activation: "tanh", layers: 1, hidden: 512, vocabSize: V, embed: 0, dropout: 0, learnInit: true };
    it(`${backendName}, a model of over ${STEPPER_MIN_PARAMETERS} parameters: the one-step total, on the stepper where there are threads`, () => {
      const tokens = randomTokens(120, 4);
      const { model, arena } = randomModel(large, kernels, TextScorer.arenaFloats(large, 32, "float32"));
      expect(model.params.size).toBeGreaterThanOrEqual(STEPPER_MIN_PARAMETERS);
      const scorer = new TextScorer(model, kernels, arena, 32);
      expect(scorer.stepper !== null).toBe(kernels.threads > 1);
      const reference = referenceLossSum(model, kernels, tokens);
      expect(Math.abs(scorer.score(tokens).lossSum - reference)).toBeLessThanOrEqual(tolerance * reference);
    });

    for (const [configName, config] of [["small", configs[0]![1]], ["large", large]] as const) it(`${backendName}, ${configName}: from a given state, and carried from piece to piece, the one-pass totals`, () => {
      const tokens = randomTokens(200, 5);
      const { model, arena } = randomModel(config, kernels, TextScorer.arenaFloats(config, 32, "float32"));
      const scorer = new TextScorer(model, kernels, arena, 32);
      const whole = scorer.score(tokens).lossSum;
      // Pieces [0, 90] and [90, 199]: the second goes on from the state the first left.
      const pieces = scorer.score(tokens.subarray(0, 91)).lossSum + scorer.score(tokens.subarray(90), "carried").lossSum;
      expect(Math.abs(pieces - whole)).toBeLessThanOrEqual(tolerance * whole);
      // From the state the first 90 tokens leave: the rest of the whole pass.
      const prefix = scorer.score(tokens.subarray(0, 91)).lossSum;
      const after = model.newState(1);
      const workspace = new Workspace(model, 1, 90, kernels.newArena("float32", Workspace.arenaFloats(config, 1, 90, "float32")), kernels);
      workspace.forward(tokens.subarray(0, 90), null, after, { fromInit: true });
      const rest = scorer.score(tokens.subarray(90), after).lossSum;
      expect(Math.abs(prefix + rest - whole)).toBeLessThanOrEqual(tolerance * whole);
    });
  }

  it("starts every score from the initial state, so scoring twice gives the same total", () => {
    const config = configs[0]![1];
    const { model, arena } = randomModel(config, backends.list[0]![1], TextScorer.arenaFloats(config, 16, "float32"));
    const scorer = new TextScorer(model, backends.list[0]![1], arena, 16);
    const tokens = randomTokens(50, 8);
    const first = scorer.score(tokens);
    scorer.score(randomTokens(40, 9));
    expect(scorer.score(tokens)).toEqual(first);
  });

  it("counts one prediction fewer than tokens, and none for one token or none", () => {
    const config = configs[0]![1];
    const { model, arena } = randomModel(config, backends.list[0]![1], TextScorer.arenaFloats(config, 4, "float32"));
    const scorer = new TextScorer(model, backends.list[0]![1], arena, 4);
    expect(scorer.score(new Int32Array(0))).toEqual({ lossSum: 0, predictions: 0 });
    expect(scorer.score(Int32Array.from([3]))).toEqual({ lossSum: 0, predictions: 0 });
    expect(scorer.score(Int32Array.from([3, 4, 5, 6, 7, 8, 9])).predictions).toBe(6);
  });
});

describe("scoreSummary", () => {
  it("gives the mean nats, bits = nats / ln 2 and perplexity = e^nats", () => {
    const summary = scoreSummary({ lossSum: 6, predictions: 4 });
    expect(summary.nats).toBe(1.5);
    expect(summary.bits).toBeCloseTo(2.1640425613334453, 12);
    expect(summary.perplexity).toBeCloseTo(4.4816890703380645, 12);
  });

  it("is NaN, not a division by zero, with nothing predicted", () => {
    expect(scoreSummary({ lossSum: 0, predictions: 0 }).nats).toBeNaN();
  });
});
