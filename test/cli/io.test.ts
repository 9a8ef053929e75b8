// Tests for src/cli/io.ts: writeOut's back-pressure, its quiet handling of a closed pipe, and
// processIO's view of the real process.

import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { OutputClosed, isOutputClosed, processIO, writeOut } from "../../src/cli/io.js";
import { closedPipe, createTestIO } from "./helpers.js";

describe("writeOut", () => {
  it("writes the text to stdout", async () => {
    const { io, stdout, stderr } = createTestIO();
    await writeOut(io, "hello ");
    await writeOut(io, "world\n");
    expect(stdout()).toBe("hello world\n");
    expect(stderr()).toBe("");
  });

  it("waits for 'drain' when the stream's buffer is full", async () => {
    const written: string[] = [];
    let release: (() => void) | undefined;
    // A slow reader: each chunk is acknowledged only when the test says so.
    const slow = new Writable({
      highWaterMark: 4,
      decodeStrings: false,
      write(chunk: string, _encoding, callback) {
        written.push(chunk);
        release = callback;
      },
    });
    const { io } = createTestIO();
    io.stdout = slow;

    let resolved = false;
    const pending = writeOut(io, "0123456789").then(() => {
      resolved = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(written).toEqual(["0123456789"]);
    expect(resolved).toBe(false); // still waiting for the reader

    release?.();
    await pending;
    expect(resolved).toBe(true);
  });

  it("throws OutputClosed when the reader has gone away (EPIPE), and keeps doing so", async () => {
    const { io } = createTestIO();
    io.stdout = closedPipe();
    await expect(writeOut(io, "first")).rejects.toBeInstanceOf(OutputClosed);
    expect(isOutputClosed(io.stdout)).toBe(true);
    await expect(writeOut(io, "second")).rejects.toBeInstanceOf(OutputClosed);
  });

  it("reports a real write failure as itself, not as a closed pipe", async () => {
    const { io } = createTestIO();
    io.stdout = new Writable({
      write(_chunk, _encoding, callback) {
        callback(Object.assign(new Error("no space left on device"), { code: "ENOSPC" }));
      },
    });
    await expect(writeOut(io, "x")).rejects.toThrow("no space left on device");
  });

  it("an open stream is not closed", () => {
    const { io } = createTestIO();
    expect(isOutputClosed(io.stdout)).toBe(false);
  });
});

describe("processIO", () => {
  it("describes the real process", () => {
    const io = processIO();
    expect(io.stdout).toBe(process.stdout);
    expect(io.stderr).toBe(process.stderr);
    expect(io.stdin).toBe(process.stdin);
    expect(io.env).toBe(process.env);
    expect(io.cwd).toBe(process.cwd());
    expect(io.stderrIsTTY).toBe(process.stderr.isTTY === true);
    expect(io.signals).toBe(process);
  });
});
