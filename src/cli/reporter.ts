// Renders the training loop's events (it emits them and prints nothing) in one of three ways:
// NDJSON on stdout for --json, a progress bar on a terminal, or plain log lines for cron, CI and
// pipes. Only presentation lives here; deciding when to evaluate, checkpoint or stop does not.

import cliProgress from "cli-progress";
import type { ChalkInstance } from "chalk";
import { createColor } from "./color.js";
import { isOutputClosed, type CliIO } from "./io.js";
import type { EndReason, TrainEvent } from "../core/train/events.js";
import { flagName } from "../core/config.js";
import { formatCount, formatDecimal, formatDuration } from "../core/util/format.js";
import { natsToBits } from "../core/util/units.js";

export type { EndReason, TrainEvent } from "../core/train/events.js";

export interface Reporter {
  event(e: TrainEvent): void;
  close(): void;
}

export interface ReporterOptions {
  json: boolean;
  logEvery: number;
  /** Nothing on stderr (errors are main's); --json still writes its events to stdout. */
  quiet?: boolean;
  /** The full resolved config at the start too (--json's start event always has it). */
  verbose?: boolean;
  /** The clock for the NDJSON `time` field; tests pass a fixed one. */
  now?: () => Date;
}

export function createReporter(io: CliIO, options: ReporterOptions): Reporter {
  if (options.json) return new JsonReporter(io, options.now ?? (() => new Date()));
  if (options.quiet === true) return { event: () => {}, close: () => {} };
  if (io.stderrIsTTY) return new TerminalReporter(io, options.verbose === true);
  return new PlainReporter(io, options.logEvery, options.verbose === true);
}

// ---------------------------------------------------------------------------------------------
// formatting shared by the terminal and plain renderers
// ---------------------------------------------------------------------------------------------

// Durations come from src/core/util/format.ts, as every face prints them; re-exported for callers of the reporter.
export { formatDuration };

function formatLoss(loss: number | null): string {
  return loss === null ? "n/a" : formatDecimal(loss, 4);
}

function lossWithBits(label: string, loss: number | null): string {
  if (loss === null) return `${label} n/a`;
  return `${label} ${formatLoss(loss)} (${formatDecimal(natsToBits(loss), 3)} bits/char)`;
}

const END_REASONS: Record<EndReason, string> = {
  steps: "reached the step limit",
  epochs: "reached the epoch limit",
  time: "reached the time budget",
  patience: "validation loss stopped improving",
  interrupted: "interrupted",
  diverged: "the loss diverged",
};

type StartEvent = Extract<TrainEvent, { type: "start" }>;
type StepEvent = Extract<TrainEvent, { type: "step" }>;
type EndEvent = Extract<TrainEvent, { type: "end" }>;

function describeStart(e: StartEvent): string {
  const c = e.config;
  const model = [`${c.model} ${c.layers}x${c.hidden}`];
  if (c.embed > 0) model.push(`embed ${c.embed}`);
  if (c.dropout > 0) model.push(`dropout ${c.dropout}`);
  const parts = [
    model.join(" "),
    `${formatCount(e.parameterCount)} parameters`,
    `vocabulary ${e.vocabularySize}`,
    `${formatCount(e.trainChars)} train chars`,
    `${formatCount(e.validationChars)} validation chars`,
  ];
  if (e.totalSteps !== null) parts.push(`${formatCount(e.totalSteps)} steps`);
  if (e.resumedFromStep !== null) parts.push(`resuming from step ${formatCount(e.resumedFromStep)}`);
  return parts.join(", ");
}

/** Two lines: what the time-budget chooser picked and why, and the flags that pick it again. */
export function describeRetime(e: Extract<TrainEvent, { type: "retime" }>): string {
  return `re-timed at step ${formatCount(e.step)}: ${formatCount(Math.round(e.charsPerSecond))} chars/s, so the schedule now ends at step ${formatCount(e.totalSteps)}`;
}

