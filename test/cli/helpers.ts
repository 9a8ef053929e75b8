// Test helper: a CliIO over in-memory streams that collects what a command writes, so main()
// and the reporter run in-process. Not a test file itself, and no fake of charnn's own logic.

import { EventEmitter } from "node:events";
import { Readable, Writable } from "node:stream";
import type { CliIO, SignalSource } from "../../src/cli/io.js";

export interface CapturedIO {
  io: CliIO;
  stdout(): string;
  stderr(): string;
  signals: EventEmitter;
}

export interface TestIOOptions {
  stdin?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  stderrIsTTY?: boolean;
  stdoutIsTTY?: boolean;
  /** Terminal width reported by stderr (the progress bar reads it). */
  columns?: number;
}

function collector(columns: number | undefined): { stream: Writable; text(): string } {
  const chunks: string[] = [];
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: unknown, _encoding, callback) {
      chunks.push(typeof chunk === "string" ? chunk : String(chunk));
      callback();
    },
  });
  if (columns !== undefined) (stream as unknown as { columns: number }).columns = columns;
  return { stream, text: () => chunks.join("") };
}

export function createTestIO(options: TestIOOptions = {}): CapturedIO {
  const stdout = collector(undefined);
  const stderr = collector(options.columns);
  const signals = new EventEmitter();
  const io: CliIO = {
    stdout: stdout.stream,
    stderr: stderr.stream,
    stdin: Readable.from(options.stdin === undefined ? [] : [options.stdin]),
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    stderrIsTTY: options.stderrIsTTY ?? false,
    stdoutIsTTY: options.stdoutIsTTY ?? false,
    signals: signals as unknown as SignalSource,
  };
  return { io, stdout: stdout.text, stderr: stderr.text, signals };
}

/** A stdout whose reader has gone away: every write fails with EPIPE, as after `| head` exits. */
export function closedPipe(): Writable {
  return new Writable({
    write(_chunk, _encoding, callback) {
      const error = Object.assign(new Error("write EPIPE"), { code: "EPIPE" });
      callback(error);
    },
  });
}
