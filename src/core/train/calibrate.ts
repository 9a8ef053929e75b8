// The calibration before a time-budget run: a few timed training steps of each candidate shape,
// smallest first, on the run's own text, batch and kernels. It stops early once a shape no longer
// fits the budget (a bigger one would fit even less) or its share of time is spent. The clock and
// the trainers come from the caller, so tests drive it with a scripted clock.

import { fitsBudget, type BudgetFacts, type CandidateShape, type Measurement } from "./chooser.js";

/** The fraction of a budget calibration may spend, and its bounds in ms. */
export const CALIBRATION_SHARE = 0.04;
export const CALIBRATION_MIN_MS = 1500;
export const CALIBRATION_MAX_MS = 30_000;
/** Timed steps per candidate (after one untimed warm-up step): at least, and at most. */
export const MIN_TIMED_STEPS = 2;
export const MAX_TIMED_STEPS = 8;

/** What calibration needs from a trainer: one training step, and its release afterwards. */
export interface CalibrationStepper {
  trainStep(): void;
  dispose?(): void;
}

export interface CalibrationHooks {
  /** Milliseconds, monotonic. */
  now(): number;
  /** A fresh trainer for this shape (its weights are thrown away after timing). */
  stepperFor(shape: CandidateShape): CalibrationStepper;
}

export interface Calibration {
  measurements: Measurement[];
  /** Wall time calibration took, ms: the caller takes it off the training time. */
  elapsedMs: number;
}

/** How long calibration may take for a budget. */
export function calibrationMs(budgetMs: number): number {
  return Math.min(CALIBRATION_MAX_MS, Math.max(CALIBRATION_MIN_MS, CALIBRATION_SHARE * budgetMs));
}

/**
 * Times each candidate in turn. `facts.trainMs` is the whole budget here: the shapes are judged
 * on the time that will be left once calibration ends, estimated as budget minus its allowance.
 */
export function calibrate(candidates: readonly CandidateShape[], facts: BudgetFacts, hooks: CalibrationHooks): Calibration {
  const started = hooks.now();
  const allowance = calibrationMs(facts.trainMs);
  const share = allowance / Math.max(1, candidates.length);
  const left: BudgetFacts = { ...facts, trainMs: Math.max(0, facts.trainMs - allowance) };
  const measurements: Measurement[] = [];
  for (const shape of candidates) {
    if (measurements.length > 0 && hooks.now() - started >= allowance) break;
    const stepper = hooks.stepperFor(shape);
    try {
      stepper.trainStep(); // warm-up: first-call costs (compilation, workers, page faults)
      const timedFrom = hooks.now();
      let steps = 0, elapsed = 0;
      do {
        stepper.trainStep();
        steps++;
        elapsed = hooks.now() - timedFrom;
      } while (steps < MIN_TIMED_STEPS || (steps < MAX_TIMED_STEPS && elapsed < share));
      const measurement: Measurement = { shape, charsPerSecond: (steps * facts.charsPerStep * 1000) / Math.max(elapsed, 1e-3) };
      measurements.push(measurement);
      if (!fitsBudget(left, measurement)) break;
    } finally {
      stepper.dispose?.();
    }
  }
  return { measurements, elapsedMs: hooks.now() - started };
}
