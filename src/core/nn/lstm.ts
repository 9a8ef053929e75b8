// The LSTM cell, PyTorch's equations and gate order (torch.nn.LSTM documentation):
//   i = σ(W_ii x + b_ii + W_hi h + b_hi)    f = σ(W_if x + b_if + W_hf h + b_hf)
//   g = tanh(W_ig x + b_ig + W_hg h + b_hg) o = σ(W_io x + b_io + W_ho h + b_ho)
//   c' = f ⊙ c + i ⊙ g                      h' = o ⊙ tanh(c')
// Only the time loop lives here, and it is the kernels' (Kernels.lstmSequence*, one call per
// window so a compiled backend runs it without coming back to JavaScript); the input projection
// is the model's, done for all T at once.

import type { Cell } from "./cell.js";

export const lstmCell: Cell = {
  type: "lstm",
  gates: 4,
  foldsHiddenBias: true,

  forward(k, buf, w, T, B, H, repack) {
    const G = 4 * H;
    // W_hh is read at every step: rearranged once per window for the per-step products.
    if (repack) k.pack(true, H, G, w.wHh, 0, H, buf.packedForward);
    // gates_t (B,4H) += h_{t-1} (B,H) · W_hhᵀ, then the gate arithmetic, for t = 0..T−1
    k.lstmSequenceForward(T, B, H, buf.xProj, buf.hs, buf.cs, buf.tanhC, w.wHh, buf.packedForward);
  },

  backward(k, buf, w, T, B, H) {
    const G = 4 * H;
    k.pack(false, G, H, w.wHh, 0, H, buf.packedBackward);
    // for t = T−1..0: dGates_t from dh, dc; ∂L/∂h_{t-1} (B,H) = dGates_t (B,4H) · W_hh (4H,H)
    k.lstmSequenceBackward(T, B, H, buf.xProj, buf.hs, buf.cs, buf.tanhC, buf.dOut, buf.dGates, buf.dh, buf.dc, w.wHh, buf.packedBackward);
    // One product for all T steps: dW_hh (4H,H) += dGatesᵀ (4H, T·B) · h_{0..T-1} (T·B, H)
    k.gemm(true, false, G, H, T * B, buf.dGates, 0, G, buf.hs, 0, H, w.dWHh, 0, H, true);
  },
};
