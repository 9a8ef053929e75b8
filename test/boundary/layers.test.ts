// The layers hold: the portable core (src/core, and src/browser.ts that publishes it) imports
// nothing from Node, the Node layer or the CLI and never touches `process`; the Node layer
// imports nothing from the CLI. Read from the sources, so a new file is checked the day it lands.
// Known breaks being fixed elsewhere are listed in allowlist.ts; an entry that no longer breaks
// the rule fails the test too, so the list only shrinks.

import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ALLOWED } from "./allowlist.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** Packages the core may import: pure JavaScript that runs anywhere. */
const PORTABLE_PACKAGES = new Set(["seedrandom"]);

const sourcesUnder = (dir: string): string[] =>
  (readdirSync(path.join(root, dir), { recursive: true }) as string[])
    .filter((name) => name.endsWith(".ts") && !name.endsWith(".d.ts"))
    .map((name) => path.posix.join(dir, name.split(path.sep).join("/")));

/** Every module specifier a file imports or re-exports, static or dynamic. */
function specifiersOf(source: string): string[] {
  const found: string[] = [];
  const patterns = [/\b(?:import|export)\s[^"'`;]*?\bfrom\s*["']([^"']+)["']/g, /\bimport\s*["']([^"']+)["']/g, /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.push(match[1]!);
  return found;
}

/** The source without comments and string contents, so a word in either is not code. */
function codeOnly(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|[^:\\])\/\/.*$/gm, "$1")
    .replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g, '""');
}

/** What a specifier names: "node:fs" for a builtin, a repository path for a relative one, else the package. */
function targetOf(file: string, specifier: string): string {
  if (specifier.startsWith(".")) {
    const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
    return resolved.replace(/\.js$/, ".ts");
  }
  return specifier;
}

const NODE_BUILTINS = new Set(["fs", "os", "path", "crypto", "url", "buffer", "child_process", "worker_threads", "perf_hooks", "stream", "util", "v8", "events", "readline", "process", "module", "net", "tty"]);
const isNodeBuiltin = (target: string): boolean => target.startsWith("node:") || NODE_BUILTINS.has(target.split("/")[0]!);

/** The rule breaks in one core file: Node builtins, the Node layer, the CLI, other packages, `process`. */
function coreBreaks(file: string): string[] {
  const source = readFileSync(path.join(root, file), "utf8");
  const breaks: string[] = [];
  for (const specifier of specifiersOf(source)) {
    const target = targetOf(file, specifier);
    if (isNodeBuiltin(target)) breaks.push(target);
    else if (target.startsWith("src/node/") || target.startsWith("src/cli/") || target === "src/index.ts") breaks.push(target);
    else if (!target.startsWith("src/") && !PORTABLE_PACKAGES.has(target)) breaks.push(target);
  }
  if (/(?<![.\w$])process\b/.test(codeOnly(source))) breaks.push("process");
  return breaks;
}

const coreFiles = [...sourcesUnder("src/core"), "src/browser.ts"];
const nodeFiles = sourcesUnder("src/node");

describe("layer boundaries", () => {
  it("finds the files it checks", () => {
    expect(coreFiles.length).toBeGreaterThan(30);
    expect(nodeFiles).toContain("src/node/backend.ts");
  });

  it.each(coreFiles)("%s is portable: no node:*, src/node, src/cli or process", (file) => {
    const breaks = coreBreaks(file);
    expect(breaks.filter((target) => !(ALLOWED[file] ?? []).includes(target))).toEqual([]);
  });

  it("lists only breaks that still exist (fixed ones leave the allowlist)", () => {
    for (const [file, allowed] of Object.entries(ALLOWED)) {
      const breaks = coreBreaks(file);
      for (const target of allowed) expect(breaks, `${file} no longer uses ${target}: remove it from ALLOWED`).toContain(target);
    }
  });

  it.each(nodeFiles)("%s imports nothing from the CLI", (file) => {
    const source = readFileSync(path.join(root, file), "utf8");
    const cli = specifiersOf(source).map((specifier) => targetOf(file, specifier)).filter((target) => target.startsWith("src/cli/"));
    expect(cli).toEqual([]);
  });

  it("the checks see what they are meant to see", () => {
    expect(specifiersOf(`import a from "node:fs";\nexport { b } from "./b.js";\nconst c = await import("../c.js");\nimport "./side.js";`))
      .toEqual(["node:fs", "./b.js", "./side.js", "../c.js"]);
    expect(codeOnly(`// process.env\nconst s = "process";\n/* process */ x`)).not.toMatch(/process/);
    expect(codeOnly(`const v = process.version;`)).toMatch(/process/);
    expect(targetOf("src/core/checkpoint/model.ts", "../../node/version.js")).toBe("src/node/version.ts");
  });
});
