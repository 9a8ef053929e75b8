// Unit conversions for losses: one definition, so the CLI, the API and the reports agree.
// Not here: computing a loss (src/core/eval/score.ts) or printing one (the faces).

/**
 * Cross-entropy in nats divided by ln 2 is bits per character, the unit compression results
 * (and Karpathy's char-rnn write-up) use, so losses can be compared with them.
 */
export function natsToBits(nats: number): number {
  return nats / Math.LN2;
}
