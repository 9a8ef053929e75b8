// The eval pass the bench times, a TextScorer as charnn eval runs it: batch 1, windows carrying
// the state, so the window length changes the speed but never the loss. A small random model;
// no clock is read.

import { describe, expect, it } from "vitest";
import { evalLoss, trainConfigFor } from "../../bench/measure.js";
import { WORKLOADS } from "../../bench/workloads.js";
import { TextScorer } from "../../dist/core/eval/score.js";
import { CharModel } from "../../dist/core/nn/model.js";
import type { ModelConfig } from "../../dist/core/nn/params.js";
import { jsKernels } from "../../dist/core/tensor/kernels.js";
import { createRng } from "../../dist/core/tensor/rng.js";

function modelAndScorers(cell: ModelConfig["cell"], windows: number[]) {
  const config: ModelConfig = { cell, activation: "tanh", layers: 2, hidden: 12, vocabSize: 9, embed: 0, dropout: 0, learnInit: false };
  const floats = CharModel.arenaFloats(config, "float32") + windows.reduce((sum, T) => sum + TextScorer.arenaFloats(config, T, "float32"), 0);
  const arena = jsKernels.newArena("float32", floats);
  const model = new CharModel(config, arena);
  model.initialize(createRng(3));
  return windows.map((T) => new TextScorer(model, jsKernels, arena, T));
}

const text = (length: number) => {
  const rng = createRng("text");
  return Uint32Array.from({ length }, () => Math.floor(rng.next() * 9));
};

describe("evalLoss", () => {
  it.each(["lstm", "gru", "rnn"] as const)("%s: windows of 7, 256 and the whole text give the same loss over every prediction", (cell) => {
    const tokens = text(600);
    const [short, standard, whole] = modelAndScorers(cell, [7, 256, 599]);
    const a = evalLoss(short!, tokens), b = evalLoss(standard!, tokens), c = evalLoss(whole!, tokens);
    expect(a.chars).toBe(599);
    expect(b.chars).toBe(599);
    expect(c.chars).toBe(599);
    // A random model predicts about ln 9 nats a character.
    expect(c.lossSum / c.chars).toBeGreaterThan(Math.log(9) * 0.8);
    expect(c.lossSum / c.chars).toBeLessThan(Math.log(9) * 1.2);
    expect(Math.abs(a.lossSum - c.lossSum) / c.lossSum).toBeLessThan(1e-5);
    expect(Math.abs(b.lossSum - c.lossSum) / c.lossSum).toBeLessThan(1e-5);
  });

  it("starts every pass from the initial state, so passes repeat exactly", () => {
    const [scorer] = modelAndScorers("lstm", [16]);
    const tokens = text(100);
    expect(evalLoss(scorer!, tokens)).toEqual(evalLoss(scorer!, tokens));
  });

  it("carries the state across windows rather than restarting each one", () => {
    const [carrying, restarted] = modelAndScorers("lstm", [10, 10]);
    const tokens = text(21);
    const carried = evalLoss(carrying!, tokens);
    const fresh = evalLoss(restarted!, tokens.subarray(0, 11)).lossSum + evalLoss(restarted!, tokens.subarray(10)).lossSum;
    expect(carried.chars).toBe(20);
    expect(carried.lossSum).not.toBeCloseTo(fresh, 6);
  });
});

describe("trainConfigFor", () => {
  it("resolves a workload to the settings charnn train would use, backend and threads included", () => {
    expect(trainConfigFor(WORKLOADS.C3, { backend: "wasm-relaxed", threads: 2 })).toMatchObject({ model: "lstm", hidden: 512, backend: "wasm-relaxed", threads: 2, clipMode: "norm" });
    const config = trainConfigFor(WORKLOADS.C1, { backend: "js", threads: 1 });
    expect(config).toMatchObject({ model: "rnn", layers: 1, hidden: 100, seqLen: 25, batch: 1, optimizer: "adagrad", lr: 0.1, clip: 5, clipMode: "value", backend: "js", threads: 1, embed: 0, dropout: 0 });
  });
});
