// The standard benchmark workloads (issue 5 and ../shared/peers/RESULTS.md): C1, C2, C3 and the
// GRU and Elman cells at C2's size, as plain data, and the arithmetic that turns a rate into
// GFLOP/s. Pure: nothing here runs a model or reads the clock; measure.ts does that.

import type { CellType } from "../dist/core/nn/params.js";
import type { OptimizerType } from "../dist/core/optim/optimizers.js";
import type { ClipMode } from "../dist/core/optim/clip.js";

export type WorkloadId = "C1" | "C2" | "C3" | "GRU" | "RNN";

export const WORKLOAD_IDS: readonly WorkloadId[] = ["C1", "C2", "C3", "GRU", "RNN"];

export interface Workload {
  id: WorkloadId;
  /** For tables, e.g. "C2 LSTM 2x128". */
  label: string;
  cell: CellType;
  layers: number;
  hidden: number;
  seqLen: number;
  batch: number;
  optimizer: OptimizerType;
  lr: number;
  /**
   * The peers' clipping: min-char-rnn clamps each gradient element to [-5, 5] (C1); the LSTM
   * peers clip the global norm to 5.
   */
  clip: { mode: ClipMode; limit: number };
  /** Untimed steps first, so the JIT has compiled the hot loops before the clock starts. */
  warmupSteps: number;
  /** The peer configuration with the same shapes, if any (torch_charlstm.py, tfjs, numpy). */
  peerConfig: "C1" | "C2" | "C3" | "C2-GRU" | "C2-RNN" | null;
}

export const WORKLOADS: Readonly<Record<WorkloadId, Workload>> = Object.freeze({
  C1: {
    id: "C1", label: "C1 RNN 1x100", cell: "rnn", layers: 1, hidden: 100, seqLen: 25, batch: 1,
    optimizer: "adagrad", lr: 0.1, clip: { mode: "value", limit: 5 }, warmupSteps: 200, peerConfig: "C1",
  },
  C2: {
    id: "C2", label: "C2 LSTM 2x128", cell: "lstm", layers: 2, hidden: 128, seqLen: 64, batch: 32,
    optimizer: "adam", lr: 2e-3, clip: { mode: "norm", limit: 5 }, warmupSteps: 3, peerConfig: "C2",
  },
  C3: {
    id: "C3", label: "C3 LSTM 2x512", cell: "lstm", layers: 2, hidden: 512, seqLen: 64, batch: 32,
    optimizer: "adam", lr: 2e-3, clip: { mode: "norm", limit: 5 }, warmupSteps: 1, peerConfig: "C3",
  },
  GRU: {
    id: "GRU", label: "GRU 2x128", cell: "gru", layers: 2, hidden: 128, seqLen: 64, batch: 32,
    optimizer: "adam", lr: 2e-3, clip: { mode: "norm", limit: 5 }, warmupSteps: 3, peerConfig: "C2-GRU",
  },
  RNN: {
    id: "RNN", label: "RNN 2x128", cell: "rnn", layers: 2, hidden: 128, seqLen: 64, batch: 32,
    optimizer: "adam", lr: 2e-3, clip: { mode: "norm", limit: 5 }, warmupSteps: 3, peerConfig: "C2-RNN",
  },
});

/** The vocabulary of tiny-shakespeare; the FLOP counts below assume it. */
export const SHAKESPEARE_VOCABULARY = 65;

const gatesOf = (cell: CellType): number => (cell === "lstm" ? 4 : cell === "gru" ? 3 : 1);

/** One matrix product of a training step: C[M,N] (+)= op(A)[M,K]·op(B)[K,N], `count` times. */
export interface ProductShape {
  name: string;
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  count: number;
}

/**
 * Every matrix product one training step of charnn's model makes (src/core/nn/model.ts and the cell
 * files), with one-hot input, so layer 0 has no input product: its projection is a column
 * lookup. Shape letters: B batch, T time, V vocabulary, H hidden, G gate rows (gates·H).
 */
export function productMix(workload: Workload, V = SHAKESPEARE_VOCABULARY): ProductShape[] {
  const { batch: B, seqLen: T, hidden: H, layers: L } = workload;
  const G = gatesOf(workload.cell) * H;
  const rows = T * B;
  const upper = L - 1; // layers that read the layer below through a product
  const shapes: ProductShape[] = [
    { name: "recurrent forward h·W_hhᵀ", M: B, N: G, K: H, transA: false, transB: true, count: L * T },
    { name: "recurrent backward dGates·W_hh", M: B, N: H, K: G, transA: false, transB: false, count: L * T },
    { name: "dW_hh = dGatesᵀ·h", M: G, N: H, K: rows, transA: true, transB: false, count: L },
    { name: "input projection x·W_ihᵀ", M: rows, N: G, K: H, transA: false, transB: true, count: upper },
    { name: "dW_ih = dGatesᵀ·x", M: G, N: H, K: rows, transA: true, transB: false, count: upper },
    { name: "dx = dGates·W_ih", M: rows, N: H, K: G, transA: false, transB: false, count: upper },
    { name: "decoder y·W_dᵀ", M: rows, N: V, K: H, transA: false, transB: true, count: 1 },
    { name: "dW_d = dLogitsᵀ·y", M: V, N: H, K: rows, transA: true, transB: false, count: 1 },
    { name: "dy = dLogits·W_d", M: rows, N: H, K: V, transA: false, transB: false, count: 1 },
  ];
  return shapes.filter((shape) => shape.count > 0);
}

export const productFlops = (shape: ProductShape): number => 2 * shape.M * shape.N * shape.K * shape.count;

/**
 * Training FLOPs per character in matrix products (RESULTS.md section 6: a recurrent layer costs
 * 6·G·(I+H), the decoder 6·H·V). `oneHot` leaves out layer 0's input term, which charnn does as
 * a lookup; `dense` counts it as the peers' dense one-hot products do.
 */
export function trainFlopsPerChar(workload: Workload, input: "oneHot" | "dense", V = SHAKESPEARE_VOCABULARY): number {
  const { hidden: H, layers: L } = workload;
  const G = gatesOf(workload.cell) * H;
  let flops = 6 * H * V;
  for (let l = 0; l < L; l++) {
    const inputSize = l === 0 ? (input === "dense" ? V : 0) : H;
    flops += 6 * G * (inputSize + H);
  }
  return flops;
}

/** Forward-only FLOPs per character at batch 1 with a dense one-hot input (RESULTS.md's sampling column). */
export function sampleFlopsPerChar(workload: Workload, V = SHAKESPEARE_VOCABULARY): number {
  const { hidden: H, layers: L } = workload;
  const G = gatesOf(workload.cell) * H;
  let flops = 2 * H * V;
  for (let l = 0; l < L; l++) flops += 2 * G * ((l === 0 ? V : H) + H);
  return flops;
}

/**
 * Bytes of float32 weights one sampled character streams at batch 1: every W_hh, every W_ih but
 * layer 0's one-hot lookup (a column per character), and the decoder. Once they no longer fit in
 * a core's cache, the read bandwidth over this many bytes bounds the sampling rate.
 */
export function sampleWeightBytes(workload: Workload, V = SHAKESPEARE_VOCABULARY): number {
  const { hidden: H, layers: L } = workload;
  const G = gatesOf(workload.cell) * H;
  return 4 * (L * G * H + (L - 1) * G * H + V * H);
}
