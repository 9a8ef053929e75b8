// The run lock: dir/.lock, created with open(..., "wx") and holding {pid, hostname, startedAt},
// so two runs never write into one folder; a dead run's lock is taken over safely. Not the
// atomic write or the save.

import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { join } from "node:path";
import * as fsPromises from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { CharnnError, ExitCode } from "../../core/errors.js";
import { processIsAlive } from "./alive.js";
import { describeErrno, errnoCode, errnoHint, folderError } from "./errors.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// Taking over a stale lock is the subtle part: "see it is stale, then delete it" is two steps,
// and two runs that both saw the same stale lock could otherwise each delete what the other just
// created. So only the holder of a second, short-lived lock (.lock.takeover, also made with
// "wx") may delete, and it deletes only if the lock's text is still exactly the stale text it
// judged. Every run then goes back to the single atomic "wx" create, which exactly one wins.

interface LockRecord {
  pid: number;
  hostname: string;
  startedAt: string;
  nonce: string;
}

/** Nonces of the locks this process holds: its own pid in a lock is only "alive" if listed here. */
const locksHeldHere = new Set<string>();

/** A lock file that is not valid JSON is being written right now, or is a dead run's leftover. */
const UNREADABLE_LOCK_STALE_MS = 3_000;
/** A takeover lock lives for milliseconds; one this old belongs to a run that died mid-takeover. */
const TAKEOVER_ABANDONED_MS = 10_000;
/** How long to keep retrying while other runs are mid-takeover before giving up. */
const LOCK_CONTENTION_LIMIT_MS = 15_000;

const folderForMessages = (dir: string): string => (dir.endsWith("/") || dir.endsWith("\\") ? dir : `${dir}/`);

type LockState =
  | { kind: "absent" }
  | { kind: "held"; record: LockRecord }
  | { kind: "heldElsewhere"; record: LockRecord }
  | { kind: "beingWritten" }
  | { kind: "stale"; text: string };

async function inspectLock(lockPath: string): Promise<LockState> {
  let text: string;
  let ageMs: number;
  try {
    text = await fsPromises.readFile(lockPath, "utf8");
    ageMs = Date.now() - (await fsPromises.stat(lockPath)).mtimeMs;
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return { kind: "absent" };
    throw new CharnnError(`cannot read ${lockPath}: ${describeErrno(error)}`, ExitCode.failure, errnoHint(error));
  }
  const record = parseLockRecord(text);
  if (record === null) return ageMs < UNREADABLE_LOCK_STALE_MS ? { kind: "beingWritten" } : { kind: "stale", text };
  if (record.hostname !== hostname()) return { kind: "heldElsewhere", record };
  const alive = record.pid === process.pid ? locksHeldHere.has(record.nonce) : processIsAlive(record.pid);
  return alive ? { kind: "held", record } : { kind: "stale", text };
}

function parseLockRecord(text: string): LockRecord | null {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null) return null;
    const { pid, hostname: host, startedAt, nonce } = value as Record<string, unknown>;
    if (!Number.isSafeInteger(pid) || typeof host !== "string") return null;
    return {
      pid: pid as number,
      hostname: host,
      startedAt: typeof startedAt === "string" ? startedAt : "",
      nonce: typeof nonce === "string" ? nonce : "",
    };
  } catch {
    return null;
  }
}

/** Create `path` with `text` only if it does not exist; false if it does. */
async function createExclusive(path: string, text: string): Promise<boolean> {
  let file: FileHandle;
  try {
    file = await fsPromises.open(path, "wx");
  } catch (error) {
    if (errnoCode(error) === "EEXIST") return false;
    throw new CharnnError(`cannot create ${path}: ${describeErrno(error)}`, ExitCode.failure, errnoHint(error));
  }
  try {
    await file.writeFile(text, "utf8");
  } catch (error) {
    await file.close().catch(() => undefined);
    await fsPromises.unlink(path).catch(() => undefined);
    throw new CharnnError(`cannot write ${path}: ${describeErrno(error)}`, ExitCode.failure, errnoHint(error));
  }
  await file.close();
  return true;
}

