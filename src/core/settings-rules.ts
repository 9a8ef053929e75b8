// The language the settings table (settings.ts) is written in: the kinds of rule a value can be
// held to, durations ("10m"), and the one check that applies a rule to a value, with the messages
// a user sees. Not the table itself, and no flag syntax beyond naming a key in a message.
// Pure: no file system, no process, no commander.

import { usageError } from "./errors.js";

/** How often to write a numbered checkpoint: every N steps, or every N milliseconds of wall clock. */
export type CheckpointCadence = { steps: number } | { ms: number };

export type Bound = { value: number; inclusive: boolean };

export type Rule =
  | { kind: "integer"; min: number; max: number; nullable: boolean }
  | { kind: "number"; min?: Bound; max?: Bound }
  | { kind: "choice"; values: readonly string[] }
  | { kind: "boolean" }
  | { kind: "text"; nullable: boolean }
  | { kind: "duration" } // number | null, ms
  | { kind: "cadence" }; // CheckpointCadence

/**
 * A rule tagged, for the compiler only, with the type of the values it accepts: the settings'
 * TypeScript types are read off their rules, so a type and its check cannot disagree.
 */
export type RuleOf<T> = Rule & { readonly valueType?: T };

/** The ceiling of a count: the largest whole number a double holds exactly. */
export const COUNT = Number.MAX_SAFE_INTEGER;

export const atLeast = (value: number): Bound => ({ value, inclusive: true });
export const moreThan = (value: number): Bound => ({ value, inclusive: false });
export const atMost = (value: number): Bound => ({ value, inclusive: true });
export const below = (value: number): Bound => ({ value, inclusive: false });

export const integer = (min: number, max = COUNT): RuleOf<number> => ({ kind: "integer", min, max, nullable: false });
/** A whole number, or null for "not given, pick one". */
export const integerOrNull = (min: number, max = COUNT): RuleOf<number | null> => ({ kind: "integer", min, max, nullable: true });
export const number = (min?: Bound, max?: Bound): RuleOf<number> => ({ kind: "number", ...(min && { min }), ...(max && { max }) });
export const choice = <const V extends string>(...values: V[]): RuleOf<V> => ({ kind: "choice", values });
export const boolean: RuleOf<boolean> = { kind: "boolean" };
export const text: RuleOf<string> = { kind: "text", nullable: false };
export const textOrNull: RuleOf<string | null> = { kind: "text", nullable: true };
export const durationOrNone: RuleOf<number | null> = { kind: "duration" };
export const cadence: RuleOf<CheckpointCadence> = { kind: "cadence" };

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
// checking one value
// ---------------------------------------------------------------------------------------------

/** `seqLen` → `--seq-len`: setting keys and flag names are the same words. */
export function flagName(key: string): string {
  return "--" + key.replace(/[A-Z]/g, (letter) => "-" + letter.toLowerCase());
}

/** How a message spells a setting's key: the CLI passes flagName, a library caller may keep the key. */
export type NameOf = (key: string) => string;

/** Who supplied a value decides how an error names it: as its caller spells it, or the key in a file. */
export type Source = { kind: "given"; nameOf: NameOf } | { kind: "file"; name: string };

function nameOf(key: string, source: Source): string {
  return source.kind === "given" ? source.nameOf(key) : `"${key}" in ${source.name}`;
}

export function shown(value: unknown): string {
  return typeof value === "number" ? String(value) : JSON.stringify(value) ?? String(value);
}

export function rangeText(min: Bound | undefined, max: Bound | undefined): string {
  if (min && max && min.inclusive && max.inclusive) return `between ${min.value} and ${max.value}`;
  const parts: string[] = [];
  if (min) parts.push(min.inclusive ? `at least ${min.value}` : `more than ${min.value}`);
  if (max) parts.push(max.inclusive ? `at most ${max.value}` : `below ${max.value}`);
  return parts.join(" and ");
}

/**
 * Returns the value, checked against its rule (and normalised for durations and cadences).
 * A refusal is a usage error with code "setting.invalid" or "setting.out-of-range" and the
 * facts: key, value, requirement.
 */
export function checkValue(key: string, value: unknown, rule: Rule, source: Source): unknown {
  const name = nameOf(key, source);
  // "setting.invalid": not a value of the right kind; "setting.out-of-range": outside the range.
  const fail = (requirement: string, code = "setting.invalid") =>
    usageError(`${name} must be ${requirement} (got ${shown(value)})`, undefined, {
      code,
      facts: { key, value, requirement },
    });
  const outOfRange = (requirement: string) => fail(requirement, "setting.out-of-range");

  switch (rule.kind) {
    case "integer": {
      if (value === null && rule.nullable) return null;
      if (typeof value !== "number" || !Number.isFinite(value)) throw fail("a whole number");
      if (!Number.isInteger(value)) throw fail("a whole number");
      // A count has no limit of its own, so its ceiling is only named to the one who passed it:
      // "--steps 1e30" must not read "at least 0".
      const max = rule.max === COUNT && value <= rule.max ? undefined : atMost(rule.max);
      if (value < rule.min || value > rule.max) throw outOfRange(rangeText(atLeast(rule.min), max));
      return value;
    }
    case "number": {
      if (typeof value !== "number" || !Number.isFinite(value)) throw fail("a finite number");
      const { min, max } = rule;
      const tooLow = min && (min.inclusive ? value < min.value : value <= min.value);
      const tooHigh = max && (max.inclusive ? value > max.value : value >= max.value);
      if (tooLow || tooHigh) throw outOfRange(rangeText(min, max));
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
      // A value given directly (a flag) is always text, so only its emptiness can be wrong; null is a file's word.
      if (value === "" && source.kind === "given") {
        throw usageError(`${name} needs some text (got an empty one)`, rule.nullable ? `leave out ${name} for none` : undefined, {
          code: "setting.invalid",
          facts: { key, value, requirement: "non-empty text" },
        });
      }
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
      if (ms <= 0) throw outOfRange("more than 0 (leave it unset for no time limit)");
      return ms;
    }
    case "cadence":
      return checkCadence(key, name, value);
  }
}

function checkCadence(key: string, name: string, value: unknown): CheckpointCadence {
  const requirement = "a step count (1000) or a duration (5m)";
  const fail = () =>
    usageError(`${name} must be ${requirement} (got ${shown(value)})`, undefined, {
      code: "setting.invalid",
      facts: { key, value, requirement },
    });
  let parsed: unknown = value;
  if (typeof value === "number") parsed = { steps: value };
  if (typeof value === "string") {
    try {
      parsed = parseStepsOrDuration(value);
    } catch {
      throw fail();
    }
  }
  if (typeof parsed !== "object" || parsed === null) throw fail();
  const keys = Object.keys(parsed);
  const record = parsed as Record<string, unknown>;
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
