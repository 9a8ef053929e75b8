// The model's parameters: their names, shapes and order (PyTorch's, so its modules load them
// as they are), and one flat buffer for values and one for gradients with named views into
// both. Optimisers and clipping loop over the flat buffers; layers use the views.

import type { Arena, FloatArray } from "../tensor/arena.js";

export type CellType = "rnn" | "lstm" | "gru";

export interface ModelConfig {
  cell: CellType;
  /** Elman cell only. */
  activation: "tanh" | "relu";
  layers: number;
  hidden: number;
  vocabSize: number;
  /** 0: one-hot input (layer 0 reads V values); otherwise a learned embedding of this width. */
  embed: number;
  /** Inverted dropout on the output of every layer but the last (PyTorch's nn.LSTM rule). */
  dropout: number;
  /** A trained initial state per layer (h, and c for the LSTM) instead of zeros. */
  learnInit: boolean;
}

/** Gate rows per hidden unit: i,f,g,o for the LSTM (PyTorch order), r,z,n for the GRU. */
export const gateCount = (cell: CellType): number => (cell === "lstm" ? 4 : cell === "gru" ? 3 : 1);

export const layerInputSize = (config: ModelConfig, layer: number): number =>
  layer > 0 ? config.hidden : config.embed > 0 ? config.embed : config.vocabSize;

/** Every parameter by name with its shape, in storage order. */
export function parameterShapes(config: ModelConfig): Array<[string, number[]]> {
  const { hidden: H, vocabSize: V } = config;
  const G = gateCount(config.cell) * H;
  const shapes: Array<[string, number[]]> = [];
  if (config.embed > 0) shapes.push(["embedding.weight", [V, config.embed]]);
  for (let l = 0; l < config.layers; l++) {
    shapes.push([`weight_ih_l${l}`, [G, layerInputSize(config, l)]]);
    shapes.push([`weight_hh_l${l}`, [G, H]]);
    shapes.push([`bias_ih_l${l}`, [G]]);
    shapes.push([`bias_hh_l${l}`, [G]]);
  }
  shapes.push(["decoder.weight", [V, H]]);
  shapes.push(["decoder.bias", [V]]);
  if (config.learnInit) {
    for (let l = 0; l < config.layers; l++) {
      shapes.push([`h0_l${l}`, [H]]);
      if (config.cell === "lstm") shapes.push([`c0_l${l}`, [H]]);
    }
  }
  return shapes;
}

const product = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

export function parameterCount(config: ModelConfig): number {
  return parameterShapes(config).reduce((sum, [, shape]) => sum + product(shape), 0);
}

export interface ParameterView {
  name: string;
  shape: number[];
  /** Offset into the flat buffers. */
  offset: number;
  value: FloatArray;
  grad: FloatArray;
}

export class ParameterSet {
  /** All parameter values, one flat buffer. */
  readonly values: FloatArray;
  /** All gradients, laid out exactly like values. */
  readonly grads: FloatArray;
  readonly views: ParameterView[];
  private readonly byName = new Map<string, ParameterView>();

  constructor(config: ModelConfig, arena: Arena) {
    const total = parameterCount(config);
    this.values = arena.take(total);
    this.grads = arena.take(total);
    this.views = [];
    let offset = 0;
    for (const [name, shape] of parameterShapes(config)) {
      const length = product(shape);
      const view: ParameterView = {
        name,
        shape,
        offset,
        value: this.values.subarray(offset, offset + length),
        grad: this.grads.subarray(offset, offset + length),
      };
      this.views.push(view);
      this.byName.set(name, view);
      offset += length;
    }
  }

  get size(): number {
    return this.values.length;
  }

  get(name: string): ParameterView {
    const view = this.byName.get(name);
    if (!view) throw new Error(`no parameter named ${name}`);
    return view;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  zeroGrads(): void {
    this.grads.fill(0);
  }
}
