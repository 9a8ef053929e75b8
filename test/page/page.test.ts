// The page in a real headless browser (Debian's chromium through playwright-core): it loads and
// draws the run's loss points, gains new ones while a training run writes to the folder, shows
// the latest preview sample, streams a sample equal to `charnn sample --backend js` for the same
// checkpoint, seed and settings, draws the activation view, and the exported HTML file samples
// when opened from disk with every non-file request refused. One browser for the whole file.
// Skipped, saying so, where /usr/bin/chromium is absent.

import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { main } from "../../src/cli/main.js";
import { startServer, type RunningServer } from "../../src/node/serve/server.js";
import { createTestIO } from "../cli/helpers.js";
import { ensurePage, trainTiny } from "../helpers/page.js";

const CHROMIUM = "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
if (!available) console.warn(`page tests skipped: ${CHROMIUM} is not installed (Debian: apt-get install chromium)`);

let dir: string;
let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  if (!available) return;
  const pageFile = await ensurePage();
  dir = await mkdtemp(path.join(tmpdir(), "charnn-page-"));
  await trainTiny(dir, "run", ["--steps", "20", "--sample-every", "10", "--sample-length", "40"]);
  server = await startServer({ folder: path.join(dir, "run"), host: "127.0.0.1", port: 0, page: await readFile(pageFile, "utf8") });
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // playwright gives every launch a fresh profile folder of its own.
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function stepEventsInLog(): Promise<number> {
  const text = await readFile(path.join(dir, "run", "events.ndjson"), "utf8");
  return text.split("\n").filter((line) => line.includes('"type":"step"')).length;
}

const points = async (page: Page) => Number(await page.locator("#chart").getAttribute("data-train-points"));

async function cliSample(checkpoint: string, args: string[]): Promise<string> {
  const { io, stdout, stderr } = createTestIO({ cwd: dir });
  const code = await main(["sample", "-c", checkpoint, "--backend", "js", "--no-echo", ...args], io);
  if (code !== 0) throw new Error(`sample exited ${code}: ${stderr()}`);
  return stdout().replace(/\n$/, "");
}

/** Fills the sampler's fields, clicks Sample, and returns the text and how many times it grew on screen before it was done. */
async function sampleInPage(page: Page, settings: { seed: number; temp: number; topK: number; topP: number; prime: string; length: number }) {
  await page.fill("#seed", String(settings.seed));
  await page.fill("#temp", String(settings.temp));
  await page.fill("#top-k", String(settings.topK));
  await page.fill("#top-p", String(settings.topP));
  await page.fill("#prime", settings.prime);
  await page.fill("#length", String(settings.length));
  await page.evaluate(() => {
    const out = document.getElementById("sample-text")!;
    (window as unknown as { grew: number }).grew = 0;
    new MutationObserver(() => (window as unknown as { grew: number }).grew++).observe(out, { childList: true, characterData: true, subtree: true });
    document.getElementById("sample-status")!.dataset.state = "";
  });
  await page.click("#sample");
  await page.waitForFunction(() => document.getElementById("sample-status")!.dataset.state !== "", undefined, { timeout: 60_000 });
  expect(await page.locator("#sample-status").getAttribute("data-state"), await page.locator("#sample-status").textContent() ?? "").toBe("done");
  return { text: (await page.locator("#sample-text").textContent()) ?? "", grew: await page.evaluate(() => (window as unknown as { grew: number }).grew) };
}

const SETTINGS = { seed: 7, temp: 0.8, topK: 5, topP: 0.9, prime: "She said", length: 6000 };
const SETTINGS_ARGS = ["--seed", "7", "--temp", "0.8", "--top-k", "5", "--top-p", "0.9", "--prime", "She said", "--length", "6000"];

