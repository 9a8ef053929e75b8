// The PyTorch companion against charnn: optimiser steps equal charnn's trainer on the same batches
// (adaptive ones in float64, where a gradient near eps carries no rounding noise of its own size);
// `torchrun --nproc_per_node 2` (gloo) equals one process over 60 steps across epoch boundaries, on
// exactly charnn's batch layout; its file imports and samples in charnn; a resumed DDP run goes on
// exactly. SGD is also compared in float32, through charnn train and export.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { StreamBatcher, splitValidation } from "../../src/core/data/batches.js";
import { Vocabulary } from "../../src/core/data/vocab.js";
import { optimizerDefaults, type OptimizerType } from "../../src/core/optim/optimizers.js";
import { decodeSafetensors } from "../../src/core/safetensors.js";
import { importParameters, planImport } from "../../src/core/safetensors-model.js";
import { jsKernels } from "../../src/core/tensor/kernels.js";
import { Trainer } from "../../src/core/train/trainer.js";
import { COMPANION, TORCH_SIDE, charnn, corpusText, python, readTensors, relative, skipNote, temporaryFolder, torchMissing, torchrun, worstTensorError } from "./helpers.js";

const TOLERANCE = 1e-5;
const BATCH = 4, SEQ_LEN = 8, VAL_FRAC = 0.1;
const DDP_STEPS = 60, STOP_AFTER = 25;

interface OptimizerCase {
  name: string;
  type: OptimizerType;
  lr: number;
  momentum?: number;
  weightDecay?: number;
  clip?: { mode: "norm" | "value"; limit: number };
}

const OPTIMIZER_CASES: OptimizerCase[] = [
  { name: "adam", type: "adam", lr: 0.05 },
  { name: "adamw (adam with decoupled weight decay)", type: "adam", lr: 0.05, weightDecay: 0.1 },
  { name: "sgd with momentum", type: "sgd", lr: 0.5, momentum: 0.9 },
  { name: "sgd with momentum and L2 weight decay", type: "sgd", lr: 0.5, momentum: 0.9, weightDecay: 0.01 },
  { name: "rmsprop", type: "rmsprop", lr: 0.01 },
  { name: "adagrad", type: "adagrad", lr: 0.1 },
  { name: "adam, clipped by norm", type: "adam", lr: 0.05, clip: { mode: "norm", limit: 0.05 } },
  { name: "sgd, clipped by value", type: "sgd", lr: 1, momentum: 0, clip: { mode: "value", limit: 0.01 } },
];
const OPTIMIZER_STEPS = 2;
/** The cases also run through `charnn train` in float32 (see the file's header). */
const FLOAT32_CASES = [2, 7];

/** The same settings as flags, for charnn train and the companion alike. */
const flagsOf = (c: OptimizerCase): string[] => [
  "--optimizer", c.type, "--lr", String(c.lr),
  ...(c.momentum !== undefined ? ["--momentum", String(c.momentum)] : []),
  ...(c.weightDecay !== undefined ? ["--weight-decay", String(c.weightDecay)] : []),
  "--clip", String(c.clip?.limit ?? 5), "--clip-mode", c.clip?.mode ?? "norm",
];

const MODEL = ["--cell", "lstm", "--layers", "2", "--hidden", "12", "--embed", "5", "--learn-init"];
const LAYOUT = ["--batch", String(BATCH), "--seq-len", String(SEQ_LEN), "--val-frac", String(VAL_FRAC)];
const DDP_RUN = ["train", "text.txt", "--from", "w0.safetensors", ...LAYOUT, "--dropout", "0.25", "--steps", String(DDP_STEPS), "--eval-every", "20", "--checkpoint-every", "0", "--log-batches", "--dtype", "float64"];

interface StepEvent {
  type: "step";
  step: number;
  epoch: number;
  window: number;
  loss: number;
  inputs: number[];
}

const events = (file: string): Array<Record<string, unknown>> => readFileSync(file, "utf8").trim().split("\n").map((line) => JSON.parse(line));
const steps = (file: string): StepEvent[] => events(file).filter((event) => event.type === "step") as unknown as StepEvent[];

