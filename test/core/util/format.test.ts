// Tests of src/core/util/format.ts: counts, decimals, bytes and durations print the same on
// every host (comma thousands, point decimals), with their units.

import { describe, expect, it } from "vitest";
import { formatBytes, formatCount, formatDecimal, formatDuration } from "../../../src/core/util/format.js";

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

describe("formatDecimal", () => {
  it.each([
    [1.2345678, 4, "1.2346"],
    [12345.678, 2, "12,345.68"],
    [1234567.5, 1, "1,234,567.5"],
    [999.96, 1, "1,000.0"],
    [-1234.5, 1, "-1,234.5"],
    [-0.00001, 2, "0.00"],
    [0.5, 0, "1"],
    [Number.NaN, 3, "-"],
    [Number.POSITIVE_INFINITY, 3, "-"],
  ])("%d to %i digits → %s", (n, digits, text) => {
    expect(formatDecimal(n, digits)).toBe(text);
  });
});

describe("formatBytes", () => {
  it.each([
    [950, "950 B"],
    [1500, "1.5 kB"],
    [1_234_567, "1.2 MB"],
    [53_000_000, "53.0 MB"],
    [5e12, "5,000.0 GB"],
  ])("%d → %s", (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });
});

describe("formatDuration", () => {
  it.each([
    [0.42, "0.4ms"],
    [850, "850ms"],
    [12_340, "12.3s"],
    [59_960, "1m00s"],
    [187_000, "3m07s"],
    [3_720_000, "1h02m"],
    [4_442_700_000, "1,234h05m"],
    [-1, "?"],
    [Number.NaN, "?"],
  ])("%d ms → %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
