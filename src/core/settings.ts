// Every setting of every command, described once: its rule, default, help text and what a resumed
// run may do with it. The TypeScript types, the defaults, the checks (for flags, --config files
// and saved checkpoints alike), the resume rules and the run/invocation split are derived from
// this table, and the CLI derives its flags and --help from it. No flag syntax here: a key is
// spelled as a flag only by the CLI. Pure: no file system, no process, no commander.

import { CharnnError, ExitCode, badInput, usageError } from "./errors.js";
import {
  atLeast,
  atMost,
  below,
  boolean,
  cadence,
  checkValue,
  choice,
  closestKey,
  durationOrNone,
  flagName,
  integer,
  integerOrNull,
  moreThan,
  number,
  shown,
  text,
  textOrNull,
  type NameOf,
  type RuleOf,
  type Source,
} from "./settings-rules.js";
import { isPlainObject } from "./util/objects.js";

export { closestKey, flagName, parseDuration, parseStepsOrDuration, type CheckpointCadence, type NameOf, type Rule } from "./settings-rules.js";

export type CommandName = "train" | "sample" | "eval" | "info" | "serve";

/**
 * What `train --resume` may do with a setting, and whether the run keeps it:
 * - "fixed": the model's shape, the data layout, the random streams; a resumed run refuses a change.
 * - "trajectory": the arithmetic of later steps; may change, but the run is then no longer exact.
 * - "adjustable": when to stop, how often to evaluate or save, where to compute; may change freely.
 * - "invocation": belongs to one invocation (where to write, how to report); the run does not keep it.
 * The first three are the run's settings, saved in its checkpoints.
 */
export type ResumeRole = "fixed" | "trajectory" | "adjustable" | "invocation";

/** One setting. Optional fields are for the faces (help, completion); the rule is for everyone. */
export interface Setting<T = unknown, R extends ResumeRole = ResumeRole> {
  /** Every value is held to it, whether it comes from a flag, a config file or a checkpoint. */
  readonly rule: RuleOf<T>;
  readonly default: T;
  /**
   * One line of help. The range is added from the rule, so it is not written here; `{key}`
   * names another setting, and each face spells it its own way (the CLI as its flag).
   */
  readonly help: string;
  readonly resume: R;
  /** Fixed on resume, and taken from the checkpoint when a run starts from another's weights. */
  readonly modelShape?: true;
  /** The heading help lists it under. */
  readonly section?: string;
  /** What help calls the value: "n" in "layers <n>". Switches take none. */
  readonly valueName?: string;
  /** How help shows the default when the value itself does not read well. */
  readonly defaultText?: string;
  /** Help for the negated form; a switch whose default is true is only offered that way. */
  readonly negation?: string;
  /** A one-letter spelling. */
  readonly short?: string;
  /**
   * Other names for the same setting, hidden from help: the names char-rnn, torch-rnn and
   * nanoGPT users reach for ("rnnSize" is --rnn-size), where they mean the same thing here.
   */
  readonly aliases?: readonly string[];
}

type Fields<T, R extends ResumeRole> = Omit<Setting<T, R>, "rule" | "default"> & { readonly default: NoInfer<T> };

/** A setting whose value type is read off its rule; the default must be of that type. */
function setting<T, const R extends ResumeRole>(rule: RuleOf<T>, fields: Fields<T, R>): Setting<T, R> {
  return Object.freeze({ rule, ...fields });
}

export const DEFAULT_CHECKPOINT = "checkpoints/latest.json";

const MODEL = "Model";
const TRAINING = "Training";
const DATA = "Data";
const STOPPING = "Stopping (0 = no limit)";
const CADENCE = "Cadence";
const OUTPUT = "Output";
const RUN_CONTROL = "Run control";

const SEED_MAX = 2 ** 32 - 1;

// ---------------------------------------------------------------------------------------------
// the table
// ---------------------------------------------------------------------------------------------

