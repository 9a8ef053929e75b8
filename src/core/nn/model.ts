// The character model: L stacked recurrent layers between an input (one-hot or embedding) and a
// linear decoder to V logits, with softmax cross-entropy at every step. CharModel owns the
// parameters; a Workspace owns every buffer that a window of T steps of B streams needs, so a
// training step allocates nothing. Not here: optimisers, batching, files.

import { arenaFloatsFor, type Arena, type DType, type FloatArray } from "../tensor/arena.js";
import { packedFloats, type Kernels } from "../tensor/kernels.js";
import { normal, type Rng } from "../tensor/rng.js";
import type { Cell, CellWeights, LayerBuffers } from "./cell.js";
import { gruCell } from "./gru.js";
import { lstmCell } from "./lstm.js";
import { gateCount, layerInputSize, parameterCount, ParameterSet, type ModelConfig } from "./params.js";
import { elmanCell } from "./rnn.js";

export function cellFor(config: ModelConfig): Cell {
  if (config.cell === "lstm") return lstmCell;
  if (config.cell === "gru") return gruCell;
  return elmanCell(config.activation === "relu");
}

/** The recurrent state carried between windows: (L, B, H) each; c only for the LSTM. */
export interface RecurrentState {
  h: FloatArray;
  c: FloatArray | null;
}

export class CharModel {
  readonly config: ModelConfig;
  readonly params: ParameterSet;
  readonly dtype: DType;

  /** Floats the parameters and their gradients take in an arena. */
  static arenaFloats(config: ModelConfig, dtype: DType): number {
    const n = parameterCount(config);
    return arenaFloatsFor([n, n], dtype);
  }

  constructor(config: ModelConfig, arena: Arena) {
    this.config = config;
    this.dtype = arena.dtype;
    this.params = new ParameterSet(config, arena);
  }

  /**
   * PyTorch's default initialisation, so that training behaves like its modules: recurrent and
   * decoder weights and biases uniform in ±1/√H (torch.nn.LSTM, nn.Linear with fan-in H), the
   * embedding N(0, 1) (nn.Embedding). The LSTM forget-gate bias starts at 1 (Jozefowicz et al.
   * 2015, "An Empirical Exploration of Recurrent Network Architectures"): b_ih's f block is 1 and
   * b_hh's f block 0, so their sum is 1. Learned initial states start at zero.
   */
  initialize(rng: Rng): void {
    const { hidden: H } = this.config;
    const bound = 1 / Math.sqrt(H);
    for (const view of this.params.views) {
      const v = view.value;
      if (view.name === "embedding.weight") for (let i = 0; i < v.length; i++) v[i] = normal(rng);
      else if (/^[hc]0_l/.test(view.name)) v.fill(0);
      else for (let i = 0; i < v.length; i++) v[i] = (rng.next() * 2 - 1) * bound;
    }
    if (this.config.cell === "lstm") {
      for (let l = 0; l < this.config.layers; l++) {
        this.params.get(`bias_ih_l${l}`).value.fill(1, H, 2 * H);
        this.params.get(`bias_hh_l${l}`).value.fill(0, H, 2 * H);
      }
    }
  }

  /** A zero state for B streams. */
  newState(B: number, dtype: DType = this.dtype): RecurrentState {
    const n = this.config.layers * B * this.config.hidden;
    const make = (): FloatArray => (dtype === "float32" ? new Float32Array(n) : new Float64Array(n));
    return { h: make(), c: this.config.cell === "lstm" ? make() : null };
  }

  /** Writes the initial state (learned, or zeros) into `state`, shape (L, 1, H), as a forward's fromInit reads it. */
  writeInitialState(state: RecurrentState): void {
    const { layers: L, hidden: H, learnInit, cell } = this.config;
    if (!learnInit) {
      state.h.fill(0);
      state.c?.fill(0);
      return;
    }
    for (let l = 0; l < L; l++) {
      state.h.set(this.params.get(`h0_l${l}`).value, l * H);
      if (cell === "lstm") state.c!.set(this.params.get(`c0_l${l}`).value, l * H);
    }
  }
}

interface Layer {
  buf: LayerBuffers;
  weights: CellWeights;
  wIh: FloatArray;
  bIh: FloatArray;
  dWIh: FloatArray;
  dBIh: FloatArray;
  inputSize: number;
  /** (T, B, H) the dropout mask on this layer's output (scale 0 or 1/(1−p)); empty when unused. */
  mask: FloatArray;
  /** (T, B, H) this layer's output after dropout, the next layer's input; empty when unused. */
  dropped: FloatArray;
}

