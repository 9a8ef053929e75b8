// Tests for src/version.ts: the version comes from package.json as it is on disk.

import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { packageVersion } from "../../src/node/version.js";

it("reads the version from package.json", () => {
  const onDisk = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  expect(packageVersion()).toBe(onDisk.version);
  expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
});
