import { describe, expect, it } from "vitest";
import { describeSchedule, learningRate, type Schedule } from "../../../src/core/optim/schedule.js";

const base: Schedule = { kind: "constant", baseLr: 0.1, decay: 0.5, decayEvery: 10, warmup: 0, totalSteps: 100 };

describe("learning-rate schedules", () => {
  it.each([
    ["constant", {}, 0, 0.1],
    ["constant", {}, 99, 0.1],
    ["step", { kind: "step" }, 9, 0.1],
    ["step", { kind: "step" }, 10, 0.05],
    ["step", { kind: "step" }, 25, 0.025],
    ["cosine warm-up first step", { kind: "cosine", warmup: 4 }, 0, 0.025],
    ["cosine warm-up last step", { kind: "cosine", warmup: 4 }, 3, 0.1],
    ["cosine start", { kind: "cosine", warmup: 0 }, 0, 0.1],
    ["cosine middle", { kind: "cosine", warmup: 0 }, 50, 0.05],
    ["cosine end", { kind: "cosine", warmup: 0 }, 100, 0],
    ["cosine past the end", { kind: "cosine", warmup: 0 }, 150, 0],
    ["cosine without a total holds after warm-up", { kind: "cosine", warmup: 2, totalSteps: null }, 70, 0.1],
  ] as const)("%s at step %s", (_name, overrides, step, expected) => {
    expect(learningRate({ ...base, ...overrides } as Schedule, step)).toBeCloseTo(expected, 12);
  });

  it("says what cosine does without a total", () => {
    expect(describeSchedule({ ...base, kind: "cosine", totalSteps: null })).toMatch(/step or epoch limit/);
    expect(describeSchedule({ ...base, kind: "cosine" })).toBeNull();
  });
});