export function describeChoice(choice: NonNullable<StartEvent["choice"]>): string {
  const settings = choice.settings as unknown as Record<string, unknown>;
  const flags = choice.chosen.map((key) => `${flagName(key)} ${String(settings[key])}`).join(" ");
  return `chosen for the time budget: ${choice.reason}\n  to train these settings again, pass: ${flags}`;
}

function describeEnd(e: EndEvent): { headline: string; losses: string } {
  return {
    headline: `finished at step ${formatCount(e.step)}: ${END_REASONS[e.reason]} after ${formatDuration(e.elapsedMs)}`,
    losses: [
      lossWithBits("last step loss", e.trainLoss),
      lossWithBits("val loss", e.validationLoss),
      lossWithBits("best val loss", e.bestValidationLoss),
    ].join(", "),
  };
}

function describeEval(e: Extract<TrainEvent, { type: "eval" }>): string {
  return `eval step ${formatCount(e.step)} ${lossWithBits("val loss", e.validationLoss)}${e.isBest ? " new best" : ""}`;
}

// ---------------------------------------------------------------------------------------------
// --json: one object per event on stdout
// ---------------------------------------------------------------------------------------------

class JsonReporter implements Reporter {
  constructor(
    private readonly io: CliIO,
    private readonly now: () => Date,
  ) {}

  event(e: TrainEvent): void {
    // Training goes on when the reader of stdout has gone away: the checkpoints still matter.
    if (isOutputClosed(this.io.stdout)) return;
    // NaN and Infinity losses (a diverged run) become null, which JSON can represent.
    const { type, ...fields } = e;
    this.io.stdout.write(JSON.stringify({ type, time: this.now().toISOString(), ...fields }) + "\n");
  }

  close(): void {}
}

// ---------------------------------------------------------------------------------------------
// not a terminal: plain lines, no control codes, no colour
// ---------------------------------------------------------------------------------------------

class PlainReporter implements Reporter {
  constructor(
    private readonly io: CliIO,
    private readonly logEvery: number,
    private readonly verbose: boolean,
  ) {}

  private line(text: string): void {
    this.io.stderr.write(text + "\n");
  }

  event(e: TrainEvent): void {
    switch (e.type) {
      case "start":
        this.line(`start: ${describeStart(e)}`);
        if (e.choice) this.line(describeChoice(e.choice));
        // With --verbose the whole resolved config heads the log (the checkpoint always has it).
        if (this.verbose) this.line(`config: ${JSON.stringify(e.config)}`);
        return;
      case "step":
        if (e.step % this.logEvery === 0) this.line(plainStepLine(e));
        return;
      case "eval":
        this.line(describeEval(e));
        return;
      case "checkpoint":
        this.line(`checkpoint step ${formatCount(e.step)} ${e.path}`);
        return;
      case "sample":
        // JSON-quoted so a multi-line sample stays one log line.
        this.line(`sample step ${formatCount(e.step)}: ${JSON.stringify(e.text)}`);
        return;
      case "warning":
        this.line(`warning: ${e.message}`);
        return;
      case "retime":
        this.line(describeRetime(e));
        return;
      case "end": {
        const { headline, losses } = describeEnd(e);
        this.line(`${headline}; ${losses}`);
        return;
      }
    }
  }

  close(): void {}
}

/** `step 120 epoch 1 step loss 1.8342 lr 2.0e-3 1,234 chars/s` (and the ETA when it is known). */
export function plainStepLine(e: StepEvent): string {
  const eta = e.etaMs === null ? "" : ` eta ${formatDuration(e.etaMs)}`;
  return (
    `step ${formatCount(e.step)} epoch ${formatCount(e.epoch)} step loss ${formatLoss(e.loss)} lr ${e.lr.toExponential(1)} ` +
    `${formatCount(e.charsPerSecond)} chars/s${eta}`
  );
}

// ---------------------------------------------------------------------------------------------
// a terminal: a progress bar, with events printed above it
// ---------------------------------------------------------------------------------------------

/** The bar's widest and narrowest drawing; below the narrowest it is left out. */
const BAR_WIDTH = { max: 20, min: 6 };

