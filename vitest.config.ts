import { defineConfig } from "vitest/config";

// Tests import the TypeScript sources directly; the few end-to-end tests spawn bin/charnn.js,
// which runs the built dist/ (npm install and npm test both build it first).
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
