// Small pure helpers for timed measurements: the median the peers report, how many iterations
// fill a timed window, and the clock itself in one place. Not a benchmark framework: each
// measurement in measure.ts decides its own warm-up and windows, like the peer scripts do.

import { performance } from "node:perf_hooks";

/** Milliseconds from a monotonic clock. */
export const nowMs = (): number => performance.now();

/** The median (the mean of the middle two for an even count), as Python's statistics.median. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Iterations of `iterationSeconds` each that fill a window of about `windowSeconds`: at least
 * one, at most `limit`. A fast backend gets many short steps, a slow one a single long step, so
 * the bench takes about the same time whatever is measured.
 */
export function iterationsToFill(windowSeconds: number, iterationSeconds: number, limit: number): number {
  if (!(iterationSeconds > 0) || !Number.isFinite(iterationSeconds)) return Math.max(1, limit);
  return Math.min(Math.max(1, Math.round(windowSeconds / iterationSeconds)), Math.max(1, limit));
}

/** Runs `work` once and returns how long it took, in milliseconds. */
export function timeMs(work: () => void): number {
  const start = nowMs();
  work();
  return nowMs() - start;
}

/** The same for asynchronous work. */
export async function timeMsAsync(work: () => Promise<unknown>): Promise<number> {
  const start = nowMs();
  await work();
  return nowMs() - start;
}
