// The README's first steps, in-process through main(): the first command (cut to a few steps)
// in a fresh folder with the shipped corpus starts without a warning, and leaves the user where
// the plain `charnn sample` and `charnn info` it suggests next work.

import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { createTestIO } from "./helpers.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
let cwd: string;
let firstSteps: string[][];

/** The `charnn ...` lines of the README's "First steps" block, as words after `charnn`. */
async function readmeFirstSteps(): Promise<string[][]> {
  const readme = await readFile(join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## First steps"));
  const block = /\n\n((?: {4}.*\n)+)/.exec(section)![1]!;
  return block.split("\n").map((line) => line.trim()).filter((line) => line.startsWith("charnn ")).map((line) => line.split(/\s+/).slice(1));
}

async function charnn(args: string[]) {
  const captured = createTestIO({ cwd });
  const code = await main(args, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "charnn-readme-"));
  await cp(join(root, "corpora"), join(cwd, "corpora"), { recursive: true });
  firstSteps = await readmeFirstSteps();
});

afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

describe("the README's first steps", () => {
  it("train first (with no --out: the default folder), then a plain sample", () => {
    expect(firstSteps.map((words) => words[0])).toEqual(["train", "sample"]);
    expect(firstSteps[0]).not.toContain("--out");
    expect(firstSteps[1]).not.toContain("-c");
  });

  it("the first command runs clean, and plain `charnn sample` and `charnn info` work after it", async () => {
    // Cut to a few steps of a small model (a later flag wins) so the test is quick.
    const trained = await charnn([...firstSteps[0]!, "--steps", "3", "--hidden", "16", "--layers", "1", "--eval-every", "0"]);
    expect(trained.code, trained.stderr).toBe(0);
    expect(trained.stderr.split("\n")[0]).not.toMatch(/warning/i);
    expect(trained.stderr).not.toMatch(/warning/i);
    const sampled = await charnn([...firstSteps[1]!, "-n", "20"]);
    expect(sampled.code, sampled.stderr).toBe(0);
    expect(sampled.stdout.length).toBeGreaterThan(0);
    expect((await charnn(["info"])).code).toBe(0);
  });
});