export interface BarState {
  step: number;
  /** The step limit of the run (null: none). */
  totalSteps: number | null;
  /** This invocation's time budget, ms (null: none). */
  timeMs: number | null;
  /** The step this invocation started from, and the time it has run, ms (null before a step). */
  firstStep: number;
  elapsedMs: number | null;
  epoch: number | null;
  /** The loss of the last step reported. */
  loss: number | null;
  validationLoss: number | null;
  charsPerSecond: number | null;
  etaMs: number | null;
}

/**
 * How far the run is toward whichever limit ends it first: the step limit, when at the rate so
 * far the run reaches it within the time budget, else the time budget. `fraction` is null
 * when there is no limit to measure against (epochs only, before the first step).
 */
export function barProgress(state: BarState): { fraction: number | null; position: string } {
  const { step, totalSteps, timeMs, elapsedMs, firstStep } = state;
  const hasSteps = totalSteps !== null && totalSteps > 0;
  const stepsDone = step - firstStep;
  const stepsEndMs = hasSteps && elapsedMs !== null && stepsDone > 0 ? elapsedMs + ((totalSteps - step) * elapsedMs) / stepsDone : null;
  if (timeMs !== null && timeMs > 0 && (!hasSteps || stepsEndMs === null || timeMs < stepsEndMs)) {
    // Before the first step nothing says which limit comes first; the steps, when given, are shown.
    if (hasSteps && stepsEndMs === null) return { fraction: step / totalSteps, position: `step ${formatCount(step)}/${formatCount(totalSteps)}` };
    const elapsed = elapsedMs ?? 0;
    return { fraction: elapsed / timeMs, position: `step ${formatCount(step)}, ${formatDuration(elapsed)} of ${formatDuration(timeMs)}` };
  }
  if (hasSteps) return { fraction: step / totalSteps, position: `step ${formatCount(step)}/${formatCount(totalSteps)}` };
  return { fraction: null, position: `step ${formatCount(step)}` };
}

/**
 * The bar's one line, plain text that fits in `maxWidth` columns (colour codes would be cut).
 * The position and the ETA always stay; the bar narrows, then the other numbers drop out, the
 * least useful first, rather than the end of the line being cut off.
 */
export function barLine(state: BarState, maxWidth: number): string {
  // One column short of the width: writing the last column makes some terminals wrap.
  const room = Math.max(0, maxWidth - 1);
  const { fraction, position } = barProgress(state);
  const eta = `ETA ${state.etaMs === null ? "-" : formatDuration(state.etaMs)}`;
  // In the order shown; `keep` ranks what stays when there is no room (lower stays longer).
  const optional: Array<{ text: string; keep: number }> = [];
  if (state.epoch !== null) optional.push({ text: `epoch ${state.epoch}`, keep: 3 });
  optional.push({ text: `step loss ${state.loss === null ? "-" : formatLoss(state.loss)}`, keep: 0 });
  if (state.validationLoss !== null) optional.push({ text: `val ${formatLoss(state.validationLoss)}`, keep: 1 });
  if (state.charsPerSecond !== null) optional.push({ text: `${formatCount(state.charsPerSecond)} chars/s`, keep: 2 });

  const drawn = (width: number): string => {
    if (fraction === null || width === 0) return "";
    const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
    return "█".repeat(filled) + "░".repeat(width - filled) + " ";
  };
  const compose = (barWidth: number, shown: ReadonlySet<number>): string =>
    [drawn(barWidth) + position, ...optional.filter((_, index) => shown.has(index)).map((part) => part.text), eta].join(" | ");

  const byKeep = optional.map((part, index) => ({ ...part, index })).sort((a, b) => b.keep - a.keep);
  // First with a bar as wide as fits, dropping numbers; only then without the bar.
  for (const widths of [[BAR_WIDTH.max, BAR_WIDTH.min], [0, 0]] as const) {
    const shown = new Set(optional.map((_, index) => index));
    for (const dropped of [null, ...byKeep]) {
      if (dropped !== null) shown.delete(dropped.index);
      for (let width = widths[0]; width >= widths[1]; width--) {
        const line = compose(width, shown);
        if (line.length <= room) return line;
      }
    }
  }
  // Narrower than the position and the ETA: cut, as the terminal would.
  return compose(0, new Set()).slice(0, room);
}

