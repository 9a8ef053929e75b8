// Test support: charnn's entry point with a checkpoint file system that fails or stalls as
// CHARNN_FAULT and CHARNN_HOLD_WRITE_MS say (see faulty-fs.ts), for tests that spawn charnn and
// need a write to fail or to hang at a known moment. The shipped bin/charnn.js reads neither.

import { main } from "../../src/cli/main.js";
import { processIO } from "../../src/cli/io.js";
import { checkpointFsFromEnv } from "./faulty-fs.js";

// Object.assign keeps processIO's lazy stdin getter (spreading would open fd 0 now).
const io = Object.assign(processIO(), { checkpointFs: checkpointFsFromEnv(process.env) });
process.exitCode = await main(process.argv.slice(2), io);
