// Shared support for the hardening suite (issue 6): temporary folders, generated corpora, a
// private build of charnn spawned with stdout, stderr and exit code kept apart, main() in-process,
// peak memory, the backends every crash test runs on, and the error contract every case asserts
// (one charnn: line, at most one hint: line, no stack). Test support only: no tests, no fakes.

import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import seedrandom from "seedrandom";
import ts from "typescript";
import { afterAll, expect } from "vitest";
import { main, type CommandHandlers } from "../../src/cli/main.js";
import { createTestIO } from "../cli/helpers.js";
import { checkpointFsFromEnv } from "../helpers/faulty-fs.js";

export const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const charnnBin = join(repositoryRoot, "bin", "charnn.js");

// ---------------------------------------------------------------------------------------------
// Folders

/** A new temporary folder, removed when the test file ends. Call at most from inside tests/hooks. */
const created: string[] = [];
export async function freshFolder(label = "hardening"): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), `charnn-${label}-`));
  created.push(folder);
  return folder;
}
afterAll(async () => {
  await Promise.all(created.splice(0).map((folder) => rm(folder, { recursive: true, force: true })));
});

// ---------------------------------------------------------------------------------------------
// The built binary

/** Every .ts file below src/, sorted. */
function sourceFiles(): string[] {
  const files: string[] = [];
  const pending = [join(repositoryRoot, "src")];
  while (pending.length > 0) {
    const folder = pending.pop()!;
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) pending.push(path);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) files.push(path);
    }
  }
  return files.sort();
}

/** The root of the build the spawned tests run (bin/charnn.js, dist/, package.json, node_modules). */
let buildRoot: string | undefined;

/**
 * Makes the binary the spawned tests run: a private build of the current sources in the system's
 * temporary folder, shared by every hardening file of a run (it is named by a hash of what went
 * into it). Private, because other test files rebuild dist/ while tests run (npm run build in
 * their set-up), and a charnn started at that moment would load half-written modules. The
 * TypeScript is transpiled file by file (the type check is tsc's job elsewhere); the wasm kernels
 * come from dist/node/wasm, which test/global-setup.ts keeps fresh, each once no write is under way.
 */
export async function ensureBuilt(): Promise<void> {
  if (buildRoot !== undefined) return;
  const wasmNames = readdirSync(join(repositoryRoot, "dist", "node", "wasm")).filter((name) => name.endsWith(".wasm")).sort();
  const wasm = new Map<string, Buffer>();
  for (const name of wasmNames) {
    // A build running elsewhere may be rewriting it: take it once it has rested for two seconds
    // (no compile check: the relaxed-SIMD build does not compile on every node without a flag).
    const path = join(repositoryRoot, "dist", "node", "wasm", name);
    for (let attempt = 0; ; attempt++) {
      const before = statSync(path).mtimeMs;
      if (Date.now() - before > 2000) {
        const bytes = await readFile(path);
        if (statSync(path).mtimeMs === before) {
          wasm.set(name, bytes);
          break;
        }
      }
      if (attempt > 1500) throw new Error(`dist/node/wasm/${name} kept changing`);
      await sleep(200);
    }
  }
  const sources = sourceFiles();
  const hash = createHash("sha256");
  for (const path of [...sources, ...TEST_ENTRY_FILES.map((name) => join(repositoryRoot, "test", "helpers", name))]) hash.update(path).update(readFileSync(path));
  for (const [name, bytes] of wasm) hash.update(name).update(bytes);
  hash.update(readFileSync(join(repositoryRoot, "package.json")));
  const root = join(tmpdir(), `charnn-hardening-build-${hash.digest("hex").slice(0, 16)}`);
  if (!existsSync(join(root, "bin", "charnn.js"))) {
    const staging = `${root}.${process.pid}.${Date.now()}`;
    for (const path of sources) {
      const { outputText } = ts.transpileModule(readFileSync(path, "utf8"), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
        fileName: path,
      });
      const target = join(staging, "dist", relative(join(repositoryRoot, "src"), path).replace(/\.ts$/, ".js"));
      mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
      writeFileSync(target, outputText);
    }
    mkdirSync(join(staging, "dist", "node", "wasm"), { recursive: true, mode: 0o755 });
    for (const [name, bytes] of wasm) writeFileSync(join(staging, "dist", "node", "wasm", name), bytes);
    // The test-only entry that injects a failing file system, beside a src/ that is the build,
    // so its imports of ../../src/... resolve to the transpiled modules.
    for (const name of TEST_ENTRY_FILES) {
      const { outputText } = ts.transpileModule(readFileSync(join(repositoryRoot, "test", "helpers", name), "utf8"), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
        fileName: name,
      });
      mkdirSync(join(staging, "test", "helpers"), { recursive: true, mode: 0o755 });
      writeFileSync(join(staging, "test", "helpers", name.replace(/\.ts$/, ".js")), outputText);
    }
    symlinkSync("dist", join(staging, "src"));
    mkdirSync(join(staging, "bin"), { mode: 0o755 });
    writeFileSync(join(staging, "bin", "charnn.js"), readFileSync(charnnBin));
    writeFileSync(join(staging, "package.json"), readFileSync(join(repositoryRoot, "package.json")));
    symlinkSync(join(repositoryRoot, "node_modules"), join(staging, "node_modules"));
    // Readable by the unprivileged user some tests run charnn as.
    chmodSync(staging, 0o755);
    try {
      renameSync(staging, root);
    } catch {
      // Another hardening file built the same thing a moment earlier: use that one.
      rmSync(staging, { recursive: true, force: true });
    }
  }
  buildRoot = root;
  // Builds of older sources, from earlier runs, are of no further use.
  for (const name of readdirSync(tmpdir())) {
    const path = join(tmpdir(), name);
    if (!name.startsWith("charnn-hardening-build-") || path === root) continue;
    if (Date.now() - statSync(path).mtimeMs > 3_600_000) rmSync(path, { recursive: true, force: true });
  }
}

