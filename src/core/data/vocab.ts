// The character vocabulary: the sorted set of code points in the training text, so the same
// text always gives the same ids (as nanoGPT does), and the id ↔ character mapping.
// Not a tokenizer: one code point is one token, with no normalisation and no merges; it also
// never decides what to do about unknown characters beyond counting them.

import { badInput } from "../errors.js";
import { describeCodePoint, isSurrogate, MAX_CODE_POINT } from "../util/chars.js";
import { countUnknown, type UnknownCounts } from "./unknown.js";

/** Code points below this get a dense lookup table (256 KiB); the rest go through a Map. */
const DENSE_LIMIT = 0x10000;

export class Vocabulary {
  readonly size: number;
  readonly codePoints: readonly number[];
  /** denseIndex[cp] is the index of cp, or -1; one array read for nearly every text. */
  private readonly denseIndex: Int32Array;
  private readonly astralIndex: Map<number, number>;

  /** `codePoints` must be strictly ascending Unicode scalar values. */
  constructor(codePoints: readonly number[]) {
    codePoints.forEach((codePoint, position) => {
      if (!Number.isInteger(codePoint) || codePoint < 0 || codePoint > MAX_CODE_POINT || isSurrogate(codePoint)) {
        throw badInput(
          `vocabulary: entry ${position} is not a Unicode code point (got ${JSON.stringify(codePoint)})`,
          "expected integers from 0 to 1114111 (0x10FFFF), excluding surrogates",
        );
      }
      if (position > 0 && codePoint <= codePoints[position - 1]) {
        throw badInput(
          `vocabulary: entry ${position} (${codePoint}) is not greater than the one before (${codePoints[position - 1]})`,
          "the vocabulary must be sorted ascending without repeats; the checkpoint may be damaged",
        );
      }
    });

    this.codePoints = Object.freeze([...codePoints]);
    this.size = codePoints.length;
    this.denseIndex = new Int32Array(DENSE_LIMIT).fill(-1);
    this.astralIndex = new Map();
    codePoints.forEach((codePoint, index) => {
      if (codePoint < DENSE_LIMIT) this.denseIndex[codePoint] = index;
      else this.astralIndex.set(codePoint, index);
    });
  }

  /** The set of code points present in `codePoints`, ascending. */
  static fromCodePoints(codePoints: Uint32Array): Vocabulary {
    return new Vocabulary(distinctSorted(codePoints));
  }

  /** Parse what toJSON produced (e.g. read back from a checkpoint), rejecting anything else. */
  static fromJSON(value: unknown): Vocabulary {
    if (!Array.isArray(value)) {
      throw badInput(
        `vocabulary: expected an array of code points, got ${value === null ? "null" : typeof value}`,
        "the checkpoint may be damaged or from another program",
      );
    }
    return new Vocabulary(value as number[]);
  }

  /** The index of `codePoint`, or -1 when it is not in the vocabulary. */
  indexOf(codePoint: number): number {
    if (codePoint >= 0 && codePoint < DENSE_LIMIT) return this.denseIndex[codePoint];
    return this.astralIndex.get(codePoint) ?? -1;
  }

  /**
   * Map code points to indices. Characters not in the vocabulary are dropped (a model cannot
   * take them as input) and counted per code point so the caller can report them.
   */
  encode(codePoints: Uint32Array): { indices: Uint32Array; unknown: UnknownCounts } {
    const indices = new Uint32Array(codePoints.length);
    const unknown: UnknownCounts = new Map();
    let written = 0;
    for (let i = 0; i < codePoints.length; i++) {
      const codePoint = codePoints[i];
      const index = this.indexOf(codePoint);
      if (index >= 0) indices[written++] = index;
      else countUnknown(unknown, codePoint);
    }
    return { indices: written === indices.length ? indices : indices.slice(0, written), unknown };
  }

  /** The character with index `index`, as a string (one or two UTF-16 units). */
  charAt(index: number): string {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new RangeError(`vocabulary index ${index} is outside 0..${this.size - 1}`);
    }
    return String.fromCodePoint(this.codePoints[index]);
  }

  /**
   * This vocabulary plus the code points of `codePoints` it lacks, still sorted. Indices of
   * existing characters may shift, so a model must be remapped (fine-tuning on new text).
   */
  extendedWith(codePoints: Uint32Array): { vocabulary: Vocabulary; added: number[] } {
    const added = distinctSorted(codePoints).filter((codePoint) => this.indexOf(codePoint) < 0);
    if (added.length === 0) return { vocabulary: this, added };
    const union = [...this.codePoints, ...added].sort((a, b) => a - b);
    return { vocabulary: new Vocabulary(union), added };
  }

  toJSON(): number[] {
    return [...this.codePoints];
  }

  /** A printable rendering of a code point for messages (see describeCodePoint). */
  describe(codePoint: number): string {
    return describeCodePoint(codePoint);
  }
}

/** Distinct values of `codePoints`, ascending; a Set is enough for a character inventory. */
function distinctSorted(codePoints: Uint32Array): number[] {
  const seen = new Set<number>();
  for (let i = 0; i < codePoints.length; i++) seen.add(codePoints[i]);
  return [...seen].sort((a, b) => a - b);
}
