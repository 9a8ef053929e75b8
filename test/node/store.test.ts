// Tests of the checkpoint store: atomic writes under injected faults (in-process, through
// a test file system that fails or stalls on purpose, and SIGKILL inside a held write), saving with rotation and best.json, loading,
// and the run lock, including stale-lock takeover raced in-process and across processes.

import { spawn } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeCheckpoint } from "../../src/core/checkpoint/format.js";
import { decodeCheckpoint } from "../../src/core/checkpoint/load.js";
import {
  acquireLock,
  describeErrno,
  loadCheckpointFile,
  nodeAtomicFs,
  processIsAlive,
  saveCheckpoint,
  writeFileAtomic,
  type AtomicFsOperation,
} from "../../src/node/store.js";
import { CharnnError, ExitCode } from "../../src/core/errors.js";
import { compileStoreForChildren, faultyFsUrlOf, finished, firstLine, spawnModule } from "./child-modules.js";
import { checkpointFsFromEnv, errnoError, parseFaults, withFaults, withHeldRename } from "../helpers/faulty-fs.js";
import { expectSameState, makeState, resealed } from "../core/checkpoint/state-fixture.js";

const folders: string[] = [];
async function freshFolder(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), "charnn-store-test-"));
  folders.push(folder);
  return folder;
}
afterAll(async () => {
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

async function rejection(promise: Promise<unknown>): Promise<CharnnError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CharnnError);
    return error as CharnnError;
  }
  throw new Error("expected a CharnnError, but the promise resolved");
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, limitMs = 10_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(5);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The pid of a node process that has exited (and been reaped), so no process has it now. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""]);
  await new Promise((resolve) => child.on("exit", resolve));
  expect(processIsAlive(child.pid!)).toBe(false);
  return child.pid!;
}

const staleLockText = (pid: number): string =>
  `${JSON.stringify({ pid, hostname: hostname(), startedAt: "2024-01-01T00:00:00.000Z", nonce: "0badc0de" })}\n`;

describe("writeFileAtomic", () => {
  it("replaces the file and leaves nothing else behind", async () => {
    const folder = await freshFolder();
    const target = join(folder, "latest.json");
    await writeFileAtomic(target, "old");
    await writeFileAtomic(target, "new ✓");
    expect(await readFile(target, "utf8")).toBe("new ✓");
    expect(await readdir(folder)).toEqual(["latest.json"]);
  });

  const cases: Array<[AtomicFsOperation, string, string]> = [
    ["open", "EROFS", "read-only file system (EROFS)"],
    ["write", "ENOSPC", "no space left on device (ENOSPC)"],
    ["fsync", "EIO", "input/output error (EIO)"],
    ["close", "EDQUOT", "disk quota exceeded (EDQUOT)"],
    ["rename", "EACCES", "permission denied (EACCES)"],
  ];
  for (const [operation, code, words] of cases) {
    it(`keeps the old file and removes the temp file when ${operation} fails with ${code}`, async () => {
      const folder = await freshFolder();
      const target = join(folder, "latest.json");
      await writeFileAtomic(target, "the previous checkpoint");
      const faulty = withFaults(nodeAtomicFs, [{ operation, code }]);
      const error = await rejection(writeFileAtomic(target, "x".repeat(100_000), faulty));
      // A checkpoint that cannot be written has its own exit code.
      expect(error.exitCode).toBe(ExitCode.writeFailed);
      expect(error.message).toBe(`cannot write ${target}: ${words}; the previous checkpoint is intact`);
      expect(await readFile(target, "utf8")).toBe("the previous checkpoint");
      expect(await readdir(folder)).toEqual(["latest.json"]);
    });
  }

  it("says no partial file was left when there was no previous one", async () => {
    const folder = await freshFolder();
    const target = join(folder, "latest.json");
    const faulty = withFaults(nodeAtomicFs, [{ operation: "write", code: "ENOSPC" }]);
    const error = await rejection(writeFileAtomic(target, "text", faulty));
    expect(error.message).toBe(`cannot write ${target}: no space left on device (ENOSPC); no partial file was left behind`);
    expect(error.hint).toMatch(/free some disk space/);
    expect(await readdir(folder)).toEqual([]);
  });

  it("puts EACCES, EPERM and EROFS in plain words, with a hint", async () => {
    const words: Record<string, string> = {
      EACCES: "permission denied (EACCES)",
      EPERM: "operation not permitted (EPERM)",
      EROFS: "read-only file system (EROFS)",
    };
    for (const [code, expected] of Object.entries(words)) {
      const folder = await freshFolder();
      const error = await rejection(
        writeFileAtomic(join(folder, "a.json"), "text", withFaults(nodeAtomicFs, [{ operation: "open", code }])),
      );
      expect(error.message).toContain(`: ${expected};`);
      expect(error.hint).toMatch(/--out/);
    }
    expect(describeErrno(errnoError("ENOSPC", "write"))).toBe("no space left on device (ENOSPC)");
  });

  it("fails a write whose folder cannot be flushed, without claiming the old file is intact", async () => {
    const folder = await freshFolder();
    const target = join(folder, "latest.json");
    // The second fsync is the folder's: the file itself is written and renamed by then.
    const error = await rejection(
      writeFileAtomic(target, "new", withFaults(nodeAtomicFs, [{ operation: "fsync", code: "EIO", onCall: 2 }])),
    );
    expect(error.message).toBe(
      `wrote ${target}, but could not flush its folder: input/output error (EIO); it may not survive a power loss`,
    );
    expect(await readFile(target, "utf8")).toBe("new");
  });

  it("accepts a file system that cannot fsync folders", async () => {
    const folder = await freshFolder();
    const target = join(folder, "latest.json");
    await writeFileAtomic(target, "new", withFaults(nodeAtomicFs, [{ operation: "fsync", code: "EINVAL", onCall: 2 }]));
    expect(await readFile(target, "utf8")).toBe("new");
  });
});

