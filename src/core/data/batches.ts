// The corpus as B parallel streams cut into windows of T steps (torch-rnn's layout), so the
// hidden state of row b carries from one window to the next for truncated BPTT.
// The script that makes the PyTorch reference losses reproduces this layout exactly: change
// both or neither.
// Not a shuffler and not an allocator: windows come in order, into buffers the caller owns.

import { badInput, usageError } from "../errors.js";

export interface BatchCursor {
  /** Completed passes over the data. */
  epoch: number;
  /** The window the next call to next() fills, 0 ≤ window < windowsPerEpoch. */
  window: number;
}

export interface BatchStep extends BatchCursor {
  /** True when the window just filled is window 0: the trainer resets the hidden state. */
  epochStart: boolean;
}

const requirePositiveInteger = (value: number, what: string, key: string): void => {
  if (!Number.isInteger(value) || value < 1) {
    throw usageError(`${what} must be a positive integer (got ${value})`, undefined,
      { code: "setting.out-of-range", facts: { key, value, min: 1 } });
  }
};

/**
 * Layout, for data of length N, batch size B and sequence length T:
 *
 *   S = floor(N / B)            stream length; stream b is data[b*S .. (b+1)*S)
 *   W = floor((S - 1) / T)      windows per epoch (targets need one token past the inputs)
 *   inputs[t*B + b]  = data[b*S + w*T + t]        time-major (T, B)
 *   targets[t*B + b] = data[b*S + w*T + t + 1]
 *
 * The last N - B*S tokens and the tail of each stream past W*T + 1 are never used.
 */
export class StreamBatcher {
  readonly batchSize: number;
  readonly seqLen: number;
  readonly streamLength: number;
  readonly windowsPerEpoch: number;
  private readonly data: Uint32Array;
  private epoch = 0;
  private window = 0;

  constructor(data: Uint32Array, batchSize: number, seqLen: number) {
    requirePositiveInteger(batchSize, "batch size", "batch");
    requirePositiveInteger(seqLen, "sequence length", "seqLen");
    this.data = data;
    this.batchSize = batchSize;
    this.seqLen = seqLen;
    this.streamLength = Math.floor(data.length / batchSize);
    this.windowsPerEpoch = Math.floor((this.streamLength - 1) / seqLen);
    if (this.windowsPerEpoch < 1) {
      const needed = batchSize * (seqLen + 1);
      throw badInput(
        `the text is too short for batch ${batchSize} and seq-len ${seqLen}: ` +
          `it has ${data.length} characters, at least ${needed} are needed`,
        "use a smaller batch size or sequence length, or give more text",
        { code: "corpus.too-short", facts: { length: data.length, needed, batch: batchSize, seqLen } },
      );
    }
  }

  /** Fill window `window` of the epoch into time-major (T, B) buffers. Allocates nothing. */
  fill(window: number, inputs: Int32Array, targets: Int32Array): void {
    if (!Number.isInteger(window) || window < 0 || window >= this.windowsPerEpoch) {
      throw new RangeError(`window ${window} is outside 0..${this.windowsPerEpoch - 1}`);
    }
    const batchSize = this.batchSize;
    const seqLen = this.seqLen;
    const expected = batchSize * seqLen;
    if (inputs.length !== expected || targets.length !== expected) {
      throw new RangeError(
        `batch buffers must hold B*T = ${expected} values (got ${inputs.length} and ${targets.length})`,
      );
    }
    const data = this.data;
    const windowStart = window * seqLen;
    for (let b = 0; b < batchSize; b++) {
      const start = b * this.streamLength + windowStart;
      for (let t = 0; t < seqLen; t++) {
        inputs[t * batchSize + b] = data[start + t];
        targets[t * batchSize + b] = data[start + t + 1];
      }
    }
  }

  /** Fill the window under the cursor, then move the cursor on (wrapping into the next epoch). */
  next(inputs: Int32Array, targets: Int32Array): BatchStep {
    const step: BatchStep = { epoch: this.epoch, window: this.window, epochStart: this.window === 0 };
    this.fill(this.window, inputs, targets);
    this.window++;
    if (this.window === this.windowsPerEpoch) {
      this.window = 0;
      this.epoch++;
    }
    return step;
  }

  /** Where the next call to next() reads; saved in checkpoints for an exact resume. */
  get cursor(): BatchCursor {
    return { epoch: this.epoch, window: this.window };
  }

  set cursor(cursor: BatchCursor) {
    // The value usually comes from a checkpoint file, so do not trust its shape either.
    const { epoch, window } = (cursor ?? {}) as { epoch?: unknown; window?: unknown };
    if (typeof epoch !== "number" || !Number.isSafeInteger(epoch) || epoch < 0) {
      throw badInput(
        `batch cursor: epoch must be a non-negative integer (got ${String(epoch)})`,
        "the checkpoint may be damaged",
        { code: "checkpoint.damaged", facts: { field: "cursor.epoch", value: epoch } },
      );
    }
    if (typeof window !== "number" || !Number.isInteger(window) || window < 0 || window >= this.windowsPerEpoch) {
      throw badInput(
        `batch cursor: window ${String(window)} is outside 0..${this.windowsPerEpoch - 1} for this text, batch and seq-len`,
        "resume with the same corpus, batch size and sequence length as the checkpoint",
        { code: "checkpoint.cursor-mismatch", facts: { window, windowsPerEpoch: this.windowsPerEpoch } },
      );
    }
    this.epoch = epoch;
    this.window = window;
  }
}

/**
 * Hold out the last floor(N * valFraction) tokens for validation. Both parts are views of
 * `data`, not copies.
 */
export function splitValidation(
  data: Uint32Array,
  valFraction: number,
): { train: Uint32Array; validation: Uint32Array } {
  if (!Number.isFinite(valFraction) || valFraction < 0 || valFraction >= 1) {
    throw usageError(
      `validation fraction must be at least 0 and below 1 (got ${valFraction})`,
      "e.g. 0.1 holds out the last 10% of the text",
      { code: "setting.out-of-range", facts: { key: "valFrac", value: valFraction, min: 0, below: 1 } },
    );
  }
  const validationLength = Math.floor(data.length * valFraction);
  const boundary = data.length - validationLength;
  return { train: data.subarray(0, boundary), validation: data.subarray(boundary) };
}
