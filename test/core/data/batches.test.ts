// Tests for src/core/data/batches.ts: the parallel-stream layout on hand-worked examples, the
// cursor (wrap, epochStart, save and restore), the too-short error, and splitValidation.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

import { CharnnError, ExitCode } from "../../../src/core/errors.js";
import { StreamBatcher, splitValidation } from "../../../src/core/data/batches.js";

/** data[i] = 100 + i, so every value names its own position. */
const positions = (length: number): Uint32Array => Uint32Array.from({ length }, (_, i) => 100 + i);

function caughtError(action: () => unknown): CharnnError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(CharnnError);
    return error as CharnnError;
  }
  throw new Error("expected a CharnnError");
}

describe("StreamBatcher layout", () => {
  it("lays out N=11, B=2, T=2 as worked by hand", () => {
    // S = floor(11/2) = 5: stream 0 = 100..104, stream 1 = 105..109; 110 is unused.
    // W = floor((5-1)/2) = 2.
    const batcher = new StreamBatcher(positions(11), 2, 2);
    expect(batcher.streamLength).toBe(5);
    expect(batcher.windowsPerEpoch).toBe(2);
    const inputs = new Int32Array(4);
    const targets = new Int32Array(4);

    // Time-major: [t0b0, t0b1, t1b0, t1b1].
    batcher.fill(0, inputs, targets);
    expect(Array.from(inputs)).toEqual([100, 105, 101, 106]);
    expect(Array.from(targets)).toEqual([101, 106, 102, 107]);

    batcher.fill(1, inputs, targets);
    expect(Array.from(inputs)).toEqual([102, 107, 103, 108]);
    expect(Array.from(targets)).toEqual([103, 108, 104, 109]);
  });

  it("lays out N=14, B=3, T=2 as worked by hand", () => {
    // S = 4: streams 100..103, 104..107, 108..111; 112 and 113 unused. W = floor(3/2) = 1.
    const batcher = new StreamBatcher(positions(14), 3, 2);
    expect(batcher.windowsPerEpoch).toBe(1);
    const inputs = new Int32Array(6);
    const targets = new Int32Array(6);
    batcher.fill(0, inputs, targets);
    expect(Array.from(inputs)).toEqual([100, 104, 108, 101, 105, 109]);
    expect(Array.from(targets)).toEqual([101, 105, 109, 102, 106, 110]);
  });

  it("lays out B=1, T=3 as one plain stream", () => {
    // S = 10, W = floor(9/3) = 3; the last window's final target is data[9].
    const batcher = new StreamBatcher(positions(10), 1, 3);
    expect(batcher.windowsPerEpoch).toBe(3);
    const inputs = new Int32Array(3);
    const targets = new Int32Array(3);
    batcher.fill(2, inputs, targets);
    expect(Array.from(inputs)).toEqual([106, 107, 108]);
    expect(Array.from(targets)).toEqual([107, 108, 109]);
  });

  it("rejects buffers of the wrong size and windows out of range", () => {
    const batcher = new StreamBatcher(positions(11), 2, 2);
    expect(() => batcher.fill(0, new Int32Array(3), new Int32Array(4))).toThrow(RangeError);
    expect(() => batcher.fill(2, new Int32Array(4), new Int32Array(4))).toThrow(RangeError);
    expect(() => batcher.fill(-1, new Int32Array(4), new Int32Array(4))).toThrow(RangeError);
  });

  it("agrees with the stream length and window count of the PyTorch trajectory fixture", () => {
    const fixture = JSON.parse(
      readFileSync(new URL("../../fixtures/torch-trajectory.json", import.meta.url), "utf8"),
    ) as { tokens: number[]; batch: number; seqLen: number; streamLength: number; windowsPerEpoch: number };
    const batcher = new StreamBatcher(Uint32Array.from(fixture.tokens), fixture.batch, fixture.seqLen);
    expect(batcher.streamLength).toBe(fixture.streamLength);
    expect(batcher.windowsPerEpoch).toBe(fixture.windowsPerEpoch);
  });
});

