// Tests of the checkpoint format: bit-exact round trip, size, the checksum rule, truncation and
// byte flips, every validation message, version handling and expected-shape checks.

import { createHash } from "node:crypto";
import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import {
  CHECKPOINT_FORMAT,
  CHECKPOINT_LOADERS,
  CHECKPOINT_VERSION,
  encodeCheckpoint,
  type CheckpointState,
} from "../../../src/core/checkpoint/format.js";
import { decodeCheckpoint } from "../../../src/core/checkpoint/load.js";
import { weightsOnly } from "../../../src/core/checkpoint/model.js";
import { CharnnError, ExitCode } from "../../../src/core/errors.js";
import { AWKWARD_FLOATS, base64Floats, expectSameState, makeState, resealed } from "./state-fixture.js";

/** The CharnnError that `run` throws (fails the test if it throws nothing or something else). */
function caught(run: () => unknown): CharnnError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CharnnError);
    return error as CharnnError;
  }
  throw new Error("expected a CharnnError, but nothing was thrown");
}

const decodeError = (text: string, options?: Parameters<typeof decodeCheckpoint>[2]): CharnnError => {
  const error = caught(() => decodeCheckpoint(text, "x.json", options));
  expect(error.exitCode).toBe(ExitCode.badInput);
  expect(error.message).not.toContain("\n");
  return error;
};

describe("round trip", () => {
  it("decodes to the same state, every float bit for bit", () => {
    const state = makeState();
    const decoded = decodeCheckpoint(encodeCheckpoint(state), "x.json");
    expectSameState(decoded, state);
  });

  it("keeps -0, subnormals and the largest floats exactly", () => {
    const decoded = decodeCheckpoint(encodeCheckpoint(makeState()), "x.json");
    const weights = decoded.params.weight_ih_l0!.data;
    expect(Object.is(weights[0], -0)).toBe(true);
    expect(weights[1]).toBe(AWKWARD_FLOATS.smallestSubnormal);
    expect(weights[2]).toBe(AWKWARD_FLOATS.largestSubnormal);
    expect(decoded.params.weight_hh_l0!.data[3]).toBe(AWKWARD_FLOATS.maxFloat);
    expect(decoded.params.bias_hh_l0!.data[0]).toBe(AWKWARD_FLOATS.minusMaxFloat);
    expect(Object.is(decoded.optimizer.buffers.m![5], -0)).toBe(true);
  });

  it("round-trips a state without hidden state and without a best loss", () => {
    const state = { ...makeState(), hiddenState: null, bestValidationLoss: null };
    expectSameState(decodeCheckpoint(encodeCheckpoint(state), "x.json"), state);
  });

  it("encodes the same state to the same text", () => {
    expect(encodeCheckpoint(makeState())).toBe(encodeCheckpoint(makeState()));
  });

  it("decodes arrays that own aligned memory (a view of a pooled Buffer would not be)", () => {
    const decoded = decodeCheckpoint(encodeCheckpoint(makeState()), "x.json");
    for (const tensor of Object.values(decoded.params)) {
      expect(tensor.data.byteOffset).toBe(0);
      expect(tensor.data.buffer.byteLength).toBe(tensor.data.length * 4);
    }
  });
});

describe("layout", () => {
  it("stores floats at under 5.6 bytes each (base64 of float32 is 5.33)", () => {
    const state = makeState({ hidden: 64 });
    const floats =
      Object.values(state.params).reduce((sum, t) => sum + t.data.length, 0) * 3 + state.hiddenState!.length;
    expect(floats).toBeGreaterThan(40_000);
    const bytes = Buffer.byteLength(encodeCheckpoint(state));
    expect(bytes / floats).toBeLessThan(5.6);
    expect(bytes / floats).toBeGreaterThan(5.3);
  });

  it("puts format, version and config in the first 2000 bytes and the tensors last", () => {
    const text = encodeCheckpoint(makeState({ hidden: 64 }));
    const head = text.slice(0, 2000);
    expect(head.startsWith(`{"format":"${CHECKPOINT_FORMAT}","version":${CHECKPOINT_VERSION},`)).toBe(true);
    expect(head).toContain('"kind":"training"');
    expect(head).toContain('"config":{"model":"lstm"');
    expect(head).toContain('"invocations":[{"argv":["train"');
    expect(text.indexOf('"params":')).toBeGreaterThan(text.indexOf('"optimizer":'));
    expect(text.split("\n")).toHaveLength(2); // one line: compact, no pretty-printing
  });

  it("seals the document with the SHA-256 of the text before the checksum field plus '}'", () => {
    const text = encodeCheckpoint(makeState());
    const match = /,"checksum":"sha256:([0-9a-f]{64})"\}\n$/.exec(text);
    expect(match).not.toBeNull();
    const body = `${text.slice(0, match!.index)}}`;
    expect(createHash("sha256").update(body, "utf8").digest("hex")).toBe(match![1]);
    expect(JSON.parse(body).checksum).toBeUndefined();
  });

  it("accepts the file without its final newline", () => {
    const text = encodeCheckpoint(makeState());
    expectSameState(decodeCheckpoint(text.slice(0, -1), "x.json"), makeState());
  });
});

