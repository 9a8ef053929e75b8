// Tests of src/core/train/small-text.ts: which batch and window a short text trains with (a
// table over text lengths and which settings the user gave), the note that says so, and the
// refusal, with the values that would fit, when the given settings leave nothing to change.

import { describe, expect, it } from "vitest";
import { CharnnError, ExitCode } from "../../../src/core/errors.js";
import { flagName } from "../../../src/core/settings.js";
import { charactersNeeded, fitToText, shapeForText, type SmallTextFit } from "../../../src/core/train/small-text.js";
import { StreamBatcher } from "../../../src/core/data/batches.js";

const DEFAULTS = { batch: 32, seqLen: 64 };
const NONE = { batch: false, seqLen: false };

describe("fitToText", () => {
  it.each<[string, number, { batch: number; seqLen: number }, { batch: boolean; seqLen: boolean }, SmallTextFit]>([
    ["exactly B*(T+1) fits", 2080, DEFAULTS, NONE, { kind: "fits" }],
    ["one fewer: the batch shrinks", 2079, DEFAULTS, NONE, { kind: "fitted", shape: { batch: 31, seqLen: 64 }, chosen: ["batch"] }],
    ["a few hundred characters: a few streams of the full window", 200, DEFAULTS, NONE, { kind: "fitted", shape: { batch: 3, seqLen: 64 }, chosen: ["batch"] }],
    ["shorter than one window: one stream, the window shrinks", 64, DEFAULTS, NONE, { kind: "fitted", shape: { batch: 1, seqLen: 63 }, chosen: ["batch", "seqLen"] }],
    ["two characters: one step of one", 2, DEFAULTS, NONE, { kind: "fitted", shape: { batch: 1, seqLen: 1 }, chosen: ["batch", "seqLen"] }],
    ["one character cannot hold a target", 1, DEFAULTS, NONE, { kind: "too-short", needed: 2080, largest: { batch: null, seqLen: null } }],
    ["batch given: only the window shrinks", 200, DEFAULTS, { batch: true, seqLen: false }, { kind: "fitted", shape: { batch: 32, seqLen: 5 }, chosen: ["seqLen"] }],
    ["batch given and too large for any window", 40, DEFAULTS, { batch: true, seqLen: false }, { kind: "too-short", needed: 2080, largest: { batch: null, seqLen: null } }],
    ["window given: only the batch shrinks", 200, DEFAULTS, { batch: false, seqLen: true }, { kind: "fitted", shape: { batch: 3, seqLen: 64 }, chosen: ["batch"] }],
    ["window given and longer than the text", 50, DEFAULTS, { batch: false, seqLen: true }, { kind: "too-short", needed: 2080, largest: { batch: null, seqLen: null } }],
    ["both given: refused, with what would fit", 15, { batch: 2, seqLen: 8 }, { batch: true, seqLen: true }, { kind: "too-short", needed: 18, largest: { batch: 1, seqLen: 6 } }],
  ])("%s (%i characters)", (_name, length, requested, given, expected) => {
    const fit = fitToText(length, requested, given);
    expect(fit).toEqual(expected);
    // Whatever is chosen really fits: the batcher takes it and has at least one window.
    if (fit.kind === "fitted") {
      expect(length).toBeGreaterThanOrEqual(charactersNeeded(fit.shape));
      expect(new StreamBatcher(new Uint32Array(length), fit.shape.batch, fit.shape.seqLen).windowsPerEpoch).toBeGreaterThanOrEqual(1);
    }
  });

  it("the batch chosen is the largest that fits: one more would not", () => {
    for (const length of [66, 130, 500, 1999]) {
      const fit = fitToText(length, DEFAULTS, NONE);
      if (fit.kind !== "fitted") throw new Error(`expected a fit for ${length}`);
      expect(length).toBeLessThan(charactersNeeded({ ...fit.shape, batch: fit.shape.batch + 1 }));
    }
  });
});

describe("shapeForText", () => {
  const caught = (run: () => unknown): CharnnError => {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(CharnnError);
      return error as CharnnError;
    }
    throw new Error("expected a CharnnError");
  };

  it("keeps a shape that fits, with no note", () => {
    expect(shapeForText(5000, DEFAULTS, new Set(), flagName)).toEqual({ shape: DEFAULTS, chosen: [], note: null });
  });

  it("says in one line which values it trains with", () => {
    const fitted = shapeForText(1900, DEFAULTS, new Set(), flagName);
    expect(fitted.shape).toEqual({ batch: 29, seqLen: 64 });
    expect(fitted.note).toBe("the training text (1,900 characters) is shorter than --batch 32 --seq-len 64 needs (2,080): training with --batch 29 --seq-len 64");
  });

  it("refuses when the user gave both, naming values that fit and how to let charnn pick", () => {
    const error = caught(() => shapeForText(15, { batch: 2, seqLen: 8 }, new Set(["batch", "seqLen"]), flagName));
    expect(error.exitCode).toBe(ExitCode.badInput);
    expect(error.code).toBe("corpus.too-short");
    expect(error.message).toBe("the text is too short for batch 2 and seq-len 8: it has 15 characters, at least 18 are needed");
    expect(error.hint).toBe("it fits --batch 1 or --seq-len 6; leave out --batch and --seq-len and charnn picks what fits, or give more text");
  });

  it("refuses a single character whatever was given", () => {
    expect(caught(() => shapeForText(1, DEFAULTS, new Set(), flagName)).hint).toBe("give more text: a window needs at least 2 characters");
  });
});
