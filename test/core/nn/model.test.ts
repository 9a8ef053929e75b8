// The batched model against an independent step-by-step reference, float64 central-difference
// gradient checks of every parameter and of the initial states for every cell, 1–3 layers,
// learned initial state and embedding (dropout off), plus dropout and the "hello" overfit
// (float32, so on every backend).

import { afterAll, describe, expect, it } from "vitest";
import { Arena } from "../../../src/core/tensor/arena.js";
import { jsKernels } from "../../../src/core/tensor/kernels.js";
import { createRng } from "../../../src/core/tensor/rng.js";
import { CharModel, Workspace } from "../../../src/core/nn/model.js";
import { parameterCount, type ModelConfig } from "../../../src/core/nn/params.js";
import { Optimizer, optimizerDefaults } from "../../../src/core/optim/optimizers.js";
import { worstError } from "../../helpers/fixtures.js";
import { referenceForward } from "../../helpers/reference-model.js";
import { float32Backends } from "../../helpers/backends.js";

const backends = float32Backends();
afterAll(() => backends.dispose());

function build(config: ModelConfig, B: number, T: number, dtype: "float32" | "float64" = "float64", seed = 7) {
  const arena = new Arena(dtype, CharModel.arenaFloats(config, dtype) + Workspace.arenaFloats(config, B, T, dtype));
  const model = new CharModel(config, arena);
  const rng = createRng(seed);
  model.initialize(rng);
  // Make every parameter non-trivial (learned initial states start at zero otherwise).
  for (const v of model.params.views) for (let i = 0; i < v.value.length; i++) v.value[i] += (rng.next() - 0.5) * 0.4;
  const workspace = new Workspace(model, B, T, arena, jsKernels);
  const tokens = (n: number) => Int32Array.from({ length: n }, () => Math.floor(rng.next() * config.vocabSize));
  const state = model.newState(B);
  for (let i = 0; i < state.h.length; i++) state.h[i] = rng.next() - 0.5;
  if (state.c) for (let i = 0; i < state.c.length; i++) state.c[i] = rng.next() - 0.5;
  return { model, workspace, inputs: tokens(B * T), targets: tokens(B * T), state, rng };
}

/**
 * The error of an analytic gradient against a central difference, in units of what the
 * difference can resolve: float64 rounding of a loss near 1 divided by 2·1e-6 leaves about
 * 1e-10 absolute noise, so the check passes below 1 when |Δ| ≤ 1e-8 + 1e-6·|numeric|.
 */
const gradientError = (numeric: number, analytic: number): number =>
  Math.abs(numeric - analytic) / (1e-8 + 1e-6 * Math.abs(numeric));

const configs: Array<[string, ModelConfig]> = [];
for (const [cell, activation] of [["rnn", "tanh"], ["rnn", "relu"], ["lstm", "tanh"], ["gru", "tanh"]] as const) {
  for (const layers of [1, 2, 3]) {
    configs.push([`${cell}-${activation} L=${layers}`, { cell, activation, layers, hidden: 4, vocabSize: 5, embed: 0, dropout: 0, learnInit: false }]);
  }
  configs.push([`${cell}-${activation} L=2 learned init`, { cell, activation, layers: 2, hidden: 3, vocabSize: 5, embed: 0, dropout: 0, learnInit: true }]);
  configs.push([`${cell}-${activation} L=2 embedding`, { cell, activation, layers: 2, hidden: 3, vocabSize: 6, embed: 3, dropout: 0, learnInit: false }]);
}

