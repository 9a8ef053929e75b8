// Test support: the checkpoint modules compiled to plain JavaScript in a temporary folder, so
// tests can run the real store in separate node processes (lock races, SIGKILL mid-write,
// CHARNN_FAULT). Node 20 cannot import TypeScript itself; the compile is a per-file transpile.

import { mkdir, mkdtemp, readFile, readdir, symlink, writeFile } from "node:fs/promises";
import { spawn, type ChildProcess } from "node:child_process";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** The core and the Node layer: everything the store can import, directly or not. */
async function storeSources(): Promise<string[]> {
  const files: string[] = [];
  for (const folder of ["src/core", "src/node"]) {
    for (const entry of await readdir(join(repositoryRoot, folder), { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) {
        files.push(join(entry.parentPath, entry.name).slice(repositoryRoot.length + 1));
      }
    }
  }
  // The test file systems that fail or stall on purpose, for children that inject one.
  files.push("test/helpers/faulty-fs.ts");
  return files.sort();
}

/** The compiled test/helpers/faulty-fs.js beside a compiled store (see compileStoreForChildren). */
export const faultyFsUrlOf = (storeUrl: string): string => storeUrl.replace(/src\/node\/store\.js$/, "test/helpers/faulty-fs.js");

/** Transpile the store and what it imports; returns the file URL of the compiled store.js. */
export async function compileStoreForChildren(): Promise<string> {
  const outputRoot = await mkdtemp(join(tmpdir(), "charnn-store-js-"));
  await writeFile(join(outputRoot, "package.json"), '{"type":"module"}\n');
  // The core's own dependencies (seedrandom) resolve from the project's node_modules.
  await symlink(join(repositoryRoot, "node_modules"), join(outputRoot, "node_modules"));
  for (const source of await storeSources()) {
    const { outputText } = ts.transpileModule(await readFile(join(repositoryRoot, source), "utf8"), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      fileName: source,
    });
    const target = join(outputRoot, source.replace(/\.ts$/, ".js"));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, outputText);
  }
  return pathToFileURL(join(outputRoot, "src/node/store.js")).href;
}

/** Run `code` (an ES module body that may `import` from `storeUrl`) in a new node process. */
export function spawnModule(code: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ["--input-type=module", "-e", code, ...args], {
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
}

/** Everything a child wrote to stdout and stderr, and how it ended. */
export function finished(child: ChildProcess): Promise<{ stdout: string; stderr: string; code: number | null; signal: string | null }> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => (stdout += chunk));
  child.stderr?.on("data", (chunk) => (stderr += chunk));
  return new Promise((resolvePromise) =>
    child.on("close", (code, signal) => resolvePromise({ stdout, stderr, code, signal })),
  );
}

/** The first line a child prints on stdout. */
export function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let buffered = "";
    child.stdout?.on("data", (chunk) => {
      buffered += chunk;
      const end = buffered.indexOf("\n");
      if (end >= 0) resolvePromise(buffered.slice(0, end));
    });
    child.on("close", () => reject(new Error(`child ended before printing a line: ${buffered}`)));
  });
}