export interface ForwardOptions {
  /** Steps in this window (≤ the workspace's T; shorter for the end of a text). */
  steps?: number;
  /** Training mode: dropout on. Needs rng when the model has dropout. */
  training?: boolean;
  rng?: Rng;
  /** Start from the initial state (learned, or zeros) rather than the carried one. */
  fromInit?: boolean;
  /**
   * The caller promises no weight changed since this workspace's previous forward, so the packed
   * copies of W_hh are reused (the sampler's one-character steps, where packing would cost as
   * much as the step itself).
   */
  weightsUnchanged?: boolean;
}

/** Buffer lengths of a workspace, in the order they are taken; used to size an arena. */
function workspaceLengths(config: ModelConfig, B: number, T: number, withDropout: boolean): number[] {
  const { hidden: H, vocabSize: V } = config;
  const G = gateCount(config.cell) * H;
  const lengths: number[] = [];
  for (let l = 0; l < config.layers; l++) {
    const isGru = config.cell === "gru", isLstm = config.cell === "lstm", isRnn = config.cell === "rnn";
    lengths.push(
      isRnn ? 0 : T * B * G, // xProj (the Elman cell projects into hs directly)
      isGru ? T * B * G : 0, // hProj
      (T + 1) * B * H, // hs
      isLstm ? (T + 1) * B * H : 0, // cs
      isLstm ? T * B * H : 0, // tanhC
      T * B * H, // dOut
      // An LSTM's dGates overwrite its gate activations (xProj) in place: the backward step reads
      // each element's four gates just before it writes their gradients, and nothing reads them after.
      isLstm ? 0 : T * B * G, // dGates
      isGru ? T * B * G : 0, // dHh
      B * H, // dh
      B * H, // dc
      withDropout && l < config.layers - 1 ? T * B * H : 0, // mask
      withDropout && l < config.layers - 1 ? T * B * H : 0, // dropped
      packedFloats(H, G), // W_hh packed for the forward steps
      packedFloats(G, H), // W_hh packed for the backward steps
    );
  }
  const E = config.embed;
  lengths.push(E > 0 ? T * B * E : 0, E > 0 ? T * B * E : 0); // embedded input and its gradient
  lengths.push(T * B * V, T * B * V); // logits, dLogits
  return lengths;
}

/**
 * Everything one window of T steps of B streams needs, allocated once from an arena. forward()
 * computes the loss; backward() adds the gradients into the model's gradient buffer.
 */
export class Workspace {
  readonly model: CharModel;
  readonly batch: number;
  readonly maxSteps: number;
  /** (T, B, V) */
  readonly logits: FloatArray;
  /** (T, B, V) ∂L/∂logits of the last forward with targets. */
  readonly dLogits: FloatArray;
  private readonly kernels: Kernels;
  private readonly cell: Cell;
  private readonly layers: Layer[];
  /** (T, B, E) */
  private readonly embedded: FloatArray;
  private readonly dEmbedded: FloatArray;
  private inputs: Int32Array = new Int32Array(0);
  private steps = 0;
  private startedFromInit = false;
  private trainingPass = false;
  /** True once a forward has packed W_hh (weightsUnchanged may reuse it only then). */
  private packed = false;
  /** Summed loss (nats) of the last forward with targets, over its T·B predictions. */
  lastLossSum = 0;

  static arenaFloats(config: ModelConfig, B: number, T: number, dtype: DType): number {
    return arenaFloatsFor(workspaceLengths(config, B, T, config.dropout > 0), dtype);
  }

  constructor(model: CharModel, B: number, T: number, arena: Arena, kernels: Kernels) {
    const config = model.config;
    this.model = model;
    this.batch = B;
    this.maxSteps = T;
    this.kernels = kernels;
    this.cell = cellFor(config);
    const { hidden: H } = config;
    const p = model.params;
    const lengths = workspaceLengths(config, B, T, config.dropout > 0);
    let next = 0;
    const take = (): FloatArray => arena.take(lengths[next++]!);
    this.layers = [];
    for (let l = 0; l < config.layers; l++) {
      const xProj = take(), hProj = take(), hs = take(), cs = take(), tanhC = take();
      const dOut = take(), dGates = take(), dHh = take(), dh = take(), dc = take();
      const mask = take(), dropped = take();
      const packedForward = take(), packedBackward = take();
      const buf: LayerBuffers = {
        // The Elman cell's projection goes straight into its output rows (see rnn.ts).
        xProj: config.cell === "rnn" ? hs.subarray(B * H) : xProj,
        hProj, hs, cs, tanhC, dOut,
        dGates: config.cell === "lstm" ? xProj : dGates,
        dHh: config.cell === "gru" ? dHh : config.cell === "lstm" ? xProj : dGates,
        dh, dc, packedForward, packedBackward,
      };
      this.layers.push({
        buf,
        weights: {
          wHh: p.get(`weight_hh_l${l}`).value, bHh: p.get(`bias_hh_l${l}`).value,
          dWHh: p.get(`weight_hh_l${l}`).grad, dBHh: p.get(`bias_hh_l${l}`).grad,
        },
        wIh: p.get(`weight_ih_l${l}`).value, bIh: p.get(`bias_ih_l${l}`).value,
        dWIh: p.get(`weight_ih_l${l}`).grad, dBIh: p.get(`bias_ih_l${l}`).grad,
        inputSize: layerInputSize(config, l),
        mask, dropped,
      });
    }
    this.embedded = take();
    this.dEmbedded = take();
    this.logits = take();
    this.dLogits = take();
  }