// A checkpoint file, or a run folder meaning its latest.json (src/cli/checkpoint-arg.ts).
const checkpoint = setting(text, { default: DEFAULT_CHECKPOINT, help: "checkpoint file, or a run folder (its latest.json)", valueName: "file|dir", short: "c", resume: "invocation" });
const best = setting(boolean, { default: false, help: "the run's best.json (lowest validation loss) instead", resume: "invocation" });

export const SETTINGS = {
  train: {
    // --- model ---
    model: setting(choice("rnn", "lstm", "gru"), { default: "lstm", help: "recurrent cell", valueName: "type", section: MODEL, resume: "fixed", modelShape: true }),
    activation: setting(choice("tanh", "relu"), { default: "tanh", help: "non-linearity of the rnn cell (rnn only)", valueName: "fn", section: MODEL, resume: "fixed", modelShape: true }),
    layers: setting(integer(1, 16), { aliases: ["numLayers"], default: 2, help: "stacked recurrent layers", valueName: "n", section: MODEL, resume: "fixed", modelShape: true }),
    hidden: setting(integer(1, 8192), { aliases: ["rnnSize"], default: 128, help: "hidden units per layer", valueName: "n", section: MODEL, resume: "fixed", modelShape: true }),
    // 0 = one-hot input (a row lookup); else a learned embedding of this size.
    embed: setting(integer(0, 8192), { default: 0, help: "embedding size; 0 = one-hot input", valueName: "n", section: MODEL, resume: "fixed", modelShape: true }),
    dropout: setting(number(atLeast(0), below(1)), { default: 0, help: "dropout between layers", valueName: "p", section: MODEL, resume: "trajectory" }),
    learnInit: setting(boolean, {
      default: false,
      help: "learn the initial hidden state",
      negation: "start from a zero hidden state (overrides {config})",
      section: MODEL,
      resume: "fixed",
      modelShape: true,
    }),
    // --- training ---
    seqLen: setting(integer(1, 100_000), { aliases: ["seqLength"], default: 64, help: "characters per backprop window", valueName: "n", section: TRAINING, resume: "fixed" }),
    batch: setting(integer(1, 100_000), { aliases: ["batchSize"], default: 32, help: "parallel streams through the corpus", valueName: "n", section: TRAINING, resume: "fixed" }),
    optimizer: setting(choice("adam", "sgd", "rmsprop", "adagrad"), { default: "adam", help: "optimizer", valueName: "name", section: TRAINING, resume: "fixed" }),
    lr: setting(number(moreThan(0)), { aliases: ["learningRate"], default: 2e-3, help: "learning rate", valueName: "rate", section: TRAINING, resume: "trajectory" }),
    momentum: setting(number(atLeast(0), below(1)), { default: 0.9, help: "momentum for sgd", valueName: "m", section: TRAINING, resume: "trajectory" }),
    lrSchedule: setting(choice("constant", "step", "cosine"), { default: "constant", help: "learning-rate schedule", valueName: "name", section: TRAINING, resume: "trajectory" }),
    lrDecay: setting(number(moreThan(0), atMost(1)), { default: 0.5, help: "step schedule: multiply the rate by this", valueName: "factor", section: TRAINING, resume: "trajectory" }),
    lrDecayEvery: setting(integer(1), { default: 1000, help: "step schedule: steps between decays", valueName: "steps", section: TRAINING, resume: "trajectory" }),
    warmup: setting(integer(0), { default: 0, help: "cosine schedule: steps of linear warm-up", valueName: "steps", section: TRAINING, resume: "trajectory" }),
    clip: setting(number(atLeast(0)), { default: 5, help: "gradient clipping threshold; 0 = off", valueName: "value", section: TRAINING, resume: "trajectory" }),
    // "norm" scales the whole gradient, "value" clamps each element.
    clipMode: setting(choice("norm", "value"), { default: "norm", help: "clip the gradient's norm or each value", valueName: "mode", section: TRAINING, resume: "trajectory" }),
    // Decoupled (AdamW) for adam; L2 for the others.
    weightDecay: setting(number(atLeast(0)), { default: 0, help: "weight decay", valueName: "value", section: TRAINING, resume: "trajectory" }),
    // 0 is a valid seed.
    seed: setting(integer(0, SEED_MAX), { default: 1, help: "random seed", valueName: "n", section: TRAINING, resume: "fixed" }),
    // --- data ---
    valFrac: setting(number(atLeast(0), below(1)), { default: 0.05, help: "fraction held out for validation", valueName: "f", section: DATA, resume: "fixed" }),
    valFile: setting(textOrNull, { default: null, help: "validation text from this file instead", valueName: "file", defaultText: "none", section: DATA, resume: "fixed" }),
    // --- stopping: 0 / null = no limit; at least one of epochs, steps, time is set ---
    // Setting only steps or time (flag or file) turns the default epoch limit off, so
    // `--steps 5000` trains 5000 steps instead of stopping early at epoch 10.
    epochs: setting(integer(0), { aliases: ["maxEpochs"], default: 10, help: "passes over the corpus (off when only {steps} or {time} is given)", valueName: "n", section: STOPPING, resume: "adjustable" }),
    steps: setting(integer(0), { aliases: ["maxIters"], default: 0, help: "optimizer steps", valueName: "n", section: STOPPING, resume: "adjustable" }),
    // Milliseconds; "10m", "90s", "1h30m" on the command line and in a config file.
    time: setting(durationOrNone, { default: null, help: "wall-clock budget, e.g. 90s, 10m, 1h30m", valueName: "duration", defaultText: "none", section: STOPPING, resume: "adjustable" }),
    patience: setting(integer(0), { default: 0, help: "stop after this many evaluations without a new best", valueName: "evals", section: STOPPING, resume: "adjustable" }),
    // --- cadence ---
    evalEvery: setting(integer(0), { default: 200, help: "steps between validations; 0 = only at the end", valueName: "steps", section: CADENCE, resume: "adjustable" }),
    // "1000" = steps, "5m" = duration; 0 steps = only at the end.
    checkpointEvery: setting(cadence, {
      default: Object.freeze({ steps: 1000 }),
      help: "checkpoint every N steps, or every 5m, 1h, ...",
      valueName: "steps|duration",
      section: CADENCE,
      resume: "adjustable",
    }),
    sampleEvery: setting(integer(0), { default: 0, help: "steps between preview samples; 0 = off", valueName: "steps", section: CADENCE, resume: "adjustable" }),
    sampleLength: setting(integer(1), { default: 200, help: "characters per preview sample", valueName: "n", section: CADENCE, resume: "adjustable" }),
    logEvery: setting(integer(1), { default: 10, help: "steps between log lines when stderr is not a terminal", valueName: "steps", section: CADENCE, resume: "invocation" }),
    // --- output ---
    out: setting(text, { short: "o", default: "checkpoints", help: "checkpoint folder", valueName: "dir", section: OUTPUT, resume: "invocation" }),
    // Numbered checkpoints kept; latest and best are always kept.
    keep: setting(integer(0), { default: 3, help: "numbered checkpoints kept besides latest and best", valueName: "n", section: OUTPUT, resume: "invocation" }),
    json: setting(boolean, { default: false, help: "NDJSON events on stdout instead of progress on stderr", section: OUTPUT, resume: "invocation" }),
    quiet: setting(boolean, { default: false, help: "print nothing on stderr but errors (not even warnings or chosen settings)", short: "q", section: OUTPUT, resume: "invocation" }),
    verbose: setting(boolean, { default: false, help: "also print the full resolved config at the start", short: "v", section: OUTPUT, resume: "invocation" }),
    // --- run control ---
    resume: setting(boolean, { default: false, help: "continue the run in {out} where it stopped", section: RUN_CONTROL, resume: "invocation" }),
    initFrom: setting(textOrNull, { default: null, help: "start a new run from this checkpoint's weights", valueName: "checkpoint", defaultText: "none", section: RUN_CONTROL, resume: "invocation" }),
    dryRun: setting(boolean, { default: false, help: "check the data and settings, time a few steps of the model, save nothing", section: RUN_CONTROL, resume: "invocation" }),
    backend: setting(choice("auto", "js", "wasm", "wasm-relaxed"), { default: "auto", help: "compute backend", valueName: "name", section: RUN_CONTROL, resume: "adjustable" }),
    // 0 = available cores. Tiny models never start workers, and calls that keep finding the
    // workers late fall back to one thread (src/node/wasm/threads.ts).
    threads: setting(integer(0, 1024), { default: 0, help: "worker threads; 0 = available cores", valueName: "n", section: RUN_CONTROL, resume: "adjustable" }),
  },
  sample: {
    checkpoint,
    best,
    length: setting(integer(1), { default: 500, help: "characters to generate", valueName: "n", short: "n", resume: "invocation" }),
    stop: setting(textOrNull, { default: null, help: "end a sample early where this text appears", valueName: "text", defaultText: "none", resume: "invocation" }),
    temp: setting(number(atLeast(0)), { aliases: ["temperature"], default: 1.0, help: "temperature; 0 = greedy", valueName: "t", resume: "invocation" }),
    topK: setting(integer(0), { default: 0, help: "keep only the k most likely characters; 0 = off", valueName: "k", resume: "invocation" }),
    topP: setting(number(moreThan(0), atMost(1)), { default: 1, help: "keep the smallest set with probability p; 1 = off", valueName: "p", resume: "invocation" }),
    // null = pick one and print it to stderr so the sample can be repeated.
    seed: setting(integerOrNull(0, SEED_MAX), { default: null, help: "random seed", valueName: "n", defaultText: "random, printed to stderr", resume: "invocation" }),
    prime: setting(textOrNull, { aliases: ["primetext", "startText"], default: null, help: "text to start from", valueName: "text", defaultText: "none", resume: "invocation" }),
    primeFile: setting(textOrNull, { default: null, help: "read the prime text from a file; - = stdin", valueName: "file", defaultText: "none", resume: "invocation" }),
    echo: setting(boolean, { default: true, help: "print the prime text before the sample", negation: "do not print the prime text before the sample", resume: "invocation" }),
    unknown: setting(choice("error", "skip"), { default: "error", help: "prime characters outside the vocabulary", valueName: "policy", resume: "invocation" }),
    count: setting(integer(1), { default: 1, help: "independent samples", valueName: "n", resume: "invocation" }),
    json: setting(boolean, { default: false, help: "one JSON object per sample on stdout", resume: "invocation" }),
    interactive: setting(boolean, { default: false, help: "a prompt: each line typed primes the model, which answers it; the state runs on between turns", short: "i", resume: "invocation" }),
    // Each gives the text the page gives for the same seed on the kernels it shows (wasm-relaxed
    // where the browser has relaxed SIMD); auto is the fastest here, as for train.
    backend: setting(choice("auto", "js", "wasm", "wasm-relaxed"), { default: "auto", help: "compute backend (the browser page shows the one it runs)", valueName: "name", resume: "invocation" }),
    quiet: setting(boolean, { default: false, help: "print nothing on stderr but errors (no seed line, notes or prompt)", short: "q", resume: "invocation" }),
  },
  eval: {
    checkpoint,
    best,
    json: setting(boolean, { default: false, help: "results as JSON on stdout", resume: "invocation" }),
    perLine: setting(boolean, { default: false, help: "the loss of every line, not one total per file", resume: "invocation" }),
    quiet: setting(boolean, { default: false, help: "print nothing on stderr but errors (no notes about left-out characters or files)", short: "q", resume: "invocation" }),
  },
  info: {
    checkpoint,
    best,
    json: setting(boolean, { default: false, help: "the checkpoint's metadata as JSON on stdout", resume: "invocation" }),
    quiet: setting(boolean, { default: false, help: "print nothing on stderr but errors (no \"wrote FILE\" line for --plot)", short: "q", resume: "invocation" }),
  },
  // The run folder is serve's argument, not a setting.
  serve: {
    port: setting(integer(0, 65535), { default: 8080, help: "port; 0 picks a free one", valueName: "n", resume: "invocation" }),
    host: setting(text, { default: "127.0.0.1", help: "address to listen on (127.0.0.1: this machine only)", valueName: "address", resume: "invocation" }),
  },
} as const;

