// `charnn import` on good and bad files, in-process: every kind of damage (not safetensors,
// truncated, a header that lies about offsets, wrong names, shapes, dtypes or metadata, a model
// past the checkpoint size limit, non-finite weights) exits 3 with one line and writes nothing.

import { afterAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, openSync, ftruncateSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { main } from "../../src/cli/main.js";
import { parameterShapes, type ModelConfig } from "../../src/core/nn/params.js";
import { encodeSafetensors, type Float32Tensor } from "../../src/core/safetensors.js";
import { exportMetadata, exportTensors } from "../../src/core/safetensors-model.js";
import { createTestIO } from "./helpers.js";

const dir = mkdtempSync(path.join(tmpdir(), "charnn-import-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG: ModelConfig = { cell: "gru", activation: "tanh", layers: 2, hidden: 6, vocabSize: 5, embed: 3, dropout: 0, learnInit: true };
const VOCABULARY = [10, 32, 97, 98, 99];

function goodFile(): Uint8Array {
  const params: Record<string, Float32Tensor> = {};
  let seed = 1;
  for (const [name, shape] of parameterShapes(CONFIG)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5;
    params[name] = { shape, data };
  }
  return encodeSafetensors(exportTensors(CONFIG, params), exportMetadata(CONFIG, VOCABULARY, "0.1.0"));
}

/** The file's header as an object and its data bytes, to rewrite. */
function split(bytes: Uint8Array): { header: Record<string, any>; data: Uint8Array } {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))), data: bytes.subarray(8 + length) };
}

