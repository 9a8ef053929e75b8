// The command-line options of every command, declared on commander Commands, with strict
// number parsing and each default taken from src/core/config.ts so help and behaviour cannot drift.
// Only syntax is checked here ("2.5" is not a whole number); ranges and combinations are
// checked once, in config.ts, for flags and --config files alike.

import { Option, type Command } from "commander";
import {
  SAMPLE_DEFAULTS,
  TRAIN_DEFAULTS,
  parseDuration,
  parseStepsOrDuration,
  type TrainConfig,
} from "../core/config.js";
import { usageError } from "../core/errors.js";
import { addCheckpointOptions } from "./checkpoint-arg.js";

// Decimal notation only: Number() would also accept "", " ", "0x10", "Infinity" and "1_000".
const NUMBER_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** An argument parser that accepts a finite decimal number and names the flag otherwise. */
export function numberArgument(flag: string): (text: string) => number {
  return (text) => {
    if (!NUMBER_TEXT.test(text)) throw usageError(`${flag} must be a number (got "${text}")`);
    const value = Number(text);
    if (!Number.isFinite(value)) throw usageError(`${flag} must be a finite number (got ${text})`);
    return value;
  };
}

/** As numberArgument, for values that count things: "2.5" layers is an error, "1e3" steps is fine. */
export function integerArgument(flag: string): (text: string) => number {
  const asNumber = numberArgument(flag);
  return (text) => {
    const value = asNumber(text);
    if (!Number.isInteger(value)) throw usageError(`${flag} must be a whole number (got ${text})`);
    return value;
  };
}

function durationArgument(flag: string): (text: string) => number {
  return (text) => {
    try {
      return parseDuration(text);
    } catch {
      throw usageError(`${flag} must be a duration such as 90s, 10m or 1h30m (got "${text}")`);
    }
  };
}

function cadenceArgument(flag: string): (text: string) => TrainConfig["checkpointEvery"] {
  return (text) => {
    try {
      return parseStepsOrDuration(text);
    } catch {
      throw usageError(`${flag} must be a step count (1000) or a duration (5m) (got "${text}")`);
    }
  };
}

/** `--layers <n>` → "--layers": the long flag, for messages. */
function longFlag(flags: string): string {
  const match = /--[a-z0-9-]+/.exec(flags);
  return match ? match[0] : flags;
}

function integerOption(flags: string, description: string, defaultValue?: number): Option {
  const option = new Option(flags, description).argParser(integerArgument(longFlag(flags)));
  return defaultValue === undefined ? option : option.default(defaultValue);
}

function numberOption(flags: string, description: string, defaultValue: number): Option {
  return new Option(flags, description).argParser(numberArgument(longFlag(flags))).default(defaultValue);
}

/** One of a fixed set of words. Help lists the choices; the message matches the other flags'. */
export function choiceArgument(flag: string, choices: readonly string[]): (text: string) => string {
  return (text) => {
    if (!choices.includes(text)) throw usageError(`${flag} must be one of ${choices.join(", ")} (got "${text}")`);
    return text;
  };
}

function choiceOption(flags: string, description: string, choices: readonly string[], defaultValue: string): Option {
  // .choices() lists them in help; the parser set after it replaces commander's own check.
  return new Option(flags, description)
    .choices(choices)
    .argParser(choiceArgument(longFlag(flags), choices))
    .default(defaultValue);
}

function switchOption(flags: string, description: string): Option {
  return new Option(flags, description).default(false);
}

function textOption(flags: string, description: string, defaultValue: string | null): Option {
  const option = new Option(flags, description);
  return defaultValue === null ? option.default(null, "none") : option.default(defaultValue);
}

