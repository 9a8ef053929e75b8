// `charnn export` in-process: its arguments (CHECKPOINT OUT, or OUT with -c), its table of
// formats, and a written file that decodes back to the checkpoint's weights with nothing left
// beside it. What PyTorch makes of the file is test/python-bridge/weights.test.ts's job.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { main } from "../../src/cli/main.js";
import { decodeSafetensors } from "../../src/core/safetensors.js";
import { EXPORT_FORMATS, exportArguments, exportFormatFor } from "../../src/cli/export.js";
import { createTestIO } from "./helpers.js";

const dir = mkdtempSync(path.join(tmpdir(), "charnn-export-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]) {
  const captured = createTestIO({ cwd: dir });
  const code = await main(args, captured.io);
  return { code, stderr: captured.stderr(), stdout: captured.stdout() };
}

beforeAll(async () => {
  writeFileSync(path.join(dir, "text.txt"), "the quick brown fox jumps over the lazy dog\n".repeat(12));
  const trained = await run(["train", "text.txt", "--model", "rnn", "--layers", "1", "--hidden", "8", "--learn-init", "--steps", "2", "--batch", "2", "--seq-len", "8", "--backend", "js", "--out", "run"]);
  expect(trained.code, trained.stderr).toBe(0);
});

describe("charnn export", () => {
  it("writes the checkpoint's weights as safetensors, and nothing else beside it", async () => {
    const result = await run(["export", "run/latest.json", "--format", "safetensors", "model.safetensors"]);
    expect(result.code, result.stderr).toBe(0);
    const { tensors, header } = decodeSafetensors(new Uint8Array(readFileSync(path.join(dir, "model.safetensors"))), "model");
    const checkpoint = JSON.parse(readFileSync(path.join(dir, "run", "latest.json"), "utf8"));
    expect([...tensors.keys()]).toEqual(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "decoder.weight", "decoder.bias", "h0"]);
    const decoder = new Float32Array(new Uint8Array(Buffer.from(checkpoint.params["decoder.weight"].data, "base64")).buffer);
    expect([...tensors.get("decoder.weight")!.data]).toEqual([...decoder]);
    expect(JSON.parse(header.metadata.vocabulary!)).toEqual(checkpoint.vocabulary);
    expect(readdirSync(dir).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("takes the checkpoint from -c, and the format from OUT's extension", async () => {
    const result = await run(["export", "-c", "run/latest.json", "other.safetensors"]);
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(path.join(dir, "other.safetensors"))).toEqual(readFileSync(path.join(dir, "model.safetensors")));
  });

  it("lists its formats in a table, safetensors among them", () => {
    expect(Object.keys(EXPORT_FORMATS)).toContain("safetensors");
    expect(exportFormatFor(undefined, "x.safetensors")[0]).toBe("safetensors");
    expect(exportArguments({ paths: ["a.json", "b.safetensors"], best: false })).toEqual({ checkpoint: "a.json", out: "b.safetensors" });
  });

  it.each([
    ["an unknown format", ["export", "run/latest.json", "--format", "onnx", "m.onnx"], 2, /unknown export format "onnx" \(formats: safetensors/],
    ["an OUT that names no format", ["export", "run/latest.json", "model.bin"], 2, /pass --format/],
    ["two checkpoints", ["export", "-c", "run/latest.json", "elsewhere.json", "m.safetensors"], 2, /two checkpoints given/],
    ["a missing checkpoint", ["export", "nowhere/latest.json", "m.safetensors"], 3, /no checkpoint at/],
  ])("refuses %s", async (_what, args, code, message) => {
    const result = await run(args as string[]);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message as RegExp);
    expect(readdirSync(dir)).not.toContain("m.safetensors");
  });
});
