// Reads the training text named on the command line (files, directories, "-" for standard
// input) into one array of code points, pieces joined by a newline.
// Not a tokenizer and not a policy maker: an empty corpus is returned as such, and the
// caller decides whether that is an error.

import { promises as fs, type Dirent } from "node:fs";
import path from "node:path";

import { badInput, usageError, type CharnnError } from "../core/errors.js";
import { decodeText, looksBinary } from "../core/data/decode.js";

export interface Corpus {
  /** Every piece's code points, in input order, with U+000A between consecutive pieces. */
  codePoints: Uint32Array;
  /** The name of each piece that was read, in order ("<stdin>" for standard input). */
  sources: string[];
  /** Files below a named directory that were left out because they look binary. */
  skipped: string[];
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

/**
 * Read and decode every input. Files are read one at a time so that at most one file's
 * bytes are held beside the decoded pieces.
 */
export async function readCorpus(inputs: string[], options: ReadCorpusOptions = {}): Promise<Corpus> {
  const cwd = options.cwd ?? process.cwd();
  const pieces: Uint32Array[] = [];
  const sources: string[] = [];
  const skipped: string[] = [];
  let stdinRead = false;

  for (const input of inputs) {
    if (input === STDIN_INPUT) {
      // A stream can be consumed once; a second "-" would silently contribute nothing.
      if (stdinRead) throw usageError(`"${STDIN_INPUT}" (standard input) can be named only once`);
      stdinRead = true;
      const bytes = await readStream(options.stdin ?? process.stdin);
      pieces.push(decodeText(bytes, STDIN_NAME));
      sources.push(STDIN_NAME);
      continue;
    }

    const absolute = path.resolve(cwd, input);
    const stats = await fs.stat(absolute).catch((error: unknown) => {
      throw describeReadError(error, input);
    });

    if (!stats.isDirectory()) {
      // Not only regular files: a named pipe or /dev/stdin is read like a file.
      const bytes = await readBytes(absolute, input);
      pieces.push(decodeText(bytes, input));
      sources.push(input);
      continue;
    }

    const files = await listTextCandidates(absolute, input);
    let textFiles = 0;
    for (const file of files) {
      const bytes = await readBytes(file.absolute, file.display);
      if (looksBinary(bytes)) {
        skipped.push(file.display);
        continue;
      }
      pieces.push(decodeText(bytes, file.display));
      sources.push(file.display);
      textFiles++;
    }
    if (textFiles === 0) {
      const shown = input.endsWith("/") ? input : `${input}/`;
      const binaryCount = files.length;
      throw badInput(
        `${shown}: no text files found`,
        binaryCount > 0
          ? `${binaryCount} file(s) there look binary; hidden files and folders (starting with ".") are ignored`
          : 'the folder is empty, or holds only hidden files and folders (starting with ".")',
      );
    }
  }

  return { codePoints: joinWithNewlines(pieces), sources, skipped };
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
 */
async function listTextCandidates(directory: string, display: string): Promise<FoundFile[]> {
  const found: FoundFile[] = [];
  const pending: FoundFile[] = [{ absolute: directory, display }];

  while (pending.length > 0) {
    const current = pending.pop()!;
    let entries: Dirent[];
    try {
      entries = await fs.readdir(current.absolute, { withFileTypes: true });
    } catch (error) {
      throw describeReadError(error, current.display);
    }
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const child: FoundFile = {
        absolute: path.join(current.absolute, entry.name),
        display: path.join(current.display, entry.name),
      };
      if (entry.isDirectory()) {
        pending.push(child);
      } else if (entry.isFile()) {
        found.push(child);
      } else if (entry.isSymbolicLink()) {
        const target = await fs.stat(child.absolute).catch(() => undefined);
        if (target?.isFile()) found.push(child);
      }
    }
  }

  found.sort((a, b) => (a.display < b.display ? -1 : a.display > b.display ? 1 : 0));
  return found;
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

function joinWithNewlines(pieces: Uint32Array[]): Uint32Array {
  if (pieces.length === 1) return pieces[0];
  let total = Math.max(0, pieces.length - 1);
  for (const piece of pieces) total += piece.length;
  const joined = new Uint32Array(total);
  let offset = 0;
  pieces.forEach((piece, index) => {
    if (index > 0) joined[offset++] = NEWLINE;
    joined.set(piece, offset);
    offset += piece.length;
  });
  return joined;
}
