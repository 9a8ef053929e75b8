import { describe, expect, it } from "vitest";
import {
  BASE_LR, CHARS_PER_PARAMETER, LARGE_VOCABULARY, LARGE_VOCABULARY_LR, MIN_LR, PLANNED_SHARE, USEFUL_EPOCHS,
  calibrationCandidates, chooseForBudget, learningRateFor, warmupFor, dropoutFor, fitsBudget, recurrentParameters, retimedSteps, retimeSteps, stepsThatFit,
  type BudgetFacts, type CandidateShape, type Measurement,
} from "../../../src/core/train/chooser.js";

const gru = (hidden: number, embed = 0): CandidateShape => ({ model: "gru", layers: 2, hidden, embed });
const facts = (overrides: Partial<BudgetFacts> = {}): BudgetFacts => ({
  trainMs: 120_000, trainChars: 1_000_000, vocabularySize: 65, charsPerStep: 2048, ...overrides,
});
/** Throughput falling with width the way a 2-core machine's does (cost ~ H^2). */
const measured = (widths: number[], charsPerSecondAt128 = 20_000, embed = 0): Measurement[] =>
  widths.map((hidden) => ({ shape: gru(hidden, embed), charsPerSecond: charsPerSecondAt128 * (128 / hidden) ** 2 }));

describe("recurrentParameters", () => {
  it.each([
    // layer 0: 3H·0 (one-hot columns are per character) + 3H·H + 6H; layer 1: 3H·H + 3H·H + 6H
    ["gru 2x128 one-hot", gru(128), 3 * 128 * 128 + 6 * 128 + 2 * 3 * 128 * 128 + 6 * 128],
    ["gru 2x128 embed 64", gru(128, 64), 3 * 128 * 64 + 3 * 128 * 128 + 6 * 128 + 2 * 3 * 128 * 128 + 6 * 128],
    ["lstm 1x10", { model: "lstm", layers: 1, hidden: 10, embed: 0 } as CandidateShape, 4 * 10 * 10 + 8 * 10],
  ])("%s", (_name, shape, expected) => {
    expect(recurrentParameters(shape)).toBe(expected);
  });

  it("does not grow with the vocabulary", () => {
    expect(recurrentParameters(gru(256))).toBe(recurrentParameters({ ...gru(256) }));
  });
});

describe("stepsThatFit", () => {
  // PLANNED_SHARE of the time: 0.85 × 120 s × 20,480 chars/s ÷ 2048 chars a step = 1020 steps.
  it.each([
    [120_000, 20_480, 2048, 0, 1020],
    [600_000, 20_480, 2048, 0, 5100],
    [1_000, 1_000, 2048, 0, 0],
    [60_000, 10_000, 1000, 0, 510],
    [120_000, 20_480, 1024, 1024, 1020], // validation passes as costly as the training itself: half the steps
  ])("%i ms at %i chars/s, %i chars a step and %i of validation: %i steps", (trainMs, charsPerSecond, charsPerStep, overheadCharsPerStep, expected) => {
    expect(PLANNED_SHARE).toBe(0.85);
    expect(stepsThatFit(facts({ trainMs, charsPerStep, overheadCharsPerStep }), { shape: gru(128), charsPerSecond })).toBe(expected);
  });
});

describe("fitsBudget", () => {
  const shape = gru(128);
  const needed = CHARS_PER_PARAMETER * recurrentParameters(shape); // characters of training it needs
  const rateFor = (chars: number, trainMs: number) => (chars / trainMs / PLANNED_SHARE) * 1000;
  it("fits when the steps that fit carry enough characters", () => {
    expect(fitsBudget(facts({ trainChars: 1e9 }), { shape, charsPerSecond: rateFor(needed + 4096, 120_000) })).toBe(true);
    expect(fitsBudget(facts({ trainChars: 1e9 }), { shape, charsPerSecond: rateFor(needed - 4096, 120_000) })).toBe(false);
  });
  it("counts at most USEFUL_EPOCHS passes over a small text", () => {
    const trainChars = Math.floor(needed / USEFUL_EPOCHS) - 1000; // even infinite speed cannot fit
    expect(fitsBudget(facts({ trainChars }), { shape, charsPerSecond: 1e9 })).toBe(false);
    expect(fitsBudget(facts({ trainChars: trainChars + 2000 }), { shape, charsPerSecond: 1e9 })).toBe(true);
  });
});

