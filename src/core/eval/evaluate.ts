// Scoring a whole text under a model, with the unknown-character rule of `charnn eval`: the
// characters the vocabulary lacks are dropped before scoring (neither fed nor predicted) and
// counted. The result is what `charnn eval --json` prints and what Model.evaluate returns.
// Not here: the scoring arithmetic (score.ts), reading files, per-line scoring (the eval command).

import { summarizeUnknown, type UnknownSummary } from "../data/unknown.js";
import type { Vocabulary } from "../data/vocab.js";
import { badInput } from "../errors.js";
import { scoreSummary, type TextScorer } from "./score.js";

export interface Evaluation {
  /** Mean cross-entropy per predicted character, in nats. */
  nats: number;
  /** The same in bits per character (nats / ln 2). */
  bits: number;
  /** e^nats. */
  perplexity: number;
  /** Characters predicted: one fewer than the known characters (the first has no context). */
  predictions: number;
  /** Known characters scored (fed to the model). */
  characters: number;
  /** Σ −ln p over every prediction, in nats. */
  lossSum: number;
  /** Characters left out because the model never saw them. */
  unknown: UnknownSummary;
}

/** Scores `codePoints` from the model's initial state in one exact pass. */
export function evaluateCodePoints(scorer: TextScorer, vocabulary: Vocabulary, codePoints: Uint32Array, sourceName = "the text"): Evaluation {
  const { indices, unknown } = vocabulary.encode(codePoints);
  if (indices.length < 2) {
    throw badInput(
      `nothing to score in ${sourceName}: ${indices.length} known character(s), at least 2 are needed`,
      "each character is predicted from the ones before it, so the first one is never scored",
      { code: "eval.too-short", facts: { known: indices.length, needed: 2 } },
    );
  }
  // The indices are below 2^31, so the same bytes read as Int32 are the same numbers.
  const tokens = new Int32Array(indices.buffer, indices.byteOffset, indices.length);
  const score = scorer.score(tokens);
  const { nats, bits, perplexity } = scoreSummary(score);
  return { nats, bits, perplexity, predictions: score.predictions, characters: indices.length, lossSum: score.lossSum, unknown: summarizeUnknown(unknown) };
}
