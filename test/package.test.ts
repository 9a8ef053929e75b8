// The package as a user gets it: packed once (`npm pack --ignore-scripts`, so no rebuild races
// the other tests), unpacked into a fresh project's node_modules, and used from plain .mjs
// files — the README's first library example as written, then training on a string, saving,
// reloading, sampling and evaluating — with the results held against the installed `charnn`
// command on the same checkpoint and text, and a TypeScript file type-checked against the
// shipped .d.ts. The tarball must hold no benchmark and no tests.
// The package's dependencies resolve from the repository's node_modules (no network); that
// each import of the shipped code is a declared dependency is checked here instead. The
// README's two routes from the tarball (`npm install -g` and `npx --package`) are run as written
// at the end: they fetch the dependencies from the npm registry, so they skip, saying so, when
// the registry cannot be reached.

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const packageJson = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string; dependencies: Record<string, string> };

let work: string;
let project: string;
let packed: string[];
let installed: string;
let tarball: string;

function run(command: string, args: string[], cwd: string, timeout = 120_000) {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", timeout, env: { ...process.env, NO_COLOR: "1" } });
  return { code: result.status, stdout: result.stdout ?? "", stderr: (result.stderr ?? "") + (result.error ? String(result.error) : "") };
}

/** The first ```js block of the README's "Library" section. */
function firstLibraryExample(): string {
  const readme = readFileSync(path.join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("\n## Library\n"));
  const match = /```js\n([\s\S]*?)```/.exec(section);
  if (!match || readme.indexOf("\n## Library\n") < 0) throw new Error("README.md has no ```js example in a Library section");
  return match[1]!;
}

beforeAll(() => {
  // Inside the repository (its /tmp/ is git-ignored) so that the dependencies resolve from its node_modules.
  mkdirSync(path.join(root, "tmp"), { recursive: true });
  work = mkdtempSync(path.join(root, "tmp", "package-"));
  const pack = run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], root);
  if (pack.code !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
  const [report] = JSON.parse(pack.stdout) as [{ filename: string; files: Array<{ path: string }> }];
  packed = report.files.map((file) => file.path);
  tarball = path.join(work, report.filename);
  project = path.join(work, "project");
  installed = path.join(project, "node_modules", "charnn");
  mkdirSync(installed, { recursive: true });
  writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "uses-charnn", private: true, type: "module" }));
  const untar = run("tar", ["-xzf", path.join(work, report.filename), "-C", installed, "--strip-components=1"], work);
  if (untar.code !== 0) throw new Error(`unpacking the tarball failed: ${untar.stderr}`);
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const charnnCli = (args: string[]) => run(process.execPath, [path.join(installed, "bin", "charnn.js"), ...args], project);

