// Builds the page of `charnn serve` and `charnn export --format html` into one HTML file with
// its script and style inlined (dist/page/page.html): esbuild bundles src/page/main.ts and the
// portable core for the browser; a Node module anywhere in what it pulls in fails the build.
// Run by `npm run build`; tests call buildPage().

import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
export const PAGE_FILE = path.join(root, "dist", "page", "page.html");

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
  // Functions as replacements, so "$&" in the minified script stays itself.
  return template.replace("/*STYLE*/", () => style).replace("/*SCRIPT*/", () => script);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const html = await buildPage();
  await mkdir(path.dirname(PAGE_FILE), { recursive: true });
  await writeFile(PAGE_FILE, html);
  console.error(`wrote ${path.relative(root, PAGE_FILE)} (${Math.round(html.length / 1024)} KB)`);
}
