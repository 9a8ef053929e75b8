// Hardening (issue 6): bad corpora through train and eval (missing, empty, folders without
// text, one character, shorter than a window, binary, invalid UTF-8 and UTF-16, unreadable as an
// unprivileged user): exit 3, one line naming the input and byte, nothing written. And what must
// work: UTF-16 and BOM text equal to plain UTF-8, and a 50 MB single line with bounded memory.

import { chmod, mkdir, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCheckpointFile } from "../../src/node/store.js";
import { ExitCode } from "../../src/core/errors.js";
import { charnn, charnnWithPeakRss, ensureBuilt, expectOneLineError, freshFolder, generatedText, runMain, trainedCheckpoint } from "./helpers.js";

const TRAIN = ["--hidden", "8", "--layers", "1", "--batch", "2", "--seq-len", "8", "--steps", "2", "--backend", "js", "--json"];
const good = Buffer.from(generatedText(3000, 41), "utf8");
/** ASCII, so that a prefix of any length ends on a character boundary. */
const ascii = Buffer.from("plain ascii text, line after line\n".repeat(40));

interface BadCorpus {
  name: string;
  /** Files to create (a value of null makes a folder); the inputs named on the command line. */
  files: Record<string, Buffer | null>;
  inputs: string[];
  stdin?: string;
  message: RegExp;
}

const withBytes = (...parts: Array<Buffer | number[]>): Buffer => Buffer.concat(parts.map((part) => (Buffer.isBuffer(part) ? part : Buffer.from(part))));

const BAD: BadCorpus[] = [
  { name: "a missing file", files: {}, inputs: ["nothing.txt"], message: /^no such file: nothing\.txt$/ },
  { name: "a missing file after a good one", files: { "a.txt": good }, inputs: ["a.txt", "gone.txt"], message: /^no such file: gone\.txt$/ },
  { name: "a path through a file", files: { "a.txt": good }, inputs: ["a.txt/inner.txt"], message: /^no such file: a\.txt\/inner\.txt$/ },
  { name: "an empty folder", files: { "empty": null }, inputs: ["empty"], message: /^empty\/: no text files found$/ },
  { name: "a folder of hidden files", files: { "hidden": null, "hidden/.notes.txt": good }, inputs: ["hidden"], message: /^hidden\/: no text files found$/ },
  { name: "a folder of binary files", files: { "bin": null, "bin/a.png": withBytes([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 13]) }, inputs: ["bin"], message: /^bin\/: no text files found$/ },
  { name: "an empty file", files: { "empty.txt": Buffer.alloc(0) }, inputs: ["empty.txt"], message: /empty|^nothing to score in empty\.txt: 0 known/ },
  { name: "only a byte-order mark", files: { "bom.txt": withBytes([0xef, 0xbb, 0xbf]) }, inputs: ["bom.txt"], message: /empty|^nothing to score in bom\.txt: 0 known/ },
  { name: "empty standard input", files: {}, inputs: ["-"], stdin: "", message: /empty|^nothing to score in <stdin>: 0 known/ },
  { name: "a single character", files: { "one.txt": Buffer.from("a") }, inputs: ["one.txt"], message: /^the text is too short for batch 2 and seq-len 8|^nothing to score in one\.txt: 1 known character/ },
  { name: "shorter than one window", files: { "short.txt": Buffer.from("the quick brown") }, inputs: ["short.txt"], message: /^the text is too short for batch 2 and seq-len 8: it has 15 characters, at least 18 are needed$/ },
  { name: "a PNG", files: { "image.txt": withBytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]) }, inputs: ["image.txt"], message: /^image\.txt: looks like a binary file \(NUL byte at byte 8\)$/ },
  { name: "an ELF binary", files: { "prog": withBytes([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0]) }, inputs: ["prog"], message: /^prog: looks like a binary file/ },
  { name: "text with a NUL in it", files: { "nul.txt": withBytes(ascii.subarray(0, 100), [0], ascii.subarray(100, 200)) }, inputs: ["nul.txt"], message: /^nul\.txt: looks like a binary file \(NUL byte at byte 100\)$/ },
  { name: "binary on standard input", files: {}, inputs: ["-"], stdin: "abc\u0000def", message: /^<stdin>: looks like a binary file \(NUL byte at byte 3\)$/ },
  { name: "a lone continuation byte", files: { "u.txt": withBytes(ascii.subarray(0, 500), [0x80], good) }, inputs: ["u.txt"], message: /^u\.txt: not valid UTF-8 at byte 500$/ },
  { name: "an overlong encoding", files: { "u.txt": withBytes(ascii.subarray(0, 77), [0xc0, 0xaf], good) }, inputs: ["u.txt"], message: /^u\.txt: not valid UTF-8 at byte 77$/ },
  { name: "an encoded surrogate", files: { "u.txt": withBytes(ascii.subarray(0, 10), [0xed, 0xa0, 0x80], good) }, inputs: ["u.txt"], message: /^u\.txt: not valid UTF-8 at byte 10$/ },
  { name: "a byte above U+10FFFF", files: { "u.txt": withBytes(ascii.subarray(0, 3), [0xf5, 0x80, 0x80, 0x80], good) }, inputs: ["u.txt"], message: /^u\.txt: not valid UTF-8 at byte 3$/ },
  { name: "a sequence cut off by the end", files: { "u.txt": withBytes(good, [0xe6, 0x97]) }, inputs: ["u.txt"], message: new RegExp(`^u\\.txt: not valid UTF-8 at byte ${good.length}$`) },
  { name: "Latin-1 text", files: { "latin1.txt": Buffer.from("caf\u00e9 au lait, na\u00efve\n".repeat(40), "latin1") }, inputs: ["latin1.txt"], message: /^latin1\.txt: not valid UTF-8 at byte 3$/ },
  { name: "UTF-16 with an odd number of bytes", files: { "odd.txt": withBytes([0xff, 0xfe], Buffer.from("hello world", "utf16le"), [0x41]) }, inputs: ["odd.txt"], message: /^odd\.txt: not valid UTF-16LE: odd number of bytes/ },
  { name: "UTF-16 with an unpaired surrogate", files: { "sur.txt": withBytes([0xfe, 0xff], [0x00, 0x61, 0xd8, 0x3d, 0x00, 0x62]) }, inputs: ["sur.txt"], message: /^sur\.txt: not valid UTF-16BE: unpaired surrogate at byte 4$/ },
  { name: "invalid UTF-8 inside a folder", files: { "texts": null, "texts/a.txt": good, "texts/b.txt": withBytes([0x61, 0xff]) }, inputs: ["texts"], message: /^texts\/b\.txt: not valid UTF-8 at byte 1$/ },
];

