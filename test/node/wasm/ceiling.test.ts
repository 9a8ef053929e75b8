// The measured SIMD ceiling: that the probe kernels do the work they are timed for (the values
// they leave match the same arithmetic done here), that the measurement gives a rate on one
// thread and on two, and the theoretical peak read from /proc/cpuinfo text.

import { describe, expect, it } from "vitest";
import { measureClockGhz, measureSimdCeiling, peakGflops, theoreticalPeakFrom } from "../../../src/node/wasm/ceiling.js";
import { kernelModule, type KernelVariant } from "../../../src/node/wasm/module.js";

function instance(variant: KernelVariant) {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  const exports = new WebAssembly.Instance(kernelModule(variant), { env: { memory } }).exports as Record<string, (...args: number[]) => void>;
  return { memory, exports };
}

describe("the SIMD ceiling probes", () => {
  it.each(["simd", "relaxed"] as const)("simdPeak (%s) runs every round on all twelve chains", (variant) => {
    const { memory, exports } = instance(variant);
    const lanes = new Float32Array(memory.buffer, 64, 4);
    lanes.set([1, 2, 3, 4]);
    const rounds = 37;
    exports.simdPeak!(rounds, 64, 0, 1);
    const f = Math.fround, scale = f(0.9999999), shift = f(1e-7);
    for (let lane = 0; lane < 4; lane++) {
      let sum = 0, start = lane + 1;
      const chains: number[] = [];
      for (let chain = 0; chain < 12; chain++) {
        let a = start;
        // Plain: round the product then the sum; fused (relaxed): round once. Both agree to 1e-6 here.
        for (let r = 0; r < rounds; r++) a = f(f(a * scale) + shift);
        chains.push(a);
        start = f(start + shift);
      }
      for (const a of chains) sum += a;
      expect(lanes[lane]).toBeCloseTo(sum, 3);
    }
  });

  it("clockProbe leaves the value of its add-xor chain", () => {
    const { memory, exports } = instance("simd");
    const ints = new Int32Array(memory.buffer, 64, 4);
    ints.set([5, 1234567, 0x5a5a5a5a, 0]);
    exports.clockProbe!(3, 64, 0, 1);
    let v = 5;
    for (let i = 0; i < 3 * 8; i++) v = ((v + 1234567) | 0) ^ 0x5a5a5a5a;
    expect(ints[3]).toBe(v);
  });


  it.each([["simd", 1], ["relaxed", 2]] as const)("measures a finite, positive rate (%s, %i threads)", (variant, threads) => {
    const gflops = measureSimdCeiling({ variant, threads, callMs: 1, calls: 5 });
    expect(Number.isFinite(gflops) && gflops > 0.1).toBe(true);
  });

  it("measures a clock between 0.2 and 10 GHz", () => {
    const ghz = measureClockGhz(1, 5);
    expect(ghz).toBeGreaterThan(0.2);
    expect(ghz).toBeLessThan(10);
  });
});

describe("theoreticalPeakFrom", () => {
  it("reads the model and clock and counts two 128-bit FMA ports", () => {
    const text = "processor\t: 0\nmodel name\t: Intel(R)  Xeon(R) Processor\ncpu MHz\t\t: 2300.000\n";
    expect(theoreticalPeakFrom(text)).toEqual({ cpu: "Intel(R) Xeon(R) Processor", mhz: 2300, perCore: 36.8 });
    expect(peakGflops(3)).toBe(48);
  });

  it("is null without a clock", () => {
    expect(theoreticalPeakFrom("model name : X\n")).toBeNull();
  });
});