/** bin/charnn.js of the private build; ensureBuilt() must have run (in a beforeAll). */
function builtBin(): string {
  if (buildRoot === undefined) throw new Error("call ensureBuilt() in a beforeAll before spawning charnn");
  return join(buildRoot, "bin", "charnn.js");
}

/** The test files built beside the sources: charnn's entry with a failing file system injected. */
const TEST_ENTRY_FILES = ["faulty-fs.ts", "charnn-with-faults.ts"];

/** The entry to spawn when `env` asks for a failing or stalling write (CHARNN_FAULT, CHARNN_HOLD_WRITE_MS). */
export function charnnEntryFor(env: Record<string, string> | undefined): string {
  const wantsFaults = env !== undefined && (env.CHARNN_FAULT !== undefined || env.CHARNN_HOLD_WRITE_MS !== undefined);
  if (!wantsFaults) return builtBin();
  return join(dirname(dirname(builtBin())), "test", "helpers", "charnn-with-faults.js");
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcess;
  /** Everything printed on stdout so far. */
  stdout(): string;
  /** Resolves once stdout holds a line for which `test` is true (rejects if the child ends first). */
  line(test: (line: string) => boolean): Promise<string>;
  done: Promise<Finished>;
}

export interface SpawnCharnnOptions {
  cwd: string;
  env?: Record<string, string>;
  /** Text for stdin; stdin is closed after it (empty when not given). */
  stdin?: string | Buffer;
  /** Run as this user (tests run as root; a real "permission denied" needs someone else). */
  uid?: number;
  gid?: number;
  /** Node flags before the script, e.g. --max-old-space-size. */
  nodeFlags?: string[];
  /** Run this script instead of bin/charnn.js (e.g. a measuring wrapper). */
  script?: string;
}