class TerminalReporter implements Reporter {
  private readonly color: ChalkInstance;
  private readonly bar: cliProgress.SingleBar;
  private barActive = false;
  private readonly state: BarState = {
    step: 0,
    totalSteps: null,
    timeMs: null,
    firstStep: 0,
    elapsedMs: null,
    epoch: null,
    loss: null,
    validationLoss: null,
    charsPerSecond: null,
    etaMs: null,
  };

  constructor(
    private readonly io: CliIO,
    private readonly verbose = false,
  ) {
    this.color = createColor(io.env, true);
    // cli-progress decides "terminal or not" from stream.isTTY; io.stderrIsTTY has already
    // decided, so it gets a stream that says so (tests render a terminal into memory this way).
    const stderr = io.stderr;
    const terminal = {
      isTTY: true,
      get columns() {
        return (stderr as { columns?: number }).columns ?? 80;
      },
      write: (chunk: string, callback?: (error?: Error | null) => void) => stderr.write(chunk, callback),
    };
    this.bar = new cliProgress.SingleBar({
      stream: terminal as unknown as NodeJS.WritableStream,
      format: (_options, params) => barLine(this.state, params.maxWidth),
      fps: 10,
      // The training loop handles SIGINT itself and ends with an "end" event; the bar must not.
      gracefulExit: false,
      hideCursor: false,
      // true = cut to width; false would switch terminal wrapping off and leave it off on a crash.
      linewrap: true,
      // Stopping clears the line, so the bar can step aside for a message and start again.
      clearOnComplete: true,
    });
  }

  private startBar(): void {
    if (this.barActive) return;
    this.bar.start(this.state.totalSteps ?? 0, this.state.step);
    this.barActive = true;
  }

  private stopBar(): void {
    if (!this.barActive) return;
    this.bar.stop();
    this.barActive = false;
  }

  /** Prints lines above the bar: the bar clears itself, the text goes out, the bar comes back. */
  private print(text: string): void {
    const wasActive = this.barActive;
    this.stopBar();
    this.io.stderr.write(text + "\n");
    if (wasActive) this.startBar();
  }

  event(e: TrainEvent): void {
    const c = this.color;
    switch (e.type) {
      case "start":
        this.state.totalSteps = e.totalSteps;
        this.state.timeMs = e.config.time;
        this.state.step = this.state.firstStep = e.resumedFromStep ?? 0;
        this.print(c.bold("charnn train: ") + describeStart(e));
        if (e.choice) this.print(describeChoice(e.choice));
        if (this.verbose) this.print(c.dim(`config: ${JSON.stringify(e.config)}`));
        this.startBar();
        return;
      case "step":
        Object.assign(this.state, {
          step: e.step,
          epoch: e.epoch,
          loss: e.loss,
          charsPerSecond: e.charsPerSecond,
          elapsedMs: e.elapsedMs,
          etaMs: e.etaMs,
        });
        if (this.barActive) this.bar.update(e.step);
        return;
      case "eval":
        this.state.validationLoss = e.validationLoss;
        this.print(e.isBest ? c.green(describeEval(e)) : describeEval(e));
        return;
      case "checkpoint":
        this.print(c.dim(`checkpoint step ${formatCount(e.step)} ${e.path}`));
        return;
      case "sample":
        this.print(c.dim(`--- sample at step ${formatCount(e.step)} ---`) + "\n" + e.text);
        return;
      case "warning":
        this.print(c.yellow(`warning: ${e.message}`));
        return;
      case "retime":
        this.state.totalSteps = e.totalSteps;
        if (this.barActive) this.bar.setTotal(e.totalSteps);
        this.print(describeRetime(e));
        return;
      case "end": {
        this.stopBar();
        const { headline, losses } = describeEnd(e);
        const healthy = e.reason !== "diverged" && e.reason !== "interrupted";
        this.io.stderr.write((healthy ? c.bold(headline) : c.yellow(headline)) + "\n" + losses + "\n");
        return;
      }
    }
  }

  close(): void {
    this.stopBar();
  }
}
