// One block of memory from which every float buffer of a model, its gradients, its optimiser
// state and a step's workspace is cut, so that a compiled kernel backend can later work on
// the same memory without copying. Not a general allocator: buffers are taken once, up front,
// and live as long as the arena; nothing is freed.

export type DType = "float32" | "float64";
export type FloatArray = Float32Array | Float64Array;

/** Offsets are kept 16-byte aligned so that 128-bit SIMD loads never straddle a buffer start. */
const ALIGN_BYTES = 16;

const bytesPerFloat = (dtype: DType): number => (dtype === "float32" ? 4 : 8);

const alignedFloats = (length: number, dtype: DType): number => {
  const perAlign = ALIGN_BYTES / bytesPerFloat(dtype);
  return Math.ceil(length / perAlign) * perAlign;
};

/** How many floats an arena needs to hold buffers of these lengths (alignment included). */
export function arenaFloatsFor(lengths: Iterable<number>, dtype: DType): number {
  let total = 0;
  for (const length of lengths) total += alignedFloats(length, dtype);
  return total;
}

export class Arena {
  readonly dtype: DType;
  readonly capacity: number;
  readonly memory: ArrayBuffer | SharedArrayBuffer;
  private readonly byteBase: number;
  private used = 0;

  /**
   * @param capacity floats (use arenaFloatsFor to size it)
   * @param memory optional backing memory (for example a WebAssembly.Memory's buffer) and the
   *   byte offset in it where this arena starts.
   */
  constructor(dtype: DType, capacity: number, memory?: ArrayBuffer | SharedArrayBuffer, byteBase = 0) {
    this.dtype = dtype;
    this.capacity = capacity;
    this.memory = memory ?? new ArrayBuffer(capacity * bytesPerFloat(dtype));
    this.byteBase = byteBase;
    if (byteBase % ALIGN_BYTES !== 0) throw new Error(`arena base ${byteBase} is not ${ALIGN_BYTES}-byte aligned`);
    if (byteBase + capacity * bytesPerFloat(dtype) > this.memory.byteLength) {
      throw new Error("arena does not fit in the memory it was given");
    }
  }

  get floatsUsed(): number {
    return this.used;
  }

  /** A zero-filled view of `length` floats. */
  take(length: number): FloatArray {
    const start = this.used;
    const next = start + alignedFloats(length, this.dtype);
    if (next > this.capacity) {
      throw new Error(`arena overflow: asked for ${length} floats with ${this.capacity - start} left`);
    }
    this.used = next;
    const byteOffset = this.byteBase + start * bytesPerFloat(this.dtype);
    return this.dtype === "float32"
      ? new Float32Array(this.memory, byteOffset, length)
      : new Float64Array(this.memory, byteOffset, length);
  }

  /** Takes one buffer per entry, in the entry order, and returns them by name. */
  takeAll<K extends string>(lengths: Record<K, number>): Record<K, FloatArray> {
    const out = {} as Record<K, FloatArray>;
    for (const name of Object.keys(lengths) as K[]) out[name] = this.take(lengths[name]);
    return out;
  }
}

export function floatArray(dtype: DType, length: number): FloatArray {
  return dtype === "float32" ? new Float32Array(length) : new Float64Array(length);
}
