// The store's words for file-system failures: errno codes in plain words with a hint for the
// ones a user can fix, and the message for a checkpoint folder that cannot be made. Shared by
// the atomic write, the save, the load and the lock; not a place for anything else.

import { CharnnError, ExitCode } from "../../core/errors.js";

/** Plain words for the errno codes a user can meet when saving. */
export const ERRNO_WORDS: Record<string, string> = {
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

export const errnoHint = (error: unknown): string | undefined => ERRNO_HINTS[(error as NodeJS.ErrnoException | null)?.code ?? ""];

export const errnoCode = (error: unknown): string | undefined => {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === "string" ? code : undefined;
};

/** Why `dir` cannot be made: a file in the way is said as such ("it already exists" would not). */
export function folderError(dir: string, error: unknown): CharnnError {
  const code = errnoCode(error);
  if (code === "EEXIST" || code === "ENOTDIR") {
    return new CharnnError(`cannot use ${dir} as a checkpoint folder: it or a folder above it is a file`, ExitCode.failure, "pass a folder with --out");
  }
  return new CharnnError(`cannot create folder ${dir}: ${describeErrno(error)}`, ExitCode.failure, errnoHint(error));
}

