// `npm run bench`: measures every workload on every backend and thread count selectKernels can
// give (each in its own child process), the CLI's start-up, and the peers in the same run; then
// prints the markdown report on stdout and writes BENCHMARKS.md; with --write-readme it also
// refreshes the README's bench block. Progress goes to stderr. The one place the bench turns
// errors into exit codes. It runs the built engine (dist/), as a user of the package would.
// Not here: the measurements (measure.ts, peers.ts) or the formatting (report.ts).

import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { saveCheckpoint } from "../dist/node/store.js";
import { CharnnError, ExitCode } from "../dist/core/errors.js";
import { machineInfo, sourceRevision } from "./machine.js";
import { checkpointState, prepareWorkload, type MeasureSpec } from "./measure.js";
import { BENCH_USAGE, parseBenchArgs, type BenchOptions } from "./options.js";
import { runNumpy, runTfjs, runTorch, type PeerPlan } from "./peers.js";
import { README_END, README_START, renderBenchmarksFile, bestCharnnRun, renderBody, spliceReadme, type BenchReport, type CeilingMeasurement, type SimdCeiling, type StartupTiming } from "./report.js";
import { measureClockGhz, measureReadBandwidth, measureSimdCeiling, theoreticalPeakFrom } from "../dist/node/wasm/ceiling.js";
import { wasmRelaxedAvailable } from "../dist/node/backend.js";
import { parseResultLines, toCharnnRun, type CharnnRun, type CliTrainRun, type PeerConfig, type PeerResult } from "./results.js";
import { median, nowMs } from "./timing.js";
import { measureStartupPhases, startupPhasesLine } from "./startup-phases.js";
import { planVariants, probeKernels, releaseKernels, variantLabel, type Variant } from "./variants.js";
import { SHAKESPEARE_VOCABULARY, WORKLOADS, sampleWeightBytes, type WorkloadId } from "./workloads.js";
import type { CliTrainSpec } from "./cli-child.js";

const repositoryRoot = fileURLToPath(new URL("..", import.meta.url));
const childScript = fileURLToPath(new URL("./child.js", import.meta.url));
const cliChildScript = fileURLToPath(new URL("./cli-child.js", import.meta.url));
const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

/** The thread counts PyTorch is measured at; the best of them is its number. */
const TORCH_THREADS = [1, 2];

/** Runs one child to the end, passing its stderr through live and keeping the tail for the report. */
function runChild(args: readonly string[]): Promise<{ status: number | null; stdout: string; lastError: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderrTail = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      process.stderr.write(chunk);
      stderrTail = (stderrTail + chunk).slice(-4000);
    });
    const finish = (status: number | null, failure?: string) => {
      const lines = stderrTail.split("\n").map((line) => line.trim()).filter((line) => line.length > 0);
      resolve({ status, stdout, lastError: failure ?? lines.find((line) => line.startsWith("charnn bench child:")) ?? lines.at(-1) ?? "" });
    };
    child.on("error", (error) => finish(null, error.message));
    child.on("close", (status) => finish(status));
  });
}

async function measureCharnn(options: BenchOptions, variants: Variant[], corpusPath: string, notes: string[]): Promise<CharnnRun[]> {
  const runs: CharnnRun[] = [];
  for (const workload of options.workloads) {
    for (const variant of variants) {
      const spec: MeasureSpec = { ...variant, workload, corpusPath, windows: options.windows, windowSeconds: options.windowSeconds, sampleLength: options.sampleLength };
      log(`charnn ${WORKLOADS[workload].label} on ${variantLabel(variant)}...`);
      const finished = await runChild([childScript, JSON.stringify(spec)]);
      const { results } = parseResultLines(finished.stdout);
      try {
        if (finished.status !== 0 || results.length !== 1) throw new Error(finished.lastError || `exit code ${finished.status}`);
        const run = toCharnnRun(results[0]);
        if (run.vocabularySize !== SHAKESPEARE_VOCABULARY) notes.push(`the corpus has ${run.vocabularySize} characters, not tiny-shakespeare's ${SHAKESPEARE_VOCABULARY}: the FLOP counts assume ${SHAKESPEARE_VOCABULARY}`);
        runs.push(run);
      } catch (error) {
        notes.push(`charnn ${workload} on ${variantLabel(variant)} failed: ${(error as Error).message.replace(/^charnn bench child: /, "")}`);
      }
    }
  }
  return runs;
}

