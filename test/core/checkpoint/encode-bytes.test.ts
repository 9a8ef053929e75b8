// encodeCheckpointBytes writes the document piece by piece, with the floats' base64 straight
// into one buffer; these tests hold it to the format's rule as written: JSON.stringify of the
// whole document (here, with Buffer's base64), the SHA-256 of that, and the checksum field after.

import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, encodeCheckpoint, encodeCheckpointBytes, type CheckpointState, type TensorRecord } from "../../../src/core/checkpoint/format.js";
import { portableCodec } from "../../../src/core/checkpoint/codec.js";
import { weightsOnly } from "../../../src/core/checkpoint/model.js";
import { nodeCodec } from "../../../src/node/codec.js";
import { makeState } from "./state-fixture.js";

const base64 = (values: Float32Array): string => Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString("base64");
const tensorsJson = (tensors: Record<string, TensorRecord>) =>
  Object.fromEntries(Object.entries(tensors).map(([name, tensor]) => [name, { shape: tensor.shape, data: base64(tensor.data) }]));

/** The file the format's docblock describes, built the obvious way. */
function referenceText(state: CheckpointState): string {
  const { params, startState, ...rest } = state;
  const small: Record<string, unknown> = { ...rest };
  delete small.optimizer;
  delete small.hiddenState;
  const document = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    kind: state.kind, charnnVersion: state.charnnVersion, createdAt: state.createdAt, config: state.config,
    settingSources: state.settingSources, runtime: state.runtime, corpus: state.corpus, schedule: state.schedule,
    invocations: state.invocations, choice: state.choice,
    ...(state.kind === "training" ? { cursor: state.cursor } : {}),
    step: state.step, epoch: state.epoch, bestValidationLoss: state.bestValidationLoss, history: state.history,
    vocabulary: state.vocabulary,
    ...(state.kind === "training" ? { rng: state.rng } : {}),
    ...(state.kind === "training"
      ? {
          optimizer: { type: state.optimizer.type, step: state.optimizer.step, buffers: Object.fromEntries(Object.entries(state.optimizer.buffers).map(([n, v]) => [n, base64(v)])) },
          hiddenState: state.hiddenState === null ? null : base64(state.hiddenState),
        }
      : {}),
    startState: startState === null ? null : tensorsJson(startState),
    params: tensorsJson(params),
  };
  const body = JSON.stringify(document);
  return `${body.slice(0, -1)},"checksum":"sha256:${createHash("sha256").update(body, "utf8").digest("hex")}"}\n`;
}

const decoded = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe("encodeCheckpointBytes", () => {
  const training = makeState({ hidden: 5 });
  const cases: Array<[string, CheckpointState]> = [
    ["a training checkpoint", training],
    ["a weights-only one", weightsOnly(training)],
    ["one with a start state and no carried state", { ...training, hiddenState: null, startState: { h: { shape: [1, 5], data: new Float32Array(5).fill(0.25) }, c: { shape: [1, 5], data: new Float32Array(5).fill(-0) } } }],
    // Names that look like numbers come first in a JS object and in JSON.stringify: same here.
    ["one whose buffer names look like numbers", { ...training, optimizer: { ...training.optimizer, buffers: { v: training.optimizer.buffers.v!, "1": training.optimizer.buffers.m! } } }],
    ["one with text that needs escaping", { ...training, invocations: [{ argv: ["train", 'quote " back\\slash', "tab\tline\n", "lone \ud800 surrogate", "émoji 🎉"], startedAt: training.createdAt, fromStep: 0 }] }],
  ];

  for (const [what, state] of cases) {
    it(`writes exactly the format's text for ${what}, with either codec`, () => {
      const expected = referenceText(state);
      expect(decoded(encodeCheckpointBytes(state, portableCodec))).toBe(expected);
      expect(decoded(encodeCheckpointBytes(state, nodeCodec))).toBe(expected);
      expect(encodeCheckpoint(state)).toBe(expected);
    });
  }

  it("fills its buffer to the last byte: the text ends in the checksum field and a newline", () => {
    const bytes = encodeCheckpointBytes(training);
    expect(decoded(bytes.subarray(-100))).toMatch(/,"checksum":"sha256:[0-9a-f]{64}"\}\n$/);
    expect(bytes.length).toBe(Buffer.byteLength(referenceText(training)));
  });
});
