// The crash-safe checkpoint store: atomic replacement of files (temp file, fsync, rename, fsync
// of the folder), numbered checkpoints with rotation beside latest.json and best.json, loading,
// and the run lock that keeps two runs out of one folder. Not the format (format.ts), and never
// a printer: it returns values and throws CharnnErrors. Faults can be injected (AtomicFs,
// CHARNN_FAULT, CHARNN_HOLD_WRITE_MS) so tests can show a failure at any step loses nothing.

import { randomBytes } from "node:crypto";
import { constants as osConstants, hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import * as fsPromises from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { CharnnError, ExitCode, badInput } from "../core/errors.js";
import { decodeCheckpoint, encodeCheckpoint } from "../core/checkpoint/format.js";
import type { CheckpointState, DecodeOptions } from "../core/checkpoint/format.js";

// ---------------------------------------------------------------------------------------------
// The file operations an atomic write makes, replaceable so tests can fail any one of them.

export interface AtomicFs {
  open(path: string, flags: "wx" | "r"): Promise<FileHandle>;
  write(file: FileHandle, text: string): Promise<void>;
  fsync(file: FileHandle): Promise<void>;
  close(file: FileHandle): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
}

export type AtomicFsOperation = keyof AtomicFs;

const OPERATIONS: readonly AtomicFsOperation[] = ["open", "write", "fsync", "close", "rename", "unlink"];

export const nodeAtomicFs: AtomicFs = {
  open: (path, flags) => fsPromises.open(path, flags),
  write: async (file, text) => {
    await file.writeFile(text, "utf8");
  },
  fsync: (file) => file.sync(),
  close: (file) => file.close(),
  rename: (from, to) => fsPromises.rename(from, to),
  unlink: (path) => fsPromises.unlink(path),
};

/** Fail `operation` with errno `code`: on its `onCall`-th call (1-based), or on every call. */
export interface InjectedFault {
  operation: AtomicFsOperation;
  code: string;
  onCall?: number;
}

/** An error shaped like the ones node:fs throws, for a known errno name such as "ENOSPC". */
export function errnoError(code: string, syscall: string, path?: string): NodeJS.ErrnoException {
  const errno = (osConstants.errno as Record<string, number | undefined>)[code];
  const error: NodeJS.ErrnoException = new Error(
    `${code}: ${ERRNO_WORDS[code] ?? "injected fault"}, ${syscall}${path ? ` '${path}'` : ""}`,
  );
  error.code = code;
  error.syscall = syscall;
  if (errno !== undefined) error.errno = -errno;
  if (path !== undefined) error.path = path;
  return error;
}

/** `base` with the given faults injected; calls are counted per operation from this call on. */
export function withFaults(base: AtomicFs, faults: readonly InjectedFault[]): AtomicFs {
  const calls = new Map<AtomicFsOperation, number>();
  const faultFor = (operation: AtomicFsOperation): InjectedFault | undefined => {
    const call = (calls.get(operation) ?? 0) + 1;
    calls.set(operation, call);
    return faults.find((fault) => fault.operation === operation && (fault.onCall === undefined || fault.onCall === call));
  };
  return {
    open: async (path, flags) => {
      const fault = faultFor("open");
      if (fault) throw errnoError(fault.code, "open", path);
      return base.open(path, flags);
    },
    write: async (file, text) => {
      const fault = faultFor("write");
      // A full disk usually strikes part way: leave half the text behind, as a real one would.
      if (fault) {
        await base.write(file, text.slice(0, Math.floor(text.length / 2)));
        throw errnoError(fault.code, "write");
      }
      return base.write(file, text);
    },
    fsync: async (file) => {
      const fault = faultFor("fsync");
      if (fault) throw errnoError(fault.code, "fsync");
      return base.fsync(file);
    },
    close: async (file) => {
      const fault = faultFor("close");
      // Close for real first, so the injected failure does not also leak a descriptor.
      await base.close(file);
      if (fault) throw errnoError(fault.code, "close");
    },
    rename: async (from, to) => {
      const fault = faultFor("rename");
      if (fault) throw errnoError(fault.code, "rename", from);
      return base.rename(from, to);
    },
    unlink: async (path) => {
      const fault = faultFor("unlink");
      if (fault) throw errnoError(fault.code, "unlink", path);
      return base.unlink(path);
    },
  };
}

/**
 * Faults named in CHARNN_FAULT, a comma-separated list of `operation:CODE` (every call) or
 * `operation:CODE@N` (the N-th call only), e.g. `write:ENOSPC`, `rename:EACCES@2`. End-to-end
 * tests set it on a spawned charnn to provoke the failures chmod cannot (they run as root).
 */
export function faultsFromEnv(env: Record<string, string | undefined>): InjectedFault[] {
  const spec = env.CHARNN_FAULT?.trim();
  if (!spec) return [];
  return spec.split(",").map((item) => {
    const match = /^(\w+):(E[A-Z0-9]+)(?:@(\d+))?$/.exec(item.trim());
    const operation = match?.[1] as AtomicFsOperation | undefined;
    const code = match?.[2];
    if (!match || !operation || !OPERATIONS.includes(operation) || code === undefined || !(code in osConstants.errno)) {
      throw new CharnnError(
        `CHARNN_FAULT: cannot read "${item.trim()}"`,
        ExitCode.usage,
        `expected operation:ERRNO or operation:ERRNO@N, operation one of ${OPERATIONS.join(", ")}, e.g. write:ENOSPC`,
      );
    }
    const onCall = match[3] === undefined ? undefined : Number(match[3]);
    if (onCall === 0) {
      throw new CharnnError(`CHARNN_FAULT: "${item.trim()}" counts calls from 1`, ExitCode.usage);
    }
    return onCall === undefined ? { operation, code } : { operation, code, onCall };
  });
}

// The environment's faulty fs is built once per CHARNN_FAULT value, so `@N` counts calls over the
// whole process (several checkpoint saves), not within each write.
let environmentFs: { spec: string; fs: AtomicFs } | undefined;

function fsFromEnvironment(): AtomicFs {
  const spec = process.env.CHARNN_FAULT ?? "";
  if (spec.trim() === "") return nodeAtomicFs;
  if (environmentFs?.spec !== spec) environmentFs = { spec, fs: withFaults(nodeAtomicFs, faultsFromEnv(process.env)) };
  return environmentFs.fs;
}

/** CHARNN_HOLD_WRITE_MS: how long to wait between a complete temp file and the rename. */
function holdBeforeRenameMs(env: Record<string, string | undefined>): number {
  const text = env.CHARNN_HOLD_WRITE_MS?.trim();
  if (!text) return 0;
  if (!/^\d+$/.test(text)) {
    throw new CharnnError(`CHARNN_HOLD_WRITE_MS must be a whole number of milliseconds, not "${text}"`, ExitCode.usage);
  }
  return Number(text);
}

// ---------------------------------------------------------------------------------------------
// Atomic writes

/** Plain words for the errno codes a user can meet when saving. */
const ERRNO_WORDS: Record<string, string> = {
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EFBIG: "file too large",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOENT: "no such file or folder",
  ENOTDIR: "a part of the path is not a folder",
  EISDIR: "it is a folder",
  EEXIST: "it already exists",
  EIO: "input/output error",
  EMFILE: "too many open files",
  ENFILE: "too many open files on this system",
  ENAMETOOLONG: "file name too long",
  EBUSY: "the file is busy",
  EXDEV: "not on the same file system",
};

const ERRNO_HINTS: Record<string, string> = {
  ENOSPC: "free some disk space, keep fewer checkpoints, or use another --out",
  EDQUOT: "free some disk space, keep fewer checkpoints, or use another --out",
  EACCES: "check that you may write to that folder, or use another --out",
  EPERM: "check that you may write to that folder, or use another --out",
  EROFS: "use an --out folder on a writable disk",
};

/** "no space left on device (ENOSPC)", or the system's own words for a code not in the table. */
export function describeErrno(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof code === "string" && ERRNO_WORDS[code]) return `${ERRNO_WORDS[code]} (${code})`;
  const message = error instanceof Error ? error.message.split("\n")[0]! : String(error);
  return typeof code === "string" ? `${message} (${code})` : message;
}

