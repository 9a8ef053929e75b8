// Placeholder for the `charnn eval` command body; it will be replaced by the real evaluation
// command. Only the signature is settled here, so main.ts can dispatch to it.

import type { EvalOptions } from "../config.js";
import { CharnnError, ExitCode } from "../errors.js";
import type { CliIO } from "./io.js";

export async function runEval(_options: EvalOptions, _inputs: string[], _io: CliIO): Promise<number> {
  throw new CharnnError("charnn eval is not built yet", ExitCode.failure);
}
