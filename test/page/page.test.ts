// The page in a real headless browser (Debian's chromium through playwright-core): it loads and
// draws the run's loss points, gains new ones while a training run writes to the folder, shows
// the latest preview sample, samples on the WebAssembly kernels the browser validates (it shows
// which, and a fallback to js fails here) and streams text equal to `charnn sample --backend`
// that set for the same checkpoint, seed and settings, as it does on each set asked for by
// `?kernels=`, draws the activation view, and the exported HTML file samples on wasm when opened
// from disk with every non-file request refused. One browser for the whole file.
// Skipped, saying so, where /usr/bin/chromium is absent.

import { existsSync, readFileSync } from "node:fs";
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { main } from "../../src/cli/main.js";
import { startServer, type RunningServer } from "../../src/node/serve/server.js";
import { createTestIO } from "../cli/helpers.js";
import { ensurePage, trainTiny } from "../helpers/page.js";
import { builtFile } from "../../src/node/wasm/module.js";

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
  // The samples below come from this copy: the same weights every run, where the time-budgeted
  // training of the second test leaves best.json at however many steps the machine managed.
  await copyFile(path.join(dir, "run", "best.json"), path.join(dir, "run", "fixed.json"));
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

/** The kernel set a page should run in this browser: the relaxed build where the browser validates it, else plain SIMD. */
async function expectedKernels(page: Page): Promise<string> {
  const relaxed = [...readFileSync(builtFile("kernels-relaxed.wasm"))];
  return (await page.evaluate((bytes) => WebAssembly.validate(new Uint8Array(bytes)), relaxed)) ? "wasm-relaxed" : "wasm";
}

/** The kernel set the page says it runs (the name the kernels report), once it has chosen. */
async function pageKernels(page: Page): Promise<string> {
  await page.waitForFunction(() => document.getElementById("kernels")!.dataset.name !== "");
  return (await page.locator("#kernels").getAttribute("data-name")) ?? "";
}

/**
 * How far the page's summed log-probability may be from the command line's on the same kernels.
 * The kernels' float32 arithmetic is the same bits in both, but each character's log-probability
 * goes through Math.exp and Math.log, which this browser's JavaScript engine and Node's may round
 * one ulp apart (seen: 6e-14 on a sum of 430; under 1e-16 per character, so below 1e-12 over a
 * sample). Kernel sets differ in the float32 logits: on the fixed checkpoint below their sums are
 * over 5e-9 apart, which the test after the three sets checks stays well above this allowance.
 */
const SAME_KERNELS = 1e-11;

function expectSameKernels(page: { text: string; logProbability: number }, cli: { text: string; logProbability: number }): void {
  expect(page.text).toBe(cli.text);
  expect(Math.abs(page.logProbability - cli.logProbability)).toBeLessThan(SAME_KERNELS);
}

