// The commands on format-1 checkpoints written by charnn 0.1.0: sample, eval, eval --per-line
// print what 0.1.0 printed for them (recorded in test/fixtures/checkpoint-v1/expected.json), info
// reads them, and a resumed run reaches the very training state 0.1.0 reached.

import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { createTestIO } from "./helpers.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/checkpoint-v1/", import.meta.url));
const NAMES = ["lstm", "gru-embed", "rnn-learn-init"] as const;
let cwd: string;
let expected: Record<string, any>;

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const captured = createTestIO({ cwd, env: {} });
  const code = await main(argv, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "charnn-v1-"));
  for (const file of ["corpus.txt", "probe.txt"]) await cp(join(FIXTURES, file), join(cwd, file));
  expected = JSON.parse(await readFile(join(FIXTURES, "expected.json"), "utf8"));
});
afterAll(() => rm(cwd, { recursive: true, force: true }));

const jsonLines = (text: string): unknown[] => text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));

/** Equal, but for numbers, which may differ by float32 rounding (1e-6 relative). */
function expectClose(actual: unknown, expected: unknown, where = "value"): void {
  if (typeof expected === "number" && typeof actual === "number") {
    expect(Math.abs(actual - expected), `${where}: ${actual} vs ${expected}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(expected)));
    return;
  }
  if (typeof expected !== "object" || expected === null) {
    expect(actual, where).toEqual(expected);
    return;
  }
  expect(typeof actual, where).toBe("object");
  expect(Object.keys(actual as object).sort(), where).toEqual(Object.keys(expected).sort());
  for (const [key, value] of Object.entries(expected)) expectClose((actual as Record<string, unknown>)[key], value, `${where}.${key}`);
}

describe.each(NAMES)("a format 1 %s checkpoint", (name) => {
  const file = () => join(FIXTURES, `${name}.json`);

  it("samples and scores as charnn 0.1.0 did", async () => {
    // 0.1.0 sampled on plain SIMD; auto now picks the fused build where it runs, whose
    // log-probabilities differ in the last digits, so the comparison names the plain build.
    const sample = await run(["sample", "-c", file(), "--seed", "7", "--length", "40", "--json", "--backend", "wasm"]);
    expect(sample.code, sample.stderr).toBe(0);
    expect(sample.stdout).toBe(expected[name].sample);
    expect((await run(["sample", "-c", file(), "--seed", "3", "--length", "40", "--prime", "the ", "--backend", "wasm"])).stdout).toBe(expected[name].primed);
    // eval has no --backend: it runs on the fused build where it can, which agrees with 0.1.0's
    // plain-SIMD scores to float32 rounding, not to the last bit.
    const evaluated = await run(["eval", "-c", file(), "probe.txt", "--json"]);
    expectClose({ ...JSON.parse(evaluated.stdout), checkpoint: "run/latest.json" }, expected[name].eval);
    const perLine = (await run(["eval", "-c", file(), "probe.txt", "--per-line", "--json"])).stdout;
    expectClose(jsonLines(perLine), jsonLines(expected[name].perLine));
  });

  it("is described by info", async () => {
    const info = await run(["info", file(), "--json"]);
    expect(info.code, info.stderr).toBe(0);
    const data = JSON.parse(info.stdout);
    expect(data.kind).toBe("training");
    expect(data.command).toEqual(JSON.parse(await readFile(file(), "utf8")).command);
    expect(data.invocations).toHaveLength(1);
  });

  it("resumes to the training state charnn 0.1.0 reached, saved as version 2", async () => {
    const out = `run-${name}`;
    await cp(file(), join(cwd, out, "latest.json"));
    const resumed = await run(["train", "corpus.txt", "--resume", "--backend", "js", "--steps", "9", "--keep", "0", "--out", out, "--json"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const after = JSON.parse(await readFile(join(cwd, out, "latest.json"), "utf8"));
    expect(after.version).toBe(2);
    expect(after.step).toBe(expected[name].resumedStep);
    const stateText = JSON.stringify(["params", "optimizer", "hiddenState", "rng", "cursor", "step", "epoch"].map((key) => after[key]));
    expect(createHash("sha256").update(stateText).digest("hex")).toBe(expected[name].resumedStateSha256);
    // The run's record carries on: the old command line, then this one from step 6.
    expect(after.invocations).toHaveLength(2);
    expect(after.invocations[1].fromStep).toBe(6);
    expect(after.corpus.paths).toEqual([join(cwd, "corpus.txt")]);
    expect(after.settingSources.hidden).toBe("given");
  });
});

