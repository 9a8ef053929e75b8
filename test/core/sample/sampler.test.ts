// The sampler's batch-1 steps. On the wasm kernel sets it steps through their own stepper
// (weights laid out once, every layer and the decoder in one call per character): its logits and
// state must be the bits a Workspace of one step gives on the same kernels, for LSTM, GRU and
// Elman cells, 1-3 layers, one-hot and embedded input, sizes that are and are not multiples of 4,
// learned initial states, one thread and two. On every kernel set the sampler also agrees with
// the plainly written float64 forward (test/helpers/reference-model.ts) within float32 rounding.

import { afterAll, describe, expect, it } from "vitest";
import { CharModel, Workspace, type RecurrentState } from "../../../src/core/nn/model.js";
import type { ModelConfig } from "../../../src/core/nn/params.js";
import { Sampler, stepModelOf } from "../../../src/core/sample/sampler.js";
import type { FloatArray } from "../../../src/core/tensor/arena.js";
import type { Kernels, Stepper } from "../../../src/core/tensor/kernels.js";
import { createRng } from "../../../src/core/tensor/rng.js";
import type { WasmKernels } from "../../../src/core/wasm/kernels.js";
import { createWasmKernels } from "../../../src/node/wasm/node-kernels.js";
import { float32Backends } from "../../helpers/backends.js";
import { referenceForward } from "../../helpers/reference-model.js";

const backends = float32Backends();
afterAll(() => backends.dispose());

const base: ModelConfig = { cell: "lstm", activation: "tanh", layers: 2, hidden: 12, vocabSize: 11, embed: 0, dropout: 0, learnInit: false };
const configs: Array<[string, ModelConfig]> = [
  ["LSTM 1x8", { ...base, layers: 1, hidden: 8 }],
  ["LSTM 2x12", base],
  ["LSTM 3x5, embedding 6", { ...base, layers: 3, hidden: 5, embed: 6 }],
  ["LSTM 2x16, learned initial state", { ...base, hidden: 16, learnInit: true }],
  ["GRU 1x12", { ...base, cell: "gru", layers: 1 }],
  ["GRU 2x7, embedding 5", { ...base, cell: "gru", hidden: 7, embed: 5 }],
  ["GRU 3x8, learned initial state", { ...base, cell: "gru", layers: 3, hidden: 8, learnInit: true }],
  ["RNN tanh 1x9", { ...base, cell: "rnn", layers: 1, hidden: 9 }],
  ["RNN relu 2x12, embedding 7", { ...base, cell: "rnn", activation: "relu", embed: 7 }],
  ["RNN tanh 3x6, vocabulary 4", { ...base, cell: "rnn", layers: 3, hidden: 6, vocabSize: 4 }],
];

function modelFor(config: ModelConfig, kernels: Kernels, seed: number): CharModel {
  const model = new CharModel(config, kernels.newArena("float32", CharModel.arenaFloats(config, "float32")));
  const rng = createRng(seed);
  model.initialize(rng);
  // Non-zero learned initial states (initialize starts them at zero), so loading them is tested.
  for (const view of model.params.views) {
    if (/^[hc]0_l/.test(view.name)) for (let i = 0; i < view.value.length; i++) view.value[i] = rng.next() - 0.5;
  }
  return model;
}

const tokensFor = (n: number, V: number, seed: number): Int32Array => {
  const rng = createRng(seed);
  return Int32Array.from({ length: n }, () => Math.floor(rng.next() * V));
};

/** The logits after each token and the final state, from a Workspace of one step: today's batch-1 path. */
function workspaceSteps(model: CharModel, kernels: Kernels, tokens: Int32Array): { logits: Float32Array[]; state: RecurrentState } {
  const arena = kernels.newArena("float32", Workspace.arenaFloats(model.config, 1, 1, "float32"));
  const workspace = new Workspace(model, 1, 1, arena, kernels);
  const state = model.newState(1);
  const input = kernels.newIndexBuffer(1);
  const logits: Float32Array[] = [];
  tokens.forEach((token, t) => {
    input[0] = token;
    workspace.forward(input, null, state, { fromInit: t === 0, weightsUnchanged: t > 0 });
    logits.push(Float32Array.from(workspace.logits));
  });
  return { logits, state };
}

function samplerSteps(sampler: Sampler, tokens: Int32Array): Float32Array[] {
  const logits: Float32Array[] = [];
  for (const token of tokens) {
    sampler.feed(token);
    logits.push(Float32Array.from(sampler.logits));
  }
  return logits;
}

