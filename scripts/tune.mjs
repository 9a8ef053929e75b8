#!/usr/bin/env node
// One tuning measurement for docs/TUNING.md: train at a fixed step count (or time), then score
// the held-out tail exactly with `charnn eval`, and append one JSON line with the settings, the
// loss, the wall time, the load average and the commit. Not part of the package or the tests.
// Usage: node scripts/tune.mjs --corpus FILE --name NAME [--results FILE] -- <charnn train flags>

import { execFileSync, spawnSync } from "node:child_process";
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const argv = process.argv.slice(2);
const split = argv.indexOf("--");
const own = split < 0 ? argv : argv.slice(0, split);
const trainFlags = split < 0 ? [] : argv.slice(split + 1);
const option = (name, fallback) => {
  const i = own.indexOf(name);
  return i < 0 ? fallback : own[i + 1];
};
const corpus = path.resolve(option("--corpus"));
const name = option("--name");
const results = path.resolve(option("--results", path.join(root, "docs", "tuning-results.ndjson")));
const valFrac = Number(option("--val-frac", "0.05"));
if (!name || !existsSync(corpus)) {
  console.error("usage: node scripts/tune.mjs --corpus FILE --name NAME [--results FILE] -- <train flags>");
  process.exit(2);
}

// The held-out text is the last valFrac of the corpus in code points, exactly what
// `charnn train --val-frac` holds out, so the eval scores text the model never trained on.
const work = path.join(option("--work", tmpdir()), `charnn-tune-${name}`);
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const codePoints = Array.from(readFileSync(corpus, "utf8"));
const heldOut = path.join(work, "held-out.txt");
writeFileSync(heldOut, codePoints.slice(codePoints.length - Math.floor(codePoints.length * valFrac)).join(""));

const charnn = path.join(root, "bin", "charnn.js");
// The commit whose build runs (taken before training: the tree may move on meanwhile).
const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
const loadBefore = loadavg()[0];
const started = Date.now();
const train = spawnSync(process.execPath, [charnn, "train", corpus, "--out", path.join(work, "run"), "--json", "--val-frac", String(valFrac), ...trainFlags], { encoding: "utf8", maxBuffer: 1 << 28 });
const trainMs = Date.now() - started;
const events = train.stdout.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
const end = events.findLast((e) => e.type === "end");
const start = events.find((e) => e.type === "start");
const steps = events.filter((e) => e.type === "step");
const retime = events.find((e) => e.type === "retime");
const rate = steps.length > 1 ? steps.at(-1).charsPerSecond : null;
let heldOutLoss = null;
if (train.status === 0) {
  const evaluated = spawnSync(process.execPath, [charnn, "eval", "-c", path.join(work, "run", "latest.json"), "--json", heldOut], { encoding: "utf8" });
  const lines = evaluated.stdout.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
  heldOutLoss = lines.at(-1)?.nats ?? lines.at(-1)?.loss ?? lines.at(-1)?.natsPerChar ?? lines.at(-1) ?? null;
} else {
  console.error(train.stderr.slice(-2000));
}
const record = {
  name, corpus: path.basename(corpus), flags: trainFlags.join(" "), exit: train.status,
  steps: end?.step ?? null, endReason: end?.reason ?? null, heldOut: heldOutLoss,
  trainLoss: end?.trainLoss ?? null, validationLoss: end?.validationLoss ?? null,
  parameters: start?.parameterCount ?? null, choice: start?.choice ? { reason: start.choice.reason, measured: start.choice.measured } : undefined,
  retime: retime ? { step: retime.step, totalSteps: retime.totalSteps, charsPerSecond: Math.round(retime.charsPerSecond) } : undefined, charsPerSecond: rate, trainSeconds: Math.round(trainMs / 100) / 10,
  load: [loadBefore, loadavg()[0]].map((l) => Math.round(l * 100) / 100), commit, at: new Date().toISOString(),
};
appendFileSync(results, JSON.stringify(record) + "\n");
console.log(JSON.stringify(record));
if (train.status === 0) rmSync(work, { recursive: true, force: true });