/** Spawns `node bin/charnn.js ...args` with a clean environment (no CI or colour variables). */
export function spawnCharnn(args: string[], options: SpawnCharnnOptions): Running {
  const spawnOptions: SpawnOptions = {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  };
  if (options.uid !== undefined) spawnOptions.uid = options.uid;
  if (options.gid !== undefined) spawnOptions.gid = options.gid;
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), options.script ?? charnnEntryFor(options.env), ...args], spawnOptions);
  let stdout = "", stderr = "";
  const waiters: Array<{ test: (line: string) => boolean; resolve: (line: string) => void }> = [];
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    const before = stdout.lastIndexOf("\n") + 1;
    stdout += chunk;
    const complete = stdout.lastIndexOf("\n") + 1;
    for (const line of stdout.slice(before, complete).split("\n")) {
      for (const waiter of waiters.filter((w) => w.test(line))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => (stderr += chunk));
  child.stdin!.on("error", () => {}); // a child that exits before reading all of stdin
  if (options.stdin !== undefined && typeof options.stdin !== "string") child.stdin!.end(options.stdin);
  else child.stdin!.end(options.stdin ?? "");
  const done = new Promise<Finished>((resolvePromise) =>
    child.on("close", (code, signal) => resolvePromise({ code, signal, stdout, stderr })),
  );
  return {
    child,
    stdout: () => stdout,
    done,
    line: (test) =>
      new Promise((resolvePromise, reject) => {
        const already = stdout.split("\n").slice(0, -1).find(test);
        if (already !== undefined) return resolvePromise(already);
        waiters.push({ test, resolve: resolvePromise });
        void done.then((result) => reject(new Error(`charnn ended (code ${result.code}, signal ${result.signal}) before the awaited line:\n${result.stderr}`)));
      }),
  };
}

export const charnn = (args: string[], options: SpawnCharnnOptions): Promise<Finished> => spawnCharnn(args, options).done;

/** A JSON event line of this type (train --json). */
export const eventOfType = (type: string) => (line: string): boolean => line.startsWith(`{"type":"${type}"`);

// ---------------------------------------------------------------------------------------------
// In-process

export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** main(argv) over in-memory streams, in `cwd`. */
export async function runMain(
  argv: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: string; handlers?: Partial<CommandHandlers> } = {},
): Promise<InProcessResult> {
  const captured = createTestIO({ cwd: options.cwd ?? repositoryRoot, env: options.env ?? {}, stdin: options.stdin });
  // CHARNN_FAULT in `env` fails checkpoint writes as it does for a spawned test binary.
  const io = { ...captured.io, checkpointFs: checkpointFsFromEnv(options.env ?? {}) };
  const code = await main(argv, io, options.handlers ?? {});
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

// ---------------------------------------------------------------------------------------------
// What every error case asserts

/** stderr split into lines, without the empty string after the final newline. */
export function linesOf(text: string): string[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/**
 * The error contract of issue 6: exactly one `charnn:` line, optionally followed by one `hint:`
 * line, nothing else on stderr (no stack, no "at ..." frames), and the given exit code.
 * Returns the message line without its "charnn: " prefix.
 */
export function expectOneLineError(result: { code: number | null; stderr: string }, exitCode: number, context = ""): string {
  const lines = linesOf(result.stderr);
  const where = `${context}\nstderr:\n${result.stderr}`;
  expect(result.code, where).toBe(exitCode);
  expect(lines.length, where).toBeGreaterThanOrEqual(1);
  expect(lines.length, where).toBeLessThanOrEqual(2);
  expect(lines[0], where).toMatch(/^charnn: \S/);
  if (lines.length === 2) expect(lines[1], where).toMatch(/^hint: \S/);
  expect(result.stderr, where).not.toMatch(/^\s+at /m);
  expect(result.stderr, where).not.toMatch(/unexpected error/);
  return lines[0]!.slice("charnn: ".length);
}

// ---------------------------------------------------------------------------------------------
// Corpora and runs

/** Deterministic prose of about `length` characters, with a few non-ASCII words. */
export function generatedText(length: number, seed = 11): string {
  const words = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "and", "runs", "away", "über", "naïve", "日本", "café"];
  let state = seed >>> 0;
  // Numerical Recipes' LCG: varied enough, and the same text on every machine.
  const next = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0), state / 2 ** 32);
  const lines: string[] = [];
  let total = 0;
  while (total < length) {
    const count = 3 + Math.floor(next() * 9);
    const line = Array.from({ length: count }, () => words[Math.floor(next() * words.length)]).join(" ") + (next() < 0.3 ? "." : "");
    lines.push(line);
    total += line.length + 1;
  }
  return lines.join("\n") + "\n";
}

