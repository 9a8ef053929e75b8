// locateCheckpoint on folders built here: a file as it is, a run folder as its latest.json,
// --best as the folder's best.json, and for each missing case the reason and the nearby runs.

import { mkdir, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { locateCheckpoint } from "../../src/node/checkpoint-path.js";

let cwd: string;

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "charnn-checkpoint-path-"));
  for (const folder of ["runs/old", "runs/new", "only-latest", "plain", "node_modules/pkg"]) await mkdir(join(cwd, folder), { recursive: true });
  for (const file of ["runs/old/latest.json", "runs/new/latest.json", "runs/new/best.json", "only-latest/latest.json", "node_modules/pkg/latest.json", "file.json"]) {
    await writeFile(join(cwd, file), "{}");
  }
  const written = { "runs/old": 1_000_000, "runs/new": 2_000_000, "only-latest": 3_000_000 };
  for (const [folder, ms] of Object.entries(written)) await utimes(join(cwd, folder, "latest.json"), new Date(ms), new Date(ms));
});

afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

describe("locateCheckpoint", () => {
  it("reads a file as it is and a run folder as its latest.json or best.json", () => {
    expect(locateCheckpoint("file.json", false, cwd)).toEqual({ found: true, file: "file.json" });
    expect(locateCheckpoint("runs/new", false, cwd)).toEqual({ found: true, file: join("runs/new", "latest.json") });
    expect(locateCheckpoint("runs/new", true, cwd)).toEqual({ found: true, file: join("runs/new", "best.json") });
    expect(locateCheckpoint("runs/new/latest.json", true, cwd)).toEqual({ found: true, file: join("runs/new", "best.json") });
    expect(locateCheckpoint(join(cwd, "runs/new"), false, "/")).toEqual({ found: true, file: join(cwd, "runs/new", "latest.json") });
  });

  it("says why nothing is there, and offers the runs nearby, newest first, never inside node_modules", () => {
    expect(locateCheckpoint("only-latest", true, cwd)).toEqual({ found: false, file: join("only-latest", "best.json"), reason: "no-best", runFolders: [] });
    expect(locateCheckpoint("runs", false, cwd)).toEqual({
      found: false, file: join("runs", "latest.json"), reason: "not-a-run", runFolders: [join("runs", "new"), join("runs", "old")],
    });
    const missing = locateCheckpoint("gone/latest.json", false, cwd);
    expect(missing).toMatchObject({ found: false, file: "gone/latest.json", reason: "missing" });
    expect(missing.found === false && missing.runFolders).toEqual(["only-latest", join("runs", "new"), join("runs", "old")]);
    expect(locateCheckpoint("plain", false, cwd)).toMatchObject({ reason: "not-a-run", runFolders: [] });
  });
});
