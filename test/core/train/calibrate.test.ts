import { describe, expect, it } from "vitest";
import { CALIBRATION_MAX_MS, CALIBRATION_MIN_MS, MAX_TIMED_STEPS, MIN_TIMED_STEPS, calibrate, calibrationMs } from "../../../src/core/train/calibrate.js";
import { calibrationCandidates, fitsBudget, type BudgetFacts, type CandidateShape } from "../../../src/core/train/chooser.js";

const facts = (trainMs: number): BudgetFacts => ({ trainMs, trainChars: 1_000_000, vocabularySize: 65, charsPerStep: 2048 });

/** A clock that moves only when a scripted step runs: a step of width H costs msAt128·(H/128)². */
function scriptedMachine(msAt128: number, warmUpExtraMs = 0) {
  let clock = 0;
  const log: Array<{ hidden: number; steps: number; disposed: boolean }> = [];
  return {
    log,
    hooks: {
      now: () => clock,
      stepperFor(shape: CandidateShape) {
        const entry = { hidden: shape.hidden, steps: 0, disposed: false };
        log.push(entry);
        return {
          trainStep() {
            clock += msAt128 * (shape.hidden / 128) ** 2 + (entry.steps === 0 ? warmUpExtraMs : 0);
            entry.steps++;
          },
          dispose() { entry.disposed = true; },
        };
      },
    },
  };
}

describe("calibrationMs", () => {
  it.each([
    [10_000, CALIBRATION_MIN_MS],
    [120_000, 4_800],
    [600_000, 24_000],
    [36_000_000, CALIBRATION_MAX_MS],
  ])("a budget of %i ms allows %i ms", (budget, expected) => {
    expect(calibrationMs(budget)).toBe(expected);
  });
});

describe("calibrate", () => {
  it("measures each shape's speed from its timed steps, not the warm-up", () => {
    const machine = scriptedMachine(100, 5_000); // 100 ms a step at 2x128, the first step 5 s slower
    const result = calibrate(calibrationCandidates(65).slice(0, 2), facts(3_600_000), machine.hooks);
    expect(result.measurements[0]!.charsPerSecond).toBeCloseTo(2048 / 0.1, 6);
    expect(result.measurements[1]!.charsPerSecond).toBeCloseTo(2048 / (0.1 * (192 / 128) ** 2), 6);
  });

  it("times at least MIN and at most MAX steps after the warm-up, and disposes every trainer", () => {
    const fast = scriptedMachine(0.01);
    calibrate(calibrationCandidates(65).slice(0, 1), facts(3_600_000), fast.hooks);
    expect(fast.log[0]).toEqual({ hidden: 128, steps: 1 + MAX_TIMED_STEPS, disposed: true });
    const slow = scriptedMachine(60_000);
    calibrate(calibrationCandidates(65).slice(0, 1), facts(3_600_000), slow.hooks);
    expect(slow.log[0]).toEqual({ hidden: 128, steps: 1 + MIN_TIMED_STEPS, disposed: true });
  });

  it("stops at the first shape that no longer fits the budget", () => {
    const machine = scriptedMachine(50);
    const candidates = calibrationCandidates(65);
    const result = calibrate(candidates, facts(120_000), machine.hooks);
    const last = result.measurements.at(-1)!;
    const left = { ...facts(120_000), trainMs: 120_000 - calibrationMs(120_000) };
    expect(fitsBudget(left, last)).toBe(false);
    for (const m of result.measurements.slice(0, -1)) expect(fitsBudget(left, m)).toBe(true);
    expect(result.measurements.length).toBeLessThan(candidates.length);
  });

  it("stops timing new shapes once its allowance is spent, but always measures one", () => {
    const machine = scriptedMachine(10_000); // a step takes 10 s: one shape uses the whole allowance
    const result = calibrate(calibrationCandidates(65), facts(10_000_000_000), machine.hooks);
    expect(result.measurements).toHaveLength(1);
    expect(result.elapsedMs).toBe(10_000 * (1 + MIN_TIMED_STEPS));
  });
});