// ---------------------------------------------------------------------------------------------
// derived types
// ---------------------------------------------------------------------------------------------

export type SettingsTable = Readonly<Record<string, Setting>>;

/** The values a table's settings hold, one property per key. */
export type ValuesOf<Table extends SettingsTable> = { -readonly [K in keyof Table]: Table[K] extends Setting<infer T, ResumeRole> ? T : never };

export type TrainConfig = ValuesOf<typeof SETTINGS.train>;
export type SampleOptions = ValuesOf<typeof SETTINGS.sample>;
export type EvalOptions = ValuesOf<typeof SETTINGS.eval>;
export type InfoOptions = ValuesOf<typeof SETTINGS.info>;
export type ServeSettings = ValuesOf<typeof SETTINGS.serve>;
export type SettingsOf<C extends CommandName> = ValuesOf<(typeof SETTINGS)[C]>;

export type ModelType = TrainConfig["model"];
export type Activation = TrainConfig["activation"];
export type OptimizerName = TrainConfig["optimizer"];
export type LrSchedule = TrainConfig["lrSchedule"];
export type ClipMode = TrainConfig["clipMode"];
export type Backend = TrainConfig["backend"];

type TrainTable = typeof SETTINGS.train;
type KeysWithRole<R extends ResumeRole> = { [K in keyof TrainTable]: TrainTable[K]["resume"] extends R ? K : never }[keyof TrainTable];
/** The keys of the run's settings: what its checkpoints keep. */
export type RunKey = KeysWithRole<"fixed" | "trajectory" | "adjustable">;
/** The keys that belong to one invocation of `train` and are not kept with the run. */
export type InvocationKey = KeysWithRole<"invocation">;
/** A run's settings: a TrainConfig without the ones of a single invocation. */
export type RunSettings = Pick<TrainConfig, RunKey>;

