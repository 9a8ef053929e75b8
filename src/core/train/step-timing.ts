// The dry run's time estimate: a few real training steps timed on the planned model, batch and
// kernels, scaled to a step, an epoch and the run. The clock is the caller's (`now`), so the
// engine reads none. Not counted: validation passes, checkpoint saves and sample previews, whose
// cost depends on their cadence; the estimate says it is for training steps only.

export interface StepTimingOptions {
  /** Untimed steps first: the first calls fill caches, compile wasm paths and start workers. */
  warmup: number;
  /** Steps timed after the warm-up. */
  timed: number;
  /** Stop timing early once this many ms have gone, provided one step was timed (a huge model). */
  budgetMs: number;
}

export const DRY_RUN_TIMING: StepTimingOptions = Object.freeze({ warmup: 3, timed: 5, budgetMs: 20_000 });

export interface StepTimeEstimate {
  /** Steps timed, after `warmupSteps` untimed ones. */
  timedSteps: number;
  warmupSteps: number;
  /** Median of the timed steps, ms: one slow step on a shared machine does not move it. */
  msPerStep: number;
  /** msPerStep x windows per epoch. */
  msPerEpoch: number;
  /** msPerStep x the run's steps; null when only a time budget ends the run. */
  msPerRun: number | null;
}

/** Runs `step` warm-up + timed times; returns how many warm-up steps ran and each timed step's ms. */
export function timeSteps(step: () => void, now: () => number, options: StepTimingOptions = DRY_RUN_TIMING): { warmupSteps: number; durations: number[] } {
  const started = now();
  let warmupSteps = 0;
  while (warmupSteps < options.warmup) {
    step();
    warmupSteps++;
    if (now() - started > options.budgetMs) break;
  }
  const durations: number[] = [];
  while (durations.length < options.timed) {
    const before = now();
    step();
    durations.push(now() - before);
    if (now() - started > options.budgetMs) break;
  }
  return { warmupSteps, durations };
}

/** The estimate from timed step durations (at least one). */
export function stepTimeEstimate(durations: readonly number[], warmupSteps: number, windowsPerEpoch: number, totalSteps: number | null): StepTimeEstimate {
  if (durations.length === 0) throw new RangeError("no timed steps to estimate from");
  const sorted = [...durations].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const msPerStep = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return {
    timedSteps: durations.length,
    warmupSteps,
    msPerStep,
    msPerEpoch: msPerStep * windowsPerEpoch,
    msPerRun: totalSteps === null ? null : msPerStep * totalSteps,
  };
}
