// A realistic checkpoint state for the checkpoint tests (a one-layer LSTM over a small Unicode
// vocabulary, Adam buffers, carried hidden state), the awkward floats placed where a lossy
// encoding would show, a bit-exact comparison, and a helper that edits a file and re-seals its
// checksum by the rule documented in src/core/checkpoint/format.ts. Test support only, not a test.

import { createHash } from "node:crypto";
import seedrandom from "seedrandom";
import { expect } from "vitest";
import type { CheckpointState, TensorRecord, TrainingCheckpointState } from "../../../src/core/checkpoint/format.js";
import { settingSourcesFor } from "../../../src/core/checkpoint/model.js";
import { TRAIN_DEFAULTS, runSettingsOf } from "../../../src/core/settings.js";

export const AWKWARD_FLOATS = {
  negativeZero: -0,
  smallestSubnormal: 1.401298464324817e-45,
  largestSubnormal: 1.1754942106924411e-38,
  maxFloat: 3.4028234663852886e38,
  minusMaxFloat: -3.4028234663852886e38,
};

const VOCABULARY = [..."\n !,.abcdeéλ😀"].map((character) => character.codePointAt(0)!).sort((a, b) => a - b);

/** A state with H hidden units over the fixed vocabulary; values drawn from a seeded generator. */
export function makeState(options: { hidden?: number; seed?: string } = {}): TrainingCheckpointState {
  const hidden = options.hidden ?? 4;
  const V = VOCABULARY.length;
  const random = seedrandom(options.seed ?? "checkpoint-fixture");
  const tensor = (shape: number[]) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = (random() - 0.5) * 0.2;
    return { shape, data };
  };
  const params = {
    weight_ih_l0: tensor([4 * hidden, V]),
    weight_hh_l0: tensor([4 * hidden, hidden]),
    bias_ih_l0: tensor([4 * hidden]),
    bias_hh_l0: tensor([4 * hidden]),
    "decoder.weight": tensor([V, hidden]),
    "decoder.bias": tensor([V]),
  };
  params.weight_ih_l0.data[0] = AWKWARD_FLOATS.negativeZero;
  params.weight_ih_l0.data[1] = AWKWARD_FLOATS.smallestSubnormal;
  params.weight_ih_l0.data[2] = AWKWARD_FLOATS.largestSubnormal;
  params.weight_hh_l0.data[3] = AWKWARD_FLOATS.maxFloat;
  params.bias_hh_l0.data[0] = AWKWARD_FLOATS.minusMaxFloat;
  const parameterCount = Object.values(params).reduce((sum, t) => sum + t.data.length, 0);
  const m = new Float32Array(parameterCount).map(() => (random() - 0.5) * 1e-3);
  const v = new Float32Array(parameterCount).map(() => random() * 1e-6);
  m[5] = -0;
  const hiddenState = new Float32Array(2 * 2 * hidden).map(() => Math.tanh(random() * 4 - 2));
  const config = runSettingsOf({ ...TRAIN_DEFAULTS, layers: 1, hidden, batch: 2, seqLen: 16 });
  return {
    kind: "training",
    charnnVersion: "0.1.0",
    createdAt: "2024-05-01T12:34:56.789Z",
    config: config as unknown as Record<string, unknown>,
    settingSources: settingSourcesFor(config, new Set(["layers", "hidden", "batch", "seqLen"])),
    vocabulary: VOCABULARY,
    params,
    startState: null,
    corpus: { fingerprint: "sha256:0123abcd", length: 12345, paths: ["/data/données.txt"] },
    invocations: [
      { argv: ["train", "données.txt", "--hidden", String(hidden), "--layers", "1"], startedAt: "2024-05-01T12:00:00.000Z", fromStep: 0 },
      { argv: ["train", "données.txt", "--resume"], startedAt: "2024-05-01T12:30:00.000Z", fromStep: 20 },
    ],
    schedule: { totalSteps: 1000 },
    runtime: { backend: "js", threads: 1, variant: "js", node: "v20.20.2", platform: "linux-x64" },
    choice: null,
    optimizer: { type: "adam", step: 42, buffers: { m, v } },
    rng: { c: 1, s0: 0.25, s1: 0.5, s2: 0.75 },
    cursor: { epoch: 1, window: 7 },
    hiddenState,
    step: 42,
    epoch: 1,
    history: {
      train: [
        [10, 2.5],
        [20, 2.25],
        [42, 2.0625],
      ],
      validation: [[40, 2.125]],
    },
    bestValidationLoss: 2.125,
  };
}

const bits = (values: Float32Array): number[] => Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));

/** Every field equal, every float equal bit for bit (so -0 and 0 differ, as do NaN payloads). */
export function expectSameState(actualState: CheckpointState, expectedState: CheckpointState): void {
  expect(actualState.kind).toBe(expectedState.kind);
  if (actualState.kind === "weights" || expectedState.kind === "weights") {
    const { params, startState, ...rest } = actualState;
    const { params: expectedParams, startState: expectedStart, ...expectedRest } = expectedState;
    expect(rest).toStrictEqual(expectedRest);
    expectSameTensors(params, expectedParams);
    expectSameTensors(startState ?? {}, expectedStart ?? {});
    return;
  }
  const { params, optimizer, hiddenState, startState, ...rest } = actualState;
  const { params: expectedParams, optimizer: expectedOptimizer, hiddenState: expectedHidden, startState: expectedStart, ...expectedRest } = expectedState;
  expectSameTensors(startState ?? {}, expectedStart ?? {});
  expect(startState === null).toBe(expectedStart === null);
  expect(rest).toStrictEqual(expectedRest);
  expectSameTensors(params, expectedParams);
  expect(optimizer.type).toBe(expectedOptimizer.type);
  expect(optimizer.step).toBe(expectedOptimizer.step);
  expect(Object.keys(optimizer.buffers)).toEqual(Object.keys(expectedOptimizer.buffers));
  for (const [name, values] of Object.entries(expectedOptimizer.buffers)) {
    expect(bits(optimizer.buffers[name]!), name).toEqual(bits(values));
  }
  if (expectedHidden === null) expect(hiddenState).toBeNull();
  else expect(bits(hiddenState!)).toEqual(bits(expectedHidden));
}

function expectSameTensors(actual: Record<string, TensorRecord>, expected: Record<string, TensorRecord>): void {
  expect(Object.keys(actual)).toEqual(Object.keys(expected));
  for (const [name, tensor] of Object.entries(expected)) {
    expect(actual[name]!.shape, name).toEqual(tensor.shape);
    expect(actual[name]!.data).toBeInstanceOf(Float32Array);
    expect(bits(actual[name]!.data), name).toEqual(bits(tensor.data));
  }
}

/** Parse a checkpoint's text, let `edit` change the document, and seal it with a fresh checksum. */
export function resealed(text: string, edit: (document: Record<string, any>) => void): string {
  const document = JSON.parse(text);
  delete document.checksum;
  edit(document);
  const body = JSON.stringify(document);
  const hex = createHash("sha256").update(body, "utf8").digest("hex");
  return `${body.slice(0, -1)},"checksum":"sha256:${hex}"}\n`;
}

/** base64 of float32 values in little-endian byte order, as the format stores them. */
export function base64Floats(values: number[]): string {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((value, index) => bytes.writeFloatLE(value, index * 4));
  return bytes.toString("base64");
}
