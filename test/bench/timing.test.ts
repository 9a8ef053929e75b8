// The median the report uses and the window sizing; no clock is read here.

import { describe, expect, it } from "vitest";
import { iterationsToFill, median } from "../../bench/timing.js";

describe("median", () => {
  it("is the middle value, the mean of the middle two for an even count, NaN for none", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([10, 1, 4, 7])).toBe(5.5);
    expect(median([42])).toBe(42);
    expect(median([])).toBeNaN();
  });

  it("does not reorder its argument", () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe("iterationsToFill", () => {
  it("fits whole iterations to the window, at least one and at most the limit", () => {
    expect(iterationsToFill(3, 0.5, 100)).toBe(6);
    expect(iterationsToFill(3, 10, 100)).toBe(1);
    expect(iterationsToFill(3, 0.001, 100)).toBe(100);
    expect(iterationsToFill(1, 0.4, 100)).toBe(3); // 2.5 rounds up
  });

  it("falls back to the limit when the iteration was too fast to time", () => {
    expect(iterationsToFill(3, 0, 50)).toBe(50);
  });
});
