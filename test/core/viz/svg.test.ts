// The SVG loss plot read back: every history point plotted once per series in history order,
// x spanning the plot area from the first step to the last, y from the largest loss (top) to
// the smallest (bottom), on linear and log axes; and labelled axes.

import { describe, expect, it } from "vitest";
import { niceTicks, PLOT_INSET, PLOT_MARGIN, renderLossSvg } from "../../../src/core/viz/svg.js";
import { plottedPoints } from "./helpers.js";

const history = {
  train: [[1, 4.0], [2, 3.1], [3, 2.5], [4, 2.6], [5, 2.0]] as Array<[number, number]>,
  validation: [[2, 3.5], [5, 2.4]] as Array<[number, number]>,
};
const width = 720, height = 400;
const left = PLOT_MARGIN.left, right = width - PLOT_MARGIN.right;
const top = PLOT_MARGIN.top + PLOT_INSET, bottom = height - PLOT_MARGIN.bottom - PLOT_INSET; // where the extreme losses go

describe("renderLossSvg", () => {
  it("plots every point of both series, in order, across the plot area", () => {
    const svg = renderLossSvg(history, { width, height });
    const train = plottedPoints(svg, "train"), validation = plottedPoints(svg, "validation");
    expect(train).toHaveLength(5);
    expect(validation).toHaveLength(2);
    expect(train[0]![0]).toBeCloseTo(left, 1);
    expect(train.at(-1)![0]).toBeCloseTo(right, 1);
    for (let i = 1; i < train.length; i++) expect(train[i]![0]).toBeGreaterThan(train[i - 1]![0]);
    expect(train[0]![1]).toBeCloseTo(top, 1); // the largest loss
    expect(train.at(-1)![1]).toBeCloseTo(bottom, 1); // the smallest
    // y is linear in the loss: 3.1 lies (4 - 3.1) / (4 - 2) of the way down.
    expect(train[1]![1]).toBeCloseTo(top + ((4 - 3.1) / 2) * (bottom - top), 1);
    expect(validation[0]![0]).toBeCloseTo(train[1]![0], 1); // the same step, the same x
    expect(svg).toContain(">step</text>");
    expect(svg).toContain("loss (nats/char)");
    expect(svg).toContain("train (5 points)");
  });

  it("on a log scale, y is linear in log10 of the loss and the axis says so", () => {
    const svg = renderLossSvg(history, { width, height, logScale: true });
    const train = plottedPoints(svg, "train");
    const fraction = (Math.log10(4) - Math.log10(3.1)) / (Math.log10(4) - Math.log10(2));
    expect(train[1]![1]).toBeCloseTo(top + fraction * (bottom - top), 1);
    expect(svg).toContain("log scale");
  });

  it("draws an empty history as a message rather than failing", () => {
    expect(renderLossSvg({ train: [], validation: [] })).toContain("no loss history yet");
  });
});

describe("niceTicks", () => {
  it("gives round steps covering the range", () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(1.23, 4.1, 5)).toEqual([1.5, 2, 2.5, 3, 3.5, 4]);
  });
});