function join(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function rewritten(change: (header: Record<string, any>) => void, data?: (bytes: Uint8Array) => Uint8Array): Uint8Array {
  const parts = split(goodFile());
  change(parts.header);
  return join(parts.header, data ? data(parts.data) : parts.data);
}

async function importFile(bytes: Uint8Array | string, name: string, extra: string[] = []) {
  const file = path.join(dir, `${name}.safetensors`);
  writeFileSync(file, bytes);
  const out = path.join(dir, `out-${name}`);
  const captured = createTestIO({ cwd: dir });
  const code = await main(["import", file, "--out", out, ...extra], captured.io);
  return { code, stderr: captured.stderr(), out };
}

describe("charnn import", () => {
  it("turns a good file into DIR/latest.json that eval and info read", async () => {
    const result = await importFile(goodFile(), "good");
    expect(result.code, result.stderr).toBe(0);
    expect(readdirSync(result.out)).toEqual(["latest.json"]);
    const info = createTestIO({ cwd: dir });
    expect(await main(["info", path.join(result.out, "latest.json"), "--json"], info.io)).toBe(0);
    expect(JSON.parse(info.stdout()).model).toMatchObject({ cell: "gru", layers: 2, hidden: 6, embed: 3, learnInit: true });
  });

  it("writes a weights-only checkpoint: train --resume refuses it and points to --init-from", async () => {
    writeFileSync(path.join(dir, "text.txt"), "abc \n".repeat(100));
    const captured = createTestIO({ cwd: dir });
    const code = await main(["train", "text.txt", "--resume", "--out", path.join(dir, "out-good"), "--steps", "1"], captured.io);
    expect(code).not.toBe(0);
    expect(captured.stderr()).toMatch(/--init-from/);
  });

  it("refuses a folder that already holds a checkpoint, and leaves it alone", async () => {
    const again = await importFile(goodFile(), "good");
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a checkpoint/);
  });

  const good = goodFile();
  const BAD_FILES: Array<[string, () => Uint8Array | string, RegExp]> = [
    ["a text file", () => "just some text, not tensors\n", /not a safetensors file/],
    ["a charnn JSON checkpoint", () => '{"format":"charnn-checkpoint","version":1}', /not a safetensors file/],
    ["a file shorter than 8 bytes", () => new Uint8Array([1, 2, 3]), /not a safetensors file/],
    ["a header that is not JSON", () => join({}, new Uint8Array()).map((b, i) => (i === 9 ? 0x7e : b)), /not a safetensors file|not JSON/],
    ["a file cut inside its header", () => good.subarray(0, 40), /truncated/],
    ["a file cut inside its data", () => good.subarray(0, good.length - 10), /truncated/],
    ["a header whose last tensor runs past the end", () => rewritten((h) => { h.h0.shape = [2, 7]; h.h0.data_offsets[1] += 8; }), /truncated: h0 ends at data byte \d+ but the file holds/],
    ["overlapping tensors", () => rewritten((h) => { h.bias_hh_l0.data_offsets = [...h.bias_ih_l0.data_offsets]; }), /header lies.*overlaps/],
    ["a gap between tensors", () => rewritten((h) => {
      for (const entry of Object.values(h)) if (entry.data_offsets && entry.data_offsets[0] >= h.weight_hh_l0.data_offsets[0]) entry.data_offsets = entry.data_offsets.map((o: number) => o + 4);
    }, (data) => { const out = new Uint8Array(data.length + 4); const at = split(good).header.weight_hh_l0.data_offsets[0]; out.set(data.subarray(0, at)); out.set(data.subarray(at), at + 4); return out; }), /header lies.*unclaimed/],
    ["bytes after the last tensor", () => { const out = new Uint8Array(good.length + 8); out.set(good); return out; }, /header lies.*belong to none/],
    ["a size that disagrees with the shape", () => rewritten((h) => { h.h0.shape = [3, 6]; }), /header lies/],
    ["an unsupported dtype", () => rewritten((h) => { h["decoder.weight"].dtype = "I32"; }), /dtype I32 is not supported/],
    ["an unknown dtype", () => rewritten((h) => { h["decoder.weight"].dtype = "Q4"; }), /not a safetensors dtype/],
    ["a metadata value that is not a string", () => rewritten((h) => { h.__metadata__.config = JSON.parse(h.__metadata__.config); }), /must be strings/],
    ["a wrong tensor name", () => rewritten((h) => { h["dec.weight"] = h["decoder.weight"]; delete h["decoder.weight"]; }), /no tensor named decoder\.weight/],
    ["an extra tensor", () => rewritten((h) => { h.extra = { dtype: "F32", shape: [0], data_offsets: [0, 0] }; }), /unexpected tensor extra/],
    ["shapes the config does not give", () => rewritten((h) => { h.__metadata__.config = h.__metadata__.config.replace('"hidden":6', '"hidden":7'); }), /has shape .* expected/],
    ["a vocabulary of another size", () => rewritten((h) => { h.__metadata__.vocabulary = "[10,32,97,98]"; }), /vocabulary has 4 characters/],
    ["a vocabulary with a repeat", () => rewritten((h) => { h.__metadata__.vocabulary = "[10,32,97,98,98]"; }), /appears twice/],
    ["a config with an unknown key", () => rewritten((h) => { h.__metadata__.config = h.__metadata__.config.replace("{", '{"heads":2,'); }), /unknown key "heads"/],
    ["non-finite weights", () => { const bytes = new Uint8Array(good); new DataView(bytes.buffer).setFloat32(bytes.length - 4, NaN, true); return bytes; }, /holds NaN/],
  ];

  it.each(BAD_FILES.map(([what, make, message], index) => [what, make, message, index] as const))("%s: exit 3, one line, nothing written", async (_what, make, message, index) => {
    const result = await importFile(make(), `bad${index}`);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    expect(existsSync(result.out)).toBe(false);
  });

  it("refuses, before reading the tensors, a model past the checkpoint size limit", async () => {
    // A one-layer LSTM of 5000 units: 100 million parameters, 400 MB of F32 in a sparse file.
    const V = 2, H = 5000;
    const shapes: Array<[string, number[]]> = [["weight_ih_l0", [4 * H, V]], ["weight_hh_l0", [4 * H, H]], ["bias_ih_l0", [4 * H]], ["bias_hh_l0", [4 * H]], ["decoder.weight", [V, H]], ["decoder.bias", [V]]];
    const header: Record<string, unknown> = { __metadata__: { vocabulary: "[97,98]", config: JSON.stringify({ cell: "lstm", activation: "tanh", layers: 1, hidden: H, embed: 0, dropout: 0, learn_init: false }) } };
    let offset = 0;
    for (const [name, shape] of shapes) {
      const bytes = shape.reduce((a, b) => a * b, 1) * 4;
      header[name] = { dtype: "F32", shape, data_offsets: [offset, offset + bytes] };
      offset += bytes;
    }
    const head = join(header, new Uint8Array());
    const file = path.join(dir, "huge.safetensors");
    writeFileSync(file, head);
    const descriptor = openSync(file, "r+");
    ftruncateSync(descriptor, head.length + offset);
    closeSync(descriptor);
    const captured = createTestIO({ cwd: dir });
    const started = performance.now();
    const code = await main(["import", file, "--out", path.join(dir, "out-huge")], captured.io);
    expect(code).toBe(3);
    expect(captured.stderr()).toMatch(/100,\d{3},\d{3} parameters would make a checkpoint of about [\d,]+ MB/);
    expect(captured.stderr().trimEnd().split("\n")).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(existsSync(path.join(dir, "out-huge"))).toBe(false);
  });

  it("asks for --vocabulary when the file has none, and --activation must be tanh or relu", async () => {
    const bare = rewritten((h) => { delete h.__metadata__.vocabulary; });
    const missing = await importFile(bare, "no-vocabulary");
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/no vocabulary.*pass --vocabulary FILE/);
    const wrong = await importFile(good, "bad-activation", ["--activation", "sigmoid"]);
    expect(wrong.code).toBe(2);
  });
});