const TRAIN_KEYS = Object.keys(SETTINGS.train) as (keyof TrainConfig)[];

/** The keys of a train setting role, in table order. */
export function keysWithRole<R extends ResumeRole>(...roles: R[]): KeysWithRole<R>[] {
  return TRAIN_KEYS.filter((key) => (roles as ResumeRole[]).includes(SETTINGS.train[key].resume)) as KeysWithRole<R>[];
}

export const RUN_KEYS: readonly RunKey[] = Object.freeze(keysWithRole("fixed", "trajectory", "adjustable"));
export const INVOCATION_KEYS: readonly InvocationKey[] = Object.freeze(keysWithRole("invocation"));
/** The settings a run started from another's weights takes from that checkpoint. */
export const MODEL_SHAPE_KEYS: readonly (keyof TrainConfig)[] = Object.freeze(TRAIN_KEYS.filter((key) => "modelShape" in SETTINGS.train[key]));

// ---------------------------------------------------------------------------------------------
// defaults
// ---------------------------------------------------------------------------------------------

function defaultsOf<Table extends SettingsTable>(table: Table): ValuesOf<Table> {
  const values: Record<string, unknown> = {};
  for (const [key, described] of Object.entries(table)) values[key] = described.default;
  return Object.freeze(values) as ValuesOf<Table>;
}

