// The crash-safe checkpoint store, one job per file under store/: atomic writes (atomic.ts),
// saving with rotation of numbered, latest and best checkpoints (save.ts), reading a checkpoint
// file (load.ts) and the run lock (lock.ts). This file is only their front door.

export { nodeAtomicFs, writeFileAtomic, type AtomicFs, type AtomicFsOperation } from "./store/atomic.js";
export { describeErrno } from "./store/errors.js";
export { processIsAlive } from "./store/alive.js";
export { numberedCheckpointName, saveCheckpoint, type SaveOptions, type SavedPaths } from "./store/save.js";
export { loadCheckpointFile } from "./store/load.js";
export { acquireLock } from "./store/lock.js";
