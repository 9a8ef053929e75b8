// generateCharacters on a model whose greedy behaviour is known by construction: an Elman RNN
// over the vocabulary "abc" wired so that each character predicts the next one in the cycle
// a → b → c → a. Checks priming, length, stop strings and the summed log-probability.

import { describe, expect, it } from "vitest";
import { Vocabulary } from "../../../src/core/data/vocab.js";
import { CharModel } from "../../../src/core/nn/model.js";
import type { ModelConfig } from "../../../src/core/nn/params.js";
import { Sampler } from "../../../src/core/sample/sampler.js";
import { generateCharacters, generateText } from "../../../src/core/sample/text.js";
import { jsKernels } from "../../../src/core/tensor/kernels.js";
import { createRng } from "../../../src/core/tensor/rng.js";

const vocabulary = new Vocabulary([..."abc"].map((c) => c.codePointAt(0)!));

/** h = tanh(5·onehot(x)); logits = 10·P·h where P sends each character to the next one. */
function cycleSampler(): Sampler {
  const config: ModelConfig = { cell: "rnn", activation: "tanh", layers: 1, hidden: 3, vocabSize: 3, embed: 0, dropout: 0, learnInit: false };
  const model = new CharModel(config, jsKernels.newArena("float32", CharModel.arenaFloats(config, "float32")));
  const wIh = model.params.get("weight_ih_l0").value; // (H, V)
  const decoder = model.params.get("decoder.weight").value; // (V, H)
  for (let c = 0; c < 3; c++) {
    wIh[c * 3 + c] = 5;
    decoder[((c + 1) % 3) * 3 + c] = 10;
  }
  return new Sampler(model, jsKernels);
}

const greedy = { temperature: 0, topK: 0, topP: 1 };
const index = (c: string) => vocabulary.indexOf(c.codePointAt(0)!);

describe("generateCharacters", () => {
  it("continues from the last prime token for exactly `length` characters", () => {
    const text = generateText(cycleSampler(), vocabulary, { length: 7, policy: greedy, rng: createRng(1), primeTokens: [index("c"), index("a")] }).text;
    expect(text).toBe("bcabcab");
  });

  it("stops once the text ends with the stop string, and includes it", () => {
    const produced = [...generateCharacters(cycleSampler(), vocabulary, { length: 100, policy: greedy, rng: createRng(1), primeTokens: [index("a")], stop: "ca" })];
    expect(produced.map((c) => c.text).join("")).toBe("bca");
  });

  it("runs to the length when the stop string never appears", () => {
    const text = generateText(cycleSampler(), vocabulary, { length: 9, policy: greedy, rng: createRng(1), primeTokens: [index("a")], stop: "ba" }).text;
    expect(text).toBe("bcabcabca");
  });

  it("starts every call from the initial state (reset), so two runs agree", () => {
    const sampler = cycleSampler();
    const options = { length: 40, policy: { temperature: 1, topK: 0, topP: 1 }, primeTokens: [index("b")] };
    const first = generateText(sampler, vocabulary, { ...options, rng: createRng(5) });
    const second = generateText(sampler, vocabulary, { ...options, rng: createRng(5) });
    expect(second).toEqual(first);
  });

  it("reports each character's log-probability, and generateText sums them", () => {
    const options = { length: 30, policy: { temperature: 1.5, topK: 0, topP: 1 }, primeTokens: [index("a")] };
    const characters = [...generateCharacters(cycleSampler(), vocabulary, { ...options, rng: createRng(9) })];
    const total = generateText(cycleSampler(), vocabulary, { ...options, rng: createRng(9) });
    expect(total.text).toBe(characters.map((c) => c.text).join(""));
    expect(total.logProbability).toBeCloseTo(characters.reduce((sum, c) => sum + c.logProbability, 0), 10);
    for (const c of characters) expect(c.logProbability).toBeLessThan(0);
  });

  it("refuses to start without a prime token", () => {
    expect(() => [...generateCharacters(cycleSampler(), vocabulary, { length: 3, policy: greedy, rng: createRng(1), primeTokens: [] })]).toThrow(/at least one prime token/);
  });
});

describe("generateCharacters with carryState", () => {
  /** The cycle model with a recurrent weight, so the state remembers earlier characters. */
  function rememberingSampler(): Sampler {
    const sampler = cycleSampler();
    const wHh = sampler.model.params.get("weight_hh_l0").value; // (H, H)
    for (let h = 0; h < 3; h++) wHh[h * 3 + h] = 2;
    return sampler;
  }
  const warm = { length: 3, policy: { temperature: 1, topK: 0, topP: 1 } };

  /** Two turns: `first` then "b"; the second turn's characters and their log-probabilities. */
  function secondTurn(first: string, carryState: boolean) {
    const sampler = rememberingSampler();
    generateText(sampler, vocabulary, { ...warm, rng: createRng(3), primeTokens: [index(first)] });
    return [...generateCharacters(sampler, vocabulary, { ...warm, length: 6, rng: createRng(4), primeTokens: [index("b")], carryState })]
      .map((c) => [c.text, c.logProbability]);
  }

  it("goes on from the previous call's state, so what came before changes what comes next", () => {
    expect(secondTurn("a", true)).toEqual(secondTurn("a", true));
    expect(secondTurn("a", true)).not.toEqual(secondTurn("c", true));
    // Without it every call starts over, and the first call makes no difference.
    expect(secondTurn("a", false)).toEqual(secondTurn("c", false));
  });

  it("after a stop, the state has read the stop string too", () => {
    const stopped = rememberingSampler();
    const options = { length: 100, policy: greedy, rng: createRng(1), primeTokens: [index("a")], stop: "ca" };
    expect(generateText(stopped, vocabulary, options).text).toBe("bca");
    const next = generateText(stopped, vocabulary, { ...options, primeTokens: [index("b")], stop: null, length: 4, carryState: true }).text;
    const fed = rememberingSampler();
    const whole = generateText(fed, vocabulary, { ...options, primeTokens: ["a", "b", "c", "a", "b"].map(index), stop: null, length: 4 }).text;
    expect(next).toBe(whole);
  });
});
