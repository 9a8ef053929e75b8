// The GRU cell, PyTorch's equations and gate order (torch.nn.GRU documentation):
//   r = σ(W_ir x + b_ir + W_hr h + b_hr)      z = σ(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
//   h' = (1 − z) ⊙ n + z ⊙ h
// The reset gate multiplies W_hn h + b_hn, so b_hh cannot be folded into the input projection
// and W_hh·h + b_hh is kept per step for backward. The time loop itself is the kernels'
// (Kernels.gruSequence*).

import type { Cell } from "./cell.js";

export const gruCell: Cell = {
  type: "gru",
  gates: 3,
  foldsHiddenBias: false,

  forward(k, buf, w, T, B, H, repack) {
    const G = 3 * H;
    if (repack) k.pack(true, H, G, w.wHh, 0, H, buf.packedForward);
    // hProj_t (B,3H) = h_{t-1} · W_hhᵀ + b_hh; then r, z, n overwrite xProj in place and give h_t
    k.gruSequenceForward(T, B, H, buf.xProj, buf.hProj, buf.hs, w.bHh, w.wHh, buf.packedForward);
  },

  backward(k, buf, w, T, B, H) {
    const G = 3 * H;
    k.pack(false, G, H, w.wHh, 0, H, buf.packedBackward);
    // ∂L/∂h_{t-1} = z ⊙ dh + dHh_t (B,3H) · W_hh (3H,H), for t = T−1..0
    k.gruSequenceBackward(T, B, H, buf.xProj, buf.hProj, buf.hs, buf.dOut, buf.dGates, buf.dHh, buf.dh, w.wHh, buf.packedBackward);
    k.gemm(true, false, G, H, T * B, buf.dHh, 0, G, buf.hs, 0, H, w.dWHh, 0, H, true);
    k.sumRows(w.dBHh, buf.dHh, T * B, G);
  },
};
