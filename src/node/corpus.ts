// Reads the training text named on the command line (files, directories, "-" for standard
// input) into one array of code points, pieces joined by a newline. charnn's own output (run
// folders, checkpoints) found in a directory is left out and listed, never read as text.
// Not a tokenizer and not a policy maker: an empty corpus is returned as such, and the
// caller decides whether that is an error.

import { promises as fs, type Dirent } from "node:fs";
import path from "node:path";

import { badInput, usageError, type CharnnError } from "../core/errors.js";
import { codePointCount, decodeText, decodeTextInto, looksBinary } from "../core/data/decode.js";

/** looksBinary reads this much of a file's start (git's heuristic, src/core/data/decode.ts). */
const BINARY_SNIFF_BYTES = 8192;

export interface Corpus {
  /** Every piece's code points, in input order, with U+000A between consecutive pieces. */
  codePoints: Uint32Array;
  /** The name of each piece that was read, in order ("<stdin>" for standard input). */
  sources: string[];
  /** Files below a named directory that were left out because they look binary. */
  skipped: string[];
  /** What a named directory held of charnn's own output, left out (a run folder ends in "/"). */
  leftOut: LeftOut[];
}

export interface LeftOut {
  path: string;
  /** "run-folder": a folder of checkpoints; "checkpoint": a checkpoint file elsewhere. */
  kind: "run-folder" | "checkpoint";
}

export interface ReadCorpusOptions {
  /** Read for "-"; defaults to process.stdin. */
  stdin?: NodeJS.ReadableStream;
  /** Relative inputs are resolved against this; defaults to process.cwd(). */
  cwd?: string;
}

export const STDIN_INPUT = "-";
export const STDIN_NAME = "<stdin>";

const NEWLINE = 0x0a;

/** A piece of the corpus: standard input, already decoded, or a file read when joining. */
type Piece = { codePoints: Uint32Array; display: string } | { absolute: string; display: string };

/**
 * Read and decode every input. With more than one piece, each file is read twice, once to
 * count its characters and once to decode it into the one joined buffer, so the text is held
 * once (4 bytes a character) plus one file's bytes, as for a single file, rather than as
 * pieces and their join.
 */
export async function readCorpus(inputs: string[], options: ReadCorpusOptions = {}): Promise<Corpus> {
  const cwd = options.cwd ?? process.cwd();
  const pieces: Piece[] = [];
  const skipped: string[] = [];
  const leftOut: LeftOut[] = [];
  let stdinRead = false;

  for (const input of inputs) {
    if (input === STDIN_INPUT) {
      // A stream can be consumed once; a second "-" would silently contribute nothing.
      if (stdinRead) throw usageError(`"${STDIN_INPUT}" (standard input) can be named only once`);
      stdinRead = true;
      const bytes = await readStream(options.stdin ?? process.stdin);
      pieces.push({ codePoints: decodeText(bytes, STDIN_NAME), display: STDIN_NAME });
      continue;
    }

    const absolute = path.resolve(cwd, input);
    const stats = await fs.stat(absolute).catch((error: unknown) => {
      throw describeReadError(error, input);
    });

    if (!stats.isDirectory()) {
      // Not only regular files: a named pipe or /dev/stdin is read like a file.
      if (stats.isFile() && (await isCharnnCheckpoint(absolute))) {
        throw badInput(`${input} is a charnn checkpoint, not text`, "name the text files the model should learn from", {
          code: "corpus.charnn-output", facts: { path: input },
        });
      }
      pieces.push({ absolute, display: input });
      continue;
    }

    if (await isRunFolder(absolute)) {
      throw badInput(`${folderName(input)} is a charnn run folder (checkpoints), not text`, "name the text files or the folder of text the model should learn from", {
        code: "corpus.charnn-output", facts: { path: input },
      });
    }
    const found = await listTextCandidates(absolute, input);
    leftOut.push(...found.leftOut);
    let textFiles = 0;
    for (const file of found.files) {
      // The first 8 KiB decide, as looksBinary does, without reading the whole file twice more.
      if (looksBinary(await readHead(file.absolute, file.display, BINARY_SNIFF_BYTES))) {
        skipped.push(file.display);
        continue;
      }
      pieces.push(file);
      textFiles++;
    }
    if (textFiles === 0) {
      const shown = folderName(input);
      const binaryCount = found.files.length;
      throw badInput(
        `${shown}: no text files found`,
        binaryCount > 0
          ? `${binaryCount} file(s) there look binary; hidden files and folders (starting with ".") are ignored`
          : found.leftOut.length > 0
            ? `it holds only charnn's own output (${found.leftOut.map((entry) => entry.path).join(", ")})`
            : 'the folder is empty, or holds only hidden files and folders (starting with ".")',
      );
    }
  }

  return { codePoints: await joinPieces(pieces), sources: pieces.map((piece) => piece.display), skipped, leftOut };
}

