// The hand-off between the main thread and the kernel workers: one small shared control block,
// read and written with Atomics on both sides. Shared by src/node/wasm/threads.ts (main) and
// worker.ts, so the two can never disagree on a slot, and by kernels.ts here for the names of
// the kernels that split. Portable (no Node), though only Node starts workers. Not here: what the
// kernels compute.

/** Kernels that run split across threads, each call given (…args, part, parts). */
export const THREADED_KERNELS = [
  "simdPeak", "clockProbe", "readStream", "gemm", "pack", "oneHotProject", "oneHotAccumulate", "sumRows", "softmaxCrossEntropy",
  "lstmSequenceForward", "lstmSequenceBackward", "gruSequenceForward", "gruSequenceBackward",
  "rnnSequenceForward", "rnnSequenceBackward", "step", "adamStep", "decoderForward", "decoderBackward",
] as const;
export type ThreadedKernel = (typeof THREADED_KERNELS)[number];

/** Int32 slots of the control block. */
export const Slot = {
  /** Bumped by the main thread for every call; workers wait for it to change. */
  sequence: 0,
  /** Workers that finished the current call. */
  done: 1,
  /** Index into THREADED_KERNELS of the current call. */
  kernel: 2,
  /** How many arguments the current call has (before part, parts). */
  argCount: 3,
  /** Workers that have instantiated the module and are listening. */
  ready: 4,
  /** Set to 1 to make every worker return. */
  stop: 5,
  /** Set by a worker whose call threw; the message is in the error bytes. */
  failed: 6,
} as const;

export const CONTROL_INTS = 8;
export const MAX_ARGS = 24;
export const ARGS_BYTE_OFFSET = CONTROL_INTS * 4;
export const ERROR_BYTE_OFFSET = ARGS_BYTE_OFFSET + MAX_ARGS * 8;
export const ERROR_BYTES = 512;
export const CONTROL_BYTES = ERROR_BYTE_OFFSET + ERROR_BYTES;

/**
 * How long an idle worker spins before it parks in Atomics.wait. A hand-off costs 1–2 µs when the
 * other side spins and about 55 µs through Atomics.wait (shared/peers/RESULTS.md), while a
 * training step's calls come tens of microseconds apart: spin through a step, park between steps.
 */
export const SPIN_MS = 2;

/**
 * How long the main thread spins for the workers to finish a call before it sleeps. The parts of
 * a call are about equal, so a worker is normally done within microseconds of the main thread;
 * one that is not has usually lost its core to another process, and spinning on would only keep
 * that process off the other core.
 */
export const MAIN_SPIN_MS = 0.2;

/** What the main thread hands each worker at start. */
export interface WorkerData {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  part: number;
  parts: number;
}
