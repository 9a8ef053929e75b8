// The WebAssembly SIMD kernel set: the Kernels interface over a compiled kernel module, one shared
// WebAssembly.Memory per kernel set from which its arenas and token buffers are cut, and the
// decision of which calls are split across threads. Portable: the host compiles the module from
// bytes it found and, for more than one thread, starts the threads (Node: node-kernels.ts and
// threads.ts in src/node/wasm/). float32 only (the float64 gradient checks use the TypeScript
// kernels). Not here: the kernels' arithmetic (assembly/kernels.ts), the worker hand-off.

import { CharnnError, ExitCode } from "../errors.js";
import { Arena, type DType, type FloatArray } from "../tensor/arena.js";
import type { AdamRule, Kernels, StepModel, Stepper } from "../tensor/kernels.js";
import { VARIANT_BACKEND, wasmSimdSupported, type KernelExports, type KernelVariant } from "./module.js";
import type { ThreadedKernel } from "./protocol.js";

const PAGE_BYTES = 65536;
/** 4 GiB, all a 32-bit memory can address; pages are only committed as arenas grow into them. */
const MAX_PAGES = 65536;
/** Address 0 is never handed out: the kernels read a null pointer as "no such matrix". */
const FIRST_ADDRESS = 1024;
/**
 * Products below this many multiply-adds (about 10 µs of work) are not worth a hand-off between
 * threads: 1–2 µs when both spin, much more when a worker has to be woken or has lost its core.
 */
const MIN_THREADED_MACS = 1 << 18;
/**
 * A matrix-vector product (one row, batch-1 sampling) is split only from this many weights up
 * (1 MiB): below it the whole product takes a few microseconds, no more than the hand-off.
 */
const MIN_THREADED_GEMV = 1 << 18;
/**
 * A batch-1 step is split between threads only from this many bytes of weights per step up.
 * Each core then streams half of them, for a hand-off and a meeting after every layer. On the
 * 2-core AMD EPYC of the README's tables, C2's LSTM 2x128 (0.8 MB) steps 1.3-1.6x as fast split
 * (best of 5: 86K -> 128K chars/s) and an LSTM 1x128 (0.3 MB) about 1.1x, so the line sits
 * between them; on an Intel machine before, 0.8 MB measured no faster split.
 */
const MIN_THREADED_STEP_BYTES = 1 << 19;
/** Steps a stepper that would split takes alone before it starts the threads (see stepper()). */
const STEPS_BEFORE_THREADS = 256;

/** Worker threads that run parts 1..n−1 of a split call while this thread runs part 0 (Node: threads.ts). */
export interface KernelThreads {
  /** Runs `kernel(...args, part, parts)` for every part, part 0 on this thread, and returns when all are done. */
  run(kernel: ThreadedKernel, fn: (...args: number[]) => unknown, args: number[]): void;
  /** Whether the threads have started and run() would not wait for them to. */
  readonly ready: boolean;
  dispose(): void;
}

/** Starts `parts` − 1 threads on the same module and memory. */
export type StartThreads = (module: WebAssembly.Module, memory: WebAssembly.Memory, parts: number) => KernelThreads;

export interface WasmKernels extends Kernels {
  /** The memory every arena of this kernel set lives in. */
  readonly memory: WebAssembly.Memory;
  /** Whether the worker threads have been started (at the first call worth splitting). */
  readonly threadsStarted: boolean;
  /** Whether they have started and listen: a split call would not wait for them to boot. */
  readonly threadsReady: boolean;
}

const flag = (b: boolean): number => (b ? 1 : 0);

