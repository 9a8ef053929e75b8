// In-process tests of `charnn train --dry-run`'s time estimate: a few steps of the planned model
// are timed on this machine and the estimate per step, epoch and run is printed and in --json.
// Only that the figures exist and are positive and finite: their size depends on the machine.

import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { createTestIO } from "./helpers.js";

const folders: string[] = [];
afterAll(async () => {
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

async function run(cwd: string, args: string[]) {
  const captured = createTestIO({ cwd, env: {} });
  const code = await main(args, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

const ARGS = ["train", "corpus.txt", "--hidden", "16", "--layers", "1", "--batch", "2", "--seq-len", "8", "--backend", "js", "--dry-run", "--out", "run"];

describe("--dry-run time estimate", () => {
  it("times a few steps and reports ms per step, epoch and run", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "charnn-dry-run-"));
    folders.push(cwd);
    await writeFile(join(cwd, "corpus.txt"), "the cat sat on the mat.\nthe dog ran far away.\n".repeat(30));

    const json = await run(cwd, [...ARGS, "--steps", "100", "--json"]);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.stepTime).toMatchObject({ timedSteps: 5, warmupSteps: 3 });
    for (const field of ["msPerStep", "msPerEpoch", "msPerRun"]) {
      expect(Number.isFinite(report.stepTime[field]), field).toBe(true);
      expect(report.stepTime[field], field).toBeGreaterThan(0);
    }
    expect(report.stepTime.msPerEpoch).toBeCloseTo(report.stepTime.msPerStep * report.windowsPerEpoch, 6);
    expect(report.stepTime.msPerRun).toBeCloseTo(report.stepTime.msPerStep * 100, 6);

    const plain = await run(cwd, [...ARGS, "--time", "1m"]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^time {9}about [\d.,]+(ms|s) a step, [\dhms.,]+ an epoch \(training steps only; median of 5 timed after 3 warm-up/m);
    // Nothing is written: the timed steps train a throwaway model.
    expect(existsSync(join(cwd, "run"))).toBe(false);
  });
});