const folderName = (input: string): string => (input.endsWith("/") ? input : `${input}/`);

/**
 * The pieces' code points with a newline between consecutive pieces. Files are read into one
 * reused byte buffer and decoded straight into the joined array, so reading many files leaves
 * no buffer per file behind for the garbage collector.
 */
async function joinPieces(pieces: Piece[]): Promise<Uint32Array> {
  if (pieces.length === 0) return new Uint32Array(0);
  if (pieces.length === 1) {
    const piece = pieces[0]!;
    return "codePoints" in piece ? piece.codePoints : decodeText(await readBytes(piece.absolute, piece.display), piece.display);
  }

  const reader = new ReusedReader();
  const counts: number[] = [];
  for (const piece of pieces) {
    counts.push("codePoints" in piece ? piece.codePoints.length : codePointCount(await reader.read(piece.absolute, piece.display)));
  }
  const joined = new Uint32Array(counts.reduce((sum, count) => sum + count, pieces.length - 1));
  let offset = 0;
  for (let index = 0; index < pieces.length; index++) {
    const piece = pieces[index]!;
    if (index > 0) joined[offset++] = NEWLINE;
    if ("codePoints" in piece) {
      joined.set(piece.codePoints, offset);
      offset += piece.codePoints.length;
      continue;
    }
    const bytes = await reader.read(piece.absolute, piece.display);
    // The count pass sized the buffer; a file that grew since would write past its share.
    if (codePointCount(bytes) !== counts[index]) {
      throw badInput(`${piece.display} changed while it was being read`, "train again once nothing is writing to it");
    }
    offset += decodeTextInto(bytes, piece.display, joined, offset);
  }
  return joined;
}

/** Reads whole files into one buffer that grows to the largest file and is reused. */
class ReusedReader {
  private buffer = Buffer.alloc(0);

