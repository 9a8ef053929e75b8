// Hardening (issue 6): every numeric option of every command outside its range (negative, NaN,
// absurdly large, 0 where 0 means nothing), by flag and by --config; the valid edges (--temp 0,
// --seed 0, --dropout 0, ...); unknown and conflicting flags: exit 2, one line naming the flag.
// The table is checked against what commander declares, so a new numeric flag needs its cases.

import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { beforeAll, describe, expect, it } from "vitest";
import { addEvalOptions, addInfoOptions, addSampleOptions, addTrainOptions } from "../../src/cli/options.js";
import type { CommandHandlers } from "../../src/cli/main.js";
import { ExitCode } from "../../src/core/errors.js";
import { expectOneLineError, runMain } from "./helpers.js";

type CommandName = "train" | "sample" | "eval" | "info";

/** Handlers that record the options main resolved and do no work. */
function recording(): { handlers: CommandHandlers; calls: Array<{ command: CommandName; options: Record<string, unknown> }> } {
  const calls: Array<{ command: CommandName; options: Record<string, unknown> }> = [];
  const record = (command: CommandName) => async (options: unknown) => {
    calls.push({ command, options: options as Record<string, unknown> });
    return ExitCode.ok;
  };
  return { calls, handlers: { train: record("train"), sample: record("sample"), eval: record("eval"), info: record("info") } };
}

/** The positional arguments each command needs so that only the option under test can fail. */
const POSITIONAL: Record<CommandName, string[]> = { train: ["corpus.txt"], sample: [], eval: ["text.txt"], info: [] };

const declare: Record<CommandName, (command: Command) => void> = {
  train: addTrainOptions,
  sample: addSampleOptions,
  eval: addEvalOptions,
  info: addInfoOptions,
};

/** Long flags that take a value, as commander declares them for `command`. */
function valueFlags(command: CommandName): string[] {
  const program = new Command(command);
  declare[command](program);
  // Hidden options are the peers' spellings of the same settings (--rnn-size for --hidden).
  return program.options.filter((option) => (option.required || option.optional) && !option.hidden).map((option) => option.long!);
}

// Out-of-range values per numeric flag: negative, 0 where 0 means nothing, above the maximum, and
// beyond what a double holds as a whole number. Not-a-number spellings are added for every flag.
const OUT_OF_RANGE: Record<string, { command: CommandName; values: string[] }> = {
  "--layers": { command: "train", values: ["-1", "0", "17", "1e9", "1e30"] },
  "--hidden": { command: "train", values: ["-1", "0", "8193", "1e12", "1e30"] },
  "--embed": { command: "train", values: ["-1", "8193", "1e30"] },
  "--dropout": { command: "train", values: ["-0.1", "1", "1.5", "1e308"] },
  "--seq-len": { command: "train", values: ["-1", "0", "100001", "1e30"] },
  "--batch": { command: "train", values: ["-1", "0", "100001", "1e30"] },
  "--lr": { command: "train", values: ["-1", "0", "-0", "-1e-9"] },
  "--momentum": { command: "train", values: ["-0.1", "1", "2", "1e308"] },
  "--lr-decay": { command: "train", values: ["-0.5", "0", "1.5", "1e308"] },
  "--lr-decay-every": { command: "train", values: ["-1", "0", "1e30"] },
  "--warmup": { command: "train", values: ["-1", "1e30"] },
  "--clip": { command: "train", values: ["-1", "-1e-9"] },
  "--weight-decay": { command: "train", values: ["-1", "-1e-9"] },
  "--seed": { command: "train", values: ["-1", "4294967296", "1e20"] },
  "--val-frac": { command: "train", values: ["-0.1", "1", "2"] },
  "--epochs": { command: "train", values: ["-1", "1e30"] },
  "--steps": { command: "train", values: ["-1", "1e30"] },
  "--patience": { command: "train", values: ["-1", "1e30"] },
  "--eval-every": { command: "train", values: ["-1", "1e30"] },
  "--sample-every": { command: "train", values: ["-1", "1e30"] },
  "--sample-length": { command: "train", values: ["-1", "0", "1e30"] },
  "--log-every": { command: "train", values: ["-1", "0", "1e30"] },
  "--keep": { command: "train", values: ["-1", "1e30"] },
  "--threads": { command: "train", values: ["-1", "1025", "1e30"] },
  "--length": { command: "sample", values: ["-1", "0", "1e30"] },
  "--temp": { command: "sample", values: ["-1", "-0.001"] },
  "--top-k": { command: "sample", values: ["-1", "1e30"] },
  "--top-p": { command: "sample", values: ["-0.1", "0", "1.5"] },
  "--count": { command: "sample", values: ["-1", "0", "1e30"] },
};
// --seed is declared by train and by sample: the sample one gets the same cases.
const SAMPLE_SEED = ["-1", "4294967296", "1e20"];

