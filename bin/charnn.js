#!/usr/bin/env node
// Runs the one-file bundle of the command line that `npm run build` makes (far faster to load),
// or the compiled modules where there is no bundle or it is older than they are.
import { statSync } from "node:fs";

const modifiedMs = (url) => statSync(url, { throwIfNoEntry: false })?.mtimeMs ?? -1;
const bundle = new URL("../dist/cli/charnn.js", import.meta.url);
const modules = new URL("../dist/cli/main.js", import.meta.url);
const { main } = await import(modifiedMs(bundle) >= modifiedMs(modules) ? bundle : modules);
process.exitCode = await main(process.argv.slice(2));
