// The defaults for every command, one typed and commented object each, and the strict merge
// (defaults < --config file < typed flags) that range-checks every value.
// Pure: no file system, no process, no commander. Reading the --config file and parsing argv
// happen in src/cli/; this file only decides what a value means and whether it is allowed.

import { usageError } from "./errors.js";

// ---------------------------------------------------------------------------------------------
// train
// ---------------------------------------------------------------------------------------------

export type ModelType = "rnn" | "lstm" | "gru";
export type Activation = "tanh" | "relu";
export type OptimizerName = "adam" | "sgd" | "rmsprop" | "adagrad";
export type LrSchedule = "constant" | "step" | "cosine";
export type ClipMode = "norm" | "value";
export type Backend = "auto" | "js" | "wasm";
/** How often to write a numbered checkpoint: every N steps, or every N milliseconds of wall clock. */
export type CheckpointCadence = { steps: number } | { ms: number };

export interface TrainConfig {
  // model
  model: ModelType;
  activation: Activation;
  layers: number;
  hidden: number;
  embed: number;
  dropout: number;
  learnInit: boolean;
  // training
  seqLen: number;
  batch: number;
  optimizer: OptimizerName;
  lr: number;
  momentum: number;
  lrSchedule: LrSchedule;
  lrDecay: number;
  lrDecayEvery: number;
  warmup: number;
  clip: number;
  clipMode: ClipMode;
  weightDecay: number;
  seed: number;
  // data
  valFrac: number;
  valFile: string | null;
  // stopping
  epochs: number;
  steps: number;
  time: number | null;
  patience: number;
  // cadence
  evalEvery: number;
  checkpointEvery: CheckpointCadence;
  sampleEvery: number;
  sampleLength: number;
  logEvery: number;
  // output
  out: string;
  keep: number;
  json: boolean;
  // run control
  resume: boolean;
  initFrom: string | null;
  dryRun: boolean;
  backend: Backend;
  threads: number;
}

export const TRAIN_DEFAULTS: TrainConfig = Object.freeze<TrainConfig>({
  // --- model ---
  model: "lstm", // cell type of every layer
  activation: "tanh", // rnn only: the vanilla cell's non-linearity
  layers: 2, // stacked recurrent layers (1..16)
  hidden: 128, // hidden units per layer (1..8192)
  embed: 0, // 0 = one-hot input (a row lookup); else a learned embedding of this size (1..8192)
  dropout: 0, // dropout between layers (0 <= p < 1)
  learnInit: false, // learn the initial hidden state instead of starting from zeros
  // --- training ---
  seqLen: 64, // characters per truncated-BPTT window (1..100000)
  batch: 32, // parallel streams through the corpus (1..100000)
  optimizer: "adam",
  lr: 2e-3, // learning rate (> 0)
  momentum: 0.9, // sgd only (0 <= m < 1)
  lrSchedule: "constant",
  lrDecay: 0.5, // "step": multiply the rate by this every lrDecayEvery steps (0 < d <= 1)
  lrDecayEvery: 1000, // "step": steps between decays
  warmup: 0, // "cosine": steps of linear warm-up before the cosine decay
  clip: 5, // gradient clipping threshold; 0 = off
  clipMode: "norm", // "norm" scales the whole gradient, "value" clamps each element
  weightDecay: 0, // decoupled weight decay (>= 0)
  seed: 1, // integer 0..2^32-1; 0 is a valid seed
  // --- data ---
  valFrac: 0.05, // fraction of the corpus held out for validation (0 <= f < 1)
  valFile: null, // a separate validation file instead of the held-out fraction
  // --- stopping: 0 / null = no limit; at least one of epochs, steps, time is set ---
  // Setting only steps or time (flag or file) turns the default epoch limit off, so
  // `--steps 5000` trains 5000 steps instead of stopping early at epoch 10.
  epochs: 10,
  steps: 0,
  time: null, // wall-clock budget in ms ("10m", "90s", "1h30m" on the command line)
  patience: 0, // stop after this many evaluations without a new best; 0 = off
  // --- cadence ---
  evalEvery: 200, // steps between validation passes; 0 = only at the end
  checkpointEvery: Object.freeze({ steps: 1000 }), // "1000" = steps, "5m" = duration; 0 steps = only at the end
  sampleEvery: 0, // steps between preview samples; 0 = off
  sampleLength: 200, // characters per preview sample
  logEvery: 10, // steps between plain log lines when stderr is not a terminal
  // --- output ---
  out: "checkpoints", // folder for latest.json, best.json and numbered checkpoints
  keep: 3, // numbered checkpoints kept (latest and best are always kept)
  json: false, // NDJSON events on stdout instead of progress on stderr
  // --- run control ---
  resume: false, // continue the run in `out` exactly where it stopped
  initFrom: null, // start a new run from this checkpoint's weights
  dryRun: false, // validate everything, build the model, train nothing
  backend: "auto",
  // Worker threads for the wasm kernels; 0 = available cores. Tiny models never start workers,
  // and calls that keep finding the workers late fall back to one thread (src/wasm/threads.ts).
  threads: 0,
});

