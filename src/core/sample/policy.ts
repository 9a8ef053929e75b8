// Choosing the next character from the model's logits: temperature, top-k and nucleus (top-p)
// filtering. Pure functions; the random number comes in as an argument so tests can pass fixed
// values and a seeded generator makes whole samples reproducible.

import type { FloatArray } from "../tensor/arena.js";

export interface SamplingPolicy {
  /** 0 means always the most likely character; otherwise logits are divided by it. */
  temperature: number;
  /** Keep only the k most likely characters (0 = all). */
  topK: number;
  /** Keep the smallest set of most likely characters whose probability reaches p (1 = all). */
  topP: number;
}

/** Scratch space for pickToken, allocated once per sampler (V entries each). */
export interface PickScratch {
  probabilities: Float64Array;
  order: Int32Array;
}

export const pickScratch = (V: number): PickScratch => ({ probabilities: new Float64Array(V), order: new Int32Array(V) });

export interface Pick {
  token: number;
  /** Natural log of the chosen token's probability under the filtered distribution it was drawn from. */
  logProbability: number;
}

/**
 * Draws a token from logits[offset .. offset+V) under the policy, with `random` uniform in
 * [0, 1). Ties in greedy mode go to the lowest index, so the result is deterministic.
 */
export function pickToken(logits: FloatArray, offset: number, V: number, policy: SamplingPolicy, random: number, scratch: PickScratch): Pick {
  if (policy.temperature === 0) {
    let best = 0;
    for (let v = 1; v < V; v++) if (logits[offset + v]! > logits[offset + best]!) best = v;
    return { token: best, logProbability: 0 };
  }
  const p = scratch.probabilities, order = scratch.order;
  let max = -Infinity;
  for (let v = 0; v < V; v++) max = Math.max(max, logits[offset + v]!);
  let sum = 0;
  for (let v = 0; v < V; v++) {
    p[v] = Math.exp((logits[offset + v]! - max) / policy.temperature);
    sum += p[v]!;
  }
  for (let v = 0; v < V; v++) p[v] = p[v]! / sum;

  // Candidates in order of falling probability (ties by index), cut by top-k, then top-p.
  for (let v = 0; v < V; v++) order[v] = v;
  const filtering = (policy.topK > 0 && policy.topK < V) || policy.topP < 1;
  let count = V;
  if (filtering) {
    order.sort((a, b) => p[b]! - p[a]! || a - b);
    if (policy.topK > 0) count = Math.min(count, policy.topK);
    if (policy.topP < 1) {
      let cumulative = 0;
      for (let i = 0; i < count; i++) {
        cumulative += p[order[i]!]!;
        if (cumulative >= policy.topP) {
          count = i + 1;
          break;
        }
      }
    }
  }
  let kept = 0;
  for (let i = 0; i < count; i++) kept += p[order[i]!]!;
  let target = random * kept;
  let chosen = order[count - 1]!;
  for (let i = 0; i < count; i++) {
    target -= p[order[i]!]!;
    if (target < 0) {
      chosen = order[i]!;
      break;
    }
  }
  return { token: chosen, logProbability: Math.log(p[chosen]! / kept) };
}