/** Delete the lock if it still holds exactly `staleText`, under the takeover lock. */
async function removeStaleLock(lockPath: string, staleText: string): Promise<void> {
  const takeoverPath = `${lockPath}.takeover`;
  const takeoverText = JSON.stringify({ pid: process.pid, hostname: hostname(), nonce: randomBytes(8).toString("hex") });
  if (!(await createExclusive(takeoverPath, takeoverText))) {
    // Another run is taking over right now; unless it died doing so, let it finish. (Removing an
    // abandoned takeover lock is itself unguarded, but needs a run to have died within the
    // milliseconds of a takeover and others to race for the same folder ten seconds later.)
    try {
      const ageMs = Date.now() - (await fsPromises.stat(takeoverPath)).mtimeMs;
      if (ageMs > TAKEOVER_ABANDONED_MS) await fsPromises.unlink(takeoverPath);
      else await sleep(5 + Math.random() * 20);
    } catch {
      // Gone already: the other run finished its takeover.
    }
    return;
  }
  try {
    const current = await fsPromises.readFile(lockPath, "utf8").catch(() => null);
    if (current === staleText) await fsPromises.unlink(lockPath).catch(() => undefined);
  } finally {
    await fsPromises.unlink(takeoverPath).catch(() => undefined);
  }
}

/**
 * Take the run lock of `dir` (created if missing). Throws CharnnError (ExitCode.locked) while a
 * live run holds it; takes over the lock of a dead run. Resolves to the release function, which
 * removes the lock only if it is still this run's.
 */
export async function acquireLock(dir: string): Promise<() => Promise<void>> {
  try {
    await fsPromises.mkdir(dir, { recursive: true });
  } catch (error) {
    throw folderError(dir, error);
  }
  const lockPath = join(dir, ".lock");
  const record: LockRecord = {
    pid: process.pid,
    hostname: hostname(),
    startedAt: new Date().toISOString(),
    nonce: randomBytes(8).toString("hex"),
  };
  const lockText = `${JSON.stringify(record)}\n`;
  const deadline = Date.now() + LOCK_CONTENTION_LIMIT_MS;
  while (Date.now() < deadline) {
    if (await createExclusive(lockPath, lockText)) {
      locksHeldHere.add(record.nonce);
      return () => releaseLock(lockPath, lockText, record.nonce);
    }
    const holder = await inspectLock(lockPath);
    switch (holder.kind) {
      case "held":
        throw new CharnnError(
          `another charnn run (pid ${holder.record.pid}) is using ${folderForMessages(dir)}`,
          ExitCode.locked,
          "wait for it to finish, or use another --out",
        );
      case "heldElsewhere":
        throw new CharnnError(
          `another charnn run (pid ${holder.record.pid} on ${holder.record.hostname}) is using ${folderForMessages(dir)}`,
          ExitCode.locked,
          `wait for it to finish, or use another --out; if that run is gone, delete ${lockPath}`,
        );
      case "beingWritten":
        await sleep(20);
        break;
      case "stale":
        await removeStaleLock(lockPath, holder.text);
        break;
      case "absent":
        break;
    }
  }
  throw new CharnnError(
    `could not take the lock of ${folderForMessages(dir)}: other runs kept it busy`,
    ExitCode.locked,
    "try again, or use another --out",
  );
}

async function releaseLock(lockPath: string, lockText: string, nonce: string): Promise<void> {
  locksHeldHere.delete(nonce);
  let current: string;
  try {
    current = await fsPromises.readFile(lockPath, "utf8");
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return;
    throw new CharnnError(`cannot read ${lockPath}: ${describeErrno(error)}`, ExitCode.failure);
  }
  if (current !== lockText) return;
  try {
    await fsPromises.unlink(lockPath);
  } catch (error) {
    if (errnoCode(error) !== "ENOENT") {
      throw new CharnnError(`cannot remove ${lockPath}: ${describeErrno(error)}`, ExitCode.failure, errnoHint(error));
    }
  }
}