// ---------------------------------------------------------------------------------------------
// sample, eval, info
// ---------------------------------------------------------------------------------------------

export const DEFAULT_CHECKPOINT = "checkpoints/latest.json";

export interface SampleOptions {
  checkpoint: string;
  best: boolean;
  length: number;
  stop: string | null;
  temp: number;
  topK: number;
  topP: number;
  seed: number | null;
  prime: string | null;
  primeFile: string | null;
  echo: boolean;
  unknown: "error" | "skip";
  count: number;
  json: boolean;
}

export const SAMPLE_DEFAULTS: SampleOptions = Object.freeze<SampleOptions>({
  checkpoint: DEFAULT_CHECKPOINT,
  best: false, // use best.json in the checkpoint's folder instead
  length: 500, // characters to generate per sample
  stop: null, // stop a sample early when this string appears
  temp: 1.0, // softmax temperature; 0 = greedy (always the most likely character)
  topK: 0, // keep only the K most likely characters; 0 = off
  topP: 1, // keep the smallest set with this much probability; 1 = off
  seed: null, // null = pick one and print it to stderr so the sample can be repeated
  prime: null, // text to warm the model up with
  primeFile: null, // file to read the prime text from; "-" = stdin
  echo: true, // print the prime text before the generated text
  unknown: "error", // prime characters outside the vocabulary: fail, or skip them
  count: 1, // number of independent samples
  json: false, // one JSON object per sample on stdout
});

export interface EvalOptions {
  checkpoint: string;
  best: boolean;
  json: boolean;
  perLine: boolean;
}

export const EVAL_DEFAULTS: EvalOptions = Object.freeze<EvalOptions>({
  checkpoint: DEFAULT_CHECKPOINT,
  best: false,
  json: false,
  perLine: false, // report the loss of every line instead of one total per file
});

export interface InfoOptions {
  checkpoint: string;
  best: boolean;
  json: boolean;
}

export const INFO_DEFAULTS: InfoOptions = Object.freeze<InfoOptions>({
  checkpoint: DEFAULT_CHECKPOINT,
  best: false,
  json: false,
});

// ---------------------------------------------------------------------------------------------
// durations
// ---------------------------------------------------------------------------------------------

const MS_PER_UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_SEGMENT = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
const DURATION_WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const DURATION_EXAMPLES = "e.g. 500ms, 90s, 10m, 1h30m, 2h";

/** Milliseconds in "500ms", "90s", "10m", "1h30m", "2h", "1d"; null when the text is not one. */
function durationOrNull(text: string): number | null {
  const trimmed = text.trim();
  // A bare number is refused: "--time 10" could mean seconds or minutes, so ask for a unit.
  if (!DURATION_WHOLE.test(trimmed)) return null;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(DURATION_SEGMENT)) {
    total += Number(amount) * (MS_PER_UNIT[unit as string] as number);
  }
  return Math.round(total);
}

/** Parses a duration such as "10m", "90s", "1h30m", "2h" or "500ms" into milliseconds. */
export function parseDuration(text: string): number {
  const ms = durationOrNull(text);
  if (ms === null) throw usageError(`not a duration: "${text}" (${DURATION_EXAMPLES})`);
  return ms;
}

/** "1000" means every 1000 steps; "5m" means every five minutes of wall clock. */
export function parseStepsOrDuration(text: string): CheckpointCadence {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return { steps: Number(trimmed) };
  const ms = durationOrNull(trimmed);
  if (ms === null) {
    throw usageError(`not a step count or a duration: "${text}" (e.g. 1000 for steps, or 5m, 1h)`);
  }
  return { ms };
}

// ---------------------------------------------------------------------------------------------
// value rules: one per key, used for both the --config file and the flags
// ---------------------------------------------------------------------------------------------

type Bound = { value: number; inclusive: boolean };
type Rule =
  | { kind: "integer"; min: number; max: number }
  | { kind: "number"; min?: Bound; max?: Bound }
  | { kind: "choice"; values: readonly string[] }
  | { kind: "boolean" }
  | { kind: "text"; nullable: boolean }
  | { kind: "duration" } // number | null, ms
  | { kind: "cadence" }; // CheckpointCadence

