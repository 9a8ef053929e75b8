// The whole training path (batcher, carried state, epoch reset, clipping, Adam) against ten
// steps of PyTorch on the same weights and windows, and exact continuation from a snapshot, on
// every float32 backend; and the wasm backend's results do not depend on its thread count.

import { afterAll, describe, expect, it } from "vitest";
import type { Kernels } from "../../../src/core/tensor/kernels.js";
import { optimizerDefaults } from "../../../src/core/optim/optimizers.js";
import { Trainer, type TrainerOptions } from "../../../src/core/train/trainer.js";
import { configOf, readFixture, worstError, type TorchCase } from "../../helpers/fixtures.js";
import { float32Backends } from "../../helpers/backends.js";

const backends = float32Backends();
afterAll(() => backends.dispose());

interface TrajectoryCase extends TorchCase {
  windowsPerEpoch: number;
  steps: number;
  optimizer: { settings: { lr: number; betas: [number, number]; eps: number } };
  clip: { mode: "norm"; value: number };
  windows: number[];
  losses: number[];
  paramsAfter: Record<string, number[]>;
}
const fixture = readFixture<{ tokens: number[]; cases: TrajectoryCase[] }>("torch-trajectory.json");

function trainerFor(c: TrajectoryCase, kernels: Kernels, dropout = 0): Trainer {
  const options: TrainerOptions = {
    model: configOf(c, dropout),
    batch: c.batch,
    seqLen: c.seqLen,
    optimizer: { ...optimizerDefaults("adam"), beta1: c.optimizer.settings.betas[0], beta2: c.optimizer.settings.betas[1], eps: c.optimizer.settings.eps },
    schedule: { kind: "constant", baseLr: c.optimizer.settings.lr, decay: 1, decayEvery: 1, warmup: 0, totalSteps: null },
    clip: { mode: "norm", limit: c.clip.value },
    seed: 5,
    kernels,
  };
  const trainer = new Trainer(options, Uint32Array.from(fixture.tokens), new Uint32Array(0));
  trainer.restoreParameters(Object.fromEntries(Object.entries(c.params).map(([k, v]) => [k, { data: Float32Array.from(v.data) }])));
  return trainer;
}

const runs = fixture.cases.flatMap((c) => backends.list.map(([backend, kernels]) => [c.name, backend, c, kernels] as const));

describe.each(runs)("trajectory %s (%s)", (_name, _backend, c, kernels) => {
  it("ten steps give PyTorch's losses and weights (float32)", () => {
    expect(c.windows).toContain(0);
    expect(c.windows.indexOf(0, 1)).toBeGreaterThan(0); // crosses an epoch boundary
    const trainer = trainerFor(c, kernels);
    const losses = Array.from({ length: c.steps }, () => trainer.trainStep().loss);
    expect(worstError(losses, c.losses, 1e-3)).toBeLessThan(2e-5);
    for (const view of trainer.model.params.views) {
      expect(worstError(view.value, c.paramsAfter[view.name]!, 1e-2), view.name).toBeLessThan(2e-4);
    }
  });

  it("a run stopped and restored from its snapshot continues bit-identically (with dropout)", () => {
    const straight = trainerFor(c, kernels, 0.25);
    for (let s = 0; s < 9; s++) straight.trainStep();

    const first = trainerFor(c, kernels, 0.25);
    for (let s = 0; s < 4; s++) first.trainStep();
    const snapshot = first.snapshot();
    const weights = Object.fromEntries(first.model.params.views.map((v) => [v.name, { data: v.value.slice() }]));
    const second = trainerFor(c, kernels, 0.25);
    second.restoreParameters(weights);
    second.restore(structuredClone(snapshot));
    for (let s = 0; s < 5; s++) second.trainStep();
    expect(Buffer.from(second.model.params.values.buffer, second.model.params.values.byteOffset, second.model.params.values.byteLength))
      .toEqual(Buffer.from(straight.model.params.values.buffer, straight.model.params.values.byteOffset, straight.model.params.values.byteLength));
    expect(second.snapshot().cursor).toEqual(straight.snapshot().cursor);
  });
});

describe.each(backends.list)("validation (%s)", (_backend, kernels) => {
  it("is the mean loss over the held-out streams, the same every time, and null without text", () => {
    const c = fixture.cases[0]!;
    const tokens = Uint32Array.from(fixture.tokens);
    const trainer = new Trainer({
      model: configOf(c), batch: 2, seqLen: 8, optimizer: optimizerDefaults("adam"),
      schedule: { kind: "constant", baseLr: 0.01, decay: 1, decayEvery: 1, warmup: 0, totalSteps: null },
      clip: { mode: "norm", limit: 5 }, seed: 1, kernels,
    }, tokens.subarray(0, 150), tokens.subarray(150));
    const first = trainer.validationLoss()!;
    expect(first).toBeGreaterThan(Math.log(c.vocab) * 0.8);
    expect(trainer.validationLoss()).toBe(first);
    for (let s = 0; s < 30; s++) trainer.trainStep();
    expect(trainer.validationLoss()!).toBeLessThan(first);
    const none = new Trainer({ ...trainer.options }, tokens.subarray(0, 150), tokens.subarray(150, 155));
    expect(none.validationLoss()).toBeNull();
  });
});

describe.each(["wasm", "wasm-relaxed"])("threads (%s)", (build) => {
  it.each(fixture.cases.map((c) => [c.name, c] as const))("%s: two threads train to the same bits as one (with dropout)", (_name, c) => {
    const [, one] = backends.list.find(([name]) => name === build)!;
    const [, two] = backends.list.find(([name]) => name === `${build}, 2 threads`)!;
    const a = trainerFor(c, one, 0.25), b = trainerFor(c, two, 0.25);
    for (let s = 0; s < 6; s++) expect(b.trainStep().loss).toBe(a.trainStep().loss);
    const bytes = (t: Trainer) => Buffer.from(t.model.params.values.buffer, t.model.params.values.byteOffset, t.model.params.values.byteLength);
    expect(bytes(b).equals(bytes(a))).toBe(true);
    expect(b.validationLoss()).toBe(a.validationLoss());
  });

  it("a model big enough for every product to be split trains to the same bits on one thread and two", () => {
    const [, one] = backends.list.find(([name]) => name === build)!;
    const [, two] = backends.list.find(([name]) => name === `${build}, 2 threads`)!;
    const tokens = Uint32Array.from({ length: 6000 }, (_, i) => (i * 7919 + (i >> 3)) % 31);
    const make = (kernels: Kernels) => new Trainer({
      model: { cell: "lstm", activation: "tanh", layers: 2, hidden: 64, vocabSize: 31, embed: 0, dropout: 0.1, learnInit: false },
      batch: 12, seqLen: 24, optimizer: optimizerDefaults("adam"),
      schedule: { kind: "constant", baseLr: 0.01, decay: 1, decayEvery: 1, warmup: 0, totalSteps: null },
      clip: { mode: "norm", limit: 5 }, seed: 3, kernels,
    }, tokens.subarray(0, 5000), tokens.subarray(5000));
    const a = make(one), b = make(two);
    for (let s = 0; s < 3; s++) expect(b.trainStep().loss).toBe(a.trainStep().loss);
    const bytes = (t: Trainer) => Buffer.from(t.model.params.values.buffer, t.model.params.values.byteOffset, t.model.params.values.byteLength);
    expect(bytes(b).equals(bytes(a))).toBe(true);
    expect(b.validationLoss()).toBe(a.validationLoss());
    expect((two as { threadsStarted?: boolean }).threadsStarted).toBe(true);
  });
});