async function lay(folder: string, files: Record<string, Buffer | null>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    if (content === null) await mkdir(join(folder, name), { recursive: true });
    else await writeFile(join(folder, name), content);
  }
}

let checkpoint: string;
beforeAll(async () => {
  checkpoint = await trainedCheckpoint(await freshFolder("corpora-model"));
});

describe("bad corpora: exit 3, one line naming the input, nothing written", () => {
  it.each(BAD.map((c) => [c.name, c] as const))("charnn train: %s", async (_name, bad) => {
    const cwd = await freshFolder("corpora");
    await lay(cwd, bad.files);
    const result = await runMain(["train", ...bad.inputs, ...TRAIN, "--out", "run"], { cwd, stdin: bad.stdin });
    expect(expectOneLineError(result, ExitCode.badInput, bad.name)).toMatch(bad.message);
    expect(result.stdout).toBe("");
    expect(existsSync(join(cwd, "run"))).toBe(false);
  });

  it.each(BAD.map((c) => [c.name, c] as const))("charnn eval: %s", async (_name, bad) => {
    const cwd = await freshFolder("corpora-eval");
    await lay(cwd, bad.files);
    const result = await runMain(["eval", "-c", checkpoint, ...bad.inputs], { cwd, stdin: bad.stdin });
    // eval needs two characters, not a window: "shorter than one window" is text it can score.
    if (bad.name === "shorter than one window") {
      expect(result.code, result.stderr).toBe(ExitCode.ok);
      return;
    }
    expect(expectOneLineError(result, ExitCode.badInput, bad.name)).toMatch(bad.message);
    expect(result.stdout).toBe("");
  });

  it("a file the user may not read: exit 3, permission denied (as an unprivileged user)", async () => {
    await ensureBuilt();
    const cwd = await freshFolder("corpora-private");
    await writeFile(join(cwd, "secret.txt"), good);
    await chmod(join(cwd, "secret.txt"), 0o600);
    await chmod(cwd, 0o777);
    const asRoot = process.getuid?.() === 0;
    if (!asRoot) await chmod(join(cwd, "secret.txt"), 0o000);
    const result = await charnn(["train", "secret.txt", ...TRAIN, "--out", "run"], { cwd, env: { HOME: cwd }, ...(asRoot ? { uid: 65534, gid: 65534 } : {}) });
    expect(expectOneLineError(result, ExitCode.badInput)).toBe("cannot read secret.txt: permission denied");
    expect(existsSync(join(cwd, "run"))).toBe(false);
  });
});

