// Running the peer benchmarks of ../shared/peers in the bench's own run: PyTorch
// (torch_charlstm.py), numpy (numpy_minrnn.py) and TensorFlow.js (tfjs_charlstm.mjs, installed
// with npm into a temporary folder). Each peer that cannot run is skipped with a note, never an
// error. The argument lists are pure functions (tested); the rest starts processes.
// Not here: reading RESULT lines (results.ts) or comparing (report.ts).

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseResultLines, toPeerResult, type PeerConfig, type PeerResult } from "./results.js";

/** Debian's interpreter: python3-torch and python3-numpy are installed for it, not for other pythons. */
export const SYSTEM_PYTHON = "/usr/bin/python3";

/** Where TensorFlow.js is installed for the bench, reused by later runs. */
export const tfjsDirectory = (): string => path.join(os.tmpdir(), "charnn-bench-tfjs");

/** Iterations TF.js gets (warm-up:per window): about 1.5 s a step at C2 and 30 s at C3 on 2019-era cores. */
const TFJS_ITERATIONS: Record<"C2" | "C3", string> = { C2: "2:5", C3: "1:1" };

/** The min-char-rnn variants: as min-char-rnn writes it, and the fastest (a column gather). */
export const NUMPY_VARIANTS = "onehot:float64,gather:float32";

export interface PeerPlan {
  peersDir: string;
  configs: PeerConfig[];
  threads: number[];
  windows: number;
  sampleLength: number;
  numpyIters: number;
  tfjsConfigs: Array<"C2" | "C3">;
}

export interface PeerOutcome {
  results: PeerResult[];
  notes: string[];
}

export function torchArgs(peersDir: string, config: PeerConfig, threads: number, windows: number, sampleLength: number): string[] {
  return [path.join(peersDir, "torch_charlstm.py"), "--configs", config, "--threads", String(threads), "--windows", String(windows), "--sample", String(sampleLength)];
}

export function numpyArgs(peersDir: string, windows: number, iters: number, sampleLength: number): string[] {
  return [path.join(peersDir, "numpy_minrnn.py"), "--variants", NUMPY_VARIANTS, "--windows", String(windows), "--warmup", "200", "--iters", String(iters), "--sample", String(sampleLength)];
}

export function tfjsArgs(peersDir: string, config: "C2" | "C3", windows: number, sampleLength: number): string[] {
  return [path.join(peersDir, "tfjs_charlstm.mjs"), "--backends", "wasm", "--configs", config, "--windows", String(windows), "--sample", String(sampleLength), "--iters", TFJS_ITERATIONS[config]];
}

interface Finished {
  status: number | null;
  stdout: string;
  /** Why the process could not start or was stopped, when it was. */
  failure: string | null;
}