const errnoHint = (error: unknown): string | undefined => ERRNO_HINTS[(error as NodeJS.ErrnoException | null)?.code ?? ""];

const errnoCode = (error: unknown): string | undefined => {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === "string" ? code : undefined;
};

/** Why `dir` cannot be made: a file in the way is said as such ("it already exists" would not). */
function folderError(dir: string, error: unknown): CharnnError {
  const code = errnoCode(error);
  if (code === "EEXIST" || code === "ENOTDIR") {
    return new CharnnError(`cannot use ${dir} as a checkpoint folder: it or a folder above it is a file`, ExitCode.failure, "pass a folder with --out");
  }
  return new CharnnError(`cannot create folder ${dir}: ${describeErrno(error)}`, ExitCode.failure, errnoHint(error));
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await fsPromises.stat(path);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The temp file beside `path`; the pid lets a later save tell a dead writer's leftovers. */
function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
}

const TEMPORARY_NAME = /^\..+\.(\d+)\.[0-9a-f]+\.tmp$/;

/**
 * Replace `path` by `text` so that a crash, a kill or a failure at any moment leaves either the
 * old file or the new one, never a mix: temp file in the same folder, fsync, rename over the
 * target, fsync the folder (so the rename itself survives a power loss).
 */
export async function writeFileAtomic(path: string, text: string, fsImpl?: AtomicFs): Promise<void> {
  const fs = fsImpl ?? fsFromEnvironment();
  const holdMs = holdBeforeRenameMs(process.env);
  const temporaryPath = temporaryPathFor(path);
  const targetExisted = await pathExists(path);
  let openFile: FileHandle | undefined;
  try {
    openFile = await fs.open(temporaryPath, "wx");
    await fs.write(openFile, text);
    await fs.fsync(openFile);
    const file = openFile;
    openFile = undefined;
    await fs.close(file);
    if (holdMs > 0) await sleep(holdMs);
    await fs.rename(temporaryPath, path);
  } catch (error) {
    if (openFile) await fs.close(openFile).catch(() => undefined);
    await fs.unlink(temporaryPath).catch(() => undefined);
    const outcome = targetExisted ? "the previous checkpoint is intact" : "no partial file was left behind";
    throw new CharnnError(`cannot write ${path}: ${describeErrno(error)}; ${outcome}`, ExitCode.writeFailed, errnoHint(error), {
      code: "checkpoint.write-failed",
      facts: { path, errno: errnoCode(error) },
    });
  }
  await syncFolder(dirname(path), path, fs);
}