/** Equal as bits (so −0 against +0, or two different NaNs, would fail). */
function expectSameBits(actual: FloatArray, expected: FloatArray, what: string): void {
  const a = new Uint32Array(Float32Array.from(actual).buffer), e = new Uint32Array(Float32Array.from(expected).buffer);
  const first = a.findIndex((bits, i) => bits !== e[i]);
  expect(a.length, what).toBe(e.length);
  expect(first, `${what}: first differing element ${first}: ${actual[first]} against ${expected[first]}`).toBe(-1);
}

describe.each(backends.list)("the sampler on %s", (name, kernels) => {
  it(name === "js" ? "has no stepper of its own (it steps a Workspace)" : "steps through the kernels' own stepper", () => {
    expect(kernels.stepper === undefined).toBe(name === "js");
  });

  it.each(configs)("%s: the same logits and state as a Workspace of one step, bit for bit", (_label, config) => {
    const model = modelFor(config, kernels, 7);
    const tokens = tokensFor(25, config.vocabSize, 3);
    const expected = workspaceSteps(model, kernels, tokens);
    const sampler = new Sampler(model, kernels);
    sampler.reset();
    const actual = samplerSteps(sampler, tokens);
    tokens.forEach((_, t) => expectSameBits(actual[t]!, expected.logits[t]!, `logits after token ${t}`));
    // The stepper's state is the Workspace's too: the next sample would go on from the same place.
    if (kernels.stepper) {
      const stepper = kernels.stepper(stepModelOf(model));
      stepper.h.set(expected.state.h);
      stepper.c?.set(expected.state.c!);
      sampler.feed(tokens[0]!);
      stepper.step(tokens[0]!);
      expectSameBits(stepper.logits, sampler.logits, "logits of a stepper started from the Workspace's final state");
    }
  });

  it.each(configs)("%s: agrees with the float64 reference forward", (_label, config) => {
    const model = modelFor(config, kernels, 11);
    const tokens = tokensFor(20, config.vocabSize, 5);
    const { layers: L, hidden: H } = config;
    const initial = { h: new Float64Array(L * H), c: config.cell === "lstm" ? new Float64Array(L * H) : null };
    if (config.learnInit) {
      for (let l = 0; l < L; l++) {
        initial.h.set(model.params.get(`h0_l${l}`).value, l * H);
        if (initial.c) initial.c.set(model.params.get(`c0_l${l}`).value, l * H);
      }
    }
    const reference = referenceForward(model, tokens, 1, tokens.length, initial);
    const sampler = new Sampler(model, kernels);
    const actual = samplerSteps(sampler, tokens);
    const V = config.vocabSize;
    let worst = 0;
    actual.forEach((logits, t) => logits.forEach((v, i) => {
      const r = reference.logits[t * V + i]!;
      worst = Math.max(worst, Math.abs(v - r) / Math.max(1, Math.abs(r)));
    }));
    // float32 products of at most 16 terms, through 20 steps of state.
    expect(worst).toBeLessThan(2e-5);
    expect(worst).toBeGreaterThanOrEqual(0);
  });

  it("lays the weights out again for the next sample when they changed (a trainer samples between steps)", () => {
    const model = modelFor(base, kernels, 13);
    const tokens = tokensFor(10, base.vocabSize, 8);
    const sampler = new Sampler(model, kernels);
    sampler.reset();
    samplerSteps(sampler, tokens);
    for (const view of model.params.views) for (let i = 0; i < view.value.length; i += 3) view.value[i] *= -1.5;
    sampler.reset();
    const after = samplerSteps(sampler, tokens);
    const expected = workspaceSteps(model, kernels, tokens);
    tokens.forEach((_, t) => expectSameBits(after[t]!, expected.logits[t]!, `logits after token ${t}, new weights`));
  });

  it("a start state set for the sample is where it starts", () => {
    const model = modelFor(base, kernels, 17);
    const tokens = tokensFor(8, base.vocabSize, 9);
    const start = model.newState(1);
    const rng = createRng(4);
    for (const a of [start.h, start.c!]) for (let i = 0; i < a.length; i++) a[i] = rng.next() - 0.5;
    const sampler = new Sampler(model, kernels);
    sampler.useStartState(start);
    sampler.reset();
    const actual = samplerSteps(sampler, tokens);
    // The Workspace from the same state: fromInit off at the first step.
    const arena = kernels.newArena("float32", Workspace.arenaFloats(model.config, 1, 1, "float32"));
    const workspace = new Workspace(model, 1, 1, arena, kernels);
    const state = { h: Float32Array.from(start.h), c: Float32Array.from(start.c!) };
    const input = kernels.newIndexBuffer(1);
    tokens.forEach((token, t) => {
      input[0] = token;
      workspace.forward(input, null, state, {});
      expectSameBits(actual[t]!, workspace.logits, `logits after token ${t} from the start state`);
    });
  });
});

