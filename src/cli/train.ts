// `charnn train`: wiring only. The settings come resolved from main.ts; the run (where it
// starts, what holds, the checks, the training) is the engine's (src/core/train/run.ts), reached
// through the Node layer (src/node/train.ts). Here: the reporter, signals, the dry-run printout,
// and how the run ended as an exit code.

import type { TrainConfig } from "../core/settings.js";
import { flagName } from "../core/settings.js";
import { CharnnError, ExitCode, usageError } from "../core/errors.js";
import { trainEvent } from "../core/train/events.js";
import type { RunEnd } from "../core/train/run.js";
import { nodeAtomicFs } from "../node/store.js";
import { trainFiles } from "../node/train.js";
import { commandLine } from "./checkpoint-arg.js";
import { corpusNotes } from "./corpus-notes.js";
import { formatDryRun } from "./dry-run.js";
import type { CliIO, SignalName } from "./io.js";
import { watchForClosedPipe, writeOut } from "./io.js";
import { createReporter } from "./reporter.js";

/** The signals that stop a run after its current step, with a checkpoint (README, "Exit codes"). */
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
const signalExitCode = (name: SignalName): number =>
  name === "SIGTERM" ? ExitCode.sigterm : name === "SIGHUP" ? ExitCode.sighup : ExitCode.sigint;

export async function runTrain(requested: TrainConfig, inputs: string[], io: CliIO, given: ReadonlySet<string> = new Set()): Promise<number> {
  // Progress on stderr is a courtesy: when its reader goes away (`2>&1 | head`), the EPIPE must
  // not end the run before its checkpoints are written, so stderr gets an error listener too.
  watchForClosedPipe(io.stderr);
  if (requested.quiet && requested.verbose) throw usageError("--quiet and --verbose cannot be used together", "leave out one of them");
  const reporter = createReporter(io, { json: requested.json, logEvery: requested.logEvery, quiet: requested.quiet, verbose: requested.verbose });

  let received: SignalName | null = null;
  const onSignal = (name: SignalName) => () => {
    if (received !== null) {
      // The second signal: stop now. Checkpoints are only ever replaced by rename, so none is damaged.
      if (io.signals === process) process.exit(signalExitCode(name));
      return;
    }
    received = name;
    if (name === "SIGHUP") {
      // The terminal is gone: what is still written to it may fail, and must not stop the save.
      io.stderr.on("error", () => {});
      if (io.stdoutIsTTY) io.stdout.on("error", () => {});
    }
    reporter.event(trainEvent({ type: "warning", message: `${name}: finishing this step and saving a checkpoint (send it again to stop at once)` }));
  };
  const handlers = { SIGINT: onSignal("SIGINT"), SIGTERM: onSignal("SIGTERM"), SIGHUP: onSignal("SIGHUP") };

  try {
    const result = await trainFiles(requested, given, inputs, {
      cwd: io.cwd,
      stdin: io.stdin,
      command: process.argv.slice(2),
      emit: (event) => {
        // Signals are caught once the run holds the folder's lock and starts (the start event):
        // before that nothing is worth saving, and an interrupt ends the process as usual.
        if (event.type === "start") {
          for (const name of SIGNALS) io.signals?.on(name, handlers[name]);
        }
        reporter.event(event);
      },
      interrupted: () => received !== null,
      fsImpl: io.checkpointFs ?? nodeAtomicFs,
      nameOf: flagName,
      corpusNotes,
    });
    if (result.kind === "dry-run") {
      await writeOut(io, formatDryRun(result.estimate, requested.json));
      return ExitCode.ok;
    }
    reporter.close();
    if (result.end.reason === "interrupted" && !requested.quiet) {
      // After the end event, on stderr whatever the reporter: a person is reading it.
      io.stderr.write(`to continue this run: ${commandLine(["train", ...inputs, "--out", requested.out, "--resume"])}\n`);
    }
    return exitCodeOf(result.end, received);
  } finally {
    reporter.close();
    for (const name of SIGNALS) io.signals?.off(name, handlers[name]);
  }
}

function exitCodeOf(end: RunEnd, received: SignalName | null): number {
  if (end.reason === "diverged") {
    throw new CharnnError(
      `training diverged at step ${end.step}: the loss became ${Number.isFinite(end.lastLoss) ? "too large" : "non-finite"}; the last checkpoint is untouched`,
      ExitCode.diverged,
      `lower --lr (now ${end.config.lr}) or clip harder with --clip (now ${end.config.clip}), then --resume`,
      { code: "run.diverged", facts: { step: end.step, loss: end.lastLoss } },
    );
  }
  if (end.reason === "interrupted") return signalExitCode(received ?? "SIGINT");
  return ExitCode.ok;
}
