// From one bench run's measurements to the markdown it writes: the target ratios, the
// table of every workload and metric against the peers, and the README splice. Pure: run.ts
// reads the clock and the files; this file only computes and formats.

import type { CharnnRun, CliTrainRun, PeerResult, PeerConfig, PeerName } from "./results.js";
import { bestPeerResult } from "./results.js";
import { formatCount } from "../dist/core/util/format.js";
import { variantLabel, type Variant } from "./variants.js";
import { WORKLOADS, type WorkloadId } from "./workloads.js";

export const README_START = "<!-- bench:start -->";
export const README_END = "<!-- bench:end -->";

export interface MachineInfo {
  node: string;
  cpu: string;
  cores: number;
  platform: string;
  /** The 1-minute load average when the run started: other work on the machine skews every number. */
  loadAverage: number;
}

/** A whole-process CLI timing, or why it could not be taken. */
export type StartupTiming =
  | { command: string; status: "ok"; medianMs: number; runsMs: number[] }
  | { command: string; status: "unavailable"; reason: string };

/** What the register-only multiply-add loop reached on one wasm build and thread count. */
export interface CeilingMeasurement {
  backend: "wasm" | "wasm-relaxed";
  threads: number;
  gflops: number;
}

/** The 128-bit SIMD ceiling of this machine, measured, beside the theoretical peak. */
export interface SimdCeiling {
  measured: CeilingMeasurement[];
  /** The clock the one-cycle probe measured, GHz; null if it was not measured. */
  clockGhz: number | null;
  /** The clock /proc/cpuinfo reports (nominal under a hypervisor), MHz; null off Linux. */
  cpuinfoMhz: number | null;
}

export interface BenchReport {
  /** ISO date-time of the run. */
  date: string;
  /** The git commit measured (marked when the tree had uncommitted changes); null outside git. */
  revision: string | null;
  machine: MachineInfo;
  /** The bench's own arguments, e.g. ["--quick"]. */
  argv: string[];
  /** Timed windows / runs per measurement. */
  windows: number;
  workloads: WorkloadId[];
  variants: Variant[];
  charnn: CharnnRun[];
  /** `charnn train` itself on the best variant of C2 and C3; absent in reports from before it was measured. */
  cliTrain?: CliTrainRun[];
  peers: PeerResult[];
  /** The `charnn sample --length 1` timing first, then any baselines. */
  startup: StartupTiming[];
  /** The start-up broken into its parts, as one line (startup-phases.ts); absent when not measured. */
  startupPhases?: string;
  /** The SIMD ceiling the training rates are read against; null when the wasm kernels were not measured. */
  ceiling: SimdCeiling | null;
  /** What was skipped and why, in the order it happened. */
  notes: string[];
}

/** GFLOP/s per core with two 128-bit FMA ports: 2 ports · 4 lanes · 2 FLOPs a cycle. */
export const peakGflopsPerCore = (ghz: number): number => 16 * ghz;

/**
 * The ceiling a run is read against: the fused (relaxed) loop on as many threads as the run used,
 * for every backend, since fused multiply-adds are what this machine's SIMD can do at best.
 */
export function ceilingFor(report: BenchReport, threads: number): number | null {
  const fused = report.ceiling?.measured.filter((m) => m.backend === "wasm-relaxed" && m.threads === threads) ?? [];
  return fused.length > 0 ? Math.max(...fused.map((m) => m.gflops)) : null;
}

// ---------------------------------------------------------------------------------------------
// Numbers

/** Thousands separators from 100 up, one decimal from 10, two below: rates and times alike. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return "–";
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return formatCount(value);
  return value.toFixed(magnitude >= 10 ? 1 : 2);
}

export const formatRatio = (ratio: number): string => `${ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2)}x`;

const formatMegabytes = (bytes: number): string => formatNumber(bytes / 1e6);

// ---------------------------------------------------------------------------------------------
// Target ratios: the speed goals charnn is held to against its peers

export interface TargetRatio {
  target: string;
  /** e.g. ">= 1.2x", "< 150 ms". */
  goal: string;
  /** The measured ratio (or ms for start-up); null when a side is missing. */
  value: number | null;
  met: boolean | null;
  /** The numbers behind the value, or why there is none. */
  detail: string;
}

type CharnnMetric = "train" | "sample";