/** A copy whose values may be changed (the defaults' objects are frozen). */
function copyOf<T extends object>(values: T): T {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) copy[key] = typeof value === "object" && value !== null ? { ...value } : value;
  return copy as T;
}

export const TRAIN_DEFAULTS: TrainConfig = defaultsOf(SETTINGS.train);
export const SAMPLE_DEFAULTS: SampleOptions = defaultsOf(SETTINGS.sample);
export const EVAL_DEFAULTS: EvalOptions = defaultsOf(SETTINGS.eval);
export const INFO_DEFAULTS: InfoOptions = defaultsOf(SETTINGS.info);
export const SERVE_SETTING_DEFAULTS: ServeSettings = defaultsOf(SETTINGS.serve);

// ---------------------------------------------------------------------------------------------
// resolving: defaults < config file < flags
// ---------------------------------------------------------------------------------------------


/** The train settings, and which of them this invocation gave (by flag or in the config file). */
export interface ResolvedTrain {
  config: TrainConfig;
  /** Flags first, in table order, then the file's keys in its order. */
  given: ReadonlySet<keyof TrainConfig>;
}

/**
 * Defaults, then the parsed config file, then the flags the user typed. Unknown file keys,
 * wrong types and out-of-range values are usage errors naming the key in the file, or the given
 * setting as `nameOf` spells it (flagName by default). `configName` names the file in messages.
 */
