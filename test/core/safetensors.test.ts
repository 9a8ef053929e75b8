// The safetensors container and the charnn ⇄ PyTorch mapping, without Python: the bytes we write
// (padding, offsets, string metadata), half and bfloat16 widening, the names and layouts of
// learned initial states, and rows put back into charnn's sorted vocabulary on import.

import { describe, expect, it } from "vitest";
import { parameterShapes, type ModelConfig } from "../../src/core/nn/params.js";
import { decodeSafetensors, encodeSafetensors, halfToFloat, type Float32Tensor } from "../../src/core/safetensors.js";
import { expectedTensors, exportMetadata, exportTensors, importParameters, planImport } from "../../src/core/safetensors-model.js";

const config = (overrides: Partial<ModelConfig> = {}): ModelConfig => ({
  cell: "lstm", activation: "tanh", layers: 2, hidden: 3, vocabSize: 4, embed: 0, dropout: 0, learnInit: true, ...overrides,
});

function numberedParams(model: ModelConfig): Record<string, Float32Tensor> {
  let next = 0;
  const params: Record<string, Float32Tensor> = {};
  for (const [name, shape] of parameterShapes(model)) {
    params[name] = { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => next++) };
  }
  return params;
}

describe("safetensors bytes", () => {
  it("pads the header with spaces to 8 bytes and lays tensors out contiguously in order", () => {
    const bytes = encodeSafetensors([["a", { shape: [2], data: Float32Array.of(1.5, -2) }], ["b", { shape: [1, 1], data: Float32Array.of(3) }]], { note: "x" });
    const length = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(length % 8).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + length));
    expect(header.trimEnd().endsWith("}")).toBe(true);
    expect(/^[ ]*$/.test(header.slice(header.trimEnd().length))).toBe(true);
    const parsed = JSON.parse(header);
    expect(parsed.a.data_offsets).toEqual([0, 8]);
    expect(parsed.b.data_offsets).toEqual([8, 12]);
    expect(bytes.length).toBe(8 + length + 12);
    const decoded = decodeSafetensors(bytes, "t");
    expect([...decoded.tensors.get("a")!.data]).toEqual([1.5, -2]);
    expect(decoded.header.metadata).toEqual({ note: "x" });
  });

  it("widens float16 exactly", () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x3555)).toBeCloseTo(1 / 3, 3);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
  });

  it("reads bfloat16 as the top half of a float32", () => {
    const header = JSON.stringify({ x: { dtype: "BF16", shape: [2], data_offsets: [0, 4] } });
    const bytes = new Uint8Array(8 + header.length + 4);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(new TextEncoder().encode(header), 8);
    const view = new DataView(bytes.buffer, 8 + header.length);
    view.setUint16(0, 0x3f80, true); // 1.0
    view.setUint16(2, 0xc0a0, true); // -5.0
    expect([...decodeSafetensors(bytes, "t").tensors.get("x")!.data]).toEqual([1, -5]);
  });
});

describe("charnn ⇄ PyTorch names", () => {
  it("stacks learned initial states into h0 and c0 of shape (L, H), after the decoder", () => {
    const model = config();
    const tensors = exportTensors(model, numberedParams(model));
    expect(tensors.map(([name]) => name).slice(-4)).toEqual(["decoder.weight", "decoder.bias", "h0", "c0"]);
    const params = numberedParams(model);
    const h0 = tensors.find(([name]) => name === "h0")![1];
    expect(h0.shape).toEqual([2, 3]);
    expect([...h0.data]).toEqual([...params.h0_l0!.data, ...params.h0_l1!.data]);
    expect(expectedTensors(config({ cell: "gru" })).has("c0")).toBe(false);
  });

  it("writes the vocabulary, config, format and version as string metadata", () => {
    const metadata = exportMetadata(config({ embed: 2 }), [10, 97, 98, 99], "9.9.9");
    expect(Object.keys(metadata).filter((key) => key.includes("vocab"))).toEqual(["vocabulary"]);
    expect(JSON.parse(metadata.vocabulary!)).toEqual([10, 97, 98, 99]);
    expect(JSON.parse(metadata.config!)).toEqual({ cell: "lstm", activation: "tanh", layers: 2, hidden: 3, embed: 2, dropout: 0, learn_init: true });
    expect(metadata.format).toBe("pt");
    expect(metadata.charnn_version).toBe("9.9.9");
  });

  it("round-trips a model, and puts rows of a file in another order back into sorted order", () => {
    const model = config({ learnInit: false });
    const params = numberedParams(model);
    const sorted = [97, 98, 99, 100];
    const bytes = encodeSafetensors(exportTensors(model, params), exportMetadata(model, sorted, "0"));
    const { header, tensors } = decodeSafetensors(bytes, "t");
    const plan = planImport(header, "t");
    const same = importParameters(plan, (entry) => tensors.get(entry.name)!.data, "t");
    for (const [name, tensor] of Object.entries(params)) expect([...same[name]!.data], name).toEqual([...tensor.data]);

    // The same weights written with the vocabulary rows in the order d, b, a, c.
    const fileOrder = [100, 98, 97, 99];
    const shuffle = (rows: number, width: number, data: Float32Array) => {
      const out = new Float32Array(data.length);
      fileOrder.forEach((codePoint, row) => out.set(data.subarray(sorted.indexOf(codePoint) * width, (sorted.indexOf(codePoint) + 1) * width), row * width));
      return rows === 4 ? out : data;
    };
    const shuffled = { ...params };
    shuffled["decoder.weight"] = { shape: [4, 3], data: shuffle(4, 3, params["decoder.weight"]!.data) };
    shuffled["decoder.bias"] = { shape: [4], data: shuffle(4, 1, params["decoder.bias"]!.data) };
    const columns = params.weight_ih_l0!;
    const permuted = new Float32Array(columns.data.length);
    for (let r = 0; r < 12; r++) fileOrder.forEach((codePoint, column) => (permuted[r * 4 + column] = columns.data[r * 4 + sorted.indexOf(codePoint)]!));
    shuffled.weight_ih_l0 = { shape: [12, 4], data: permuted };
    const second = decodeSafetensors(encodeSafetensors(exportTensors(model, shuffled), exportMetadata(model, fileOrder, "0")), "t");
    const secondPlan = planImport(second.header, "t");
    expect(secondPlan.vocabulary).toEqual(sorted);
    const back = importParameters(secondPlan, (entry) => second.tensors.get(entry.name)!.data, "t");
    for (const [name, tensor] of Object.entries(params)) expect([...back[name]!.data], name).toEqual([...tensor.data]);
  });

  it("infers a plain state dict's model from its names and shapes", () => {
    const model = config({ cell: "gru", layers: 3, hidden: 4, embed: 2 });
    const { header } = decodeSafetensors(encodeSafetensors(exportTensors(model, numberedParams(model)), {}), "t");
    const plan = planImport(header, "t", { vocabulary: [5, 3, 4, 1] });
    expect(plan.configSource).toBe("inferred");
    expect(plan.config).toEqual({ ...model, dropout: 0 });
    expect(plan.vocabulary).toEqual([1, 3, 4, 5]);
  });
});
