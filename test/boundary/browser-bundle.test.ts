// The core built for a browser: src/browser.ts bundled by esbuild for `platform: "browser"`
// must resolve without any Node module, pull in nothing from src/node or src/cli, and run in a
// bare JavaScript context (no process, no require) where a model from a checkpoint samples and
// scores exactly as the Node entry does on the same (js) kernels.
// The known breaks in allowlist.ts are bundled as stubs that throw when called, and only for the
// files that break; everything else that asks for Node fails the build.

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { modelFrom, parseCheckpoint, type CheckpointState } from "../../src/index.js";
import { createTestIO } from "../cli/helpers.js";
import { ALLOWED, ALLOWED_NODE_FILES } from "./allowlist.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
type Esbuild = typeof import("esbuild");
const esbuild: Esbuild | null = await import("esbuild").catch(() => null);
if (esbuild === null) console.warn("browser bundle test skipped: esbuild is not installed (it is a devDependency: run npm install)");

const relative = (file: string): string => path.relative(root, file).split(path.sep).join("/");
const allowedFor = (importer: string): string[] => ALLOWED[importer] ?? ALLOWED_NODE_FILES[importer] ?? [];

interface Bundle {
  code: string;
  inputs: string[];
  stubbed: string[];
}

async function bundleCore(build: Esbuild["build"]): Promise<Bundle> {
  const stubbed: string[] = [];
  const result = await build({
    entryPoints: [path.join(root, "src/browser.ts")],
    bundle: true,
    platform: "browser",
    format: "iife",
    globalName: "charnnCore",
    write: false,
    metafile: true,
    logLevel: "silent",
    plugins: [{
      name: "allowlisted-node-stubs",
      setup(plugin) {
        plugin.onResolve({ filter: /^node:/ }, (args) => {
          const importer = relative(args.importer);
          if (!allowedFor(importer).includes(args.path)) return undefined; // esbuild fails on it for the browser
          stubbed.push(`${importer} → ${args.path}`);
          return { path: args.path, namespace: "allowlisted-node-stub" };
        });
        plugin.onLoad({ filter: /.*/, namespace: "allowlisted-node-stub" }, (args) => ({
          contents: `module.exports = new Proxy({}, { get: (_, name) => () => { throw new Error(${JSON.stringify(args.path)} + " is not in the browser bundle (" + String(name) + ")"); } });`,
          loader: "js",
        }));
      },
    }],
  });
  return { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs), stubbed };
}

let dir: string;
let checkpointText: string;
let bundle: Bundle;

beforeAll(async () => {
  if (esbuild === null) return;
  bundle = await bundleCore(esbuild.build);
  dir = await mkdtemp(path.join(tmpdir(), "charnn-browser-"));
  await writeFile(path.join(dir, "corpus.txt"), "a small text, for a small model; a small model for a small text.\n".repeat(12));
  const { io, stderr } = createTestIO({ cwd: dir });
  const code = await main(["train", "corpus.txt", "--out", "run", "--steps", "8", "--hidden", "12", "--layers", "2", "--batch", "2", "--seq-len", "8", "--backend", "js"], io);
  if (code !== 0) throw new Error(`training the fixture failed: ${stderr()}`);
  checkpointText = await readFile(path.join(dir, "run", "latest.json"), "utf8");
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The bundle run in a fresh context that has only what a browser page has of these. */
function runInBareContext(code: string): Record<string, any> {
  const context = vm.createContext({ TextEncoder, TextDecoder, console });
  vm.runInContext(`${code}\nglobalThis.charnnCore = charnnCore;`, context);
  expect(vm.runInContext("typeof process + typeof require", context)).toBe("undefinedundefined");
  return (context as { charnnCore: Record<string, any> }).charnnCore;
}

describe.skipIf(esbuild === null)("the core bundled for a browser", () => {
  it("contains nothing from src/node or src/cli beyond the allowlisted breaks", () => {
    const layered = bundle.inputs.filter((input) => input.startsWith("src/node/") || input.startsWith("src/cli/"));
    expect(layered.filter((input) => !(input in ALLOWED_NODE_FILES))).toEqual([]);
    expect(bundle.inputs).toContain("src/core/api/model.ts");
    expect(bundle.inputs.some((input) => input.includes("node_modules/seedrandom/"))).toBe(true);
    // Node modules are only the allowlisted stubs: every other one failed the build above.
    for (const stub of bundle.stubbed) expect(stub).toMatch(/^src\/(core|node)\/.* → node:/);
  });

  it("runs without Node and samples and scores as the Node entry does", () => {
    const core = runInBareContext(bundle.code);
    expect(Object.keys(core)).toEqual(expect.arrayContaining(["Model", "modelFrom", "parseCheckpoint", "CharnnError", "TRAIN_EVENT_SCHEMA"]));
    // Until the core hashes portably, checkpoint text is decoded outside; the model runs inside.
    const portableDecode = !("src/core/checkpoint/format.ts" in ALLOWED);
    const state: CheckpointState = portableDecode ? core.parseCheckpoint(checkpointText) : parseCheckpoint(checkpointText);
    const inBrowser = core.modelFrom(state);
    const inNode = modelFrom(checkpointText, { backend: "js" });
    try {
      expect(inBrowser.sampleText({ seed: 42, length: 120, prime: "a small " })).toBe(inNode.sampleText({ seed: 42, length: 120, prime: "a small " }));
      const text = "a small model, for a text.\n";
      expect(JSON.stringify(inBrowser.evaluate(text))).toBe(JSON.stringify(inNode.evaluate(text)));
    } finally {
      inBrowser.dispose();
      inNode.dispose();
    }
  });

  it("fails the build when core code asks for a Node module that is not allowlisted", async () => {
    const scratch = await mkdtemp(path.join(tmpdir(), "charnn-browser-negative-"));
    try {
      await writeFile(path.join(scratch, "entry.js"), `import { readFileSync } from "node:fs";\nexport const read = readFileSync;\n`);
      await expect(esbuild!.build({ entryPoints: [path.join(scratch, "entry.js")], bundle: true, platform: "browser", write: false, logLevel: "silent" })).rejects.toThrow(/node:fs/);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
