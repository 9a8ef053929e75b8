// A run folder inside the corpus folder, through main(): `train data --out data/ckpt` and then
// the same with --resume continue one run (the checkpoints are not read as text), and the note
// says what was left out. Also the wording of corpusNotes for several entries.

import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { corpusNotes } from "../../src/cli/corpus-notes.js";
import { main } from "../../src/cli/main.js";
import { createTestIO } from "./helpers.js";

const SMALL = ["--layers", "1", "--hidden", "8", "--batch", "2", "--seq-len", "8", "--eval-every", "0"];
let cwd: string;

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "charnn-corpus-notes-"));
  await mkdir(join(cwd, "data"));
  await writeFile(join(cwd, "data", "a.txt"), "the first text file of the corpus.\n".repeat(20));
  await writeFile(join(cwd, "data", "b.txt"), "and a second one beside it.\n".repeat(20));
});

afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

async function charnn(args: string[]) {
  const captured = createTestIO({ cwd });
  const code = await main(args, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

describe("a run folder inside the corpus folder", () => {
  it("resuming `train data --out data/ckpt` continues the run, saying what was left out", async () => {
    const first = await charnn(["train", "data", "--out", "data/ckpt", "--steps", "5", ...SMALL]);
    expect(first.code, first.stderr).toBe(0);
    const again = await charnn(["train", "data", "--out", "data/ckpt", "--steps", "10", "--resume", ...SMALL]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`left out ${join("data", "ckpt")}/: charnn run folder (checkpoints, not text)`);
    expect(again.stderr).not.toContain("differs");
  });
});

describe("corpusNotes", () => {
  it("names up to five paths per note and counts the rest", () => {
    const runFolders = ["a/", "b/", "c/", "d/", "e/", "f/", "g/"].map((path) => ({ path, kind: "run-folder" as const }));
    expect(corpusNotes({ skipped: ["x.bin"], leftOut: [...runFolders, { path: "m.json", kind: "checkpoint" }] })).toEqual([
      "left out a/, b/, c/, d/, e/ and 2 more: charnn run folders (checkpoints, not text)",
      "left out m.json: charnn checkpoint, not text",
      "skipped x.bin: looks binary",
    ]);
    expect(corpusNotes({ skipped: [], leftOut: [] })).toEqual([]);
  });
});