describe("dropoutFor", () => {
  it.each([
    [0.5, 2, 0],
    [1, 2, 0],
    [2, 2, 0],
    [3.6, 2, 0],
    [4, 2, 0],
    [8, 2, 0.1],
    [16, 2, 0.2],
    [32, 2, 0.3],
    [100, 2, 0.3],
    [8, 1, 0], // dropout acts between layers: a single layer has none
  ])("%f passes, %i layers: %f", (epochs, layers, expected) => {
    expect(dropoutFor(epochs, layers)).toBeCloseTo(expected, 10);
  });
});

describe("calibrationCandidates", () => {
  it("is a ladder of two-layer GRUs, smallest first, one-hot for a small vocabulary", () => {
    const ladder = calibrationCandidates(65);
    expect(ladder.length).toBeGreaterThanOrEqual(3);
    for (const shape of ladder) expect(shape).toMatchObject({ model: "gru", layers: 2, embed: 0 });
    const sizes = ladder.map(recurrentParameters);
    expect([...sizes].sort((a, b) => a - b)).toEqual(sizes);
  });
  it("embeds a large vocabulary and starts narrower", () => {
    const small = calibrationCandidates(LARGE_VOCABULARY);
    const large = calibrationCandidates(LARGE_VOCABULARY + 1);
    expect(large.every((s) => s.embed > 0)).toBe(true);
    expect(large[0]!.hidden).toBeLessThan(small[0]!.hidden);
  });
});

describe("chooseForBudget", () => {
  const widths = [128, 192, 256, 384, 512];
  it.each([
    // budget, characters of text, chars/s of a 2x128 → chosen width
    ["a minute on a slow machine", 60_000, 1_000_000, 5_000, 128],
    ["more time buys a wider model", 600_000, 1_000_000, 40_000, 192],
    ["ten hours on a fast machine and a big text: the widest timed", 36_000_000, 100_000_000, 40_000, 512],
    ["a tiny text caps the size however long the budget", 3_600_000, 50_000, 40_000, 128],
  ])("%s", (_name, trainMs, trainChars, rate, hidden) => {
    const choice = chooseForBudget(facts({ trainMs, trainChars }), measured(widths, rate));
    expect(choice.settings.hidden).toBe(hidden);
  });

  it("picks the largest that fits, by the same rule fitsBudget states", () => {
    for (const trainMs of [30_000, 120_000, 600_000, 1_800_000]) {
      const f = facts({ trainMs });
      const ms = measured(widths);
      const choice = chooseForBudget(f, ms);
      const fitting = ms.filter((m) => fitsBudget(f, m));
      const expected = fitting.length > 0 ? fitting.at(-1)!.shape.hidden : 128;
      expect(choice.settings.hidden, `${trainMs} ms`).toBe(expected);
    }
  });

  it("schedules cosine decay over exactly the steps that fit at the chosen shape's speed", () => {
    const f = facts({ trainMs: 600_000 });
    const ms = measured(widths, 40_000);
    const choice = chooseForBudget(f, ms);
    const chosen = ms.find((m) => m.shape.hidden === choice.settings.hidden)!;
    expect(choice.settings).toMatchObject({ lrSchedule: "cosine", lr: learningRateFor(chosen.shape.hidden, f.vocabularySize), warmup: warmupFor(choice.settings.steps), steps: stepsThatFit(f, chosen) });
    expect(choice.measured.steps).toBe(choice.settings.steps);
  });

  it("adds dropout only when the run passes over the text more than four times", () => {
    const once = chooseForBudget(facts({ trainMs: 60_000, trainChars: 100_000_000 }), measured(widths));
    expect(once.settings.dropout).toBe(0);
    const often = chooseForBudget(facts({ trainMs: 3_600_000, trainChars: 2_000_000 }), measured(widths, 40_000));
    expect(often.settings.dropout).toBeGreaterThan(0);
  });

  it("chooses the smallest shape, and says so, when none fits", () => {
    const choice = chooseForBudget(facts({ trainMs: 2_000 }), measured(widths));
    expect(choice.settings.hidden).toBe(128);
    expect(choice.settings.steps).toBeGreaterThanOrEqual(1);
    expect(choice.reason).toMatch(/smallest shape/);
  });

  it("chooses from the measurements it is given, whatever their order", () => {
    const ms = measured([256, 128, 192], 40_000);
    const sorted = measured([128, 192, 256], 40_000);
    expect(chooseForBudget(facts({ trainMs: 600_000 }), ms).settings).toEqual(chooseForBudget(facts({ trainMs: 600_000 }), sorted).settings);
  });

  it("keeps the embedding of a large-vocabulary candidate", () => {
    const choice = chooseForBudget(facts({ vocabularySize: 3000 }), measured([96, 128], 8_000, 64));
    expect(choice.settings.embed).toBe(64);
    expect(choice.settings.lr).toBe(LARGE_VOCABULARY_LR);
    expect(choice.reason).toContain(`lr ${LARGE_VOCABULARY_LR} cosine`);
  });

  it("records every measured speed and names the chosen shape in its reason", () => {
    const choice = chooseForBudget(facts(), measured([128, 192]));
    expect(choice.measured["charsPerSecond.gru2x128"]).toBe(20_000);
    expect(choice.measured["charsPerSecond.gru2x192"]).toBe(Math.round(20_000 * (128 / 192) ** 2));
    expect(choice.reason).toMatch(/^gru 2x\d+, dropout [\d.]+, lr 0\.\d+ cosine over [\d,]+ steps/);
  });

  it("refuses an empty list of measurements", () => {
    expect(() => chooseForBudget(facts(), [])).toThrow(/at least one/);
  });
});

