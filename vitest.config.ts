import { defineConfig } from "vitest/config";

// Tests import the TypeScript sources directly; the few end-to-end tests spawn bin/charnn.js,
// which runs the built dist/ (npm install and npm test both build it first). The global setup
// rebuilds dist/ when the wasm kernels or the worker entry are stale (`npx vitest run` alone).
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
