// The report: number formats, the target ratios from a made-up run, the results table's
// cells, and the README splice. Values are chosen so every ratio has one right answer.

import { describe, expect, it } from "vitest";
import {
  bestCharnnRun, formatNumber, formatRatio, markdownTable, renderBenchmarksFile, renderBody, spliceReadme, targetRatios,
  type BenchReport,
} from "../../bench/report.js";
import type { CharnnRun, PeerResult } from "../../bench/results.js";
import type { WorkloadId } from "../../bench/workloads.js";

function charnnRun(workload: WorkloadId, backend: string, threads: number, train: number, sample: number, gflops = { kernelGflops: 40, trainGflops: 30 }): CharnnRun {
  return {
    workload, backend, threads, vocabularySize: 65,
    train: { charsPerSecond: train, windows: [train], itersPerWindow: 1, finalLoss: 3 },
    sample: { charsPerSecond: sample, runs: [sample], length: 2000 },
    eval: { charsPerSecond: 1234.5, runs: [1234.5], charsPerRun: 2560, loss: 3 },
    checkpoint: { saveMs: 31.25, loadMs: 8.5, encodeMs: 20, decodeMs: 6, bytes: 3_934_558 },
    products: gflops,
    peakRssMb: 160,
  };
}

function peer(peerName: PeerResult["peer"], config: PeerResult["config"], setting: string, threads: number, train: number, sample: number): PeerResult {
  return { peer: peerName, config, setting, threads, trainCharsPerSecond: train, sampleCharsPerSecond: sample, peakRssMb: 319, finalLoss: 3 };
}

function report(overrides: Partial<BenchReport> = {}): BenchReport {
  return {
    date: "2026-05-04T10:00:00.000Z",
    revision: "6cfba80",
    machine: { node: "v20.20.2", cpu: "AMD EPYC", cores: 2, platform: "linux-x64", loadAverage: 0.25 },
    argv: [],
    windows: 3,
    workloads: ["C2", "C3"],
    variants: [{ backend: "js", threads: 1 }, { backend: "wasm", threads: 2 }],
    charnn: [
      charnnRun("C2", "js", 1, 2_500, 1_900),
      charnnRun("C2", "wasm", 2, 40_000, 32_000),
      charnnRun("C3", "js", 1, 200, 300, { kernelGflops: 4.5, trainGflops: 3.8 }),
      charnnRun("C3", "wasm", 2, 2_460, 3_600, { kernelGflops: 60, trainGflops: 47 }),
    ],
    peers: [
      peer("torch", "C2", "1 thread", 1, 31_550, 7_630),
      peer("torch", "C2", "2 threads", 2, 26_950, 8_000),
      peer("torch", "C3", "1 thread", 1, 3_074, 475),
      peer("torch", "C3", "2 threads", 2, 4_100, 1_125),
      peer("tfjs", "C2", "wasm", 1, 1_387, 1_935),
    ],
    startup: [{ command: "charnn sample --length 1 -c <C2 checkpoint>", status: "ok", medianMs: 110, runsMs: [108, 110, 125] }],
    ceiling: {
      measured: [{ backend: "wasm", threads: 1, gflops: 30 }, { backend: "wasm", threads: 2, gflops: 58 }, { backend: "wasm-relaxed", threads: 1, gflops: 47 }, { backend: "wasm-relaxed", threads: 2, gflops: 94 }],
      clockGhz: 2.95,
      cpuinfoMhz: 2300,
    },
    notes: ["charnn backend js does not run on 2 threads"],
    ...overrides,
  };
}

describe("formatNumber and formatRatio", () => {
  it("uses separators from 100, one decimal from 10, two below, and a dash for non-numbers", () => {
    expect(formatNumber(31549.6)).toBe("31,550");
    expect(formatNumber(100)).toBe("100");
    expect(formatNumber(68.14)).toBe("68.1");
    expect(formatNumber(3.456)).toBe("3.46");
    expect(formatNumber(NaN)).toBe("–");
    expect(formatRatio(25.34)).toBe("25.3x");
    expect(formatRatio(1.2679)).toBe("1.27x");
  });
});

