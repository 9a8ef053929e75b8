// Tests of src/core/train/step-timing.ts with a scripted clock: warm-up steps are run and not
// timed, each timed step is measured on its own, the time budget cuts timing short, and the
// estimate is the median step scaled to an epoch and a run.

import { describe, expect, it } from "vitest";
import { stepTimeEstimate, timeSteps } from "../../../src/core/train/step-timing.js";

/** A clock that a step moves forward by the next of `stepMs`; reading it costs nothing. */
function scripted(stepMs: number[]) {
  let now = 0, calls = 0;
  return { step: () => void (now += stepMs[calls++]!), now: () => now, calls: () => calls };
}

describe("timeSteps", () => {
  it("runs the warm-up untimed, then times each step", () => {
    const clock = scripted([100, 50, 40, 10, 11, 12, 13, 14]);
    const timed = timeSteps(clock.step, clock.now, { warmup: 3, timed: 5, budgetMs: 10_000 });
    expect(timed).toEqual({ warmupSteps: 3, durations: [10, 11, 12, 13, 14] });
    expect(clock.calls()).toBe(8);
  });

  it("stops once the budget is spent, with at least one step timed", () => {
    const clock = scripted([3000, 3000, 3000, 3000, 3000]);
    expect(timeSteps(clock.step, clock.now, { warmup: 3, timed: 5, budgetMs: 5000 })).toEqual({ warmupSteps: 2, durations: [3000] });
  });
});

describe("stepTimeEstimate", () => {
  it("takes the median step, so one slow step does not move it", () => {
    expect(stepTimeEstimate([10, 11, 500, 12, 13], 3, 40, 1000)).toEqual({ timedSteps: 5, warmupSteps: 3, msPerStep: 12, msPerEpoch: 480, msPerRun: 12_000 });
    expect(stepTimeEstimate([10, 20], 3, 2, null)).toMatchObject({ msPerStep: 15, msPerEpoch: 30, msPerRun: null });
  });

  it("needs a timed step", () => {
    expect(() => stepTimeEstimate([], 3, 2, 10)).toThrow(RangeError);
  });
});