/**
 * The 128-bit SIMD ceiling on each wasm build at each thread count the variants use (registers
 * only, so it does not matter that this process is the bench's parent), and the clock.
 */
function measureCeiling(variants: readonly Variant[], notes: string[], withBandwidth = true): SimdCeiling | null {
  const threadCounts = [...new Set(variants.filter((v) => v.backend !== "js").map((v) => v.threads))].sort((a, b) => a - b);
  if (threadCounts.length === 0) return null;
  let cpuinfoMhz: number | null = null;
  try {
    cpuinfoMhz = theoreticalPeakFrom(readFileSync("/proc/cpuinfo", "utf8"))?.mhz ?? null;
  } catch {
    // Not Linux: no nominal clock to quote.
  }
  const measured: CeilingMeasurement[] = [];
  for (const backend of ["wasm", "wasm-relaxed"] as const) {
    if (backend === "wasm-relaxed" && !wasmRelaxedAvailable()) {
      notes.push("the fused multiply-add ceiling was not measured: this runtime has no relaxed SIMD");
      continue;
    }
    for (const threads of threadCounts) {
      const gflops = measureSimdCeiling({ variant: backend === "wasm" ? "simd" : "relaxed", threads });
      log(`SIMD ceiling, ${backend} x${threads}: ${gflops.toFixed(1)} GFLOP/s`);
      measured.push({ backend, threads, gflops });
    }
  }
  // Batch-1 sampling streams its weights once per character: the read bandwidth over that many
  // bytes is its ceiling (logged beside the sampling rates, chars/s ≤ GB/s / bytes per char).
  for (const workload of withBandwidth ? [WORKLOADS.C2, WORKLOADS.C3] : []) {
    const bytes = sampleWeightBytes(workload);
    for (const threads of threadCounts) {
      const gbPerSecond = measureReadBandwidth({ variant: "simd", threads, bytes: Math.ceil(bytes / 128) * 128 });
      log(`read bandwidth over ${workload.id}'s sampled weights (${(bytes / 2 ** 20).toFixed(2)} MiB), x${threads}: ` +
        `${gbPerSecond.toFixed(1)} GB/s, at most ${Math.round(gbPerSecond * 1e9 / bytes)} chars/s`);
    }
  }
  const clockGhz = measureClockGhz();
  log(`clock: ${clockGhz.toFixed(2)} GHz (cpuinfo says ${cpuinfoMhz ?? "nothing"} MHz)`);
  return { measured, clockGhz, cpuinfoMhz };
}

/**
 * The ceiling is a fastest-ever figure, and a probe of a fraction of a second can land while the
 * hypervisor or another process holds a core (one run measured two threads no faster than one).
 * So it is probed before and after the workloads and the faster of the two counts, with a note
 * where they disagree.
 */
function fasterCeiling(before: SimdCeiling | null, after: SimdCeiling | null, notes: string[]): SimdCeiling | null {
  if (!before || !after) return before ?? after;
  const measured = before.measured.map((first) => {
    const second = after.measured.find((m) => m.backend === first.backend && m.threads === first.threads);
    if (!second) return first;
    const [low, high] = first.gflops <= second.gflops ? [first, second] : [second, first];
    if (high.gflops > 1.2 * low.gflops) {
      notes.push(`the ${first.backend} x${first.threads} ceiling measured ${low.gflops.toFixed(1)} and ${high.gflops.toFixed(1)} GFLOP/s before and after the workloads; the faster counts`);
    }
    return high;
  });
  const clockGhz = before.clockGhz === null || after.clockGhz === null ? before.clockGhz ?? after.clockGhz : Math.max(before.clockGhz, after.clockGhz);
  return { measured, clockGhz, cpuinfoMhz: before.cpuinfoMhz };
}

/**
 * `charnn train` itself, in its own process, on C2 and C3 with the variant that trained each
 * fastest in the bench: the rate after start-up (the bench's own loop times the trainer alone)
 * and the peak memory of a run with its save.
 */
