// Ranking units by how well they track a feature of the text: Pearson's correlation between
// each unit's value and the feature over every step of a trace, best |r| first. Pure arithmetic
// in float64. Not here: the features themselves (features.ts) or showing the ranking.

import { badInput } from "../errors.js";
import type { StateName, Trace } from "./trace.js";

export interface UnitScore {
  layer: number;
  unit: number;
  state: StateName;
  /** Pearson's r; 0 for a unit that never changes (it tracks nothing). */
  correlation: number;
}

/**
 * Pearson's r of x and y: cov(x, y) / (σx σy), with the means subtracted first (two passes, so
 * large offsets do not cancel). NaN when either is constant.
 */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  if (n !== y.length) throw new RangeError(`pearson: ${n} values against ${y.length}`);
  let meanX = 0, meanY = 0;
  for (let i = 0; i < n; i++) {
    meanX += x[i]!;
    meanY += y[i]!;
  }
  meanX /= n;
  meanY /= n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - meanX, dy = y[i]! - meanY;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

/**
 * Every unit of every layer (h, and c for an LSTM unless `states` says otherwise) scored
 * against `feature` (one value per step of the trace), sorted by |r| descending, ties in
 * (state, layer, unit) order. A feature that never changes over the text cannot rank anything.
 */
export function rankUnits(trace: Trace, feature: ArrayLike<number>, states: readonly StateName[] = trace.c ? ["h", "c"] : ["h"]): UnitScore[] {
  const T = trace.characters.length, L = trace.layers, H = trace.hidden;
  if (feature.length !== T) throw new RangeError(`feature of ${feature.length} values for a trace of ${T} steps`);
  let min = Infinity, max = -Infinity;
  for (let t = 0; t < T; t++) {
    min = Math.min(min, feature[t]!);
    max = Math.max(max, feature[t]!);
  }
  if (!(max > min)) {
    throw badInput("the feature has the same value at every character of this text, so no unit can be ranked by it", "give text where the feature varies (for quotes: text with double quotes in it)", {
      code: "viz.constant-feature", facts: { steps: T },
    });
  }
  const scores: UnitScore[] = [];
  const column = new Float64Array(T);
  for (const state of states) {
    const source = state === "c" ? trace.c : trace.h;
    if (source === null) continue;
    for (let layer = 0; layer < L; layer++) {
      for (let unit = 0; unit < H; unit++) {
        for (let t = 0; t < T; t++) column[t] = source[(t * L + layer) * H + unit]!;
        const r = pearson(column, feature);
        scores.push({ layer, unit, state, correlation: Number.isNaN(r) ? 0 : r });
      }
    }
  }
  // Array.prototype.sort is stable, so equal |r| keep the (state, layer, unit) order.
  return scores.sort((a, b) => Math.abs(b.correlation) - Math.abs(a.correlation));
}
