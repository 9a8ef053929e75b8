// Reading RESULT lines: the peers' three formats normalised to one, charnn's child checked field
// by field, failures kept as notes, and the best run per peer.

import { describe, expect, it } from "vitest";
import { bestPeerResult, parseResultLines, toCharnnRun, toPeerResult, type PeerResult } from "../../bench/results.js";

// Shaped like the scripts' real output (field names from torch_charlstm.py, numpy_minrnn.py, tfjs_charlstm.mjs).
const torchLine = (threads: number, train: number, sample: number) => "RESULT " + JSON.stringify({
  peer: "torch", config: "C2", threads, torch_threads: threads, input: "one-hot", torch: "1.13.0a0", blas: ["/usr/lib/libopenblas.so.0"],
  iters_per_window: 40, warmup: 5, train_chars_per_s: [train, train * 1.1, train * 0.9], train_median: train, final_loss: 3.06,
  sample_chars_per_s: [sample], sample_median: sample, peak_rss_mb: 319.4, sample_text: "ROMEO:\nThe |",
});
const numpyResult = {
  peer: "numpy", config: "C1", variant: "gather", dtype: "float32", numpy: "1.24.2", threads: 1, iters_per_window: 2000, warmup: 200,
  train_chars_per_s: [25800], train_median: 25800, final_loss_per_char: 2.69, sample_chars_per_s: [33170], sample_median: 33170, peak_rss_mb: 53,
};
const tfjsResult = {
  peer: "tfjs", backend: "wasm", config: "C2", recurrent_init: "orthogonal", tfjs: "4.22.0", node: "v20.20.2", input: "one-hot",
  threadInfo: { threadsCount: 1, simd: true, multithread: false }, iters_per_window: 5, warmup: 2, train_chars_per_s: [1387],
  train_median: 1387, final_loss: 3.9, sample_chars_per_s: [1935], sample_median: 1935, peak_rss_mb: 573, num_tensors: 40,
};

describe("parseResultLines", () => {
  it("keeps RESULT payloads in order and ignores the summary table around them", () => {
    const stdout = [torchLine(1, 31550, 7630), torchLine(2, 26950, 7706), "", "config threads  train_chars/s(median)", "C2 1 31550"].join("\n");
    const { results, problems } = parseResultLines(stdout);
    expect(results.map((r) => (r as { threads: number }).threads)).toEqual([1, 2]);
    expect(problems).toEqual([]);
  });

  it("reports FAILED lines and unreadable payloads as problems", () => {
    const { results, problems } = parseResultLines("FAILED C3 threads=2: rc=-9\nTraceback ...\nRESULT {not json\n");
    expect(results).toEqual([]);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toBe("FAILED C3 threads=2: rc=-9");
    expect(problems[1]).toContain("unreadable result line");
  });
});

describe("toPeerResult", () => {
  it("normalises torch, numpy and TF.js payloads", () => {
    const torch = toPeerResult(parseResultLines(torchLine(2, 26950, 7706)).results[0]);
    expect(torch).toEqual({ peer: "torch", config: "C2", setting: "2 threads", threads: 2, trainCharsPerSecond: 26950, sampleCharsPerSecond: 7706, peakRssMb: 319.4, finalLoss: 3.06 });
    expect(toPeerResult(numpyResult)).toEqual({ peer: "numpy", config: "C1", setting: "gather:float32", threads: 1, trainCharsPerSecond: 25800, sampleCharsPerSecond: 33170, peakRssMb: 53, finalLoss: 2.69 });
    expect(toPeerResult(tfjsResult)).toMatchObject({ peer: "tfjs", setting: "wasm", trainCharsPerSecond: 1387, sampleCharsPerSecond: 1935, peakRssMb: 573 });
    expect(toPeerResult({ ...torchLineObject(), threads: 1 }).setting).toBe("1 thread");
  });

  it("rejects unknown peers, configs and missing numbers", () => {
    expect(() => toPeerResult({ ...numpyResult, peer: "jax" })).toThrow(/unknown peer/);
    expect(() => toPeerResult({ ...tfjsResult, config: "C9" })).toThrow(/unknown config/);
    expect(() => toPeerResult({ ...tfjsResult, train_median: null })).toThrow(/train_median/);
    expect(() => toPeerResult({ ...tfjsResult, sample_median: "fast" })).toThrow(/sample_median/);
  });
});

function torchLineObject(): Record<string, unknown> {
  return JSON.parse(torchLine(1, 1000, 500).slice("RESULT ".length)) as Record<string, unknown>;
}

describe("toCharnnRun", () => {
  const run = {
    workload: "C2", backend: "js", threads: 1, vocabularySize: 65,
    train: { charsPerSecond: 2400, windows: [2400, 2300, 2500], itersPerWindow: 3, finalLoss: 3.1 },
    sample: { charsPerSecond: 1900, runs: [1900], length: 2000 },
    eval: { charsPerSecond: 1800, runs: [1800], charsPerRun: 2560, loss: 3.0 },
    checkpoint: { saveMs: 30, loadMs: 25, encodeMs: 31, decodeMs: 40, bytes: 3_934_558 },
    products: { kernelGflops: 3.7, trainGflops: 3.0 },
    peakRssMb: 160,
  };

  it("accepts a complete payload unchanged", () => {
    expect(toCharnnRun(JSON.parse(JSON.stringify(run)))).toEqual(run);
  });

  it("names the first field that is missing or not a number", () => {
    expect(() => toCharnnRun({ ...run, checkpoint: { ...run.checkpoint, bytes: undefined } })).toThrow("checkpoint.bytes");
    expect(() => toCharnnRun({ ...run, eval: { ...run.eval, runs: [1, "x"] } })).toThrow("eval.runs");
    expect(() => toCharnnRun({ ...run, train: { ...run.train, charsPerSecond: null } })).toThrow("train.charsPerSecond");
    expect(() => toCharnnRun([run])).toThrow("not an object");
  });
});

describe("bestPeerResult", () => {
  const result = (threads: number, train: number, sample: number): PeerResult => ({
    peer: "torch", config: "C3", setting: `${threads} threads`, threads, trainCharsPerSecond: train, sampleCharsPerSecond: sample, peakRssMb: 500, finalLoss: null,
  });
  const results = [result(1, 3074, 475), result(2, 4089, 1125), { ...result(1, 99999, 99999), config: "C2" as const }];

  it("takes the best thread setting for the config, by each measure on its own", () => {
    expect(bestPeerResult(results, "torch", "C3", "trainCharsPerSecond")?.threads).toBe(2);
    expect(bestPeerResult([result(1, 3074, 1200), result(2, 4089, 1125)], "torch", "C3", "sampleCharsPerSecond")?.threads).toBe(1);
  });

  it("is null when that peer has no run for the config", () => {
    expect(bestPeerResult(results, "tfjs", "C3", "trainCharsPerSecond")).toBeNull();
    expect(bestPeerResult(results, "torch", "C1", "trainCharsPerSecond")).toBeNull();
  });
});