describe("StreamBatcher cursor", () => {
  it("fills windows in order, wraps into the next epoch, and flags each epoch start", () => {
    const batcher = new StreamBatcher(positions(11), 2, 2);
    const inputs = new Int32Array(4);
    const targets = new Int32Array(4);
    const steps = [];
    const firstInputs = [];
    for (let i = 0; i < 5; i++) {
      steps.push(batcher.next(inputs, targets));
      firstInputs.push(inputs[0]);
    }
    expect(steps).toEqual([
      { epoch: 0, window: 0, epochStart: true },
      { epoch: 0, window: 1, epochStart: false },
      { epoch: 1, window: 0, epochStart: true },
      { epoch: 1, window: 1, epochStart: false },
      { epoch: 2, window: 0, epochStart: true },
    ]);
    expect(firstInputs).toEqual([100, 102, 100, 102, 100]);
    expect(batcher.cursor).toEqual({ epoch: 2, window: 1 });
  });

  it("starts every epoch when there is one window per epoch", () => {
    const batcher = new StreamBatcher(positions(14), 3, 2);
    const buffers = [new Int32Array(6), new Int32Array(6)] as const;
    expect(batcher.next(...buffers)).toEqual({ epoch: 0, window: 0, epochStart: true });
    expect(batcher.next(...buffers)).toEqual({ epoch: 1, window: 0, epochStart: true });
  });

  it("restores a saved cursor exactly", () => {
    const data = positions(40); // B=3, T=4: S=13, W=3
    const original = new StreamBatcher(data, 3, 4);
    const inputs = new Int32Array(12);
    const targets = new Int32Array(12);
    for (let i = 0; i < 4; i++) original.next(inputs, targets);
    const saved = JSON.parse(JSON.stringify(original.cursor));
    expect(saved).toEqual({ epoch: 1, window: 1 });

    const resumed = new StreamBatcher(data, 3, 4);
    resumed.cursor = saved;
    const resumedInputs = new Int32Array(12);
    const resumedTargets = new Int32Array(12);
    for (let i = 0; i < 3; i++) {
      const expected = original.next(inputs, targets);
      expect(resumed.next(resumedInputs, resumedTargets)).toEqual(expected);
      expect(resumedInputs).toEqual(inputs);
      expect(resumedTargets).toEqual(targets);
    }
  });

  it("hands out a copy of the cursor, not its own state", () => {
    const batcher = new StreamBatcher(positions(11), 2, 2);
    const cursor = batcher.cursor;
    cursor.window = 1;
    expect(batcher.cursor).toEqual({ epoch: 0, window: 0 });
  });

  it.each([
    ["a window past the end", { epoch: 0, window: 2 }, "batch cursor: window 2 is outside 0..1"],
    ["a fractional window", { epoch: 0, window: 0.5 }, "batch cursor: window 0.5 is outside 0..1"],
    ["a negative epoch", { epoch: -1, window: 0 }, "batch cursor: epoch must be a non-negative integer (got -1)"],
    ["a missing epoch", { window: 0 }, "batch cursor: epoch must be a non-negative integer (got undefined)"],
    ["null", null, "batch cursor: epoch must be a non-negative integer (got undefined)"],
  ])("rejects %s", (_what, cursor, message) => {
    const batcher = new StreamBatcher(positions(11), 2, 2);
    const error = caughtError(() => {
      batcher.cursor = cursor as never;
    });
    expect(error.message.startsWith(message)).toBe(true);
    expect(error.exitCode).toBe(ExitCode.badInput);
    expect(batcher.cursor).toEqual({ epoch: 0, window: 0 });
  });
});

describe("StreamBatcher size checks", () => {
  it("says how many characters batch B and seq-len T need", () => {
    // B*(T+1) = 2*3 = 6 is needed; 5 gives S = 2 and W = 0.
    const error = caughtError(() => new StreamBatcher(positions(5), 2, 2));
    expect(error.message).toBe(
      "the text is too short for batch 2 and seq-len 2: it has 5 characters, at least 6 are needed",
    );
    expect(error.exitCode).toBe(ExitCode.badInput);
    // The engine names no flag: the code and facts let each face word its own hint.
    expect(error.hint).not.toContain("--");
    expect(error.code).toBe("corpus.too-short");
    expect(error.facts).toEqual({ length: 5, needed: 6, batch: 2, seqLen: 2 });
  });

  it("accepts exactly B*(T+1) characters and rejects one fewer", () => {
    expect(new StreamBatcher(positions(4 * 9), 4, 8).windowsPerEpoch).toBe(1);
    expect(caughtError(() => new StreamBatcher(positions(4 * 9 - 1), 4, 8)).message).toContain(
      "at least 36 are needed",
    );
    expect(caughtError(() => new StreamBatcher(new Uint32Array(0), 1, 1)).message).toContain(
      "it has 0 characters, at least 2 are needed",
    );
  });

  it("rejects a batch size or sequence length that is not a positive integer", () => {
    expect(caughtError(() => new StreamBatcher(positions(100), 0, 4)).exitCode).toBe(ExitCode.usage);
    expect(caughtError(() => new StreamBatcher(positions(100), 2, 1.5)).message).toBe(
      "sequence length must be a positive integer (got 1.5)",
    );
  });
});

describe("splitValidation", () => {
  it("holds out the last floor(N * fraction) tokens as views of the data", () => {
    const data = positions(10);
    const { train, validation } = splitValidation(data, 0.25);
    expect(Array.from(train)).toEqual([100, 101, 102, 103, 104, 105, 106, 107]);
    expect(Array.from(validation)).toEqual([108, 109]);
    // Views, not copies: a change to the data shows through.
    data[9] = 7;
    expect(validation[1]).toBe(7);
    expect(train.buffer).toBe(data.buffer);
  });

  it("gives an empty validation set for fraction 0", () => {
    const { train, validation } = splitValidation(positions(10), 0);
    expect(train.length).toBe(10);
    expect(validation.length).toBe(0);
  });

  it("rounds the validation length down", () => {
    expect(splitValidation(positions(10), 0.19).validation.length).toBe(1);
    expect(splitValidation(positions(10), 0.09).validation.length).toBe(0);
  });

  it.each([1, -0.1, Number.NaN, 1.5])("rejects fraction %s", (fraction) => {
    expect(caughtError(() => splitValidation(positions(10), fraction)).exitCode).toBe(ExitCode.usage);
  });
});
