// Test helper: the built page (dist/page/page.html), rebuilt from src/page/ when it is missing or
// older than its sources or the kernel builds it inlines, so page tests run on what the sources
// say. Also a tiny trained run.

import { existsSync, readdirSync, statSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../../src/cli/main.js";
import { PAGE_FILE } from "../../src/node/page-html.js";
import { createTestIO } from "../cli/helpers.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

function newestPageSource(): number {
  let newest = 0;
  for (const dir of ["src/page", "src/core"]) {
    for (const name of readdirSync(path.join(root, dir), { recursive: true }) as string[]) {
      newest = Math.max(newest, statSync(path.join(root, dir, name)).mtimeMs);
    }
  }
  // The kernel builds the page inlines (the build fails when they are missing).
  for (const name of ["kernels.wasm", "kernels-relaxed.wasm"]) {
    const file = path.join(root, "dist/node/wasm", name);
    if (existsSync(file)) newest = Math.max(newest, statSync(file).mtimeMs);
  }
  return newest;
}

export async function ensurePage(): Promise<string> {
  if (!existsSync(PAGE_FILE) || statSync(PAGE_FILE).mtimeMs < newestPageSource()) {
    const { buildPage } = (await import(path.join(root, "scripts/build-page.mjs"))) as { buildPage(): Promise<string> };
    await mkdir(path.dirname(PAGE_FILE), { recursive: true });
    await writeFile(PAGE_FILE, await buildPage());
  }
  return PAGE_FILE;
}

export const TINY_CORPUS = 'She said "yes" (and then no), he said "maybe".\n'.repeat(40);

/** Runs `charnn train` in-process in `cwd`; throws with stderr when it fails. */
export async function trainTiny(cwd: string, out: string, extra: string[] = []): Promise<string> {
  const corpus = path.join(cwd, "corpus.txt");
  if (!existsSync(corpus)) await writeFile(corpus, TINY_CORPUS);
  const { io, stderr } = createTestIO({ cwd });
  const code = await main(["train", "corpus.txt", "--out", out, "--hidden", "16", "--layers", "1", "--batch", "4", "--seq-len", "16", "--backend", "js", "--log-every", "1", "--eval-every", "5", ...extra], io);
  if (code !== 0) throw new Error(`train exited ${code}: ${stderr()}`);
  return stderr();
}