/** Spellings that are not a finite decimal number, for every numeric flag. */
const NOT_A_NUMBER = ["NaN", "nan", "Infinity", "-Infinity", "1e309", "", " ", "0x10", "1_000", "ten", "1e", "--", "1,5"];
/** Spellings that are numbers but not whole ones, for the flags that count things. */
const NOT_WHOLE = ["2.5", "1e-3"];

const INTEGER_FLAGS = new Set([
  "--layers", "--hidden", "--embed", "--seq-len", "--batch", "--lr-decay-every", "--warmup", "--seed", "--epochs", "--steps",
  "--patience", "--eval-every", "--sample-every", "--sample-length", "--log-every", "--keep", "--threads",
  "--length", "--top-k", "--count",
]);

/** Durations and cadences take their own syntax. */
const DURATION_CASES: Array<{ flag: string; values: string[] }> = [
  { flag: "--time", values: ["0s", "0ms", "-1m", "10", "NaN", "Infinity", "1e309s", "", "m", "10 m", "1x"] },
  { flag: "--checkpoint-every", values: ["-1", "0s", "1.5", "NaN", "", "-5m", "1e3", "5 m", "Infinity"] },
];

function argvFor(command: CommandName, flag: string, value: string): string[] {
  // --epochs 0 alone would be "never stops"; with --steps set, only --epochs is under test.
  return [command, ...POSITIONAL[command], flag, value];
}

async function expectUsageError(argv: string[], flagNamed: string): Promise<void> {
  const { handlers, calls } = recording();
  const result = await runMain(argv, { handlers });
  const message = expectOneLineError(result, ExitCode.usage, JSON.stringify(argv));
  expect(message, JSON.stringify(argv)).toContain(flagNamed);
  expect(result.stdout).toBe("");
  expect(calls).toEqual([]);
}

describe("the table covers every numeric option commander declares", () => {
  let numericFlags: Array<[CommandName, string]> = [];
  beforeAll(async () => {
    numericFlags = [];
    for (const command of Object.keys(declare) as CommandName[]) {
      for (const flag of valueFlags(command)) {
        const { handlers } = recording();
        const result = await runMain(argvFor(command, flag, "abc"), { handlers });
        if (/must be a (whole |finite )?number/.test(result.stderr)) numericFlags.push([command, flag]);
      }
    }
  });

  it("finds the numeric flags by probing, and each has out-of-range cases", () => {
    expect(numericFlags.length).toBeGreaterThanOrEqual(29);
    for (const [command, flag] of numericFlags) {
      if (command === "sample" && flag === "--seed") continue;
      expect(OUT_OF_RANGE[flag]?.command, `${command} ${flag} has no out-of-range cases`).toBe(command);
    }
    expect(numericFlags).toContainEqual(["sample", "--seed"]);
  });
});

