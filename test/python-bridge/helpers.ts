// Helpers for the tests that cross into PyTorch: whether /usr/bin/python3 has torch and numpy,
// charnn run in-process, Python and torchrun spawned, and safetensors files read back.
// Not a test file, and no stand-in for either side: every number compared is computed for real.

import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../../src/cli/main.js";
import { decodeSafetensors } from "../../src/core/safetensors.js";
import { createTestIO } from "../cli/helpers.js";

export const PYTHON = "/usr/bin/python3";
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const COMPANION = path.join(ROOT, "python", "charnn_torch.py");
export const TORCH_SIDE = path.join(ROOT, "test", "python-bridge", "torch_side.py");

function probeTorch(): string | null {
  const probe = spawnSync(PYTHON, ["-c", "import torch, numpy"], { encoding: "utf8", timeout: 120_000 });
  if (probe.error) return `${PYTHON} is not there (${probe.error.message})`;
  if (probe.status !== 0) return `${PYTHON} cannot import torch and numpy`;
  return null;
}

const missing = probeTorch();
/** Null when the PyTorch side can run; otherwise why not, for the skip message. */
export const torchMissing = missing;
export const skipNote = missing === null ? "" : ` [skipped: ${missing}; apt-get install python3-torch python3-numpy libopenblas0-openmp]`;

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `charnn ARGS` in this process, in `cwd`. */
export async function charnn(args: string[], cwd: string): Promise<Run> {
  const captured = createTestIO({ cwd });
  const code = await main(args, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

/** A program, its exit code and output; one thread each so two processes share two cores. */
export function spawnRun(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env: { ...process.env, OMP_NUM_THREADS: "1", ...env }, maxBuffer: 64 << 20, timeout: 170_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === "number" ? (error as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export const python = (args: string[], cwd: string): Promise<Run> => spawnRun(PYTHON, args, cwd);

/**
 * torchrun with gloo. `--redirects 1 --tee 1`: Debian's torch 1.13 under Python 3.11 fails in
 * torchrun's log-redirect parsing for the default "0" (an enum change); these values avoid it.
 */
export const torchrun = (processes: number, args: string[], cwd: string): Promise<Run> =>
  spawnRun("torchrun", ["--standalone", "--nproc_per_node", String(processes), "--redirects", "1", "--tee", "1", COMPANION, ...args], cwd);

export function temporaryFolder(label: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), `charnn-${label}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function readTensors(file: string): Map<string, { shape: number[]; data: Float32Array }> {
  return decodeSafetensors(new Uint8Array(readFileSync(file)), file).tensors;
}

/** max |a - b| / max(floor, |b|) over every element of every tensor (same names required). */
export function worstTensorError(actual: Map<string, { data: Float32Array }>, expected: Map<string, { data: Float32Array }>, floor: number): number {
  if ([...actual.keys()].sort().join() !== [...expected.keys()].sort().join()) throw new Error(`names differ: ${[...actual.keys()]} vs ${[...expected.keys()]}`);
  let worst = 0;
  for (const [name, tensor] of expected) {
    const other = actual.get(name)!.data;
    for (let i = 0; i < tensor.data.length; i++) worst = Math.max(worst, Math.abs(other[i]! - tensor.data[i]!) / Math.max(floor, Math.abs(tensor.data[i]!)));
  }
  return worst;
}

export const relative = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

/** A text for tiny runs: the start of the corpus shipped with charnn. */
export const corpusText = (characters: number): string => [...readFileSync(path.join(ROOT, "corpora", "harbour.txt"), "utf8")].slice(0, characters).join("");
