import { describe, expect, it } from "vitest";
import { formatCount } from "../../../src/core/util/format.js";

describe("formatCount", () => {
  it.each([
    [1_003_854, "1,003,854"],
    [65, "65"],
    [1234.6, "1,235"],
    [999, "999"],
    [1000, "1,000"],
    [-1234567, "-1,234,567"],
    [0, "0"],
  ])("%d → %s whatever the locale", (n, text) => {
    expect(formatCount(n)).toBe(text);
  });
});