describe("damage", () => {
  it("rejects the file cut at every 97th byte, saying it may be truncated", () => {
    const bytes = Buffer.from(encodeCheckpoint(makeState()), "utf8");
    let tried = 0;
    for (let length = 0; length < bytes.length - 1; length += 97) {
      const error = decodeError(bytes.subarray(0, length).toString("utf8"));
      expect(error.message, `cut at ${length}`).toMatch(/^x\.json: not a charnn checkpoint \(not JSON: .*may be truncated\)$/);
      tried++;
    }
    expect(tried).toBeGreaterThan(20);
  });

  it("rejects 200 seeded random single-byte flips; none decodes silently", () => {
    const bytes = Buffer.from(encodeCheckpoint(makeState()), "utf8");
    const random = seedrandom("byte flips");
    const reasons = new Set<string>();
    for (let trial = 0; trial < 200; trial++) {
      const damaged = Buffer.from(bytes);
      const position = Math.floor(random() * damaged.length);
      damaged[position] = damaged[position]! ^ (1 + Math.floor(random() * 255));
      const error = decodeError(damaged.toString("utf8"));
      expect(error.message.startsWith("x.json: ")).toBe(true);
      reasons.add(error.message.includes("checksum mismatch") ? "checksum" : "other");
    }
    // Most flips land in the tensors, where only the checksum can notice them.
    expect(reasons.has("checksum")).toBe(true);
  });

  it("rejects a changed value whose JSON is still valid, by its checksum", () => {
    const text = encodeCheckpoint(makeState()).replace('"step":42', '"step":43');
    expect(decodeError(text).message).toBe(
      "x.json: checksum mismatch: the file was changed or damaged after it was written",
    );
  });
});