describe.skipIf(torchMissing !== null)(`the PyTorch companion${skipNote}`, () => {
  const folder = temporaryFolder("companion");
  const at = (...parts: string[]) => path.join(folder.dir, ...parts);
  let text = "";
  let companionEval: { nats: number; predictions: number } = { nats: NaN, predictions: 0 };

  beforeAll(async () => {
    text = corpusText(900);
    writeFileSync(at("text.txt"), text);
    // One Python process: the starting weights, one companion run per optimiser, and the
    // one-process reference of the DDP runs.
    const optimizerRun = (c: OptimizerCase, dtype: string, out: string) =>
      ["train", "text.txt", "--from", "w0.safetensors", ...LAYOUT, ...flagsOf(c), "--steps", String(OPTIMIZER_STEPS), "--dtype", dtype, "--out", out];
    const runs = [
      ["init", "text.txt", "--out", "w0.safetensors", ...MODEL, "--seed", "5"],
      ...OPTIMIZER_CASES.map((c, index) => optimizerRun(c, "float64", `torch-opt${index}`)),
      ...FLOAT32_CASES.map((index) => optimizerRun(OPTIMIZER_CASES[index]!, "float32", `torch32-opt${index}`)),
      [...DDP_RUN, "--out", "one-process"],
      ["eval", "one-process/model.safetensors", "text.txt"],
    ];
    writeFileSync(at("runs.json"), JSON.stringify({ companion: path.dirname(COMPANION), runs }));
    const companion = await python([TORCH_SIDE, "companion-steps", "runs.json"], folder.dir);
    expect(companion.code, companion.stderr).toBe(0);
    const printed = companion.stdout.trim().split("\n");
    expect(JSON.parse(printed.at(-1)!)).toEqual(runs.map(() => 0));
    companionEval = JSON.parse(printed.at(-2)!);

    const imported = await charnn(["import", "w0.safetensors", "--out", "w0"], folder.dir);
    expect(imported.code, imported.stderr).toBe(0);
    for (const index of FLOAT32_CASES) {
      const trained = await charnn(["train", "text.txt", "--init-from", "w0/latest.json", "--steps", String(OPTIMIZER_STEPS), ...LAYOUT, ...flagsOf(OPTIMIZER_CASES[index]!), "--backend", "js", "--out", `charnn-opt${index}`], folder.dir);
      expect(trained.code, trained.stderr).toBe(0);
      const exported = await charnn(["export", `charnn-opt${index}/latest.json`, `charnn-opt${index}.safetensors`], folder.dir);
      expect(exported.code, exported.stderr).toBe(0);
    }

    for (const [out, extra] of [["two-processes", []], ["stopped", ["--stop-after", String(STOP_AFTER)]]] as const) {
      const run = await torchrun(2, [...DDP_RUN, ...extra, "--out", out], folder.dir);
      expect(run.code, run.stderr + run.stdout).toBe(0);
    }
    const resumed = await torchrun(2, ["train", "text.txt", "--resume", "--out", "stopped", "--log-batches"], folder.dir);
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
  }, 400_000);
  afterAll(() => folder.remove());

  describe(`${OPTIMIZER_STEPS} optimiser steps equal charnn's trainer on the same batches (float64)`, () => {
    it.each(OPTIMIZER_CASES.map((c, index) => [c.name, index] as const))("%s", (_name, index) => {
      const start = readTensors(at("w0.safetensors"));
      const ours = charnnSteps(OPTIMIZER_CASES[index]!);
      const theirs = readTensors(at(`torch-opt${index}`, "model.safetensors"));
      expect(worstTensorError(theirs, ours, 1e-3)).toBeLessThan(TOLERANCE);
      // The steps moved the weights by far more than the tolerance, so the check has teeth.
      expect(worstTensorError(ours, start, 1e-3)).toBeGreaterThan(1e-3);
    });

    it.each(FLOAT32_CASES.map((index) => [OPTIMIZER_CASES[index]!.name, index] as const))("%s, float32, through charnn train and export", (_name, index) => {
      const ours = readTensors(at(`charnn-opt${index}.safetensors`));
      const theirs = readTensors(at(`torch32-opt${index}`, "model.safetensors"));
      expect(worstTensorError(theirs, ours, 1e-3)).toBeLessThan(TOLERANCE);
    });
  });

  /** charnn's Trainer in float64 from w0's weights, OPTIMIZER_STEPS steps; weights in export names. */
  function charnnSteps(c: OptimizerCase): Map<string, { shape: number[]; data: Float32Array }> {
    const bytes = new Uint8Array(readFileSync(at("w0.safetensors")));
    const { header, tensors } = decodeSafetensors(bytes, "w0");
    const plan = planImport(header, "w0");
    const start = importParameters(plan, (entry) => tensors.get(entry.name)!.data, "w0");
    const codePoints = Uint32Array.from([...text].map((ch) => ch.codePointAt(0)!));
    const { train, validation } = splitValidation(new Vocabulary(plan.vocabulary).encode(codePoints).indices, VAL_FRAC);
    const trainer = new Trainer({
      model: plan.config, batch: BATCH, seqLen: SEQ_LEN,
      optimizer: { ...optimizerDefaults(c.type), momentum: c.type === "sgd" ? c.momentum ?? 0.9 : 0, weightDecay: c.weightDecay ?? 0 },
      schedule: { kind: "constant", baseLr: c.lr, decay: 1, decayEvery: 1, warmup: 0, totalSteps: OPTIMIZER_STEPS },
      clip: c.clip ?? { mode: "norm", limit: 5 }, seed: 1, kernels: jsKernels, dtype: "float64",
    }, train, validation);
    trainer.restoreParameters(start);
    for (let step = 0; step < OPTIMIZER_STEPS; step++) expect(trainer.trainStep().finite).toBe(true);
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const view of trainer.model.params.views) {
      const layer = /^([hc])0_l(\d+)$/.exec(view.name);
      if (layer === null) out.set(view.name, { shape: view.shape, data: Float32Array.from(view.value) });
      else {
        const name = `${layer[1]}0`, H = plan.config.hidden;
        const stacked = out.get(name) ?? { shape: [plan.config.layers, H], data: new Float32Array(plan.config.layers * H) };
        stacked.data.set(view.value, Number(layer[2]) * H);
        out.set(name, stacked);
      }
    }
    return out;
  }

  describe("torchrun --nproc_per_node 2 (gloo) equals one process", () => {
    it(`step for step over ${DDP_STEPS} steps, across epoch boundaries`, () => {
      const one = steps(at("one-process", "log.ndjson"));
      const two = steps(at("two-processes", "log.ndjson"));
      expect(two).toHaveLength(DDP_STEPS);
      expect(Math.max(...two.map((s) => s.epoch))).toBeGreaterThanOrEqual(2);
      two.forEach((s, k) => {
        expect(s.step).toBe(k);
        expect(relative(s.loss, one[k]!.loss), `step ${k}`).toBeLessThan(TOLERANCE);
      });
      expect(worstTensorError(readTensors(at("two-processes", "model.safetensors")), readTensors(at("one-process", "model.safetensors")), 1e-3)).toBeLessThan(TOLERANCE);
    });

    it("reads exactly the windows charnn's own batcher gives", () => {
      const codePoints = Uint32Array.from([...text].map((ch) => ch.codePointAt(0)!));
      const vocabulary = Vocabulary.fromCodePoints(codePoints);
      const { train } = splitValidation(vocabulary.encode(codePoints).indices, VAL_FRAC);
      const batcher = new StreamBatcher(train, BATCH, SEQ_LEN);
      const inputs = new Int32Array(BATCH * SEQ_LEN), targets = new Int32Array(BATCH * SEQ_LEN);
      for (const s of steps(at("two-processes", "log.ndjson"))) {
        const step = batcher.next(inputs, targets);
        expect([s.epoch, s.window]).toEqual([step.epoch, step.window]);
        expect(s.inputs).toEqual([...inputs]);
      }
    });

    it("its eval command gives charnn eval's loss on the same weights", async () => {
      const imported = await charnn(["import", "one-process/model.safetensors", "--out", "one-process-imported"], folder.dir);
      expect(imported.code, imported.stderr).toBe(0);
      const evaluated = await charnn(["eval", "-c", "one-process-imported", "text.txt", "--json"], folder.dir);
      expect(evaluated.code, evaluated.stderr).toBe(0);
      const ours = JSON.parse(evaluated.stdout);
      expect(companionEval.predictions).toBe(ours.predictions);
      expect(relative(companionEval.nats, ours.nats)).toBeLessThan(TOLERANCE);
    });

    it("writes a file charnn imports and samples from", async () => {
      const imported = await charnn(["import", "two-processes/model.safetensors", "--out", "from-torch"], folder.dir);
      expect(imported.code, imported.stderr).toBe(0);
      const sampled = await charnn(["sample", "-c", "from-torch/latest.json", "--length", "40", "--seed", "3", "--prime", "The "], folder.dir);
      expect(sampled.code, sampled.stderr).toBe(0);
      expect([...sampled.stdout].length).toBeGreaterThanOrEqual(44);
      const info = await charnn(["info", "from-torch/latest.json", "--json"], folder.dir);
      expect(JSON.parse(info.stdout).model).toMatchObject({ cell: "lstm", layers: 2, hidden: 12, embed: 5, learnInit: true, dropout: 0.25 });
    });
  });

  it(`a DDP run stopped at step ${STOP_AFTER} and resumed under torchrun continues exactly`, () => {
    // Every step's loss, inputs and learning rate, and every validation loss, to the last bit.
    const whole = events(at("two-processes", "log.ndjson"));
    expect(whole.filter((event) => event.type === "eval")).toHaveLength(3);
    expect(events(at("stopped", "log.ndjson"))).toEqual(whole);
    expect(worstTensorError(readTensors(at("stopped", "model.safetensors")), readTensors(at("two-processes", "model.safetensors")), 1e-6)).toBe(0);
  });
});
