// Test support: file systems for the checkpoint store that fail or stall on purpose. withFaults
// fails chosen operations with a real-looking errno error; withHeldRename waits between a
// complete temp file and its rename (a window for SIGKILL); checkpointFsFromEnv builds either
// from CHARNN_FAULT and CHARNN_HOLD_WRITE_MS for a spawned test binary. Never shipped: charnn
// itself always writes through nodeAtomicFs.

import { constants as osConstants } from "node:os";
import { CharnnError, ExitCode } from "../../src/core/errors.js";
import { nodeAtomicFs, type AtomicFs, type AtomicFsOperation } from "../../src/node/store/atomic.js";
import { ERRNO_WORDS } from "../../src/node/store/errors.js";

const OPERATIONS: readonly AtomicFsOperation[] = ["open", "write", "fsync", "close", "rename", "unlink"];

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
 * Faults written as a comma-separated list of `operation:CODE` (every call) or `operation:CODE@N`
 * (the N-th call only), e.g. `write:ENOSPC`, `rename:EACCES@2`: how tests name them, in code and
 * (as CHARNN_FAULT) for a spawned charnn, to provoke the failures chmod cannot (tests run as root).
 */
export function parseFaults(specText: string | undefined): InjectedFault[] {
  const spec = specText?.trim();
  if (!spec) return [];
  return spec.split(",").map((item) => {
    const match = /^(\w+):(E[A-Z0-9]+)(?:@(\d+))?$/.exec(item.trim());
    const operation = match?.[1] as AtomicFsOperation | undefined;
    const code = match?.[2];
    if (!match || !operation || !OPERATIONS.includes(operation) || code === undefined || !(code in osConstants.errno)) {
      throw new CharnnError(
        `faults: cannot read "${item.trim()}"`,
        ExitCode.usage,
        `expected operation:ERRNO or operation:ERRNO@N, operation one of ${OPERATIONS.join(", ")}, e.g. write:ENOSPC`,
      );
    }
    const onCall = match[3] === undefined ? undefined : Number(match[3]);
    if (onCall === 0) {
      throw new CharnnError(`faults: "${item.trim()}" counts calls from 1`, ExitCode.usage);
    }
    return onCall === undefined ? { operation, code } : { operation, code, onCall };
  });
}


/** `base`, waiting `ms` between a complete, closed temp file and the rename over the target. */
export function withHeldRename(base: AtomicFs, ms: number): AtomicFs {
  return { ...base, rename: async (from, to) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return base.rename(from, to);
  } };
}

/**
 * The file system a spawned test charnn saves through: CHARNN_FAULT (see parseFaults) and
 * CHARNN_HOLD_WRITE_MS (milliseconds to hold before each rename) over the real one. Built once
 * per process, so `@N` counts calls over every save of the run.
 */
export function checkpointFsFromEnv(env: Record<string, string | undefined>): AtomicFs {
  let fs = nodeAtomicFs;
  const hold = env.CHARNN_HOLD_WRITE_MS?.trim();
  if (hold) {
    if (!/^\d+$/.test(hold)) throw new Error(`CHARNN_HOLD_WRITE_MS must be a whole number of milliseconds, not "${hold}"`);
    fs = withHeldRename(fs, Number(hold));
  }
  const faults = parseFaults(env.CHARNN_FAULT);
  return faults.length > 0 ? withFaults(fs, faults) : fs;
}
