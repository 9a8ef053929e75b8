// An independent, plainly written forward pass of the whole model (one step, one stream at a
// time, the equations of torch.nn.RNN/LSTM/GRU spelled out on number arrays), for checking the
// fast batched implementation. Shares no code with src/core/nn beyond the parameter views.

import type { CharModel } from "../../src/core/nn/model.js";

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** logits (T, B, V) and the final state (L, B, H) for time-major inputs. */
export function referenceForward(
  model: CharModel, inputs: Int32Array, B: number, T: number,
  initial: { h: ArrayLike<number>; c: ArrayLike<number> | null },
): { logits: number[]; h: number[]; c: number[] } {
  const { cell, layers: L, hidden: H, vocabSize: V, embed: E } = model.config;
  const p = (name: string) => model.params.get(name).value;
  // row r of a (rows, cols) matrix times vector x
  const matVec = (W: ArrayLike<number>, row: number, cols: number, x: number[]): number => {
    let s = 0;
    for (let k = 0; k < cols; k++) s += W[row * cols + k]! * x[k]!;
    return s;
  };
  const h = Array.from(initial.h);
  const c = initial.c ? Array.from(initial.c) : [];
  const logits: number[] = [];
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const token = inputs[t * B + b]!;
      let x: number[];
      if (E > 0) x = Array.from(p("embedding.weight").slice(token * E, token * E + E));
      else x = Array.from({ length: V }, (_, v) => (v === token ? 1 : 0));
      for (let l = 0; l < L; l++) {
        const D = x.length;
        const Wih = p(`weight_ih_l${l}`), Whh = p(`weight_hh_l${l}`), bih = p(`bias_ih_l${l}`), bhh = p(`bias_hh_l${l}`);
        const hPrev = h.slice((l * B + b) * H, (l * B + b + 1) * H);
        const xi = (row: number) => matVec(Wih, row, D, x) + bih[row]!;
        const hh = (row: number) => matVec(Whh, row, H, hPrev) + bhh[row]!;
        const hNew: number[] = [];
        if (cell === "rnn") {
          for (let j = 0; j < H; j++) {
            const pre = xi(j) + hh(j);
            hNew.push(model.config.activation === "relu" ? Math.max(0, pre) : Math.tanh(pre));
          }
        } else if (cell === "lstm") {
          for (let j = 0; j < H; j++) {
            const i = sigmoid(xi(j) + hh(j));
            const f = sigmoid(xi(H + j) + hh(H + j));
            const g = Math.tanh(xi(2 * H + j) + hh(2 * H + j));
            const o = sigmoid(xi(3 * H + j) + hh(3 * H + j));
            const ci = (l * B + b) * H + j;
            c[ci] = f * c[ci]! + i * g;
            hNew.push(o * Math.tanh(c[ci]!));
          }
        } else {
          for (let j = 0; j < H; j++) {
            const r = sigmoid(xi(j) + hh(j));
            const z = sigmoid(xi(H + j) + hh(H + j));
            const n = Math.tanh(xi(2 * H + j) + r * hh(2 * H + j));
            hNew.push((1 - z) * n + z * hPrev[j]!);
          }
        }
        for (let j = 0; j < H; j++) h[(l * B + b) * H + j] = hNew[j]!;
        x = hNew;
      }
      for (let v = 0; v < V; v++) logits[(t * B + b) * V + v] = matVec(p("decoder.weight"), v, H, x) + p("decoder.bias")[v]!;
    }
  }
  return { logits, h, c };
}