/** charnn's best variant on a workload by a metric (the ratios compare the best charnn can do). */
export function bestCharnnRun(runs: readonly CharnnRun[], workload: WorkloadId, metric: CharnnMetric): CharnnRun | null {
  let best: CharnnRun | null = null;
  for (const run of runs) {
    if (run.workload !== workload) continue;
    if (best === null || run[metric].charsPerSecond > best[metric].charsPerSecond) best = run;
  }
  return best;
}

const runLabel = (run: CharnnRun): string => `charnn ${variantLabel({ backend: run.backend as Variant["backend"], threads: run.threads })}`;

function peerRatio(report: BenchReport, target: string, workload: WorkloadId, metric: CharnnMetric, peer: PeerName, minimum: number): TargetRatio {
  const goal = `>= ${minimum}x`;
  const config: PeerConfig | null = WORKLOADS[workload].peerConfig;
  const peerName = peer === "torch" ? "PyTorch" : peer === "tfjs" ? "TF.js wasm" : "numpy";
  const mine = bestCharnnRun(report.charnn, workload, metric);
  const peerField = metric === "train" ? "trainCharsPerSecond" : "sampleCharsPerSecond";
  const theirs = config === null ? null : bestPeerResult(report.peers.filter((p) => peer !== "tfjs" || p.setting === "wasm"), peer, config, peerField);
  if (!mine) return { target, goal, value: null, met: null, detail: `charnn ${workload} not measured in this run` };
  if (!theirs) return { target, goal, value: null, met: null, detail: `${peerName} ${config ?? workload} not measured in this run` };
  const value = mine[metric].charsPerSecond / theirs[peerField];
  return {
    target, goal, value, met: value >= minimum,
    detail: `${formatNumber(mine[metric].charsPerSecond)} (${runLabel(mine)}) / ${formatNumber(theirs[peerField])} (${peer === "tfjs" ? peerName : `${peerName}, ${theirs.setting}`}) chars/s`,
  };
}

/**
 * The targets measured through `charnn train` itself: C2's training rate once started, against
 * PyTorch's best; C3's peak memory (training and one save), against the peak of PyTorch's
 * fastest C3 training run.
 */
function commandRatios(report: BenchReport): TargetRatio[] {
  const runs = report.cliTrain ?? [];
  const through = (workload: WorkloadId) => runs.find((run) => run.workload === workload) ?? null;
  const label = (run: CliTrainRun) => `charnn train, ${variantLabel({ backend: run.backend as Variant["backend"], threads: run.threads })}`;
  const c2 = through("C2"), torchC2 = bestPeerResult(report.peers, "torch", "C2", "trainCharsPerSecond");
  const rateTarget = "Training C2 through charnn train vs PyTorch";
  const rate: TargetRatio = !c2 || !torchC2
    ? { target: rateTarget, goal: ">= 1.5x", value: null, met: null, detail: !c2 ? "charnn train on C2 not measured in this run" : "PyTorch C2 not measured in this run" }
    : {
        target: rateTarget, goal: ">= 1.5x", value: c2.charsPerSecond / torchC2.trainCharsPerSecond, met: c2.charsPerSecond / torchC2.trainCharsPerSecond >= 1.5,
        detail: `${formatNumber(c2.charsPerSecond)} (${label(c2)}, ${formatCount(c2.steps)} steps after start-up) / ${formatNumber(torchC2.trainCharsPerSecond)} (PyTorch, ${torchC2.setting}) chars/s`,
      };
  const c3 = through("C3"), torchC3 = bestPeerResult(report.peers, "torch", "C3", "trainCharsPerSecond");
  const memoryTarget = "Peak memory training C3 (charnn train) vs PyTorch";
  const memory: TargetRatio = !c3 || !torchC3
    ? { target: memoryTarget, goal: "< 1x", value: null, met: null, detail: !c3 ? "charnn train on C3 not measured in this run" : "PyTorch C3 not measured in this run" }
    : {
        target: memoryTarget, goal: "< 1x", value: c3.peakRssMb / torchC3.peakRssMb, met: c3.peakRssMb < torchC3.peakRssMb,
        detail: `${formatNumber(c3.peakRssMb)} MB (${label(c3)}: training and its save) / ${formatNumber(torchC3.peakRssMb)} MB (PyTorch, ${torchC3.setting}) peak RSS`,
      };
  return [rate, memory];
}

