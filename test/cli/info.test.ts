// `charnn info` in-process through main() on a checkpoint trained here: every reported value
// against the checkpoint itself, colour only on a terminal, --json, a missing file; and the
// plain-text loss chart and vocabulary rendering laid out by hand.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TrainConfig } from "../../src/core/config.js";
import type { CheckpointState } from "../../src/core/checkpoint/format.js";
import { modelConfigOf } from "../../src/core/checkpoint/model.js";
import { loadCheckpointFile } from "../../src/node/store.js";
import { drawLossChart, renderVocabulary } from "../../src/cli/info.js";
import { main } from "../../src/cli/main.js";
import { ExitCode } from "../../src/core/errors.js";
import { parameterCount } from "../../src/core/nn/params.js";
import { createTestIO } from "./helpers.js";

let dir: string;
let checkpoint: CheckpointState;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "charnn-info-"));
  await writeFile(join(dir, "corpus.txt"), "a tab\there, and more text to learn from.\n".repeat(40));
  const { io, stderr } = createTestIO({ cwd: dir });
  const code = await main(["train", "corpus.txt", "--out", "run", "--steps", "20", "--hidden", "16", "--layers", "1", "--batch", "2", "--seq-len", "8", "--eval-every", "10", "--log-every", "5"], io);
  if (code !== 0) throw new Error(`training the fixture failed: ${stderr()}`);
  checkpoint = await loadCheckpointFile(join(dir, "run", "latest.json"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function info(args: string[], options: { stdoutIsTTY?: boolean } = {}) {
  const captured = createTestIO({ cwd: dir, ...options });
  const code = await main(["info", ...args], captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

describe("charnn info", () => {
  it("reports the model, vocabulary, progress and best validation loss of the checkpoint", async () => {
    const { code, stdout, stderr } = await info(["run/latest.json"]);
    expect(code).toBe(0);
    expect(stderr).toBe("");
    const config = checkpoint.config as unknown as TrainConfig;
    const parameters = parameterCount(modelConfigOf(config, checkpoint.vocabulary.length));
    const V = checkpoint.vocabulary.length;
    expect(stdout).toContain(`model      lstm, 1 layer(s) of 16 hidden units, one-hot input; ${parameters.toLocaleString("en-US")} parameters\n`);
    expect(stdout).toContain(`vocabulary ${V} characters: "\\t\\n ,.abdefhlmnortx"\n`);
    expect(stdout).toContain(`progress   step 20, epoch ${checkpoint.epoch}; train loss ${checkpoint.history.train.at(-1)![1].toFixed(4)} nats/char (mean of the last logged steps)\n`);
    expect(stdout).toContain(`training   adam lr 0.002, batch 2 x 8 steps, clip 5 (norm), dropout 0, seed 1\n`);
    expect(stdout).toContain(`corpus     ${checkpoint.corpus.length.toLocaleString("en-US")} characters (fingerprint ${checkpoint.corpus.fingerprint})\n`);
    const best = checkpoint.bestValidationLoss!;
    expect(stdout).toContain(`best val   ${best.toFixed(4)} nats/char (${(best / Math.LN2).toFixed(3)} bits/char)\n`);
    expect(stdout).toContain(`checkpoint run/latest.json (written ${checkpoint.createdAt} by charnn ${checkpoint.charnnVersion})`);
  });

  it("draws the train and validation curves in plain characters when stdout is not a terminal", async () => {
    const { stdout } = await info(["run/latest.json"]);
    const chart = stdout.slice(stdout.indexOf("loss (nats/char) by step\n"));
    expect(chart).toContain(" +" + "-".repeat(60) + "\n");
    expect(chart).toContain(". train (mean per log interval)   o validation");
    expect(chart).toContain("|");
    expect(chart).toMatch(/o/);
    expect(stdout).not.toContain("\u001b[");
    // The highest and lowest labels are the extremes of both curves.
    const losses = [...checkpoint.history.train, ...checkpoint.history.validation].map(([, loss]) => loss);
    expect(chart).toContain(`${Math.max(...losses).toFixed(2)} |`);
    expect(chart).toContain(`${Math.min(...losses).toFixed(2)} |`);
  });

  it("colours only on a terminal", async () => {
    expect((await info(["run/latest.json"], { stdoutIsTTY: true })).stdout).toContain("\u001b[");
  });

  it("--json gives the same facts as data, without the weights", async () => {
    const { code, stdout } = await info(["run/latest.json", "--json"]);
    expect(code).toBe(0);
    const data = JSON.parse(stdout);
    expect(Object.keys(data).sort()).toEqual(
      ["bestValidationLoss", "charnnVersion", "checkpoint", "command", "config", "corpus", "createdAt", "history", "invocations", "kind", "model", "progress", "runtime", "schedule", "settingSources", "vocabulary"],
    );
    expect(data.model).toEqual({ cell: "lstm", activation: "tanh", layers: 1, hidden: 16, embed: 0, dropout: 0, learnInit: false, parameters: parameterCount(modelConfigOf(checkpoint.config as unknown as TrainConfig, checkpoint.vocabulary.length)) });
    expect(data.vocabulary.codePoints).toEqual(checkpoint.vocabulary);
    expect(data.vocabulary.text).toBe(String.fromCodePoint(...checkpoint.vocabulary));
    expect(data.progress).toEqual({ step: 20, epoch: checkpoint.epoch, cursor: checkpoint.cursor });
    expect(data.bestValidationLoss.nats).toBe(checkpoint.bestValidationLoss);
    expect(data.bestValidationLoss.bits).toBeCloseTo(checkpoint.bestValidationLoss! / Math.LN2, 12);
    expect(data.history).toEqual(checkpoint.history);
    expect(data.history.validation.length).toBe(2);
    expect(stdout).not.toContain("weight_ih_l0");
  });

  it("defaults to checkpoints/latest.json, and a missing checkpoint is exit 3 with a hint", async () => {
    const { code, stdout, stderr } = await info([]);
    expect(code).toBe(ExitCode.badInput);
    expect(stdout).toBe("");
    expect(stderr).toContain("no checkpoint at checkpoints/latest.json");
    expect(stderr).toContain("hint: a run here: charnn info run");
  });
});

describe("drawLossChart", () => {
  it("places each point by step and loss, with labels and a legend", () => {
    const lines = drawLossChart(
      [
        { name: "train", symbol: ".", points: [[0, 2], [10, 1]] },
        { name: "validation", symbol: "o", points: [[5, 1.5]] },
      ],
      11,
      3,
    );
    expect(lines).toEqual([
      "2.00 |.          ",
      "1.50 |     o     ",
      "1.00 |          .",
      "     +-----------",
      "      step 0   10",
      "      . train   o validation",
    ]);
  });

  it("averages the points that share a column, and draws later series over earlier ones", () => {
    const lines = drawLossChart(
      [
        { name: "train", symbol: ".", points: [[0, 1], [1, 3], [2, 1], [3, 3]] },
        { name: "validation", symbol: "o", points: [[3, 2]] },
      ],
      1,
      3,
    );
    expect(lines.slice(0, 3)).toEqual(["3.00 | ", "2.00 |o", "1.00 | "]);
  });

  it("says so when there is no history", () => {
    expect(drawLossChart([{ name: "train", symbol: ".", points: [] }])).toEqual(["(no loss history yet)"]);
  });

  it("paints symbols without moving them", () => {
    const lines = drawLossChart([{ name: "train", symbol: ".", points: [[0, 1], [4, 2]] }], 5, 2, (_, symbol) => `[${symbol}]`);
    expect(lines[0]).toBe("2.00 |    [.]");
    expect(lines[1]).toBe("1.00 |[.]    ");
  });
});

describe("renderVocabulary", () => {
  it("escapes what would not print and keeps the rest", () => {
    expect(renderVocabulary([0x09, 0x0a, 0x20, 0x22, 0x41, 0x5c, 0xa0, 0xe9, 0x301, 0x1f600])).toBe('"\\t\\n \\"A\\\\\\u00A0é\u25CC\u0301😀"');
  });

  it("shows at most `limit` characters and says how many more there are", () => {
    expect(renderVocabulary([0x61, 0x62, 0x63, 0x64], 2)).toBe('"ab" and 2 more');
  });
});
