// The LSTM cell, PyTorch's equations and gate order (torch.nn.LSTM documentation):
//   i = σ(W_ii x + b_ii + W_hi h + b_hi)    f = σ(W_if x + b_if + W_hf h + b_hf)
//   g = tanh(W_ig x + b_ig + W_hg h + b_hg) o = σ(W_io x + b_io + W_ho h + b_ho)
//   c' = f ⊙ c + i ⊙ g                      h' = o ⊙ tanh(c')
// Only the time loop lives here; the input projection is the model's, done for all T at once.

import type { Cell } from "./cell.js";

export const lstmCell: Cell = {
  type: "lstm",
  gates: 4,
  foldsHiddenBias: true,

  forward(k, buf, w, T, B, H) {
    const G = 4 * H;
    for (let t = 0; t < T; t++) {
      // gates_t (B,4H) += h_{t-1} (B,H) · W_hhᵀ
      k.gemm(false, true, B, G, H, buf.hs, t * B * H, H, w.wHh, 0, H, buf.xProj, t * B * G, G, true);
      k.lstmForward(buf.xProj, t * B * G, buf.cs, t * B * H, buf.cs, (t + 1) * B * H,
        buf.tanhC, t * B * H, buf.hs, (t + 1) * B * H, B, H);
    }
  },

  backward(k, buf, w, T, B, H) {
    const G = 4 * H;
    for (let t = T - 1; t >= 0; t--) {
      k.add(buf.dh, 0, buf.dOut, t * B * H, B * H);
      k.lstmBackward(buf.xProj, t * B * G, buf.cs, t * B * H, buf.tanhC, t * B * H,
        buf.dh, buf.dc, buf.dGates, t * B * G, B, H);
      // ∂L/∂h_{t-1} (B,H) = dGates_t (B,4H) · W_hh (4H,H)
      k.gemm(false, false, B, H, G, buf.dGates, t * B * G, G, w.wHh, 0, H, buf.dh, 0, H, false);
    }
    // One product for all T steps: dW_hh (4H,H) += dGatesᵀ (4H, T·B) · h_{0..T-1} (T·B, H)
    k.gemm(true, false, G, H, T * B, buf.dGates, 0, G, buf.hs, 0, H, w.dWHh, 0, H, true);
  },
};
