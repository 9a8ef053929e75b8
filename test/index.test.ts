// The library's Model in-process: a seeded sample is the text `charnn sample --seed` prints,
// evaluate() is what `charnn eval --json` reports, checkpoints round-trip through text and
// bytes, and a disposed model refuses work. The fixture is trained through the CLI in-process.

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../src/cli/main.js";
import { CharnnError, checkpointBytes, loadModel, modelFrom, parseCheckpoint, readCheckpoint, serializeCheckpoint, type Model } from "../src/index.js";
import { createTestIO } from "./cli/helpers.js";

let dir: string;
let model: Model;
const TEXT = "the cat sat on the mat.\nthe dog sat on the log.\n".repeat(20);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const captured = createTestIO({ cwd: dir });
  const code = await main(args, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "charnn-api-"));
  await writeFile(join(dir, "corpus.txt"), TEXT);
  const trained = await cli(["train", "corpus.txt", "--out", "run", "--steps", "15", "--hidden", "16", "--layers", "1", "--batch", "2", "--seq-len", "8"]);
  if (trained.code !== 0) throw new Error(`training the fixture failed: ${trained.stderr}`);
  model = await loadModel(join(dir, "run"));
});

afterAll(async () => {
  model?.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe("Model.sample", () => {
  it("gives the text charnn sample gives for the same seed and options", async () => {
    for (const [settings, flags] of [
      [{ seed: 7, length: 60 }, ["--seed", "7", "--length", "60"]],
      [{ seed: 3, length: 40, temp: 0.5, topK: 5, prime: "the " }, ["--seed", "3", "--length", "40", "--temp", "0.5", "--top-k", "5", "--prime", "the "]],
      [{ seed: 11, length: 80, topP: 0.9, stop: "." }, ["--seed", "11", "--length", "80", "--top-p", "0.9", "--stop", "."]],
      [{ temp: 0, length: 30 }, ["--temp", "0", "--length", "30", "--seed", "1"]],
    ] as const) {
      const fromCli = await cli(["sample", "-c", "run/latest.json", "--json", ...flags]);
      expect(fromCli.code).toBe(0);
      const expected = JSON.parse(fromCli.stdout) as { text: string; prime: string; logProbability: number };
      const stream = model.sample(settings);
      expect(stream.logProbability).toBe(0);
      expect([...stream].join("")).toBe(expected.text);
      expect(stream.prime).toBe(expected.prime);
      expect(stream.logProbability).toBe(expected.logProbability);
    }
  });

  it("yields one character at a time and reports the seed it chose", () => {
    const stream = model.sample({ length: 25 });
    const characters = [...stream];
    expect(characters).toHaveLength(25);
    for (const character of characters) expect([...character]).toHaveLength(1);
    expect(Number.isInteger(stream.seed)).toBe(true);
    expect(model.sampleText({ length: 25, seed: stream.seed })).toBe(characters.join(""));
  });

  it("refuses prime characters the model never saw unless told to skip them, with a stable code", () => {
    let caught: unknown;
    try {
      model.sample({ prime: "the Z" });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CharnnError);
    expect((caught as CharnnError).code).toBe("prime.unknown-characters");
    expect((caught as CharnnError).exitCode).toBe(3);
    expect((caught as CharnnError).facts).toEqual({ count: 1, characters: ["Z"] });
    expect(model.sample({ prime: "the Z", unknown: "skip", seed: 1 }).prime).toBe("the ");
  });

  it("checks its settings by the CLI's rules and rejects unknown ones", () => {
    expect(() => model.sample({ temp: -1 })).toThrow(CharnnError);
    expect(() => model.sample({ temp: 0, topK: 3 })).toThrow(/no effect with temp 0/);
    expect(() => model.sample({ temperature: 1 } as never)).toThrow(/unknown sample setting "temperature"/);
  });
});

describe("Model.evaluate", () => {
  it("reports what charnn eval --json reports for the same text", async () => {
    const text = "the cat sat on the log.\nthe Dog sat!\n";
    await writeFile(join(dir, "held-out.txt"), text);
    const fromCli = await cli(["eval", "-c", "run/latest.json", "--json", "held-out.txt"]);
    expect(fromCli.code).toBe(0);
    const expected = JSON.parse(fromCli.stdout) as Record<string, unknown>;
    const evaluation = model.evaluate(text);
    expect(evaluation).toEqual({
      nats: expected.nats, bits: expected.bits, perplexity: expected.perplexity, predictions: expected.predictions,
      characters: expected.characters, lossSum: expected.lossSum, unknown: expected.unknown,
    });
    expect(evaluation.unknown.count).toBe(2);
    expect(evaluation.bits).toBeCloseTo(evaluation.nats / Math.LN2, 12);
  });

  it("needs two known characters", () => {
    expect(() => model.evaluate("t")).toThrow(expect.objectContaining({ code: "eval.too-short" }));
  });
});

describe("Model.trace", () => {
  it("gives every layer's states per character and predictions whose losses sum to evaluate's", () => {
    const text = "the cat sat on the log.\nthe Dog!";
    const vocabularySize = model.info.vocabularySize;
    const trace = model.trace(text, { top: vocabularySize });
    const known = [...text].filter((c) => c !== "D" && c !== "!");
    expect(trace.characters).toEqual(known);
    expect(trace).toMatchObject({ cell: "lstm", layers: 1, hidden: 16 });
    expect(trace.h).toHaveLength(known.length * 1 * 16);
    expect(trace.c).toHaveLength(known.length * 1 * 16);
    expect(new Map(trace.skipped)).toEqual(new Map([[0x44, 1], [0x21, 1]]));
    // −Σ ln p(next character) over the trace is the loss evaluate() sums, by another path.
    let lossSum = 0;
    for (let t = 0; t + 1 < known.length; t++) {
      const next = trace.predictions[t]!.find((prediction) => prediction.text === known[t + 1]);
      lossSum -= Math.log(next!.probability);
    }
    expect(lossSum).toBeCloseTo(model.evaluate(text).lossSum, 3);
    for (const predictions of trace.predictions) {
      expect(predictions).toHaveLength(vocabularySize);
      expect(predictions.reduce((sum, p) => sum + p.probability, 0)).toBeCloseTo(1, 5);
    }
  });
});

describe("checkpoints in memory", () => {
  it("round-trip through text and bytes, and a model from either samples the same", async () => {
    const text = await readFile(join(dir, "run", "latest.json"), "utf8");
    const state = parseCheckpoint(text);
    expect(serializeCheckpoint(state)).toBe(text);
    expect(new TextDecoder().decode(checkpointBytes(state))).toBe(text);
    const fromBytes = modelFrom(checkpointBytes(state), { backend: "js" });
    try {
      expect(fromBytes.sampleText({ seed: 5, length: 40 })).toBe(model.sampleText({ seed: 5, length: 40 }));
      expect(fromBytes.backend.name).toBe("js");
    } finally {
      fromBytes.dispose();
    }
    expect((await readCheckpoint(join(dir, "run"))).step).toBe(state.step);
  });

  it("reports damage with the checkpoint's code", () => {
    const broken = () => parseCheckpoint("{\"format\":\"charnn-checkpoint\"");
    expect(broken).toThrow(CharnnError);
  });
});

describe("dispose", () => {
  it("ends the model: later calls fail with model.disposed", async () => {
    const other = await loadModel(join(dir, "run", "latest.json"), { backend: "wasm", threads: 2 });
    expect(other.backend).toEqual({ name: "wasm", threads: 2 });
    other.dispose();
    other.dispose();
    expect(() => other.sampleText({ length: 1 })).toThrow(expect.objectContaining({ code: "model.disposed" }));
    expect(() => other.evaluate("the cat")).toThrow(expect.objectContaining({ code: "model.disposed" }));
  });
});
