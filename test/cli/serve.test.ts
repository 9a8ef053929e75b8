// charnn serve in-process: the URL is the first line of stdout, the page answers there, SIGINT
// and SIGTERM stop it with exit 0, and bad arguments are usage or input errors with a message.

import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { ensurePage } from "../helpers/page.js";
import { createTestIO } from "./helpers.js";

let dir: string;
beforeAll(async () => {
  await ensurePage();
  dir = await mkdtemp(path.join(tmpdir(), "charnn-serve-cli-"));
  await mkdir(path.join(dir, "checkpoints"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function firstLine(stdout: () => string): Promise<string> {
  for (let i = 0; i < 500 && !stdout().includes("\n"); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  return stdout().split("\n")[0]!;
}

describe("charnn serve", () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`prints its URL first, serves the page, and stops on ${signal} with exit 0`, async () => {
      const { io, stdout, stderr, signals } = createTestIO({ cwd: dir });
      const exit = main(["serve", "--port", "0"], io);
      const url = await firstLine(stdout);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('id="chart"');
      expect(await (await fetch(`${url}api/checkpoints`)).json()).toEqual([]);
      signals.emit(signal);
      expect(await exit).toBe(0);
      expect(stderr()).toContain("serving checkpoints");
      await expect(fetch(url)).rejects.toThrow();
    });
  }

  it("refuses a port out of range or not a whole number (exit 2) and a folder that is not there (exit 3)", async () => {
    for (const [port, message] of [["70000", /--port must be .*65535.*70000/], ["8.5", /--port must be a whole number \(got 8.5\)/], ["http", /--port must be a number \(got "http"\)/]] as const) {
      const bad = createTestIO({ cwd: dir });
      expect(await main(["serve", "--port", port], bad.io), port).toBe(2);
      expect(bad.stderr()).toMatch(message);
      expect(bad.stdout()).toBe("");
    }
    const missing = createTestIO({ cwd: dir });
    expect(await main(["serve", "no-such-run", "--port", "0"], missing.io)).toBe(3);
    expect(missing.stderr()).toMatch(/no-such-run is not a folder/);
    expect(missing.stdout()).toBe("");
  });
});