describe("validation text", () => {
  it("standard input as both the training text and --val-file: exit 2, one line (it was silently no validation)", async () => {
    const cwd = await freshFolder("corpora-val-stdin");
    const result = await runMain(["train", "-", "--val-file", "-", ...TRAIN, "--out", "run"], { cwd, stdin: good.toString("utf8") });
    expect(expectOneLineError(result, ExitCode.usage)).toBe('"-" (standard input) cannot be both the training text and --val-file');
    expect(existsSync(join(cwd, "run"))).toBe(false);
  });

  it("an empty --val-file: exit 3, one line (it was silently no validation)", async () => {
    const cwd = await freshFolder("corpora-val-empty");
    await writeFile(join(cwd, "corpus.txt"), good);
    await writeFile(join(cwd, "val.txt"), "");
    const result = await runMain(["train", "corpus.txt", "--val-file", "val.txt", ...TRAIN, "--out", "run"], { cwd });
    expect(expectOneLineError(result, ExitCode.badInput)).toBe("the validation text is empty (val.txt)");
    expect(existsSync(join(cwd, "run"))).toBe(false);
  });

  it("--val-file from standard input with the training text from a file still works", async () => {
    const cwd = await freshFolder("corpora-val-ok");
    await writeFile(join(cwd, "corpus.txt"), good);
    const result = await runMain(["train", "corpus.txt", "--val-file", "-", ...TRAIN, "--eval-every", "1", "--out", "run"], { cwd, stdin: generatedText(500, 43) });
    expect(result.code, result.stderr).toBe(ExitCode.ok);
    expect((await loadCheckpointFile(join(cwd, "run", "latest.json"))).bestValidationLoss).not.toBeNull();
  });
});

describe("corpora that must work", () => {
  const text = "Grüße aus 日本 😀\nthe quick brown fox\r\n".repeat(60);

  async function trainOn(cwd: string, name: string, bytes: Buffer): Promise<{ fingerprint: string; length: number; vocabulary: number[] }> {
    await writeFile(join(cwd, name), bytes);
    const result = await runMain(["train", name, ...TRAIN, "--out", `run-${name}`], { cwd });
    expect(result.code, result.stderr).toBe(0);
    const saved = await loadCheckpointFile(join(cwd, `run-${name}`, "latest.json"));
    return { fingerprint: saved.corpus.fingerprint, length: saved.corpus.length, vocabulary: saved.vocabulary };
  }

  it("UTF-16LE and UTF-16BE with a byte-order mark, and UTF-8 with one, are the same text as plain UTF-8", async () => {
    const cwd = await freshFolder("corpora-encodings");
    const plain = await trainOn(cwd, "plain.txt", Buffer.from(text, "utf8"));
    expect(plain.length).toBe([...text].length);
    // CRLF is kept as it is: no normalisation.
    expect(plain.vocabulary).toContain(0x0d);
    expect(plain.vocabulary).toContain(0x1f600);
    const littleEndian = await trainOn(cwd, "le.txt", withBytes([0xff, 0xfe], Buffer.from(text, "utf16le")));
    const bigEndian = await trainOn(cwd, "be.txt", withBytes([0xfe, 0xff], Buffer.from(text, "utf16le").swap16()));
    const markedUtf8 = await trainOn(cwd, "bom.txt", withBytes([0xef, 0xbb, 0xbf], Buffer.from(text, "utf8")));
    for (const other of [littleEndian, bigEndian, markedUtf8]) expect(other).toEqual(plain);
  });

  it("a single character repeated: a one-character vocabulary trains", async () => {
    const cwd = await freshFolder("corpora-one");
    const saved = await trainOn(cwd, "a.txt", Buffer.from("a".repeat(5000)));
    expect(saved.vocabulary).toEqual([0x61]);
  });

  it("a 50 MB single line trains (through the built binary), with memory bounded", async () => {
    await ensureBuilt();
    const cwd = await freshFolder("corpora-line");
    const unit = Buffer.from("the quick brown fox jumps over the lazy dog, ");
    const bytes = Buffer.allocUnsafe(Math.floor((50 * 1024 * 1024) / unit.length) * unit.length);
    for (let offset = 0; offset < bytes.length; offset += unit.length) unit.copy(bytes, offset);
    await writeFile(join(cwd, "line.txt"), bytes);
    const result = await charnnWithPeakRss(["train", "line.txt", ...TRAIN, "--steps", "1", "--val-frac", "0", "--out", "run"], { cwd });
    expect(result.code, result.stderr).toBe(0);
    expect((await loadCheckpointFile(join(cwd, "run", "latest.json"))).corpus.length).toBe(bytes.length);
    // About 5 bytes a character plus node itself; a string or an array of characters would not fit.
    expect(result.peakRssBytes).toBeLessThan(bytes.length * 6.5 + 150 * 1024 * 1024);
  }, 60_000);
});