/** Every target ratio, measured or with the reason it is not. */
export function targetRatios(report: BenchReport): TargetRatio[] {
  const ratios = [
    peerRatio(report, "Training C2 vs PyTorch", "C2", "train", "torch", 1.5),
    peerRatio(report, "Training C3 vs PyTorch", "C3", "train", "torch", 0.8),
    peerRatio(report, "Sampling C2 vs PyTorch (batch 1)", "C2", "sample", "torch", 10),
    peerRatio(report, "Sampling C3 vs PyTorch (batch 1)", "C3", "sample", "torch", 6),
    peerRatio(report, "Training C2 vs TF.js (wasm)", "C2", "train", "tfjs", 40),
    peerRatio(report, "Training GRU 2x128 (C2 size) vs PyTorch", "GRU", "train", "torch", 1.5),
    peerRatio(report, "Training RNN 2x128 (C2 size) vs PyTorch", "RNN", "train", "torch", 1.5),
  ];

  ratios.push(...commandRatios(report));

  const c3Runs = report.charnn.filter((run) => run.workload === "C3" && run.threads === 2);
  const ceilingTarget = "C3 training GFLOP/s vs the two-core 128-bit FMA ceiling";
  const twoCore = ceilingFor(report, 2);
  if (c3Runs.length === 0 || twoCore === null) {
    ratios.push({ target: ceilingTarget, goal: ">= 0.75x", value: null, met: null, detail: c3Runs.length === 0 ? "charnn C3 on 2 threads not measured in this run" : "the ceiling was not measured in this run" });
  } else {
    const best = c3Runs.reduce((a, b) => (b.products.trainGflops > a.products.trainGflops ? b : a));
    const value = best.products.trainGflops / twoCore;
    ratios.push({
      target: ceilingTarget, goal: ">= 0.75x", value, met: value >= 0.75,
      detail: `${formatNumber(best.products.trainGflops)} GFLOP/s training (${runLabel(best)}) / ${formatNumber(twoCore)} GFLOP/s fused multiply-adds on registers, 2 threads`,
    });
  }

  const c3 = report.charnn.filter((run) => run.workload === "C3");
  const sustainedTarget = "C3 training GFLOP/s vs charnn's best product kernel alone";
  if (c3.length === 0) {
    ratios.push({ target: sustainedTarget, goal: ">= 0.7x", value: null, met: null, detail: "charnn C3 not measured in this run" });
  } else {
    const sustained = c3.reduce((a, b) => (b.products.trainGflops > a.products.trainGflops ? b : a));
    const kernel = c3.reduce((a, b) => (b.products.kernelGflops > a.products.kernelGflops ? b : a));
    const value = sustained.products.trainGflops / kernel.products.kernelGflops;
    ratios.push({
      target: sustainedTarget, goal: ">= 0.7x", value, met: value >= 0.7,
      detail: `${formatNumber(sustained.products.trainGflops)} GFLOP/s training (${runLabel(sustained)}) / ${formatNumber(kernel.products.kernelGflops)} GFLOP/s products alone (${runLabel(kernel)})`,
    });
  }

  const startup = report.startup[0];
  const startupTarget = "CLI start-up: charnn sample --length 1, C2 checkpoint";
  if (!startup) ratios.push({ target: startupTarget, goal: "< 120 ms", value: null, met: null, detail: "not measured in this run" });
  else if (startup.status === "unavailable") ratios.push({ target: startupTarget, goal: "< 120 ms", value: null, met: null, detail: `unavailable: ${startup.reason}` });
  else ratios.push({ target: startupTarget, goal: "< 120 ms", value: startup.medianMs, met: startup.medianMs < 120, detail: `median of ${startup.runsMs.length} whole-process runs` });
  return ratios;
}

// ---------------------------------------------------------------------------------------------
// Tables