describe("every numeric option outside its range: exit 2, one line naming the flag", () => {
  const cases: Array<[CommandName, string, string]> = [];
  for (const [flag, { command, values }] of Object.entries(OUT_OF_RANGE)) {
    for (const value of values) cases.push([command, flag, value]);
    for (const value of NOT_A_NUMBER) cases.push([command, flag, value]);
    if (INTEGER_FLAGS.has(flag)) for (const value of NOT_WHOLE) cases.push([command, flag, value]);
  }
  for (const value of [...SAMPLE_SEED, ...NOT_A_NUMBER, ...NOT_WHOLE]) cases.push(["sample", "--seed", value]);
  for (const { flag, values } of DURATION_CASES) for (const value of values) cases.push(["train", flag, value]);

  it(`${cases.length} cases`, async () => {
    expect(cases.length).toBeGreaterThan(500);
    for (const [command, flag, value] of cases) {
      const argv = argvFor(command, flag, value);
      // "--epochs -1" must fail for --epochs, not for "never stops"; give it a limit of its own.
      if (flag === "--epochs") argv.push("--steps", "10");
      await expectUsageError(argv, flag);
    }
  });

  it("an absurdly large whole number is refused naming the maximum, not only the minimum", async () => {
    const { handlers } = recording();
    const steps = await runMain(["train", "corpus.txt", "--steps", "1e30"], { handlers });
    expect(expectOneLineError(steps, ExitCode.usage)).toBe("--steps must be between 0 and 9007199254740991 (got 1e+30)");
    const hidden = await runMain(["train", "corpus.txt", "--hidden", "1e12"], { handlers });
    expect(expectOneLineError(hidden, ExitCode.usage)).toBe("--hidden must be between 1 and 8192 (got 1000000000000)");
  });
});

describe("the same values in a --config file: exit 2, one line naming the key and the file", () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), "charnn-hardening-config-"));
  });

  const keyOf = (flag: string) => flag.slice(2).replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
  const cases: Array<[string, unknown]> = [];
  for (const [flag, { command, values }] of Object.entries(OUT_OF_RANGE)) {
    if (command !== "train") continue;
    for (const value of values) cases.push([keyOf(flag), Number(value)]);
    // JSON has no NaN; these are the wrong types a hand-written file can hold.
    for (const value of ["12", null, true, [1], { value: 1 }]) cases.push([keyOf(flag), value]);
  }

  it(`${cases.length} cases`, async () => {
    expect(cases.length).toBeGreaterThan(150);
    for (const [key, value] of cases) {
      const file = join(folder, "settings.json");
      await writeFile(file, JSON.stringify({ steps: 10, [key]: value }));
      const { handlers, calls } = recording();
      const result = await runMain(["train", "corpus.txt", "--config", "settings.json"], { cwd: folder, handlers });
      const message = expectOneLineError(result, ExitCode.usage, `${key}: ${JSON.stringify(value)}`);
      expect(message).toContain(`"${key}" in settings.json`);
      expect(calls).toEqual([]);
    }
  });
});

describe("values at the edge of a range are valid", () => {
  const VALID: Array<[CommandName, string[], string, unknown]> = [
    ["sample", ["--temp", "0"], "temp", 0],
    ["sample", ["--seed", "0"], "seed", 0],
    ["sample", ["--seed", "4294967295"], "seed", 4294967295],
    ["sample", ["--top-k", "0"], "topK", 0],
    ["sample", ["--top-p", "1"], "topP", 1],
    ["sample", ["--length", "1"], "length", 1],
    ["train", ["--seed", "0"], "seed", 0],
    ["train", ["--dropout", "0"], "dropout", 0],
    ["train", ["--dropout", "0.999"], "dropout", 0.999],
    ["train", ["--embed", "0"], "embed", 0],
    ["train", ["--clip", "0"], "clip", 0],
    ["train", ["--val-frac", "0"], "valFrac", 0],
    ["train", ["--warmup", "0"], "warmup", 0],
    ["train", ["--keep", "0"], "keep", 0],
    ["train", ["--threads", "0"], "threads", 0],
    ["train", ["--eval-every", "0"], "evalEvery", 0],
    ["train", ["--sample-every", "0"], "sampleEvery", 0],
    ["train", ["--checkpoint-every", "0"], "checkpointEvery", { steps: 0 }],
    ["train", ["--checkpoint-every", "90s"], "checkpointEvery", { ms: 90_000 }],
    ["train", ["--epochs", "0", "--steps", "5"], "epochs", 0],
    ["train", ["--steps", "0", "--epochs", "1"], "steps", 0],
    ["train", ["--layers", "16"], "layers", 16],
    ["train", ["--hidden", "8192"], "hidden", 8192],
    ["train", ["--lr", "1e-12"], "lr", 1e-12],
    ["train", ["--momentum", "0"], "momentum", 0],
    ["train", ["--lr-decay", "1"], "lrDecay", 1],
    ["train", ["--time", "1ms"], "time", 1],
    ["train", ["--steps", "9007199254740991"], "steps", 9007199254740991],
  ];

  it.each(VALID)("%s %j", async (command, args, key, value) => {
    const { handlers, calls } = recording();
    const result = await runMain([command, ...POSITIONAL[command], ...args], { handlers });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(ExitCode.ok);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.options[key]).toStrictEqual(value);
  });
});

