// A weights-only checkpoint (kind "weights": no optimiser state, position, random state or
// carried hidden state) is read by sample, eval, info and train --init-from like a training one,
// and train --resume refuses it with a hint to start a new run from it.

import { mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { encodeCheckpoint } from "../../src/core/checkpoint/format.js";
import { decodeCheckpoint } from "../../src/core/checkpoint/load.js";
import { weightsOnly } from "../../src/core/checkpoint/model.js";
import { ExitCode } from "../../src/core/errors.js";
import { createTestIO } from "./helpers.js";

let cwd: string;

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const captured = createTestIO({ cwd, env: {} });
  const code = await main(argv, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "charnn-weights-"));
  await writeFile(join(cwd, "corpus.txt"), "the cat sat on the mat, and the dog sat on the log.\n".repeat(60));
  const trained = await run(["train", "corpus.txt", "--hidden", "12", "--layers", "1", "--batch", "2", "--seq-len", "8", "--steps", "6", "--eval-every", "3", "--backend", "js", "--out", "run", "--json"]);
  if (trained.code !== 0) throw new Error(trained.stderr);
  const training = decodeCheckpoint(await readFile(join(cwd, "run", "latest.json")), "latest.json");
  // Weights only, without the history it may leave out.
  const document = JSON.parse(encodeCheckpoint(weightsOnly(training)));
  expect(document.kind).toBe("weights");
  for (const field of ["optimizer", "rng", "cursor", "hiddenState"]) expect(document).not.toHaveProperty(field);
  await mkdir(join(cwd, "weights"));
  await writeFile(join(cwd, "weights", "latest.json"), encodeCheckpoint(weightsOnly(training)));
});
afterAll(() => rm(cwd, { recursive: true, force: true }));

describe("a weights-only checkpoint", () => {
  it("samples and scores exactly as the training checkpoint it came from", async () => {
    for (const argv of [["sample", "--seed", "4", "--length", "30", "--json"], ["eval", "corpus.txt", "--json"]]) {
      const fromTraining = await run([...argv, "-c", "run/latest.json"]);
      const fromWeights = await run([...argv, "-c", "weights/latest.json"]);
      expect(fromWeights.code, fromWeights.stderr).toBe(0);
      expect(fromWeights.stdout.replace(/"checkpoint":"[^"]*",/, "")).toBe(fromTraining.stdout.replace(/"checkpoint":"[^"]*",/, ""));
    }
  });

  it("is described by info as weights only", async () => {
    const text = await run(["info", "weights/latest.json"]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^kind +weights only/m);
    const data = JSON.parse((await run(["info", "weights/latest.json", "--json"])).stdout);
    expect(data.kind).toBe("weights");
    expect(data.progress.cursor).toBeNull();
  });

  it("starts a new run with --init-from", async () => {
    const tuned = await run(["train", "corpus.txt", "--init-from", "weights/latest.json", "--steps", "2", "--batch", "2", "--seq-len", "8", "--backend", "js", "--out", "tuned", "--json"]);
    expect(tuned.code, tuned.stderr).toBe(0);
    const saved = decodeCheckpoint(await readFile(join(cwd, "tuned", "latest.json")), "tuned");
    expect([saved.kind, saved.step, saved.config.hidden]).toEqual(["training", 2, 12]);
  });

  it("cannot be resumed: train --resume says to start a new run from it", async () => {
    const resumed = await run(["train", "corpus.txt", "--resume", "--steps", "8", "--backend", "js", "--out", "weights"]);
    expect(resumed.code).toBe(ExitCode.usage);
    expect(resumed.stderr).toMatch(/^charnn: weights[/\\]latest\.json holds weights only .*cannot be resumed\n/);
    expect(resumed.stderr).toMatch(/^hint: start a new run from its weights: --init-from weights[/\\]latest\.json --out NEWDIR$/m);
  });

});
