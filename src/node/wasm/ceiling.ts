// The measured ceiling of the wasm kernels: how many GFLOP/s a register-only multiply-add loop
// (assembly/kernels.ts simdPeak) reaches on this machine, per build and thread count, and the
// theoretical 128-bit peak it sits below (the bench divides its training rates by it), and the
// read bandwidth that bounds batch-1 sampling (readStream). Not here:
// the products themselves, or the report (bench/).

import { kernelModule, type KernelVariant } from "./module.js";
import { ThreadPool } from "./threads.js";

/** FLOPs one simdPeak round does on one thread: 12 madds of 4 lanes, 2 FLOPs each. */
export const FLOPS_PER_ROUND = 12 * 4 * 2;

export interface CeilingOptions {
  variant: KernelVariant;
  threads: number;
  /** About how long each timed call runs. Default 2 ms: short calls fit between other processes' turns. */
  callMs?: number;
  /** Timed calls; the fastest counts (other processes only ever slow a call down). Default 100. */
  calls?: number;
}

/** Rounds per millisecond of a probe kernel on every thread at once: the fastest of the timed calls. */
function probeRate(kernel: "simdPeak" | "clockProbe", options: CeilingOptions): number {
  const { variant, threads } = options;
  const callMs = options.callMs ?? 2, calls = options.calls ?? 100;
  const module = kernelModule(variant);
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as Record<string, (...args: number[]) => void>;
  const probe = exports[kernel]!;
  const out = 1024;
  new Float32Array(memory.buffer, out, 4 * threads).fill(1);
  const pool = threads > 1 ? new ThreadPool(module, memory, threads) : null;
  const run = (rounds: number): number => {
    const started = performance.now();
    if (pool) pool.run(kernel, probe, [rounds, out]);
    else probe(rounds, out, 0, 1);
    return performance.now() - started;
  };
  try {
    // Once untimed first: the pool's first call waits for its threads to boot (tens of ms), which
    // would stop the calibration at its first, shortest call. Then calibrate (warming V8's
    // optimising tier on every thread on the way), then time.
    run(1 << 10);
    let rounds = 1 << 10;
    for (let elapsed = run(rounds); elapsed < callMs; elapsed = run(rounds)) rounds *= 2;
    for (let i = 0; i < 20; i++) run(rounds);
    let best = Infinity;
    for (let i = 0; i < calls; i++) best = Math.min(best, run(rounds));
    return rounds / best;
  } finally {
    pool?.dispose();
  }
}

export interface BandwidthOptions {
  variant: KernelVariant;
  threads: number;
  /** Bytes streamed per call: the weights one sampled character reads (4 MiB for one C3 W_hh). */
  bytes: number;
  /** Timed calls; the fastest counts. Default 50. */
  calls?: number;
}

/**
 * GB/s that readStream reaches over `bytes` split across every thread: the bandwidth ceiling of a
 * batch-1 matrix-vector product whose weights take that many bytes. The buffer is read once
 * before timing, so it is measured where a sampler's weights sit between characters (in whichever
 * cache level holds that size, or memory).
 */
export function measureReadBandwidth(options: BandwidthOptions): number {
  const { variant, threads, bytes } = options;
  const calls = options.calls ?? 50;
  const module = kernelModule(variant);
  const buffer = 1 << 16;
  const pages = Math.ceil((buffer + bytes) / 65536) + 1;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as Record<string, (...args: number[]) => void>;
  const probe = exports.readStream!;
  new Float32Array(memory.buffer, buffer, bytes / 4).fill(1);
  const out = 1024;
  const pool = threads > 1 ? new ThreadPool(module, memory, threads) : null;
  const run = (): number => {
    const started = performance.now();
    if (pool) pool.run("readStream", probe, [buffer, bytes, out]);
    else probe(buffer, bytes, out, 0, 1);
    return performance.now() - started;
  };
  try {
    for (let i = 0; i < 10; i++) run();
    let best = Infinity;
    for (let i = 0; i < calls; i++) best = Math.min(best, run());
    return bytes / best / 1e6;
  } finally {
    pool?.dispose();
  }
}

/** GFLOP/s of simdPeak over every thread at once. */
export function measureSimdCeiling(options: CeilingOptions): number {
  return (probeRate("simdPeak", options) * FLOPS_PER_ROUND * options.threads) / 1e6;
}

/** The clock one core runs the kernels at, in GHz (clockProbe: 16 one-cycle operations a round). */
export function measureClockGhz(callMs = 2, calls = 100): number {
  return (probeRate("clockProbe", { variant: "simd", threads: 1, callMs, calls }) * 16) / 1e6;
}

/** GFLOP/s of one core with two 128-bit FMA ports at `ghz`: 2 ports · 4 lanes · 2 FLOPs a cycle. */
export const peakGflops = (ghz: number): number => 2 * 4 * 2 * ghz;

export interface TheoreticalPeak {
  cpu: string;
  /** The clock /proc/cpuinfo reports (nominal under a hypervisor; turbo can run above it). */
  mhz: number;
  /** GFLOP/s per core with two 128-bit FMA ports at that clock: 2 ports · 4 lanes · 2 FLOPs · clock. */
  perCore: number;
}

/**
 * The 128-bit peak at the clock /proc/cpuinfo text reports (its first "model name" and "cpu MHz").
 * Assumes two 128-bit FMA ports per core, as every x86 core since Haswell and Zen 1 has; at
 * another clock (measureClockGhz) scale by it. Null without a clock.
 */
export function theoreticalPeakFrom(cpuinfo: string): TheoreticalPeak | null {
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim().replace(/\s+/g, " ");
  const mhz = Number(/^cpu MHz\s*:\s*([0-9.]+)$/m.exec(cpuinfo)?.[1]);
  if (!Number.isFinite(mhz) || mhz <= 0) return null;
  return { cpu: model ?? "unknown CPU", mhz, perCore: peakGflops(mhz / 1000) };
}
