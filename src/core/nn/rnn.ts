// The Elman cell, PyTorch's torch.nn.RNN: h' = act(W_ih x + b_ih + W_hh h + b_hh), act tanh or
// ReLU. The model writes the input projection straight into the output rows hs[1..T] (G = H),
// so each step adds W_hh·h_{t-1} there and applies act in place: no copy. The time loop itself
// is the kernels' (Kernels.rnnSequence*).

import type { Cell } from "./cell.js";

export function elmanCell(relu: boolean): Cell {
  return {
    type: "rnn",
    gates: 1,
    foldsHiddenBias: true,

    forward(k, buf, w, T, B, H, repack) {
      if (repack) k.pack(true, H, H, w.wHh, 0, H, buf.packedForward);
      k.rnnSequenceForward(T, B, H, buf.hs, relu, w.wHh, buf.packedForward);
    },

    backward(k, buf, w, T, B, H) {
      k.pack(false, H, H, w.wHh, 0, H, buf.packedBackward);
      k.rnnSequenceBackward(T, B, H, buf.hs, relu, buf.dOut, buf.dGates, buf.dh, w.wHh, buf.packedBackward);
      k.gemm(true, false, H, H, T * B, buf.dGates, 0, H, buf.hs, 0, H, w.dWHh, 0, H, true);
    },
  };
}
