// Hardening (issue 6): a large corpus from a file and from stdin, trained one step, peak RSS
// measured: a few bytes a character, the text held as typed arrays, never as one JavaScript
// string or an array of characters. 20 MB each way by default; 100 MB with the figures printed:
//   CHARNN_SOAK=1 npx vitest run test/hardening/scale.test.ts

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCheckpointFile } from "../../src/node/store.js";
import { charnnWithPeakRss, ensureBuilt, freshFolder } from "./helpers.js";

const SOAK = process.env.CHARNN_SOAK === "1";
const MEGABYTES = SOAK ? 100 : 20;
/** Bytes of peak RSS per character of text, above what charnn takes with almost no text. */
const BYTES_PER_CHARACTER_LIMIT = { file: 6.5, stdin: 7.5 };
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
  const small = await charnnWithPeakRss(["train", "small.txt", ...RUN, "--out", "small"], { cwd });
  if (small.code !== 0) throw new Error(small.stderr);
  baselineRss = small.peakRssBytes;
}, 120_000);

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

describe(`a ${MEGABYTES} MB corpus`, () => {
  for (const source of ["file", "stdin"] as const) {
    it(`from ${source === "file" ? "a file" : "stdin"}: trains, and peak memory stays a few bytes a character`, async () => {
      const args = ["train", source === "file" ? "big.txt" : "-", ...RUN, "--out", `run-${source}`];
      const result = await charnnWithPeakRss(args, { cwd, ...(source === "stdin" ? { stdin: corpus.bytes } : {}) });
      expect(result.code, result.stderr).toBe(0);
      const saved = await loadCheckpointFile(join(cwd, `run-${source}`, "latest.json"));
      expect(saved.corpus.length).toBe(corpus.characters);
      const perCharacter = (result.peakRssBytes - baselineRss) / corpus.characters;
      const figure = `${MEGABYTES} MB (${corpus.characters.toLocaleString("en-US")} characters) from ${source}: peak RSS ${mb(result.peakRssBytes)}, ${mb(baselineRss)} without text, ${perCharacter.toFixed(2)} bytes a character above that`;
      if (SOAK) console.log(`charnn train ${args.slice(1).join(" ")}${source === "stdin" ? " < big.txt" : ""}\n  ${figure}`);
      expect(perCharacter, figure).toBeLessThan(BYTES_PER_CHARACTER_LIMIT[source]);
      // The measurement sees the text: its indices alone are 4 bytes a character, held to the end.
      expect(perCharacter, figure).toBeGreaterThan(3);
    }, SOAK ? 600_000 : 120_000);
  }
});
