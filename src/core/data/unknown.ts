// Characters a model's vocabulary does not have, counted per code point while text is encoded
// (Vocabulary.encode, a sample's prime), and the one summary every face reports them with:
// the total and the characters, most frequent first. Not here: what to do about them (the
// `unknown` setting: error or skip) or how a face words them.

import { describeCodePoint } from "../util/chars.js";

/** Code point → how many times it occurred. */
export type UnknownCounts = Map<number, number>;

export interface UnknownCharacter {
  character: string;
  codePoint: number;
  count: number;
}

export interface UnknownSummary {
  /** Characters left out, repeats included. */
  count: number;
  /** One entry per distinct character, the most frequent first (ties by code point). */
  characters: UnknownCharacter[];
}

/** Counts one more occurrence of `codePoint`. */
export function countUnknown(unknown: UnknownCounts, codePoint: number): void {
  unknown.set(codePoint, (unknown.get(codePoint) ?? 0) + 1);
}

export function summarizeUnknown(unknown: UnknownCounts): UnknownSummary {
  const entries = [...unknown].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return {
    count: entries.reduce((sum, [, count]) => sum + count, 0),
    characters: entries.map(([codePoint, count]) => ({ character: String.fromCodePoint(codePoint), codePoint, count })),
  };
}

/** `"é" (U+00E9) x3, "\u00A0" (U+00A0), and 4 more` for a message: at most `limit` characters. */
export function describeUnknown(unknown: UnknownCounts, limit = 10): string {
  const { characters } = summarizeUnknown(unknown);
  const shown = characters.slice(0, limit).map(({ codePoint, count }) => `${describeCodePoint(codePoint)}${count > 1 ? ` x${count}` : ""}`);
  if (characters.length > limit) shown.push(`and ${characters.length - limit} more`);
  return shown.join(", ");
}
