// The package version, read from package.json at run time so `charnn --version` can never
// disagree with what npm installed. Not a build step and not a place for other metadata.

import { readFileSync } from "node:fs";

let cachedVersion: string | undefined;

export function packageVersion(): string {
  if (cachedVersion === undefined) {
    // src/node/version.ts and dist/node/version.js both sit two folders below package.json.
    const packageJson = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
    cachedVersion = String((JSON.parse(packageJson) as { version?: unknown }).version ?? "unknown");
  }
  return cachedVersion;
}
