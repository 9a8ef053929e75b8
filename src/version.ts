// The package version, read from package.json at run time so `charnn --version` can never
// disagree with what npm installed. Not a build step and not a place for other metadata.

import { readFileSync } from "node:fs";

let cachedVersion: string | undefined;

export function packageVersion(): string {
  if (cachedVersion === undefined) {
    // src/version.ts and dist/version.js both sit one folder below package.json.
    const packageJson = readFileSync(new URL("../package.json", import.meta.url), "utf8");
    cachedVersion = String((JSON.parse(packageJson) as { version?: unknown }).version ?? "unknown");
  }
  return cachedVersion;
}
