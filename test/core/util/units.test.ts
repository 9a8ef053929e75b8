import { describe, expect, it } from "vitest";
import { natsToBits } from "../../../src/core/util/units.js";

describe("natsToBits", () => {
  it("is the loss over ln 2", () => {
    expect(natsToBits(Math.LN2)).toBeCloseTo(1, 12);
    expect(natsToBits(1.3862943611198906)).toBeCloseTo(2, 12);
    expect(natsToBits(0)).toBe(0);
  });
});
