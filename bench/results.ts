// What one measurement reports, and reading it back from a child process's stdout: charnn's own
// child (child.ts) and the peer scripts all print one `RESULT {json}` line per run. Pure: the
// processes are started elsewhere (run.ts, peers.ts); this file only checks and normalises.

import type { WorkloadId } from "./workloads.js";
import { isPlainObject } from "../dist/core/util/objects.js";

export const RESULT_PREFIX = "RESULT ";

/** One charnn workload on one backend and thread count, measured in its own process. */
export interface CharnnRun {
  workload: WorkloadId;
  backend: string;
  threads: number;
  vocabularySize: number;
  /** batch·seq·iterations per second over each timed window (median first). */
  train: { charsPerSecond: number; windows: number[]; itersPerWindow: number; finalLoss: number };
  /** Batch 1, one character at a time, as `charnn sample` does. */
  sample: { charsPerSecond: number; runs: number[]; length: number };
  /** Batch-1 passes over held-out text through TextScorer, as charnn eval scores it. */
  eval: { charsPerSecond: number; runs: number[]; charsPerRun: number; loss: number };
  /** Medians, ms; bytes is the file's size. save/load go through the store (atomic write, checksum). */
  checkpoint: { saveMs: number; loadMs: number; encodeMs: number; decodeMs: number; bytes: number };
  /**
   * GFLOP/s of the step's matrix products run alone on the same shapes, and what training
   * sustained (train chars/s × product FLOPs per char).
   */
  products: { kernelGflops: number; trainGflops: number };
  /** getrusage maxrss of the child process, MB (2^20 bytes). */
  peakRssMb: number;
}

/** Training through the command (`charnn train` in-process, cli-child.ts): its rate once started, and the process's peak. */
export interface CliTrainRun {
  workload: WorkloadId;
  backend: string;
  threads: number;
  /** Steps timed (after start-up). */
  steps: number;
  charsPerSecond: number;
  /** getrusage maxrss of the child process, MB (2^20 bytes): training and its final save. */
  peakRssMb: number;
}

export type PeerName = "torch" | "tfjs" | "numpy";
export type PeerConfig = "C1" | "C2" | "C3" | "C2-GRU" | "C2-RNN";

/** A peer's result, the same fields whatever script produced it. */
export interface PeerResult {
  peer: PeerName;
  config: PeerConfig;
  /** What distinguishes runs of this peer: "1 thread", "wasm", "gather:float32". */
  setting: string;
  threads: number;
  trainCharsPerSecond: number;
  sampleCharsPerSecond: number;
  peakRssMb: number;
  finalLoss: number | null;
}

/** RESULT payloads in order, and the lines that said a run failed or could not be read. */
export function parseResultLines(stdout: string): { results: unknown[]; problems: string[] } {
  const results: unknown[] = [];
  const problems: string[] = [];
  for (const line of stdout.split("\n")) {
    const trimmed = line.trim();
    if (trimmed.startsWith(RESULT_PREFIX)) {
      try {
        results.push(JSON.parse(trimmed.slice(RESULT_PREFIX.length)));
      } catch {
        problems.push(`unreadable result line: ${trimmed.slice(0, 120)}`);
      }
    } else if (trimmed.startsWith("FAILED")) {
      problems.push(trimmed);
    }
  }
  return { results, problems };
}


function numberAt(record: Record<string, unknown>, path: string): number {
  let value: unknown = record;
  for (const key of path.split(".")) value = isPlainObject(value) ? value[key] : undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) throw new Error(`${path} is not a finite number (got ${JSON.stringify(value)})`);
  return value;
}

function numbersAt(record: Record<string, unknown>, path: string): number[] {
  let value: unknown = record;
  for (const key of path.split(".")) value = isPlainObject(value) ? value[key] : undefined;
  if (!Array.isArray(value) || !value.every((x) => typeof x === "number" && Number.isFinite(x))) throw new Error(`${path} is not a list of numbers`);
  return value as number[];
}

/** Checks a charnn child's payload field by field; throws naming the first bad field. */
export function toCharnnRun(value: unknown): CharnnRun {
  if (!isPlainObject(value)) throw new Error("the result is not an object");
  const { workload, backend } = value;
  if (typeof workload !== "string" || typeof backend !== "string") throw new Error("workload and backend must be strings");
  const n = (path: string) => numberAt(value, path);
  return {
    workload: workload as WorkloadId,
    backend,
    threads: n("threads"),
    vocabularySize: n("vocabularySize"),
    train: { charsPerSecond: n("train.charsPerSecond"), windows: numbersAt(value, "train.windows"), itersPerWindow: n("train.itersPerWindow"), finalLoss: n("train.finalLoss") },
    sample: { charsPerSecond: n("sample.charsPerSecond"), runs: numbersAt(value, "sample.runs"), length: n("sample.length") },
    eval: { charsPerSecond: n("eval.charsPerSecond"), runs: numbersAt(value, "eval.runs"), charsPerRun: n("eval.charsPerRun"), loss: n("eval.loss") },
    checkpoint: { saveMs: n("checkpoint.saveMs"), loadMs: n("checkpoint.loadMs"), encodeMs: n("checkpoint.encodeMs"), decodeMs: n("checkpoint.decodeMs"), bytes: n("checkpoint.bytes") },
    products: { kernelGflops: n("products.kernelGflops"), trainGflops: n("products.trainGflops") },
    peakRssMb: n("peakRssMb"),
  };
}

/**
 * Normalises one RESULT payload of torch_charlstm.py, tfjs_charlstm.mjs or numpy_minrnn.py
 * (their field names: train_median, sample_median, peak_rss_mb, ...); throws when it is not one.
 */
export function toPeerResult(value: unknown): PeerResult {
  if (!isPlainObject(value)) throw new Error("the result is not an object");
  const peer = value.peer;
  if (peer !== "torch" && peer !== "tfjs" && peer !== "numpy") throw new Error(`unknown peer ${JSON.stringify(peer)}`);
  const config = value.config;
  if (config !== "C1" && config !== "C2" && config !== "C3" && config !== "C2-GRU" && config !== "C2-RNN") throw new Error(`unknown config ${JSON.stringify(config)}`);
  const threads = peer === "torch" ? numberAt(value, "threads") : 1;
  let setting: string;
  if (peer === "torch") setting = `${threads} thread${threads === 1 ? "" : "s"}`;
  else if (peer === "tfjs") setting = typeof value.backend === "string" ? value.backend : "?";
  else setting = `${String(value.variant)}:${String(value.dtype)}`;
  const loss = peer === "numpy" ? value.final_loss_per_char : value.final_loss;
  return {
    peer,
    config,
    setting,
    threads,
    trainCharsPerSecond: numberAt(value, "train_median"),
    sampleCharsPerSecond: numberAt(value, "sample_median"),
    peakRssMb: numberAt(value, "peak_rss_mb"),
    finalLoss: typeof loss === "number" && Number.isFinite(loss) ? loss : null,
  };
}

/**
 * The peer's best run for a config by one measure (PyTorch "at its best thread setting", the
 * issue says); null when it has none.
 */
export function bestPeerResult(results: readonly PeerResult[], peer: PeerName, config: PeerConfig, by: "trainCharsPerSecond" | "sampleCharsPerSecond"): PeerResult | null {
  let best: PeerResult | null = null;
  for (const result of results) {
    if (result.peer !== peer || result.config !== config) continue;
    if (best === null || result[by] > best[by]) best = result;
  }
  return best;
}