/** `charnn sample --json` on `backend`: the text (without the prime) and its summed log-probability. */
async function cliSample(checkpoint: string, backend: string, args: string[]): Promise<{ text: string; logProbability: number }> {
  const { io, stdout, stderr } = createTestIO({ cwd: dir });
  const code = await main(["sample", "-c", checkpoint, "--backend", backend, "--json", ...args], io);
  if (code !== 0) throw new Error(`sample exited ${code}: ${stderr()}`);
  const { text, logProbability } = JSON.parse(stdout()) as { text: string; logProbability: number };
  return { text, logProbability };
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
  return {
    text: (await page.locator("#sample-text").textContent()) ?? "",
    logProbability: Number(await page.locator("#sample-status").getAttribute("data-log-probability")),
    grew: await page.evaluate(() => (window as unknown as { grew: number }).grew),
  };
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

  it("runs the WebAssembly kernels the browser validates, and says which", async () => {
    const expected = await expectedKernels(page);
    expect(expected).toMatch(/^wasm/);
    expect(await pageKernels(page)).toBe(expected);
    expect(await page.locator("#kernels").textContent()).toBe(`kernels: ${expected}`);
    // The server makes the page cross-origin isolated, so every browser gives it shared memory.
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  });

  it("streams a sample equal to charnn sample on the page's kernels for the same checkpoint, seed and settings", async () => {
    const kernels = await pageKernels(page);
    await page.selectOption("#checkpoint", "fixed.json");
    const inPage = await sampleInPage(page, SETTINGS);
    expect(inPage.grew).toBeGreaterThan(5);
    expect(await page.locator("#sample-prime").textContent()).toBe("She said");
    expect(await page.locator("#sample-status").textContent()).toBe(`done · seed 7 · ${kernels} kernels`);
    const fromCli = await cliSample("run/fixed.json", kernels, SETTINGS_ARGS);
    expect(inPage.text.length).toBeGreaterThan(1000);
    // The text, and the log-probability, which differs between kernel sets even where the text does not.
    expectSameKernels(inPage, fromCli);
  });

  const logProbabilityOn = new Map<string, number>();

  it.each(["js", "wasm", "wasm-relaxed"])("asked for the %s kernels by ?kernels=, runs them and samples what charnn sample --backend gives", async (kernels) => {
    const forced = await browser.newPage();
    await forced.goto(`${server.url}?kernels=${kernels}`);
    await forced.waitForFunction(() => document.body.dataset.ready === "true");
    expect(await pageKernels(forced)).toBe(kernels);
    await forced.selectOption("#checkpoint", "fixed.json");
    const inPage = await sampleInPage(forced, { ...SETTINGS, length: 2000 });
    expect(await forced.locator("#sample-status").textContent()).toBe(`done · seed 7 · ${kernels} kernels`);
    const fromCli = await cliSample("run/fixed.json", kernels, [...SETTINGS_ARGS.slice(0, -1), "2000"]);
    expectSameKernels(inPage, fromCli);
    logProbabilityOn.set(kernels, inPage.logProbability);
    await forced.close();
  });

  it("tells the kernel sets apart: their log-probabilities differ by far more than the checks allow, so those match the set, not just the text", () => {
    const values = [...logProbabilityOn.values()];
    expect(values).toHaveLength(3);
    for (const [i, a] of values.entries()) for (const b of values.slice(i + 1)) expect(Math.abs(a - b)).toBeGreaterThan(10 * SAME_KERNELS);
  });

  it("refuses kernels it does not know instead of picking others", async () => {
    const wrong = await browser.newPage();
    await wrong.goto(`${server.url}?kernels=gpu`);
    await wrong.waitForFunction(() => document.body.dataset.ready === "error");
    expect(await wrong.locator("#status").textContent()).toMatch(/\?kernels=gpu is not a kernel set/);
    expect(await wrong.locator("#kernels").getAttribute("data-name")).toBe("");
    await wrong.close();
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

  it("exported as one HTML file, samples offline on wasm with every non-file request refused", async () => {
    const { io, stderr } = createTestIO({ cwd: dir });
    expect(await main(["export", "run/fixed.json", "offline.html", "--format", "html"], io), stderr()).toBe(0);
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
    const kernels = await pageKernels(offline);
    expect(kernels).toBe(await expectedKernels(offline));
    const inFile = await sampleInPage(offline, { ...SETTINGS, length: 300 });
    expect(await offline.locator("#sample-status").textContent()).toBe(`done · seed 7 · ${kernels} kernels`);
    const fromCli = await cliSample("run/fixed.json", kernels, [...SETTINGS_ARGS.slice(0, -1), "300"]);
    expectSameKernels(inFile, fromCli);
    // Without a prime both start from the start state the checkpoint recorded.
    const unprimed = await sampleInPage(offline, { ...SETTINGS, prime: "", length: 300 });
    const unprimedCli = await cliSample("run/fixed.json", kernels, ["--seed", "7", "--temp", "0.8", "--top-k", "5", "--top-p", "0.9", "--length", "300"]);
    expectSameKernels(unprimed, unprimedCli);
    expect(refused).toEqual([]);
    await context.close();
  });
});
