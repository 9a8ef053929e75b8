#!/usr/bin/env node
// Rebuilds the three tuning corpora of docs/TUNING.md from text a Debian machine with this
// project's node_modules already holds: documentation (vim's help files: prose with markup),
// source code (Python's standard library) and mixed scripts with over 1,000 distinct characters
// (TypeScript's translated messages and the X11 compose table). Not shipped; nothing is committed.
// Usage: node scripts/build-corpora.mjs [OUTDIR]   (default: OS temp folder/charnn-corpora)

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const out = path.resolve(process.argv[2] ?? path.join(tmpdir(), "charnn-corpora"));
/** Each corpus is cut at this many characters, so the three cost about the same per pass. */
const TARGET_CHARS = 1_200_000;

const sortedFiles = (dir, suffix) => {
  if (!existsSync(dir)) throw new Error(`${dir} is missing: this script needs it to build the corpus`);
  return readdirSync(dir).filter((name) => name.endsWith(suffix)).sort().map((name) => path.join(dir, name));
};

/** Whole files in name order until the corpus is long enough, then cut at a line end. */
function concatenate(files) {
  let text = "";
  for (const file of files) {
    text += readFileSync(file, "utf8").replace(/\r\n/g, "\n");
    if (text.length >= TARGET_CHARS) break;
  }
  return cut(text);
}

function cut(text) {
  const codePoints = Array.from(text);
  if (codePoints.length <= TARGET_CHARS) return text;
  const head = codePoints.slice(0, TARGET_CHARS).join("");
  return head.slice(0, head.lastIndexOf("\n") + 1);
}

/**
 * Every TypeScript diagnostic in 13 languages, one message per line, grouped by message so the
 * scripts alternate (Latin, Cyrillic, Han, Hangul, kana) the way a multilingual manual does,
 * followed by the compose table's characters and their names.
 */
function mixedScripts() {
  const lib = path.join(root, "node_modules", "typescript", "lib");
  const languages = readdirSync(lib).filter((name) => existsSync(path.join(lib, name, "diagnosticMessages.generated.json"))).sort();
  const tables = languages.map((language) => JSON.parse(readFileSync(path.join(lib, language, "diagnosticMessages.generated.json"), "utf8")));
  const keys = Object.keys(tables[0]).sort();
  const lines = [];
  for (const key of keys) for (const table of tables) if (typeof table[key] === "string") lines.push(table[key].replace(/\s+/g, " "));
  // Compose lines look like: <Multi_key> <a> <e> : "æ" ae # LATIN SMALL LETTER AE
  const compose = "/usr/share/X11/locale/en_US.UTF-8/Compose";
  const table = existsSync(compose) ? readFileSync(compose, "utf8").split("\n").filter((line) => line.startsWith("<")) : [];
  // Interleave: a run of messages, then a run of the table, so both parts reach the held-out tail.
  const text = [];
  const chunk = Math.max(1, Math.floor(table.length / 40));
  const messageChunk = Math.max(1, Math.floor(lines.length / 40));
  for (let i = 0; i < 40; i++) {
    text.push(...lines.slice(i * messageChunk, (i + 1) * messageChunk), ...table.slice(i * chunk, (i + 1) * chunk));
  }
  return cut(text.join("\n") + "\n");
}

const corpora = {
  "docs.txt": () => concatenate(sortedFiles("/usr/share/vim/vim90/doc", ".txt")),
  "code.txt": () => concatenate(sortedFiles("/usr/lib/python3.11", ".py")),
  "mixed.txt": mixedScripts,
};

mkdirSync(out, { recursive: true });
for (const [name, build] of Object.entries(corpora)) {
  const text = build();
  writeFileSync(path.join(out, name), text);
  const codePoints = Array.from(text);
  console.log(`${path.join(out, name)}: ${codePoints.length} characters, ${new Set(codePoints).size} distinct`);
}