async function measureCommand(options: BenchOptions, runs: readonly CharnnRun[], corpusPath: string, notes: string[]): Promise<CliTrainRun[]> {
  const measured: CliTrainRun[] = [];
  const plans: Array<{ workload: WorkloadId; steps: number; fromStep: number }> = [{ workload: "C2", steps: 150, fromStep: 20 }, { workload: "C3", steps: 14, fromStep: 4 }];
  for (const plan of plans) {
    if (!options.workloads.includes(plan.workload)) continue;
    const best = bestCharnnRun(runs, plan.workload, "train");
    if (best === null) continue;
    const spec: CliTrainSpec = { workload: plan.workload, backend: best.backend, threads: best.threads, corpusPath, steps: plan.steps, fromStep: plan.fromStep };
    log(`charnn train itself: ${WORKLOADS[plan.workload].label} on ${best.backend} x${best.threads}, ${plan.steps} steps...`);
    const finished = await runChild([cliChildScript, JSON.stringify(spec)]);
    const { results } = parseResultLines(finished.stdout);
    if (finished.status !== 0 || results.length !== 1) {
      notes.push(`charnn train on ${plan.workload} failed: ${(finished.lastError || `exit code ${finished.status}`).replace(/^charnn bench child: /, "")}`);
      continue;
    }
    const run = results[0] as CliTrainRun;
    log(`charnn train itself, ${plan.workload}: ${Math.round(run.charsPerSecond)} chars/s after start-up, peak RSS ${Math.round(run.peakRssMb)} MB`);
    measured.push(run);
  }
  return measured;
}

/** Wall time of whole processes, first run untimed (it warms the file cache). */
function timeProcess(label: string, args: readonly string[], runs: number): StartupTiming {
  const once = () => spawnSync(process.execPath, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], cwd: repositoryRoot, timeout: 60_000 });
  const first = once();
  if (first.error || first.status !== 0) {
    const stderrLines = (first.stderr ?? "").split("\n").map((line) => line.trim()).filter((line) => line.length > 0);
    return { command: label, status: "unavailable", reason: first.error?.message ?? `exit code ${first.status}: ${stderrLines[0] ?? "no message"}` };
  }
  const runsMs: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = nowMs();
    const result = once();
    const ms = nowMs() - start;
    if (result.status !== 0) return { command: label, status: "unavailable", reason: `run ${r + 1} exited with code ${result.status}` };
    runsMs.push(ms);
  }
  return { command: label, status: "ok", medianMs: median(runsMs), runsMs };
}