describe("validation messages", () => {
  const good = encodeCheckpoint(makeState());

  it("names a file that is not JSON", () => {
    const error = decodeError("PK\u0003\u0004\u0000binary stuff");
    expect(error.message).toMatch(/^x\.json: not a charnn checkpoint \(not JSON: unexpected token 'P'.*\)$/);
    expect(error.message).not.toContain("truncated");
    expect(error.message).not.toMatch(/[\u0000-\u001f]/);
    expect(decodeError("").message).toBe("x.json: not a charnn checkpoint (not JSON: the file is empty; it may be truncated)");
  });

  it("names JSON that is not a checkpoint", () => {
    expect(decodeError("[1,2,3]").message).toBe("x.json: not a charnn checkpoint (a JSON list, not an object)");
    expect(decodeError('{"name":"charnn","version":"0.1.0"}').message).toBe(
      'x.json: not a charnn checkpoint (no "format" field)',
    );
    expect(decodeError(resealed(good, (d) => (d.format = "torch-rnn"))).message).toBe(
      'x.json: not a charnn checkpoint (format is "torch-rnn", expected "charnn-checkpoint")',
    );
  });

  it("requires the checksum as the last field", () => {
    const withoutChecksum = JSON.stringify({ ...JSON.parse(good), checksum: undefined });
    expect(decodeError(withoutChecksum).message).toBe('x.json: missing field "checksum"');
    const notLast = resealed(good, () => undefined).replace(/,"checksum":("sha256:[0-9a-f]+")\}\n$/, "}").replace(
      '{"format"',
      `{"checksum":"sha256:${"0".repeat(64)}","format"`,
    );
    expect(decodeError(notLast).message).toMatch(/^x\.json: field "checksum" is malformed/);
  });

  it("names a newer format and says to upgrade charnn", () => {
    const error = decodeError(resealed(good, (d) => (d.version = 7)));
    expect(error.message).toBe("x.json: written by a newer charnn (format 7); upgrade charnn");
    expect(error.hint).toBe("this charnn reads checkpoint formats 1 to 2");
  });

  it("names an older unsupported format and says how to upgrade the file", () => {
    const error = decodeError(resealed(good, (d) => (d.version = 0)));
    expect(error.message).toBe("x.json: written by an older charnn (format 0), which this charnn no longer reads");
    expect(error.hint).toMatch(/^upgrade the file by resuming it once with an earlier charnn release/);
  });

  it("rejects a version that is not a whole number, or none", () => {
    expect(decodeError(resealed(good, (d) => (d.version = "1"))).message).toBe(
      'x.json: field "version" must be a whole number, found "1"',
    );
    expect(decodeError(resealed(good, (d) => delete d.version)).message).toBe('x.json: missing field "version"');
  });

  it("names missing fields by their path", () => {
    const cases: Array<[(d: Record<string, any>) => void, string]> = [
      [(d) => delete d.cursor.window, 'x.json: missing field "cursor.window"'],
      [(d) => delete d.optimizer.step, 'x.json: missing field "optimizer.step"'],
      [(d) => delete d.params, 'x.json: missing field "params"'],
      [(d) => delete d.rng, 'x.json: missing field "rng"'],
      [(d) => delete d.hiddenState, 'x.json: missing field "hiddenState"'],
      [(d) => delete d.runtime.threads, 'x.json: missing field "runtime.threads"'],
      [(d) => delete d.params.weight_hh_l0.shape, 'x.json: missing field "params.weight_hh_l0.shape"'],
    ];
    for (const [edit, message] of cases) expect(decodeError(resealed(good, edit)).message).toBe(message);
  });

  it("names mistyped fields, with what was found", () => {
    const cases: Array<[(d: Record<string, any>) => void, string]> = [
      [(d) => (d.step = "12"), 'x.json: field "step" must be a whole number >= 0, found "12"'],
      [(d) => (d.epoch = -1), 'x.json: field "epoch" must be a whole number >= 0, found -1'],
      [(d) => (d.runtime.threads = 0), 'x.json: field "runtime.threads" must be a whole number >= 1, found 0'],
      [(d) => (d.config = [1]), 'x.json: field "config" must be an object, found [1]'],
      [(d) => (d.invocations[1].argv = ["train", 3]), 'x.json: field "invocations[1].argv" must be a list of text, found ["train",3]'],
      [(d) => (d.invocations = {}), 'x.json: field "invocations" must be a list, found {}'],
      [(d) => (d.invocations[0].fromStep = -2), 'x.json: field "invocations[0].fromStep" must be a whole number >= 0, found -2'],
      [(d) => (d.kind = "model"), 'x.json: field "kind" must be one of "training", "weights", found "model"'],
      [(d) => (d.settingSources.hidden = "typed"), 'x.json: field "settingSources.hidden" must be one of "given", "default", "chosen", found "typed"'],
      [(d) => (d.runtime.variant = "gpu"), 'x.json: field "runtime.variant" must be one of "js", "wasm", "wasm-relaxed", found "gpu"'],
      [(d) => (d.corpus.paths = "a.txt"), 'x.json: field "corpus.paths" must be a list of text, found "a.txt"'],
      [(d) => (d.schedule.totalSteps = 0), 'x.json: field "schedule.totalSteps" must be a whole number >= 1, found 0'],
      [(d) => (d.choice = { reason: "fits", measured: { charsPerSecond: "fast" } }), 'x.json: field "choice.measured.charsPerSecond" must be a number, found "fast"'],
      [(d) => (d.runtime = null), 'x.json: field "runtime" must be an object in a training checkpoint, found null'],
      [(d) => (d.createdAt = "yesterday"), 'x.json: field "createdAt" must be an ISO time, found "yesterday"'],
      [(d) => (d.bestValidationLoss = "low"), 'x.json: field "bestValidationLoss" must be a number or null, found "low"'],
      [(d) => (d.rng = 5), 'x.json: field "rng" must be an object, found 5'],
      [
        (d) => (d.history.train[1] = [20]),
        'x.json: field "history.train[1]" must be a [step, loss] pair of numbers, found [20]',
      ],
      [(d) => (d.optimizer.buffers.m = 7), 'x.json: field "optimizer.buffers.m" must be base64 text, found 7'],
      [(d) => (d.hiddenState = [0.5]), 'x.json: field "hiddenState" must be base64 text, found [0.5]'],
    ];
    for (const [edit, message] of cases) expect(decodeError(resealed(good, edit)).message).toBe(message);
  });

  it("rejects tensor data that does not match its shape", () => {
    const error = decodeError(resealed(good, (d) => (d.params.decoder_bias = { shape: [2, 3], data: base64Floats([1, 2, 3, 4]) })));
    expect(error.message).toBe("x.json: params.decoder_bias has 4 values but its shape [2,3] needs 6");
    expect(
      decodeError(resealed(good, (d) => (d.params.bias_ih_l0.shape = [17]))).message,
    ).toBe("x.json: params.bias_ih_l0 has 16 values but its shape [17] needs 17");
  });

  it("rejects base64 that is not valid, and bytes that are not whole floats", () => {
    // A stray character, missing padding, and set padding bits (not the canonical encoding).
    for (const data of ["AAAA*AAA", "AAAAAA", "AAAAAB=="]) {
      expect(decodeError(resealed(good, (d) => (d.hiddenState = data))).message, data).toBe(
        'x.json: field "hiddenState" is not valid base64',
      );
    }
    expect(decodeError(resealed(good, (d) => (d.hiddenState = "AAAAAAA="))).message).toBe(
      'x.json: field "hiddenState" holds 5 bytes, not a whole number of 4-byte floats',
    );
  });

  it("rejects an invalid vocabulary, saying what is wrong", () => {
    const cases: Array<[unknown, string]> = [
      [[], "x.json: vocabulary is invalid: it is empty"],
      [
        [10, 97, 97],
        "x.json: vocabulary is invalid: entry 2 (97) does not come after entry 1 (97); code points must be strictly ascending",
      ],
      [[98, 97], "x.json: vocabulary is invalid: entry 1 (97) does not come after entry 0 (98); code points must be strictly ascending"],
      [[10, 0x110000], "x.json: vocabulary is invalid: entry 1 (1114112) is not a Unicode code point"],
      [[10, 1.5], "x.json: vocabulary is invalid: entry 1 (1.5) is not a Unicode code point"],
      ["abc", 'x.json: vocabulary is invalid: expected a list of code points, found "abc"'],
    ];
    for (const [vocabulary, message] of cases) {
      expect(decodeError(resealed(good, (d) => (d.vocabulary = vocabulary))).message).toBe(message);
    }
  });

  it("rejects NaN and infinite weights, optimizer state and hidden state, naming the place", () => {
    const hidden = makeState().params.weight_hh_l0!.data.length;
    const withNaN = Array.from({ length: hidden }, (_, i) => (i === 17 ? Number.NaN : 0.5));
    expect(decodeError(resealed(good, (d) => (d.params.weight_hh_l0.data = base64Floats(withNaN)))).message).toBe(
      "x.json: weights contain NaN (weight_hh_l0[17])",
    );
    const count = Object.values(makeState().params).reduce((sum, t) => sum + t.data.length, 0);
    const withInfinity = Array.from({ length: count }, (_, i) => (i === 3 ? -Infinity : 0));
    expect(decodeError(resealed(good, (d) => (d.optimizer.buffers.v = base64Floats(withInfinity)))).message).toBe(
      "x.json: optimizer state contains -Infinity (v[3])",
    );
    expect(decodeError(resealed(good, (d) => (d.hiddenState = base64Floats([0, Infinity])))).message).toBe(
      "x.json: hidden state contains Infinity (hiddenState[1])",
    );
  });

  it("rejects optimizer buffers that are not one value per parameter", () => {
    const count = Object.values(makeState().params).reduce((s, t) => s + t.data.length, 0);
    expect(decodeError(resealed(good, (d) => (d.optimizer.buffers.m = base64Floats([1, 2, 3])))).message).toBe(
      `x.json: optimizer buffer m has 3 values, expected ${count} (one per parameter)`,
    );
  });

  it("rejects a checkpoint with no parameters", () => {
    expect(decodeError(resealed(good, (d) => (d.params = {}))).message).toBe("x.json: params holds no parameters");
  });
});