/** `charnn train` options; attribute names equal the TrainConfig keys. */
export function addTrainOptions(command: Command): void {
  const d = TRAIN_DEFAULTS;
  const checkpointEvery = "steps" in d.checkpointEvery ? String(d.checkpointEvery.steps) : `${d.checkpointEvery.ms}ms`;

  command.optionsGroup("Model:");
  command.addOption(choiceOption("--model <type>", "recurrent cell", ["rnn", "lstm", "gru"], d.model));
  command.addOption(choiceOption("--activation <fn>", "non-linearity of the rnn cell (rnn only)", ["tanh", "relu"], d.activation));
  command.addOption(integerOption("--layers <n>", "stacked recurrent layers (1-16)", d.layers));
  command.addOption(integerOption("--hidden <n>", "hidden units per layer (1-8192)", d.hidden));
  command.addOption(integerOption("--embed <n>", "embedding size; 0 = one-hot input", d.embed));
  command.addOption(numberOption("--dropout <p>", "dropout between layers (0 <= p < 1)", d.dropout));
  command.addOption(switchOption("--learn-init", "learn the initial hidden state"));
  command.addOption(new Option("--no-learn-init", "start from a zero hidden state (overrides --config)"));

  command.optionsGroup("Training:");
  command.addOption(integerOption("--seq-len <n>", "characters per backprop window", d.seqLen));
  command.addOption(integerOption("--batch <n>", "parallel streams through the corpus", d.batch));
  command.addOption(choiceOption("--optimizer <name>", "optimizer", ["adam", "sgd", "rmsprop", "adagrad"], d.optimizer));
  command.addOption(numberOption("--lr <rate>", "learning rate (> 0)", d.lr));
  command.addOption(numberOption("--momentum <m>", "momentum for sgd (0 <= m < 1)", d.momentum));
  command.addOption(choiceOption("--lr-schedule <name>", "learning-rate schedule", ["constant", "step", "cosine"], d.lrSchedule));
  command.addOption(numberOption("--lr-decay <factor>", "step schedule: multiply the rate by this (0 < d <= 1)", d.lrDecay));
  command.addOption(integerOption("--lr-decay-every <steps>", "step schedule: steps between decays", d.lrDecayEvery));
  command.addOption(integerOption("--warmup <steps>", "cosine schedule: steps of linear warm-up", d.warmup));
  command.addOption(numberOption("--clip <value>", "gradient clipping threshold; 0 = off", d.clip));
  command.addOption(choiceOption("--clip-mode <mode>", "clip the gradient's norm or each value", ["norm", "value"], d.clipMode));
  command.addOption(numberOption("--weight-decay <value>", "weight decay (>= 0)", d.weightDecay));
  command.addOption(integerOption("--seed <n>", "random seed (0 to 2^32-1)", d.seed));

  command.optionsGroup("Data:");
  command.addOption(numberOption("--val-frac <f>", "fraction held out for validation (0 <= f < 1)", d.valFrac));
  command.addOption(textOption("--val-file <file>", "validation text from this file instead", d.valFile));

  command.optionsGroup("Stopping (0 = no limit):");
  command.addOption(integerOption("--epochs <n>", "passes over the corpus (off when only --steps or --time is given)", d.epochs));
  command.addOption(integerOption("--steps <n>", "optimizer steps", d.steps));
  command.addOption(
    new Option("--time <duration>", "wall-clock budget, e.g. 90s, 10m, 1h30m")
      .argParser(durationArgument("--time"))
      .default(d.time, "none"),
  );
  command.addOption(integerOption("--patience <evals>", "stop after this many evaluations without a new best", d.patience));

  command.optionsGroup("Cadence:");
  command.addOption(integerOption("--eval-every <steps>", "steps between validations; 0 = only at the end", d.evalEvery));
  command.addOption(
    new Option("--checkpoint-every <steps|duration>", "checkpoint every N steps, or every 5m, 1h, ...")
      .argParser(cadenceArgument("--checkpoint-every"))
      .default(d.checkpointEvery, checkpointEvery),
  );
  command.addOption(integerOption("--sample-every <steps>", "steps between preview samples; 0 = off", d.sampleEvery));
  command.addOption(integerOption("--sample-length <n>", "characters per preview sample", d.sampleLength));
  command.addOption(integerOption("--log-every <steps>", "steps between log lines when stderr is not a terminal", d.logEvery));

  command.optionsGroup("Output:");
  command.addOption(textOption("--out <dir>", "checkpoint folder", d.out));
  command.addOption(integerOption("--keep <n>", "numbered checkpoints kept besides latest and best", d.keep));
  command.addOption(switchOption("--json", "NDJSON events on stdout instead of progress on stderr"));

  command.optionsGroup("Run control:");
  command.addOption(new Option("--config <file>", "JSON file of settings; flags override it"));
  command.addOption(switchOption("--resume", "continue the run in --out where it stopped"));
  command.addOption(textOption("--init-from <checkpoint>", "start a new run from this checkpoint's weights", d.initFrom));
  command.addOption(switchOption("--dry-run", "check the data and settings, build the model, train nothing"));
  command.addOption(choiceOption("--backend <name>", "compute backend", ["auto", "js", "wasm"], d.backend));
  command.addOption(integerOption("--threads <n>", "worker threads; 0 = available cores", d.threads));
}