const COUNT = Number.MAX_SAFE_INTEGER;
const integer = (min: number, max = COUNT): Rule => ({ kind: "integer", min, max });
const atLeast = (value: number): Bound => ({ value, inclusive: true });
const moreThan = (value: number): Bound => ({ value, inclusive: false });
const atMost = (value: number): Bound => ({ value, inclusive: true });
const below = (value: number): Bound => ({ value, inclusive: false });
const choice = (...values: string[]): Rule => ({ kind: "choice", values });
const flag: Rule = { kind: "boolean" };
const path = (nullable: boolean): Rule => ({ kind: "text", nullable });

const TRAIN_RULES: Record<keyof TrainConfig, Rule> = {
  model: choice("rnn", "lstm", "gru"),
  activation: choice("tanh", "relu"),
  layers: integer(1, 16),
  hidden: integer(1, 8192),
  embed: integer(0, 8192),
  dropout: { kind: "number", min: atLeast(0), max: below(1) },
  learnInit: flag,
  seqLen: integer(1, 100_000),
  batch: integer(1, 100_000),
  optimizer: choice("adam", "sgd", "rmsprop", "adagrad"),
  lr: { kind: "number", min: moreThan(0) },
  momentum: { kind: "number", min: atLeast(0), max: below(1) },
  lrSchedule: choice("constant", "step", "cosine"),
  lrDecay: { kind: "number", min: moreThan(0), max: atMost(1) },
  lrDecayEvery: integer(1),
  warmup: integer(0),
  clip: { kind: "number", min: atLeast(0) },
  clipMode: choice("norm", "value"),
  weightDecay: { kind: "number", min: atLeast(0) },
  seed: integer(0, 2 ** 32 - 1),
  valFrac: { kind: "number", min: atLeast(0), max: below(1) },
  valFile: path(true),
  epochs: integer(0),
  steps: integer(0),
  time: { kind: "duration" },
  patience: integer(0),
  evalEvery: integer(0),
  checkpointEvery: { kind: "cadence" },
  sampleEvery: integer(0),
  sampleLength: integer(1),
  logEvery: integer(1),
  out: path(false),
  keep: integer(0),
  json: flag,
  resume: flag,
  initFrom: path(true),
  dryRun: flag,
  backend: choice("auto", "js", "wasm"),
  threads: integer(0, 1024),
};

const SAMPLE_RULES: Record<keyof SampleOptions, Rule> = {
  checkpoint: path(false),
  best: flag,
  length: integer(1),
  stop: { kind: "text", nullable: true },
  temp: { kind: "number", min: atLeast(0) },
  topK: integer(0),
  topP: { kind: "number", min: moreThan(0), max: atMost(1) },
  // null means "pick one"; the nullable integer is checked by hand in resolveSampleOptions.
  seed: integer(0, 2 ** 32 - 1),
  prime: { kind: "text", nullable: true },
  primeFile: path(true),
  echo: flag,
  unknown: choice("error", "skip"),
  count: integer(1),
  json: flag,
};

/** `seqLen` → `--seq-len`: config keys and flag names are the same words. */
export function flagName(key: string): string {
  return "--" + key.replace(/[A-Z]/g, (letter) => "-" + letter.toLowerCase());
}

/** Who supplied a value decides how an error names it: the flag, or the key in the file. */
type Source = { kind: "flag" } | { kind: "file"; name: string };

function nameOf(key: string, source: Source): string {
  return source.kind === "flag" ? flagName(key) : `"${key}" in ${source.name}`;
}

function shown(value: unknown): string {
  return typeof value === "number" ? String(value) : JSON.stringify(value) ?? String(value);
}

function rangeText(min: Bound | undefined, max: Bound | undefined): string {
  if (min && max && min.inclusive && max.inclusive) return `between ${min.value} and ${max.value}`;
  const parts: string[] = [];
  if (min) parts.push(min.inclusive ? `at least ${min.value}` : `more than ${min.value}`);
  if (max) parts.push(max.inclusive ? `at most ${max.value}` : `below ${max.value}`);
  return parts.join(" and ");
}

