// The workload table against the definitions, and the FLOP arithmetic against the counts
// in ../shared/peers/RESULTS.md (section 6), which were computed independently by flops_estimate.mjs.

import { describe, expect, it } from "vitest";
import { productFlops, productMix, sampleFlopsPerChar, trainFlopsPerChar, WORKLOAD_IDS, WORKLOADS } from "../../bench/workloads.js";

describe("workloads", () => {
  it("define C1, C2 and C3 as the issue does, and GRU and RNN at C2's size", () => {
    expect(WORKLOADS.C1).toMatchObject({ cell: "rnn", layers: 1, hidden: 100, seqLen: 25, batch: 1, optimizer: "adagrad", lr: 0.1 });
    expect(WORKLOADS.C2).toMatchObject({ cell: "lstm", layers: 2, hidden: 128, seqLen: 64, batch: 32, optimizer: "adam", lr: 2e-3 });
    expect(WORKLOADS.C3).toMatchObject({ cell: "lstm", layers: 2, hidden: 512, seqLen: 64, batch: 32, optimizer: "adam", lr: 2e-3 });
    for (const id of ["GRU", "RNN"] as const) {
      expect(WORKLOADS[id]).toMatchObject({ layers: 2, hidden: 128, seqLen: 64, batch: 32, optimizer: "adam", peerConfig: `C2-${id}` });
    }
    expect(WORKLOADS.GRU.cell).toBe("gru");
    expect(WORKLOADS.RNN.cell).toBe("rnn");
    for (const id of WORKLOAD_IDS) expect(WORKLOADS[id].id).toBe(id);
  });

  it.each([
    ["C1", 138_000, 99_000, 46_000],
    ["C2", 1_429_248, 1_229_568, 476_416],
    ["C3", 19_872_768, 19_074_048, 6_624_256],
  ] as const)("%s costs RESULTS.md's FLOPs per character", (id, dense, oneHot, sample) => {
    expect(trainFlopsPerChar(WORKLOADS[id], "dense")).toBe(dense);
    expect(trainFlopsPerChar(WORKLOADS[id], "oneHot")).toBe(oneHot);
    expect(sampleFlopsPerChar(WORKLOADS[id])).toBe(sample);
  });

  it.each(WORKLOAD_IDS.map((id) => [id]))("%s: the step's products add up to the one-hot FLOPs per character", (id) => {
    const workload = WORKLOADS[id];
    const stepFlops = productMix(workload).reduce((sum, shape) => sum + productFlops(shape), 0);
    expect(stepFlops / (workload.batch * workload.seqLen)).toBe(trainFlopsPerChar(workload, "oneHot"));
  });

  it("lists each product with the model's shapes: gates·H rows, one recurrent product per step and layer", () => {
    const gru = productMix(WORKLOADS.GRU);
    expect(gru.find((s) => s.name.startsWith("recurrent forward"))).toMatchObject({ M: 32, N: 384, K: 128, transB: true, count: 128 });
    const c1 = productMix(WORKLOADS.C1);
    // One layer with one-hot input: no input projection products at all.
    expect(c1.some((s) => s.name.startsWith("input projection"))).toBe(false);
    expect(c1.find((s) => s.name.startsWith("recurrent forward"))).toMatchObject({ M: 1, N: 100, K: 100, count: 25 });
    const c3 = productMix(WORKLOADS.C3);
    expect(c3.find((s) => s.name.startsWith("input projection"))).toMatchObject({ M: 2048, N: 2048, K: 512, count: 1 });
  });
});
