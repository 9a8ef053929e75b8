// Learning-rate schedules: a pure function of the step, so a resumed run gets the same rate.
// Schedules that decay toward an end need a total step count; with only a time budget there is
// no end to decay toward, and describeSchedule says what happens instead.

export type ScheduleKind = "constant" | "step" | "cosine";

export interface Schedule {
  kind: ScheduleKind;
  baseLr: number;
  /** Step decay: multiply by `decay` every `decayEvery` steps. */
  decay: number;
  decayEvery: number;
  /** Cosine: linear warm-up over this many steps, then a half cosine to 0 at totalSteps. */
  warmup: number;
  /** The run's total steps, when known (from the steps or epochs setting). */
  totalSteps: number | null;
}

/** The learning rate for the update made at `step` (0-based). */
export function learningRate(s: Schedule, step: number): number {
  switch (s.kind) {
    case "constant":
      return s.baseLr;
    case "step":
      return s.baseLr * Math.pow(s.decay, Math.floor(step / Math.max(1, s.decayEvery)));
    case "cosine": {
      if (step < s.warmup) return (s.baseLr * (step + 1)) / s.warmup;
      if (s.totalSteps === null) return s.baseLr;
      const span = Math.max(1, s.totalSteps - s.warmup);
      const progress = Math.min(1, (step - s.warmup) / span);
      // SGDR's cosine annealing (Loshchilov & Hutter 2017) without restarts.
      return 0.5 * s.baseLr * (1 + Math.cos(Math.PI * progress));
    }
  }
}

/** A one-line note when a schedule cannot do what its name says (null when it can). */
export function describeSchedule(s: Schedule): string | null {
  if (s.kind === "cosine" && s.totalSteps === null) {
    return "the cosine learning-rate schedule needs a step or epoch limit to know where it ends; with only a time limit it warms up and then holds the learning rate constant";
  }
  return null;
}