/** A stepper of its own, from the model's initial state. */
function stepperOf(kernels: Kernels, model: CharModel): Stepper {
  const stepper = kernels.stepper!(stepModelOf(model));
  model.writeInitialState({ h: stepper.h, c: stepper.c });
  return stepper;
}

/** Counts the split calls of `kernel` a wasm set makes (each one hands off to its workers). */
function countSplitCalls(kernels: WasmKernels, kernel: string): { count: number } {
  const counter = { count: 0 };
  const target = kernels as unknown as { run: (name: string, threaded: boolean, args: number[]) => void };
  const run = target.run.bind(kernels);
  target.run = (name, threaded, args) => {
    if (name === kernel && threaded) counter.count++;
    run(name, threaded, args);
  };
  return counter;
}

/** Starts a set's threads and waits until they listen: one product big enough to be split. */
function warmThreads(kernels: WasmKernels): void {
  const n = 96;
  const a = kernels.newArena("float32", 3 * n * n);
  kernels.gemm(false, false, n, n, n, a.take(n * n), 0, n, a.take(n * n), 0, n, a.take(n * n), 0, n, false);
  expect(kernels.threadsReady).toBe(true);
}

describe("the wasm stepper on two threads (weights big enough to split)", () => {
  const big: Array<[string, ModelConfig]> = [
    ["LSTM 1x512", { ...base, layers: 1, hidden: 512 }],
    ["GRU 2x384, embedding 16", { ...base, cell: "gru", hidden: 384, embed: 16 }],
    ["RNN tanh 2x768", { ...base, cell: "rnn", hidden: 768, vocabSize: 13 }],
  ];
  it.each(big)("%s: the same bits on one thread and two, and as the Workspace", (_label, config) => {
    for (const relaxed of [false, true]) {
      const one = createWasmKernels({ threads: 1, relaxed });
      const two = createWasmKernels({ threads: 2, relaxed });
      try {
        const tokens = tokensFor(12, config.vocabSize, 21);
        const modelOne = modelFor(config, one, 23), modelTwo = modelFor(config, two, 23);
        const onOne = samplerSteps(new Sampler(modelOne, one), tokens);
        warmThreads(two);
        const splits = countSplitCalls(two, "step");
        const onTwo = samplerSteps(new Sampler(modelTwo, two), tokens);
        // With the threads up, every step really split.
        expect(splits.count).toBe(tokens.length);
        const expected = workspaceSteps(modelOne, one, tokens);
        tokens.forEach((_, t) => {
          expectSameBits(onTwo[t]!, onOne[t]!, `relaxed ${relaxed}: two threads against one, token ${t}`);
          expectSameBits(onOne[t]!, expected.logits[t]!, `relaxed ${relaxed}: stepper against the Workspace, token ${t}`);
        });
      } finally {
        one.dispose();
        two.dispose();
      }
    }
  });

  it("starts the threads after a few hundred steps without waiting for them, steps alone until they listen, then splits, keeping the bits", () => {
    const config: ModelConfig = { ...base, layers: 1, hidden: 512 };
    const one = createWasmKernels({ threads: 1, relaxed: true });
    const two = createWasmKernels({ threads: 2, relaxed: true });
    try {
      const alone = stepperOf(one, modelFor(config, one, 33));
      const splits = countSplitCalls(two, "step");
      const stepper = stepperOf(two, modelFor(config, two, 33));
      const tokens = tokensFor(64, config.vocabSize, 31);
      let t = 0;
      const next = (): void => {
        const token = tokens[t++ % tokens.length]!;
        alone.step(token);
        stepper.step(token);
        expectSameBits(stepper.logits, alone.logits, `token ${t - 1}, ${splits.count} split so far`);
      };
      next();
      // The first steps run alone, before the threads are even started (a short sample's lot).
      expect(two.threadsStarted).toBe(false);
      for (let i = 0; i < 256; i++) next();
      // Then they are started, and not waited for.
      expect(two.threadsStarted).toBe(true);
      expect(splits.count).toBe(0);
      const deadline = performance.now() + 10_000;
      while (splits.count === 0 && performance.now() < deadline) next();
      expect(splits.count).toBe(1);
      for (let i = 0; i < 12; i++) next();
      expect(splits.count).toBe(13);
    } finally {
      one.dispose();
      two.dispose();
    }
  });
});
