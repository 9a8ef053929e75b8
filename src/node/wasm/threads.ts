// The worker threads of the wasm backend: parts 1..n−1 of every threaded kernel call run in
// workers over the shared memory while the main thread runs part 0, then waits for them.
// A call's parts write disjoint outputs, so the result does not depend on timing. Workers are
// unref'd (they never keep a process alive) and end on dispose(). Not here: which calls to split.

import { existsSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { CharnnError, ExitCode } from "../../core/errors.js";
import { builtFile } from "./module.js";
import {
  ARGS_BYTE_OFFSET, CONTROL_BYTES, CONTROL_INTS, ERROR_BYTE_OFFSET, ERROR_BYTES, MAIN_SPIN_MS, MAX_ARGS, Slot,
  THREADED_KERNELS, type ThreadedKernel, type WorkerData,
} from "../../core/wasm/protocol.js";

/** How long to wait for the workers to start before giving up. */
const START_TIMEOUT_MS = 15_000;
/**
 * After the workers were found late on most recent calls (another process has their core: on a
 * busy machine two spinning threads run far slower than one), this many calls run on the main
 * thread alone before splitting is tried again. Safe for results: every kernel gives the same
 * bits however it is split.
 */
const SOLO_CALLS = 1000;

export class ThreadPool {
  readonly parts: number;
  private readonly slots: Int32Array;
  private readonly args: Float64Array;
  private readonly errorBytes: Uint8Array;
  private readonly workers: Worker[] = [];
  private readonly kernelIndex = new Map<string, number>(THREADED_KERNELS.map((name, i) => [name, i]));
  private disposed = false;
  /** Running fraction of recent calls that found the workers late. */
  private lateness = 0;
  /** Calls left to run on the main thread alone (see SOLO_CALLS). */
  private soloCalls = 0;

  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory, parts: number) {
    this.parts = parts;
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    this.slots = new Int32Array(control, 0, CONTROL_INTS);
    this.args = new Float64Array(control, ARGS_BYTE_OFFSET, MAX_ARGS);
    this.errorBytes = new Uint8Array(control, ERROR_BYTE_OFFSET, ERROR_BYTES);
    const file = builtFile("worker.js");
    if (!existsSync(file)) {
      throw new CharnnError(`the kernel worker is not built (${file} is missing)`, ExitCode.failure, "run `npm run build`, or use one thread",
        { code: "backend.not-built", facts: { file, part: "worker" } });
    }
    for (let part = 1; part < parts; part++) {
      const data: WorkerData = { module, memory, control, part, parts };
      // No inherited node flags: `node --input-type=module -e …` would otherwise stop the worker
      // from loading its file (V8 flags set at run time are process-wide and still apply).
      const worker = new Worker(file, { workerData: data, execArgv: [] });
      worker.unref();
      this.workers.push(worker);
    }
    // The workers boot on their own threads; the first run() waits until every one listens, and
    // until then this thread may go on with work of its own (see `ready`).
    this.startDeadline = performance.now() + START_TIMEOUT_MS;
  }

  private readonly startDeadline: number;
  private started = false;

  /** Whether every worker is listening, so run() would not wait for one to start. */
  get ready(): boolean {
    this.started ||= Atomics.load(this.slots, Slot.ready) >= this.parts - 1;
    return this.started;
  }

  private awaitStart(): void {
    for (let ready = Atomics.load(this.slots, Slot.ready); ready < this.parts - 1; ready = Atomics.load(this.slots, Slot.ready)) {
      const left = this.startDeadline - performance.now();
      if (left <= 0) {
        this.dispose();
        throw new CharnnError(`the kernel worker threads did not start within ${START_TIMEOUT_MS / 1000} s`, ExitCode.failure, "use one thread",
          { code: "backend.threads-did-not-start", facts: { seconds: START_TIMEOUT_MS / 1000 } });
      }
      Atomics.wait(this.slots, Slot.ready, ready, Math.min(left, 50));
    }
    this.started = true;
  }

  /** Runs `kernel(...args, part, parts)` for every part, part 0 here, and returns when all are done. */
  run(kernel: ThreadedKernel, fn: (...args: number[]) => unknown, args: number[]): void {
    if (this.disposed) throw new Error("the kernel threads were disposed");
    if (!this.started) this.awaitStart();
    if (this.soloCalls > 0) {
      this.soloCalls--;
      fn(...args, 0, 1);
      return;
    }
    const slots = this.slots;
    for (let i = 0; i < args.length; i++) this.args[i] = args[i]!;
    slots[Slot.kernel] = this.kernelIndex.get(kernel)!;
    slots[Slot.argCount] = args.length;
    Atomics.store(slots, Slot.done, 0);
    Atomics.add(slots, Slot.sequence, 1);
    Atomics.notify(slots, Slot.sequence);
    let ownError: unknown = null;
    const started = performance.now();
    try {
      fn(...args, 0, this.parts);
    } catch (error) {
      ownError = error;
    }
    const ownDone = performance.now();
    this.waitForWorkers();
    this.noteLateness(ownDone - started, performance.now() - ownDone);
    if (ownError) throw ownError;
    if (Atomics.load(slots, Slot.failed) !== 0) {
      const message = new TextDecoder().decode(this.errorBytes.slice()).replace(/\0+$/, "");
      Atomics.store(slots, Slot.failed, 0);
      throw new Error(`a kernel worker failed: ${message}`);
    }
  }

  /**
   * The parts of a call are about equal, so workers that finish far later than the main thread
   * did not get a core. (Merely slower is normal at first: a worker's code starts in V8's
   * baseline tier and takes a while to be optimised, as the main thread's did.) When most recent
   * calls found workers that late, run alone for a while.
   */
  private noteLateness(ownMs: number, waitedMs: number): void {
    const late = waitedMs > 2 * ownMs + 0.1;
    this.lateness = 0.9 * this.lateness + (late ? 0.1 : 0);
    if (this.lateness > 0.5) {
      this.lateness = 0;
      this.soloCalls = SOLO_CALLS;
    }
  }

  private waitForWorkers(): void {
    const slots = this.slots, target = this.parts - 1;
    let spins = 0, since = 0;
    for (let done = Atomics.load(slots, Slot.done); done < target; done = Atomics.load(slots, Slot.done)) {
      if (++spins % 256 !== 0) continue;
      const now = performance.now();
      if (since === 0) since = now;
      else if (now - since > MAIN_SPIN_MS) Atomics.wait(slots, Slot.done, done, 100);
    }
  }

  /** Stops and ends every worker; the pool cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    Atomics.store(this.slots, Slot.stop, 1);
    Atomics.add(this.slots, Slot.sequence, 1);
    Atomics.notify(this.slots, Slot.sequence);
    for (const worker of this.workers) void worker.terminate();
  }
}