export function resolveTrainSettings(fileConfig: unknown, flags: Partial<TrainConfig>, configName = "the config file", nameOf: NameOf = flagName): ResolvedTrain {
  const config: Record<string, unknown> = copyOf(TRAIN_DEFAULTS);
  const fromFlags: (keyof TrainConfig)[] = [];
  const fromFile: (keyof TrainConfig)[] = [];

  if (fileConfig !== undefined) {
    if (!isPlainObject(fileConfig)) {
      throw usageError(`${configName} must hold a JSON object of settings (got ${shown(fileConfig)})`);
    }
    const source: Source = { kind: "file", name: configName };
    for (const [key, value] of Object.entries(fileConfig)) {
      if (!Object.hasOwn(SETTINGS.train, key)) throw unknownKey(key, configName);
      const known = key as keyof TrainConfig;
      config[key] = checkValue(key, value, SETTINGS.train[known].rule, source);
      fromFile.push(known);
    }
  }

  for (const key of TRAIN_KEYS) {
    const value = flags[key];
    if (value === undefined) continue;
    config[key] = checkValue(key, value, SETTINGS.train[key].rule, { kind: "given", nameOf });
    fromFlags.push(key);
  }

  const given = new Set([...fromFlags, ...fromFile]);
  const stopsOtherwise = given.has("steps") || given.has("time");
  if (stopsOtherwise && !given.has("epochs")) config.epochs = 0;

  const resolved = config as TrainConfig;
  checkRunCombinations(resolved, nameOf);
  checkInvocationCombinations(resolved, nameOf);
  return { config: resolved, given };
}

/** As resolveTrainSettings, for callers that need only the config. */
export function resolveTrainConfig(fileConfig: unknown, flags: Partial<TrainConfig>, configName = "the config file", nameOf: NameOf = flagName): TrainConfig {
  return resolveTrainSettings(fileConfig, flags, configName, nameOf).config;
}

function unknownKey(key: string, where: string): CharnnError {
  const suggestion = closestKey(key, TRAIN_KEYS);
  const didYouMean = suggestion ? ` (did you mean "${suggestion}"?)` : "";
  return usageError(`unknown key "${key}" in ${where}${didYouMean}`, undefined, { code: "setting.unknown", facts: { key, suggestion } });
}

/** Rules that involve more than one of the run's settings. */
function checkRunCombinations(config: RunSettings, n: NameOf): void {
  if (config.epochs === 0 && config.steps === 0 && config.time === null) {
    throw usageError(
      `training would never stop: set ${n("epochs")}, ${n("steps")} or ${n("time")}`,
      `${n("epochs")} 0 and ${n("steps")} 0 mean no limit, so one of the three must be set`,
      { code: "setting.never-stops" },
    );
  }
  if (config.activation !== "tanh" && config.model !== "rnn") {
    throw usageError(`${n("activation")} ${config.activation} only applies to ${n("model")} rnn (got ${n("model")} ${config.model})`, undefined, {
      code: "setting.conflict",
      facts: { keys: ["activation", "model"] },
    });
  }
}

