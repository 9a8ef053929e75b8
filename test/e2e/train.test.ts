// End-to-end tests of `charnn train`: the built binary (bin/charnn.js over dist/) spawned from a
// temporary folder, with stdout, stderr and the exit code checked separately. What only a real
// process shows: SIGINT and SIGTERM mid-run (and a second SIGINT during a save), exit codes
// through the bin shim, stdin, a closed stderr, a failing checkpoint write (through a test entry
// that injects a failing file system), and the lock held by another process.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charnnEntryFor, ensureBuilt } from "../hardening/helpers.js";
import { loadCheckpointFile, processIsAlive } from "../../src/node/store.js";
import { ExitCode } from "../../src/core/errors.js";

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const charnnBin = join(repositoryRoot, "bin", "charnn.js");

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A spawned process with what it printed so far and promises for its lines and its end. */
interface Running {
  child: ChildProcess;
  /** Resolves with the first stdout line that is a JSON event of this type. */
  event(type: string): Promise<Record<string, unknown>>;
  done: Promise<Finished>;
}

function run(command: string, args: string[], options: { cwd: string; env?: Record<string, string>; stdin?: string }): Running {
  const child = spawn(command, args, {
    cwd: options.cwd,
    // CI and colour variables of the test runner's own terminal must not leak into the run.
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "", stderr = "";
  const waiters: Array<{ type: string; resolve: (event: Record<string, unknown>) => void }> = [];
  let scanned = 0;
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    stdout += chunk;
    const complete = stdout.lastIndexOf("\n") + 1;
    for (const line of stdout.slice(scanned, complete).split("\n").filter(Boolean)) {
      let event: Record<string, unknown> | undefined;
      try {
        event = JSON.parse(line);
      } catch {
        continue;
      }
      for (const waiter of waiters.filter((w) => w.type === event!.type)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event!);
      }
    }
    scanned = complete;
  });
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => (stderr += chunk));
  child.stdin!.on("error", () => {}); // a child that exits before reading all of stdin
  child.stdin!.end(options.stdin ?? "");
  const done = new Promise<Finished>((resolvePromise) =>
    child.on("close", (code, signal) => resolvePromise({ code, signal, stdout, stderr })),
  );
  return {
    child,
    done,
    event: (type) =>
      new Promise((resolvePromise, reject) => {
        waiters.push({ type, resolve: resolvePromise });
        void done.then((result) => reject(new Error(`charnn ended (code ${result.code}) before a "${type}" event:\n${result.stderr}`)));
      }),
  };
}

/**
 * `charnn train ...args`. A run whose env asks for a failing or stalling checkpoint write
 * (CHARNN_FAULT, CHARNN_HOLD_WRITE_MS) runs the test entry that injects that file system, built
 * beside the sources (the shipped binary reads neither variable).
 */
const charnn = (cwd: string, args: string[], env: Record<string, string> = {}, stdin?: string): Running => {
  const entry = env.CHARNN_FAULT !== undefined || env.CHARNN_HOLD_WRITE_MS !== undefined ? charnnEntryFor(env) : charnnBin;
  return run(process.execPath, [entry, "train", ...args], { cwd, env, stdin });
};
beforeAll(() => ensureBuilt(), 120_000);

const folders: string[] = [];
async function freshFolder(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), "charnn-e2e-train-"));
  folders.push(folder);
  return folder;
}
afterAll(async () => {
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

// The binary runs dist/, which test/global-setup.ts rebuilds once, before any test file runs,
// whenever a source is newer: building here would rewrite dist/ under other files' processes.

/** Deterministic text of about `length` characters (the same generator idea as the in-process tests). */
function generatedText(length: number, seed = 3): string {
  const words = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "and", "runs", "away", "über", "naïve", "日本"];
  let state = seed >>> 0;
  const next = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0), state / 2 ** 32);
  const lines: string[] = [];
  let total = 0;
  while (total < length) {
    const count = 4 + Math.floor(next() * 8);
    const line = Array.from({ length: count }, () => words[Math.floor(next() * words.length)]).join(" ") + (next() < 0.3 ? "." : "");
    lines.push(line);
    total += line.length + 1;
  }
  return lines.join("\n") + "\n";
}

const TEXT = generatedText(30_000);
const SMALL = ["--hidden", "16", "--layers", "1", "--batch", "2", "--seq-len", "8"];

