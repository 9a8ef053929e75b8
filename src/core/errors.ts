// The one error class every command throws, and the exit codes the README documents.
// Only src/cli/main.ts turns a CharnnError into a message and an exit code; nothing else
// prints errors or calls process.exit.

/** Exit codes, the same for every command (README, "Exit codes"). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  badInput: 3,
  diverged: 4,
  locked: 5,
  /** A checkpoint could not be written (disk full, permission): the previous one is intact. */
  writeFailed: 6,
  sighup: 129,
  sigint: 130,
  sigterm: 143,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** The stable code of each exit code's failures when a more precise one is not given. */
const GENERIC_CODES: Record<ExitCodeValue, string> = {
  0: "ok",
  1: "failure",
  2: "usage",
  3: "bad-input",
  4: "diverged",
  5: "locked",
  6: "write-failed",
  129: "sighup",
  130: "sigint",
  143: "sigterm",
};

/** What a failure is, for callers that branch on it: a stable code and the values involved. */
export interface ErrorDetails {
  /** Stable across minor releases, e.g. "setting.out-of-range" or "checkpoint.damaged". */
  code?: string;
  /** The facts behind the message: which setting, which value, which limit, which file. */
  facts?: Record<string, unknown>;
}

/**
 * A failure the user can act on: a one-line message, the exit code the CLI maps it to, an
 * optional hint (one line, printed after the message), a stable `code` and the `facts`.
 */
export class CharnnError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;
  readonly code: string;
  readonly facts: Readonly<Record<string, unknown>>;

  constructor(message: string, exitCode: ExitCodeValue, hint?: string, details: ErrorDetails = {}) {
    super(message);
    this.name = "CharnnError";
    this.exitCode = exitCode;
    this.hint = hint;
    this.code = details.code ?? GENERIC_CODES[exitCode];
    this.facts = Object.freeze({ ...details.facts });
  }
}

export const usageError = (message: string, hint?: string, details?: ErrorDetails): CharnnError =>
  new CharnnError(message, ExitCode.usage, hint, details);

export const badInput = (message: string, hint?: string, details?: ErrorDetails): CharnnError =>
  new CharnnError(message, ExitCode.badInput, hint, details);
