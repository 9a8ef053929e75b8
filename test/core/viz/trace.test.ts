// The trace against an independent path: one forward over the whole text as a single window of
// T steps (the training code path) must give the same final state and the same logits at every
// step as the trace's one-character steps, for each cell type; predictions are the softmax's
// largest entries in order; unknown characters are left out and counted.

import { describe, expect, it } from "vitest";
import { Vocabulary } from "../../../src/core/data/vocab.js";
import { CharModel, Workspace } from "../../../src/core/nn/model.js";
import type { ModelConfig } from "../../../src/core/nn/params.js";
import { jsKernels } from "../../../src/core/tensor/kernels.js";
import { createRng } from "../../../src/core/tensor/rng.js";
import { traceText, unitValues } from "../../../src/core/viz/trace.js";

const text = 'say "hi" (twice)\n  then stop.';
const vocabulary = Vocabulary.fromCodePoints(Uint32Array.from([...text].map((c) => c.codePointAt(0)!)));

function modelOf(cell: ModelConfig["cell"], learnInit: boolean): CharModel {
  const config: ModelConfig = { cell, activation: "tanh", layers: 2, hidden: 6, vocabSize: vocabulary.size, embed: 0, dropout: 0, learnInit };
  const model = new CharModel(config, jsKernels.newArena("float32", CharModel.arenaFloats(config, "float32")));
  model.initialize(createRng(7));
  if (learnInit) for (const view of model.params.views) if (/^[hc]0_l/.test(view.name)) view.value.forEach((_, i, v) => (v[i] = 0.1 * ((i % 3) - 1)));
  return model;
}

describe("traceText", () => {
  for (const [cell, learnInit] of [["lstm", false], ["gru", true], ["rnn", false], ["lstm", true]] as const) {
    it(`${cell}${learnInit ? " with a learned initial state" : ""}: every step agrees with one window over the whole text`, () => {
      const model = modelOf(cell, learnInit);
      const trace = traceText(model, jsKernels, vocabulary, text, { top: 3 });
      const T = [...text].length, L = 2, H = 6, V = vocabulary.size;
      expect(trace.characters).toEqual([...text]);
      expect(trace.h).toHaveLength(T * L * H);
      expect(trace.c === null).toBe(cell !== "lstm");

      // The reference: the whole text in one window of T steps, as training runs it.
      const workspace = new Workspace(model, 1, T, jsKernels.newArena("float32", Workspace.arenaFloats(model.config, 1, T, "float32")), jsKernels);
      const inputs = Int32Array.from([...text].map((c) => vocabulary.indexOf(c.codePointAt(0)!)));
      const state = model.newState(1);
      workspace.forward(inputs, null, state, { fromInit: true });
      for (let i = 0; i < L * H; i++) expect(trace.h[(T - 1) * L * H + i]).toBeCloseTo(state.h[i]!, 5);
      if (state.c) for (let i = 0; i < L * H; i++) expect(trace.c![(T - 1) * L * H + i]).toBeCloseTo(state.c[i]!, 5);

      for (let t = 0; t < T; t++) {
        const logits = Array.from(workspace.logits.subarray(t * V, (t + 1) * V));
        const max = Math.max(...logits);
        const sum = logits.reduce((s, x) => s + Math.exp(x - max), 0);
        const order = logits.map((_, v) => v).sort((a, b) => logits[b]! - logits[a]! || a - b).slice(0, 3);
        expect(trace.predictions[t]!.map((p) => p.text)).toEqual(order.map((v) => vocabulary.charAt(v)));
        trace.predictions[t]!.forEach((p, i) => expect(p.probability).toBeCloseTo(Math.exp(logits[order[i]!]! - max) / sum, 5));
      }
    });
  }

  it("unitValues reads one unit of one layer across the steps", () => {
    const trace = traceText(modelOf("lstm", false), jsKernels, vocabulary, text);
    const values = unitValues(trace, 1, 4, "c");
    const T = trace.characters.length;
    for (let t = 0; t < T; t++) expect(values[t]).toBe(trace.c![t * 12 + 6 + 4]);
    expect(() => unitValues(trace, 2, 0, "h")).toThrow(/layer 2/);
    expect(() => unitValues(traceText(modelOf("gru", false), jsKernels, vocabulary, "say"), 0, 0, "c")).toThrow(/no cell state/);
  });

  it("leaves out characters the model never saw, and counts them", () => {
    const trace = traceText(modelOf("lstm", false), jsKernels, vocabulary, "sayé!é");
    expect(trace.characters).toEqual([..."say"]);
    expect(trace.skipped).toEqual(new Map([[0xe9, 2], [0x21, 1]]));
    expect(trace.predictions[0]).toHaveLength(5);
  });
});
