#!/usr/bin/env node
// Writes a deterministic corpus in which quoting is learnable but not visible in the letters:
// lines of words from one list, with stretches in double quotes. Inside and outside a quote the
// words are the same; only what may come next differs (a quote closes right after a word, opens
// only after a space, and a line ends with a period only outside one), so a model that predicts
// well must remember whether a quote is open. The activation tests train on it and look for a
// unit that tracks "inside quotes". Run: node scripts/make_quotes_corpus.mjs [LINES] [SEED]

import { fileURLToPath } from "node:url";
import seedrandom from "seedrandom";

const WORDS = ["the", "fox", "ran", "to", "a", "hill", "and", "sat", "by", "old", "tree", "owl", "saw", "it", "we", "go", "now", "yes", "no", "home"];

/** LINES lines of text from SEED; the same arguments always give the same text. */
export function quotesCorpus(lines = 400, seed = "quotes", quotesPerLine = [0, 2]) {
  const random = seedrandom.alea(String(seed));
  const count = (min, max) => min + Math.floor(random() * (max - min + 1));
  const words = (min, max) => Array.from({ length: count(min, max) }, () => WORDS[Math.floor(random() * WORDS.length)]).join(" ");
  const out = [];
  for (let i = 0; i < lines; i++) {
    let line = words(1, 4);
    for (let quotes = count(quotesPerLine[0], quotesPerLine[1]); quotes > 0; quotes--) line += ` "${words(1, 8)}" ${words(1, 4)}`;
    out.push(`${line}.`);
  }
  return out.join("\n") + "\n";
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [lines, seed] = process.argv.slice(2);
  process.stdout.write(quotesCorpus(lines === undefined ? undefined : Number(lines), seed));
}