async function withCorpus(): Promise<string> {
  const cwd = await freshFolder();
  await writeFile(join(cwd, "corpus.txt"), TEXT);
  return cwd;
}

const readJson = async (path: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(path, "utf8"));

function expectSameTrainingState(actual: Record<string, unknown>, expected: Record<string, unknown>): void {
  for (const field of ["params", "optimizer", "hiddenState", "rng", "cursor", "step"]) {
    expect(JSON.stringify(actual[field]), field).toBe(JSON.stringify(expected[field]));
  }
}

const stderrErrors = (stderr: string): string[] => stderr.split("\n").filter((line) => line.startsWith("charnn:"));

describe("signals", () => {
  const args = ["corpus.txt", ...SMALL, "--layers", "2", "--dropout", "0.2", "--steps", "400", "--eval-every", "50", "--log-every", "1", "--json"];

  it("SIGINT mid-run exits 130 with a checkpoint at the step it stopped; resuming gives the uninterrupted bytes", async () => {
    const cwd = await withCorpus();
    const interrupted = charnn(cwd, [...args, "--out", "parts"]);
    await interrupted.event("step");
    interrupted.child.kill("SIGINT");
    const stopped = await interrupted.done;
    // Only the command that continues the run.
    expect(stopped.stderr).toMatch(/^to continue this run: charnn train \S.* --resume\n$/);
    expect(stopped.code).toBe(ExitCode.sigint);
    const events = stopped.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    const end = events.at(-1)!;
    expect(end).toMatchObject({ type: "end", reason: "interrupted" });
    expect(end.step as number).toBeGreaterThan(0);
    expect(end.step as number).toBeLessThan(400);
    expect(events.some((e) => e.type === "warning" && /^SIGINT: finishing this step/.test(e.message as string))).toBe(true);
    expect((await loadCheckpointFile(join(cwd, "parts", "latest.json"))).step).toBe(end.step);
    expect(existsSync(join(cwd, "parts", ".lock"))).toBe(false);

    const [resumed, whole] = await Promise.all([charnn(cwd, ["corpus.txt", "--resume", "--out", "parts"]).done, charnn(cwd, [...args, "--out", "whole"]).done]);
    expect(resumed.code).toBe(0);
    expect(whole.code).toBe(0);
    const wholeState = await readJson(join(cwd, "whole", "latest.json"));
    expect(wholeState.step).toBe(400);
    expectSameTrainingState(await readJson(join(cwd, "parts", "latest.json")), wholeState);
  });

  it("SIGTERM mid-run exits 143 after saving", async () => {
    const cwd = await withCorpus();
    const running = charnn(cwd, [...args, "--out", "run"]);
    await running.event("step");
    running.child.kill("SIGTERM");
    const stopped = await running.done;
    expect(stopped.code).toBe(ExitCode.sigterm);
    const end = JSON.parse(stopped.stdout.trimEnd().split("\n").at(-1)!);
    expect(end).toMatchObject({ type: "end", reason: "interrupted" });
    expect((await loadCheckpointFile(join(cwd, "run", "latest.json"))).step).toBe(end.step);
  });

  it("a second SIGINT during the final save stops at once and damages no checkpoint", async () => {
    const cwd = await withCorpus();
    expect((await charnn(cwd, ["corpus.txt", ...SMALL, "--steps", "5", "--out", "run"]).done).code).toBe(0);
    const before = await readFile(join(cwd, "run", "latest.json"), "utf8");
    // Every save now waits 20 s between its complete temporary file and the rename.
    const running = charnn(cwd, ["corpus.txt", "--resume", "--steps", "400", "--log-every", "1", "--json", "--out", "run"], { CHARNN_HOLD_WRITE_MS: "20000" });
    await running.event("step");
    const started = Date.now();
    running.child.kill("SIGINT");
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 500));
    running.child.kill("SIGINT");
    const stopped = await running.done;
    expect(stopped.code).toBe(ExitCode.sigint);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await readFile(join(cwd, "run", "latest.json"), "utf8")).toBe(before);
    expect((await loadCheckpointFile(join(cwd, "run", "latest.json"))).step).toBe(5);
    // The run can go on from there; its next save clears the dead writer's temporary file.
    expect((await charnn(cwd, ["corpus.txt", "--resume", "--steps", "8", "--out", "run"]).done).code).toBe(0);
    expect((await loadCheckpointFile(join(cwd, "run", "latest.json"))).step).toBe(8);
    expect((await readdir(join(cwd, "run"))).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });
});

