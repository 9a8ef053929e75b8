// Runs once before the test files: builds dist/ when it is missing or older than any source
// (the end-to-end tests spawn bin/charnn.js, which runs dist/). Workers load built JavaScript only, and the wasm kernels
// are compiled by `npm run build`, so the tests of both backends need them fresh.

import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const outputs = [
  ...["kernels.wasm", "kernels-relaxed.wasm", "worker.js", "threads.js", "module.js", "node-kernels.js"].map((name) => `dist/node/wasm/${name}`),
  ...["kernels.js", "protocol.js", "load.js"].map((name) => `dist/core/wasm/${name}`),
  "dist/page/page.html",
  "dist/cli/main.js",
  "dist/cli/charnn.js",
  "dist/index.js",
  "dist/browser.js",
];
const sourceDirs = ["assembly", "src"];

const mtime = (path: string): number => statSync(join(root, path)).mtimeMs;

function newestSource(): number {
  let newest = 0;
  for (const dir of sourceDirs) {
    for (const name of readdirSync(join(root, dir), { recursive: true }) as string[]) {
      if (name.endsWith(".ts") || name.endsWith(".json")) newest = Math.max(newest, mtime(join(dir, name)));
    }
  }
  return newest;
}

export default function setup(): void {
  const stale = outputs.some((file) => !existsSync(join(root, file)) || mtime(file) < newestSource());
  if (!stale) return;
  // tsc still emits when another part of the tree has a type error; what matters here is the output.
  spawnSync("npm", ["run", "build"], { cwd: root, stdio: "ignore" });
  const missing = outputs.filter((file) => !existsSync(join(root, file)) || mtime(file) < newestSource());
  if (missing.length > 0) throw new Error(`npm run build did not produce ${missing.join(", ")}`);
}
