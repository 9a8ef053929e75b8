// The GRU cell, PyTorch's equations and gate order (torch.nn.GRU documentation):
//   r = σ(W_ir x + b_ir + W_hr h + b_hr)      z = σ(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
//   h' = (1 − z) ⊙ n + z ⊙ h
// The reset gate multiplies W_hn h + b_hn, so b_hh cannot be folded into the input projection
// and W_hh·h + b_hh is kept per step for backward.

import type { Cell } from "./cell.js";

export const gruCell: Cell = {
  type: "gru",
  gates: 3,
  foldsHiddenBias: false,

  forward(k, buf, w, T, B, H) {
    const G = 3 * H;
    for (let t = 0; t < T; t++) {
      // hProj_t (B,3H) = h_{t-1} (B,H) · W_hhᵀ + b_hh
      k.gemm(false, true, B, G, H, buf.hs, t * B * H, H, w.wHh, 0, H, buf.hProj, t * B * G, G, false);
      k.addBias(buf.hProj, t * B * G, B, G, w.bHh);
      // The activations r, z, n overwrite xProj in place (each element is read before it is written).
      k.gruForward(buf.xProj, t * B * G, buf.hProj, t * B * G, buf.hs, t * B * H,
        buf.xProj, t * B * G, buf.hs, (t + 1) * B * H, B, H);
    }
  },

  backward(k, buf, w, T, B, H) {
    const G = 3 * H;
    for (let t = T - 1; t >= 0; t--) {
      k.add(buf.dh, 0, buf.dOut, t * B * H, B * H);
      k.gruBackward(buf.hProj, t * B * G, buf.hs, t * B * H, buf.xProj, t * B * G,
        buf.dh, buf.dGates, t * B * G, buf.dHh, t * B * G, B, H);
      // ∂L/∂h_{t-1} = z ⊙ dh (left in dh by the kernel) + dHh_t (B,3H) · W_hh (3H,H)
      k.gemm(false, false, B, H, G, buf.dHh, t * B * G, G, w.wHh, 0, H, buf.dh, 0, H, true);
    }
    k.gemm(true, false, G, H, T * B, buf.dHh, 0, G, buf.hs, 0, H, w.dWHh, 0, H, true);
    k.sumRows(w.dBHh, buf.dHh, T * B, G);
  },
};
