// The command-line options of every command, derived from the settings table
// (src/core/settings.ts): each key's flag spelling, argument parser, choices, default and the
// range shown in --help come from its descriptor, so help and behaviour cannot drift. What is
// the CLI's own (the --config file, the help prose) is added here.
// Only syntax is checked here ("2.5" is not a whole number); ranges and combinations are
// checked once, in the engine, for flags and --config files alike.

import { Option, type Command } from "commander";
import { SETTINGS, flagName, parseDuration, parseStepsOrDuration, type CheckpointCadence, type Rule, type Setting, type SettingsTable } from "../core/settings.js";
import { COUNT } from "../core/settings-rules.js";
import { usageError } from "../core/errors.js";
import { addHelpNotes } from "./help.js";

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

function cadenceArgument(flag: string): (text: string) => CheckpointCadence {
  return (text) => {
    try {
      return parseStepsOrDuration(text);
    } catch {
      throw usageError(`${flag} must be a step count (1000) or a duration (5m) (got "${text}")`);
    }
  };
}

/** One of a fixed set of words. Help lists the choices; the message matches the other flags'. */
export function choiceArgument(flag: string, choices: readonly string[]): (text: string) => string {
  return (text) => {
    if (!choices.includes(text)) throw usageError(`${flag} must be one of ${choices.join(", ")} (got "${text}")`);
    return text;
  };
}

/** `{steps}` in a descriptor's help names another setting: here, by its flag. */
function helpText(help: string): string {
  return help.replace(/\{([A-Za-z]+)\}/g, (_, key: string) => flagName(key));
}

/** The range a rule allows, as --help shows it: "(1-16)", "(> 0)", "(0 <= p < 1)"; "" for none. */
export function rangeHelp(rule: Rule, valueName = "x"): string {
  if (rule.kind === "integer") return rule.max === COUNT ? "" : ` (${rule.min}-${rule.max})`;
  if (rule.kind !== "number") return "";
  const { min, max } = rule;
  const lower = min && `${min.value} ${min.inclusive ? "<=" : "<"} `;
  const upper = max && ` ${max.inclusive ? "<=" : "<"} ${max.value}`;
  if (lower && upper) return ` (${lower}${valueName}${upper})`;
  if (min) return ` (${min.inclusive ? ">=" : ">"} ${min.value})`;
  if (max) return ` (${max.inclusive ? "<=" : "<"} ${max.value})`;
  return "";
}

function argumentParser(rule: Rule, flag: string): ((text: string) => unknown) | null {
  switch (rule.kind) {
    case "integer":
      return integerArgument(flag);
    case "number":
      return numberArgument(flag);
    case "choice":
      return choiceArgument(flag, rule.values);
    case "duration":
      return durationArgument(flag);
    case "cadence":
      return cadenceArgument(flag);
    case "text":
    case "boolean":
      return null;
  }
}

function defaultHelp(value: unknown, described: Setting): string | undefined {
  if (described.defaultText !== undefined) return described.defaultText;
  if (value === null) return "none";
  if (described.rule.kind === "cadence") {
    const cadence = value as CheckpointCadence;
    return "steps" in cadence ? String(cadence.steps) : `${cadence.ms}ms`;
  }
  return undefined;
}

/** The commander options of one setting: the flag, and for a switch its negation when it has one. */
export function optionsOf(key: string, described: Setting): Option[] {
  const long = flagName(key);
  const short = described.short === undefined ? "" : `-${described.short}, `;
  const negated = `--no-${long.slice(2)}`;
  const { rule } = described;

  if (rule.kind === "boolean") {
    // A switch that is on by default is only offered as its negation ("--no-echo").
    if (described.default === true) return [new Option(negated, helpText(described.negation ?? `not ${described.help}`))];
    // No commander default: help would show "(default: false)" for every switch, which says
    // nothing; an absent switch takes the table's default when the options are resolved.
    const options = [new Option(`${short}${long}`, helpText(described.help))];
    if (described.negation !== undefined) options.push(new Option(negated, helpText(described.negation)));
    return options;
  }

  const option = new Option(`${short}${long} <${described.valueName ?? "value"}>`, helpText(described.help) + rangeHelp(rule, described.valueName));
  // .choices() lists them in help; the parser set after it replaces commander's own check.
  if (rule.kind === "choice") option.choices(rule.values);
  const parse = argumentParser(rule, long);
  if (parse !== null) option.argParser(parse);
  return [option.default(described.default, defaultHelp(described.default, described))];
}

interface DeclareOptions {
  /** Keys the command takes another way (a positional argument). */
  skip?: readonly string[];
  /** The CLI's own options, declared at the start of the named section. */
  extras?: Record<string, Option[]>;
}