  /** Gradient of the loss with respect to layer l's initial h (B,H), after backward(). */
  initialHGrad(layer: number): FloatArray {
    return this.layers[layer]!.buf.dh;
  }

  /** Gradient with respect to layer l's initial c (B,H) (LSTM), after backward(). */
  initialCGrad(layer: number): FloatArray {
    return this.layers[layer]!.buf.dc;
  }

  /**
   * Runs the window. inputs and targets are time-major token indices (T·B, [t·B + b]). The state
   * is read as the initial state (unless fromInit) and overwritten with the final one, ready for
   * the next window. Returns the mean loss per prediction (nats), or NaN without targets.
   */
  forward(inputs: Int32Array, targets: Int32Array | null, state: RecurrentState, options: ForwardOptions = {}): number {
    const config = this.model.config;
    const k = this.kernels;
    const B = this.batch, H = config.hidden, V = config.vocabSize;
    const T = options.steps ?? this.maxSteps;
    if (T > this.maxSteps || T < 1) throw new Error(`window of ${T} steps in a workspace of ${this.maxSteps}`);
    const rows = T * B;
    const training = options.training === true;
    const useDropout = training && config.dropout > 0;
    if (useDropout && !options.rng) throw new Error("dropout needs an rng");
    this.inputs = inputs;
    this.steps = T;
    this.startedFromInit = options.fromInit === true;
    this.trainingPass = useDropout;
    const p = this.model.params;

    for (let l = 0; l < config.layers; l++) {
      const layer = this.layers[l]!;
      const { buf } = layer;
      const G = this.cell.gates * H;
      this.loadInitialState(l, state);

      // The input projection for all T steps at once: xProj (T·B, G) = x · W_ihᵀ + b_ih.
      if (l === 0 && config.embed === 0) {
        // x is one-hot, so W_ih·x is column `token` of W_ih: a lookup, the same math V times cheaper.
        k.oneHotProject(buf.xProj, inputs, rows, layer.wIh, layer.bIh, G, V);
      } else {
        let x: FloatArray, xOff: number;
        if (l === 0) {
          k.embedLookup(this.embedded, inputs, rows, p.get("embedding.weight").value, config.embed);
          x = this.embedded; xOff = 0;
        } else {
          [x, xOff] = this.layerInput(l);
        }
        k.gemm(false, true, rows, G, layer.inputSize, x, xOff, layer.inputSize, layer.wIh, 0, layer.inputSize, buf.xProj, 0, G, false);
        k.addBias(buf.xProj, 0, rows, G, layer.bIh);
      }
      if (this.cell.foldsHiddenBias) k.addBias(buf.xProj, 0, rows, G, layer.weights.bHh);

      this.cell.forward(k, buf, layer.weights, T, B, H, !(options.weightsUnchanged === true && this.packed));

      if (useDropout && l < config.layers - 1) {
        const rng = options.rng!;
        const keep = 1 - config.dropout, scale = 1 / keep;
        const n = rows * H;
        for (let i = 0; i < n; i++) layer.mask[i] = rng.next() < keep ? scale : 0;
        k.multiply(layer.dropped, buf.hs.subarray(B * H), layer.mask, n);
      }
      this.saveFinalState(l, state, T);
    }

    this.packed = true;

    // Decoder: logits (T·B, V) = y (T·B, H) · W_dᵀ + b_d, from the top layer's outputs.
    const top = this.layers[config.layers - 1]!.buf;
    const wD = p.get("decoder.weight").value;
    // With targets, the mean loss over the T·B predictions, as torch.nn.CrossEntropyLoss does by default.
    const lossSum = k.decoderForward(top.hs, B * H, rows, H, wD, p.get("decoder.bias").value, V, this.logits, targets ?? null, this.dLogits, 1 / rows);
    if (!targets) return NaN;
    this.lastLossSum = lossSum;
    return this.lastLossSum / rows;
  }

