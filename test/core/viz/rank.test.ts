// Pearson's r against numbers worked by hand, and the ranking over a hand-made trace: order by
// |r|, constant units scored 0, a constant feature refused.

import { describe, expect, it } from "vitest";
import { pearson, rankUnits } from "../../../src/core/viz/rank.js";
import type { Trace } from "../../../src/core/viz/trace.js";

describe("pearson", () => {
  it("is 1 and -1 for exact linear relations, and matches a value worked by hand", () => {
    expect(pearson([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(pearson([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
    // x = 1,2,3,4 and y = 1,3,2,4 about their means 2.5: sxy = 4, sxx = syy = 5, so r = 4/5.
    expect(pearson([1, 2, 3, 4], [1, 3, 2, 4])).toBeCloseTo(0.8, 12);
    expect(pearson([5, 5, 5], [1, 2, 3])).toBeNaN();
  });

  it("does not lose precision to a large offset", () => {
    expect(pearson([1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4], [1, 3, 2, 4])).toBeCloseTo(0.8, 9);
  });
});

describe("rankUnits", () => {
  // T = 4 steps, L = 1, H = 3: unit 0 anti-tracks the feature, unit 1 tracks it loosely, unit 2 is constant.
  const trace: Trace = {
    cell: "lstm", layers: 1, hidden: 3, characters: ["a", '"', "b", '"'],
    h: Float32Array.from([0.9, 0.1, 0.5, -0.9, 0.2, 0.5, -0.8, 0.9, 0.5, 0.8, 0.0, 0.5]),
    c: Float32Array.from([0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0]),
    predictions: [], skipped: new Map(),
  };
  const feature = [0, 1, 1, 0];

  it("orders every unit of h and c by |r|, a constant unit scoring 0", () => {
    const ranking = rankUnits(trace, feature);
    expect(ranking).toHaveLength(6);
    expect(ranking[0]).toMatchObject({ state: "c", layer: 0, unit: 0 });
    expect(ranking[0]!.correlation).toBeCloseTo(1, 6);
    expect(ranking[1]).toMatchObject({ state: "h", unit: 0 });
    expect(ranking[1]!.correlation).toBeCloseTo(pearson([0.9, -0.9, -0.8, 0.8], feature), 6);
    const magnitudes = ranking.map((s) => Math.abs(s.correlation));
    expect([...magnitudes].sort((a, b) => b - a)).toEqual(magnitudes);
    expect(ranking.find((s) => s.state === "h" && s.unit === 2)!.correlation).toBe(0);
  });

  it("can rank h alone, and refuses a feature that never changes", () => {
    expect(rankUnits(trace, feature, ["h"]).every((s) => s.state === "h")).toBe(true);
    expect(() => rankUnits(trace, [1, 1, 1, 1])).toThrow(/same value at every character/);
  });
});
