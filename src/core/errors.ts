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
  sigint: 130,
  sigterm: 143,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * A failure the user can act on: a one-line message, the exit code it maps to, and an
 * optional hint (one line, printed after the message).
 */
export class CharnnError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;

  constructor(message: string, exitCode: ExitCodeValue, hint?: string) {
    super(message);
    this.name = "CharnnError";
    this.exitCode = exitCode;
    this.hint = hint;
  }
}

export const usageError = (message: string, hint?: string): CharnnError =>
  new CharnnError(message, ExitCode.usage, hint);

export const badInput = (message: string, hint?: string): CharnnError =>
  new CharnnError(message, ExitCode.badInput, hint);
