// Three steps of every optimiser (and both clipping modes) against PyTorch's own optimisers on
// the same model and batch, and exact save/restore of optimiser state.

import { describe, expect, it } from "vitest";
import { clipGradients } from "../../../src/core/optim/clip.js";
import { Optimizer, optimizerDefaults, type OptimizerSettings } from "../../../src/core/optim/optimizers.js";
import { buildFromCase, readFixture, worstError, type ParityCase } from "../../helpers/fixtures.js";

const fixture = readFixture<{ cases: ParityCase[] }>("torch-parity.json");
const runs = fixture.cases.flatMap((c) => c.optimizers.map((o) => [`${c.name} ${o.name}`, c, o] as const));

function settingsOf(o: ParityCase["optimizers"][number]): OptimizerSettings {
  const type = o.type === "adamw" ? "adam" : o.type;
  const s = o.settings;
  return {
    ...optimizerDefaults(type),
    momentum: s.momentum ?? 0,
    weightDecay: s.weightDecay ?? 0,
    ...(s.alpha !== undefined ? { alpha: s.alpha } : {}),
    ...(s.eps !== undefined ? { eps: s.eps } : {}),
    ...(s.betas ? { beta1: s.betas[0], beta2: s.betas[1] } : {}),
  };
}

describe("optimisers match PyTorch after three steps (float64)", () => {
  it("the fixture has every optimiser and both clip modes", () => {
    const names = new Set(runs.map(([, , o]) => o.name));
    for (const n of ["sgd", "sgd-plain", "rmsprop", "adagrad", "adam", "adamw", "adam-clip-norm", "sgd-clip-value"]) expect(names).toContain(n);
  });

  it.each(runs)("%s", (_label, c, o) => {
    const { model, workspace, state } = buildFromCase(c, "float64");
    const optimizer = new Optimizer(settingsOf(o), model.params.size, "float64");
    const inputs = Int32Array.from(c.inputs), targets = Int32Array.from(c.targets);
    for (let step = 0; step < o.steps; step++) {
      if (c.initialState) {
        state.h.set(c.initialState.h);
        if (state.c) state.c.set(c.initialState.c!);
      }
      const loss = workspace.forward(inputs, targets, state, { fromInit: c.learnInit });
      expect(Math.abs(loss - o.lossesBefore[step]!) / o.lossesBefore[step]!).toBeLessThan(1e-9);
      model.params.zeroGrads();
      workspace.backward();
      const norm = clipGradients(model.params.grads, o.clip.mode === "value" ? "value" : "norm", o.clip.mode === "none" ? 0 : o.clip.value!);
      if (o.gradNormsBeforeClip) expect(Math.abs(norm - o.gradNormsBeforeClip[step]!) / norm).toBeLessThan(1e-9);
      optimizer.step(model.params.values, model.params.grads, o.settings.lr);
    }
    for (const view of model.params.views) {
      expect(worstError(view.value, o.paramsAfter[view.name]!, 1e-8), view.name).toBeLessThan(1e-9);
    }
  });
});

describe("optimiser state", () => {
  it.each(["sgd", "rmsprop", "adagrad", "adam"] as const)("%s: save and restore continue bit-identically", (type) => {
    const settings = { ...optimizerDefaults(type), momentum: type === "sgd" ? 0.9 : 0, weightDecay: 0.01 };
    const n = 37;
    const grads = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7));
    const straight = new Optimizer(settings, n);
    const valuesA = Float32Array.from({ length: n }, (_, i) => Math.cos(i));
    for (let s = 0; s < 5; s++) straight.step(valuesA, grads, 0.01);

    const first = new Optimizer(settings, n);
    const valuesB = Float32Array.from({ length: n }, (_, i) => Math.cos(i));
    for (let s = 0; s < 2; s++) first.step(valuesB, grads, 0.01);
    const saved = first.state();
    const copy = { type: saved.type, step: saved.step, buffers: Object.fromEntries(Object.entries(saved.buffers).map(([k, v]) => [k, v.slice()])) };
    const second = new Optimizer(settings, n);
    second.load(copy);
    for (let s = 0; s < 3; s++) second.step(valuesB, grads, 0.01);
    expect(Buffer.from(valuesB.buffer)).toEqual(Buffer.from(valuesA.buffer));
  });

  it("refuses state of another optimiser or size", () => {
    const adam = new Optimizer(optimizerDefaults("adam"), 4);
    expect(() => adam.load({ type: "rmsprop", step: 1, buffers: {} })).toThrow(/rmsprop/);
    expect(() => adam.load({ type: "adam", step: 1, buffers: { firstMoment: new Float32Array(3), secondMoment: new Float32Array(4) } })).toThrow(/firstMoment/);
  });
});