describe("targets measured through charnn train itself", () => {
  const through = (overrides: Partial<BenchReport> = {}) => Object.fromEntries(targetRatios(report(overrides)).map((r) => [r.target, r]));

  it("reads the command's C2 rate against PyTorch's best, and its C3 peak against the fastest PyTorch C3 run's", () => {
    const ratios = through({
      cliTrain: [
        { workload: "C2", backend: "wasm", threads: 2, steps: 130, charsPerSecond: 47_325, peakRssMb: 180 },
        { workload: "C3", backend: "wasm", threads: 2, steps: 10, charsPerSecond: 2_400, peakRssMb: 350 },
      ],
    });
    const rate = ratios["Training C2 through charnn train vs PyTorch"]!;
    expect(rate.value).toBeCloseTo(47_325 / 31_550, 10);
    expect(rate.met).toBe(true);
    expect(rate.detail).toContain("charnn train, wasm x2, 130 steps after start-up");
    const memory = ratios["Peak memory training C3 (charnn train) vs PyTorch"]!;
    // PyTorch's fastest C3 run is the 2-thread one; both peer rows here peak at 319 MB.
    expect(memory.value).toBeCloseTo(350 / 319, 10);
    expect(memory.met).toBe(false);
    expect(memory.detail).toContain("2 threads");
  });

  it("says what is missing when the command was not measured", () => {
    const ratios = through();
    expect(ratios["Training C2 through charnn train vs PyTorch"]).toMatchObject({ value: null, met: null, detail: "charnn train on C2 not measured in this run" });
    expect(ratios["Peak memory training C3 (charnn train) vs PyTorch"]).toMatchObject({ value: null, met: null, detail: "charnn train on C3 not measured in this run" });
  });
});

describe("targetRatios", () => {
  it("compares charnn's best variant with PyTorch's best thread setting, metric by metric", () => {
    const ratios = Object.fromEntries(targetRatios(report()).map((r) => [r.target, r]));
    const trainC2 = ratios["Training C2 vs PyTorch"]!;
    expect(trainC2.value).toBeCloseTo(40_000 / 31_550, 10);
    expect(trainC2.met).toBe(false); // 1.27x, short of 1.5x
    expect(trainC2.detail).toContain("charnn wasm x2");
    expect(trainC2.detail).toContain("1 thread");

    const trainC3 = ratios["Training C3 vs PyTorch"]!;
    expect(trainC3.value).toBeCloseTo(2_460 / 4_100, 10); // PyTorch's best is 2 threads here
    expect(trainC3.met).toBe(false); // 0.6, short of 0.8

    const sampleC2 = ratios["Sampling C2 vs PyTorch (batch 1)"]!;
    expect(sampleC2.value).toBeCloseTo(32_000 / 8_000, 10); // sampling's best is PyTorch at 2 threads
    expect(sampleC2.met).toBe(false);
    const sampleC3 = ratios["Sampling C3 vs PyTorch (batch 1)"]!;
    expect(sampleC3.value).toBeCloseTo(3_600 / 1_125, 10);

    const tfjs = ratios["Training C2 vs TF.js (wasm)"]!;
    expect(tfjs.value).toBeCloseTo(40_000 / 1_387, 10);
    expect(tfjs.met).toBe(false); // 28.8x, short of 40x
    expect(tfjs.detail).toBe("40,000 (charnn wasm x2) / 1,387 (TF.js wasm) chars/s");

    const sustained = ratios["C3 training GFLOP/s vs charnn's best product kernel alone"]!;
    expect(sustained.value).toBeCloseTo(47 / 60, 10);
    expect(sustained.met).toBe(true);

    const ceiling = ratios["C3 training GFLOP/s vs the two-core 128-bit FMA ceiling"]!;
    expect(ceiling.value).toBeCloseTo(47 / 94, 10); // against the fused loop on 2 threads
    expect(ceiling.met).toBe(false);
    expect(ceiling.detail).toBe("47.0 GFLOP/s training (charnn wasm x2) / 94.0 GFLOP/s fused multiply-adds on registers, 2 threads");

    const gru = ratios["Training GRU 2x128 (C2 size) vs PyTorch"]!;
    expect(gru).toMatchObject({ value: null, met: null, detail: "charnn GRU not measured in this run" });

    const startup = ratios["CLI start-up: charnn sample --length 1, C2 checkpoint"]!;
    expect(startup).toMatchObject({ value: 110, met: true });
  });

  it("says what is missing instead of inventing a ratio", () => {
    const ratios = targetRatios(report({
      charnn: [charnnRun("C2", "js", 1, 2_500, 1_900)],
      peers: [],
      startup: [{ command: "charnn sample --length 1", status: "unavailable", reason: "exit code 1: charnn sample is not built yet" }],
    }));
    const byName = Object.fromEntries(ratios.map((r) => [r.target, r]));
    expect(byName["Training C2 vs PyTorch"]).toMatchObject({ value: null, met: null, detail: "PyTorch C2 not measured in this run" });
    expect(byName["Training C3 vs PyTorch"]).toMatchObject({ value: null, detail: "charnn C3 not measured in this run" });
    expect(byName["Training C2 vs TF.js (wasm)"]!.detail).toBe("TF.js wasm C2 not measured in this run");
    expect(byName["CLI start-up: charnn sample --length 1, C2 checkpoint"]).toMatchObject({ value: null, met: null });
    expect(byName["CLI start-up: charnn sample --length 1, C2 checkpoint"]!.detail).toContain("not built yet");
  });

  it("marks a missed target as not met", () => {
    const slow = report({ charnn: [charnnRun("C2", "js", 1, 2_500, 1_900)] });
    const trainC2 = targetRatios(slow).find((r) => r.target === "Training C2 vs PyTorch")!;
    expect(trainC2.value).toBeCloseTo(2_500 / 31_550, 10);
    expect(trainC2.met).toBe(false);
  });
});

