// The HTML view in a real browser (Debian's chromium through playwright-core), opened from disk
// with every request refused: it loads nothing, draws one span per character, and hovering a
// character fills the panel with the unit's value and the model's top predictions there; the
// unit chooser recolours the text. Skips, saying so, where chromium is not installed.

import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderHtml } from "../../../src/core/viz/html.js";
import type { ActivationView } from "../../../src/core/viz/view.js";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((file) => existsSync(file));
if (CHROMIUM === undefined) console.warn("html-browser.test.ts: skipped, no chromium at /usr/bin/chromium");

const characters = [..."say \"hi\"\nok"];
const view: ActivationView = {
  title: "browser test",
  characters,
  predictions: characters.map((_, t) => [{ text: "h", probability: 0.625 }, { text: t % 2 === 0 ? "\n" : " ", probability: 0.25 }]),
  units: [
    { layer: 0, unit: 3, state: "h", label: "layer 0 unit 3 (h)", values: characters.map((_, t) => (t % 3) - 1), scale: 1 },
    { layer: 1, unit: 7, state: "c", label: "layer 1 unit 7 (c)  r = 0.900", values: characters.map((_, t) => t / 10), scale: 2 },
  ],
};

describe.skipIf(CHROMIUM === undefined)("the HTML view in chromium", () => {
  let dir: string;
  let browser: import("playwright-core").Browser;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "charnn-viz-html-"));
    await writeFile(join(dir, "view.html"), renderHtml(view));
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
  });

  afterAll(async () => {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("loads nothing but itself, and hovering a character shows its value and the predictions there", async () => {
    const page = await browser.newPage();
    const requested: string[] = [];
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith("file:") && url.endsWith("/view.html")) return route.continue();
      requested.push(url);
      return route.abort();
    });
    await page.goto(pathToFileURL(join(dir, "view.html")).href);
    expect(errors).toEqual([]);
    expect(requested).toEqual([]);

    const spans = page.locator("#text span");
    expect(await spans.count()).toBe(characters.length);
    await spans.nth(5).hover(); // the h of "hi"
    const panel = await page.locator("#panel").innerText();
    expect(panel).toContain("character 5 \u201ch\u201d");
    expect(panel).toContain("layer 0 unit 3 (h) = 1.0000");
    expect(panel).toContain("\u201ch\u201d 62.5%");
    expect(panel).toContain("\u201cspace\u201d 25.0%"); // t = 5 is odd: a space, named

    // Value 1 on scale 1 is the positive end colour; value -1 the negative one.
    expect(await spans.nth(5).evaluate((el) => getComputedStyle(el).backgroundColor)).toBe("rgb(214, 39, 40)");
    expect(await spans.nth(3).evaluate((el) => getComputedStyle(el).backgroundColor)).toBe("rgb(33, 102, 172)");

    await page.selectOption("#unit", "1");
    await spans.nth(5).hover();
    expect(await page.locator("#panel").innerText()).toContain("layer 1 unit 7 (c) = 0.5000");
    expect(requested).toEqual([]);
    await page.close();
  });
});
