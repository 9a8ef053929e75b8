// Hardening (issue 6): runs that overlap on one --out (cron firing again, four at once, new runs
// before and after a save), stale locks (SIGKILL, a half-written lock, two runs racing to take one
// over), and readers while a run replaces its checkpoints. Every loser exits 5 with a clear line;
// exactly one run ever trains a folder, and a reader always sees a whole checkpoint.

import { existsSync } from "node:fs";
import { readFile, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCheckpointFile, processIsAlive } from "../../src/node/store.js";
import { ExitCode } from "../../src/core/errors.js";
import { charnn, ensureBuilt, eventOfType, expectOneLineError, freshFolder, generatedText, spawnCharnn, trainingStateOf } from "./helpers.js";

const RUN = ["train", "corpus.txt", "--hidden", "16", "--layers", "1", "--batch", "2", "--seq-len", "8", "--backend", "js", "--log-every", "1", "--json"];

async function corpusFolder(label: string): Promise<string> {
  const cwd = await freshFolder(label);
  await writeFile(join(cwd, "corpus.txt"), generatedText(20_000, 51));
  return cwd;
}

/** The refusal every loser of the lock prints. */
function expectLocked(result: { code: number | null; stderr: string }, holderPid: number | undefined, context = ""): void {
  const message = expectOneLineError(result, ExitCode.locked, context);
  expect(message, context).toMatch(new RegExp(`^another charnn run \\(pid ${holderPid ?? "\\d+"}\\) is using .*run/$`));
  expect(result.stderr, context).toMatch(/\nhint: wait for it to finish, or use another --out\n$/);
}

beforeAll(() => ensureBuilt(), 120_000);

describe("two runs on one --out", () => {
  it("a cron line firing while the last run still trains (both --resume): the second exits 5 and changes nothing", async () => {
    const cwd = await corpusFolder("overlap-cron");
    const first = spawnCharnn([...RUN, "--steps", "100000", "--checkpoint-every", "20", "--resume", "--out", "run"], { cwd });
    await first.line((line) => eventOfType("checkpoint")(line));
    const second = await charnn([...RUN, "--steps", "100000", "--checkpoint-every", "20", "--resume", "--out", "run"], { cwd });
    expectLocked(second, first.child.pid);
    // The refused run trained nothing and saved nothing.
    expect(second.stdout).not.toMatch(/"type":"(start|step|checkpoint)"/);
    first.child.kill("SIGINT");
    const ended = await first.done;
    expect(ended.code).toBe(ExitCode.sigint);
    const end = JSON.parse(ended.stdout.trimEnd().split("\n").at(-1)!);
    expect((await loadCheckpointFile(join(cwd, "run", "latest.json"))).step).toBe(end.step);
    expect(existsSync(join(cwd, "run", ".lock"))).toBe(false);
  });

  it("two new runs, without --resume: the second exits 5 whether or not the first has saved yet", async () => {
    const cwd = await corpusFolder("overlap-new");
    const first = spawnCharnn([...RUN, "--steps", "100000", "--checkpoint-every", "0", "--eval-every", "0", "--out", "run"], { cwd });
    await first.line(eventOfType("step"));
    expect(existsSync(join(cwd, "run", "latest.json"))).toBe(false);
    expectLocked(await charnn([...RUN, "--steps", "5", "--out", "run"], { cwd }), first.child.pid, "before a save");
    first.child.kill("SIGTERM");
    expect((await first.done).code).toBe(ExitCode.sigterm);

    // Once latest.json is there, a live run is still the story to tell (not "already holds a run").
    const again = spawnCharnn([...RUN, "--steps", "100000", "--checkpoint-every", "10", "--resume", "--out", "run"], { cwd });
    await again.line(eventOfType("checkpoint"));
    expectLocked(await charnn([...RUN, "--steps", "5", "--out", "run"], { cwd }), again.child.pid, "after a save");
    again.child.kill("SIGTERM");
    expect((await again.done).code).toBe(ExitCode.sigterm);
    // With no run alive, the same command says the folder holds a run and how to go on.
    const idle = await charnn([...RUN, "--steps", "5", "--out", "run"], { cwd });
    expect(expectOneLineError(idle, ExitCode.usage)).toBe("run already holds a run (latest.json)");
  });

  it("four runs started at the same instant: exactly one trains, three exit 5", async () => {
    const cwd = await corpusFolder("overlap-four");
    const runs = Array.from({ length: 4 }, () => spawnCharnn([...RUN, "--steps", "100000", "--checkpoint-every", "50", "--resume", "--out", "run"], { cwd }));
    // The winner is the one that starts training; the others give up on their own.
    const winner = await Promise.any(runs.map((run) => run.line(eventOfType("step")).then(() => run)));
    const losers = runs.filter((run) => run !== winner);
    for (const loser of losers) expectLocked(await loser.done, winner.child.pid);
    winner.child.kill("SIGINT");
    expect((await winner.done).code).toBe(ExitCode.sigint);
    expect((await loadCheckpointFile(join(cwd, "run", "latest.json"))).step).toBeGreaterThan(0);
  });
});

