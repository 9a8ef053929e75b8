// Atomic replacement of a file: temp file in the same folder, write, fsync, rename over the
// target, fsync of the folder, so a crash, a kill or a failure at any moment leaves the old file
// or the new one, never a mix. The file operations come through AtomicFs, so a test can pass one
// that fails or stalls at any step; shipped code always uses nodeAtomicFs. Not the checkpoint
// rotation (save.ts) and not the format.

import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import * as fsPromises from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { CharnnError, ExitCode } from "../../core/errors.js";
import { processIsAlive } from "./alive.js";
import { describeErrno, errnoCode, errnoHint } from "./errors.js";

/** The file operations an atomic write makes. */
export interface AtomicFs {
  open(path: string, flags: "wx" | "r"): Promise<FileHandle>;
  write(file: FileHandle, text: string): Promise<void>;
  fsync(file: FileHandle): Promise<void>;
  close(file: FileHandle): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
}

export type AtomicFsOperation = keyof AtomicFs;

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

async function pathExists(path: string): Promise<boolean> {
  try {
    await fsPromises.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The temp file beside `path`; the pid lets a later save tell a dead writer's leftovers. */
function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
}

export const TEMPORARY_NAME = /^\..+\.(\d+)\.[0-9a-f]+\.tmp$/;

/**
 * Replace `path` by `text` so that a crash, a kill or a failure at any moment leaves either the
 * old file or the new one, never a mix: temp file in the same folder, fsync, rename over the
 * target, fsync the folder (so the rename itself survives a power loss).
 */
export async function writeFileAtomic(path: string, text: string, fs: AtomicFs = nodeAtomicFs): Promise<void> {
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
      );
    }
  } finally {
    if (handle) await fs.close(handle).catch(() => undefined);
  }
}


/** Temp files of writers that died (SIGKILL, power loss) before renaming; ours are never touched. */
export async function removeLeftoverTemporaryFiles(dir: string): Promise<void> {
  for (const name of await fsPromises.readdir(dir)) {
    const pid = Number(TEMPORARY_NAME.exec(name)?.[1]);
    if (!Number.isSafeInteger(pid) || pid === process.pid || processIsAlive(pid)) continue;
    await fsPromises.unlink(join(dir, name)).catch(() => undefined);
  }
}

