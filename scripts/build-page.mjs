// Builds the page of `charnn serve` and `charnn export --format html` into one HTML file with
// its script, style and the two builds of the WebAssembly kernels (base64) inlined
// (dist/page/page.html): esbuild bundles src/page/main.ts and the portable core for the browser;
// a Node module anywhere in what it pulls in fails the build, and so does a kernel build missing
// from dist/node/wasm/ (`npm run build:wasm` makes them first). Run by `npm run build`; tests
// call buildPage().

import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
export const PAGE_FILE = path.join(root, "dist", "page", "page.html");
/** The kernel builds the page carries, by the placeholder each fills. */
export const KERNEL_FILES = {
  "/*KERNELS_SIMD*/": path.join(root, "dist", "node", "wasm", "kernels.wasm"),
  "/*KERNELS_RELAXED*/": path.join(root, "dist", "node", "wasm", "kernels-relaxed.wasm"),
};

async function kernelBase64(file) {
  try {
    return (await readFile(file)).toString("base64");
  } catch {
    throw new Error(`the page needs the WebAssembly kernels, and ${path.relative(root, file)} is missing: run npm run build:wasm first`);
  }
}

/** The page's HTML, with script and style inlined. */
export async function buildPage() {
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: [path.join(root, "src/page/main.ts")],
    bundle: true,
    platform: "browser",
    format: "iife",
    target: "es2022",
    minify: true,
    write: false,
    logLevel: "silent",
  });
  const script = result.outputFiles[0].text.replace(/<\/script/gi, "<\\/script");
  const [template, style] = await Promise.all([
    readFile(path.join(root, "src/page/index.html"), "utf8"),
    readFile(path.join(root, "src/page/style.css"), "utf8"),
  ]);
  let html = template.replace("/*STYLE*/", () => style);
  for (const [placeholder, file] of Object.entries(KERNEL_FILES)) {
    if (!html.includes(placeholder)) throw new Error(`src/page/index.html has no ${placeholder}`);
    const base64 = await kernelBase64(file);
    html = html.replace(placeholder, () => base64);
  }
  // Last, and functions as replacements, so "$&" or a placeholder's text in the minified script stays itself.
  return html.replace("/*SCRIPT*/", () => script);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const html = await buildPage();
  await mkdir(path.dirname(PAGE_FILE), { recursive: true });
  await writeFile(PAGE_FILE, html);
  console.error(`wrote ${path.relative(root, PAGE_FILE)} (${Math.round(html.length / 1024)} KB)`);
}
