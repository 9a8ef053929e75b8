// `charnn viz` and `charnn info --plot` in-process through main(), on a small LSTM trained here
// on a corpus where quoting is learnable (scripts/make_quotes_corpus.mjs): --find quotes on
// held-out text finds a unit with |r| >= 0.8 and ranks it first, while a freshly initialised
// model has none above 0.3; the terminal view at every colour level, forced into a file and
// under NO_COLOR; the HTML file needs no network; the SVG plots the checkpoint's history.

import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CheckpointState } from "../../src/core/checkpoint/format.js";
import { modelFromCheckpoint } from "../../src/core/checkpoint/load.js";
import { CharModel } from "../../src/core/nn/model.js";
import { jsKernels } from "../../src/core/tensor/kernels.js";
import { createRng } from "../../src/core/tensor/rng.js";
import { insideQuotes, rankUnits, traceArenaFloats, traceText, unitValues } from "../../src/core/viz/index.js";
import { main } from "../../src/cli/main.js";
import { ExitCode } from "../../src/core/errors.js";
import { loadCheckpointFile } from "../../src/node/store.js";
import { createTestIO, type TestIOOptions } from "./helpers.js";
import { dataOf, NETWORK_PATTERNS, plottedPoints } from "../core/viz/helpers.js";
// @ts-expect-error: a plain JavaScript script without type declarations
import { quotesCorpus } from "../../scripts/make_quotes_corpus.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
let dir: string;
let checkpoint: CheckpointState;
const heldOut: string = quotesCorpus(60, "held-out");