describe("failures", () => {
  it("CHARNN_FAULT=rename:ENOSPC on a resumed run: one line about space, and the previous latest.json is unchanged", async () => {
    const cwd = await withCorpus();
    expect((await charnn(cwd, ["corpus.txt", ...SMALL, "--steps", "5", "--out", "run"]).done).code).toBe(0);
    const before = await readFile(join(cwd, "run", "latest.json"), "utf8");
    const failed = await charnn(cwd, ["corpus.txt", "--resume", "--steps", "10", "--out", "run"], { CHARNN_FAULT: "rename:ENOSPC" }).done;
    expect(failed.code).toBe(ExitCode.writeFailed);
    const errors = stderrErrors(failed.stderr);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^charnn: cannot write .*: no space left on device \(ENOSPC\)/);
    expect(failed.stderr).not.toMatch(/^\s+at /m);
    expect(await readFile(join(cwd, "run", "latest.json"), "utf8")).toBe(before);
    expect((await loadCheckpointFile(join(cwd, "run", "latest.json"))).step).toBe(5);
  });

  it("invalid UTF-8 exits 3 naming the file and byte, prints nothing on stdout and writes nothing", async () => {
    const cwd = await freshFolder();
    const good = Buffer.from("plain text\n".repeat(100));
    await writeFile(join(cwd, "bad.txt"), Buffer.concat([good, Buffer.from([0xff]), good]));
    const failed = await charnn(cwd, ["bad.txt", ...SMALL, "--out", "run"]).done;
    expect(failed.code).toBe(ExitCode.badInput);
    expect(failed.stdout).toBe("");
    expect(stderrErrors(failed.stderr)).toHaveLength(1);
    expect(stderrErrors(failed.stderr)[0]).toMatch(new RegExp(`^charnn: bad\\.txt: .*byte ${good.length}`));
    expect(existsSync(join(cwd, "run"))).toBe(false);
  });

  it("a lock held by a live process exits 5", async () => {
    const cwd = await withCorpus();
    await mkdir(join(cwd, "run"));
    // This test process is alive and is not the charnn being run.
    const lock = `${JSON.stringify({ pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString(), nonce: "0123abcd" })}\n`;
    await writeFile(join(cwd, "run", ".lock"), lock);
    const failed = await charnn(cwd, ["corpus.txt", ...SMALL, "--steps", "5", "--out", "run"]).done;
    expect(failed.code).toBe(ExitCode.locked);
    expect(stderrErrors(failed.stderr)[0]).toContain(`another charnn run (pid ${process.pid})`);
    expect(await readFile(join(cwd, "run", ".lock"), "utf8")).toBe(lock);
  });

  it("a lock left by a dead process is taken over", async () => {
    const cwd = await withCorpus();
    const dead = await run(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { cwd }).done;
    const pid = Number(dead.stdout);
    expect(processIsAlive(pid)).toBe(false);
    await mkdir(join(cwd, "run"));
    await writeFile(join(cwd, "run", ".lock"), `${JSON.stringify({ pid, hostname: hostname(), startedAt: "2024-01-01T00:00:00.000Z", nonce: "0123abcd" })}\n`);
    const result = await charnn(cwd, ["corpus.txt", ...SMALL, "--steps", "5", "--out", "run"]).done;
    expect(result.code).toBe(0);
    expect((await loadCheckpointFile(join(cwd, "run", "latest.json"))).step).toBe(5);
    expect(existsSync(join(cwd, "run", ".lock"))).toBe(false);
  });
});

describe("streams", () => {
  it("reads the corpus from stdin for -", async () => {
    const cwd = await freshFolder();
    const text = generatedText(3000, 9);
    const result = await charnn(cwd, ["-", ...SMALL, "--steps", "5", "--out", "run"], {}, text).done;
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("");
    const latest = await loadCheckpointFile(join(cwd, "run", "latest.json"));
    expect(latest.corpus.length).toBe([...text].length);
  });

  it("keeps training and saving when the reader of stderr goes away (2>&1 | head)", async () => {
    const cwd = await withCorpus();
    const running = charnn(cwd, ["corpus.txt", ...SMALL, "--steps", "30", "--log-every", "1", "--out", "run"]);
    running.child.stderr!.destroy();
    const result = await running.done;
    expect(result.code).toBe(0);
    expect((await loadCheckpointFile(join(cwd, "run", "latest.json"))).step).toBe(30);
  });
});