/** `charnn sample --length 1` on a fresh C2 checkpoint, and the bare `node` and `charnn --version` start-ups beside it. */
async function measureStartup(options: BenchOptions, corpusPath: string, variant: Variant): Promise<{ timings: StartupTiming[]; phases: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "charnn-bench-startup-"));
  try {
    log(`CLI start-up: ${options.startupRuns} runs each...`);
    const prepared = await prepareWorkload(WORKLOADS.C2, variant, corpusPath);
    const state = checkpointState(prepared);
    releaseKernels(prepared.kernels);
    const saved = await saveCheckpoint(dir, state, { keep: 0, isBest: false });
    const bin = path.join(repositoryRoot, "bin", "charnn.js");
    const timings = [
      timeProcess("charnn sample --length 1 -c <C2 checkpoint>", [bin, "sample", "--length", "1", "-c", saved.latest], options.startupRuns),
      timeProcess("charnn --version", [bin, "--version"], options.startupRuns),
      timeProcess("node -e 0 (Node alone)", ["-e", "0"], options.startupRuns),
    ];
    for (const t of timings) log(t.status === "ok" ? `${t.command}: ${t.medianMs.toFixed(1)} ms` : `${t.command}: unavailable (${t.reason})`);
    const phases = startupPhasesLine(measureStartupPhases(saved.latest, options.startupRuns));
    log(phases);
    return { timings, phases };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function measurePeers(options: BenchOptions, peersDir: string, notes: string[]): PeerResult[] {
  if (!options.peers) {
    notes.push("peers not measured (--no-peers)");
    return [];
  }
  if (!existsSync(peersDir)) {
    notes.push("peers skipped: the PyTorch, TF.js and numpy peer scripts were not found");
    log(`peers skipped: ${peersDir} not found`);
    return [];
  }
  const configs = options.workloads.map((id) => WORKLOADS[id].peerConfig).filter((config): config is PeerConfig => config !== null);
  const tfjsConfigs: PeerPlan["tfjsConfigs"] = [];
  if (options.tfjs && configs.includes("C2")) tfjsConfigs.push("C2");
  if (options.tfjsC3 && configs.includes("C3")) tfjsConfigs.push("C3");
  if (!options.tfjs && configs.includes("C2")) notes.push("TF.js not measured (--quick; it takes minutes)");
  const plan: PeerPlan = { peersDir, configs, threads: TORCH_THREADS, windows: options.windows, sampleLength: options.sampleLength, numpyIters: options.numpyIters, tfjsConfigs };
  const results: PeerResult[] = [];
  for (const runPeer of [runTorch, runNumpy, runTfjs]) {
    const outcome = runPeer(plan, log);
    results.push(...outcome.results);
    notes.push(...outcome.notes);
  }
  return results;
}

/** Puts the report between the README's bench markers; a README without them is left alone. */
async function refreshReadme(report: BenchReport): Promise<void> {
  const readmePath = path.join(repositoryRoot, "README.md");
  const readme = existsSync(readmePath) ? await readFile(readmePath, "utf8") : null;
  const spliced = readme === null ? null : spliceReadme(readme, renderBody(report, 3));
  if (spliced !== null) {
    await writeFile(readmePath, spliced);
    log(`updated the bench block in ${readmePath}`);
  } else {
    log(`README.md has no ${README_START} ... ${README_END} block: left alone`);
  }
}

async function bench(argv: readonly string[]): Promise<number> {
  const options = parseBenchArgs(argv, os.availableParallelism());
  if (options.help) {
    process.stdout.write(BENCH_USAGE);
    return ExitCode.ok;
  }
  const sharedDir = path.resolve(repositoryRoot, "..", "shared");
  const corpusPath = path.join(sharedDir, "corpora", "tinyshakespeare.txt");
  if (!existsSync(corpusPath)) {
    log(`skipped: the benchmark corpus ${corpusPath} is not there, and every workload and peer trains on it. Nothing was measured; BENCHMARKS.md is unchanged.`);
    return ExitCode.ok;
  }

  const started = new Date();
  const machine = machineInfo(); // now, so the load average is the machine's before the bench adds its own
  const revision = sourceRevision(repositoryRoot);
  const notes: string[] = [];
  const { variants, notes: variantNotes } = planVariants(options.backends, options.threads, probeKernels);
  notes.push(...variantNotes);
  for (const note of variantNotes) log(note);
  if (variants.length === 0) throw new CharnnError("no charnn backend could be selected", ExitCode.failure, "try --backends js --threads 1");

  const ceilingBefore = measureCeiling(variants, notes);
  const charnn = await measureCharnn(options, variants, corpusPath, notes);
  const cliTrain = await measureCommand(options, charnn, corpusPath, notes);
  const ceiling = fasterCeiling(ceilingBefore, measureCeiling(variants, [], false), notes);
  const { timings: startup, phases: startupPhases } = await measureStartup(options, corpusPath, variants[0]!);
  const peers = measurePeers(options, path.join(sharedDir, "peers"), notes);

  const report: BenchReport = {
    date: started.toISOString(),
    revision,
    machine,
    argv: [...argv],
    windows: options.windows,
    workloads: options.workloads,
    variants,
    charnn,
    cliTrain,
    peers,
    startup,
    startupPhases,
    ceiling,
    notes,
  };
  const benchmarksPath = path.join(repositoryRoot, "BENCHMARKS.md");
  await writeFile(benchmarksPath, renderBenchmarksFile(report));
  log(`wrote ${benchmarksPath}`);
  if (options.writeReadme) await refreshReadme(report);
  process.stdout.write(renderBody(report, 2));
  return ExitCode.ok;
}

try {
  process.exitCode = await bench(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof CharnnError)) throw error;
  process.stderr.write(`charnn bench: ${error.message}\n${error.hint ? `hint: ${error.hint}\n` : ""}`);
  process.exitCode = error.exitCode;
}
