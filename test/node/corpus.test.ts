// Tests for src/node/corpus.ts on throwaway folders: files, directory order, skipped
// binaries and hidden entries, standard input, the join newline, and the error messages.

import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { CharnnError, ExitCode } from "../../src/core/errors.js";
import { describeReadError, readCorpus } from "../../src/node/corpus.js";

let root: string;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "charnn-corpus-"));
});

afterEach(async () => {
  await fs.chmod(root, 0o700).catch(() => undefined);
  await fs.rm(root, { recursive: true, force: true });
});

/** Create files under root: { "dir/a.txt": "text" or bytes }. */
async function writeTree(files: Record<string, string | Uint8Array>): Promise<void> {
  for (const [relative, content] of Object.entries(files)) {
    const target = path.join(root, relative);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(target, content);
  }
}

const text = (codePoints: Uint32Array): string => String.fromCodePoint(...codePoints);

async function readError(inputs: string[], stdin?: Readable): Promise<CharnnError> {
  const error = await readCorpus(inputs, { cwd: root, stdin }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(CharnnError);
  return error as CharnnError;
}

describe("readCorpus", () => {
  it("reads named files in order, joined by one newline", async () => {
    await writeTree({ "b.txt": "héllo", "a.txt": "wörld 😀" });
    const corpus = await readCorpus(["b.txt", "a.txt"], { cwd: root });
    expect(text(corpus.codePoints)).toBe("héllo\nwörld 😀");
    expect(corpus.codePoints.length).toBe(5 + 1 + 7);
    expect(corpus.sources).toEqual(["b.txt", "a.txt"]);
    expect(corpus.skipped).toEqual([]);
  });

  it("keeps a file's own trailing newline and still adds the joining one", async () => {
    await writeTree({ "one.txt": "a\n", "two.txt": "b\n" });
    const corpus = await readCorpus(["one.txt", "two.txt"], { cwd: root });
    expect(Array.from(corpus.codePoints)).toEqual([0x61, 0x0a, 0x0a, 0x62, 0x0a]);
  });

  it("reads a single file without adding anything", async () => {
    await writeTree({ "only.txt": "xyz" });
    const corpus = await readCorpus(["only.txt"], { cwd: root });
    expect(Array.from(corpus.codePoints)).toEqual([0x78, 0x79, 0x7a]);
  });

  it("walks a directory recursively in full-path code-unit order", async () => {
    await writeTree({
      "dir/b.txt": "5",
      "dir/a/z.txt": "4",
      "dir/a-c.txt": "2",
      "dir/A.txt": "1",
      "dir/a/b/y.txt": "3",
    });
    const corpus = await readCorpus(["dir"], { cwd: root });
    // "dir/a-c.txt" sorts before "dir/a/…" because "-" (U+002D) < "/" (U+002F).
    expect(corpus.sources).toEqual(["dir/A.txt", "dir/a-c.txt", "dir/a/b/y.txt", "dir/a/z.txt", "dir/b.txt"]);
    expect(text(corpus.codePoints)).toBe("1\n2\n3\n4\n5");
  });

  it("skips binary files below a directory and reports them", async () => {
    await writeTree({
      "data/notes.txt": "notes",
      "data/image.bin": Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x00, 0x01),
      "data/sub/blob.dat": Uint8Array.of(0x41, 0x00),
    });
    const corpus = await readCorpus(["data"], { cwd: root });
    expect(corpus.sources).toEqual(["data/notes.txt"]);
    expect(corpus.skipped).toEqual(["data/image.bin", "data/sub/blob.dat"]);
    expect(text(corpus.codePoints)).toBe("notes");
  });

  it("skips hidden files and folders below a directory", async () => {
    await writeTree({
      "tree/visible.txt": "seen",
      "tree/.hidden.txt": "not seen",
      "tree/.git/config": "not seen either",
      "tree/sub/.env": "nor this",
    });
    const corpus = await readCorpus(["tree"], { cwd: root });
    expect(corpus.sources).toEqual(["tree/visible.txt"]);
    expect(corpus.skipped).toEqual([]);
    expect(text(corpus.codePoints)).toBe("seen");
  });

  it("reads a hidden file when it is named explicitly", async () => {
    await writeTree({ ".secret.txt": "named" });
    const corpus = await readCorpus([".secret.txt"], { cwd: root });
    expect(text(corpus.codePoints)).toBe("named");
  });

  it("includes UTF-16 files with a byte-order mark found in a directory", async () => {
    await writeTree({ "mixed/u16.txt": Uint8Array.of(0xff, 0xfe, 0x48, 0x00, 0x69, 0x00), "mixed/u8.txt": "ok" });
    const corpus = await readCorpus(["mixed"], { cwd: root });
    expect(corpus.sources).toEqual(["mixed/u16.txt", "mixed/u8.txt"]);
    expect(text(corpus.codePoints)).toBe("Hi\nok");
  });

  it("reads '-' from the given stream, even when a character is split across chunks", async () => {
    const bytes = Buffer.from("é😀!", "utf8"); // C3 A9 F0 9F 98 80 21
    const stdin = Readable.from([bytes.subarray(0, 1), bytes.subarray(1, 4), bytes.subarray(4)]);
    const corpus = await readCorpus(["-"], { cwd: root, stdin });
    expect(Array.from(corpus.codePoints)).toEqual([0xe9, 0x1f600, 0x21]);
    expect(corpus.sources).toEqual(["<stdin>"]);
  });

  it("joins standard input with files in the order given", async () => {
    await writeTree({ "before.txt": "A", "after.txt": "C" });
    const stdin = Readable.from([Buffer.from("B")]);
    const corpus = await readCorpus(["before.txt", "-", "after.txt"], { cwd: root, stdin });
    expect(text(corpus.codePoints)).toBe("A\nB\nC");
    expect(corpus.sources).toEqual(["before.txt", "<stdin>", "after.txt"]);
  });

  it("refuses '-' twice, since a stream can be read only once", async () => {
    const error = await readError(["-", "-"], Readable.from([Buffer.from("x")]));
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toContain("only once");
  });

  it("names the decoding problem of standard input as <stdin>", async () => {
    const error = await readError(["-"], Readable.from([Buffer.from([0x41, 0xff])]));
    expect(error.message).toBe("<stdin>: not valid UTF-8 at byte 1");
  });

  it("resolves relative paths against cwd and accepts absolute paths", async () => {
    await writeTree({ "nested/file.txt": "abs" });
    const absolute = path.join(root, "nested", "file.txt");
    const corpus = await readCorpus([absolute], { cwd: os.tmpdir() });
    expect(text(corpus.codePoints)).toBe("abs");
    expect(corpus.sources).toEqual([absolute]);
  });

  it("returns an empty corpus for no inputs and for an empty file", async () => {
    expect((await readCorpus([], { cwd: root })).codePoints.length).toBe(0);
    await writeTree({ "empty.txt": "" });
    const corpus = await readCorpus(["empty.txt"], { cwd: root });
    expect(corpus.codePoints.length).toBe(0);
    expect(corpus.sources).toEqual(["empty.txt"]);
  });
});

