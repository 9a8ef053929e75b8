// Planning the charnn columns: every backend and thread count selectKernels can give, a note for
// the rest, with a fake probe standing in for the backends.

import { describe, expect, it } from "vitest";
import { kernelThreads, planVariants, type ProbeOutcome, type Variant } from "../../bench/variants.js";
import type { Kernels } from "../../dist/core/tensor/kernels.js";

describe("planVariants", () => {
  it("keeps a one-thread backend once and says why its other thread counts are missing", () => {
    const { variants, notes } = planVariants(["js"], [1, 2], () => ({ name: "js", threads: 1 }));
    expect(variants).toEqual([{ backend: "js", threads: 1 }]);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain("does not run on 2 threads");
    expect(notes[0]).toContain("measured at x1 only");
  });

  it("skips a backend that cannot be selected, asking only once, and keeps the others", () => {
    const asked: Variant[] = [];
    const probe = (variant: Variant): ProbeOutcome => {
      asked.push(variant);
      return variant.backend === "wasm" ? { error: "the wasm backend is not available" } : { name: variant.backend, threads: variant.threads };
    };
    const { variants, notes } = planVariants(["js", "wasm"], [1, 2], probe);
    expect(variants).toEqual([{ backend: "js", threads: 1 }, { backend: "js", threads: 2 }]);
    expect(notes).toEqual(["charnn backend wasm x1 skipped: the wasm backend is not available"]);
    expect(asked.filter((v) => v.backend === "wasm")).toHaveLength(1);
  });

  it("measures every thread count a threaded backend runs", () => {
    const { variants, notes } = planVariants(["wasm"], [1, 2, 4], (v) => ({ name: "wasm", threads: Math.min(v.threads, 2) }));
    expect(variants).toEqual([{ backend: "wasm", threads: 1 }, { backend: "wasm", threads: 2 }]);
    expect(notes[0]).toContain("does not run on 4 threads");
  });

  it("says a backend was not measured when none of the asked counts is what it runs", () => {
    const { variants, notes } = planVariants(["js"], [2], () => ({ name: "js", threads: 1 }));
    expect(variants).toEqual([]);
    expect(notes[0]).toContain("not measured");
  });

  it("skips the relaxed build where selectKernels falls back to the plain one", () => {
    const { variants, notes } = planVariants(["wasm", "wasm-relaxed"], [1, 2], (v) => ({ name: "wasm", threads: v.threads }));
    expect(variants).toEqual([{ backend: "wasm", threads: 1 }, { backend: "wasm", threads: 2 }]);
    expect(notes).toEqual(["charnn backend wasm-relaxed skipped: selectKernels gave wasm instead here"]);
  });
});

describe("kernelThreads", () => {
  it("reads a backend's thread count, and 1 for kernels that do not say", () => {
    const base = { name: "fake" } as unknown as Kernels;
    expect(kernelThreads({ ...base, threads: 2 } as Kernels)).toBe(2);
    expect(kernelThreads(base)).toBe(1);
    expect(kernelThreads({ ...base, threads: 0 } as Kernels)).toBe(1);
  });
});