/** Runs a process to the end; its stderr (progress) flows to ours, its stdout is returned. */
function run(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Finished {
  const result = spawnSync(command, args, {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 26,
    env: options.env ?? process.env,
    cwd: options.cwd,
    timeout: options.timeoutMs,
  });
  const failure = result.error ? result.error.message : result.signal ? `stopped by ${result.signal}` : null;
  return { status: result.status, stdout: result.stdout ?? "", failure };
}

/** The peer results in a finished run's stdout, and a note for anything that went wrong. */
function collect(finished: Finished, what: string): PeerOutcome {
  const { results, problems } = parseResultLines(finished.stdout);
  const outcome: PeerOutcome = { results: [], notes: problems.map((problem) => `${what}: ${problem.split("\n")[0]}`) };
  for (const result of results) {
    try {
      outcome.results.push(toPeerResult(result));
    } catch (error) {
      outcome.notes.push(`${what}: a result could not be read (${(error as Error).message})`);
    }
  }
  if (finished.failure) outcome.notes.push(`${what}: ${finished.failure}`);
  else if (outcome.results.length === 0 && problems.length === 0) outcome.notes.push(`${what}: no result (exit code ${finished.status})`);
  return outcome;
}

const pythonCan = (module: string): boolean => existsSync(SYSTEM_PYTHON) && spawnSync(SYSTEM_PYTHON, ["-c", `import ${module}`], { stdio: "ignore" }).status === 0;

export function runTorch(plan: PeerPlan, log: (line: string) => void): PeerOutcome {
  if (plan.configs.length === 0) return { results: [], notes: [] };
  if (!pythonCan("torch")) {
    return { results: [], notes: [`PyTorch skipped: \`${SYSTEM_PYTHON} -c "import torch"\` fails (apt-get install python3-torch libopenblas0-openmp)`] };
  }
  const outcome: PeerOutcome = { results: [], notes: [] };
  for (const config of plan.configs) {
    for (const threads of plan.threads) {
      log(`PyTorch ${config} at ${threads} thread(s)...`);
      const part = collect(run(SYSTEM_PYTHON, torchArgs(plan.peersDir, config, threads, plan.windows, plan.sampleLength)), `PyTorch ${config} x${threads}`);
      outcome.results.push(...part.results);
      outcome.notes.push(...part.notes);
      for (const r of part.results) log(`PyTorch ${config} x${threads}: train ${Math.round(r.trainCharsPerSecond)} chars/s, sample ${Math.round(r.sampleCharsPerSecond)} chars/s`);
    }
  }
  return outcome;
}

export function runNumpy(plan: PeerPlan, log: (line: string) => void): PeerOutcome {
  if (!plan.configs.includes("C1")) return { results: [], notes: [] };
  if (!pythonCan("numpy")) return { results: [], notes: [`numpy skipped: \`${SYSTEM_PYTHON} -c "import numpy"\` fails (apt-get install python3-numpy)`] };
  log(`numpy C1 (${NUMPY_VARIANTS})...`);
  // One BLAS thread, as the script itself sets: its products are tiny matrix-vector ones.
  const env = { ...process.env, OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1", MKL_NUM_THREADS: "1" };
  const outcome = collect(run(SYSTEM_PYTHON, numpyArgs(plan.peersDir, plan.windows, plan.numpyIters, plan.sampleLength), { env }), "numpy C1");
  for (const r of outcome.results) log(`numpy C1 ${r.setting}: train ${Math.round(r.trainCharsPerSecond)} chars/s, sample ${Math.round(r.sampleCharsPerSecond)} chars/s`);
  return outcome;
}

/** Installs TensorFlow.js into the temporary folder unless it is there; null when ready, else why not. */
function ensureTfjs(directory: string, log: (line: string) => void): string | null {
  const installed = ["@tensorflow/tfjs", "@tensorflow/tfjs-backend-wasm"].every((name) => existsSync(path.join(directory, "node_modules", name, "package.json")));
  if (installed) return null;
  log(`installing @tensorflow/tfjs and @tensorflow/tfjs-backend-wasm into ${directory} (once)...`);
  try {
    mkdirSync(directory, { recursive: true });
    if (!existsSync(path.join(directory, "package.json"))) writeFileSync(path.join(directory, "package.json"), JSON.stringify({ name: "charnn-bench-tfjs", private: true }) + "\n");
  } catch (error) {
    return `cannot create ${directory}: ${(error as Error).message}`;
  }
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  // npm's own output goes to stderr with the rest of the progress; stdout carries only results.
  const result = spawnSync(npm, ["install", "--no-audit", "--no-fund", "--loglevel=error", "@tensorflow/tfjs", "@tensorflow/tfjs-backend-wasm"], {
    cwd: directory, stdio: ["ignore", 2, 2], timeout: 15 * 60_000,
  });
  if (result.error) return `npm could not run: ${result.error.message}`;
  if (result.status !== 0) return `npm install failed (exit code ${result.status ?? result.signal})`;
  return null;
}

export function runTfjs(plan: PeerPlan, log: (line: string) => void): PeerOutcome {
  if (plan.tfjsConfigs.length === 0) return { results: [], notes: [] };
  const directory = tfjsDirectory();
  const problem = ensureTfjs(directory, log);
  if (problem) return { results: [], notes: [`TF.js skipped: ${problem}`] };
  const outcome: PeerOutcome = { results: [], notes: [] };
  for (const config of plan.tfjsConfigs) {
    log(`TF.js wasm ${config} (iterations ${TFJS_ITERATIONS[config]})...`);
    const part = collect(run(process.execPath, tfjsArgs(plan.peersDir, config, plan.windows, plan.sampleLength), { env: { ...process.env, TFJS_DIR: directory } }), `TF.js wasm ${config}`);
    outcome.results.push(...part.results);
    outcome.notes.push(...part.notes);
    for (const r of part.results) log(`TF.js ${r.setting} ${config}: train ${formatRate(r.trainCharsPerSecond)} chars/s, sample ${formatRate(r.sampleCharsPerSecond)} chars/s`);
  }
  return outcome;
}

const formatRate = (value: number): string => (value >= 100 ? String(Math.round(value)) : value.toFixed(1));
