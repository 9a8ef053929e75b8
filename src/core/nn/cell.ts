// The interface every recurrent cell implements (rnn.ts, lstm.ts, gru.ts), and the per-layer
// buffers a cell's time loop reads and writes. The input projection W_ih·x + b_ih is not the
// cell's job: the model computes it for all T steps in one product before the loop.

import type { FloatArray } from "../tensor/arena.js";
import type { Kernels } from "../tensor/kernels.js";
import type { CellType } from "./params.js";

/** One layer's workspace for a window of up to T steps of B streams (G = gates·H). */
export interface LayerBuffers {
  /** (T, B, G) W_ih·x + b_ih for every step; the LSTM and GRU turn it into gate activations in place. */
  xProj: FloatArray;
  /** (T, B, G) W_hh·h + b_hh, kept for backward (GRU only; empty otherwise). */
  hProj: FloatArray;
  /** (T+1, B, H) hidden states; row block 0 is the initial state, block t+1 the output at step t. */
  hs: FloatArray;
  /** (T+1, B, H) cell states (LSTM only; empty otherwise). */
  cs: FloatArray;
  /** (T, B, H) tanh(c_t) (LSTM only). */
  tanhC: FloatArray;
  /** (T, B, H) ∂L/∂h_t arriving from above (the decoder or the next layer). */
  dOut: FloatArray;
  /** (T, B, G) ∂L/∂xProj, the pre-activation gate gradients. */
  dGates: FloatArray;
  /** (T, B, G) ∂L/∂hProj (GRU only; the LSTM and Elman cell use dGates for both sides). */
  dHh: FloatArray;
  /** (B, H) running ∂L/∂h; after backward, the gradient of the initial h. */
  dh: FloatArray;
  /** (B, H) running ∂L/∂c (LSTM); after backward, the gradient of the initial c. */
  dc: FloatArray;
  /** W_hh packed as op(B) = W_hhᵀ (H, G) for the forward steps (Kernels.pack, packedFloats(H, G)). */
  packedForward: FloatArray;
  /** W_hh packed as op(B) = W_hh (G, H) for the backward steps (packedFloats(G, H)). */
  packedBackward: FloatArray;
}

export interface CellWeights {
  /** (G, H) */
  wHh: FloatArray;
  /** (G) */
  bHh: FloatArray;
  /** (G, H) gradient, accumulated into. */
  dWHh: FloatArray;
  /** (G) gradient, accumulated into. */
  dBHh: FloatArray;
}

export interface Cell {
  readonly type: CellType;
  /** Gate blocks per hidden unit (G = gates·H). */
  readonly gates: number;
  /** True when b_hh can be added to xProj before the loop (every cell but the GRU). */
  readonly foldsHiddenBias: boolean;
  /**
   * Runs steps 0..T−1 from the initial state in hs (and cs) block 0. With repack false, W_hh is
   * taken as unchanged since the last forward and its packed copy is reused (batch-1 sampling).
   */
  forward(k: Kernels, buf: LayerBuffers, w: CellWeights, T: number, B: number, H: number, repack: boolean): void;
  /**
   * Backpropagates through steps T−1..0: reads dOut, writes dGates (and dHh), accumulates the
   * recurrent weight gradients, and leaves ∂L/∂(initial state) in dh and dc. The caller zeroes
   * dh and dc first: truncated BPTT sends no gradient in from the window after this one.
   */
  backward(k: Kernels, buf: LayerBuffers, w: CellWeights, T: number, B: number, H: number): void;
}