describe("versions", () => {
  it("reads every version through the loader table, which has the current version", () => {
    expect(Object.keys(CHECKPOINT_LOADERS).map(Number)).toContain(CHECKPOINT_VERSION);
    expect(Object.isFrozen(CHECKPOINT_LOADERS)).toBe(true);
    const document = JSON.parse(encodeCheckpoint(makeState()));
    expectSameState(CHECKPOINT_LOADERS[CHECKPOINT_VERSION]!(document, "x.json"), makeState());
  });
});

describe("error codes", () => {
  it("say damaged, foreign, too new or too old, for callers that branch on them", () => {
    const good = encodeCheckpoint(makeState());
    expect(decodeError(good.slice(0, 300)).code).toBe("checkpoint.damaged"); // cut short
    expect(decodeError("the quick brown fox").code).toBe("checkpoint.foreign");
    expect(decodeError(resealed(good, (d) => (d.format = "torch-rnn"))).code).toBe("checkpoint.foreign");
    expect(decodeError(good.replace('"step":42', '"step":43')).code).toBe("checkpoint.damaged");
    expect(decodeError(resealed(good, (d) => (d.config.hidden = 5))).code).toBe("checkpoint.damaged");
    expect(decodeError(resealed(good, (d) => (d.config.layers = 1e9))).code).toBe("checkpoint.damaged");
    expect(decodeError(resealed(good, (d) => (d.version = 9))).code).toBe("checkpoint.too-new");
    expect(decodeError(resealed(good, (d) => (d.version = 0))).code).toBe("checkpoint.too-old");
  });
});

