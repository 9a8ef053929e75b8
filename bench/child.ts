// The child process of `npm run bench`: measures one workload on one backend and thread count
// (measure.ts) and prints one `RESULT {json}` line on stdout; progress goes to stderr. Each
// workload gets a fresh process so its peak RSS is its own. Not meant to be run by hand:
// run.ts passes the spec as one JSON argument.

import { CharnnError } from "../dist/core/errors.js";
import { measureWorkload, type MeasureSpec } from "./measure.js";
import { RESULT_PREFIX } from "./results.js";

async function child(argv: readonly string[]): Promise<number> {
  const spec = JSON.parse(argv[0] ?? "null") as MeasureSpec | null;
  if (spec === null || typeof spec !== "object") {
    process.stderr.write("usage: node dist-bench/child.js '<measure spec as JSON>' (run.ts starts this)\n");
    return 2;
  }
  try {
    const result = await measureWorkload(spec, (line) => process.stderr.write(line + "\n"));
    process.stdout.write(RESULT_PREFIX + JSON.stringify(result) + "\n");
    return 0;
  } catch (error) {
    // The parent reports this line as the reason the workload has no numbers.
    const message = error instanceof CharnnError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`charnn bench child: ${message}\n`);
    return error instanceof CharnnError ? error.exitCode : 1;
  }
}

process.exitCode = await child(process.argv.slice(2));