/** Rules about one invocation's switches. */
function checkInvocationCombinations(config: TrainConfig, n: NameOf): void {
  if (config.resume && config.initFrom !== null) {
    throw usageError(
      `${n("resume")} and ${n("initFrom")} cannot be used together`,
      `${n("resume")} continues the run in ${n("out")}; ${n("initFrom")} starts a new run from a checkpoint's weights`,
      { code: "setting.conflict", facts: { keys: ["resume", "initFrom"] } },
    );
  }
}

/** Defaults overridden by the typed flags of `command`, every value checked. */
function resolveCommand<C extends Exclude<CommandName, "train">>(command: C, flags: Partial<SettingsOf<C>>, nameOf: NameOf): SettingsOf<C> {
  const table: SettingsTable = SETTINGS[command];
  const options: Record<string, unknown> = copyOf(defaultsOf(table));
  for (const [key, described] of Object.entries(table)) {
    const value = (flags as Record<string, unknown>)[key];
    if (value === undefined) continue;
    options[key] = checkValue(key, value, described.rule, { kind: "given", nameOf });
  }
  return options as SettingsOf<C>;
}

export function resolveSampleOptions(flags: Partial<SampleOptions>, nameOf: NameOf = flagName): SampleOptions {
  const resolved = resolveCommand("sample", flags, nameOf);
  if (resolved.prime !== null && resolved.primeFile !== null) {
    throw usageError(`${nameOf("prime")} and ${nameOf("primeFile")} cannot be used together`, "give the prime text one way or the other", {
      code: "setting.conflict",
      facts: { keys: ["prime", "primeFile"] },
    });
  }
  return resolved;
}

export function resolveEvalOptions(flags: Partial<EvalOptions>, nameOf: NameOf = flagName): EvalOptions {
  return resolveCommand("eval", flags, nameOf);
}

export function resolveInfoOptions(flags: Partial<InfoOptions>, nameOf: NameOf = flagName): InfoOptions {
  return resolveCommand("info", flags, nameOf);
}

export function resolveServeSettings(flags: Partial<ServeSettings>, nameOf: NameOf = flagName): ServeSettings {
  return resolveCommand("serve", flags, nameOf);
}

// ---------------------------------------------------------------------------------------------
// the run's settings: what a checkpoint keeps, and reading them back
// ---------------------------------------------------------------------------------------------

/** The run's settings of a config: what its checkpoints keep (no per-invocation switches). */
export function runSettingsOf(config: RunSettings): RunSettings {
  const run: Record<string, unknown> = {};
  for (const key of RUN_KEYS) run[key] = config[key];
  return copyOf(run) as RunSettings;
}

/** For each run setting, whether this invocation gave it or it is the default. */
export function settingSourcesOf(given: ReadonlySet<string>): Record<RunKey, "given" | "default"> {
  const sources: Record<string, "given" | "default"> = {};
  for (const key of RUN_KEYS) sources[key] = given.has(key) ? "given" : "default";
  return sources as Record<RunKey, "given" | "default">;
}

/**
 * A saved config read back through the same rules a typed one meets, since everything after the
 * loader trusts it: a file saying "layers": 1e9 would otherwise be asked for a billion tensors.
 * Every run setting must be there (a default filled in would describe another model than the
 * one saved); per-invocation switches older files kept are ignored; any other key is refused.
 * Failures are bad input (exit 3), naming `"key" in the config`; `path` prefixes missing fields.
 */
