// The server of charnn serve, driven over real sockets: the page, the folder's checkpoints and
// event log, and its guards — ".." and percent-encoded traversal, a symlink out of the folder,
// a foreign Host header, malformed requests, a damaged checkpoint — each answered with a 4xx
// and a message while the server keeps serving.

import { appendFile, mkdtemp, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../../src/node/serve/server.js";
import { trainTiny } from "../../helpers/page.js";

let dir: string;
let folder: string;
let server: RunningServer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "charnn-serve-"));
  await trainTiny(dir, "run", ["--steps", "4"]);
  folder = path.join(dir, "run");
  const text = await readFile(path.join(folder, "latest.json"), "utf8");
  await writeFile(path.join(dir, "secret.json"), text);
  await symlink(path.join(dir, "secret.json"), path.join(folder, "outside.json"));
  await symlink("latest.json", path.join(folder, "inside.json"));
  // One character of the weights changed: the checksum no longer holds.
  const at = text.indexOf('"data":"') + 10;
  await writeFile(path.join(folder, "damaged.json"), text.slice(0, at) + (text[at] === "A" ? "B" : "A") + text.slice(at + 1));
  server = await startServer({ folder, host: "127.0.0.1", port: 0, page: "<!DOCTYPE html><title>the page</title>" });
});

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Sends `head` as written (no client normalises the path or sets Host) and returns the status and body. */
function raw(head: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, "127.0.0.1");
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk) => (data += chunk));
    socket.on("error", reject);
    socket.on("end", () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      resolve({ status, body: data.slice(data.indexOf("\r\n\r\n") + 4) });
    });
    socket.write(head);
  });
}

const get = (target: string, host = `127.0.0.1:${server.port}`) => raw(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);

