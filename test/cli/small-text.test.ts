// In-process tests of `charnn train` on a text shorter than the default batch and window: it
// trains with a smaller batch (one warning line names the values), records them as chosen so a
// resume continues exactly, and samples; given values that do not fit are still refused.
// The choice itself is tested with a table in test/core/train/small-text.test.ts.

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { ExitCode } from "../../src/core/errors.js";
import { createTestIO } from "./helpers.js";

const folders: string[] = [];
afterAll(async () => {
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

// 156 characters: 149 to train on after the 5% held out, where the defaults need 32 x 65 = 2,080.
const TINY_TEXT = "the cat sat on the mat.\nthe dog ran far away.\n".repeat(3) + "it was late.\n".repeat(1) + "a".repeat(5);

async function run(cwd: string, args: string[]) {
  const captured = createTestIO({ cwd, env: {} });
  const code = await main(args, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

const readJson = async (path: string): Promise<Record<string, any>> => JSON.parse(await readFile(path, "utf8"));
const MODEL = ["--model", "gru", "--hidden", "8", "--layers", "1", "--backend", "js"];

describe("a text shorter than the default batch and window", () => {
  it("trains with a smaller batch and says so, resumes exactly, and samples", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "charnn-small-text-"));
    folders.push(cwd);
    await writeFile(join(cwd, "tiny.txt"), TINY_TEXT);
    expect([...TINY_TEXT].length).toBe(156);

    const whole = await run(cwd, ["train", "tiny.txt", ...MODEL, "--steps", "6", "--out", "whole"]);
    expect(whole.code).toBe(0);
    const notes = whole.stderr.split("\n").filter((line) => line.includes("the training text"));
    expect(notes).toEqual(["warning: the training text (149 characters) is shorter than --batch 32 --seq-len 64 needs (2,080): training with --batch 2 --seq-len 64"]);
    const wholeState = await readJson(join(cwd, "whole", "latest.json"));
    expect(wholeState.config).toMatchObject({ batch: 2, seqLen: 64 });
    expect(wholeState.settingSources).toMatchObject({ batch: "chosen", seqLen: "default" });

    expect((await run(cwd, ["train", "tiny.txt", ...MODEL, "--steps", "3", "--out", "parts"])).code).toBe(0);
    const resumed = await run(cwd, ["train", "tiny.txt", "--steps", "6", "--out", "parts", "--resume"]);
    expect(resumed.code).toBe(0);
    // The recorded batch fits the recorded text: nothing is chosen again, nothing differs.
    expect(resumed.stderr).not.toMatch(/the training text|changed on resume|not bit-identical/);
    const partsState = await readJson(join(cwd, "parts", "latest.json"));
    for (const field of ["params", "optimizer", "hiddenState", "rng", "cursor", "step"]) {
      expect(JSON.stringify(partsState[field]), field).toBe(JSON.stringify(wholeState[field]));
    }
    expect(partsState.settingSources.batch).toBe("chosen");

    // info says the batch was charnn's choice.
    expect((await run(cwd, ["info", "-c", "parts"])).stdout).toMatch(/batch 2 \(chosen\) x 64 steps/);

    const sample = await run(cwd, ["sample", "-c", "parts", "--length", "30", "--seed", "4"]);
    expect(sample.code).toBe(0);
    expect([...sample.stdout.replace(/\n$/, "")].length).toBeGreaterThanOrEqual(30);
  });

  it("given values that do not fit are refused, with values that do", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "charnn-small-text-"));
    folders.push(cwd);
    await writeFile(join(cwd, "tiny.txt"), TINY_TEXT);
    const refused = await run(cwd, ["train", "tiny.txt", ...MODEL, "--batch", "32", "--seq-len", "64", "--steps", "2", "--out", "run"]);
    expect(refused.code).toBe(ExitCode.badInput);
    expect(refused.stderr).toContain("the text is too short for batch 32 and seq-len 64: it has 149 characters, at least 2,080 are needed");
    expect(refused.stderr).toContain("it fits --batch 2 or --seq-len 3; leave out --batch and --seq-len and charnn picks what fits, or give more text");
  });
});