describe("unknown and conflicting flags: exit 2, one line", () => {
  const UNKNOWN: Array<[string[], RegExp]> = [
    [["train", "corpus.txt", "--bogus"], /^unknown option '--bogus' \(see charnn train --help\)$/],
    [["train", "corpus.txt", "--hiden", "8"], /^unknown option '--hiden', did you mean --hidden\? \(see charnn train --help\)$/],
    [["train", "corpus.txt", "-x"], /^unknown option '-x'/],
    [["train", "corpus.txt", "--temp", "1"], /^unknown option '--temp'/],
    [["sample", "--steps", "5"], /^unknown option '--steps'/],
    [["sample", "--lenght", "5"], /^unknown option '--lenght', did you mean --length\?/],
    [["eval", "text.txt", "--temp", "1"], /^unknown option '--temp'/],
    [["eval", "text.txt", "--length", "5"], /^unknown option '--length'/],
    [["info", "--bets"], /^unknown option '--bets', did you mean --best\?/],
    [["info", "--per-line"], /^unknown option '--per-line'/],
    [["--bogus"], /^unknown option '--bogus'/],
    [["traing", "corpus.txt"], /^unknown command 'traing', did you mean train\?$/],
    [["info", "a.json", "b.json"], /^too many arguments for 'info'/],
    [["sample", "extra"], /^too many arguments for 'sample'/],
    [["train", "corpus.txt", "--lr"], /^option '--lr <rate>' argument missing$/],
    [["train", "corpus.txt", "--out"], /^option '-o, --out <dir>' argument missing$/],
    [["sample", "--checkpoint"], /^option '-c, --checkpoint <file\|dir>' argument missing$/],
    [["train", "corpus.txt", "--out", ""], /^--out needs some text \(got an empty one\)/],
    [["sample", "-c", ""], /^--checkpoint needs some text \(got an empty one\)/],
    [["eval", "text.txt", "-c", ""], /^--checkpoint needs some text \(got an empty one\)/],
    [["info", ""], /^--checkpoint needs some text \(got an empty one\)/],
    [["train", "corpus.txt", "--model", "LSTM"], /^--model must be one of rnn, lstm, gru \(got "LSTM"\)$/],
    [["train", "corpus.txt", "--optimizer", "lbfgs"], /^--optimizer must be one of/],
    [["train", "corpus.txt", "--backend", "gpu"], /^--backend must be one of auto, js, wasm/],
    [["train", "corpus.txt", "--lr-schedule", "linear"], /^--lr-schedule must be one of/],
    [["train", "corpus.txt", "--clip-mode", "max"], /^--clip-mode must be one of/],
    [["sample", "--unknown", "drop"], /^--unknown must be one of error, skip/],
  ];

  it.each(UNKNOWN)("%j", async (argv, pattern) => {
    const { handlers, calls } = recording();
    const result = await runMain(argv, { handlers });
    expect(expectOneLineError(result, ExitCode.usage)).toMatch(pattern);
    expect(result.stdout).toBe("");
    expect(calls).toEqual([]);
  });

  const CONFLICTS: Array<[string[], RegExp]> = [
    [["train", "corpus.txt", "--resume", "--init-from", "old.json"], /^--resume and --init-from cannot be used together$/],
    [["train", "corpus.txt", "--activation", "relu"], /^--activation relu only applies to --model rnn/],
    [["train", "corpus.txt", "--model", "gru", "--activation", "relu"], /^--activation relu only applies to --model rnn/],
    [["train", "corpus.txt", "--epochs", "0"], /^training would never stop/],
    [["train", "corpus.txt", "--epochs", "0", "--steps", "0"], /^training would never stop/],
    [["sample", "--prime", "a", "--prime-file", "p.txt"], /^--prime and --prime-file cannot be used together$/],
  ];

  it.each(CONFLICTS)("%j (checked before any command runs)", async (argv, pattern) => {
    const { handlers, calls } = recording();
    const result = await runMain(argv, { handlers });
    expect(expectOneLineError(result, ExitCode.usage)).toMatch(pattern);
    expect(calls).toEqual([]);
  });

  // Rules the command bodies check, so the real ones run (in an empty folder: nothing to read).
  const BODY_CONFLICTS: Array<[string[], RegExp]> = [
    [["sample", "--temp", "0", "--top-k", "5"], /^--top-k has no effect with --temp 0/],
    [["sample", "--temp", "0", "--top-p", "0.5"], /^--top-p has no effect with --temp 0/],
    [["train", "-", "-", "--steps", "1"], /^"-" \(standard input\) can be named only once$/],
  ];

  it.each(BODY_CONFLICTS)("%j (checked by the command)", async (argv, pattern) => {
    const folder = await mkdtemp(join(tmpdir(), "charnn-hardening-empty-"));
    const result = await runMain(argv, { cwd: folder, stdin: "some text\n" });
    expect(expectOneLineError(result, ExitCode.usage)).toMatch(pattern);
    expect(result.stdout).toBe("");
  });
});