describe("weights-only checkpoints", () => {
  const weights = (): CheckpointState => ({ ...weightsOnly(makeState()), corpus: null, runtime: null, schedule: null });

  it("round-trip without the training state, and may leave out the history", () => {
    const text = encodeCheckpoint(weights());
    const document = JSON.parse(text);
    expect(document.kind).toBe("weights");
    for (const field of ["optimizer", "rng", "cursor", "hiddenState"]) expect(document).not.toHaveProperty(field);
    expectSameState(decodeCheckpoint(text, "w.json"), weights());
    const withoutHistory = decodeCheckpoint(resealed(text, (d) => delete d.history), "w.json");
    expect(withoutHistory.history).toEqual({ train: [], validation: [] });
  });

  it("a training checkpoint may not leave out its history or its training state", () => {
    const text = encodeCheckpoint(makeState());
    expect(decodeError(resealed(text, (d) => delete d.history)).message).toBe('x.json: missing field "history"');
    expect(decodeError(resealed(text, (d) => delete d.rng)).message).toBe('x.json: missing field "rng"');
  });
});

describe("settings and shapes, held to each other inside the load", () => {
  const text = encodeCheckpoint(makeState());

  it("reads the config back through the config rules", () => {
    const state = decodeCheckpoint(text, "x.json");
    expect(state.config.hidden).toBe(4);
    expect(decodeError(resealed(text, (d) => (d.config.layers = 1e9))).message).toMatch(/^x\.json: .*layers/);
    expect(decodeError(resealed(text, (d) => delete d.config.seqLen)).message).toBe('x.json: missing field "config.seqLen"');
  });

  it("blames the vocabulary when a vocabulary-sized axis disagrees", () => {
    const V = makeState().vocabulary.length;
    const error = decodeError(resealed(text, (d) => d.vocabulary.push(0x1f600 + 1)));
    expect(error.message).toBe(
      `x.json: weight_ih_l0 has shape [16,${V}], expected [16,${V + 1}] (the vocabulary does not match the weights)`,
    );
  });

  it("blames the config when another axis disagrees", () => {
    const V = makeState().vocabulary.length;
    const error = decodeError(resealed(text, (d) => (d.config.hidden = 5)));
    expect(error.message).toBe(
      `x.json: weight_ih_l0 has shape [16,${V}], expected [20,${V}] (the config does not match the weights)`,
    );
  });

  it("names a missing and an unexpected parameter", () => {
    expect(decodeError(resealed(text, (d) => (d.config.layers = 2))).message).toBe(
      "x.json: parameter weight_ih_l1 is missing (the config does not match the weights)",
    );
    expect(decodeError(resealed(text, (d) => {
      d.params.extra = { shape: [1], data: base64Floats([1]) };
      d.optimizer.buffers = {};
    })).message).toBe(
      "x.json: unexpected parameter extra (the config does not match the weights)",
    );
  });

  it("holds a start state to [L, H] for h (and c for an lstm)", () => {
    const start = { h: { shape: [1, 4], data: base64Floats([0.1, 0.2, 0.3, 0.4]) }, c: { shape: [1, 4], data: base64Floats([0, 0, 0, -0.5]) } };
    const state = decodeCheckpoint(resealed(text, (d) => (d.startState = start)), "x.json");
    expect(state.startState!.c!.data[3]).toBe(-0.5);
    expect(decodeError(resealed(text, (d) => (d.startState = { h: start.h }))).message).toBe(
      "x.json: start state c is missing (the config does not match the weights)",
    );
    expect(decodeError(resealed(text, (d) => (d.startState = { ...start, h: { shape: [4], data: start.h.data } }))).message).toBe(
      "x.json: start state h has shape [4], expected [1,4] (the config does not match the weights)",
    );
  });

  it("takes a line state beside it, whole (lineH, and lineC for an lstm) or not at all", () => {
    const start = { h: { shape: [1, 4], data: base64Floats([0.1, 0.2, 0.3, 0.4]) }, c: { shape: [1, 4], data: base64Floats([0, 0, 0, -0.5]) } };
    const line = { lineH: { shape: [1, 4], data: base64Floats([1, 2, 3, 4]) }, lineC: { shape: [1, 4], data: base64Floats([0, 0, 0, 7]) } };
    const state = decodeCheckpoint(resealed(text, (d) => (d.startState = { ...start, ...line })), "x.json");
    expect(state.startState!.lineC!.data[3]).toBe(7);
    expect(decodeError(resealed(text, (d) => (d.startState = { ...start, lineH: line.lineH }))).message).toBe(
      "x.json: start state lineC is missing (the config does not match the weights)",
    );
    expect(decodeError(resealed(text, (d) => (d.startState = { ...start, ...line, lineH: { shape: [2, 4], data: base64Floats(new Array(8).fill(0)) } }))).message).toBe(
      "x.json: start state lineH has shape [2,4], expected [1,4] (the config does not match the weights)",
    );
    expect(decodeError(resealed(text, (d) => (d.startState = { ...start, ...line, lineX: line.lineH }))).message).toBe(
      "x.json: unexpected start state lineX (the config does not match the weights)",
    );
  });

  it("keeps saved setting sources and fills the missing ones from the command lines and the defaults", () => {
    const state = decodeCheckpoint(resealed(text, (d) => {
      d.settingSources = { seed: "chosen" };
      d.config.lr = 0.01; // not in any command line: it came from a config file
    }), "x.json");
    expect(state.settingSources.seed).toBe("chosen");
    expect(state.settingSources.hidden).toBe("given"); // --hidden in the first invocation
    expect(state.settingSources.lr).toBe("given");
    expect(state.settingSources.optimizer).toBe("default");
    expect(Object.keys(state.settingSources).sort()).toEqual(Object.keys(state.config).sort());
  });
});

