// Where the start-up of `charnn sample --length 1` goes: a fresh process per run (run as a child
// of the bench) times each part in the order the command does them — Node's own start, loading
// the command line (the bundle bin/charnn.js runs), reading the checkpoint, its checksum, the
// JSON, the base64, the checks against its settings, the wasm compile and instance, the model,
// the first character — and says whether any worker thread started. Not the whole-process time
// (run.ts measures that) and not a test: each part is timed once per process, cold, as it runs.

import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { median } from "./timing.js";

/** Milliseconds per part, in order; `workerThreads`: how many the sample started. */
export interface StartupPhases {
  parts: Array<[string, number]>;
  workerThreads: number;
  runs: number;
}

const dist = new URL("../dist/", import.meta.url);
const modifiedMs = (url: URL): number => statSync(url, { throwIfNoEntry: false })?.mtimeMs ?? -1;

/** One cold pass over the parts, in this process; prints its timings as one JSON line. */
async function timeOnce(checkpointFile: string): Promise<void> {
  const parts: Array<[string, number]> = [["node start", performance.now()]];
  let last = performance.now();
  const lap = (name: string): void => {
    const now = performance.now();
    parts.push([name, now - last]);
    last = now;
  };
  // What bin/charnn.js loads: the bundle when it is the newest build, else the compiled modules.
  const bundle = new URL("cli/charnn.js", dist);
  const usesBundle = modifiedMs(bundle) >= modifiedMs(new URL("cli/main.js", dist));
  await import(usesBundle ? bundle.href : new URL("cli/main.js", dist).href);
  lap(usesBundle ? "load CLI (1-file bundle)" : "load CLI (modules)");

  // The engine's parts, loaded untimed: inside the bundle they are not reachable one by one.
  const { parseCheckpoint } = await import(new URL("core/checkpoint/format.js", dist).href);
  const { validateCheckpoint, modelFromCheckpoint } = await import(new URL("core/checkpoint/load.js", dist).href);
  const { nodeCodec } = await import(new URL("node/codec.js", dist).href);
  const { selectKernels } = await import(new URL("node/backend.js", dist).href);
  const { kernelModule } = await import(new URL("node/wasm/module.js", dist).href);
  const { Sampler } = await import(new URL("core/sample/sampler.js", dist).href);
  const { createRng } = await import(new URL("core/tensor/rng.js", dist).href);
  const { generateCharacters } = await import(new URL("core/sample/text.js", dist).href);
  last = performance.now();

  const text = await readFile(checkpointFile, "utf8");
  lap("read file");
  nodeCodec.sha256Hex([text.slice(0, text.lastIndexOf(',"checksum":')), "}"]);
  lap("verify (SHA-256)");
  const document = JSON.parse(text);
  lap("JSON.parse");
  const decodeAll = (value: unknown): void => {
    for (const item of Object.values(value as object)) {
      if (typeof item === "string" && item.length > 256) nodeCodec.base64ToFloats(item);
      else if (item !== null && typeof item === "object") decodeAll(item);
    }
  };
  decodeAll(document);
  lap("decode (base64)");
  // The whole parse once more (warm now), then the checks that are validation alone.
  const state = parseCheckpoint(text, checkpointFile, nodeCodec);
  last = performance.now();
  const checkpoint = validateCheckpoint(state, checkpointFile);
  lap("validate (settings, shapes)");
  kernelModule("simd");
  lap("wasm compile");
  // As `charnn sample` asks: auto backend, threads 0 (every core, started only when worth it).
  const kernels = selectKernels("auto", 0);
  lap("wasm instantiate");
  const { model, vocabulary } = modelFromCheckpoint(checkpoint, kernels);
  const sampler = new Sampler(model, kernels);
  lap("model and sampler");
  generateCharacters(sampler, vocabulary, { length: 1, policy: { temperature: 1, topK: 0, topP: 1 }, rng: createRng(1), primeTokens: [0], stop: null }).next();
  lap("first character");
  const workerThreads = (kernels as { threadsStarted?: boolean }).threadsStarted === true ? kernels.threads - 1 : 0;
  kernels.dispose();
  process.stdout.write(`${JSON.stringify({ parts, workerThreads })}\n`);
}

/** Medians over `runs` fresh processes; null with the reason when a run fails. */
export function measureStartupPhases(checkpointFile: string, runs: number): StartupPhases | { unavailable: string } {
  const samples: Array<{ parts: Array<[string, number]>; workerThreads: number }> = [];
  for (let run = 0; run <= runs; run++) {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), checkpointFile], { encoding: "utf8", timeout: 60_000 });
    if (child.status !== 0) return { unavailable: `exit code ${child.status}: ${(child.stderr ?? "").trim().split("\n")[0] ?? ""}` };
    // The first run warms the file cache, as the whole-process timing's does.
    if (run > 0) samples.push(JSON.parse(child.stdout.trim().split("\n").pop()!));
  }
  const names = samples[0]!.parts.map(([name]) => name);
  return {
    parts: names.map((name, index) => [name, median(samples.map((sample) => sample.parts[index]![1]))]),
    workerThreads: Math.max(...samples.map((sample) => sample.workerThreads)),
    runs,
  };
}

/** The breakdown as one report line. */
export function startupPhasesLine(phases: StartupPhases | { unavailable: string }): string {
  if ("unavailable" in phases) return `- start-up by part: unavailable (${phases.unavailable})`;
  const parts = phases.parts.map(([name, ms]) => `${name} ${ms.toFixed(1)}`).join(", ");
  return `- start-up by part (ms, median of ${phases.runs} fresh processes): ${parts}; worker threads started: ${phases.workerThreads}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await timeOnce(process.argv[2]!);