describe("readCorpus errors", () => {
  it("reports a missing file by the name given", async () => {
    const error = await readError(["x.txt"]);
    expect(error.message).toBe("no such file: x.txt");
    expect(error.exitCode).toBe(ExitCode.badInput);
  });

  it("reports a directory with no text files, with one trailing slash", async () => {
    await fs.mkdir(path.join(root, "empty"));
    expect((await readError(["empty"])).message).toBe("empty/: no text files found");
    expect((await readError(["empty/"])).message).toBe("empty/: no text files found");
  });

  it("reports a directory holding only binary or hidden files as having no text files", async () => {
    await writeTree({ "bins/a.bin": Uint8Array.of(0, 1, 2), "bins/.notes.txt": "hidden" });
    const error = await readError(["bins"]);
    expect(error.message).toBe("bins/: no text files found");
    expect(error.hint).toContain("1 file(s)");
  });

  it("gives the decoder's error for a named binary file", async () => {
    await writeTree({ "x.bin": Uint8Array.of(0x41, 0x42, 0x43, 0x00) });
    expect((await readError(["x.bin"])).message).toBe("x.bin: looks like a binary file (NUL byte at byte 3)");
  });

  it("gives the decoder's error, with the path, for invalid UTF-8 below a directory", async () => {
    await writeTree({ "texts/good.txt": "fine", "texts/latin1.txt": Uint8Array.of(0x63, 0x61, 0x66, 0xe9) });
    const error = await readError(["texts"]);
    expect(error.message).toBe(`${path.join("texts", "latin1.txt")}: not valid UTF-8 at byte 3`);
  });

  it.skipIf(process.getuid?.() === 0)("reports a file it may not read", async () => {
    await writeTree({ "locked.txt": "secret" });
    await fs.chmod(path.join(root, "locked.txt"), 0o000);
    expect((await readError(["locked.txt"])).message).toBe("cannot read locked.txt: permission denied");
  });

  it("maps file-system error codes to one-line messages", () => {
    const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: boom`), { code });
    expect(describeReadError(errno("ENOENT"), "x.txt").message).toBe("no such file: x.txt");
    expect(describeReadError(errno("EACCES"), "x.txt").message).toBe("cannot read x.txt: permission denied");
    expect(describeReadError(errno("EPERM"), "y.txt").message).toBe("cannot read y.txt: permission denied");
    const other = describeReadError(errno("EIO"), "z.txt");
    expect(other.message).toBe("cannot read z.txt: EIO");
    expect(other.hint).toBe("EIO: boom");
    expect(other.exitCode).toBe(ExitCode.badInput);
  });
});

describe("readCorpus leaves out charnn's own output", () => {
  const checkpointText = '{"format":"charnn-checkpoint","version":1,"step":3}\n';

  it("a run folder below the named folder is left out by its content and listed, whatever it is called", async () => {
    await writeTree({
      "data/a.txt": "alpha",
      "data/zz-models/latest.json": checkpointText,
      "data/zz-models/ckpt-00000010.json": checkpointText,
      "data/zz-models/notes.txt": "a note inside the run folder",
      "data/b.txt": "beta",
    });
    const corpus = await readCorpus(["data"], { cwd: root });
    expect(text(corpus.codePoints)).toBe("alpha\nbeta");
    expect(corpus.leftOut).toEqual([{ path: `${path.join("data", "zz-models")}/`, kind: "run-folder" }]);
  });

  it("a folder is a run folder by an event log or a lock of charnn's too, not by file names alone", async () => {
    await writeTree({
      "data/a.txt": "alpha",
      "data/events/events.ndjson": '{"schema":1,"type":"start","step":0}\n',
      "data/locked/.lock": '{"pid":12345,"hostname":"box","startedAt":"2026-01-01T00:00:00Z","nonce":"ab"}\n',
      // Someone else's latest.json: the same name, not charnn's content.
      "data/other/latest.json": '{"name":"not a checkpoint"}',
    });
    const corpus = await readCorpus(["data"], { cwd: root });
    expect(corpus.leftOut.map((entry) => entry.path)).toEqual([`${path.join("data", "events")}/`, `${path.join("data", "locked")}/`]);
    expect(text(corpus.codePoints)).toBe('alpha\n{"name":"not a checkpoint"}');
  });

  it("a checkpoint file elsewhere in the folder is left out on its own", async () => {
    await writeTree({ "data/a.txt": "alpha", "data/model.json": checkpointText });
    const corpus = await readCorpus(["data"], { cwd: root });
    expect(text(corpus.codePoints)).toBe("alpha");
    expect(corpus.leftOut).toEqual([{ path: path.join("data", "model.json"), kind: "checkpoint" }]);
  });

  it("naming a run folder or a checkpoint as the corpus is bad input saying what it is", async () => {
    await writeTree({ "run/latest.json": checkpointText, "model.json": checkpointText });
    const folder = await readError(["run"]);
    expect(folder.message).toBe("run/ is a charnn run folder (checkpoints), not text");
    expect(folder.code).toBe("corpus.charnn-output");
    expect((await readError(["model.json"])).message).toBe("model.json is a charnn checkpoint, not text");
  });

  it("a folder holding only charnn's output says so", async () => {
    await writeTree({ "data/run/latest.json": checkpointText });
    const error = await readError(["data"]);
    expect(error.message).toBe("data/: no text files found");
    expect(error.hint).toContain("only charnn's own output");
  });
});

describe("readCorpus joins many files into one buffer", () => {
  it("gives the same code points as the pieces decoded one by one, for UTF-8 with and without a BOM and UTF-16", async () => {
    const utf16le = Uint8Array.from([0xff, 0xfe, ...Buffer.from("é😀x", "utf16le")]);
    const utf16be = Uint8Array.from([0xfe, 0xff, ...Buffer.from("😀ab", "utf16le").swap16()]);
    await writeTree({
      "d/1.txt": "héllo ★",
      "d/2.txt": Uint8Array.from([0xef, 0xbb, 0xbf, ...Buffer.from("bom ü")]),
      "d/3.txt": utf16le,
      "d/4.txt": utf16be,
      "d/5.txt": "",
    });
    const corpus = await readCorpus(["d", "-"], { cwd: root, stdin: Readable.from([Buffer.from("stdin ✓")]) });
    expect(text(corpus.codePoints)).toBe("héllo ★\nbom ü\né😀x\n😀ab\n\nstdin ✓");
    expect(corpus.codePoints.buffer.byteLength).toBe(corpus.codePoints.length * 4);
  });
});
