// Bundles the command line into one file, dist/cli/charnn.js, which bin/charnn.js runs: Node 20
// has no compile cache for ES modules, so loading ~60 small modules cost more than the work of a
// short command. The command bodies stay lazy inside the bundle (esbuild runs a module that is
// imported dynamically only when it is), so `charnn --help` works while an engine module is broken.
// Not bundled: the kernel worker and the .wasm files, which dist/node/wasm/ keeps (tsc and asc).

import { build } from "esbuild";

await build({
  entryPoints: ["src/cli/main.ts"],
  outfile: "dist/cli/charnn.js",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // commander and seedrandom are CommonJS: their require() of Node's modules needs a real require.
  banner: { js: 'import { createRequire as __charnnCreateRequire } from "node:module"; const require = __charnnCreateRequire(import.meta.url);' },
  sourcemap: "linked",
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: "warning",
});
