#!/usr/bin/env node
// Prints the measurements in docs/tuning-results.ndjson (written by scripts/tune.mjs and the
// races) as the Markdown tables docs/TUNING.md shows, so every number there can be traced to a
// recorded run. Usage: node scripts/tuning-table.mjs [RESULTS] [NAME-PREFIX...]

import { readFileSync } from "node:fs";

const [file = "docs/tuning-results.ndjson", ...prefixes] = process.argv.slice(2);
const rows = readFileSync(file, "utf8").trim().split("\n").map((line) => JSON.parse(line))
  .filter((r) => prefixes.length === 0 || prefixes.some((p) => r.name.startsWith(p)));
const fixed = (x, digits) => (typeof x === "number" ? x.toFixed(digits) : "–");
console.log("| run | settings | steps | held-out nats/char | chars/s | wall s | load (1-min, start/end) | commit |");
console.log("|---|---|---:|---:|---:|---:|---|---|");
for (const r of rows) {
  const flags = r.flags.replace(/ --threads 1 --eval-every 0 --checkpoint-every 0( --log-every \d+)?/, "");
  console.log(`| ${r.name} | \`${flags}\` | ${r.steps ?? "–"} | ${fixed(r.heldOut, 3)} | ${r.charsPerSecond == null ? "–" : Math.round(r.charsPerSecond).toLocaleString("en-US")} | ${fixed(r.trainSeconds, 0)} | ${r.load.join(" / ")} | ${r.commit} |`);
}