describe("sizes within every range that no machine holds", () => {
  // Valid flags, absurd together: 1024 streams of 1024 steps through 2048 LSTM units would need
  // about 100 GB of workspace (the model itself, 17 million parameters, is fine).
  it.each([["js"], ["wasm"]])("--backend %s: exit 1, one line with the size and what to make smaller", async (backend) => {
    const folder = await mkdtemp(join(tmpdir(), "charnn-hardening-huge-"));
    await writeFile(join(folder, "corpus.txt"), "the quick brown fox jumps over the lazy dog\n".repeat(25_000));
    const result = await runMain(
      ["train", "corpus.txt", "--hidden", "2048", "--layers", "1", "--batch", "1024", "--seq-len", "1024", "--val-frac", "0", "--steps", "1", "--backend", backend, "--json", "--out", "run"],
      { cwd: folder },
    );
    expect(expectOneLineError(result, ExitCode.failure)).toMatch(/could not (allocate|grow their memory to) \d{4,} MiB/);
    expect(result.stderr).toMatch(/\nhint: use a smaller --batch, --seq-len/);
  });
});

describe("a model whose checkpoint could never be written", () => {
  // 3 layers of 2048 LSTM units is 84 million parameters: with Adam's two moments, 1.3 GB of
  // base64, past the longest string node can hold. It used to train to its first save and then
  // end with "unexpected error: Invalid string length".
  it("is refused before training, with exit 2 and the size to aim for; --dry-run says the same", async () => {
    const folder = await mkdtemp(join(tmpdir(), "charnn-hardening-bigckpt-"));
    await writeFile(join(folder, "corpus.txt"), "the quick brown fox jumps over the lazy dog\n".repeat(100));
    for (const extra of [[], ["--dry-run"]]) {
      const started = performance.now();
      const result = await runMain(["train", "corpus.txt", "--hidden", "2048", "--layers", "3", "--backend", "js", "--steps", "1", "--out", "run", ...extra], { cwd: folder });
      expect(expectOneLineError(result, ExitCode.usage)).toMatch(/^this model's checkpoint would be about 1,\d{3} MB of text, more than the 510 MB node can hold in one string$/);
      expect(result.stderr).toMatch(/\nhint: 8\d,\d{3},\d{3} parameters with adam: lower --hidden or --layers \(or --embed\) to about 3\d,\d{3},\d{3} parameters\n$/);
      expect(performance.now() - started).toBeLessThan(3000);
    }
    // A third of that fits, and is not refused.
    const fits = await runMain(["train", "corpus.txt", "--hidden", "1024", "--layers", "3", "--backend", "js", "--steps", "1", "--out", "run", "--dry-run"], { cwd: folder });
    expect(fits.code, fits.stderr).toBe(ExitCode.ok);
  });
});
