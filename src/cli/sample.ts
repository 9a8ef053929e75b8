// Placeholder for the `charnn sample` command body; it will be replaced by the real sampling
// command. Only the signature is settled here, so main.ts can dispatch to it.

import type { SampleOptions } from "../config.js";
import { CharnnError, ExitCode } from "../errors.js";
import type { CliIO } from "./io.js";

export async function runSample(_options: SampleOptions, _io: CliIO): Promise<number> {
  throw new CharnnError("charnn sample is not built yet", ExitCode.failure);
}
