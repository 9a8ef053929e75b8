// Fitting the batch and the window to a text too short for them: a text of N training characters
// holds one window of B streams x T steps only when N >= B*(T+1) (batches.ts), so a short text
// gets a smaller batch (and, below T+1 characters, a shorter window) instead of a refusal.
// Only settings the user did not give are changed; the caller records them as "chosen".
// Not here: the layout itself (src/core/data/batches.ts) or printing the note (the faces).

import { badInput } from "../errors.js";
import { formatCount } from "../util/format.js";

export interface WindowShape {
  batch: number;
  seqLen: number;
}

export type SmallTextFit =
  | { kind: "fits" }
  /** `chosen` lists the settings changed, in the order batch, seqLen. */
  | { kind: "fitted"; shape: WindowShape; chosen: ("batch" | "seqLen")[] }
  /** Nothing the user left open fits; `largest` are the largest values that would, one at a time. */
  | { kind: "too-short"; needed: number; largest: { batch: number | null; seqLen: number | null } };

/** Characters one window of `shape` needs: B streams of T inputs and one more target each. */
export const charactersNeeded = (shape: WindowShape): number => shape.batch * (shape.seqLen + 1);

/**
 * The shape a text of `length` training characters can be trained with. The batch shrinks first:
 * the window is the context the model learns across, while the batch only averages the gradient,
 * so fewer streams lose less. The window shrinks only once a single stream is too short for it.
 */
export function fitToText(length: number, requested: WindowShape, given: { batch: boolean; seqLen: boolean }): SmallTextFit {
  if (length >= charactersNeeded(requested)) return { kind: "fits" };
  const largestBatch = Math.floor(length / (requested.seqLen + 1));
  const largestSeqLen = Math.floor(length / requested.batch) - 1;
  const largest = { batch: largestBatch >= 1 ? largestBatch : null, seqLen: largestSeqLen >= 1 ? largestSeqLen : null };
  const tooShort = { kind: "too-short", needed: charactersNeeded(requested), largest } as const;

  if (!given.batch && largestBatch >= 1) return { kind: "fitted", shape: { batch: largestBatch, seqLen: requested.seqLen }, chosen: ["batch"] };
  if (!given.seqLen) {
    const batch = given.batch ? requested.batch : 1;
    const seqLen = Math.floor(length / batch) - 1;
    if (seqLen < 1) return tooShort;
    const chosen: ("batch" | "seqLen")[] = batch === requested.batch ? ["seqLen"] : ["batch", "seqLen"];
    return { kind: "fitted", shape: { batch, seqLen }, chosen };
  }
  return tooShort;
}

/**
 * The shape a run trains with, from `fitToText`: the same one, a smaller one with the note that
 * says so, or a refusal (bad input, code "corpus.too-short") that names the values that would fit.
 */
export function shapeForText(
  length: number,
  requested: WindowShape,
  given: ReadonlySet<string>,
  nameOf: (key: string) => string,
): { shape: WindowShape; chosen: ("batch" | "seqLen")[]; note: string | null } {
  const fit = fitToText(length, requested, { batch: given.has("batch"), seqLen: given.has("seqLen") });
  const described = (shape: WindowShape) => `${nameOf("batch")} ${shape.batch} ${nameOf("seqLen")} ${shape.seqLen}`;
  if (fit.kind === "fits") return { shape: requested, chosen: [], note: null };
  if (fit.kind === "fitted") {
    return {
      shape: fit.shape,
      chosen: fit.chosen,
      note:
        `the training text (${formatCount(length)} characters) is shorter than ${described(requested)} needs (${formatCount(charactersNeeded(requested))}): ` +
        `training with ${described(fit.shape)}`,
    };
  }
  const ways = [
    fit.largest.batch !== null ? `${nameOf("batch")} ${fit.largest.batch}` : null,
    fit.largest.seqLen !== null ? `${nameOf("seqLen")} ${fit.largest.seqLen}` : null,
  ].filter((way) => way !== null);
  throw badInput(
    `the text is too short for batch ${requested.batch} and seq-len ${requested.seqLen}: it has ${formatCount(length)} characters, at least ${formatCount(fit.needed)} are needed`,
    length < 2
      ? "give more text: a window needs at least 2 characters"
      : `${ways.length > 0 ? `it fits ${ways.join(" or ")}; ` : ""}leave out ${nameOf("batch")} and ${nameOf("seqLen")} and charnn picks what fits, or give more text`,
    { code: "corpus.too-short", facts: { length, needed: fit.needed, batch: requested.batch, seqLen: requested.seqLen, largestBatch: fit.largest.batch, largestSeqLen: fit.largest.seqLen } },
  );
}