/** Returns the value, checked against its rule (and normalised for durations and cadences). */
function checkValue(key: string, value: unknown, rule: Rule, source: Source): unknown {
  const name = nameOf(key, source);
  const fail = (requirement: string) => usageError(`${name} must be ${requirement} (got ${shown(value)})`);

  switch (rule.kind) {
    case "integer": {
      if (typeof value !== "number" || !Number.isFinite(value)) throw fail("a whole number");
      if (!Number.isInteger(value)) throw fail("a whole number");
      // A count has no limit of its own, so its ceiling (the largest whole number a double holds
      // exactly) is only named to the one who passed it: "--steps 1e30" must not read "at least 0".
      const max = rule.max === COUNT && value <= rule.max ? undefined : atMost(rule.max);
      if (value < rule.min || value > rule.max) throw fail(rangeText(atLeast(rule.min), max));
      return value;
    }
    case "number": {
      if (typeof value !== "number" || !Number.isFinite(value)) throw fail("a finite number");
      const { min, max } = rule;
      const tooLow = min && (min.inclusive ? value < min.value : value <= min.value);
      const tooHigh = max && (max.inclusive ? value > max.value : value >= max.value);
      if (tooLow || tooHigh) throw fail(rangeText(min, max));
      return value;
    }
    case "choice":
      if (typeof value !== "string" || !rule.values.includes(value)) {
        throw fail(`one of ${rule.values.join(", ")}`);
      }
      return value;
    case "boolean":
      if (typeof value !== "boolean") throw fail("true or false");
      return value;
    case "text":
      if (value === null && rule.nullable) return null;
      if (typeof value !== "string" || value === "") {
        throw fail(rule.nullable ? "a non-empty string or null" : "a non-empty string");
      }
      return value;
    case "duration": {
      if (value === null) return null;
      // The file may say "10m" like the flag does, or give milliseconds as a number.
      const ms = typeof value === "string" ? durationOrNull(value) : value;
      if (typeof ms !== "number" || !Number.isFinite(ms)) {
        throw fail(`a duration (${DURATION_EXAMPLES}) or null`);
      }
      if (ms <= 0) throw fail("more than 0 (leave it unset for no time limit)");
      return ms;
    }
    case "cadence":
      return checkCadence(name, value);
  }
}

function checkCadence(name: string, value: unknown): CheckpointCadence {
  const fail = () =>
    usageError(`${name} must be a step count (1000) or a duration (5m) (got ${shown(value)})`);
  let cadence: unknown = value;
  if (typeof value === "number") cadence = { steps: value };
  if (typeof value === "string") {
    try {
      cadence = parseStepsOrDuration(value);
    } catch {
      throw fail();
    }
  }
  if (typeof cadence !== "object" || cadence === null) throw fail();
  const keys = Object.keys(cadence);
  const record = cadence as Record<string, unknown>;
  if (keys.length !== 1) throw fail();
  if (keys[0] === "steps") {
    const steps = record.steps;
    if (typeof steps !== "number" || !Number.isInteger(steps) || steps < 0) throw fail();
    return { steps };
  }
  if (keys[0] === "ms") {
    const ms = record.ms;
    if (typeof ms !== "number" || !Number.isFinite(ms) || ms <= 0) throw fail();
    return { ms };
  }
  throw fail();
}

// ---------------------------------------------------------------------------------------------
// unknown keys
// ---------------------------------------------------------------------------------------------

/** Levenshtein distance: the number of single-character edits between two words. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] as number;
}

// Names other char-rnn and nanoGPT-style configs use for the same settings (normalised, see below).
const KNOWN_SYNONYMS: Record<string, string> = {
  learningrate: "lr",
  rnnsize: "hidden",
  hiddensize: "hidden",
  numlayers: "layers",
  nlayer: "layers",
  batchsize: "batch",
  seqlength: "seqLen",
  blocksize: "seqLen",
  maxepochs: "epochs",
  maxiters: "steps",
  gradclip: "clip",
  outdir: "out",
};

/** The known key closest to `unknown`, if one is close enough to be a likely typo. */
export function closestKey(unknown: string, known: readonly string[]): string | null {
  // "seq-len", "seq_len" and "SeqLen" all mean seqLen: compare without case and separators.
  const normalise = (key: string) => key.toLowerCase().replace(/[-_]/g, "");
  const target = normalise(unknown);
  const synonym = KNOWN_SYNONYMS[target];
  if (synonym !== undefined && known.includes(synonym)) return synonym;
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const key of known) {
    const distance = editDistance(target, normalise(key));
    if (distance < bestDistance) {
      best = key;
      bestDistance = distance;
    }
  }
  // About one edit per four characters: "hiden" finds hidden, "learnrate" does not find learnInit.
  const tolerance = Math.max(1, Math.floor(target.length / 4));
  return bestDistance <= tolerance ? best : null;
}