describe("the test file systems (injected; charnn itself never reads the environment for them)", () => {
  it("reads a fault list", () => {
    expect(parseFaults(undefined)).toEqual([]);
    expect(parseFaults("write:ENOSPC")).toEqual([{ operation: "write", code: "ENOSPC" }]);
    expect(parseFaults("rename:EACCES@2, open:EROFS")).toEqual([
      { operation: "rename", code: "EACCES", onCall: 2 },
      { operation: "open", code: "EROFS" },
    ]);
    for (const bad of ["frobnicate:ENOSPC", "write:ENOTANERRNO", "write", "write:ENOSPC@0"]) {
      let thrown: unknown;
      try {
        parseFaults(bad);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, bad).toBeInstanceOf(CharnnError);
      expect((thrown as CharnnError).exitCode).toBe(ExitCode.usage);
    }
  });

  it("builds one from CHARNN_FAULT for a spawned test binary, counting calls across writes", async () => {
    const folder = await freshFolder();
    const target = join(folder, "latest.json");
    const fs = checkpointFsFromEnv({ CHARNN_FAULT: "rename:EACCES@2" });
    await writeFileAtomic(target, "first", fs);
    const error = await rejection(writeFileAtomic(target, "second", fs));
    expect(error.message).toBe(`cannot write ${target}: permission denied (EACCES); the previous checkpoint is intact`);
    await writeFileAtomic(target, "third", fs);
    expect(await readFile(target, "utf8")).toBe("third");
  });

  it("holds a complete temp file before the rename (withHeldRename)", async () => {
    const folder = await freshFolder();
    const target = join(folder, "latest.json");
    await writeFileAtomic(target, "old");
    const started = Date.now();
    const writing = writeFileAtomic(target, "new text", withHeldRename(nodeAtomicFs, 400));
    const temporary = await waitFor(async () => {
      const name = (await readdir(folder)).find((entry) => entry.endsWith(".tmp"));
      if (name && (await readFile(join(folder, name), "utf8")) === "new text") return name;
      return undefined;
    }, "the complete temp file");
    expect(temporary).toMatch(new RegExp(`^\\.latest\\.json\\.${process.pid}\\.[0-9a-f]+\\.tmp$`));
    expect(await readFile(target, "utf8")).toBe("old");
    await writing;
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    expect(await readFile(target, "utf8")).toBe("new text");
    expect(await readdir(folder)).toEqual(["latest.json"]);
  });
});