describe("stale locks", () => {
  it("a run killed with SIGKILL leaves its lock; the next run takes it over and resumes exactly", async () => {
    const cwd = await corpusFolder("overlap-stale");
    const args = [...RUN, "--steps", "300", "--checkpoint-every", "10"];
    const whole = charnn([...args, "--out", "whole"], { cwd });
    const killed = spawnCharnn([...args, "--resume", "--out", "run"], { cwd });
    await killed.line((line) => eventOfType("checkpoint")(line) && (JSON.parse(line) as { step: number }).step >= 50);
    killed.child.kill("SIGKILL");
    await killed.done;
    const lock = JSON.parse(await readFile(join(cwd, "run", ".lock"), "utf8")) as { pid: number };
    expect(lock.pid).toBe(killed.child.pid);
    expect(processIsAlive(lock.pid)).toBe(false);

    const next = await charnn([...args, "--resume", "--out", "run"], { cwd });
    expect(next.code, next.stderr).toBe(0);
    expect(existsSync(join(cwd, "run", ".lock"))).toBe(false);
    expect((await whole).code).toBe(0);
    expect(await trainingStateOf(join(cwd, "run", "latest.json"))).toEqual(await trainingStateOf(join(cwd, "whole", "latest.json")));
  });

  it("a lock file left empty by a run killed while writing it is taken over once it is old", async () => {
    const cwd = await corpusFolder("overlap-empty-lock");
    expect((await charnn([...RUN, "--steps", "5", "--out", "run"], { cwd })).code).toBe(0);
    await writeFile(join(cwd, "run", ".lock"), "");
    const old = new Date(Date.now() - 60_000);
    await utimes(join(cwd, "run", ".lock"), old, old);
    const next = await charnn([...RUN, "--steps", "10", "--resume", "--out", "run"], { cwd });
    expect(next.code, next.stderr).toBe(0);
    expect((await loadCheckpointFile(join(cwd, "run", "latest.json"))).step).toBe(10);
  });

  it("two runs racing to take over the same stale lock: one trains, the other exits 5", async () => {
    const cwd = await corpusFolder("overlap-race");
    expect((await charnn([...RUN, "--steps", "5", "--out", "run"], { cwd })).code).toBe(0);
    // A pid above Linux's largest (2^22): no process has it, so the lock is stale.
    const deadPid = 2 ** 22 + 12345;
    expect(processIsAlive(deadPid)).toBe(false);
    await writeFile(join(cwd, "run", ".lock"), JSON.stringify({ pid: deadPid, hostname: hostname(), startedAt: "2024-01-01T00:00:00.000Z", nonce: "dead" }) + "\n");
    const runs = [0, 1].map(() => spawnCharnn([...RUN, "--steps", "100000", "--resume", "--out", "run"], { cwd }));
    const winner = await Promise.any(runs.map((run) => run.line(eventOfType("step")).then(() => run)));
    const loser = runs.find((run) => run !== winner)!;
    expectLocked(await loser.done, winner.child.pid);
    winner.child.kill("SIGINT");
    expect((await winner.done).code).toBe(ExitCode.sigint);
  });
});

describe("readers while a run replaces its checkpoints", () => {
  it("sample, info and the loader always see a whole checkpoint, never a half-written one", async () => {
    const cwd = await corpusFolder("overlap-readers");
    const writer = spawnCharnn([...RUN, "--steps", "100000", "--checkpoint-every", "1", "--keep", "1", "--out", "run"], { cwd });
    await writer.line(eventOfType("checkpoint"));
    let loads = 0;
    const steps = new Set<number>();
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      const state = await loadCheckpointFile(join(cwd, "run", "latest.json"));
      steps.add(state.step);
      loads++;
    }
    const readers = await Promise.all([
      charnn(["sample", "-c", "run/latest.json", "--length", "20", "--seed", "1"], { cwd }),
      charnn(["info", "run/latest.json"], { cwd }),
    ]);
    writer.child.kill("SIGINT");
    expect((await writer.done).code).toBe(ExitCode.sigint);
    for (const reader of readers) expect(reader.code, reader.stderr).toBe(0);
    expect(loads).toBeGreaterThan(20);
    // The file was being replaced all along: the loads saw many different steps.
    expect(steps.size).toBeGreaterThan(5);
  });
});