  /** Adds ∂L/∂θ of the last forward() (with targets) into the model's gradient buffer. */
  backward(): void {
    const config = this.model.config;
    const k = this.kernels;
    const B = this.batch, H = config.hidden, V = config.vocabSize, T = this.steps;
    const rows = T * B;
    const p = this.model.params;

    const top = this.layers[config.layers - 1]!;
    const decoder = p.get("decoder.weight");
    // dW_d (V,H) += dLogitsᵀ (V, T·B) · y (T·B, H); db_d += Σ dLogits; dy = dLogits · W_d.
    k.decoderBackward(this.dLogits, rows, V, top.buf.hs, B * H, H, decoder.value, decoder.grad, p.get("decoder.bias").grad, top.buf.dOut);

    for (let l = config.layers - 1; l >= 0; l--) {
      const layer = this.layers[l]!;
      const { buf } = layer;
      const G = this.cell.gates * H;
      buf.dh.fill(0);
      buf.dc.fill(0);
      this.cell.backward(k, buf, layer.weights, T, B, H);

      k.sumRows(layer.dBIh, buf.dGates, rows, G);
      if (this.cell.foldsHiddenBias) k.sumRows(layer.weights.dBHh, buf.dGates, rows, G);

      if (l === 0 && config.embed === 0) {
        k.oneHotAccumulate(layer.dWIh, buf.dGates, this.inputs, rows, G, V);
      } else {
        const [x, xOff] = l === 0 ? [this.embedded, 0] as const : this.layerInput(l);
        const D = layer.inputSize;
        // dW_ih (G,D) += dGatesᵀ (G, T·B) · x (T·B, D); dx (T·B, D) = dGates · W_ih.
        k.gemm(true, false, G, D, rows, buf.dGates, 0, G, x, xOff, D, layer.dWIh, 0, D, true);
        const dx = l === 0 ? this.dEmbedded : this.layers[l - 1]!.buf.dOut;
        k.gemm(false, false, rows, D, G, buf.dGates, 0, G, layer.wIh, 0, D, dx, 0, D, false);
        if (l === 0) k.embedAccumulate(p.get("embedding.weight").grad, this.dEmbedded, this.inputs, rows, config.embed);
        else if (this.trainingPass) {
          const below = this.layers[l - 1]!;
          k.multiply(dx, dx, below.mask, rows * D);
        }
      }
      if (this.startedFromInit && config.learnInit) {
        k.sumRows(p.get(`h0_l${l}`).grad, buf.dh, B, H);
        if (config.cell === "lstm") k.sumRows(p.get(`c0_l${l}`).grad, buf.dc, B, H);
      }
    }
  }

  /** Layer l's input: the previous layer's outputs, after dropout when training with it. */
  private layerInput(l: number): [FloatArray, number] {
    const below = this.layers[l - 1]!;
    if (this.trainingPass && below.dropped.length > 0) return [below.dropped, 0];
    return [below.buf.hs, this.batch * this.model.config.hidden];
  }

  private loadInitialState(l: number, state: RecurrentState): void {
    const { buf } = this.layers[l]!;
    const config = this.model.config;
    const B = this.batch, H = config.hidden;
    const n = B * H;
    const isLstm = config.cell === "lstm";
    if (this.startedFromInit) {
      if (config.learnInit) {
        const h0 = this.model.params.get(`h0_l${l}`).value;
        for (let b = 0; b < B; b++) buf.hs.set(h0, b * H);
        if (isLstm) {
          const c0 = this.model.params.get(`c0_l${l}`).value;
          for (let b = 0; b < B; b++) buf.cs.set(c0, b * H);
        }
      } else {
        buf.hs.fill(0, 0, n);
        if (isLstm) buf.cs.fill(0, 0, n);
      }
      return;
    }
    for (let i = 0; i < n; i++) buf.hs[i] = state.h[l * n + i]!;
    if (isLstm) for (let i = 0; i < n; i++) buf.cs[i] = state.c![l * n + i]!;
  }

  private saveFinalState(l: number, state: RecurrentState, T: number): void {
    const { buf } = this.layers[l]!;
    const n = this.batch * this.model.config.hidden;
    for (let i = 0; i < n; i++) state.h[l * n + i] = buf.hs[T * n + i]!;
    if (state.c) for (let i = 0; i < n; i++) state.c[l * n + i] = buf.cs[T * n + i]!;
  }
}