class WasmBackend implements WasmKernels {
  readonly name: string;
  readonly threads: number;
  readonly memory: WebAssembly.Memory;
  private readonly x: KernelExports;
  private readonly module: WebAssembly.Module;
  private readonly startThreads: StartThreads | null;
  /** Started at the first call worth splitting, so a run that never needs threads never starts them. */
  private pool: KernelThreads | null = null;
  private disposed = false;
  private readonly scratch: number;
  /**
   * Every buffer object handed out over this memory. Growing it, and even instantiating a module
   * on it, gives a new object over the same bytes, so each is recorded as it is handed out.
   */
  private readonly ownBuffers = new Set<ArrayBufferLike>();
  private top = FIRST_ADDRESS;
  /** Foreign arrays copied in for the current call: their buffer and the address of the copy. */
  private staged: Array<{ buffer: ArrayBufferLike; address: number }> = [];
  private stagingBase = 0;
  private stagingBytes = 0;
  private stagingUsed = 0;
  /** (rows) float64 per-row losses of softmaxCrossEntropy. */
  private rowLossAddress = 0;
  private rowLossRows = 0;

  constructor(module: WebAssembly.Module, variant: KernelVariant, threads: number, startThreads: StartThreads | null) {
    // Checkpoints record the backend by name, and the two builds differ in the last bits.
    this.name = VARIANT_BACKEND[variant];
    this.memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.x = instance.exports as unknown as KernelExports;
    this.threads = threads;
    this.module = module;
    this.startThreads = startThreads;
    this.scratch = this.allocate(threads * this.x.scratchBytesPerPart());
  }

  get threadsStarted(): boolean {
    return this.pool !== null;
  }

  /** Whether the threads have started and listen (a call would not wait for them). */
  get threadsReady(): boolean {
    return this.pool?.ready ?? false;
  }

  /** The worker threads, started (without waiting for them to boot) when they are not there yet. */
  private threadPool(): KernelThreads {
    if (this.disposed) throw new Error("the kernel threads were disposed");
    this.pool ??= this.startThreads!(this.module, this.memory, this.threads);
    return this.pool;
  }

  dispose(): void {
    this.disposed = true;
    this.pool?.dispose();
  }

  /** Reserves `bytes` at a 64-byte aligned address (a cache line), growing the memory as needed. */
  private allocate(bytes: number): number {
    const address = Math.ceil(this.top / 64) * 64;
    const end = address + bytes;
    if (end > this.memory.buffer.byteLength) {
      const pages = Math.ceil((end - this.memory.buffer.byteLength) / PAGE_BYTES);
      try {
        this.memory.grow(pages);
      } catch {
        const mebibytes = Math.ceil(end / 2 ** 20);
        throw new CharnnError(`the wasm kernels could not grow their memory to ${mebibytes} MiB`, ExitCode.failure,
          "use a smaller batch size, sequence length or hidden size, or the js backend",
          { code: "memory.allocation-failed", facts: { mebibytes, backend: "wasm" } });
      }
    }
    this.top = end;
    return address;
  }

  /** The memory's current buffer object, recorded as ours. */
  private currentBuffer(): ArrayBuffer | SharedArrayBuffer {
    const buffer = this.memory.buffer;
    this.ownBuffers.add(buffer);
    return buffer;
  }

  newArena(dtype: DType, floats: number): Arena {
    if (dtype !== "float32") throw new Error("the wasm kernels work in float32 only; use the js kernels for float64");
    const base = this.allocate(floats * 4);
    return new Arena(dtype, floats, this.currentBuffer(), base);
  }

  newIndexBuffer(length: number): Int32Array {
    const address = this.allocate(length * 4);
    return new Int32Array(this.currentBuffer(), address, length);
  }

  /**
   * The address of element `offset` of an array. Arrays from this memory are used in place; any
   * other is copied in for the call (and copied back by unstage), whole buffer at a time, so
   * views that overlap in the caller overlap here too.
   */
  private address(array: FloatArray | Int32Array, offset: number): number {
    if (array.BYTES_PER_ELEMENT !== 4) {
      this.discardStaged();
      throw new Error("the wasm kernels work in float32 only; use the js kernels for float64");
    }
    if (this.ownBuffers.has(array.buffer)) return array.byteOffset + offset * 4;
    return this.stage(array.buffer) + array.byteOffset + offset * 4;
  }