describe("encoding refuses states it could not read back", () => {
  const withWeight = (index: number, value: number): CheckpointState => {
    const state = makeState();
    state.params.weight_hh_l0!.data[index] = value;
    return state;
  };

  it("refuses NaN weights with the diverged exit code", () => {
    const error = caught(() => encodeCheckpoint(withWeight(17, Number.NaN)));
    expect(error.exitCode).toBe(ExitCode.diverged);
    expect(error.message).toBe("refusing to save a checkpoint: weights contain NaN (weight_hh_l0[17])");
  });

  it("refuses a non-finite loss in the history with the diverged exit code", () => {
    const state = makeState();
    state.history.train.push([43, Number.POSITIVE_INFINITY]);
    const error = caught(() => encodeCheckpoint(state));
    expect(error.exitCode).toBe(ExitCode.diverged);
    expect(error.message).toBe("refusing to save a checkpoint: the loss at history.train[3] is Infinity");
    const error2 = caught(() => encodeCheckpoint({ ...makeState(), bestValidationLoss: Number.NaN }));
    expect(error2.message).toBe("refusing to save a checkpoint: bestValidationLoss is NaN");
  });

  it("refuses malformed fields and shapes as failures", () => {
    const nanStep = { ...makeState(), step: Number.NaN };
    const error = caught(() => encodeCheckpoint(nanStep));
    expect(error.exitCode).toBe(ExitCode.failure);
    expect(error.message).toBe('cannot save checkpoint: checkpoint to save: field "step" must be a whole number >= 0, found NaN');
    const badShape = makeState();
    badShape.params.bias_ih_l0!.shape = [3];
    expect(caught(() => encodeCheckpoint(badShape)).message).toBe(
      "cannot save checkpoint: bias_ih_l0 has 16 values but shape [3] needs 3",
    );
    const shortBuffer = makeState();
    shortBuffer.optimizer.buffers.m = new Float32Array(3);
    expect(caught(() => encodeCheckpoint(shortBuffer)).message).toMatch(/^cannot save checkpoint: optimizer buffer m must be/);
  });
});