  /** The file's bytes, valid until the next read. */
  async read(absolute: string, display: string): Promise<Uint8Array> {
    let handle: fs.FileHandle | undefined;
    try {
      handle = await fs.open(absolute, "r");
      let length = 0;
      for (;;) {
        if (length === this.buffer.length) {
          const grown = Buffer.allocUnsafe(Math.max(65_536, this.buffer.length * 2, (await handle.stat()).size + 1));
          this.buffer.copy(grown, 0, 0, length);
          this.buffer = grown;
        }
        const { bytesRead } = await handle.read(this.buffer, length, this.buffer.length - length, length);
        if (bytesRead === 0) return this.buffer.subarray(0, length);
        length += bytesRead;
      }
    } catch (error) {
      throw describeReadError(error, display);
    } finally {
      await handle?.close();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// charnn's own output, recognised by content

/** The files whose content marks a folder as a run folder, by name. */
const RUN_FILE = /^(?:latest\.json|best\.json|ckpt-\d+\.json|events\.ndjson|\.lock)$/;
/** Enough of a file's start to see its header. */
const HEADER_BYTES = 256;

/** A checkpoint document opens with its format name (src/core/checkpoint/format.ts). */
const isCheckpointHead = (head: string): boolean => /^\s*\{\s*"format"\s*:\s*"charnn-checkpoint"/.test(head);
/** An event line carries its schema version and type (src/core/train/events.ts). */
const isEventHead = (head: string): boolean => /^\s*\{/.test(head) && /"schema"\s*:\s*\d/.test(head) && /"type"\s*:\s*"/.test(head);
/** The run lock records the process holding it (src/node/store.ts). */
const isLockHead = (head: string): boolean => /^\s*\{/.test(head) && /"pid"\s*:\s*\d/.test(head) && /"hostname"\s*:/.test(head);

async function headText(absolute: string): Promise<string> {
  const bytes = await readHead(absolute, absolute, HEADER_BYTES).catch(() => new Uint8Array(0));
  return Buffer.from(bytes).toString("latin1");
}

async function isCharnnCheckpoint(absolute: string): Promise<boolean> {
  return isCheckpointHead(await headText(absolute));
}

/** A folder is a run folder when a checkpoint, event log or lock by those names is charnn's. */
async function isRunFolder(absolute: string, entries?: Dirent[]): Promise<boolean> {
  const listed = entries ?? (await fs.readdir(absolute, { withFileTypes: true }).catch(() => []));
  for (const entry of listed) {
    if (!entry.isFile() || !RUN_FILE.test(entry.name)) continue;
    const head = await headText(path.join(absolute, entry.name));
    if (entry.name === "events.ndjson" ? isEventHead(head) : entry.name === ".lock" ? isLockHead(head) : isCheckpointHead(head)) return true;
  }
  return false;
}

interface FoundFile {
  absolute: string;
  /** The path as the user would write it: the named directory joined with the relative path. */
  display: string;
}

/**
 * Every regular file below `directory`, hidden entries skipped, sorted by the full path
 * string in code-unit order (the order a plain `sort` gives, so "a-c" comes before "a/b").
 * Symbolic links to files are followed; links to directories are not, which rules out cycles.
 * Run folders below it and checkpoint files are left out and listed.
 */
async function listTextCandidates(directory: string, display: string): Promise<{ files: FoundFile[]; leftOut: LeftOut[] }> {
  const found: FoundFile[] = [];
  const leftOut: LeftOut[] = [];
  const pending: FoundFile[] = [{ absolute: directory, display }];

  while (pending.length > 0) {
    const current = pending.pop()!;
    let entries: Dirent[];
    try {
      entries = await fs.readdir(current.absolute, { withFileTypes: true });
    } catch (error) {
      throw describeReadError(error, current.display);
    }
    if (current.absolute !== directory && (await isRunFolder(current.absolute, entries))) {
      leftOut.push({ path: folderName(current.display), kind: "run-folder" });
      continue;
    }
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const child: FoundFile = {
        absolute: path.join(current.absolute, entry.name),
        display: path.join(current.display, entry.name),
      };
      let isFile = entry.isFile();
      if (entry.isDirectory()) {
        pending.push(child);
      } else if (entry.isSymbolicLink()) {
        isFile = (await fs.stat(child.absolute).catch(() => undefined))?.isFile() ?? false;
      }
      if (!isFile) continue;
      if (entry.name.endsWith(".json") && (await isCharnnCheckpoint(child.absolute))) leftOut.push({ path: child.display, kind: "checkpoint" });
      else found.push(child);
    }
  }

  found.sort((a, b) => codeUnitOrder(a.display, b.display));
  leftOut.sort((a, b) => codeUnitOrder(a.path, b.path));
  return { files: found, leftOut };
}

const codeUnitOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The first `length` bytes of a file (fewer when it is shorter). */
async function readHead(absolute: string, display: string, length: number): Promise<Uint8Array> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(absolute, "r");
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } catch (error) {
    throw describeReadError(error, display);
  } finally {
    await handle?.close();
  }
}

async function readBytes(absolute: string, display: string): Promise<Uint8Array> {
  try {
    return await fs.readFile(absolute);
  } catch (error) {
    throw describeReadError(error, display);
  }
}

async function readStream(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of stream) {
    // A stream with an encoding set yields strings; its bytes were UTF-8 before that.
    const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : (chunk as Uint8Array);
    chunks.push(bytes);
    total += bytes.length;
  }
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.length;
  }
  return joined;
}

/** Turn a file-system error into the one-line message a user can act on. */
export function describeReadError(error: unknown, name: string): CharnnError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOENT":
      return badInput(`no such file: ${name}`, "check the path (relative paths start at the current directory)");
    case "ENOTDIR":
      return badInput(`no such file: ${name}`, "a part of the path is a file, not a folder");
    case "EACCES":
    case "EPERM":
      return badInput(`cannot read ${name}: permission denied`);
    case "EISDIR":
      return badInput(`cannot read ${name}: it is a directory`);
    default: {
      const detail = error instanceof Error ? error.message : String(error);
      return badInput(`cannot read ${name}: ${code ?? detail}`, code ? detail : undefined);
    }
  }
}