describe("saveCheckpoint and loadCheckpointFile", () => {
  const stateAt = (step: number) => ({ ...makeState(), step });

  it("writes the numbered file, latest.json and best.json from one encoding", async () => {
    const dir = join(await freshFolder(), "nested", "checkpoints");
    const paths = await saveCheckpoint(dir, stateAt(1234), { keep: 3, isBest: true });
    expect(paths).toEqual({
      numbered: join(dir, "ckpt-00001234.json"),
      latest: join(dir, "latest.json"),
      best: join(dir, "best.json"),
    });
    const texts = await Promise.all([paths.numbered, paths.latest, paths.best!].map((path) => readFile(path, "utf8")));
    expect(texts[0]).toBe(encodeCheckpoint(stateAt(1234)));
    expect(texts[1]).toBe(texts[0]);
    expect(texts[2]).toBe(texts[0]);
    expectSameState(await loadCheckpointFile(paths.latest), stateAt(1234));
    expect((await readdir(dir)).sort()).toEqual(["best.json", "ckpt-00001234.json", "latest.json"]);
  });

  it("leaves best.json alone unless the state is the best", async () => {
    const dir = await freshFolder();
    await saveCheckpoint(dir, stateAt(10), { keep: 2, isBest: true });
    const paths = await saveCheckpoint(dir, stateAt(20), { keep: 2, isBest: false });
    expect(paths.best).toBeUndefined();
    expect((await loadCheckpointFile(join(dir, "best.json"))).step).toBe(10);
    expect((await loadCheckpointFile(join(dir, "latest.json"))).step).toBe(20);
  });

  it("keeps only the newest `keep` numbered files", async () => {
    const dir = await freshFolder();
    for (const step of [100, 200, 300, 400, 500]) await saveCheckpoint(dir, stateAt(step), { keep: 3, isBest: false });
    expect((await readdir(dir)).sort()).toEqual([
      "ckpt-00000300.json",
      "ckpt-00000400.json",
      "ckpt-00000500.json",
      "latest.json",
    ]);
  });

  it("orders numbered files by step, not by name length, and never deletes the one just written", async () => {
    const dir = await freshFolder();
    for (const step of [99_999_999, 100_000_000]) await saveCheckpoint(dir, stateAt(step), { keep: 2, isBest: false });
    // A run resumed from an older checkpoint writes a lower step than the files already there.
    await saveCheckpoint(dir, stateAt(5), { keep: 2, isBest: false });
    expect((await readdir(dir)).sort()).toEqual(["ckpt-00000005.json", "ckpt-100000000.json", "latest.json"]);
  });

  it("writes no numbered files with keep 0 and removes old ones", async () => {
    const dir = await freshFolder();
    await saveCheckpoint(dir, stateAt(1), { keep: 2, isBest: false });
    const paths = await saveCheckpoint(dir, stateAt(2), { keep: 0, isBest: false });
    expect(paths.numbered).toBe("");
    expect(await readdir(dir)).toEqual(["latest.json"]);
  });

  it("keeps the previous latest.json when writing it fails", async () => {
    const dir = await freshFolder();
    await saveCheckpoint(dir, stateAt(1), { keep: 2, isBest: false });
    // The second write is latest.json's (the first is the numbered file's).
    const fsImpl = withFaults(nodeAtomicFs, [{ operation: "write", code: "ENOSPC", onCall: 2 }]);
    const error = await rejection(saveCheckpoint(dir, stateAt(2), { keep: 2, isBest: false, fsImpl }));
    expect(error.message).toBe(
      `cannot write ${join(dir, "latest.json")}: no space left on device (ENOSPC); the previous checkpoint is intact`,
    );
    expect((await loadCheckpointFile(join(dir, "latest.json"))).step).toBe(1);
    expect((await readdir(dir)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("rejects a negative keep as a usage error", async () => {
    const error = await rejection(saveCheckpoint(await freshFolder(), stateAt(1), { keep: -1, isBest: false }));
    expect(error.exitCode).toBe(ExitCode.usage);
  });

  it("says there is no checkpoint, with a hint, when the file is missing", async () => {
    // A fresh folder: checkpoints/latest.json exists once the README's first command has run.
    const missing = join(await freshFolder(), "latest.json");
    const error = await rejection(loadCheckpointFile(missing));
    expect(error.exitCode).toBe(ExitCode.badInput);
    expect(error.message).toBe(`no checkpoint at ${missing}`);
    expect(error.hint).toBe("train one first: charnn train FILE");
  });

  it("says a folder is not a checkpoint", async () => {
    const dir = await freshFolder();
    const error = await rejection(loadCheckpointFile(dir));
    expect(error.exitCode).toBe(ExitCode.badInput);
    expect(error.message).toBe(`${dir} is a folder, not a checkpoint`);
  });

  it("names the file when it is damaged, or when its weights do not fit its settings", async () => {
    const dir = await freshFolder();
    const path = join(dir, "latest.json");
    await writeFile(path, encodeCheckpoint(stateAt(7)).slice(0, 500));
    const truncated = await rejection(loadCheckpointFile(path));
    expect(truncated.exitCode).toBe(ExitCode.badInput);
    expect(truncated.message).toMatch(new RegExp(`^${path.replace(/[.]/g, "\\.")}: not a charnn checkpoint .*may be truncated\\)$`));
    await writeFile(path, encodeCheckpoint(stateAt(7)));
    expect((await loadCheckpointFile(path)).step).toBe(7);
    await writeFile(path, resealed(encodeCheckpoint(stateAt(7)), (document) => (document.config.hidden = 5)));
    const mismatch = await rejection(loadCheckpointFile(path));
    expect(mismatch.message).toMatch(/weight_ih_l0 has shape \[16,\d+\], expected \[20,\d+\]/);
  });
});

describe("acquireLock", () => {
  it("writes pid, hostname and start time, refuses a second run, and releases", async () => {
    const dir = join(await freshFolder(), "checkpoints");
    const release = await acquireLock(dir);
    const record = JSON.parse(await readFile(join(dir, ".lock"), "utf8"));
    expect(record.pid).toBe(process.pid);
    expect(record.hostname).toBe(hostname());
    expect(Date.now() - Date.parse(record.startedAt)).toBeLessThan(60_000);

    const error = await rejection(acquireLock(dir));
    expect(error.exitCode).toBe(ExitCode.locked);
    expect(error.message).toBe(`another charnn run (pid ${process.pid}) is using ${dir}/`);
    expect(error.hint).toBe("wait for it to finish, or use another --out");

    await release();
    await expect(stat(join(dir, ".lock"))).rejects.toThrow();
    const again = await acquireLock(dir);
    await again();
  });

  it("refuses while another live process holds the lock", async () => {
    const dir = await freshFolder();
    const sleeper = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    try {
      await writeFile(join(dir, ".lock"), staleLockText(sleeper.pid!));
      const error = await rejection(acquireLock(dir));
      expect(error.exitCode).toBe(ExitCode.locked);
      expect(error.message).toBe(`another charnn run (pid ${sleeper.pid}) is using ${dir}/`);
    } finally {
      sleeper.kill("SIGKILL");
    }
  });

  it("refuses a lock held from another host, naming it", async () => {
    const dir = await freshFolder();
    await writeFile(join(dir, ".lock"), JSON.stringify({ pid: 1, hostname: "elsewhere.example", startedAt: "x" }));
    const error = await rejection(acquireLock(dir));
    expect(error.exitCode).toBe(ExitCode.locked);
    expect(error.message).toBe(`another charnn run (pid 1 on elsewhere.example) is using ${dir}/`);
  });

  it("waits for a lock file that is still being written instead of taking it", async () => {
    const dir = await freshFolder();
    const sleeper = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    try {
      await writeFile(join(dir, ".lock"), "");
      setTimeout(() => void writeFile(join(dir, ".lock"), staleLockText(sleeper.pid!)), 150);
      const error = await rejection(acquireLock(dir));
      expect(error.message).toBe(`another charnn run (pid ${sleeper.pid}) is using ${dir}/`);
    } finally {
      sleeper.kill("SIGKILL");
    }
  });

  it("takes over the lock of a dead process, and release removes it", async () => {
    const dir = await freshFolder();
    const pid = await deadPid();
    await writeFile(join(dir, ".lock"), staleLockText(pid));
    const release = await acquireLock(dir);
    expect(JSON.parse(await readFile(join(dir, ".lock"), "utf8")).pid).toBe(process.pid);
    await release();
    expect(await readdir(dir)).toEqual([]);
  });

  it("takes over an old unreadable lock, and a lock with this pid left by an earlier process", async () => {
    const dir = await freshFolder();
    await writeFile(join(dir, ".lock"), "{garbage");
    const minuteAgo = new Date(Date.now() - 60_000);
    await utimes(join(dir, ".lock"), minuteAgo, minuteAgo);
    await (await acquireLock(dir))();

    // Containers restart with the same small pids: our pid in a lock we never took is stale.
    await writeFile(join(dir, ".lock"), staleLockText(process.pid));
    await (await acquireLock(dir))();
    expect(await readdir(dir)).toEqual([]);
  });

  it("clears a takeover lock abandoned by a run that died during a takeover", async () => {
    const dir = await freshFolder();
    await writeFile(join(dir, ".lock"), staleLockText(await deadPid()));
    await writeFile(join(dir, ".lock.takeover"), "{}");
    const minuteAgo = new Date(Date.now() - 60_000);
    await utimes(join(dir, ".lock.takeover"), minuteAgo, minuteAgo);
    await (await acquireLock(dir))();
    expect(await readdir(dir)).toEqual([]);
  });

  it("release leaves a lock that is no longer ours", async () => {
    const dir = await freshFolder();
    const release = await acquireLock(dir);
    const someoneElse = staleLockText(12345);
    await writeFile(join(dir, ".lock"), someoneElse);
    await release();
    expect(await readFile(join(dir, ".lock"), "utf8")).toBe(someoneElse);
  });

  it("lets exactly one of several in-process acquires win over a stale lock", async () => {
    const dir = await freshFolder();
    await writeFile(join(dir, ".lock"), staleLockText(await deadPid()));
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => acquireLock(dir)));
    const winners = results.filter((result) => result.status === "fulfilled");
    const losers = results.filter((result): result is PromiseRejectedResult => result.status === "rejected");
    expect(winners).toHaveLength(1);
    expect(losers.map((loser) => (loser.reason as CharnnError).exitCode)).toEqual(Array(7).fill(ExitCode.locked));
    await (winners[0] as PromiseFulfilledResult<() => Promise<void>>).value();
  });
});

describe("in separate processes", () => {
  let storeUrl: string;
  beforeAll(async () => {
    storeUrl = await compileStoreForChildren();
  });

  it("lets exactly one of several processes win over a stale lock", async () => {
    const racer = `
      import { acquireLock } from ${JSON.stringify(storeUrl)};
      const [dir, goAt] = process.argv.slice(1);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(goAt) - Date.now())));
      try {
        const release = await acquireLock(dir);
        process.stdout.write("won\\n");
        process.stdin.on("data", () => {});
        process.stdin.on("end", async () => { await release(); process.exit(0); });
      } catch (error) {
        process.stdout.write("lost " + error.exitCode + " " + error.message + "\\n");
        process.exit(0);
      }`;
    for (let round = 0; round < 2; round++) {
      const dir = await freshFolder();
      await writeFile(join(dir, ".lock"), staleLockText(await deadPid()));
      const goAt = String(Date.now() + 1500);
      const children = Array.from({ length: 5 }, () => spawnModule(racer, [dir, goAt]));
      const endings = children.map((child) => finished(child));
      const lines = await Promise.all(children.map((child) => firstLine(child)));
      const winners = children.filter((_, index) => lines[index] === "won");
      expect(winners, lines.join(" | ")).toHaveLength(1);
      for (const line of lines.filter((text) => text !== "won")) {
        expect(line).toBe(`lost ${ExitCode.locked} another charnn run (pid ${winners[0]!.pid}) is using ${dir}/`);
      }
      for (const child of children) child.stdin!.end();
      await Promise.all(endings);
      expect(await readdir(dir)).toEqual([]);
    }
  });

  it("survives SIGKILL inside a held write: latest.json stays the previous checkpoint", async () => {
    const dir = await freshFolder();
    const previous = makeState();
    await saveCheckpoint(dir, previous, { keep: 3, isBest: false });
    const previousText = await readFile(join(dir, "latest.json"), "utf8");
    const saver = `
      import { join } from "node:path";
      import { loadCheckpointFile, saveCheckpoint } from ${JSON.stringify(storeUrl)};
      import { checkpointFsFromEnv } from ${JSON.stringify(faultyFsUrlOf(storeUrl))};
      const [dir] = process.argv.slice(1);
      const state = await loadCheckpointFile(join(dir, "latest.json"));
      await saveCheckpoint(dir, { ...state, step: 99 }, { keep: 3, isBest: false, fsImpl: checkpointFsFromEnv(process.env) });`;
    const child = spawnModule(saver, [dir], { CHARNN_HOLD_WRITE_MS: "300" });
    const ending = finished(child);
    // The numbered file comes first; kill once latest.json's temp file is complete and held.
    const fullSize = Buffer.byteLength(encodeCheckpoint({ ...previous, step: 99 }));
    const temporary = await waitFor(async () => {
      for (const name of await readdir(dir)) {
        if (name.startsWith(`.latest.json.${child.pid}.`) && (await stat(join(dir, name))).size === fullSize) return name;
      }
      return undefined;
    }, "latest.json's temp file");
    child.kill("SIGKILL");
    expect((await ending).signal).toBe("SIGKILL");

    expect(await readFile(join(dir, "latest.json"), "utf8")).toBe(previousText);
    expectSameState(decodeCheckpoint(previousText, "latest.json"), previous);
    expect((await loadCheckpointFile(join(dir, "ckpt-00000099.json"))).step).toBe(99);
    expect(await readdir(dir)).toContain(temporary);

    // The next save clears the dead writer's leftover.
    await saveCheckpoint(dir, { ...previous, step: 100 }, { keep: 3, isBest: false });
    expect((await readdir(dir)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("fails as told in a spawned process that injects the faulty file system", async () => {
    const dir = await freshFolder();
    await saveCheckpoint(dir, makeState(), { keep: 3, isBest: false });
    const saver = `
      import { join } from "node:path";
      import { loadCheckpointFile, saveCheckpoint } from ${JSON.stringify(storeUrl)};
      import { checkpointFsFromEnv } from ${JSON.stringify(faultyFsUrlOf(storeUrl))};
      const [dir] = process.argv.slice(1);
      const state = await loadCheckpointFile(join(dir, "latest.json"));
      try {
        await saveCheckpoint(dir, { ...state, step: 99 }, { keep: 3, isBest: false, fsImpl: checkpointFsFromEnv(process.env) });
        process.stdout.write("saved\\n");
      } catch (error) {
        process.stdout.write(JSON.stringify({ message: error.message, exitCode: error.exitCode }) + "\\n");
      }`;
    const result = await finished(spawnModule(saver, [dir], { CHARNN_FAULT: "rename:EACCES@2" }));
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({
      message: `cannot write ${join(dir, "latest.json")}: permission denied (EACCES); the previous checkpoint is intact`,
      exitCode: ExitCode.writeFailed,
    });
    expect((await loadCheckpointFile(join(dir, "latest.json"))).step).toBe(42);
    expect((await loadCheckpointFile(join(dir, "ckpt-00000099.json"))).step).toBe(99);
  });
});