export function readSavedConfig(record: unknown, path = "config"): RunSettings {
  if (!isPlainObject(record)) throw badInput(`"${path}" must be an object (got ${shown(record)})`, undefined, { code: "checkpoint.damaged" });
  const run: Record<string, unknown> = {};
  try {
    for (const key of RUN_KEYS) {
      if (!Object.hasOwn(record, key)) throw badInput(`missing field "${path}.${key}"`, undefined, { code: "checkpoint.damaged", facts: { key } });
      run[key] = checkValue(key, record[key], SETTINGS.train[key].rule, { kind: "file", name: "the config" });
    }
    for (const key of Object.keys(record)) {
      if (!Object.hasOwn(SETTINGS.train, key)) throw unknownKey(key, "the config");
    }
    checkRunCombinations(run as RunSettings, flagName);
  } catch (error) {
    if (error instanceof CharnnError && error.exitCode !== ExitCode.badInput) {
      throw badInput(error.message, undefined, { code: "checkpoint.damaged", facts: error.facts });
    }
    throw error;
  }
  return run as RunSettings;
}

// ---------------------------------------------------------------------------------------------
// resume
// ---------------------------------------------------------------------------------------------

const sameValue = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export interface ResumedSettings {
  config: TrainConfig;
  /** The given settings that change the arithmetic of later steps: the run is no longer exact. */
  inexact: (keyof TrainConfig)[];
}

/**
 * The settings of a resumed run: the saved run's, with what this invocation gave laid over them,
 * and this invocation's own switches. A fixed setting given with another value is a usage error;
 * `nameOf` spells a key in that message (the CLI passes flagName).
 */
export function resumeSettings(
  saved: RunSettings,
  current: TrainConfig,
  given: ReadonlySet<string>,
  nameOf: (key: string) => string = flagName,
): ResumedSettings {
  const config: Record<string, unknown> = { ...current, ...runSettingsOf(saved) };
  const inexact: (keyof TrainConfig)[] = [];
  for (const name of given) {
    if (!Object.hasOwn(SETTINGS.train, name)) continue;
    const key = name as keyof TrainConfig;
    const role = SETTINGS.train[key].resume;
    if (role === "invocation") continue;
    const before = saved[key as RunKey];
    if (role === "fixed") {
      if (!sameValue(before, current[key])) {
        throw usageError(
          `${nameOf(key)} ${JSON.stringify(current[key])} does not match the run being resumed (${JSON.stringify(before)}); it cannot change on resume`,
          `leave it out to continue the run, use ${nameOf("out")} DIR for a new run, or ${nameOf("initFrom")} to fine-tune from its weights`,
          { code: "setting.fixed-on-resume", facts: { key, saved: before, given: current[key] } },
        );
      }
      continue;
    }
    if (role === "trajectory" && !sameValue(before, current[key])) inexact.push(key);
    config[key] = current[key];
  }
  // A cosine schedule decays over the run's total steps, so a new total bends the rates of the
  // steps still to come (a constant or step schedule does not look at the total).
  if (config.lrSchedule === "cosine") {
    for (const key of ["steps", "epochs"] as const) {
      if (given.has(key) && !sameValue(saved[key], current[key]) && !inexact.includes("lrSchedule")) inexact.push(key);
    }
  }
  return { config: config as TrainConfig, inexact };
}

/**
 * The settings of a new run from another run's weights: the model's shape comes from the
 * checkpoint. Giving a shape setting with another value is a usage error.
 */
export function fineTuneSettings(
  saved: RunSettings,
  current: TrainConfig,
  given: ReadonlySet<string>,
  nameOf: (key: string) => string = flagName,
): TrainConfig {
  const config: Record<string, unknown> = { ...current };
  for (const key of MODEL_SHAPE_KEYS) {
    const before = saved[key as RunKey];
    if (given.has(key) && !sameValue(before, current[key])) {
      throw usageError(`${nameOf(key)} ${JSON.stringify(current[key])} does not match the ${nameOf("initFrom")} checkpoint (${JSON.stringify(before)})`, "fine-tuning keeps the model's shape", {
        code: "setting.fixed-on-fine-tune",
        facts: { key, saved: before, given: current[key] },
      });
    }
    config[key] = before;
  }
  return config as TrainConfig;
}
