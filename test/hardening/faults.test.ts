// Hardening (issue 6): checkpoint writes that fail, injected with CHARNN_FAULT (7 errno codes at
// every step of an atomic write, on first and later calls) and for real, as an unprivileged user
// on a folder it may not write (tests run as root, whom chmod does not stop). Each: exit 1, one
// line saying what happened, every checkpoint still loads, and the run resumes to the exact bytes.
// (--json keeps progress off stderr, so the error is alone there.)

import { chmod, cp, readFile, readdir, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCheckpointFile } from "../../src/node/store.js";
import { ExitCode } from "../../src/core/errors.js";
import { charnn, ensureBuilt, expectOneLineError, freshFolder, generatedText, runMain, seededUniform, trainingStateOf } from "./helpers.js";

const RUN = ["train", "corpus.txt", "--hidden", "8", "--layers", "1", "--batch", "2", "--seq-len", "8", "--backend", "js", "--checkpoint-every", "5", "--eval-every", "5", "--keep", "2", "--json"];
const CODES = ["ENOSPC", "EDQUOT", "EACCES", "EPERM", "EROFS", "EIO", "EFBIG"];
const OPERATIONS = ["open", "write", "fsync", "close", "rename"];
const WORDS: Record<string, string> = {
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  EIO: "input/output error",
  EFBIG: "file too large",
};

let base: string;
let reference: Record<string, string>;

beforeAll(async () => {
  // A run saved at step 10, and the same run carried on to step 20 without a fault.
  base = await freshFolder("faults-base");
  await writeFile(join(base, "corpus.txt"), generatedText(4000, 31));
  const started = await runMain([...RUN, "--steps", "10", "--out", "run"], { cwd: base });
  if (started.code !== 0) throw new Error(started.stderr);
  const whole = await freshFolder("faults-whole");
  await cp(base, whole, { recursive: true });
  const finished = await runMain([...RUN, "--resume", "--steps", "20", "--out", "run"], { cwd: whole });
  if (finished.code !== 0) throw new Error(finished.stderr);
  reference = await trainingStateOf(join(whole, "run", "latest.json"));
});

async function expectFolderSound(folder: string, context: string): Promise<number> {
  const names = await readdir(folder);
  expect(names.filter((name) => name.endsWith(".tmp")), context).toEqual([]);
  expect(names, context).not.toContain(".lock");
  for (const name of names.filter((n) => n.endsWith(".json"))) {
    await loadCheckpointFile(join(folder, name)).catch((error: Error) => {
      throw new Error(`${context}: ${name} does not load: ${error.message}`);
    });
  }
  return (await loadCheckpointFile(join(folder, "latest.json"))).step;
}

describe("injected write failures on a resumed run", () => {
  const random = seededUniform(7);
  const cases: Array<{ fault: string; code: string }> = [];
  for (const code of CODES) {
    for (const operation of OPERATIONS) {
      // The first call fails the first file of the first save; a later one fails a later file
      // or the folder flush, after other files of the run were already replaced.
      cases.push({ fault: `${operation}:${code}@1`, code });
      cases.push({ fault: `${operation}:${code}@${2 + Math.floor(random() * 3)}`, code });
    }
    cases.push({ fault: `write:${code}`, code });
  }

  it(`${cases.length} faults: exit 6 (checkpoint write failed), one line naming the error, every checkpoint intact, and an exact resume after`, async () => {
    expect(cases.length).toBe(77);
    const seen = new Set<string>();
    for (const { fault, code } of cases) {
      const cwd = await freshFolder("faults");
      await cp(base, cwd, { recursive: true });
      const before = await readFile(join(cwd, "run", "latest.json"));
      const failed = await runMain([...RUN, "--resume", "--steps", "20", "--out", "run"], { cwd, env: { CHARNN_FAULT: fault } });
      if (failed.code === ExitCode.ok) {
        // Every second open, fsync and close is of the folder, to flush the rename. A close that
        // fails after the flush loses nothing, and EACCES or EPERM there is how some platforms say
        // folders cannot be flushed at all: the run rightly goes on. No other fault may pass.
        expect(fault, failed.stderr).toMatch(/^close:E[A-Z]+@[24]$|^(open|fsync):(EACCES|EPERM)@[24]$/);
        expect(await trainingStateOf(join(cwd, "run", "latest.json")), fault).toEqual(reference);
        seen.add("harmless folder handle");
        continue;
      }
      const message = expectOneLineError(failed, ExitCode.writeFailed, fault);
      expect(message, fault).toContain(`${WORDS[code]} (${code})`);
      expect(message, fault).toMatch(/^cannot write .+; (the previous checkpoint is intact|no partial file was left behind)$|^wrote .+, but could not flush its folder: .+; it may not survive a power loss$/);
      seen.add(message.startsWith("wrote") ? "folder flush" : message.includes("previous checkpoint is intact") ? "replacing a file" : "a new file");

      const step = await expectFolderSound(join(cwd, "run"), fault);
      expect([10, 15, 20], fault).toContain(step);
      // Where no save got through, latest.json is the one from before, byte for byte.
      if (step === 10) expect((await readFile(join(cwd, "run", "latest.json"))).equals(before), fault).toBe(true);

      const resumed = await runMain([...RUN, "--resume", "--steps", "20", "--out", "run"], { cwd });
      expect(resumed.code, `${fault}: ${resumed.stderr}`).toBe(0);
      expect(await trainingStateOf(join(cwd, "run", "latest.json")), fault).toEqual(reference);
    }
    // The faults reached all three places a save can fail.
    expect([...seen].sort()).toEqual(["a new file", "folder flush", "harmless folder handle", "replacing a file"]);
  }, 60_000);

  it("the first write of a save failing leaves latest.json byte for byte as it was", async () => {
    const cwd = await freshFolder("faults-first");
    await cp(base, cwd, { recursive: true });
    const before = await readFile(join(cwd, "run", "latest.json"));
    // --keep 0: the first file a save writes is latest.json itself.
    const failed = await runMain([...RUN, "--resume", "--steps", "20", "--keep", "0", "--out", "run"], { cwd, env: { CHARNN_FAULT: "write:ENOSPC@1" } });
    expect(expectOneLineError(failed, ExitCode.writeFailed)).toMatch(/^cannot write .*latest\.json: no space left on device \(ENOSPC\); the previous checkpoint is intact$/);
    expect(failed.stderr).toMatch(/\nhint: free some disk space, keep fewer checkpoints, or use another --out\n$/);
    expect((await readFile(join(cwd, "run", "latest.json"))).equals(before)).toBe(true);
  });
});

