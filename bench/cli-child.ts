// A child process of `npm run bench` that trains through the command itself: `charnn train`
// run in-process by the CLI's own main(), with its corpus reading, planning, reporter and
// checkpoint store, for a fixed number of steps and one final save. It prints one `RESULT {json}`
// line: the training rate the step events report once start-up is behind (from step `fromStep`
// on), and the process's peak RSS. Not meant to be run by hand: run.ts passes the spec.

import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { main } from "../dist/cli/main.js";
import { processIO } from "../dist/cli/io.js";
import { RESULT_PREFIX } from "./results.js";
import { WORKLOADS, type WorkloadId } from "./workloads.js";

export interface CliTrainSpec {
  workload: WorkloadId;
  backend: string;
  threads: number;
  corpusPath: string;
  steps: number;
  /** The first step counted: the ones before it carry start-up (workers, compilation, page faults). */
  fromStep: number;
}

async function cliChild(argv: readonly string[]): Promise<number> {
  const spec = JSON.parse(argv[0] ?? "null") as CliTrainSpec | null;
  if (spec === null || typeof spec !== "object") {
    process.stderr.write("usage: node dist-bench/cli-child.js '<spec as JSON>' (run.ts starts this)\n");
    return 2;
  }
  const w = WORKLOADS[spec.workload];
  const out = await mkdtemp(path.join(os.tmpdir(), "charnn-bench-cli-"));
  const events: Array<Record<string, unknown>> = [];
  let pending = "";
  const io = processIO();
  io.stdout = new Writable({
    write(chunk, _encoding, callback) {
      pending += String(chunk);
      for (let newline = pending.indexOf("\n"); newline >= 0; newline = pending.indexOf("\n")) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line.startsWith("{")) events.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  try {
    const code = await main([
      "train", spec.corpusPath, "--out", out, "--json", "--log-every", "1",
      "--model", w.cell, "--layers", String(w.layers), "--hidden", String(w.hidden), "--seq-len", String(w.seqLen), "--batch", String(w.batch),
      "--optimizer", w.optimizer, "--lr", String(w.lr), "--clip", String(w.clip.limit), "--clip-mode", w.clip.mode,
      "--steps", String(spec.steps), "--eval-every", "0", "--checkpoint-every", "0",
      "--backend", spec.backend, "--threads", String(spec.threads),
    ], io);
    if (code !== 0) throw new Error(`charnn train exited with code ${code}`);
    const steps = events.filter((e) => e.type === "step") as Array<{ step: number; elapsedMs: number }>;
    const from = steps.find((e) => e.step === spec.fromStep), last = steps.at(-1);
    if (!from || !last || last.step <= from.step) throw new Error(`too few step events (${steps.length}) to time steps ${spec.fromStep}..${spec.steps}`);
    const charsPerSecond = ((last.step - from.step) * w.batch * w.seqLen * 1000) / (last.elapsedMs - from.elapsedMs);
    const result = { workload: spec.workload, backend: spec.backend, threads: spec.threads, steps: last.step - from.step, charsPerSecond, peakRssMb: process.resourceUsage().maxRSS / 1024 };
    process.stdout.write(RESULT_PREFIX + JSON.stringify(result) + "\n");
    return 0;
  } catch (error) {
    process.stderr.write(`charnn bench child: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

process.exitCode = await cliChild(process.argv.slice(2));
