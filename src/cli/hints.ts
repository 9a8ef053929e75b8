// The CLI's hint for an engine error: the engine says what failed with a stable `code` and the
// `facts` (which setting, which value), in words that name no flag; here those become a sentence
// that names the flags to change. An error with no entry keeps the engine's own hint.
// Not here: printing (main.ts's reportError) or the messages themselves.

import { flagName } from "../core/settings.js";
import type { CharnnError } from "../core/errors.js";

type HintRule = (facts: Readonly<Record<string, unknown>>, message: string) => string | undefined;

const HINTS: Record<string, HintRule> = {
  // The settings' own checks name the flag in the message already; an engine check that only
  // knows the key (a batch of 0 passed to the batcher) gets the flag as a hint.
  "setting.out-of-range": (facts, message) =>
    typeof facts.key === "string" && !message.includes(flagName(facts.key)) ? `check ${flagName(facts.key)}` : undefined,
  // The run's refusal names the values that fit (src/core/train/small-text.ts); the batcher's does not.
  "corpus.too-short": (facts) => ("largestBatch" in facts ? undefined : "lower --batch or --seq-len, or give more text"),
  "checkpoint.cursor-mismatch": () => "resume with the same corpus, --batch and --seq-len as the checkpoint",
  "memory.allocation-failed": (facts) => facts.backend === "wasm"
    ? "use a smaller --batch, --seq-len or --hidden, or --backend js"
    : "use a smaller --batch, --seq-len, --hidden or --layers",
  "backend.unsupported": (facts) => (facts.backend === "wasm" ? "use --backend js (or auto)" : undefined),
  "backend.not-built": (facts) => facts.part === "worker" ? "run `npm run build`, or use --threads 1" : "run `npm run build`, or use --backend js",
  "backend.threads-did-not-start": () => "use --threads 1",
  "prime.unknown-characters": () => "remove them from the prime, or pass --unknown skip to leave them out",
};

/** The hint the CLI prints under an error's message, if any. */
export function cliHint(error: CharnnError): string | undefined {
  return HINTS[error.code]?.(error.facts, error.message) ?? error.hint;
}