describe("a real permission denied, as an unprivileged user", () => {
  const asRoot = process.getuid?.() === 0;
  const nobody = 65534;
  beforeAll(() => ensureBuilt(), 120_000);

  it("a run folder the user may not write: exit 1, one line, the checkpoints untouched", async () => {
    const cwd = await freshFolder("faults-readonly");
    await cp(base, cwd, { recursive: true });
    const before = await readFile(join(cwd, "run", "latest.json"));
    // Readable by everyone, writable by its owner only: to anyone else it is a read-only folder.
    await chmod(cwd, 0o755);
    await chmod(join(cwd, "run"), asRoot ? 0o755 : 0o555);
    const result = await charnn([...RUN, "--resume", "--steps", "20", "--out", "run"], {
      cwd,
      env: { HOME: cwd },
      ...(asRoot ? { uid: nobody, gid: nobody } : {}),
    });
    const message = expectOneLineError(result, ExitCode.failure);
    expect(message).toMatch(/run\/\.lock: permission denied \(EACCES\)$/);
    expect(result.stderr).toMatch(/\nhint: check that you may write to that folder, or use another --out\n$/);
    expect((await readFile(join(cwd, "run", "latest.json"))).equals(before)).toBe(true);
    expect(existsSync(join(cwd, "run", ".lock"))).toBe(false);
    await chmod(join(cwd, "run"), 0o755);
  });

  it("a new --out below a folder the user may not write: exit 1, one line, nothing created", async () => {
    const cwd = await freshFolder("faults-noout");
    await writeFile(join(cwd, "corpus.txt"), generatedText(4000, 31));
    await chmod(cwd, asRoot ? 0o755 : 0o555);
    const result = await charnn([...RUN, "--steps", "5", "--out", "run"], { cwd, env: { HOME: cwd }, ...(asRoot ? { uid: nobody, gid: nobody } : {}) });
    expect(expectOneLineError(result, ExitCode.failure)).toMatch(/^cannot create folder .*run: permission denied \(EACCES\)$/);
    expect(existsSync(join(cwd, "run"))).toBe(false);
    await chmod(cwd, 0o755);
  });
});

describe("an --out that is not a folder", () => {
  it.each([["a file", "corpus.txt"], ["below a file", "corpus.txt/run"]])("%s: exit 1, one line saying so, nothing changed", async (_what, out) => {
    const cwd = await freshFolder("faults-out-file");
    await writeFile(join(cwd, "corpus.txt"), generatedText(4000, 31));
    const before = await readFile(join(cwd, "corpus.txt"));
    const result = await runMain([...RUN, "--steps", "5", "--out", out], { cwd });
    expect(expectOneLineError(result, ExitCode.failure)).toMatch(/^cannot use .*corpus\.txt(\/run)? as a checkpoint folder: it or a folder above it is a file$/);
    expect(result.stderr).toMatch(/\nhint: pass a folder with --out\n$/);
    expect((await readFile(join(cwd, "corpus.txt"))).equals(before)).toBe(true);
  });
});
