// `charnn serve [DIR] [--port N] [--host H]`: a local page for a run folder. Prints the page's URL
// as the first line of stdout, then serves until SIGINT or SIGTERM, which stop it cleanly (exit 0).
// Wiring only: the flags are the settings table's `serve` (src/core/settings.ts), the server is
// src/node/serve/server.ts, the page src/page/.

import { stat } from "node:fs/promises";
import path from "node:path";
import { CharnnError, ExitCode, badInput } from "../core/errors.js";
import { SERVE_SETTING_DEFAULTS, type ServeSettings } from "../core/settings.js";
import { readPageHtml } from "../node/page-html.js";
import { startServer } from "../node/serve/server.js";
import { writeOut, type CliIO } from "./io.js";

/** The run folder (the argument; default checkpoints) and the settings of the table's `serve` (port 0 picks a free one). */
export interface ServeOptions extends ServeSettings {
  dir: string;
}

export const SERVE_DEFAULTS = { dir: "checkpoints", ...SERVE_SETTING_DEFAULTS } as const;

export async function runServe(options: ServeOptions, io: CliIO): Promise<number> {
  const port = options.port;
  const folder = path.resolve(io.cwd, options.dir);
  const info = await stat(folder).catch(() => null);
  if (info === null || !info.isDirectory()) {
    throw badInput(`${options.dir} is not a folder`, `name a run folder (charnn train --out DIR), e.g. charnn serve ${SERVE_DEFAULTS.dir}`, { code: "serve.no-folder", facts: { dir: options.dir } });
  }
  const page = readPageHtml();
  let server;
  try {
    server = await startServer({ folder, host: options.host, port, page });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "EADDRINUSE" ? `port ${port} is in use` : code === "EADDRNOTAVAIL" || code === "ENOTFOUND" ? `${options.host} is not an address of this machine` : (error as Error).message;
    throw new CharnnError(`cannot serve on ${options.host}:${port}: ${reason}`, ExitCode.failure, code === "EADDRINUSE" ? "pick another --port (0 picks a free one)" : undefined, { code: "serve.listen-failed", facts: { host: options.host, port } });
  }
  await writeOut(io, `${server.url}\n`);
  io.stderr.write(`serving ${options.dir} (Ctrl-C stops)\n`);
  if (options.host !== "127.0.0.1" && options.host !== "localhost" && options.host !== "::1") {
    io.stderr.write(`note: ${options.host} is reachable from other machines; the page and checkpoints are not password-protected\n`);
  }

  await new Promise<void>((resolve) => {
    const stop = () => {
      io.signals?.off("SIGINT", stop);
      io.signals?.off("SIGTERM", stop);
      resolve();
    };
    io.signals?.on("SIGINT", stop);
    io.signals?.on("SIGTERM", stop);
  });
  await server.close();
  return ExitCode.ok;
}
