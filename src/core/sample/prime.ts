// What a sample starts from: the prime text as vocabulary indices under the unknown-character
// policy, and the seed of each of several samples. Shared by `charnn sample` and the library's
// Model.sample, so one seed gives the same text through both. Not here: reading a prime file.

import { badInput } from "../errors.js";
import { countUnknown, describeUnknown, summarizeUnknown, type UnknownCounts } from "../data/unknown.js";
import type { Vocabulary } from "../data/vocab.js";
import { textOf } from "../eval/lines.js";

const NEWLINE = 0x0a;
/** Seeds are whole numbers in [0, 2^32). */
export const SEED_RANGE = 2 ** 32;

export interface Prime {
  /** Vocabulary indices fed before sampling. */
  tokens: number[];
  /** The prime as the model saw it (unknown characters left out under the "skip" policy). */
  text: string;
  /** Characters outside the vocabulary that were left out, by code point. */
  skipped: UnknownCounts;
}

/** What to do with prime characters the model never saw: refuse them, or leave them out. */
export type UnknownPolicy = "error" | "skip";

/**
 * The prime's tokens under the unknown-character policy. With no prime text (or none left after
 * skipping), the model is warmed up on a newline if its vocabulary has one, else on its first
 * character: the state a line start would give. That warm-up is not part of the text.
 */
export function primeTokens(codePoints: Uint32Array, vocabulary: Vocabulary, policy: UnknownPolicy): Prime {
  const tokens: number[] = [];
  const kept: number[] = [];
  const skipped: UnknownCounts = new Map();
  for (const codePoint of codePoints) {
    const index = vocabulary.indexOf(codePoint);
    if (index >= 0) {
      tokens.push(index);
      kept.push(codePoint);
    } else countUnknown(skipped, codePoint);
  }
  if (skipped.size > 0 && policy === "error") {
    const { count, characters } = summarizeUnknown(skipped);
    throw badInput(
      `the prime has ${count} character(s) the model never saw: ${describeUnknown(skipped)}`,
      "remove them from the prime, or set the unknown-character policy to skip to leave them out",
      { code: "prime.unknown-characters", facts: { count, characters: characters.map((c) => c.character) } },
    );
  }
  if (tokens.length === 0) tokens.push(Math.max(0, vocabulary.indexOf(NEWLINE)));
  return { tokens, text: textOf(kept), skipped };
}

/** Sample i of several uses seed S+i, wrapped into the seed range so it can be repeated. */
export const seedOfSample = (baseSeed: number, index: number): number => (baseSeed + index) % SEED_RANGE;