describe("bestCharnnRun", () => {
  it("picks the fastest variant for the workload and metric", () => {
    expect(bestCharnnRun(report().charnn, "C3", "sample")?.backend).toBe("wasm");
    expect(bestCharnnRun(report().charnn, "C1", "train")).toBeNull();
  });
});

describe("rendering", () => {
  it("draws a markdown table with right-aligned number columns and escaped pipes", () => {
    expect(markdownTable(["a", "n"], [["x|y", "1"]], [false, true])).toBe("| a | n |\n|---|---:|\n| x\\|y | 1 |");
  });

  it("writes the date, machine, targets and one column per variant and peer", () => {
    const text = renderBenchmarksFile(report({ argv: ["--only", "C2,C3"] }));
    expect(text.startsWith("# charnn benchmarks\n")).toBe(true);
    expect(text).toContain("`npm run bench -- --only C2,C3` on 2026-05-04: Node v20.20.2, AMD EPYC, 2 cores, linux-x64, load average 0.3 at the start; charnn at 6cfba80.");
    expect(text).toContain("| Workload | Metric | charnn js x1 | charnn wasm x2 | PyTorch (best) | TF.js wasm | numpy |");
    expect(text).toContain("| C2 LSTM 2x128 | train chars/s | 2,500 | 40,000 | 31,550 (1 thread) | 1,387 | – |");
    expect(text).toContain("|  | sample chars/s (batch 1) | 1,900 | 32,000 | 8,000 (2 threads) | 1,935 | – |");
    expect(text).toContain("|  | checkpoint save / load ms | 31.3 / 8.50 | 31.3 / 8.50 | – | – | – |");
    expect(text).toContain("|  | checkpoint MB | 3.93 | 3.93 | – | – | – |");
    expect(text).toContain("| Training C2 vs PyTorch | >= 1.5x | 1.27x | no |");
    expect(text).toContain("| CLI start-up: charnn sample --length 1, C2 checkpoint | < 120 ms | 110 ms | yes |");
    // Each run against the fused ceiling on its thread count: 3.8 / 47 and 47 / 94 at C3.
    expect(text).toContain("|  | training / SIMD ceiling | 8% | 50% | – | – | – |");
    expect(text).toContain("| fused multiply-add (wasm-relaxed) | 2 | 94.0 |");
    expect(text).toContain("Theoretical 128-bit peak (two FMA ports, 4 lanes, 2 FLOPs each: 16 a cycle): 36.8 GFLOP/s per core at the 2,300 MHz /proc/cpuinfo reports; 47.2 at the 2.95 GHz");
    expect(text).toContain("- charnn backend js does not run on 2 threads");
  });

  it("writes text for readers of the README: no internal issue numbers, no paths outside the repository", () => {
    const text = renderBody(report(), 3);
    expect(text).toContain("### Targets\n");
    expect(text).not.toMatch(/issue \d|#\d|\.\.\/shared/);
  });

  it("puts a variant with no run for a workload as a dash", () => {
    const text = renderBody(report({ charnn: report().charnn.filter((r) => !(r.workload === "C3" && r.backend === "wasm")) }), 2);
    expect(text).toContain("| C3 LSTM 2x512 | train chars/s | 200 | – | 4,100 (2 threads) | – | – |");
  });
});

describe("spliceReadme", () => {
  it("replaces only the text between the markers, keeping them", () => {
    const readme = "# charnn\n\n## Speed\n<!-- bench:start -->\nold table\n<!-- bench:end -->\n\n## Licence\n";
    expect(spliceReadme(readme, "new table\n")).toBe("# charnn\n\n## Speed\n<!-- bench:start -->\nnew table\n<!-- bench:end -->\n\n## Licence\n");
  });

  it("is null without both markers in order, so the README is left alone", () => {
    expect(spliceReadme("# charnn\n", "x")).toBeNull();
    expect(spliceReadme("<!-- bench:end -->\n<!-- bench:start -->\n", "x")).toBeNull();
  });
});
