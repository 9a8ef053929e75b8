// Placeholder for the `charnn info` command body; it will be replaced by the real checkpoint
// inspection command. Only the signature is settled here, so main.ts can dispatch to it.

import type { InfoOptions } from "../config.js";
import { CharnnError, ExitCode } from "../errors.js";
import type { CliIO } from "./io.js";

export async function runInfo(_options: InfoOptions, _io: CliIO): Promise<number> {
  throw new CharnnError("charnn info is not built yet", ExitCode.failure);
}
