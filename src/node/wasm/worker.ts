// A kernel worker: instantiates the kernel module over the shared memory and runs its part of
// every threaded call the main thread posts, until told to stop. Runs as built JavaScript
// (dist/node/wasm/worker.js): workers cannot load TypeScript. Prints nothing; a failed call is
// reported through the control block.

import { workerData } from "node:worker_threads";
import { ARGS_BYTE_OFFSET, CONTROL_INTS, ERROR_BYTE_OFFSET, ERROR_BYTES, MAX_ARGS, SPIN_MS, Slot, THREADED_KERNELS, type WorkerData } from "../../core/wasm/protocol.js";

const { module, memory, control, part, parts } = workerData as WorkerData;
const instance = new WebAssembly.Instance(module, { env: { memory } });
const exported = instance.exports as Record<string, (...args: number[]) => unknown>;
const kernels = THREADED_KERNELS.map((name) => exported[name]!);
const slots = new Int32Array(control, 0, CONTROL_INTS);
const args = new Float64Array(control, ARGS_BYTE_OFFSET, MAX_ARGS);
const errorBytes = new Uint8Array(control, ERROR_BYTE_OFFSET, ERROR_BYTES);
const callArgs: number[] = [];

// Read the call counter before saying ready: the main thread posts the first call only once every
// worker is ready, so reading it afterwards could see that call's number and miss the call.
let seen = Atomics.load(slots, Slot.sequence);
Atomics.add(slots, Slot.ready, 1);
Atomics.notify(slots, Slot.ready);
for (;;) {
  // Spin for a while (a call in the same step comes within microseconds), then park.
  let spins = 0, since = 0;
  while (Atomics.load(slots, Slot.sequence) === seen) {
    if (++spins % 1024 === 0) {
      const now = performance.now();
      if (since === 0) since = now;
      else if (now - since > SPIN_MS) Atomics.wait(slots, Slot.sequence, seen);
    }
  }
  seen = Atomics.load(slots, Slot.sequence);
  if (Atomics.load(slots, Slot.stop) !== 0) break;
  const count = slots[Slot.argCount]!;
  callArgs.length = count + 2;
  for (let i = 0; i < count; i++) callArgs[i] = args[i]!;
  callArgs[count] = part;
  callArgs[count + 1] = parts;
  try {
    kernels[slots[Slot.kernel]!]!(...callArgs);
  } catch (error) {
    const message = new TextEncoder().encode(`worker ${part}: ${String(error)}`).subarray(0, ERROR_BYTES);
    errorBytes.fill(0);
    errorBytes.set(message);
    Atomics.store(slots, Slot.failed, 1);
  }
  Atomics.add(slots, Slot.done, 1);
  Atomics.notify(slots, Slot.done);
}