describe.skipIf(!available)("the page in a browser", () => {
  let page: Page;

  it("loads and draws the run's loss points and its latest preview sample", async () => {
    page = await browser.newPage();
    const failures: string[] = [];
    page.on("pageerror", (error) => failures.push(error.message));
    await page.goto(server.url);
    await page.waitForFunction(() => document.body.dataset.ready === "true");
    const logged = await stepEventsInLog();
    expect(logged).toBe(20);
    await expect.poll(() => points(page), { timeout: 10_000 }).toBe(logged);
    expect(Number(await page.locator("#chart").getAttribute("data-validation-points"))).toBeGreaterThanOrEqual(4);
    expect(await page.locator("#chart svg").count()).toBe(1);
    await expect.poll(async () => page.locator("#latest-sample").textContent()).toMatch(/^step 20:\n/);
    expect(await page.locator("#checkpoint option").allTextContents()).toEqual(expect.arrayContaining(["latest.json", "best.json"]));
    expect(failures).toEqual([]);
  });

  it("gains points while a training run writes to the folder", async () => {
    let finished = false;
    const training = trainTiny(dir, "run", ["--resume", "--steps", "1000000", "--time", "4s", "--eval-every", "50"]).finally(() => (finished = true));
    await expect.poll(() => points(page), { timeout: 15_000, interval: 200 }).toBeGreaterThan(20);
    const seenWhileTraining = !finished;
    await training;
    expect(seenWhileTraining).toBe(true);
    const logged = await stepEventsInLog();
    await expect.poll(() => points(page), { timeout: 10_000 }).toBe(logged);
    expect(logged).toBeGreaterThan(20);
  });

  it("streams a sample equal to charnn sample --backend js for the same checkpoint, seed and settings", async () => {
    await page.selectOption("#checkpoint", "best.json");
    const inPage = await sampleInPage(page, SETTINGS);
    expect(inPage.grew).toBeGreaterThan(1);
    expect(await page.locator("#sample-prime").textContent()).toBe("She said");
    const fromCli = await cliSample("run/best.json", SETTINGS_ARGS);
    expect(inPage.text.length).toBeGreaterThan(1000);
    expect(inPage.text).toBe(fromCli);
  });

  it("colours the text typed by a unit's values, and shows the next-character guesses", async () => {
    await page.fill("#viz-input", 'he said "no".');
    await page.fill("#viz-unit", "3");
    await page.click("#viz-run");
    await expect.poll(() => page.locator("#viz-output span").count()).toBe(13);
    const colours = await page.locator("#viz-output span").evaluateAll((spans) => spans.map((span) => (span as HTMLElement).style.background));
    expect(colours.every((colour) => colour.startsWith("rgb("))).toBe(true);
    expect(new Set(colours).size).toBeGreaterThan(1);
    await page.hover("#viz-output span >> nth=4");
    expect(await page.locator("#viz-panel").textContent()).toMatch(/^character 4 .*= -?\d\.\d{4}\nnext: /);
    if (process.env.CHARNN_PAGE_SCREENSHOT) {
      await page.setViewportSize({ width: 960, height: 800 });
      await page.screenshot({ path: process.env.CHARNN_PAGE_SCREENSHOT, fullPage: true });
    }
  });

  it("exported as one HTML file, samples offline with every non-file request refused", async () => {
    const { io, stderr } = createTestIO({ cwd: dir });
    expect(await main(["export", "run/best.json", "offline.html", "--format", "html"], io), stderr()).toBe(0);
    const context = await browser.newContext();
    const refused: string[] = [];
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith("file://")) return route.continue();
      refused.push(url);
      return route.abort();
    });
    const offline = await context.newPage();
    await offline.goto(pathToFileURL(path.join(dir, "offline.html")).href);
    await offline.waitForFunction(() => document.body.dataset.ready === "true");
    const inFile = await sampleInPage(offline, { ...SETTINGS, length: 300 });
    expect(inFile.text).toBe(await cliSample("run/best.json", [...SETTINGS_ARGS.slice(0, -1), "300"]));
    // Without a prime both start from the start state the checkpoint recorded.
    const unprimed = await sampleInPage(offline, { ...SETTINGS, prime: "", length: 300 });
    expect(unprimed.text).toBe(await cliSample("run/best.json", ["--seed", "7", "--temp", "0.8", "--top-k", "5", "--top-p", "0.9", "--length", "300"]));
    expect(refused).toEqual([]);
    await context.close();
  });
});