  private stage(buffer: ArrayBufferLike): number {
    for (const s of this.staged) if (s.buffer === buffer) return s.address;
    const bytes = Math.ceil(buffer.byteLength / 64) * 64;
    if (this.stagingUsed + bytes > this.stagingBytes) {
      // A new, larger area; the old one is left as it is (copies already in it stay valid).
      this.stagingBytes = Math.max(2 * this.stagingBytes, bytes, 1 << 16);
      this.stagingBase = this.allocate(this.stagingBytes);
      this.stagingUsed = 0;
    }
    const address = this.stagingBase + this.stagingUsed;
    this.stagingUsed += bytes;
    new Uint8Array(this.memory.buffer, address, buffer.byteLength).set(new Uint8Array(buffer));
    this.staged.push({ buffer, address });
    return address;
  }

  /** After a failed call: forget the copies without writing them back. */
  private discardStaged(): void {
    this.staged = [];
    this.stagingUsed = 0;
  }

  private unstage(): void {
    if (this.staged.length === 0) return;
    for (const { buffer, address } of this.staged) {
      new Uint8Array(buffer).set(new Uint8Array(this.memory.buffer, address, buffer.byteLength));
    }
    this.staged = [];
    this.stagingUsed = 0;
  }

  /** Runs a splittable kernel on every thread, or here alone when `split` is false. */
  private run(kernel: ThreadedKernel, split: boolean, args: number[]): void {
    const fn = this.x[kernel]!;
    try {
      if (split && this.threads > 1) {
        this.threadPool().run(kernel, fn, args);
      } else {
        fn(...args, 0, 1);
      }
    } catch (error) {
      this.discardStaged();
      throw error;
    }
  }

  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number,
    A: FloatArray, aOff: number, lda: number, B: FloatArray, bOff: number, ldb: number,
    C: FloatArray, cOff: number, ldc: number, accumulate: boolean): void {
    const a = this.address(A, aOff), b = this.address(B, bOff), c = this.address(C, cOff);
    this.run("gemm", (M === 1 ? N * K >= MIN_THREADED_GEMV : M * N * K >= MIN_THREADED_MACS) && (N > 8 || M > N),
      [flag(transA), flag(transB), M, N, K, a, lda, b, ldb, c, ldc, flag(accumulate), this.scratch]);
    this.unstage();
  }

  pack(transB: boolean, K: number, N: number, B: FloatArray, bOff: number, ldb: number, packed: FloatArray): void {
    const b = this.address(B, bOff), p = this.address(packed, 0);
    this.run("pack", K * N >= MIN_THREADED_MACS, [flag(transB), K, N, b, ldb, p]);
    this.unstage();
  }

  oneHotProject(out: FloatArray, tokens: Int32Array, rows: number, W: FloatArray, bias: FloatArray, G: number, V: number): void {
    const args = [this.address(out, 0), this.address(tokens, 0), rows, this.address(W, 0), this.address(bias, 0), G, V];
    this.run("oneHotProject", rows * G >= MIN_THREADED_MACS, args);
    this.unstage();
  }

  oneHotAccumulate(dW: FloatArray, dOut: FloatArray, tokens: Int32Array, rows: number, G: number, V: number): void {
    const args = [this.address(dW, 0), this.address(dOut, 0), this.address(tokens, 0), rows, G, V];
    this.run("oneHotAccumulate", rows * G >= MIN_THREADED_MACS, args);
    this.unstage();
  }

  embedLookup(out: FloatArray, tokens: Int32Array, rows: number, E: FloatArray, width: number): void {
    this.x.embedLookup!(this.address(out, 0), this.address(tokens, 0), rows, this.address(E, 0), width);
    this.unstage();
  }

  embedAccumulate(dE: FloatArray, dOut: FloatArray, tokens: Int32Array, rows: number, width: number): void {
    this.x.embedAccumulate!(this.address(dE, 0), this.address(dOut, 0), this.address(tokens, 0), rows, width);
    this.unstage();
  }

  add(out: FloatArray, outOff: number, x: FloatArray, xOff: number, n: number): void {
    this.x.add!(this.address(out, outOff), this.address(x, xOff), n);
    this.unstage();
  }

  addBias(C: FloatArray, cOff: number, rows: number, cols: number, bias: FloatArray): void {
    this.x.addBias!(this.address(C, cOff), rows, cols, this.address(bias, 0));
    this.unstage();
  }

  sumRows(dBias: FloatArray, dC: FloatArray, rows: number, cols: number): void {
    const args = [this.address(dBias, 0), this.address(dC, 0), rows, cols];
    this.run("sumRows", rows * cols >= MIN_THREADED_MACS && cols >= 16, args);
    this.unstage();
  }

  adamStep(values: FloatArray, grads: FloatArray, m: FloatArray, v: FloatArray, n: number, rule: AdamRule): void {
    const args = [this.address(values, 0), this.address(grads, 0), this.address(m, 0), this.address(v, 0), n,
      rule.beta1, rule.oneMinusBeta1, rule.beta2, rule.oneMinusBeta2, rule.stepSize, rule.correction2, rule.eps, rule.decay, flag(rule.decayed)];
    // About 20 floating-point operations an element, two of them divisions and one a square root.
    this.run("adamStep", n * 16 >= MIN_THREADED_MACS, args);
    this.unstage();
  }

  multiply(out: FloatArray, x: FloatArray, mask: FloatArray, n: number): void {
    this.x.multiply!(this.address(out, 0), this.address(x, 0), this.address(mask, 0), n);
    this.unstage();
  }

  lstmForward(gates: FloatArray, gOff: number, cPrev: FloatArray, cpOff: number, c: FloatArray, cOff: number,
    tanhC: FloatArray, tOff: number, h: FloatArray, hOff: number, B: number, H: number): void {
    this.x.lstmForward!(this.address(gates, gOff), this.address(cPrev, cpOff), this.address(c, cOff),
      this.address(tanhC, tOff), this.address(h, hOff), B, H);
    this.unstage();
  }

  lstmBackward(gates: FloatArray, gOff: number, cPrev: FloatArray, cpOff: number, tanhC: FloatArray, tOff: number,
    dh: FloatArray, dc: FloatArray, dGates: FloatArray, dgOff: number, B: number, H: number): void {
    this.x.lstmBackward!(this.address(gates, gOff), this.address(cPrev, cpOff), this.address(tanhC, tOff),
      this.address(dh, 0), this.address(dc, 0), this.address(dGates, dgOff), B, H);
    this.unstage();
  }

  gruForward(xProj: FloatArray, xOff: number, hProj: FloatArray, hpOff: number, hPrev: FloatArray, hPrevOff: number,
    acts: FloatArray, aOff: number, h: FloatArray, hOff: number, B: number, H: number): void {
    this.x.gruForward!(this.address(xProj, xOff), this.address(hProj, hpOff), this.address(hPrev, hPrevOff),
      this.address(acts, aOff), this.address(h, hOff), B, H);
    this.unstage();
  }

  gruBackward(hProj: FloatArray, hpOff: number, hPrev: FloatArray, hPrevOff: number, acts: FloatArray, aOff: number,
    dh: FloatArray, dX: FloatArray, dxOff: number, dHh: FloatArray, dhhOff: number, B: number, H: number): void {
    this.x.gruBackward!(this.address(hProj, hpOff), this.address(hPrev, hPrevOff), this.address(acts, aOff),
      this.address(dh, 0), this.address(dX, dxOff), this.address(dHh, dhhOff), B, H);
    this.unstage();
  }

  rnnForward(pre: FloatArray, off: number, n: number, relu: boolean): void {
    this.x.rnnForward!(this.address(pre, off), n, flag(relu));
    this.unstage();
  }

  rnnBackward(h: FloatArray, hOff: number, dh: FloatArray, dPre: FloatArray, pOff: number, n: number, relu: boolean): void {
    this.x.rnnBackward!(this.address(h, hOff), this.address(dh, 0), this.address(dPre, pOff), n, flag(relu));
    this.unstage();
  }

  softmaxCrossEntropy(logits: FloatArray, targets: Int32Array, rows: number, V: number, dLogits: FloatArray, gradScale: number): number {
    const rowLoss = this.rowLossFor(rows);
    const args = [this.address(logits, 0), this.address(targets, 0), rows, V, this.address(dLogits, 0), gradScale, rowLoss];
    this.run("softmaxCrossEntropy", rows * V >= MIN_THREADED_MACS / 4, args);
    this.unstage();
    return this.rowLossSum(rows);
  }

  decoderForward(y: FloatArray, yOff: number, rows: number, H: number, W: FloatArray, bias: FloatArray, V: number,
    logits: FloatArray, targets: Int32Array | null, dLogits: FloatArray, gradScale: number): number {
    const rowLoss = targets ? this.rowLossFor(rows) : 0;
    const args = [rows, V, H, this.address(y, yOff), this.address(W, 0), this.address(bias, 0), this.address(logits, 0),
      targets ? this.address(targets, 0) : 0, targets ? this.address(dLogits, 0) : 0, gradScale, rowLoss, this.scratch];
    this.run("decoderForward", rows > 1 && rows * V * H >= MIN_THREADED_MACS, args);
    this.unstage();
    return targets ? this.rowLossSum(rows) : NaN;
  }

  decoderBackward(dLogits: FloatArray, rows: number, V: number, y: FloatArray, yOff: number, H: number, W: FloatArray,
    dW: FloatArray, dBias: FloatArray, dY: FloatArray): void {
    const args = [rows, V, H, this.address(dLogits, 0), this.address(y, yOff), this.address(W, 0), this.address(dW, 0),
      this.address(dBias, 0), this.address(dY, 0), this.scratch];
    this.run("decoderBackward", rows * V * H >= MIN_THREADED_MACS, args);
    this.unstage();
  }

  /** The address of `rows` float64 per-row losses, grown as needed. */
  private rowLossFor(rows: number): number {
    if (rows > this.rowLossRows) {
      this.rowLossAddress = this.allocate(rows * 8);
      this.rowLossRows = rows;
    }
    return this.rowLossAddress;
  }

  /** The per-row losses summed here in row order, so the loss does not depend on how the rows were split. */
  private rowLossSum(rows: number): number {
    const losses = new Float64Array(this.memory.buffer, this.rowLossAddress, rows);
    let total = 0;
    for (let r = 0; r < rows; r++) total += losses[r]!;
    return total;
  }

  /**
   * Batch-1 steps over weights this kernel set lays out once (assembly/kernels.ts, "Batch-1
   * steps"): one call per token for every layer and the decoder, on this thread alone unless the
   * weights are big enough for the threads to be worth meeting after every layer.
   */
  stepper(model: StepModel): Stepper {
    const L = model.layers.length, H = model.hidden, V = model.vocabSize, E = model.embed;
    const gates = model.cell === "lstm" ? 4 : model.cell === "gru" ? 3 : 1;
    const G = gates * H;
    const x = this.x;
    const floats = (n: number): number => this.allocate(Math.max(1, n) * 4);
    const plan = this.allocate(x.stepPlanBytes!(L) as number);
    const header = (): Int32Array => new Int32Array(this.currentBuffer(), plan, (x.stepPlanBytes!(L) as number) / 4);
    const stateH = floats(L * H), stateC = model.cell === "lstm" ? floats(L * H) : 0;
    const layers = model.layers.map((_, l) => {
      const inputs = l > 0 ? H : E; // 0: one-hot, a table lookup instead of a product
      return {
        inputs,
        packed: floats(G * (inputs + H)),
        table: l === 0 && E === 0 ? floats(V * G) : 0,
        bIh: floats(G), bHh: floats(G),
        hNew: floats(H), sumsX: floats(G), sumsH: floats(G), tanhC: floats(H),
      };
    });
    const embedding = E > 0 ? floats(V * E) : 0;
    const decoder = floats(V * H), decoderBias = floats(V), logits = floats(V);
    const fields = header();
    fields.set([model.cell === "lstm" ? 0 : model.cell === "gru" ? 1 : 2, model.relu ? 1 : 0, L, H, V, E, 0, decoder, decoderBias, logits, embedding]);
    layers.forEach((layer, l) => {
      fields.set([layer.packed, layer.table, layer.bIh, layer.bHh, stateH + l * H * 4, stateC === 0 ? 0 : stateC + l * H * 4,
        layer.hNew, layer.sumsX, layer.sumsH, layer.tanhC], 16 + l * 16);
    });
    const buffer = this.currentBuffer();
    const view = (address: number, n: number): Float32Array => new Float32Array(buffer, address, n);
    const copyIn = (to: number, from: FloatArray, n: number): void => {
      if (from.length !== n) throw new Error(`stepper: expected ${n} weights, got ${from.length}`);
      view(to, n).set(from);
    };

    const repack = (): void => {
      // Copies first, so the packing reads only this memory (the weights may live elsewhere).
      model.layers.forEach((weights, l) => {
        const layer = layers[l]!;
        copyIn(layer.bIh, weights.bIh, G);
        copyIn(layer.bHh, weights.bHh, G);
        const wIh = this.address(weights.wIh, 0), wHh = this.address(weights.wHh, 0);
        if (layer.table !== 0) {
          // The Elman and LSTM cells fold b_hh into the input term; the GRU keeps it for r ⊙ (W_hn h + b_hn).
          x.stepTable!(wIh, layer.bIh, model.cell === "gru" ? 0 : layer.bHh, G, V, layer.table);
        }
        x.stepPack!(wIh, layer.inputs, layer.inputs, wHh, H, H, G, layer.packed);
        this.unstage();
      });
      if (embedding !== 0) copyIn(embedding, model.embedding!, V * E);
      copyIn(decoderBias, model.decoderBias, V);
      x.stepPack!(0, 0, 0, this.address(model.decoderWeight, 0), H, H, V, decoder);
      this.unstage();
    };
    repack();

    const weightBytes = 4 * (layers.reduce((sum, layer) => sum + G * (layer.inputs + H), 0) + V * H);
    const split = this.threads > 1 && H % 4 === 0 && weightBytes >= MIN_THREADED_STEP_BYTES;
    const step = x.step!;
    const args = [plan, 0];
    let alone = 0;
    return {
      h: view(stateH, L * H),
      c: stateC === 0 ? null : view(stateC, L * H),
      logits: view(logits, V),
      repack,
      step: split
        ? (token: number) => {
          // Starting the threads takes 60-100 ms (C2: `charnn sample --length 1` 140 -> 220 ms when
          // it waited for them), more than a short sample takes alone: step alone until they are
          // up, and start them only after a few hundred steps (a few ms), which the shortest
          // samples never reach.
          if (this.pool === null && alone < STEPS_BEFORE_THREADS) {
            alone++;
            step(plan, token, 0, 1);
            return;
          }
          if (!this.threadPool().ready) {
            step(plan, token, 0, 1);
            return;
          }
          fields[6] = 0; // the barrier count (the workers read it only after the hand-off)
          args[1] = token;
          this.run("step", true, args);
        }
        : (token: number) => void step(plan, token, 0, 1),
    };
  }

  // The time loops split the batch: every thread runs all T steps for its own streams, when the
  // window's recurrent products are big enough to be worth a hand-off.

  private splitsTimeLoop(T: number, B: number, G: number, H: number): boolean {
    return B > 1 && T * B * G * H >= MIN_THREADED_MACS;
  }

  lstmSequenceForward(T: number, B: number, H: number, gates: FloatArray, hs: FloatArray, cs: FloatArray, tanhC: FloatArray,
    wHh: FloatArray, wHhT: FloatArray): void {
    const args = [T, B, H, this.address(gates, 0), this.address(hs, 0), this.address(cs, 0), this.address(tanhC, 0),
      this.address(wHh, 0), this.address(wHhT, 0), this.scratch];
    // Batch 1, one step (sampling) splits the hidden units when W_hh is big enough to be worth it.
    this.run("lstmSequenceForward", this.splitsTimeLoop(T, B, 4 * H, H) || (B === 1 && T === 1 && 4 * H * H >= MIN_THREADED_GEMV), args);
    this.unstage();
  }

  lstmSequenceBackward(T: number, B: number, H: number, gates: FloatArray, hs: FloatArray, cs: FloatArray, tanhC: FloatArray,
    dOut: FloatArray, dGates: FloatArray, dh: FloatArray, dc: FloatArray, wHh: FloatArray, wHhP: FloatArray): void {
    const args = [T, B, H, this.address(gates, 0), this.address(hs, 0), this.address(cs, 0), this.address(tanhC, 0),
      this.address(dOut, 0), this.address(dGates, 0), this.address(dh, 0), this.address(dc, 0),
      this.address(wHh, 0), this.address(wHhP, 0), this.scratch];
    this.run("lstmSequenceBackward", this.splitsTimeLoop(T, B, 4 * H, H), args);
    this.unstage();
  }

  gruSequenceForward(T: number, B: number, H: number, xProj: FloatArray, hProj: FloatArray, hs: FloatArray, bHh: FloatArray,
    wHh: FloatArray, wHhT: FloatArray): void {
    const args = [T, B, H, this.address(xProj, 0), this.address(hProj, 0), this.address(hs, 0), this.address(bHh, 0),
      this.address(wHh, 0), this.address(wHhT, 0), this.scratch];
    this.run("gruSequenceForward", this.splitsTimeLoop(T, B, 3 * H, H), args);
    this.unstage();
  }

  gruSequenceBackward(T: number, B: number, H: number, acts: FloatArray, hProj: FloatArray, hs: FloatArray,
    dOut: FloatArray, dGates: FloatArray, dHh: FloatArray, dh: FloatArray, wHh: FloatArray, wHhP: FloatArray): void {
    const args = [T, B, H, this.address(acts, 0), this.address(hProj, 0), this.address(hs, 0), this.address(dOut, 0),
      this.address(dGates, 0), this.address(dHh, 0), this.address(dh, 0), this.address(wHh, 0), this.address(wHhP, 0), this.scratch];
    this.run("gruSequenceBackward", this.splitsTimeLoop(T, B, 3 * H, H), args);
    this.unstage();
  }

  rnnSequenceForward(T: number, B: number, H: number, hs: FloatArray, relu: boolean, wHh: FloatArray, wHhT: FloatArray): void {
    const args = [T, B, H, this.address(hs, 0), flag(relu), this.address(wHh, 0), this.address(wHhT, 0), this.scratch];
    this.run("rnnSequenceForward", this.splitsTimeLoop(T, B, H, H), args);
    this.unstage();
  }

  rnnSequenceBackward(T: number, B: number, H: number, hs: FloatArray, relu: boolean, dOut: FloatArray, dGates: FloatArray,
    dh: FloatArray, wHh: FloatArray, wHhP: FloatArray): void {
    const args = [T, B, H, this.address(hs, 0), flag(relu), this.address(dOut, 0), this.address(dGates, 0), this.address(dh, 0),
      this.address(wHh, 0), this.address(wHhP, 0), this.scratch];
    this.run("rnnSequenceBackward", this.splitsTimeLoop(T, B, H, H), args);
    this.unstage();
  }
}

