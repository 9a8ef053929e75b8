// pickToken by hand: logits whose softmax is known exactly, fixed random numbers, and the token
// and log-probability each policy must give (greedy, temperature, top-k, top-p, offsets).

import { describe, expect, it } from "vitest";
import { pickScratch, pickToken, type SamplingPolicy } from "../../../src/core/sample/policy.js";

// softmax(ln 1, ln 2, ln 3) = (1/6, 2/6, 3/6)
const logits = Float32Array.from([Math.log(1), Math.log(2), Math.log(3)]);
const policy = (overrides: Partial<SamplingPolicy> = {}): SamplingPolicy => ({ temperature: 1, topK: 0, topP: 1, ...overrides });
const pick = (p: SamplingPolicy, random: number, values = logits, offset = 0, V = 3) => pickToken(values, offset, V, p, random, pickScratch(V));

describe("pickToken", () => {
  it("greedy (temperature 0) takes the largest logit whatever the random number", () => {
    for (const random of [0, 0.5, 0.999]) expect(pick(policy({ temperature: 0 }), random)).toEqual({ token: 2, logProbability: 0 });
  });

  it("greedy breaks ties towards the lowest index", () => {
    expect(pick(policy({ temperature: 0 }), 0.9, Float32Array.from([1, 5, 5]))).toEqual({ token: 1, logProbability: 0 });
  });

  it.each([
    [0.0, 0],
    [0.16, 0], // below 1/6
    [0.17, 1], // past 1/6
    [0.49, 1], // below 3/6
    [0.51, 2],
    [0.999, 2],
  ])("temperature 1 follows the cumulative distribution: random %s gives token %s", (random, token) => {
    const result = pick(policy(), random);
    expect(result.token).toBe(token);
    expect(result.logProbability).toBeCloseTo(Math.log((token + 1) / 6), 6);
  });

  it("temperature 2 flattens the distribution to the square roots", () => {
    const weights = [1, Math.SQRT2, Math.sqrt(3)];
    const total = weights[0]! + weights[1]! + weights[2]!;
    // Just past the first token's share gives the second token.
    const result = pick(policy({ temperature: 2 }), weights[0]! / total + 1e-6);
    expect(result.token).toBe(1);
    expect(result.logProbability).toBeCloseTo(Math.log(weights[1]! / total), 6);
  });

  it("top-k keeps the k most likely and renormalises", () => {
    // Kept: token 2 (3/5) then token 1 (2/5), in falling order.
    expect(pick(policy({ topK: 2 }), 0.59).token).toBe(2);
    const second = pick(policy({ topK: 2 }), 0.61);
    expect(second.token).toBe(1);
    expect(second.logProbability).toBeCloseTo(Math.log(2 / 5), 6);
    expect(pick(policy({ topK: 1 }), 0.999)).toEqual({ token: 2, logProbability: 0 });
  });

  it("top-p keeps the smallest set whose probability reaches p", () => {
    expect(pick(policy({ topP: 0.5 }), 0.99)).toEqual({ token: 2, logProbability: 0 });
    const wider = pick(policy({ topP: 0.6 }), 0.99);
    expect(wider.token).toBe(1);
    expect(wider.logProbability).toBeCloseTo(Math.log(2 / 5), 6);
  });

  it("reads the V logits at the offset", () => {
    const padded = Float32Array.from([9, 9, 0, 7, 1, 9]);
    expect(pick(policy({ temperature: 0 }), 0, padded, 2, 3).token).toBe(1);
  });
});
