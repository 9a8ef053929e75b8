// Parity with PyTorch on the same weights and batch: loss, logits, final state, every gradient
// (and the gradient of the carried-in state), for every cell type, 1–3 layers, learned initial
// state and embedding input. Computed in float64 on both sides, so the 1e-5 tolerance asked for
// is loose; a float32 run is checked too, at float32 precision, on every float32 backend.

import { afterAll, describe, expect, it } from "vitest";
import { naiveKernels } from "../../../src/core/tensor/kernels-naive.js";
import { jsKernels } from "../../../src/core/tensor/kernels.js";
import type { Kernels } from "../../../src/core/tensor/kernels.js";
import { buildFromCase, readFixture, worstError, type ParityCase } from "../../helpers/fixtures.js";
import { float32Backends } from "../../helpers/backends.js";

const backends = float32Backends();
afterAll(() => backends.dispose());

const fixture = readFixture<{ cases: ParityCase[] }>("torch-parity.json");
/** 1e-5 relative, with an absolute floor of 1e-8 for values near zero. */
const RELATIVE = 1e-5;
const FLOOR = 1e-8;

function run(c: ParityCase, dtype: "float32" | "float64", kernels: Kernels = jsKernels) {
  const built = buildFromCase(c, dtype, kernels);
  const { model, workspace, state } = built;
  if (c.initialState) {
    state.h.set(c.initialState.h);
    if (state.c) state.c.set(c.initialState.c!);
  }
  const loss = workspace.forward(Int32Array.from(c.inputs), Int32Array.from(c.targets), state, { fromInit: c.learnInit });
  model.params.zeroGrads();
  workspace.backward();
  return { ...built, loss };
}

describe("PyTorch parity (float64)", () => {
  it("covers every cell type, 1–3 layers, learned initial state and embedding", () => {
    const names = fixture.cases.map((c) => c.name);
    for (const expected of ["rnn-relu-l2", "lstm-l3", "gru-l3", "lstm-l2-learninit", "gru-l1-embed4"]) expect(names).toContain(expected);
  });

  describe.each(fixture.cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const { model, workspace, state, loss } = run(c, "float64");

    it("loss and logits", () => {
      expect(Math.abs(loss - c.loss) / c.loss).toBeLessThan(RELATIVE);
      expect(worstError(workspace.logits, c.logits, FLOOR)).toBeLessThan(RELATIVE);
    });

    it("final state", () => {
      expect(worstError(state.h, c.finalState.h, FLOOR)).toBeLessThan(RELATIVE);
      if (c.cell === "lstm") expect(worstError(state.c!, c.finalState.c!, FLOOR)).toBeLessThan(RELATIVE);
    });

    it("every parameter gradient", () => {
      for (const view of model.params.views) {
        const error = worstError(view.grad, c.grads[view.name]!, FLOOR);
        expect(error, view.name).toBeLessThan(RELATIVE);
      }
    });

    it.skipIf(c.initialStateGrad === null)("gradient of the carried-in state", () => {
      const { layers: L, batch: B, hidden: H } = c;
      for (let l = 0; l < L; l++) {
        const expectedH = c.initialStateGrad!.h.slice(l * B * H, (l + 1) * B * H);
        expect(worstError(workspace.initialHGrad(l), expectedH, FLOOR)).toBeLessThan(RELATIVE);
        if (c.cell === "lstm") {
          const expectedC = c.initialStateGrad!.c!.slice(l * B * H, (l + 1) * B * H);
          expect(worstError(workspace.initialCGrad(l), expectedC, FLOOR)).toBeLessThan(RELATIVE);
        }
      }
    });

    it("the naive reference kernels give the same gradients", () => {
      const naive = run(c, "float64", naiveKernels);
      expect(Math.abs(naive.loss - loss)).toBeLessThan(1e-12);
      expect(worstError(naive.model.params.grads, model.params.grads, 1e-12)).toBeLessThan(1e-9);
    });

    it.each(backends.list)("float32 agrees at float32 precision (%s)", (_backend, kernels) => {
      const single = run(c, "float32", kernels);
      expect(Math.abs(single.loss - c.loss) / c.loss).toBeLessThan(1e-5);
      expect(worstError(single.model.params.grads, model.params.grads, 1e-4)).toBeLessThan(2e-3);
    });
  });
});