/** `charnn sample` options; attribute names equal the SampleOptions keys. */
export function addSampleOptions(command: Command): void {
  const d = SAMPLE_DEFAULTS;
  addCheckpointOptions(command);
  command.addOption(integerOption("-n, --length <n>", "characters to generate", d.length));
  command.addOption(textOption("--stop <text>", "end a sample early where this text appears", d.stop));
  command.addOption(numberOption("--temp <t>", "temperature; 0 = greedy", d.temp));
  command.addOption(integerOption("--top-k <k>", "keep only the k most likely characters; 0 = off", d.topK));
  command.addOption(numberOption("--top-p <p>", "keep the smallest set with probability p; 1 = off", d.topP));
  command.addOption(
    new Option("--seed <n>", "random seed (0 to 2^32-1)")
      .argParser(integerArgument("--seed"))
      .default(d.seed, "random, printed to stderr"),
  );
  command.addOption(textOption("--prime <text>", "text to start from", d.prime));
  command.addOption(textOption("--prime-file <file>", "read the prime text from a file; - = stdin", d.primeFile));
  command.addOption(new Option("--no-echo", "do not print the prime text before the sample"));
  command.addOption(choiceOption("--unknown <policy>", "prime characters outside the vocabulary", ["error", "skip"], d.unknown));
  command.addOption(integerOption("--count <n>", "independent samples", d.count));
  command.addOption(switchOption("--json", "one JSON object per sample on stdout"));
  command.addHelpText(
    "after",
    `
Without a prime the model is warmed up on a newline (or, if its vocabulary has none, on its
first character), as at the start of a line; that character is not printed.
Prime characters the model never saw are an error (exit 3); --unknown skip leaves them out, and
the echoed prime is the text the model was given. Sample i of --count uses seed S+i (mod 2^32).
Samples are separated by a blank line; --json prints one object per sample:
{"seed","prime","text","logProbability","length","stopped"}, where logProbability is the
sample's natural log-probability under the distribution it was drawn from (0 for --temp 0).`,
  );
}

/** `charnn eval` options; attribute names equal the EvalOptions keys. */
export function addEvalOptions(command: Command): void {
  addCheckpointOptions(command);
  command.addOption(switchOption("--json", "results as JSON on stdout"));
  command.addOption(switchOption("--per-line", "the loss of every line, not one total per file"));
  command.addHelpText(
    "after",
    `
The hidden state runs through the whole text (all files, joined by newlines) in one exact pass
from the initial state; each character is predicted from all the ones before it, so N characters
give N-1 predictions. Prints nats/char, bits/char (nats / ln 2) and perplexity (e^nats).
Characters outside the model's vocabulary are dropped before scoring (neither fed nor
predicted); how many, and which, is reported on stderr and in --json.
--per-line scores each line on its own from the initial state, after a newline as context (so
every character of the line is predicted), and prints "bits-per-char<TAB>line" in input order,
"-" for a line with nothing to score: charnn eval --per-line - < lines.txt | sort -rn | head`,
  );
}

/** `charnn info` options; attribute names equal the InfoOptions keys. */
export function addInfoOptions(command: Command): void {
  addCheckpointOptions(command);
  command.addOption(switchOption("--json", "the checkpoint's metadata as JSON on stdout"));
  command.addHelpText(
    "after",
    `
Shows the model, its vocabulary, training progress, the best validation loss and the loss
curves; --json gives the same as data (without the weights).`,
  );
}

/**
 * The options the user actually typed, restricted to `keys`. Commander also reports defaults;
 * those must not override a --config file, so only values whose source is "cli" are kept.
 */
export function typedOptions<T extends object>(command: Command, keys: readonly (keyof T & string)[]): Partial<T> {
  const values = command.opts() as Record<string, unknown>;
  const typed: Partial<T> = {};
  for (const key of keys) {
    if (command.getOptionValueSource(key) === "cli") {
      (typed as Record<string, unknown>)[key] = values[key];
    }
  }
  return typed;
}