describe("charnn serve's server", () => {
  it("serves the page, the checkpoint list and a checkpoint", async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    expect(await get("/")).toMatchObject({ status: 200, body: expect.stringContaining("the page") });
    const list = JSON.parse((await get("/api/checkpoints")).body) as { name: string }[];
    expect(list.map((entry) => entry.name)).toEqual(expect.arrayContaining(["latest.json", "inside.json", "damaged.json"]));
    expect(list[0]!.name).toBe("latest.json");
    const checkpoint = await get("/api/checkpoints/latest.json");
    expect(checkpoint.status).toBe(200);
    expect(JSON.parse(checkpoint.body)).toMatchObject({ format: "charnn-checkpoint", step: 4 });
    expect((await get("/api/checkpoints/inside.json")).status).toBe(200);
  });

  it("answers 404 for paths that leave the folder, typed or percent-encoded", async () => {
    for (const target of [
      "/api/checkpoints/../../secret.json",
      "/api/checkpoints/..%2F..%2Fsecret.json",
      "/api/checkpoints/%2e%2e%2f%2e%2e%2fsecret.json",
      "/api/checkpoints/%2E%2E/secret.json",
      "/api/checkpoints/%252e%252e%252fsecret.json",
      "/api/checkpoints/..%5csecret.json",
      "/api/checkpoints/latest.json%00.json",
      "/%2e%2e/secret.json",
      "/../secret.json",
      "/api/checkpoints/.lock",
    ]) {
      const answer = await get(target);
      expect([target, answer.status]).toEqual([target, 404]);
      expect(answer.body).not.toContain("charnn-checkpoint");
    }
  });

  it("does not follow a symlink out of the folder, and does not list it", async () => {
    expect(await get("/api/checkpoints/outside.json")).toMatchObject({ status: 404, body: "not found\n" });
    const list = JSON.parse((await get("/api/checkpoints")).body) as { name: string }[];
    expect(list.map((entry) => entry.name)).not.toContain("outside.json");
  });

  it("refuses a Host header that is not the address it serves (DNS rebinding)", async () => {
    for (const host of [`evil.example:${server.port}`, "127.0.0.1:1", `127.0.0.1.evil.example:${server.port}`]) {
      const answer = await get("/api/checkpoints/latest.json", host);
      expect(answer.status).toBe(403);
      expect(answer.body).toMatch(/answers to 127\.0\.0\.1:\d+ only/);
    }
    expect((await raw("GET / HTTP/1.0\r\n\r\n")).status).toBe(403);
    expect((await get("/", `localhost:${server.port}`)).status).toBe(200);
  });

  it("answers malformed requests with a 4xx and a message, and keeps serving", async () => {
    expect(await raw("NONSENSE\r\n\r\n")).toMatchObject({ status: 400, body: expect.stringContaining("malformed request") });
    expect(await get("/api/checkpoints/%E0%A4%A.json")).toMatchObject({ status: 400, body: expect.stringContaining("percent-encoding") });
    expect((await raw(`POST / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`)).status).toBe(405);
    expect(await get("/api/events?offset=-3")).toMatchObject({ status: 400, body: expect.stringContaining("offset") });
    expect((await get("*")).status).toBe(400);
    expect((await get("/")).status).toBe(200);
  });

  it("answers a damaged checkpoint with 422 and the loader's message, and keeps serving", async () => {
    const answer = await get("/api/checkpoints/damaged.json");
    expect(answer.status).toBe(422);
    expect(answer.body).toMatch(/damaged\.json: .*checksum/);
    expect((await get("/api/checkpoints/latest.json")).status).toBe(200);
  });

  it("hands out the event log from an offset, across a rotation", async () => {
    const first = JSON.parse((await get("/api/events")).body) as { file: string; offset: number; events: { type: string }[] };
    expect(first.events[0]!.type).toBe("start");
    expect(first.events.at(-1)!.type).toBe("end");
    const again = JSON.parse((await get(`/api/events?file=${first.file}&offset=${first.offset}`)).body) as { events: unknown[]; offset: number };
    expect(again).toMatchObject({ events: [], offset: first.offset });

    // A half-written line waits; once whole, it comes with the lines after the rotation.
    const events = path.join(folder, "events.ndjson");
    await appendFile(events, '{"schema":1,"type":"warning","message":"one"}\n{"schema":1,"type":"warn');
    const partial = JSON.parse((await get(`/api/events?file=${first.file}&offset=${first.offset}`)).body) as { events: { message: string }[]; offset: number };
    expect(partial.events.map((event) => event.message)).toEqual(["one"]);
    await appendFile(events, 'ing","message":"two"}\n');
    await rename(events, path.join(folder, "events.1.ndjson"));
    await writeFile(events, '{"schema":1,"type":"warning","message":"three"}\n');
    const after = JSON.parse((await get(`/api/events?file=${first.file}&offset=${partial.offset}`)).body) as { events: { message: string }[]; reset: boolean };
    expect(after.events.map((event) => event.message)).toEqual(["two", "three"]);
    expect(after.reset).toBe(false);
  });

  it("hands out a long log in pieces of whole lines that add up to the file", async () => {
    const small = await startServer({ folder, host: "127.0.0.1", port: 0, page: "", maxEventBytes: 300 });
    try {
      // The earlier test rotated the log: the rotated file, then the current one.
      const log = (await readFile(path.join(folder, "events.1.ndjson"), "utf8")) + (await readFile(path.join(folder, "events.ndjson"), "utf8"));
      const expected = log.split("\n").filter(Boolean).map((line) => JSON.parse(line));
      const pieces: unknown[][] = [];
      let cursor = "";
      for (let i = 0; i < 200; i++) {
        const answer = (await (await fetch(`${small.url}api/events${cursor}`)).json()) as { file: string; offset: number; events: unknown[]; more: boolean };
        pieces.push(answer.events);
        cursor = `?file=${answer.file}&offset=${answer.offset}`;
        if (!answer.more) break;
      }
      expect(pieces.length).toBeGreaterThan(3);
      expect(pieces.flat()).toEqual(expected);
    } finally {
      await small.close();
    }
  });
});
