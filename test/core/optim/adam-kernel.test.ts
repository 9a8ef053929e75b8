// The compiled Adam loop against the optimiser's own: on every WebAssembly kernel set (one thread
// and two, plain and relaxed SIMD), the same parameters, moments and steps must come out in the
// same bits, with and without weight decay, over a length that leaves an odd element and splits
// unevenly between threads; and a trainer on those kernels must use it.

import { afterAll, describe, expect, it } from "vitest";
import { Optimizer, optimizerDefaults } from "../../../src/core/optim/optimizers.js";
import { arenaFloatsFor } from "../../../src/core/tensor/arena.js";
import { createRng } from "../../../src/core/tensor/rng.js";
import { float32Backends } from "../../helpers/backends.js";

const backends = float32Backends();
afterAll(() => backends.dispose());

const N = 200_001; // odd, and past the size a call is split between threads at

function filled(rng: ReturnType<typeof createRng>, n: number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, () => (rng.next() - 0.5) * scale);
}

describe("adamStep", () => {
  for (const [name, kernels] of backends.list) {
    if (!kernels.adamStep) continue;
    for (const weightDecay of [0, 0.01]) {
      it(`${name}, weight decay ${weightDecay}: five steps give the TypeScript loop's bits`, () => {
        const settings = { ...optimizerDefaults("adam"), weightDecay };
        const arena = kernels.newArena("float32", arenaFloatsFor([N, N], "float32") + Optimizer.arenaFloats(settings, N, "float32"));
        const values = arena.take(N) as Float32Array, grads = arena.take(N) as Float32Array;
        const compiled = new Optimizer(settings, N, arena);
        const reference = new Optimizer(settings, N, "float32");
        const rng = createRng(11);
        values.set(filled(rng, N, 2));
        const referenceValues = Float32Array.from(values);
        for (let step = 0; step < 5; step++) {
          // Gradients over many magnitudes, some exactly zero, so the square root and the
          // division meet small and large moments.
          const g = filled(rng, N, 10 ** (step - 2));
          for (let i = 0; i < N; i += 97) g[i] = 0;
          grads.set(g);
          compiled.step(values, grads, 0.002 * (step + 1), kernels);
          reference.step(referenceValues, g, 0.002 * (step + 1));
        }
        expect(Buffer.from(values.buffer, values.byteOffset, values.byteLength).equals(Buffer.from(referenceValues.buffer))).toBe(true);
        for (const buffer of ["firstMoment", "secondMoment"]) {
          const a = compiled.state().buffers[buffer]!, b = reference.state().buffers[buffer]!;
          expect(Array.from(a.subarray(0, 1000))).toEqual(Array.from(b.subarray(0, 1000)));
          expect(a.every((x, i) => Object.is(x, b[i]))).toBe(true);
        }
        // Something moved: the test compares updates, not two untouched buffers.
        expect(values.some((x, i) => x !== filled(createRng(11), N, 2)[i])).toBe(true);
      });
    }
  }

  it("is there on every WebAssembly set, and the TypeScript kernels leave the loop to the optimiser", () => {
    const names = backends.list.filter(([, kernels]) => kernels.adamStep !== undefined).map(([name]) => name);
    expect(names).toEqual(["wasm", "wasm, 2 threads", "wasm-relaxed", "wasm-relaxed, 2 threads"]);
  });
});
