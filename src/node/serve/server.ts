// The local server behind `charnn serve`: node:http only. It serves the page, the checkpoints of
// one folder (a list, and each file after checking it decodes) and the folder's event log from a
// byte offset, so the page can follow a run by polling. Guards: only that folder (names, not
// paths: no "..", no encoded separators, symlinks that leave it are not followed), only the Host
// it serves (a DNS-rebinding guard), GET and HEAD only, and every bad request a 4xx with a
// message. Not here: flags, signals or printing (src/cli/serve.ts), the page (src/page/).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isIP } from "node:net";
import { open, readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { parseCheckpoint } from "../../core/api/checkpoint-text.js";
import { CharnnError } from "../../core/errors.js";
import { EVENTS_FILE, ROTATED_EVENTS_FILE } from "../events-log.js";

export interface ServeOptions {
  /** The run folder (must exist). */
  folder: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The page's HTML. */
  page: string;
  /** Bytes of event log one answer carries at most; the page asks again for the rest. */
  maxEventBytes?: number;
}

export interface RunningServer {
  /** http://HOST:PORT/ */
  url: string;
  port: number;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const notFound = () => new HttpError(404, "not found");

/** Checkpoint and log names this server hands out: one plain file name, no hidden files. */
const SERVED_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*\.json$/;

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const root = await realpath(options.folder);
  const maxEventBytes = options.maxEventBytes ?? 2 * 1024 * 1024;
  let allowedHosts = new Set<string>();

  const server: Server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof Error ? error.message : String(error);
      send(response, status, "text/plain; charset=utf-8", `${message}\n`);
    });
  });

  // A request node cannot parse never reaches the handler: answer it here and close.
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const body = `malformed request: ${error.code ?? error.message}\n`;
    socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (!allowedHosts.has((request.headers.host ?? "").toLowerCase())) {
      throw new HttpError(403, `this server answers to ${[...allowedHosts][0]} only (Host: ${request.headers.host ?? "none"})`);
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.setHeader("Allow", "GET, HEAD");
      throw new HttpError(405, `${request.method} is not served; only GET and HEAD`);
    }
    const raw = request.url ?? "";
    if (!raw.startsWith("/")) throw new HttpError(400, "the request target must be a path");
    const [rawPath, rawQuery = ""] = raw.split("?", 2) as [string, string?];
    const segments = rawPath.split("/").slice(1).map((segment) => {
      let decoded: string;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        throw new HttpError(400, "the path is not valid percent-encoding");
      }
      // A name, never a path: separators, dot segments and NUL (typed or encoded) lead nowhere.
      if (decoded === "." || decoded === ".." || /[/\\\0]/.test(decoded)) throw notFound();
      return decoded;
    });
    const query = new URLSearchParams(rawQuery);
    const route = segments.join("/");

    if (route === "" || route === "index.html") return send(response, 200, "text/html; charset=utf-8", options.page, request.method === "HEAD");
    if (route === "api/checkpoints") return sendJson(response, await listCheckpoints());
    if (segments.length === 3 && segments[0] === "api" && segments[1] === "checkpoints") return sendCheckpoint(response, segments[2]!, request.method === "HEAD");
    if (route === "api/events") return sendJson(response, await readEvents(query));
    throw notFound();
  }

  /** The absolute path of `name` in the folder, or null when it is missing, not a file, or a link that leaves the folder. */
  async function inFolder(name: string): Promise<string | null> {
    let resolved: string;
    try {
      resolved = await realpath(path.join(root, name));
    } catch {
      return null;
    }
    if (path.dirname(resolved) !== root && !resolved.startsWith(root + path.sep)) return null;
    const info = await stat(resolved).catch(() => null);
    return info?.isFile() ? resolved : null;
  }

  async function listCheckpoints(): Promise<{ name: string; size: number; modified: string }[]> {
    const entries = await readdir(root, { withFileTypes: true });
    const listed: { name: string; size: number; modified: string }[] = [];
    for (const entry of entries) {
      if (!SERVED_NAME.test(entry.name) || !(entry.isFile() || entry.isSymbolicLink())) continue;
      const file = await inFolder(entry.name);
      if (file === null) continue;
      const info = await stat(file);
      listed.push({ name: entry.name, size: info.size, modified: info.mtime.toISOString() });
    }
    const rank = (name: string) => (name === "latest.json" ? 0 : name === "best.json" ? 1 : 2);
    const number = (name: string) => Number(/(\d+)/.exec(name)?.[1] ?? -1);
    return listed.sort((a, b) => rank(a.name) - rank(b.name) || number(b.name) - number(a.name) || (a.name < b.name ? -1 : 1));
  }

  async function sendCheckpoint(response: ServerResponse, name: string, headOnly: boolean): Promise<void> {
    const file = SERVED_NAME.test(name) ? await inFolder(name) : null;
    if (file === null) throw notFound();
    const handle = await open(file, "r");
    let bytes: Buffer;
    try {
      bytes = await handle.readFile();
    } finally {
      await handle.close();
    }
    try {
      // Checked here so a damaged file is a message, not a page that fails on its own.
      parseCheckpoint(bytes, name);
    } catch (error) {
      if (error instanceof CharnnError) throw new HttpError(422, error.message);
      throw error;
    }
    send(response, 200, "application/json; charset=utf-8", bytes, headOnly);
  }

  /** File identity, so a reader can tell the log was rotated under it. */
  const identity = (info: { dev: number; ino: number }) => `${info.dev}-${info.ino}`;

  async function readEvents(query: URLSearchParams): Promise<{ file: string; offset: number; events: unknown[]; more: boolean; reset: boolean }> {
    const offsetText = query.get("offset");
    const offset = offsetText === null ? 0 : Number(offsetText);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new HttpError(400, `offset must be a whole number of bytes, found ${JSON.stringify(offsetText)}`);
    const wanted = query.get("file");
    const current = await inFolder(EVENTS_FILE);
    const rotated = await inFolder(ROTATED_EVENTS_FILE);
    if (current === null) return { file: "", offset: 0, events: [], more: false, reset: wanted !== null && wanted !== "" };
    const currentInfo = await stat(current);
    const rotatedInfo = rotated === null ? null : await stat(rotated);

    const chunks: { file: string; from: number }[] = [];
    let reset = false;
    if (wanted === null || wanted === "") {
      if (rotated !== null) chunks.push({ file: rotated, from: 0 });
      chunks.push({ file: current, from: 0 });
    } else if (wanted === identity(currentInfo)) {
      chunks.push({ file: current, from: offset });
    } else if (rotatedInfo !== null && wanted === identity(rotatedInfo)) {
      // Rotated since the last answer: the rest of the old file, then the new one.
      chunks.push({ file: rotated!, from: offset }, { file: current, from: 0 });
    } else {
      reset = true;
      chunks.push({ file: current, from: 0 });
    }

    const events: unknown[] = [];
    let budget = maxEventBytes;
    for (const [index, chunk] of chunks.entries()) {
      const isLast = index === chunks.length - 1;
      const { lines, end, complete } = await completeLines(chunk.file, chunk.from, budget);
      for (const line of lines) {
        try {
          events.push(JSON.parse(line));
        } catch {
          // A line cut by a crash mid-write: skipped, the rest of the log still reads.
        }
      }
      budget = Math.max(0, budget - (end - chunk.from));
      const info = chunk.file === current ? currentInfo : rotatedInfo!;
      if (!complete || isLast) return { file: identity(info), offset: end, events, more: !complete, reset };
    }
    return { file: identity(currentInfo), offset: 0, events, more: false, reset };
  }

  async function completeLines(file: string, from: number, budget: number): Promise<{ lines: string[]; end: number; complete: boolean }> {
    const handle = await open(file, "r");
    try {
      const size = (await handle.stat()).size;
      if (from >= size) return { lines: [], end: Math.min(from, size), complete: true };
      // At least one whole line however small the budget, so a reader always moves on.
      let length = Math.min(size - from, Math.max(1, budget));
      let buffer = Buffer.alloc(0);
      let lastNewline = -1;
      for (;;) {
        buffer = Buffer.alloc(length);
        await handle.read(buffer, 0, length, from);
        // Only whole lines: a line being written now is read on the next request.
        lastNewline = buffer.lastIndexOf(0x0a);
        if (lastNewline >= 0 || length === size - from) break;
        length = Math.min(size - from, length * 2);
      }
      if (lastNewline < 0) return { lines: [], end: from, complete: length === size - from };
      const text = buffer.subarray(0, lastNewline + 1).toString("utf8");
      return { lines: text.split("\n").filter((line) => line.trim() !== ""), end: from + lastNewline + 1, complete: length === size - from };
    } finally {
      await handle.close();
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = isIP(options.host) === 6 ? `[${options.host}]` : options.host;
  allowedHosts = hostsFor(options.host, port);
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The Host headers this server answers: the address it serves, and for the loopback address its
 * name localhost. A page from another site that points its own name at 127.0.0.1 (DNS rebinding)
 * sends its own name and is refused.
 */
export function hostsFor(host: string, port: number): Set<string> {
  const shown = isIP(host) === 6 ? `[${host}]` : host;
  const hosts = new Set([`${shown}:${port}`.toLowerCase()]);
  if (host === "127.0.0.1" || host === "::1" || host === "localhost") {
    for (const name of ["127.0.0.1", "localhost", "[::1]"]) hosts.add(`${name}:${port}`);
  }
  return hosts;
}

function send(response: ServerResponse, status: number, type: string, body: string | Uint8Array, headOnly = false): void {
  if (response.headersSent) return void response.destroy();
  response.writeHead(status, {
    "Content-Type": type,
    "Content-Length": typeof body === "string" ? Buffer.byteLength(body) : body.byteLength,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    // Cross-origin isolated (the page loads nothing from elsewhere): every browser then gives it
    // the shared WebAssembly memory the kernels import, not only those that do so anyway.
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
  });
  response.end(headOnly ? undefined : body);
}

function sendJson(response: ServerResponse, value: unknown): void {
  send(response, 200, "application/json; charset=utf-8", JSON.stringify(value));
}