describe("the packed tarball", () => {
  it("holds the library, its types, the command and the kernels, and no benchmark or tests", () => {
    for (const file of ["package.json", "README.md", "CHANGELOG.md", "bin/charnn.js", "dist/index.js", "dist/index.d.ts", "dist/browser.js", "dist/browser.d.ts", "dist/node/wasm/kernels.wasm", "dist/node/wasm/worker.js"]) {
      expect(packed).toContain(file);
    }
    expect(packed.filter((file) => /(^|\/)(bench|test|tests|__tests__)(\/|$)|\.test\.|(^|\/)dist-bench\//.test(file))).toEqual([]);
    expect(packed.filter((file) => file.startsWith("src/") || file.startsWith("assembly/") || file.startsWith("scripts/"))).toEqual([]);
  });

  it("imports only packages it declares as dependencies", () => {
    const bare = new Set<string>();
    for (const file of packed.filter((name) => name.endsWith(".js"))) {
      const source = readFileSync(path.join(installed, file), "utf8");
      const statics = source.matchAll(/^\s*(?:import|export)\b[^;\n]*?\bfrom\s*["']([^"'.][^"']*)["']/gm);
      const dynamics = source.matchAll(/\bimport\(\s*["']([^"'.][^"']*)["']\s*\)/g);
      for (const match of [...statics, ...dynamics]) {
        const specifier = match[1]!;
        if (specifier.startsWith("node:")) continue;
        bare.add(specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]!);
      }
    }
    expect([...bare].filter((name) => !(name in packageJson.dependencies))).toEqual([]);
    expect([...bare]).toEqual(expect.arrayContaining(["commander", "seedrandom"]));
  });
});

describe("charnn installed from the tarball", () => {
  it("runs the README's first library example as written", () => {
    writeFileSync(path.join(project, "example.mjs"), firstLibraryExample());
    const result = run(process.execPath, ["example.mjs"], project);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^stopped at step 150: steps$/);
    expect(lines.at(-1)).toMatch(/^\d+\.\d{3} bits per character, perplexity \d+\.\d{2}$/);
  });

  it("trains on a string, saves, reloads, samples and evaluates: the same numbers and text as the installed command", () => {
    writeFileSync(path.join(project, "corpus.txt"), "");
    writeFileSync(path.join(project, "use.mjs"), `
import { train, loadModel, modelFrom, readCheckpoint, writeCheckpoint, serializeCheckpoint, parseCheckpoint, CharnnError, TRAIN_EVENT_SCHEMA } from "charnn";
import * as core from "charnn/core";
const text = "a stitch in time saves nine.\\nmany hands make light work.\\n".repeat(30);
const events = [];
const run = await train({ text, hidden: 24, layers: 1, batch: 4, seqLen: 12, steps: 40, evalEvery: 20, out: "run", onEvent: (e) => events.push(e) });
const saved = await readCheckpoint("run");
await writeCheckpoint("copy.json", saved);
const reloaded = await loadModel("copy.json");
const fromText = modelFrom(serializeCheckpoint(run.checkpoint), { backend: "js" });
const heldOut = "many hands save time.\\nA stitch!\\n";
const result = {
  reason: run.reason, step: run.step, savedTo: run.savedTo,
  types: [...new Set(events.map((e) => e.type))], schemas: [...new Set(events.map((e) => e.schema))], schema: TRAIN_EVENT_SCHEMA,
  sample: reloaded.sampleText({ seed: 9, length: 80, prime: "many ", temp: 0.8 }),
  sampleJs: fromText.sampleText({ seed: 9, length: 80, prime: "many ", temp: 0.8 }),
  evaluation: reloaded.evaluate(heldOut),
  sameStep: parseCheckpoint(serializeCheckpoint(saved)).step === run.step,
  coreHasModel: typeof core.modelFrom === "function" && core.CharnnError === CharnnError,
};
reloaded.dispose();
fromText.dispose();
let error;
try { await train({ text, hidden: 0, steps: 1 }); } catch (caught) { error = { name: caught.name, code: caught.code, facts: caught.facts, exitCode: caught.exitCode, isCharnnError: caught instanceof CharnnError }; }
writeFileSync("held-out.txt", heldOut);
console.log(JSON.stringify({ ...result, error }));
import { writeFileSync } from "node:fs";
`);
    const used = run(process.execPath, ["use.mjs"], project);
    expect(used.stderr).toBe("");
    expect(used.code).toBe(0);
    const result = JSON.parse(used.stdout) as Record<string, any>;
    expect(result).toMatchObject({ reason: "steps", step: 40, savedTo: path.join(project, "run", "latest.json"), schemas: [1], schema: 1, sameStep: true, coreHasModel: true });
    expect(result.types).toEqual(expect.arrayContaining(["start", "step", "eval", "checkpoint", "end"]));
    expect(result.error).toMatchObject({ name: "CharnnError", code: "setting.out-of-range", exitCode: 2, isCharnnError: true });
    expect(result.error.facts).toMatchObject({ key: "hidden" });
    expect(result.sampleJs).toBe(result.sample);

    const evaluated = charnnCli(["eval", "-c", "copy.json", "--json", "held-out.txt"]);
    expect(evaluated.code).toBe(0);
    const { checkpoint: _file, inputs: _inputs, ...fromCli } = JSON.parse(evaluated.stdout) as Record<string, unknown>;
    expect(result.evaluation).toEqual(fromCli);

    const sampled = charnnCli(["sample", "-c", "copy.json", "--json", "--seed", "9", "--length", "80", "--prime", "many ", "--temp", "0.8"]);
    expect(sampled.code).toBe(0);
    expect((JSON.parse(sampled.stdout) as { text: string }).text).toBe(result.sample);
  });

  it("emits the same event objects from charnn train --json, with a time added", () => {
    writeFileSync(path.join(project, "small.txt"), "one two three four five six seven eight nine ten\n".repeat(20));
    const trained = charnnCli(["train", "small.txt", "--out", "cli-run", "--steps", "12", "--hidden", "8", "--layers", "1", "--batch", "2", "--seq-len", "8", "--eval-every", "6", "--log-every", "3", "--json"]);
    expect(trained.code).toBe(0);
    const events = trained.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const event of events) expect(event.schema).toBe(1);
    const keys = (type: string) => Object.keys(events.find((event) => event.type === type) ?? {}).filter((key) => key !== "time").sort();
    expect(keys("step")).toEqual(["charsPerSecond", "elapsedMs", "epoch", "etaMs", "gradNorm", "loss", "lr", "schema", "step", "type"]);
    expect(keys("end")).toEqual(["bestValidationLoss", "elapsedMs", "reason", "schema", "step", "trainLoss", "type", "validationLoss"]);
  });

  // tsc over @types/node takes a while on a busy machine.
  it("type-checks a TypeScript caller against the shipped .d.ts, and rejects a wrong one", { timeout: 300_000 }, () => {
    writeFileSync(path.join(project, "tsconfig.json"), JSON.stringify({
      compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: false, types: ["node"] },
      files: ["check.ts"],
    }));
    writeFileSync(path.join(project, "check.ts"), `
import { CharnnError, loadModel, modelFrom, train, trainEvents, runFolder, type Evaluation, type TrainEvent, type TrainResult } from "charnn";
import { modelFrom as coreModelFrom, type Model } from "charnn/core";
const result: TrainResult = await train({ text: "abc abc abc\\n".repeat(20), hidden: 8, steps: 2, seqLen: 4, batch: 2, save: runFolder("typed-run", { keep: 1 }) });
const reason: "steps" | "epochs" | "time" | "patience" | "interrupted" | "diverged" = result.reason;
const model = modelFrom(result.checkpoint!, { backend: "js" });
const stream: Iterable<string> & { seed: number } = model.sample({ temp: 0.5, topK: 3, seed: 1, unknown: "skip" });
const score: Evaluation = model.evaluate("abc");
const bits: number = score.bits + score.unknown.count;
const browserModel: Model = coreModelFrom(result.checkpoint!);
for await (const event of trainEvents({ text: "x y\\n".repeat(30), steps: 1, hidden: 4, seqLen: 4, batch: 2 })) {
  const typed: TrainEvent = event;
  if (typed.type === "eval") console.log(typed.validationLoss.toFixed(2));
}
try { await loadModel("nowhere"); } catch (error) { if (error instanceof CharnnError) console.log(error.code, error.exitCode, error.facts); }
console.log(reason, stream.seed, bits, browserModel.info.parameters);
model.dispose();
`);
    const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
    const good = run(process.execPath, [tsc, "-p", "tsconfig.json"], project, 280_000);
    expect(good.stdout + good.stderr).toBe("");
    expect(good.code).toBe(0);

    writeFileSync(path.join(project, "check.ts"), `
import { modelFrom, train } from "charnn";
const result = await train({ text: "abc", hiden: 8 });
modelFrom(result.checkpoint!).sample({ temp: "hot" });
`);
    const bad = run(process.execPath, [tsc, "-p", "tsconfig.json", "--skipLibCheck"], project, 280_000);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toMatch(/hiden/);
    expect(bad.stdout).toMatch(/"hot"|string/);
  });
});

describe("the README's install routes from the tarball", () => {
  const readme = readFileSync(path.join(root, "README.md"), "utf8");
  const name = `charnn-${packageJson.version}.tgz`;

  it("the README names this version's tarball for both", () => {
    expect(readme).toContain(`npm install -g ./${name}`);
    expect(readme).toContain(`npx --package=./${name} charnn ...`);
    expect(path.basename(tarball)).toBe(name);
  });

  it("npm install -g ./TARBALL and npx --package=./TARBALL charnn run charnn", { timeout: 600_000 }, (context) => {
    // A user's folder outside the repository, with its own npm cache and global prefix, so
    // nothing resolves from the repository and nothing is left behind in the user's npm folders.
    const user = mkdtempSync(path.join(os.tmpdir(), "charnn-user-"));
    try {
      writeFileSync(path.join(user, name), readFileSync(tarball));
      writeFileSync(path.join(user, "small.txt"), "one two three four five six seven eight nine ten\n".repeat(20));
      const env = { ...process.env, NO_COLOR: "1", npm_config_cache: path.join(user, "npm-cache"), npm_config_prefix: path.join(user, "global"), npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" };
      const npm = (args: string[], timeout = 240_000, command = "npm") => {
        const result = spawnSync(command, args, { cwd: user, encoding: "utf8", timeout, env });
        return { code: result.status, stdout: result.stdout ?? "", stderr: (result.stderr ?? "") + (result.error ? String(result.error) : "") };
      };
      if (npm(["ping"], 30_000).code !== 0) context.skip("the npm registry cannot be reached: the install routes were not run");

      const installedGlobally = npm(["install", "-g", `./${name}`]);
      expect(installedGlobally.stderr).not.toMatch(/ERR!/);
      expect(installedGlobally.code).toBe(0);
      const bin = path.join(user, "global", "bin", "charnn");
      const version = spawnSync(bin, ["--version"], { cwd: user, encoding: "utf8", env });
      expect(version.stdout.trim()).toBe(packageJson.version);
      const trained = spawnSync(bin, ["train", "small.txt", "--out", "run", "--steps", "3", "--hidden", "8", "--layers", "1", "--batch", "2", "--seq-len", "8", "-q"], { cwd: user, encoding: "utf8", env });
      expect(trained.stderr).toBe("");
      expect(trained.status).toBe(0);

      // As the README writes it, with --yes for the question npx asks before installing.
      const npx = (args: string[]) => npm(["--yes", `--package=./${name}`, "charnn", ...args], 240_000, "npx");
      const sampled = npx(["sample", "-c", "run", "--length", "30", "--seed", "1", "-q"]);
      expect(sampled.stderr).toBe("");
      expect(sampled.code).toBe(0);
      const again = spawnSync(bin, ["sample", "-c", "run", "--length", "30", "--seed", "1", "-q"], { cwd: user, encoding: "utf8", env });
      expect(sampled.stdout).toBe(again.stdout);
      expect(sampled.stdout.length).toBeGreaterThanOrEqual(30);
    } finally {
      rmSync(user, { recursive: true, force: true });
    }
  });
});