// Codes with which a platform says it cannot open or fsync a folder at all (Windows, some
// network file systems); durability of the rename is then the file system's business.
const FOLDER_SYNC_UNSUPPORTED = new Set(["EISDIR", "EINVAL", "EPERM", "EACCES", "ENOTSUP", "EBADF", "ENOSYS"]);

async function syncFolder(folder: string, writtenPath: string, fs: AtomicFs): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await fs.open(folder, "r");
    await fs.fsync(handle);
  } catch (error) {
    if (!FOLDER_SYNC_UNSUPPORTED.has(errnoCode(error) ?? "")) {
      throw new CharnnError(
        `wrote ${writtenPath}, but could not flush its folder: ${describeErrno(error)}; it may not survive a power loss`,
        ExitCode.writeFailed,
        undefined,
        { code: "checkpoint.write-failed", facts: { path: writtenPath, errno: errnoCode(error) } },
      );
    }
  } finally {
    if (handle) await fs.close(handle).catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Saving and loading checkpoints

export interface SaveOptions {
  /** How many numbered ckpt-*.json to keep (newest first); 0 writes none and removes the rest. */
  keep: number;
  /** Also write best.json (the caller judged this the best validation loss so far). */
  isBest: boolean;
  fsImpl?: AtomicFs;
}

/** Paths written; `numbered` is "" when `keep` is 0. */
export interface SavedPaths {
  latest: string;
  numbered: string;
  best?: string;
}

const NUMBERED_NAME = /^ckpt-(\d{8,})\.json$/;

export const numberedCheckpointName = (step: number): string => `ckpt-${String(step).padStart(8, "0")}.json`;

/**
 * Save `state` in `dir` (created if missing): ckpt-<step>.json, then latest.json, then best.json
 * when `isBest`, all from one encoding; then rotate the numbered files. Each file is replaced
 * atomically, so a failure part way leaves every file either old or new.
 */
export async function saveCheckpoint(dir: string, state: CheckpointState, options: SaveOptions): Promise<SavedPaths> {
  if (!Number.isSafeInteger(options.keep) || options.keep < 0) {
    throw new CharnnError(`keep must be a whole number >= 0, not ${options.keep}`, ExitCode.usage);
  }
  const text = encodeCheckpoint(state);
  try {
    await fsPromises.mkdir(dir, { recursive: true });
  } catch (error) {
    throw folderError(dir, error);
  }
  await removeLeftoverTemporaryFiles(dir);
  const numberedName = numberedCheckpointName(state.step);
  const saved: SavedPaths = { latest: join(dir, "latest.json"), numbered: "" };
  if (options.keep > 0) {
    saved.numbered = join(dir, numberedName);
    await writeFileAtomic(saved.numbered, text, options.fsImpl);
  }
  await writeFileAtomic(saved.latest, text, options.fsImpl);
  if (options.isBest) {
    saved.best = join(dir, "best.json");
    await writeFileAtomic(saved.best, text, options.fsImpl);
  }
  await rotateNumbered(dir, options.keep, options.keep > 0 ? numberedName : undefined);
  return saved;
}

/** Delete numbered checkpoints beyond the newest `keep` by step, never the one just written. */
async function rotateNumbered(dir: string, keep: number, justWritten: string | undefined): Promise<void> {
  const numbered = (await fsPromises.readdir(dir))
    .map((name) => ({ name, step: NUMBERED_NAME.exec(name)?.[1] }))
    .filter((entry): entry is { name: string; step: string } => entry.step !== undefined && entry.name !== justWritten)
    .sort((a, b) => Number(b.step) - Number(a.step));
  const othersToKeep = Math.max(0, keep - (justWritten ? 1 : 0));
  for (const { name } of numbered.slice(othersToKeep)) {
    const path = join(dir, name);
    try {
      await fsPromises.unlink(path);
    } catch (error) {
      if (errnoCode(error) === "ENOENT") continue;
      throw new CharnnError(`saved the checkpoint, but cannot delete the old ${path}: ${describeErrno(error)}`, ExitCode.failure, errnoHint(error));
    }
  }
}

/** Temp files of writers that died (SIGKILL, power loss) before renaming; ours are never touched. */
async function removeLeftoverTemporaryFiles(dir: string): Promise<void> {
  for (const name of await fsPromises.readdir(dir)) {
    const pid = Number(TEMPORARY_NAME.exec(name)?.[1]);
    if (!Number.isSafeInteger(pid) || pid === process.pid || processIsAlive(pid)) continue;
    await fsPromises.unlink(join(dir, name)).catch(() => undefined);
  }
}

/** Read and decode the checkpoint at `path`; every failure is a one-line CharnnError. */
export async function loadCheckpoint(path: string, options: DecodeOptions = {}): Promise<CheckpointState> {
  let text: string;
  try {
    text = await fsPromises.readFile(path, "utf8");
  } catch (error) {
    const code = errnoCode(error);
    if (code === "ENOENT") throw badInput(`no checkpoint at ${path}`, "train one first: charnn train FILE");
    if (code === "EISDIR") {
      throw badInput(`${path} is a folder, not a checkpoint`, `pass a checkpoint file such as ${join(path, "latest.json")}`);
    }
    throw badInput(`cannot read ${path}: ${describeErrno(error)}`);
  }
  return decodeCheckpoint(text, path, options);
}

// ---------------------------------------------------------------------------------------------
// The run lock: dir/.lock, created with open(..., "wx") and holding {pid, hostname, startedAt}.
//
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

/** Whether `pid` names a running process on this host (EPERM: it runs, as another user). */
export function processIsAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) !== "ESRCH";
  }
}

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