// The smallest run found to learn a quote unit within the time a test may take: one layer of 32
// LSTM units, 1500 Adam steps (7 to 20 s here, by load). Over training seeds 1-6 the best cell
// state's |r| on this held-out text was 0.82, 0.87, 0.90, 0.87, 0.73, 0.88 (seed 3's best unit
// overall, an h, 0.93); 16 units, or 1000 steps, reached 0.8 for fewer seeds. The seed is fixed,
// and one-thread wasm kernels (not the relaxed build) give the same bits on every machine.
const TRAIN_ARGS = ["--hidden", "32", "--layers", "1", "--steps", "1500", "--lr", "0.01", "--batch", "16", "--seq-len", "50",
  "--val-file", "validation.txt", "--eval-every", "250", "--seed", "3", "--backend", "wasm", "--threads", "1", "--log-every", "100"];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "charnn-viz-"));
  await writeFile(join(dir, "quotes.txt"), quotesCorpus(400, "train"));
  await writeFile(join(dir, "validation.txt"), quotesCorpus(40, "validation"));
  await writeFile(join(dir, "held-out.txt"), heldOut);
  const { io, stderr } = createTestIO({ cwd: dir });
  const code = await main(["train", "quotes.txt", "--out", "run", ...TRAIN_ARGS], io);
  if (code !== 0) throw new Error(`training the fixture failed: ${stderr()}`);
  checkpoint = await loadCheckpointFile(join(dir, "run", "latest.json"));
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function charnn(args: string[], options: TestIOOptions = {}) {
  const captured = createTestIO({ cwd: dir, ...options });
  const code = await main(args, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

/** The ranking table's rows: [rank, layer, unit, state, correlation]. */
function rankingRows(stdout: string): Array<[number, number, number, string, number]> {
  return stdout.split("\n").filter((line) => /^\s+\d+\s+\d+\s+\d+\s+[hc]\s+-?\d/.test(line)).map((line) => {
    const [rank, layer, unit, state, r] = line.trim().split(/\s+/);
    return [Number(rank), Number(layer), Number(unit), state!, Number(r)];
  });
}

describe("charnn viz --find", () => {
  it("finds a unit that tracks quotes on held-out text (|r| >= 0.8) and ranks it first", async () => {
    const { code, stdout, stderr } = await charnn(["viz", "-c", "run", "held-out.txt", "--find", "quotes", "--top", "5"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const rows = rankingRows(stdout);
    expect(rows).toHaveLength(5);
    const [, layer, unit, state, r] = rows[0]!;
    expect(Math.abs(r)).toBeGreaterThanOrEqual(0.8);
    for (const row of rows) expect(Math.abs(row[4])).toBeLessThanOrEqual(Math.abs(r));

    // The printed correlation is that unit's Pearson r over the held-out trace, recomputed here.
    const { model, vocabulary } = modelFromCheckpoint(checkpoint, jsKernels);
    const trace = traceText(model, jsKernels, vocabulary, heldOut);
    const best = rankUnits(trace, insideQuotes(trace.characters))[0]!;
    expect([best.layer, best.unit, best.state]).toEqual([layer, unit, state]);
    expect(best.correlation).toBeCloseTo(r, 3);
  });

  it("finds no unit above 0.3 in a freshly initialised model of the same shape", () => {
    const { model: trained, vocabulary } = modelFromCheckpoint(checkpoint, jsKernels);
    for (const seed of [1, 2, 3]) {
      const model = new CharModel(trained.config, jsKernels.newArena("float32", CharModel.arenaFloats(trained.config, "float32")));
      model.initialize(createRng(seed));
      const trace = traceText(model, jsKernels, vocabulary, heldOut);
      const best = rankUnits(trace, insideQuotes(trace.characters))[0]!;
      expect(Math.abs(best.correlation), `untrained, seed ${seed}`).toBeLessThan(0.3);
    }
  });

  it("ranks by a user's regular expression, and refuses an unknown feature with exit code 2", async () => {
    const ok = await charnn(["viz", "-c", "run", "--text", 'the fox "ran to a hill" and sat.', "--find", "/fox|hill/", "--top", "3"]);
    expect(ok.code).toBe(0);
    expect(rankingRows(ok.stdout)).toHaveLength(3);
    const bad = await charnn(["viz", "-c", "run", "--text", "abc", "--find", "commas"]);
    expect(bad.code).toBe(ExitCode.usage);
    expect(bad.stderr).toContain('unknown feature "commas"');
  });
});

describe("charnn viz in a terminal", () => {
  const text = 'the fox "ran to a hill" and sat.\nowl "yes" no.';
  const args = ["viz", "-c", "run", "--text", text, "--unit", "3", "--state", "c"];

  it("forced into a file, FORCE_COLOR=1, 2 and 3 give 16-colour, 256-colour and true-colour backgrounds", async () => {
    const patterns: Record<string, RegExp> = { "1": /\u001b\[(4[1-9]|10[14]);(30|97|39)m/, "2": /\u001b\[48;5;\d+;97m/, "3": /\u001b\[48;2;\d+;\d+;\d+;97m/ };
    for (const level of ["1", "2", "3"]) {
      const { code, stdout } = await charnn(args, { env: { FORCE_COLOR: level }, stdoutIsTTY: false });
      expect(code).toBe(0);
      expect(stdout, `FORCE_COLOR=${level}`).toMatch(patterns[level]!);
      for (const [other, pattern] of Object.entries(patterns)) if (other !== level) expect(stdout).not.toMatch(pattern);
      // Every character of the text is there, and each of its two lines ends with a reset.
      expect(stdout.replace(/\u001b\[[\d;]*m/g, "")).toContain("the fox \"ran to a hill\" and sat. \nowl");
      expect(stdout.match(/\u001b\[0m\n/g)).toHaveLength(2);
    }
  });

  it("the terminal's own level: true colour, 256 colours, basic, and none off a terminal", async () => {
    expect((await charnn(args, { env: { COLORTERM: "truecolor" }, stdoutIsTTY: true })).stdout).toMatch(/48;2;/);
    expect((await charnn(args, { env: { TERM: "xterm-256color" }, stdoutIsTTY: true })).stdout).toMatch(/48;5;/);
    expect((await charnn(args, { env: { TERM: "xterm" }, stdoutIsTTY: true })).stdout).toMatch(/\u001b\[4[14];97m|\u001b\[10[14];30m/);
    expect((await charnn(args, { env: {}, stdoutIsTTY: false })).stdout).not.toContain("\u001b");
  });

  it("under NO_COLOR, even on a true-colour terminal, writes no escape byte and shows markers matching the values", async () => {
    const { code, stdout } = await charnn(args, { env: { NO_COLOR: "1", COLORTERM: "truecolor", FORCE_COLOR: "3" }, stdoutIsTTY: true });
    expect(code).toBe(0);
    expect(stdout).not.toContain("\u001b");
    const lines = stdout.split("\n");
    expect(lines[1]).toBe('the fox "ran to a hill" and sat.');
    const markers = lines[2]!;
    const { model, vocabulary } = modelFromCheckpoint(checkpoint, jsKernels);
    const values = unitValues(traceText(model, jsKernels, vocabulary, text), 0, 3, "c");
    const scale = Math.max(...Array.from(values, Math.abs));
    [..."the fox \"ran to a hill\" and sat."].forEach((_, t) => {
      const v = values[t]! / scale;
      const expected = v > 0.5 ? "#" : v > 0.15 ? "+" : v < -0.5 ? "=" : v < -0.15 ? "-" : " ";
      expect(markers[t] ?? " ", `character ${t}`).toBe(expected);
    });
  });

  it("a spawned charnn with FORCE_COLOR=2 writes 256-colour escapes into a file, and none with NO_COLOR", async () => {
    const run = (env: Record<string, string>) => {
      const out = join(dir, "view.txt");
      const result = spawnSync("sh", ["-c", `node "${join(root, "bin", "charnn.js")}" viz -c run --text 'a "no" to' > view.txt`], {
        cwd: dir, env: { PATH: process.env.PATH!, ...env }, encoding: "utf8",
      });
      expect(result.status, result.stderr).toBe(0);
      return readFile(out, "utf8");
    };
    expect(await run({ FORCE_COLOR: "2" })).toMatch(/\u001b\[48;5;\d+;97m/);
    expect(await run({ NO_COLOR: "1" })).not.toContain("\u001b");
  });

  it("reads the text from stdin for -, with -c naming the checkpoint file itself", async () => {
    const fromStdin = await charnn(["viz", "-c", "run/latest.json", "-"], { stdin: 'a "no" to\n', env: { NO_COLOR: "1" } });
    const fromText = await charnn(["viz", "-c", "run", "--text", 'a "no" to\n'], { env: { NO_COLOR: "1" } });
    expect(fromStdin.code).toBe(0);
    expect(fromStdin.stdout.split("\n").slice(1)).toEqual(fromText.stdout.split("\n").slice(1));
    expect(fromStdin.stdout).toContain('a "no" to\n');
  });

    it("refuses a unit the model does not have, and a call with no text, as usage errors", async () => {
    const { code, stderr } = await charnn(["viz", "-c", "run", "--text", "abc", "--unit", "32"]);
    expect(code).toBe(ExitCode.usage);
    expect(stderr).toContain("--unit 32 is past the last unit (layers have 32: 0 to 31)");
    expect((await charnn(["viz", "-c", "run"])).code).toBe(ExitCode.usage);
  });
});

describe("charnn viz --html", () => {
  it("writes a standalone page that needs no network and carries each character's value and top predictions", async () => {
    const { code, stderr } = await charnn(["viz", "-c", "run", "held-out.txt", "--unit", "3", "--state", "c", "--html", "view.html"]);
    expect(code).toBe(0);
    expect(stderr).toContain("wrote view.html");
    const html = await readFile(join(dir, "view.html"), "utf8");
    for (const pattern of NETWORK_PATTERNS) expect(html, String(pattern)).not.toMatch(pattern);
    const view = dataOf(html);
    const { model, vocabulary } = modelFromCheckpoint(checkpoint, jsKernels);
    const trace = traceText(model, jsKernels, vocabulary, heldOut);
    expect(view.characters.join("")).toBe(heldOut);
    expect(view.units).toHaveLength(1);
    const values = unitValues(trace, 0, 3, "c");
    view.units[0]!.values.forEach((v, t) => expect(v).toBeCloseTo(values[t]!, 3));
    expect(view.predictions).toHaveLength(heldOut.length);
    for (const top of view.predictions) {
      expect(top).toHaveLength(5);
      for (let i = 1; i < top.length; i++) expect(top[i]!.probability).toBeLessThanOrEqual(top[i - 1]!.probability);
    }
  });

  it("with --find, the page offers the ranked units, best first", async () => {
    const { code, stdout } = await charnn(["viz", "-c", "run", "held-out.txt", "--find", "quotes", "--top", "4", "--html", "find.html"]);
    expect(code).toBe(0);
    const view = dataOf(await readFile(join(dir, "find.html"), "utf8"));
    const rows = rankingRows(stdout);
    expect(view.units.map((u) => [u.layer, u.unit, u.state])).toEqual(rows.map((row) => [row[1], row[2], row[3]]));
    expect(view.units[0]!.label).toContain(`r = ${rows[0]![4].toFixed(3)}`);
  });
});

describe("charnn info --plot", () => {
  it("writes an SVG whose points are the checkpoint's history: count, order and range", async () => {
    const { code, stdout, stderr } = await charnn(["info", "run/latest.json", "--plot", "loss.svg"]);
    expect(code).toBe(0);
    expect(stdout).toContain("loss (nats/char) by step"); // the terminal chart stays
    expect(stderr).toContain("wrote loss.svg");
    const svg = await readFile(join(dir, "loss.svg"), "utf8");
    const history = checkpoint.history;
    expect(history.train.length).toBeGreaterThan(2);
    expect(history.validation.length).toBeGreaterThan(1);
    const train = plottedPoints(svg, "train"), validation = plottedPoints(svg, "validation");
    expect(train).toHaveLength(history.train.length);
    expect(validation).toHaveLength(history.validation.length);
    // x follows the steps in order; y is lowest on the page (largest pixel y) at the smallest loss.
    for (let i = 1; i < train.length; i++) expect(train[i]![0]).toBeGreaterThan(train[i - 1]![0]);
    const losses = [...history.train, ...history.validation].map(([, loss]) => loss);
    const ys = [...train, ...validation].map(([, y]) => y);
    expect(ys.indexOf(Math.max(...ys))).toBe(losses.indexOf(Math.min(...losses)));
    expect(ys.indexOf(Math.min(...ys))).toBe(losses.indexOf(Math.max(...losses)));
    const log = await charnn(["info", "run/latest.json", "--plot", "log.svg", "--log-scale"]);
    expect(log.code).toBe(0);
    expect(await readFile(join(dir, "log.svg"), "utf8")).toContain("log scale");
  });

  it("--log-scale without --plot is a usage error", async () => {
    expect((await charnn(["info", "run/latest.json", "--log-scale"])).code).toBe(ExitCode.usage);
  });
});