describe.each(configs)("%s", (_name, config) => {
  const B = 2, T = 3;

  it("batched forward equals the step-by-step reference", () => {
    const { model, workspace, inputs, targets, state } = build(config, B, T);
    const initial = { h: state.h.slice(), c: state.c ? state.c.slice() : null };
    workspace.forward(inputs, targets, state, { fromInit: false });
    const reference = referenceForward(model, inputs, B, T, initial);
    expect(worstError(workspace.logits, reference.logits, 1e-12)).toBeLessThan(1e-12);
    expect(worstError(state.h, reference.h, 1e-12)).toBeLessThan(1e-12);
    if (state.c) expect(worstError(state.c, reference.c, 1e-12)).toBeLessThan(1e-12);
  });

  it("every gradient matches central differences", () => {
    const { model, workspace, inputs, targets, state } = build(config, B, T);
    const fromInit = config.learnInit;
    const saved = { h: state.h.slice(), c: state.c?.slice() };
    const lossAt = (): number => {
      state.h.set(saved.h);
      if (state.c) state.c.set(saved.c!);
      return workspace.forward(inputs, targets, state, { fromInit });
    };
    lossAt();
    model.params.zeroGrads();
    workspace.backward();
    const analytic = model.params.grads.slice();
    const values = model.params.values;
    const eps = 1e-6;
    let worst = 0, checked = 0;
    for (let i = 0; i < values.length; i++) {
      const original = values[i]!;
      values[i] = original + eps;
      const up = lossAt();
      values[i] = original - eps;
      const down = lossAt();
      values[i] = original;
      const numeric = (up - down) / (2 * eps);
      worst = Math.max(worst, gradientError(numeric, analytic[i]!));
      checked++;
    }
    expect(checked).toBe(parameterCount(config));
    expect(worst).toBeLessThan(1);
    // The learned initial states really receive gradient.
    if (config.learnInit) expect(model.params.get("h0_l0").grad.some((g) => g !== 0)).toBe(true);
  });

  it.skipIf(config.learnInit)("the gradient of the carried-in state matches central differences", () => {
    const { workspace, inputs, targets, state } = build(config, B, T);
    const savedH = state.h.slice(), savedC = state.c?.slice();
    const lossWith = (h: Float64Array | Float32Array, c: Float64Array | Float32Array | undefined) => {
      state.h.set(h);
      if (state.c) state.c.set(c!);
      return workspace.forward(inputs, targets, state, { fromInit: false });
    };
    lossWith(savedH, savedC);
    workspace.backward();
    const n = B * config.hidden;
    for (let l = 0; l < config.layers; l++) {
      for (const which of state.c ? (["h", "c"] as const) : (["h"] as const)) {
        const analytic = which === "h" ? workspace.initialHGrad(l) : workspace.initialCGrad(l);
        for (let i = 0; i < n; i++) {
          const probe = (delta: number) => {
            const h = savedH.slice(), c = savedC?.slice();
            (which === "h" ? h : c!)[l * n + i] += delta;
            return lossWith(h, c);
          };
          const numeric = (probe(1e-6) - probe(-1e-6)) / 2e-6;
          expect(gradientError(numeric, analytic[i]!)).toBeLessThan(1);
        }
      }
    }
  });
});

describe("dropout", () => {
  const config: ModelConfig = { cell: "lstm", activation: "tanh", layers: 3, hidden: 8, vocabSize: 6, embed: 0, dropout: 0.3, learnInit: false };

  it("is inverted (mean preserved), seeded, and off outside training", () => {
    const a = build(config, 4, 5), b = build(config, 4, 5);
    const lossA = a.workspace.forward(a.inputs, a.targets, a.state, { training: true, rng: createRng(3), fromInit: true });
    const lossB = b.workspace.forward(b.inputs, b.targets, b.state, { training: true, rng: createRng(3), fromInit: true });
    expect(lossA).toBe(lossB);
    const other = b.workspace.forward(b.inputs, b.targets, b.state, { training: true, rng: createRng(4), fromInit: true });
    expect(other).not.toBe(lossA);
    const evalA = a.workspace.forward(a.inputs, a.targets, a.state, { fromInit: true });
    const evalB = a.workspace.forward(a.inputs, a.targets, a.state, { fromInit: true });
    expect(evalA).toBe(evalB);
    expect(evalA).not.toBe(lossA);
  });

  it("gradients match central differences with the mask held fixed", () => {
    const { model, workspace, inputs, targets, state } = build(config, 2, 3);
    const lossAt = () => workspace.forward(inputs, targets, state, { training: true, rng: createRng(11), fromInit: true });
    lossAt();
    model.params.zeroGrads();
    workspace.backward();
    const analytic = model.params.grads.slice();
    const values = model.params.values;
    let worst = 0;
    for (let i = 0; i < values.length; i += 7) {
      const original = values[i]!;
      values[i] = original + 1e-6;
      const up = lossAt();
      values[i] = original - 1e-6;
      const down = lossAt();
      values[i] = original;
      const numeric = (up - down) / 2e-6;
      worst = Math.max(worst, gradientError(numeric, analytic[i]!));
    }
    expect(worst).toBeLessThan(1);
  });
});

