// `charnn eval` in-process through main(): the reported numbers against a one-step pass with a
// float64 log-softmax computed here, stdin and several files, the unknown-character rule,
// --per-line order and its "-" lines, --json, and the errors.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { modelFromCheckpoint } from "../../src/core/checkpoint/load.js";
import { lineStartStateOf } from "../../src/core/sample/start-state.js";
import { loadCheckpointFile } from "../../src/node/store.js";
import { selectKernels } from "../../src/node/backend.js";
import { main } from "../../src/cli/main.js";
import { ExitCode } from "../../src/core/errors.js";
import { Workspace } from "../../src/core/nn/model.js";
import { createTestIO } from "./helpers.js";

let dir: string;
const TRAINING_TEXT = "the quick brown fox jumps over the lazy dog\nand the dog runs far away from the fox\n".repeat(30);
const EVAL_TEXT = "the lazy fox runs over the brown dog\nthe quick dog jumps far away\n".repeat(12);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "charnn-eval-"));
  await writeFile(join(dir, "corpus.txt"), TRAINING_TEXT);
  await writeFile(join(dir, "text.txt"), EVAL_TEXT);
  const { io, stderr } = createTestIO({ cwd: dir });
  const code = await main(["train", "corpus.txt", "--out", "run", "--steps", "20", "--hidden", "16", "--layers", "1", "--batch", "2", "--seq-len", "8"], io);
  if (code !== 0) throw new Error(`training the fixture failed: ${stderr()}`);
  // A model whose vocabulary has no newline (one file without one): --per-line has no context.
  await writeFile(join(dir, "flat.txt"), "abcab cabca bcabc ".repeat(20));
  const flat = createTestIO({ cwd: dir });
  if ((await main(["train", "flat.txt", "--out", "flat", "--steps", "5", "--hidden", "8", "--layers", "1", "--batch", "2", "--seq-len", "8"], flat.io)) !== 0) {
    throw new Error(`training the second fixture failed: ${flat.stderr()}`);
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function evaluate(args: string[], stdin?: string) {
  const captured = createTestIO({ cwd: dir, ...(stdin === undefined ? {} : { stdin }) });
  const code = await main(["eval", "-c", "run/latest.json", ...args], captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

/**
 * Σ −ln p(next | before) over `text`, one character at a time from the initial state, with the
 * log-softmax computed here in float64. Characters outside the vocabulary must already be gone.
 */
async function referenceLossSum(text: string, from: "initial" | "line state" = "initial"): Promise<{ lossSum: number; predictions: number }> {
  const checkpoint = await loadCheckpointFile(join(dir, "run", "latest.json"));
  const kernels = selectKernels("auto");
  const { model, vocabulary } = modelFromCheckpoint(checkpoint, kernels);
  const workspace = new Workspace(model, 1, 1, kernels.newArena("float32", Workspace.arenaFloats(model.config, 1, 1, "float32")), kernels);
  const state = model.newState(1);
  const lineState = from === "line state" ? lineStartStateOf(model, checkpoint.startState) : null;
  if (from === "line state" && lineState === null) throw new Error("the checkpoint has no line state");
  if (lineState !== null) {
    state.h.set(lineState.h);
    if (state.c !== null) state.c.set(lineState.c!);
  }
  const tokens = [...text].map((c) => vocabulary.indexOf(c.codePointAt(0)!));
  if (tokens.includes(-1)) throw new Error("the reference takes known characters only");
  const input = new Int32Array(1);
  const V = vocabulary.size;
  let lossSum = 0;
  for (let i = 0; i + 1 < tokens.length; i++) {
    input[0] = tokens[i]!;
    workspace.forward(input, null, state, { fromInit: i === 0 && lineState === null });
    const logits = workspace.logits;
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[v]!);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[v]! - max);
    lossSum += Math.log(sum) + max - logits[tokens[i + 1]!]!;
  }
  return { lossSum, predictions: tokens.length - 1 };
}

// A windowed pass and the one-step reference agree to float32 rounding of the logits.
const RELATIVE = 1e-6;

describe("charnn eval: the score", () => {
  it("--json reports the total, nats, bits = nats / ln 2 and perplexity = e^nats of an independent pass", async () => {
    const { code, stdout, stderr } = await evaluate(["text.txt", "--json"]);
    expect(code).toBe(0);
    expect(stderr).toBe("");
    const result = JSON.parse(stdout);
    const reference = await referenceLossSum(EVAL_TEXT);
    expect(result.predictions).toBe(EVAL_TEXT.length - 1);
    expect(result.characters).toBe(EVAL_TEXT.length);
    expect(Math.abs(result.lossSum - reference.lossSum)).toBeLessThan(RELATIVE * reference.lossSum);
    const nats = reference.lossSum / reference.predictions;
    expect(result.nats).toBeCloseTo(nats, 5);
    expect(result.bits).toBeCloseTo(result.nats / Math.LN2, 12);
    expect(result.perplexity).toBeCloseTo(Math.exp(result.nats), 10);
    expect(result.unknown).toEqual({ count: 0, characters: [] });
    expect(result.inputs).toEqual(["text.txt"]);
    expect(result.checkpoint).toBe("run/latest.json");
  });

  it("prints one line with the same numbers by default", async () => {
    const json = JSON.parse((await evaluate(["text.txt", "--json"])).stdout);
    const { code, stdout } = await evaluate(["text.txt"]);
    expect(code).toBe(0);
    const match = /^(\d+\.\d{6}) nats\/char {2}(\d+\.\d{6}) bits\/char {2}perplexity (\d+\.\d{4}) {2}(\d+) characters predicted\n$/.exec(stdout);
    expect(match).not.toBeNull();
    expect(match![1]).toBe(json.nats.toFixed(6));
    expect(match![2]).toBe(json.bits.toFixed(6));
    expect(match![3]).toBe(json.perplexity.toFixed(4));
    expect(Number(match![4])).toBe(EVAL_TEXT.length - 1);
  });

  it("prints counts with thousands separators; --json keeps plain numbers", async () => {
    await writeFile(join(dir, "long.txt"), EVAL_TEXT.repeat(2));
    const json = JSON.parse((await evaluate(["long.txt", "--json"])).stdout);
    expect(json.predictions).toBeGreaterThan(1000);
    const { stdout } = await evaluate(["long.txt"]);
    const match = / (\d{1,3}(?:,\d{3})+) characters predicted\n$/.exec(stdout);
    expect(match).not.toBeNull();
    expect(Number(match![1]!.replaceAll(",", ""))).toBe(json.predictions);
  });

  it("reads stdin for -, and joins several inputs with a newline", async () => {
    const fromFile = JSON.parse((await evaluate(["text.txt", "--json"])).stdout);
    const fromStdin = JSON.parse((await evaluate(["-", "--json"], EVAL_TEXT)).stdout);
    expect(fromStdin.lossSum).toBe(fromFile.lossSum);
    await writeFile(join(dir, "a.txt"), "the fox runs");
    await writeFile(join(dir, "b.txt"), "over the dog");
    await writeFile(join(dir, "ab.txt"), "the fox runs\nover the dog");
    const joined = JSON.parse((await evaluate(["a.txt", "b.txt", "--json"])).stdout);
    const single = JSON.parse((await evaluate(["ab.txt", "--json"])).stdout);
    expect(joined.lossSum).toBe(single.lossSum);
    expect(joined.predictions).toBe(24);
  });

  it("drops characters outside the vocabulary before scoring, counts them and names them", async () => {
    await writeFile(join(dir, "unknown.txt"), "the Zébra fox ran é over\n");
    await writeFile(join(dir, "known.txt"), "the bra fox ran  over\n");
    const { code, stdout, stderr } = await evaluate(["unknown.txt", "--json"]);
    expect(code).toBe(0);
    const withUnknown = JSON.parse(stdout);
    const without = JSON.parse((await evaluate(["known.txt", "--json"])).stdout);
    expect(withUnknown.lossSum).toBe(without.lossSum);
    expect(withUnknown.predictions).toBe(without.predictions);
    expect(withUnknown.unknown).toEqual({
      count: 3,
      characters: [
        { character: "é", codePoint: 0xe9, count: 2 },
        { character: "Z", codePoint: 0x5a, count: 1 },
      ],
    });
    expect(stderr).toBe('note: left out 3 character(s) the model never saw (not fed, not scored): "é" (U+00E9) x2, "Z" (U+005A)\n');
  });
});

describe("charnn eval --per-line", () => {
  const lines = ["the lazy dog", "", "ZZZ", "dog runs far", "x"];

  it("scores each line on its own after a newline from the line state, in input order, with - for nothing to score", async () => {
    await writeFile(join(dir, "lines.txt"), lines.join("\n") + "\n");
    const { code, stdout, stderr } = await evaluate(["lines.txt", "--per-line"]);
    expect(code).toBe(0);
    const printed = stdout.split("\n").slice(0, -1);
    expect(printed).toHaveLength(lines.length);
    for (const [i, line] of lines.entries()) {
      const [bits, text] = printed[i]!.split("\t");
      expect(text).toBe(line);
      if (line === "" || line === "ZZZ") {
        expect(bits).toBe("-");
        continue;
      }
      const reference = await referenceLossSum("\n" + line, "line state");
      expect(reference.predictions).toBe([...line].length);
      expect(Number(bits)).toBeCloseTo(reference.lossSum / reference.predictions / Math.LN2, 3);
      // Not the newline read from the initial state, which scores differently.
      const fromInitial = await referenceLossSum("\n" + line);
      expect(Math.abs(fromInitial.lossSum - reference.lossSum)).toBeGreaterThan(1e-3);
    }
    expect(stderr).toContain('left out 3 character(s) the model never saw (not fed, not scored): "Z" (U+005A) x3');
  });

  it("does not depend on the lines around it", async () => {
    const alone = (await evaluate(["-", "--per-line"], "dog runs far\n")).stdout;
    const among = (await evaluate(["-", "--per-line"], "the fox\ndog runs far\nover\n")).stdout.split("\n")[1];
    expect(among + "\n").toBe(alone);
  });

  it("without a newline in the vocabulary, a line of n characters gives n-1 predictions", async () => {
    const captured = createTestIO({ cwd: dir, stdin: "abc\nb\ncab\n" });
    expect(await main(["eval", "-c", "flat/latest.json", "--per-line", "--json", "-"], captured.io)).toBe(0);
    const objects = captured.stdout().trimEnd().split("\n").map((line) => JSON.parse(line));
    expect(objects.map((o) => o.predictions)).toEqual([2, 0, 2]);
    expect(objects[1].bits).toBeNull();
  });

  it("--json gives one object per line", async () => {
    const { stdout } = await evaluate(["-", "--per-line", "--json"], "the dog\n\nfar é\n");
    const objects = stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
    expect(objects.map((o) => [o.line, o.text, o.predictions, o.unknown])).toEqual([
      [1, "the dog", 7, 0],
      [2, "", 0, 0],
      [3, "far é", 4, 1],
    ]);
    expect(objects[1].bits).toBeNull();
    expect(objects[0].bits).toBeCloseTo(objects[0].nats / Math.LN2, 12);
  });
});

describe("charnn eval --help", () => {
  it("states the unknown-character rule and the per-line context", async () => {
    const captured = createTestIO();
    expect(await main(["eval", "--help"], captured.io)).toBe(0);
    const help = captured.stdout().replace(/\s+/g, " ");
    expect(help).toContain("Characters outside the model's vocabulary are dropped before scoring (neither fed nor predicted)");
    expect(help).toContain("from the checkpoint's line state");
    expect(help).toContain("after a newline as context");
  });
});

describe("charnn eval: errors", () => {
  it("a text with fewer than two known characters is bad input, exit 3", async () => {
    const { code, stdout, stderr } = await evaluate(["-"], "Z");
    expect(code).toBe(ExitCode.badInput);
    expect(stdout).toBe("");
    expect(stderr).toContain("nothing to score in <stdin>: 0 known character(s), at least 2 are needed");
  });

  it("a missing checkpoint or input file is bad input, exit 3", async () => {
    expect((await evaluate(["-c", "none/latest.json", "text.txt"])).code).toBe(ExitCode.badInput);
    const missing = await evaluate(["no-such.txt"]);
    expect(missing.code).toBe(ExitCode.badInput);
    expect(missing.stderr).toContain("no such file: no-such.txt");
  });
});