// ---------------------------------------------------------------------------------------------
// merging
// ---------------------------------------------------------------------------------------------

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Defaults, then the parsed --config file, then the flags the user typed. Unknown file keys,
 * wrong types and out-of-range values are usage errors naming the flag or key.
 * `configName` names the file in messages (main passes the path given to --config).
 */
export function resolveTrainConfig(
  fileConfig: unknown,
  flags: Partial<TrainConfig>,
  configName = "the config file",
): TrainConfig {
  const known = Object.keys(TRAIN_RULES) as (keyof TrainConfig)[];
  const config: Record<string, unknown> = { ...TRAIN_DEFAULTS, checkpointEvery: { ...TRAIN_DEFAULTS.checkpointEvery } };
  const explicitlySet = new Set<string>();

  if (fileConfig !== undefined) {
    if (!isPlainObject(fileConfig)) {
      throw usageError(`${configName} must hold a JSON object of settings (got ${shown(fileConfig)})`);
    }
    const source: Source = { kind: "file", name: configName };
    for (const [key, value] of Object.entries(fileConfig)) {
      if (!(known as string[]).includes(key)) {
        const suggestion = closestKey(key, known);
        const didYouMean = suggestion ? ` (did you mean "${suggestion}"?)` : "";
        throw usageError(`unknown key "${key}" in ${configName}${didYouMean}`);
      }
      config[key] = checkValue(key, value, TRAIN_RULES[key as keyof TrainConfig], source);
      explicitlySet.add(key);
    }
  }

  for (const key of known) {
    const value = flags[key];
    if (value === undefined) continue;
    config[key] = checkValue(key, value, TRAIN_RULES[key], { kind: "flag" });
    explicitlySet.add(key);
  }

  const stopsOtherwise = explicitlySet.has("steps") || explicitlySet.has("time");
  if (stopsOtherwise && !explicitlySet.has("epochs")) config.epochs = 0;

  const resolved = config as unknown as TrainConfig;
  checkTrainCombinations(resolved);
  return resolved;
}

/** Rules that involve more than one value. */
function checkTrainCombinations(config: TrainConfig): void {
  if (config.epochs === 0 && config.steps === 0 && config.time === null) {
    throw usageError(
      "training would never stop: set --epochs, --steps or --time",
      "--epochs 0 and --steps 0 mean no limit, so one of the three must be set",
    );
  }
  if (config.resume && config.initFrom !== null) {
    throw usageError(
      "--resume and --init-from cannot be used together",
      "--resume continues the run in --out; --init-from starts a new run from a checkpoint's weights",
    );
  }
  if (config.activation !== "tanh" && config.model !== "rnn") {
    throw usageError(`--activation ${config.activation} only applies to --model rnn (got --model ${config.model})`);
  }
}

/** SAMPLE_DEFAULTS overridden by the typed flags, every value checked. */
export function resolveSampleOptions(flags: Partial<SampleOptions>): SampleOptions {
  const options: Record<string, unknown> = { ...SAMPLE_DEFAULTS };
  for (const key of Object.keys(SAMPLE_RULES) as (keyof SampleOptions)[]) {
    const value = flags[key];
    if (value === undefined) continue;
    options[key] = key === "seed" && value === null ? null : checkValue(key, value, SAMPLE_RULES[key], { kind: "flag" });
  }
  const resolved = options as unknown as SampleOptions;
  if (resolved.prime !== null && resolved.primeFile !== null) {
    throw usageError("--prime and --prime-file cannot be used together", "give the prime text one way or the other");
  }
  return resolved;
}

export function resolveEvalOptions(flags: Partial<EvalOptions>): EvalOptions {
  const options: EvalOptions = { ...EVAL_DEFAULTS };
  if (flags.checkpoint !== undefined) {
    options.checkpoint = checkValue("checkpoint", flags.checkpoint, path(false), { kind: "flag" }) as string;
  }
  if (flags.best !== undefined) options.best = flags.best;
  if (flags.json !== undefined) options.json = flags.json;
  if (flags.perLine !== undefined) options.perLine = flags.perLine;
  return options;
}

export function resolveInfoOptions(flags: Partial<InfoOptions>): InfoOptions {
  const options: InfoOptions = { ...INFO_DEFAULTS };
  if (flags.checkpoint !== undefined) {
    options.checkpoint = checkValue("checkpoint", flags.checkpoint, path(false), { kind: "flag" }) as string;
  }
  if (flags.best !== undefined) options.best = flags.best;
  if (flags.json !== undefined) options.json = flags.json;
  return options;
}
