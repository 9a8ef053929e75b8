// The Elman cell, PyTorch's torch.nn.RNN: h' = act(W_ih x + b_ih + W_hh h + b_hh), act tanh or
// ReLU. The model writes the input projection straight into the output rows hs[1..T] (G = H),
// so each step adds W_hh·h_{t-1} there and applies act in place: no copy.

import type { Cell } from "./cell.js";

export function elmanCell(relu: boolean): Cell {
  return {
    type: "rnn",
    gates: 1,
    foldsHiddenBias: true,

    forward(k, buf, w, T, B, H) {
      for (let t = 0; t < T; t++) {
        const out = (t + 1) * B * H;
        k.gemm(false, true, B, H, H, buf.hs, t * B * H, H, w.wHh, 0, H, buf.hs, out, H, true);
        k.rnnForward(buf.hs, out, B * H, relu);
      }
    },

    backward(k, buf, w, T, B, H) {
      for (let t = T - 1; t >= 0; t--) {
        k.add(buf.dh, 0, buf.dOut, t * B * H, B * H);
        k.rnnBackward(buf.hs, (t + 1) * B * H, buf.dh, buf.dGates, t * B * H, B * H, relu);
        k.gemm(false, false, B, H, H, buf.dGates, t * B * H, H, w.wHh, 0, H, buf.dh, 0, H, false);
      }
      k.gemm(true, false, H, H, T * B, buf.dGates, 0, H, buf.hs, 0, H, w.dWHh, 0, H, true);
    },
  };
}
