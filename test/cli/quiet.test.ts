// In-process tests of -q/--quiet on every command that reports on stderr (sample, eval, info,
// viz, export, import, serve; train's is in train.test.ts): on success stderr is empty (no seed
// line, notes or "wrote FILE" line), stdout and the files written are unchanged, and an error is
// still printed. Without the switch the same commands do write to stderr, so the test can fail.

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
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

  it("info --plot: no \"wrote\" line, the same report and the same image", async () => {
    const loud = await run(["info", "run", "--plot", "loud.svg"]);
    expect(loud.code).toBe(0);
    expect(loud.stderr).toMatch(/^wrote loud\.svg /m);
    for (const flag of ["--quiet", "-q"]) {
      const quiet = await run(["info", "run", "--plot", "quiet.svg", flag]);
      expect(quiet).toEqual({ code: 0, stdout: loud.stdout, stderr: "" });
      expect(await readFile(join(cwd, "quiet.svg"), "utf8")).toBe(await readFile(join(cwd, "loud.svg"), "utf8"));
    }
  });

  it("viz: no note about left-out characters, no \"wrote\" line for --html, the same output", async () => {
    const loud = await run(["viz", "-c", "run", "other.txt"]);
    expect(loud.code).toBe(0);
    expect(loud.stderr).toMatch(/^note: left out 2 character\(s\)/m);
    const quiet = await run(["viz", "-c", "run", "other.txt", "-q"]);
    expect(quiet).toEqual({ code: 0, stdout: loud.stdout, stderr: "" });
    const page = await run(["viz", "-c", "run", "--text", "the cat", "--html", "view.html", "--quiet"]);
    expect(page).toMatchObject({ code: 0, stderr: "" });
    expect(await readFile(join(cwd, "view.html"), "utf8")).toContain("<html");
    expect((await run(["viz", "-c", "run", "--text", "the cat", "--html", "view.html"])).stderr).toMatch(/^wrote view\.html /m);
  });

  it("export and import: no \"wrote\" line, the same files", async () => {
    const loud = await run(["export", "run", "loud.safetensors"]);
    expect(loud).toEqual({ code: 0, stdout: "", stderr: "wrote loud.safetensors\n" });
    const quiet = await run(["export", "run", "quiet.safetensors", "-q"]);
    expect(quiet).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(await readFile(join(cwd, "quiet.safetensors"))).toEqual(await readFile(join(cwd, "loud.safetensors")));
    const imported = await run(["import", "quiet.safetensors", "--out", "imported", "--quiet"]);
    expect(imported).toEqual({ code: 0, stdout: "", stderr: "" });
    expect((await run(["import", "loud.safetensors", "--out", "imported-loud"])).stderr).toMatch(/^wrote imported-loud\/latest\.json /);
  });

  it("serve: the URL on stdout, nothing on stderr", async () => {
    for (const [flags, stderr] of [[[], /^serving run \(Ctrl-C stops\)\n$/], [["-q"], /^$/]] as const) {
      const captured = createTestIO({ cwd, env: {} });
      const exit = main(["serve", "run", "--port", "0", ...flags], captured.io);
      for (let i = 0; i < 500 && !captured.stdout().includes("\n"); i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(captured.stdout()).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\n$/);
      captured.signals.emit("SIGINT");
      expect(await exit).toBe(0);
      expect(captured.stderr()).toMatch(stderr);
    }
  });

  it("errors are still printed", async () => {
    const sample = await run(["sample", "-c", "nosuch.json", "-q"]);
    expect(sample.code).not.toBe(0);
    expect(sample.stderr).toMatch(/nosuch\.json/);
    const evaluated = await run(["eval", "-c", "run", "missing.txt", "-q"]);
    expect(evaluated.code).not.toBe(0);
    expect(evaluated.stderr).toMatch(/missing\.txt/);
    for (const args of [["info", "nosuch.json", "-q"], ["viz", "-c", "nosuch.json", "--text", "a", "-q"], ["export", "nosuch.json", "x.safetensors", "-q"], ["import", "nosuch.safetensors", "--out", "x", "-q"]]) {
      const failed = await run(args);
      expect(failed.code).not.toBe(0);
      expect(failed.stderr).toMatch(/nosuch/);
    }
  });
});