/** Declares every setting of a table on `command`, section by section, in table order. */
export function addSettingOptions(command: Command, table: SettingsTable, { skip = [], extras = {} }: DeclareOptions = {}): void {
  let section: string | undefined;
  for (const [key, described] of Object.entries(table)) {
    if (skip.includes(key)) continue;
    if (described.section !== undefined && described.section !== section) {
      section = described.section;
      command.optionsGroup(`${section}:`);
      for (const extra of extras[section] ?? []) command.addOption(extra);
    }
    for (const option of optionsOf(key, described)) command.addOption(option);
    for (const alias of described.aliases ?? []) addAlias(command, key, alias, described);
  }
}

/**
 * Another spelling of a setting's flag, hidden from help: its value is parsed by the setting's
 * own parser (so messages name the alias the user typed) and stored under the setting's key.
 */
function addAlias(command: Command, key: string, alias: string, described: Setting): void {
  const [option] = optionsOf(alias, { ...described, short: undefined, negation: undefined });
  const hidden = new Option(option!.flags, option!.description).hideHelp();
  const parse = argumentParser(described.rule, flagName(alias));
  command.addOption(hidden);
  command.on(`option:${hidden.name()}`, (text: string | undefined) => {
    const value = described.rule.kind === "boolean" ? described.default !== true : parse === null ? text : parse(text ?? "");
    command.setOptionValueWithSource(key, value, "cli");
  });
}

/** `charnn train` options; attribute names equal the TrainConfig keys. */
export function addTrainOptions(command: Command): void {
  const config = new Option("--config <file>", "JSON file of settings; flags override it");
  addSettingOptions(command, SETTINGS.train, { extras: { "Run control": [config] } });
  addHelpNotes(command, TIME_BUDGET_HELP);
}

/** How --time, --steps and --epochs share the say over a run's length and schedule. */
export const TIME_BUDGET_HELP = `
Time budgets: with --steps or --epochs the schedule follows them and --time only cuts the
invocation off. With only --time, a new run whose model is not given (no --model, --layers,
--hidden, --embed) times a few shapes on this machine (inside the budget), then chooses the
model, dropout, learning rate and a cosine schedule over the steps that fit; it prints the
choice and the flags that repeat it. Whatever you give is kept, and --seed and the validation
split are never chosen. --resume keeps the recorded choice and step count (an interrupted
budget run continues exactly); --time then only cuts off, and --steps N stretches the schedule.`;

/** `charnn sample` options; attribute names equal the SampleOptions keys. */
export function addSampleOptions(command: Command): void {
  addSettingOptions(command, SETTINGS.sample);
  addHelpNotes(
    command,
    `
Without a prime the model starts from the start state its checkpoint recorded from the training
text (the state typical text leaves just before a line break), then reads a newline (or, if its
vocabulary has none, its first character), as at the start of a line; that is not printed.
Prime characters the model never saw are an error (exit 3); --unknown skip leaves them out, and
the echoed prime is the text the model was given. Sample i of --count uses seed S+i (mod 2^32).
Samples are separated by a blank line; --json prints one object per sample:
{"seed","prime","text","logProbability","length","stopped"}, where logProbability is the
sample's natural log-probability under the distribution it was drawn from (0 for --temp 0).`,
  );
}

/** `charnn eval` options; attribute names equal the EvalOptions keys. */
export function addEvalOptions(command: Command): void {
  addSettingOptions(command, SETTINGS.eval);
  addHelpNotes(
    command,
    `
The hidden state runs through the whole text (all files, joined by newlines) in one exact pass
from the initial state; each character is predicted from all the ones before it, so N characters
give N-1 predictions. Prints nats/char, bits/char (nats / ln 2) and perplexity (e^nats).
Characters outside the model's vocabulary are dropped before scoring (neither fed nor
predicted); how many, and which, is reported on stderr and in --json.
--per-line scores each line on its own from the checkpoint's line state (a state recorded
from the training text for lines without context; for an older checkpoint, its start state or
the initial state), after a newline as context (so every character of the line is predicted),
and prints
"bits-per-char<TAB>line" in input order,
"-" for a line with nothing to score (sort them with the last example below).`,
  );
}

/** `charnn serve` options; attribute names equal the ServeSettings keys. The run folder is its argument. */
export function addServeOptions(command: Command): void {
  addSettingOptions(command, SETTINGS.serve);
}

/** `charnn info` options; attribute names equal the InfoOptions keys. The checkpoint is also its argument. */
export function addInfoOptions(command: Command): void {
  addSettingOptions(command, SETTINGS.info);
  addHelpNotes(
    command,
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
