// In-process tests of -q/--quiet on `charnn sample` and `charnn eval`: on success stderr is
// empty (no seed line, no notes about left-out characters), stdout is unchanged, and an error
// is still printed. Without the switch the same commands do write to stderr, so the test can fail.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { createTestIO } from "./helpers.js";

let cwd = "";
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "charnn-quiet-"));
  await writeFile(join(cwd, "corpus.txt"), "the cat sat on the mat.\nthe dog ran far away.\n".repeat(20));
  // "Z" and "!" are not in the training text: eval leaves them out and says so.
  await writeFile(join(cwd, "other.txt"), "the Zat sat on the mat!\n");
  const trained = await run(["train", "corpus.txt", "--model", "gru", "--hidden", "8", "--layers", "1", "--batch", "2", "--seq-len", "8", "--steps", "3", "--backend", "js", "--out", "run", "-q"]);
  expect(trained).toMatchObject({ code: 0, stderr: "" });
});
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

async function run(args: string[]) {
  const captured = createTestIO({ cwd, env: {} });
  const code = await main(args, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

describe("--quiet", () => {
  it("sample: no seed line on stderr, the same sample on stdout", async () => {
    const loud = await run(["sample", "-c", "run", "--length", "20", "--prime", "the"]);
    expect(loud.code).toBe(0);
    const seed = /^seed: (\d+) /m.exec(loud.stderr)?.[1];
    expect(seed).toBeDefined();
    for (const flag of ["--quiet", "-q"]) {
      const quiet = await run(["sample", "-c", "run", "--length", "20", "--prime", "the", flag]);
      expect(quiet.code).toBe(0);
      expect(quiet.stderr).toBe("");
      expect(quiet.stdout.length).toBeGreaterThan(20);
    }
    const repeated = await run(["sample", "-c", "run", "--length", "20", "--prime", "the", "--seed", seed!, "-q"]);
    expect(repeated).toEqual({ code: 0, stdout: loud.stdout, stderr: "" });
  });

  it("eval: no note about left-out characters, the same result on stdout", async () => {
    const loud = await run(["eval", "-c", "run", "other.txt"]);
    expect(loud.code).toBe(0);
    expect(loud.stderr).toMatch(/^note: left out 2 character\(s\)/m);
    const quiet = await run(["eval", "-c", "run", "other.txt", "--quiet"]);
    expect(quiet).toEqual({ code: 0, stdout: loud.stdout, stderr: "" });
    const perLine = await run(["eval", "-c", "run", "other.txt", "--per-line", "-q"]);
    expect(perLine.code).toBe(0);
    expect(perLine.stderr).toBe("");
  });

  it("errors are still printed", async () => {
    const sample = await run(["sample", "-c", "nosuch.json", "-q"]);
    expect(sample.code).not.toBe(0);
    expect(sample.stderr).toMatch(/nosuch\.json/);
    const evaluated = await run(["eval", "-c", "run", "missing.txt", "-q"]);
    expect(evaluated.code).not.toBe(0);
    expect(evaluated.stderr).toMatch(/missing\.txt/);
  });
});