describe.each(backends.list)("overfitting the seed example (%s)", (_backend, kernels) => {
  it.each(["rnn", "lstm", "gru"] as const)("%s trained on \"hello\" predicts e, l, l, o", (cell) => {
    // Vocabulary of "hello" sorted by code point: e=0, h=1, l=2, o=3.
    const config: ModelConfig = { cell, activation: "tanh", layers: 1, hidden: 16, vocabSize: 4, embed: 0, dropout: 0, learnInit: false };
    const arena = kernels.newArena("float32", CharModel.arenaFloats(config, "float32") + Workspace.arenaFloats(config, 1, 4, "float32"));
    const model = new CharModel(config, arena);
    model.initialize(createRng(1));
    const workspace = new Workspace(model, 1, 4, arena, kernels);
    const inputs = Int32Array.from([1, 0, 2, 2]); // h e l l
    const targets = Int32Array.from([0, 2, 2, 3]); // e l l o
    const optimizer = new Optimizer(optimizerDefaults("adam"), model.params.size);
    const state = model.newState(1);
    let loss = Infinity;
    for (let step = 0; step < 200; step++) {
      loss = workspace.forward(inputs, targets, state, { fromInit: true });
      model.params.zeroGrads();
      workspace.backward();
      optimizer.step(model.params.values, model.params.grads, 0.05);
    }
    expect(loss).toBeLessThan(0.05);
    workspace.forward(inputs, null, state, { fromInit: true });
    const predicted = [0, 1, 2, 3].map((t) => {
      const row = workspace.logits.subarray(t * 4, t * 4 + 4);
      return row.indexOf(Math.max(...row));
    });
    expect(predicted.map((i) => "ehlo"[i]).join("")).toBe("ello");
  });
});

describe.each(backends.list)("packed recurrent weights (%s)", (_backend, kernels) => {
  it("are repacked on every forward by default, and reusing them when promised changes nothing", () => {
    const config: ModelConfig = { cell: "lstm", activation: "tanh", layers: 1, hidden: 8, vocabSize: 5, embed: 0, dropout: 0, learnInit: false };
    const arena = kernels.newArena("float32", CharModel.arenaFloats(config, "float32") + Workspace.arenaFloats(config, 1, 1, "float32"));
    const model = new CharModel(config, arena);
    model.initialize(createRng(2));
    const workspace = new Workspace(model, 1, 1, arena, kernels);
    const input = Int32Array.from([3]);
    const state = model.newState(1);
    state.h.fill(0.5);
    const logitsAfter = (options: { weightsUnchanged?: boolean }): number[] => {
      const s = { h: state.h.slice(), c: state.c!.slice() };
      workspace.forward(input, null, s, options);
      return Array.from(workspace.logits);
    };
    const before = logitsAfter({});
    expect(logitsAfter({ weightsUnchanged: true })).toEqual(before);
    model.params.get("weight_hh_l0").value.fill(0.3);
    const after = logitsAfter({});
    expect(after).not.toEqual(before);
    expect(logitsAfter({ weightsUnchanged: true })).toEqual(after);
  });
});
