// How sample, eval and info name a checkpoint, in-process through main(): -c FILE|DIR, --best,
// info's first argument, and for every kind of missing checkpoint a hint that is run here as
// pasted (split as a shell would) and must then succeed.

import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandLine } from "../../src/cli/checkpoint-arg.js";
import { main } from "../../src/cli/main.js";
import { ExitCode } from "../../src/core/errors.js";
import { createTestIO } from "./helpers.js";

/** Sizes that make any training command in a hint finish in a moment. */
const TINY = ["--steps", "2", "--layers", "1", "--hidden", "8", "--batch", "2", "--seq-len", "8"];

let dir: string;

async function charnn(cwd: string, args: string[]) {
  const captured = createTestIO({ cwd });
  const code = await main(args, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

/** Words of a POSIX command line with plain words and single quotes, as commandLine writes them. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  const pattern = /'((?:[^']|'\\'')*)'|(\S+)/g;
  for (const match of line.matchAll(pattern)) words.push(match[1] !== undefined ? match[1].replaceAll("'\\''", "'") : match[2]!);
  return words;
}

/** The `charnn ...` commands in a hint, each as the words after `charnn`. */
function pastedCommands(stderr: string): string[][] {
  const hint = /^hint: (.*)$/m.exec(stderr)?.[1] ?? "";
  return [...hint.matchAll(/charnn ((?:'[^']*'|[^,()'])+)/g)].map((match) => shellWords(match[1]!.trim()));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "charnn-checkpoint-arg-"));
  await writeFile(join(dir, "corpus.txt"), "the cat sat on the mat and the dog sat on the log.\n".repeat(30));
  const trained = await charnn(dir, ["train", "corpus.txt", "--out", "run", ...TINY, "--steps", "20", "--eval-every", "10"]);
  if (trained.code !== 0) throw new Error(`training the fixture failed: ${trained.stderr}`);
  await mkdir(join(dir, "nobest"));
  await copyFile(join(dir, "run", "latest.json"), join(dir, "nobest", "latest.json"));
  await mkdir(join(dir, "empty"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("naming a checkpoint", () => {
  it("info takes -c FILE like sample and eval", async () => {
    const byFlag = await charnn(dir, ["info", "-c", "run/latest.json", "--json"]);
    const byArgument = await charnn(dir, ["info", "run/latest.json", "--json"]);
    expect(byFlag.code).toBe(0);
    expect(byFlag.stdout).toBe(byArgument.stdout);
  });

  it("a run folder means its latest.json, for sample, eval and info", async () => {
    const folder = await charnn(dir, ["sample", "-c", "run", "--seed", "3", "-n", "30"]);
    const file = await charnn(dir, ["sample", "-c", "run/latest.json", "--seed", "3", "-n", "30"]);
    expect(folder.code).toBe(0);
    expect(folder.stdout).toBe(file.stdout);
    expect((await charnn(dir, ["eval", "-c", "run", "corpus.txt"])).stdout).toBe((await charnn(dir, ["eval", "-c", "run/latest.json", "corpus.txt"])).stdout);
    const info = JSON.parse((await charnn(dir, ["info", "run", "--json"])).stdout) as { checkpoint: string };
    expect(info.checkpoint).toBe(join("run", "latest.json"));
  });

  it("--best with a folder or a file in it reads the folder's best.json; info takes --best too", async () => {
    for (const args of [["info", "run", "--best", "--json"], ["info", "-c", "run/latest.json", "--best", "--json"]]) {
      const { code, stdout } = await charnn(dir, args);
      expect(code).toBe(0);
      expect((JSON.parse(stdout) as { checkpoint: string }).checkpoint).toBe(join("run", "best.json"));
    }
  });

  it("two different checkpoints for info is a usage error whose hint names one", async () => {
    const { code, stderr } = await charnn(dir, ["info", "run", "-c", "nobest"]);
    expect(code).toBe(ExitCode.usage);
    expect(stderr).toContain("two checkpoints given: run and -c nobest");
    const [pasted] = pastedCommands(stderr);
    expect((await charnn(dir, pasted!)).code).toBe(0);
  });

  it("sample --help shows -c taking a file or a folder, and --best without a default", async () => {
    const help = (await charnn(dir, ["sample", "--help"])).stdout.replace(/\s+/g, " ");
    expect(help).toContain("-c, --checkpoint <file|dir>");
    expect(help).not.toMatch(/--best [^-]*\(default: false\)/);
  });
});

describe("every hint for a missing checkpoint works when pasted", () => {
  it("a missing file next to a run folder: the hint names that run, in the same command", async () => {
    const { code, stderr } = await charnn(dir, ["eval", "-c", "nosuch.json", "corpus.txt"]);
    expect(code).toBe(ExitCode.badInput);
    expect(stderr).toMatch(/^charnn: no checkpoint at nosuch\.json\n/);
    const [pasted] = pastedCommands(stderr);
    expect(pasted![0]).toBe("eval");
    expect(pasted).toContain("corpus.txt");
    const again = await charnn(dir, pasted!);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/bits\/char/);
  });

  it("--best in a run without best.json: the hint reads the latest instead", async () => {
    const { code, stderr } = await charnn(dir, ["sample", "-c", "nobest", "--best", "-n", "5"]);
    expect(code).toBe(ExitCode.badInput);
    expect(stderr).toContain("no best.json in nobest (--best)");
    const [pasted] = pastedCommands(stderr);
    expect(pasted).not.toContain("--best");
    expect((await charnn(dir, pasted!)).code).toBe(0);
  });

  it("a folder that is not a run: said so, and the hint trains into it, then the command works", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "charnn-checkpoint-arg-fresh-"));
    try {
      await mkdir(join(cwd, "models"));
      const { code, stderr } = await charnn(cwd, ["info", "models"]);
      expect(code).toBe(ExitCode.badInput);
      expect(stderr).toContain("models is a folder without a checkpoint (no latest.json in it)");
      const [train, then] = pastedCommands(stderr);
      expect(train![0]).toBe("train");
      expect((await charnn(cwd, [...train!, ...TINY])).code).toBe(0);
      expect(then).toEqual(["info", "models"]);
      expect((await charnn(cwd, then!)).code).toBe(0);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it("nothing anywhere and nothing named: the hint trains into the default folder, then plain `charnn sample` works", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "charnn-checkpoint-arg-fresh-"));
    try {
      const { code, stderr } = await charnn(cwd, ["sample"]);
      expect(code).toBe(ExitCode.badInput);
      expect(stderr).toMatch(/^charnn: no checkpoint at checkpoints\/latest\.json\n/);
      expect(stderr).not.toContain("FILE");
      const [train, then] = pastedCommands(stderr);
      expect(train).not.toContain("--out");
      expect((await charnn(cwd, [...train!, ...TINY])).code).toBe(0);
      expect(then).toEqual(["sample"]);
      expect((await charnn(cwd, [...then!, "-n", "5"])).code).toBe(0);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it("an empty folder among runs: the hint suggests a run below it or nearby", async () => {
    await mkdir(join(dir, "empty", "inner"), { recursive: true });
    await copyFile(join(dir, "run", "latest.json"), join(dir, "empty", "inner", "latest.json"));
    const { stderr } = await charnn(dir, ["sample", "-c", "empty"]);
    const [pasted] = pastedCommands(stderr);
    expect(pasted).toEqual(["sample", "-c", join("empty", "inner")]);
    expect((await charnn(dir, [...pasted!, "-n", "5"])).code).toBe(0);
  });
});

describe("commandLine", () => {
  it("quotes what a shell would split or expand, and nothing else", () => {
    expect(commandLine(["sample", "-c", "runs/a-1.json"])).toBe("charnn sample -c runs/a-1.json");
    expect(commandLine(["eval", "my text.txt", "it's", "$HOME"])).toBe(`charnn eval 'my text.txt' 'it'\\''s' '$HOME'`);
    expect(shellWords(commandLine(["eval", "my text.txt", "it's"]).slice("charnn ".length))).toEqual(["eval", "my text.txt", "it's"]);
  });
});