/** Throws the CharnnError that says this runtime has no WebAssembly SIMD, where it has none. */
export function requireWasmSimd(): void {
  if (!wasmSimdSupported()) {
    throw new CharnnError("this JavaScript runtime has no WebAssembly SIMD, which the wasm backend needs", ExitCode.usage,
      "use the js backend (or auto)", { code: "backend.unsupported", facts: { backend: "wasm", missing: "simd" } });
  }
}

export interface WasmKernelSetOptions {
  /** The compiled module of that build (assembly/kernels.ts, plain or relaxed SIMD). */
  module: WebAssembly.Module;
  variant: KernelVariant;
  /** Threads to split the heavy kernels across (a whole number from 1). Default 1. */
  threads?: number;
  /** How to start the threads; needed only for threads > 1. */
  startThreads?: StartThreads;
}

/**
 * A new wasm kernel set with its own memory over a module the host compiled (and, for threads > 1,
 * its own threads: call dispose() when done). Throws a CharnnError when this runtime has no
 * WebAssembly SIMD.
 */
export function wasmKernelsOn(options: WasmKernelSetOptions): WasmKernels {
  requireWasmSimd();
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`threads must be a positive integer, not ${threads}`);
  if (threads > 1 && options.startThreads === undefined) throw new Error("more than one thread needs a way to start them (startThreads)");
  return new WasmBackend(options.module, options.variant, threads, options.startThreads ?? null);
}