const cell = (text: string): string => text.replace(/\|/g, "\\|");

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[], alignRight: readonly boolean[] = []): string {
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(" | ")} |`;
  const rule = header.map((_, i) => (alignRight[i] ? "---:" : "---"));
  return [line(header), `|${rule.join("|")}|`, ...rows.map(line)].join("\n");
}

function targetTable(report: BenchReport): string {
  const rows = targetRatios(report).map((ratio) => [
    ratio.target,
    ratio.goal,
    ratio.value === null ? "–" : ratio.goal.endsWith("ms") ? `${formatNumber(ratio.value)} ms` : formatRatio(ratio.value),
    ratio.met === null ? "not measured" : ratio.met ? "yes" : "no",
    ratio.detail,
  ]);
  return markdownTable(["Target", "Goal", "Measured", "Met", "From"], rows, [false, false, true, false, false]);
}

/** One metric's cells for the charnn columns, in variant order ("–" where a variant has no run). */
function charnnCells(report: BenchReport, workload: WorkloadId, value: (run: CharnnRun) => string): string[] {
  return report.variants.map((variant) => {
    const run = report.charnn.find((r) => r.workload === workload && r.backend === variant.backend && r.threads === variant.threads);
    return run ? value(run) : "–";
  });
}

function peerCell(report: BenchReport, peer: PeerName, workload: WorkloadId, metric: "train" | "sample" | "rss"): string {
  const config = WORKLOADS[workload].peerConfig;
  if (config === null) return "–";
  const candidates = report.peers.filter((p) => peer !== "tfjs" || p.setting === "wasm");
  const best = bestPeerResult(candidates, peer, config, metric === "sample" ? "sampleCharsPerSecond" : "trainCharsPerSecond");
  if (!best) return "–";
  const show = metric === "train" ? best.trainCharsPerSecond : metric === "sample" ? best.sampleCharsPerSecond : best.peakRssMb;
  const tag = peer === "tfjs" ? "" : ` (${best.setting})`;
  return `${formatNumber(show)}${tag}`;
}

function resultsTable(report: BenchReport): string {
  const header = ["Workload", "Metric", ...report.variants.map((v) => `charnn ${variantLabel(v)}`), "PyTorch (best)", "TF.js wasm", "numpy"];
  const rows: string[][] = [];
  for (const workload of report.workloads) {
    const label = WORKLOADS[workload].label;
    const peers = (metric: "train" | "sample" | "rss") => (["torch", "tfjs", "numpy"] as const).map((peer) => peerCell(report, peer, workload, metric));
    const none = ["–", "–", "–"];
    rows.push([label, "train chars/s", ...charnnCells(report, workload, (r) => formatNumber(r.train.charsPerSecond)), ...peers("train")]);
    rows.push(["", "sample chars/s (batch 1)", ...charnnCells(report, workload, (r) => formatNumber(r.sample.charsPerSecond)), ...peers("sample")]);
    rows.push(["", "eval chars/s (batch 1)", ...charnnCells(report, workload, (r) => formatNumber(r.eval.charsPerSecond)), ...none]);
    rows.push(["", "checkpoint save / load ms", ...charnnCells(report, workload, (r) => `${formatNumber(r.checkpoint.saveMs)} / ${formatNumber(r.checkpoint.loadMs)}`), ...none]);
    rows.push(["", "checkpoint MB", ...charnnCells(report, workload, (r) => formatMegabytes(r.checkpoint.bytes)), ...none]);
    rows.push(["", "peak RSS MB", ...charnnCells(report, workload, (r) => formatNumber(r.peakRssMb)), ...peers("rss")]);
    rows.push(["", "GFLOP/s training (products alone)", ...charnnCells(report, workload, (r) => `${formatNumber(r.products.trainGflops)} (${formatNumber(r.products.kernelGflops)})`), ...none]);
    rows.push(["", "training / SIMD ceiling", ...charnnCells(report, workload, (r) => {
      const ceiling = ceilingFor(report, r.threads);
      return ceiling === null ? "–" : `${Math.round((100 * r.products.trainGflops) / ceiling)}%`;
    }), ...none]);
  }
  return markdownTable(header, rows, header.map((_, i) => i >= 2));
}

function ceilingLines(report: BenchReport): string[] {
  const ceiling = report.ceiling;
  if (!ceiling || ceiling.measured.length === 0) return ["- not measured in this run"];
  const rows = ceiling.measured.map((m) => [m.backend === "wasm" ? "multiply then add (wasm)" : "fused multiply-add (wasm-relaxed)", String(m.threads), formatNumber(m.gflops)]);
  const peaks: string[] = [];
  if (ceiling.cpuinfoMhz !== null) peaks.push(`${formatNumber(peakGflopsPerCore(ceiling.cpuinfoMhz / 1000))} GFLOP/s per core at the ${formatNumber(ceiling.cpuinfoMhz)} MHz /proc/cpuinfo reports`);
  if (ceiling.clockGhz !== null) peaks.push(`${formatNumber(peakGflopsPerCore(ceiling.clockGhz))} at the ${ceiling.clockGhz.toFixed(2)} GHz a chain of one-cycle integer operations measured`);
  return [
    markdownTable(["Loop (12 independent chains, registers only)", "Threads", "GFLOP/s"], rows, [false, true, true]),
    "",
    `- Theoretical 128-bit peak (two FMA ports, 4 lanes, 2 FLOPs each: 16 a cycle): ${peaks.length > 0 ? peaks.join("; ") : "no clock known"}.`,
    "- Each figure is the fastest of many 2 ms calls, so it shows the core when no other process has it. \"training / SIMD ceiling\" divides each run's training GFLOP/s by the fused loop's rate on the same thread count.",
  ];
}

function startupLines(report: BenchReport): string[] {
  return report.startup.map((timing) => timing.status === "ok"
    ? `- \`${timing.command}\`: ${formatNumber(timing.medianMs)} ms (median of ${timing.runsMs.length} whole-process runs)`
    : `- \`${timing.command}\`: unavailable (${timing.reason})`);
}

