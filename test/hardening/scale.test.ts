// Hardening (issue 6): a large corpus from a file and from stdin, trained one step, peak RSS
// measured: a few bytes a character, the text held as typed arrays, never as one JavaScript
// string or an array of characters, and a folder of many files no more than one file.
// 20 MB each way by default; 100 MB with the figures printed:
//   CHARNN_SOAK=1 npx vitest run test/hardening/scale.test.ts

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCheckpointFile } from "../../src/node/store.js";
import { charnnWithPeakRss, ensureBuilt, freshFolder } from "./helpers.js";

const SOAK = process.env.CHARNN_SOAK === "1";
const MEGABYTES = SOAK ? 100 : 20;
/** Bytes of peak RSS per character of text, above what charnn takes with almost no text. */
const BYTES_PER_CHARACTER_LIMIT = { file: 6.5, stdin: 7.5, folder: 6.5 };
/** The folder case: the same text split into this many files. */
const FOLDER_FILES = 100;
/** A folder may take this much more a character than the one file measured in the same run. */
const FOLDER_OVER_FILE_LIMIT = 0.5;
const measured: Partial<Record<"file" | "stdin" | "folder", number>> = {};
const RUN = ["--hidden", "16", "--layers", "1", "--batch", "4", "--seq-len", "16", "--steps", "1", "--val-frac", "0.001", "--json", "--backend", "js"];

/**
 * `megabytes` of prose with some two- and three-byte characters, built as bytes (the test must
 * not hold the text as a string either), and its character count.
 */
function corpusBytes(megabytes: number): { bytes: Buffer; characters: number } {
  const line = Buffer.from("the café on the corner sells naïve crêpes — ★ and tea.\n", "utf8");
  const charactersPerLine = [...line.toString("utf8")].length;
  const lines = Math.floor((megabytes * 1024 * 1024) / line.length);
  const bytes = Buffer.allocUnsafe(lines * line.length);
  for (let i = 0; i < lines; i++) line.copy(bytes, i * line.length);
  return { bytes, characters: lines * charactersPerLine };
}

let cwd: string;
let corpus: { bytes: Buffer; characters: number };
let baselineRss: number;

beforeAll(async () => {
  await ensureBuilt();
  cwd = await freshFolder("scale");
  corpus = corpusBytes(MEGABYTES);
  await writeFile(join(cwd, "big.txt"), corpus.bytes);
  await writeFile(join(cwd, "small.txt"), corpusBytes(0.01).bytes);
  // The same text as FOLDER_FILES files cut at line ends (joined back with one newline each).
  await mkdir(join(cwd, "many"));
  const lineLength = corpus.bytes.indexOf(0x0a) + 1;
  const linesPerFile = Math.ceil(corpus.bytes.length / lineLength / FOLDER_FILES);
  for (let file = 0; file < FOLDER_FILES; file++) {
    const part = corpus.bytes.subarray(file * linesPerFile * lineLength, (file + 1) * linesPerFile * lineLength);
    await writeFile(join(cwd, "many", `part-${String(file).padStart(3, "0")}.txt`), part);
  }
  const small = await charnnWithPeakRss(["train", "small.txt", ...RUN, "--out", "small"], { cwd });
  if (small.code !== 0) throw new Error(small.stderr);
  baselineRss = small.peakRssBytes;
}, 120_000);

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

describe(`a ${MEGABYTES} MB corpus`, () => {
  for (const source of ["file", "stdin", "folder"] as const) {
    const described = { file: "a file", stdin: "stdin", folder: `a folder of ${FOLDER_FILES} files` }[source];
    it(`from ${described}: trains, and peak memory stays a few bytes a character`, async () => {
      const input = { file: "big.txt", stdin: "-", folder: "many" }[source];
      const args = ["train", input, ...RUN, "--out", `run-${source}`];
      const result = await charnnWithPeakRss(args, { cwd, ...(source === "stdin" ? { stdin: corpus.bytes } : {}) });
      expect(result.code, result.stderr).toBe(0);
      const saved = await loadCheckpointFile(join(cwd, `run-${source}`, "latest.json"));
      expect(saved.corpus.length).toBe(corpus.characters + (source === "folder" ? FOLDER_FILES - 1 : 0));
      const perCharacter = (result.peakRssBytes - baselineRss) / corpus.characters;
      const figure = `${MEGABYTES} MB (${corpus.characters.toLocaleString("en-US")} characters) from ${source}: peak RSS ${mb(result.peakRssBytes)}, ${mb(baselineRss)} without text, ${perCharacter.toFixed(2)} bytes a character above that`;
      if (SOAK) console.log(`charnn train ${args.slice(1).join(" ")}${source === "stdin" ? " < big.txt" : ""}\n  ${figure}`);
      expect(perCharacter, figure).toBeLessThan(BYTES_PER_CHARACTER_LIMIT[source]);
      measured[source] = perCharacter;
      // Many files are held like one: the text once, not as pieces and their join.
      if (source === "folder" && measured.file !== undefined) {
        expect(perCharacter, `${figure}; one file: ${measured.file.toFixed(2)}`).toBeLessThan(measured.file + FOLDER_OVER_FILE_LIMIT);
      }
      // The measurement sees the text: its indices alone are 4 bytes a character, held to the end.
      expect(perCharacter, figure).toBeGreaterThan(3);
    }, SOAK ? 600_000 : 120_000);
  }
});
