// Which kernel backends and thread counts the bench measures: every pair the CLI's own
// selectKernels can give, and a note for each pair it cannot (a backend not built yet, a thread
// count the backend does not run). The plan is a pure function of a probe, so it is tested
// without any backend; kernelsFor is the one place the bench asks the CLI for kernels.

import type { Kernels } from "../dist/core/tensor/kernels.js";
import { selectKernels } from "../dist/node/backend.js";

/**
 * The kernel sets by the name they report: the TypeScript kernels, the WebAssembly SIMD ones,
 * and their relaxed-SIMD build (fused multiply-adds; what `auto` picks where it runs).
 */
export const BENCH_BACKENDS = ["js", "wasm", "wasm-relaxed"] as const;
export type BenchBackend = (typeof BENCH_BACKENDS)[number];

/** One column of charnn results: a backend at a thread count. */
export interface Variant {
  backend: BenchBackend;
  threads: number;
}

export const variantLabel = (variant: Variant): string => `${variant.backend} x${variant.threads}`;

/** The kernels for a variant, as `charnn train --backend B --threads N` would get them; throws as selectKernels does. */
export function kernelsFor(variant: Variant): Kernels {
  return selectKernels(variant.backend, variant.threads);
}

/** The thread count kernels run on: a `threads` property when the backend has one, else 1. */
export function kernelThreads(kernels: Kernels): number {
  const threads = (kernels as Kernels & { threads?: unknown }).threads;
  return typeof threads === "number" && Number.isInteger(threads) && threads >= 1 ? threads : 1;
}

/** What a probe learned: the kernels' name and the thread count they really run on, or why there are none. */
export type ProbeOutcome = { name: string; threads: number } | { error: string };

/**
 * Every (backend, threads) pair that a probe confirms, in the order given, and one note per
 * backend or pair left out. A pair whose kernels run on a different thread count than asked,
 * or are another set than asked (selectKernels falls back to plain wasm where relaxed SIMD is
 * missing), is left out, so one kernel set is never measured twice under two names.
 */
export function planVariants(backends: readonly BenchBackend[], threadCounts: readonly number[], probe: (variant: Variant) => ProbeOutcome): { variants: Variant[]; notes: string[] } {
  const variants: Variant[] = [];
  const notes: string[] = [];
  for (const backend of backends) {
    const unsupported: number[] = [];
    const before = variants.length;
    for (const threads of threadCounts) {
      const outcome = probe({ backend, threads });
      if ("error" in outcome) {
        notes.push(`charnn backend ${backend} x${threads} skipped: ${outcome.error}`);
        if (threads === threadCounts[0]) break; // a backend that cannot be selected fails the same way for every count
        continue;
      }
      if (outcome.name !== backend) {
        notes.push(`charnn backend ${backend} skipped: selectKernels gave ${outcome.name} instead here`);
        break;
      }
      if (outcome.threads !== threads) {
        unsupported.push(threads);
        continue;
      }
      variants.push({ backend, threads });
    }
    if (unsupported.length > 0) {
      const measured = variants.slice(before).map((variant) => `x${variant.threads}`);
      notes.push(`charnn backend ${backend} does not run on ${unsupported.join(" or ")} threads (selectKernels gave other thread counts); ` +
        (measured.length > 0 ? `measured at ${measured.join(", ")} only` : "not measured"));
    }
  }
  return { variants, notes };
}

/**
 * Ends the kernels' worker threads, if they have any (a threaded backend's workers would keep
 * the process alive). Kernels without dispose() have nothing to end.
 */
export function releaseKernels(kernels: Kernels): void {
  (kernels as Kernels & { dispose?: () => void }).dispose?.();
}

/** The real probe: ask selectKernels, as the CLI would. */
export function probeKernels(variant: Variant): ProbeOutcome {
  try {
    const kernels = kernelsFor(variant);
    const outcome = { name: kernels.name, threads: kernelThreads(kernels) };
    releaseKernels(kernels);
    return outcome;
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}
