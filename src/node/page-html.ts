// The built page (dist/page/page.html, made by `npm run build` from src/page/) as text, and the
// same page with one checkpoint inlined for `charnn export --format html`. Not here: the page's
// code (src/page/) or serving it (src/node/serve/).

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CharnnError, ExitCode } from "../core/errors.js";

/** src/node/page-html.ts and dist/node/page-html.js both sit two folders below the package root. */
export const PAGE_FILE = fileURLToPath(new URL("../../dist/page/page.html", import.meta.url));

export function readPageHtml(file = PAGE_FILE): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    throw new CharnnError(`the page is not built (${file} is missing)`, ExitCode.failure, "run npm run build in charnn's folder", { code: "page.not-built", facts: { file } });
  }
}

const escapeAttribute = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The page with `checkpointText` inlined: base64 of its UTF-8 bytes, so the text (and with it the
 * checksum) reaches the page unchanged whatever characters it holds, and nothing can end the element.
 */
export function pageWithCheckpoint(page: string, checkpointText: string, name: string): string {
  const base64 = Buffer.from(checkpointText, "utf8").toString("base64");
  const holder = `<script type="application/octet-stream" id="charnn-checkpoint" data-name="${escapeAttribute(name)}">${base64}</script>`;
  if (!page.includes("<!--CHECKPOINT-->")) throw new Error("the page has no place for a checkpoint (<!--CHECKPOINT-->)");
  return page.replace("<!--CHECKPOINT-->", () => holder);
}
