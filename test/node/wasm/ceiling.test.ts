// The measured SIMD ceiling: that the probe kernels do the work they are timed for (the values
// they leave match the same arithmetic done here), that the measurement gives a rate on one
// thread and on two, and the theoretical peak read from /proc/cpuinfo text.

import { describe, expect, it } from "vitest";
import { measureClockGhz, measureReadBandwidth, measureSimdCeiling, peakGflops, theoreticalPeakFrom } from "../../../src/node/wasm/ceiling.js";
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

  it("readStream reads every float of its part's whole 128-byte blocks, and no other", () => {
    const { memory, exports } = instance("simd");
    const base = 4096, blocks = 7;
    // Block b holds the value b + 1 in each of its 32 floats; one more block after the end must be skipped.
    const floats = new Float32Array(memory.buffer, base, (blocks + 1) * 32);
    for (let b = 0; b <= blocks; b++) floats.fill(b + 1, b * 32, (b + 1) * 32);
    const sums = new Float32Array(memory.buffer, 1024, 8);
    exports.readStream!(base, blocks * 128, 1024, 0, 2);
    exports.readStream!(base, blocks * 128, 1024, 1, 2);
    // Eight accumulators of four lanes over 32 floats a block: each lane of the stored sum gets 8 per block.
    const partSum = (b0: number, b1: number): number => { let t = 0; for (let b = b0; b < b1; b++) t += 8 * (b + 1); return t; };
    const split = Math.floor(blocks / 2);
    expect([...sums.subarray(0, 4)]).toEqual(new Array(4).fill(partSum(0, split)));
    expect([...sums.subarray(4, 8)]).toEqual(new Array(4).fill(partSum(split, blocks)));
  });

  it.each([1, 2])("measures a finite, positive read bandwidth (%i threads)", (threads) => {
    const gbPerSecond = measureReadBandwidth({ variant: "simd", threads, bytes: 1 << 16, calls: 5 });
    expect(Number.isFinite(gbPerSecond) && gbPerSecond > 0.01).toBe(true);
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
