// The streams, environment and signals a command may use, bundled so that main(argv, io) can run
// in-process in tests over in-memory streams; and writeOut, the stdout writer that respects
// back-pressure and treats a reader that went away (EPIPE, as in `charnn sample | head`) as done.
// Not a logger and not a formatter: what gets written is decided by the commands and the reporter.

import type { AtomicFs } from "../node/store/atomic.js";

export type SignalName = "SIGINT" | "SIGTERM" | "SIGHUP";

/** Where SIGINT/SIGTERM/SIGHUP come from: `process` in real runs, an EventEmitter in tests. */
export interface SignalSource {
  on(signal: SignalName, listener: () => void): unknown;
  off(signal: SignalName, listener: () => void): unknown;
}

export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  stderrIsTTY: boolean;
  stdoutIsTTY: boolean;
  /** Optional so tests that do not care about signals need not provide one. */
  signals?: SignalSource;
  /** The file operations checkpoint saves use; tests pass one that fails or stalls. Default: the real ones. */
  checkpointFs?: AtomicFs;
}

/** The real process. stdin is read lazily: touching process.stdin opens a handle on fd 0. */
export function processIO(): CliIO {
  watchForClosedPipe(process.stdout);
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    get stdin() {
      return process.stdin;
    },
    env: process.env,
    cwd: process.cwd(),
    stderrIsTTY: process.stderr.isTTY === true,
    stdoutIsTTY: process.stdout.isTTY === true,
    signals: process,
  };
}

/**
 * Thrown by writeOut when stdout's reader has gone away. It is not a failure: the reader took
 * what it wanted (`| head`), so main maps it to exit 0 and prints nothing.
 */
export class OutputClosed extends Error {
  constructor() {
    super("stdout was closed by its reader");
    this.name = "OutputClosed";
  }
}

function isClosedPipeError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "EPIPE" || code === "ERR_STREAM_DESTROYED" || code === "ERR_STREAM_WRITE_AFTER_END";
}

interface StreamState {
  closed: boolean;
  /** A real write failure (disk full, EIO), kept to be thrown by the next writeOut. */
  failure: unknown;
}

const streamStates = new WeakMap<NodeJS.WritableStream, StreamState>();

/**
 * Listens once per stream for errors. Without a listener an EPIPE 'error' event would crash the
 * process as an uncaught exception, even after main has returned.
 */
export function watchForClosedPipe(stream: NodeJS.WritableStream): StreamState {
  let state = streamStates.get(stream);
  if (state) return state;
  const newState: StreamState = { closed: false, failure: undefined };
  stream.on("error", (error: unknown) => {
    if (isClosedPipeError(error)) newState.closed = true;
    else newState.failure = error;
  });
  streamStates.set(stream, newState);
  return newState;
}

/** True once stdout's reader has gone away; a reporter can stop writing to it. */
export function isOutputClosed(stream: NodeJS.WritableStream): boolean {
  return isDestroyed(stream) || watchForClosedPipe(stream).closed;
}

function isDestroyed(stream: NodeJS.WritableStream): boolean {
  return (stream as { destroyed?: boolean }).destroyed === true;
}

function throwIfBroken(stream: NodeJS.WritableStream, state: StreamState): void {
  if (state.failure !== undefined) {
    const failure = state.failure;
    state.failure = undefined;
    throw failure;
  }
  if (state.closed || isDestroyed(stream)) throw new OutputClosed();
}

/** Resolves on 'drain', or when the stream errors or closes (the caller then rechecks its state). */
function settled(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("error", done);
      stream.off("close", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("error", done);
    stream.on("close", done);
  });
}

/**
 * Writes text to io.stdout, waiting for 'drain' when the stream's buffer is full so a long sample
 * does not pile up in memory. Throws OutputClosed once the reader has gone away.
 */
export async function writeOut(io: CliIO, text: string): Promise<void> {
  const stream = io.stdout;
  const state = watchForClosedPipe(stream);
  throwIfBroken(stream, state);
  const accepted = stream.write(text);
  if (!accepted) {
    // write() also returns false when the write failed; the 'error' event then follows on a
    // later tick. A stream destroyed already will never drain, so only let that event land.
    if (isDestroyed(stream)) await new Promise((resolve) => setImmediate(resolve));
    else await settled(stream);
    throwIfBroken(stream, state);
  }
}