/** The part shared by BENCHMARKS.md and the README block; section headings at `level`. */
export function renderBody(report: BenchReport, level: number): string {
  const h = "#".repeat(level);
  const m = report.machine;
  const options = report.argv.length > 0 ? ` ${report.argv.join(" ")}` : "";
  const parts = [
    `Measured by \`npm run bench${options ? ` --${options}` : ""}\` on ${report.date.slice(0, 10)}: Node ${m.node}, ${m.cpu}, ${m.cores} cores, ${m.platform}, ` +
      `load average ${m.loadAverage.toFixed(1)} at the start; charnn ${report.revision ? `at ${report.revision}` : "outside git"}. ` +
      (report.peers.length > 0
        ? "Every number comes from this one run; the peers ran in it too, one process at a time."
        : "Every number comes from this one run; no peer was measured in it."),
    "",
    `${h} Targets`,
    "",
    targetTable(report),
    "",
    `${h} Results`,
    "",
    resultsTable(report),
    "",
    `${h} SIMD ceiling`,
    "",
    ...ceilingLines(report),
    "",
    `${h} CLI start-up`,
    "",
    ...(report.startup.length > 0 ? startupLines(report) : ["- not measured in this run"]),
    ...(report.startupPhases !== undefined ? [report.startupPhases] : []),
    "",
    `${h} How these were measured`,
    "",
    `- Training: batch·seq·iterations per second, the median of ${report.windows} timed window(s) after warm-up, as the peer scripts (PyTorch, TF.js and numpy versions of the same models) do. ` +
      "charnn carries the hidden state across batches for every cell; the PyTorch and TF.js LSTM peers start each batch from zeros, and TF.js does not clip gradients.",
    `- Sampling: batch 1, one character at a time, temperature 1, median of ${report.windows} run(s) after a warm-up that lasts until the kernel threads of a split step, if any, have started; charnn samples from the model loaded back from its checkpoint into a fresh kernel set, as charnn sample does. ` +
      "Eval: one exact batch-1 pass over held-out text (the last 5%) through the scorer charnn eval uses: windows of 256 steps carrying the state, or, for a model of a million parameters or more on two or more threads, one stepper call per character.",
    "- Checkpoint: the whole training state (weights, optimiser moments, cursor) written by saveCheckpoint (atomic write) and read by loadCheckpoint (checksum, decode, shape check).",
    "- Peak RSS: maxrss of the process that ran the workload, the runtime included (importing torch alone is about 250 MB).",
    "- GFLOP/s: training chars/s times the step's matrix-product FLOPs per character (one-hot input, so layer 0 has no input product); in brackets the same products run alone on the same kernels and shapes, one gemm call each (so a threaded backend pays a hand-off per product, which its fused time loops avoid).",
    "- PyTorch is its best thread setting per workload and metric (thread count in brackets); numpy is the best min-char-rnn variant. Other work on the machine during the run shows up in these numbers: compare ratios within one run.",
  ];
  if (report.notes.length > 0) parts.push("", `${h} Skipped or unavailable`, "", ...report.notes.map((note) => `- ${note}`));
  return parts.join("\n") + "\n";
}

export function renderBenchmarksFile(report: BenchReport): string {
  return `# charnn benchmarks\n\n${renderBody(report, 2)}`;
}

/**
 * The README with `block` between its bench markers (the markers kept); null when the README
 * has no such pair, so the caller leaves it alone.
 */
export function spliceReadme(readme: string, block: string): string | null {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < 0 || end < start) return null;
  return `${readme.slice(0, start + README_START.length)}\n${block.trimEnd()}\n${readme.slice(end)}`;
}