describe("re-timing from the run's own steps", () => {
  it.each([
    [9, []],
    [39, []],
    [40, [10, 20]],
    [250, [10, 125]],
    [1_000, [40, 500]],
    [10_000, [400, 5_000]],
  ])("a plan of %i steps re-times at steps %o", (planned, at) => {
    expect(retimeSteps(planned)).toEqual(at);
  });

  it("plans the time left at the measured step time, validation passes included, keeping back 5%", () => {
    // 40 steps in 4 s: 100 ms a step; validation adds a tenth; 100 s left buy 0.95 * 100000 / 110 steps.
    const steps = retimedSteps({ stepsDone: 40, timedSteps: 40, stepMs: 4_000, timeLeftMs: 100_000, overheadCharsPerStep: 204.8, charsPerStep: 2048 });
    expect(steps).toBe(40 + Math.floor((0.95 * 100_000) / 110));
  });

  it("times the recent steps, and counts from every step made", () => {
    // 400 steps made; the last 100 took 5 s: 50 ms a step for the 10 s left.
    expect(retimedSteps({ stepsDone: 400, timedSteps: 100, stepMs: 5_000, timeLeftMs: 10_000, overheadCharsPerStep: 0, charsPerStep: 2048 })).toBe(400 + 190);
  });

  it("a faster run than calibrated plans more steps, a slower one fewer", () => {
    const base = { stepsDone: 40, timedSteps: 40, timeLeftMs: 100_000, overheadCharsPerStep: 0, charsPerStep: 2048 };
    expect(retimedSteps({ ...base, stepMs: 2_000 })).toBeGreaterThan(retimedSteps({ ...base, stepMs: 4_000 }));
  });

  it("with no time left it still ends one step on, not before the steps it made", () => {
    expect(retimedSteps({ stepsDone: 40, timedSteps: 40, stepMs: 4_000, timeLeftMs: -5, overheadCharsPerStep: 0, charsPerStep: 2048 })).toBe(41);
  });
});

describe("learning rate and warm-up", () => {
  it.each([
    [96, 0.016],
    [128, 0.016],
    [192, 0.0107],
    [256, 0.008],
    [384, 0.0053],
    [512, 0.004],
    [1024, 0.003],
  ])("a GRU %i wide peaks at %f", (hidden, lr) => {
    expect(learningRateFor(hidden)).toBeCloseTo(lr, 10);
    expect(learningRateFor(hidden)).toBeLessThanOrEqual(BASE_LR);
  });

  it("peaks at the large-vocabulary rate above 1,000 distinct characters, at any width", () => {
    for (const hidden of [96, 192, 512]) {
      expect(learningRateFor(hidden, LARGE_VOCABULARY)).toBe(learningRateFor(hidden));
      expect(learningRateFor(hidden, LARGE_VOCABULARY + 1)).toBe(LARGE_VOCABULARY_LR);
    }
    expect(LARGE_VOCABULARY_LR).toBeLessThan(MIN_LR);
  });

  it.each([
    [10, 0],
    [100, 3],
    [1_000, 30],
    [1_850, 50],
    [20_000, 50],
  ])("%i steps warm up for %i", (steps, warmup) => {
    expect(warmupFor(steps)).toBe(warmup);
  });
});