/** A tiny model: fast enough to train hundreds of steps per second in a spawned process. */
export const TINY_MODEL = ["--hidden", "16", "--layers", "1", "--batch", "2", "--seq-len", "8"];

/** The backends and thread counts the crash and resume tests run on. */
export const BACKENDS: ReadonlyArray<{ name: string; args: string[] }> = [
  { name: "js", args: ["--backend", "js"] },
  { name: "wasm, 1 thread", args: ["--backend", "wasm", "--threads", "1"] },
  { name: "wasm, 2 threads", args: ["--backend", "wasm", "--threads", "2"] },
  { name: "wasm-relaxed, 1 thread", args: ["--backend", "wasm-relaxed", "--threads", "1"] },
  { name: "wasm-relaxed, 2 threads", args: ["--backend", "wasm-relaxed", "--threads", "2"] },
];

/** The fields of a checkpoint file an exact resume must reproduce, as their JSON text. */
export const TRAINING_STATE_FIELDS = ["params", "optimizer", "hiddenState", "rng", "cursor", "step", "epoch"] as const;

export async function trainingStateOf(file: string): Promise<Record<string, string>> {
  const document = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
  return Object.fromEntries(TRAINING_STATE_FIELDS.map((field) => [field, JSON.stringify(document[field])]));
}

/** A seeded generator of floats in [0, 1): the same moments on every run of the suite. */
export const seededUniform = (seed: number): (() => number) => seedrandom(`hardening-${seed}`);

export const sleep = (ms: number): Promise<void> => new Promise((resolvePromise) => setTimeout(resolvePromise, ms));

/**
 * Trains a tiny model in-process (js backend) on generated text in `folder` and returns the path
 * of its latest.json; `extra` adds or overrides train flags (the model kind, say).
 */
export async function trainedCheckpoint(folder: string, extra: string[] = [], steps = 3): Promise<string> {
  await writeFile(join(folder, "corpus.txt"), generatedText(2000));
  const result = await runMain(
    ["train", "corpus.txt", ...TINY_MODEL, "--backend", "js", "--steps", String(steps), "--eval-every", "2", "--out", "run", ...extra],
    { cwd: folder },
  );
  if (result.code !== 0) throw new Error(`training the fixture failed (${result.code}):\n${result.stderr}`);
  return join(folder, "run", "latest.json");
}

// ---------------------------------------------------------------------------------------------
// Peak memory

let measuringScript: string | undefined;

/**
 * Runs charnn through a two-line wrapper that reports the process's peak resident set size
 * (process.resourceUsage().maxRSS, which covers the whole life of the process) on a last stderr
 * line; that line is taken off stderr and returned as bytes.
 */
export async function charnnWithPeakRss(args: string[], options: SpawnCharnnOptions): Promise<Finished & { peakRssBytes: number }> {
  if (measuringScript === undefined) {
    const folder = await mkdtemp(join(tmpdir(), "charnn-measure-"));
    created.push(folder);
    measuringScript = join(folder, "measure.mjs");
    const mainUrl = pathToFileURL(join(dirname(dirname(builtBin())), "dist", "cli", "main.js")).href;
    await writeFile(
      measuringScript,
      `const { main } = await import(${JSON.stringify(mainUrl)});\n` +
        "const code = await main(process.argv.slice(2));\n" +
        "process.stderr.write(`peak-rss-kb ${process.resourceUsage().maxRSS}\\n`);\n" +
        "process.exitCode = code;\n",
    );
  }
  const result = await spawnCharnn(args, { ...options, script: measuringScript }).done;
  const match = /peak-rss-kb (\d+)\n$/.exec(result.stderr);
  if (!match) throw new Error(`no peak RSS reported (code ${result.code}):\n${result.stderr}`);
  return { ...result, stderr: result.stderr.slice(0, match.index), peakRssBytes: Number(match[1]) * 1024 };
}
