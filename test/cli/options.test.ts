// Tests for src/cli/options.ts: strict number parsing by table, and that only the options the
// user typed (not commander's defaults) are reported as typed.

import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { TRAIN_DEFAULTS, flagName, type TrainConfig } from "../../src/core/config.js";
import { SETTINGS } from "../../src/core/settings.js";
import { atLeast, atMost, below, boolean, choice, integer, moreThan, number } from "../../src/core/settings-rules.js";
import {
  addSampleOptions,
  addSettingOptions,
  addTrainOptions,
  rangeHelp,
  choiceArgument,
  integerArgument,
  numberArgument,
  typedOptions,
} from "../../src/cli/options.js";
import { CharnnError, ExitCode } from "../../src/core/errors.js";

function parseError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CharnnError);
    expect((error as CharnnError).exitCode).toBe(ExitCode.usage);
    return (error as CharnnError).message;
  }
  throw new Error("expected a usage error");
}

describe("numberArgument", () => {
  const parse = numberArgument("--lr");
  it.each([
    ["0.002", 0.002],
    ["2e-3", 0.002],
    ["2E-3", 0.002],
    ["1.", 1],
    [".5", 0.5],
    ["-1", -1],
    ["+3", 3],
    ["10", 10],
  ])("%j → %d", (text, value) => {
    expect(parse(text)).toBe(value);
  });

  it.each([
    ["abc", '--lr must be a number (got "abc")'],
    ["1e-3x", '--lr must be a number (got "1e-3x")'],
    ["", '--lr must be a number (got "")'],
    [" 1", '--lr must be a number (got " 1")'],
    ["0x10", '--lr must be a number (got "0x10")'],
    ["1_000", '--lr must be a number (got "1_000")'],
    ["NaN", '--lr must be a number (got "NaN")'],
    ["Infinity", '--lr must be a number (got "Infinity")'],
    ["1e999", "--lr must be a finite number (got 1e999)"],
  ])("rejects %j", (text, message) => {
    expect(parseError(() => parse(text))).toBe(message);
  });
});

describe("integerArgument", () => {
  const parse = integerArgument("--layers");
  it.each([
    ["2", 2],
    ["-1", -1],
    ["1e3", 1000],
    ["0", 0],
  ])("%j → %d", (text, value) => {
    expect(parse(text)).toBe(value);
  });

  it.each([
    ["2.5", "--layers must be a whole number (got 2.5)"],
    ["two", '--layers must be a number (got "two")'],
    ["1e-1", "--layers must be a whole number (got 1e-1)"],
  ])("rejects %j", (text, message) => {
    expect(parseError(() => parse(text))).toBe(message);
  });
});

describe("choiceArgument", () => {
  it("accepts a listed word and names the flag otherwise", () => {
    const parse = choiceArgument("--model", ["rnn", "lstm", "gru"]);
    expect(parse("gru")).toBe("gru");
    expect(parseError(() => parse("LSTM"))).toBe('--model must be one of rnn, lstm, gru (got "LSTM")');
  });
});

describe("addTrainOptions", () => {
  it("declares a flag for every TrainConfig key, with the TrainConfig key as its attribute", () => {
    const command = new Command("train");
    addTrainOptions(command);
    const attributes = command.options.map((option) => option.attributeName());
    for (const key of Object.keys(TRAIN_DEFAULTS)) {
      expect(attributes, key).toContain(key);
      expect(command.options.some((option) => option.long === flagName(key)), flagName(key)).toBe(true);
    }
  });

  it("reports only what was typed, so defaults never override a --config file", () => {
    const command = new Command("train").exitOverride();
    addTrainOptions(command);
    command.parse(["--layers", "4", "--no-learn-init", "--time", "1h30m", "--checkpoint-every", "5m"], { from: "user" });
    const keys = Object.keys(TRAIN_DEFAULTS) as (keyof TrainConfig)[];
    expect(typedOptions<TrainConfig>(command, keys)).toEqual({
      layers: 4,
      learnInit: false,
      time: 5_400_000,
      checkpointEvery: { ms: 300_000 },
    });
    // commander still knows the defaults; they are just not "typed".
    expect(command.opts().lr).toBe(2e-3);
  });
});

describe("options derived from the settings table", () => {
  it.each([
    [integer(1, 16), "n", " (1-16)"],
    [integer(0), "n", ""],
    [number(moreThan(0)), "rate", " (> 0)"],
    [number(atLeast(0)), "value", " (>= 0)"],
    [number(atLeast(0), below(1)), "p", " (0 <= p < 1)"],
    [number(moreThan(0), atMost(1)), "d", " (0 < d <= 1)"],
    [choice("a", "b"), "x", ""],
  ])("rangeHelp(%j, %s) is %j", (rule, valueName, help) => {
    expect(rangeHelp(rule, valueName)).toBe(help);
  });

  it("no help text repeats a range by hand: help adds it from the rule", () => {
    for (const table of Object.values(SETTINGS)) {
      for (const [key, described] of Object.entries(table)) expect(described.help, key).not.toMatch(/\(\d+-\d+\)|[<>]=? ?\d/);
    }
  });

  it("commander's defaults are the table's, but for switches that are off unless given", () => {
    const command = new Command("train");
    addTrainOptions(command);
    const offSwitches = Object.entries(TRAIN_DEFAULTS).filter(([, value]) => value === false).map(([key]) => key);
    expect(offSwitches).toContain("dryRun");
    const others = Object.fromEntries(Object.entries(TRAIN_DEFAULTS).filter(([key]) => !offSwitches.includes(key)));
    expect(command.opts()).toMatchObject(others);
    for (const key of offSwitches) expect(command.opts()[key]).toBeUndefined();
  });

  it("help does not show '(default: false)' for a switch", () => {
    const command = new Command("train");
    addTrainOptions(command);
    const help = command.helpInformation();
    expect(help).toContain("--dry-run");
    expect(help).not.toContain("(default: false)");
  });

  it("a new descriptor becomes a flag with its short spelling, parser, range, negation and section", () => {
    const table = {
      beamWidth: { rule: integer(1, 64), default: 4, help: "beams kept; see {seqLen}", valueName: "k", short: "b", section: "Search", resume: "invocation" },
      greedy: { rule: boolean, default: false, help: "always the likeliest", negation: "sample instead", resume: "invocation" },
      colour: { rule: boolean, default: true, help: "colour the text", negation: "plain text", resume: "invocation" },
    } as const;
    const command = new Command("x").exitOverride();
    addSettingOptions(command, table);
    const beam = command.options.find((option) => option.long === "--beam-width")!;
    expect(beam.short).toBe("-b");
    expect(beam.description).toBe("beams kept; see --seq-len (1-64)");
    expect(beam.helpGroupHeading).toBe("Search:");
    expect(command.options.map((option) => option.long)).toEqual(["--beam-width", "--greedy", "--no-greedy", "--no-colour"]);
    command.parse(["-b", "8", "--no-colour"], { from: "user" });
    expect(typedOptions<{ beamWidth: number; colour: boolean; greedy: boolean }>(command, ["beamWidth", "colour", "greedy"])).toEqual({ beamWidth: 8, colour: false });
    expect(() => command.parse(["-b", "2.5"], { from: "user" })).toThrow("--beam-width must be a whole number (got 2.5)");
  });
});

describe("aliases", () => {
  const table = {
    temp: { rule: number(atLeast(0)), default: 1, help: "temperature", valueName: "t", aliases: ["temperature"], resume: "invocation" },
    echo: { rule: boolean, default: false, help: "echo", aliases: ["repeat"], resume: "invocation" },
  } as const;
  const parsed = (argv: string[]) => {
    const command = new Command("x").exitOverride();
    addSettingOptions(command, table);
    command.parse(argv, { from: "user" });
    return typedOptions<{ temp: number; echo: boolean }>(command, ["temp", "echo"]);
  };

  it("an alias sets the setting's key, parsed by its rule, and is hidden from help", () => {
    expect(parsed(["--temperature", "0.5", "--repeat"])).toEqual({ temp: 0.5, echo: true });
    expect(parsed(["--temp", "0.7"])).toEqual({ temp: 0.7 });
    const command = new Command("x");
    addSettingOptions(command, table);
    expect(command.helpInformation()).not.toContain("--temperature");
  });

  it("a bad value names the alias that was typed", () => {
    expect(() => parsed(["--temperature", "hot"])).toThrow('--temperature must be a number (got "hot")');
  });
});

describe("the names peers use", () => {
  it("char-rnn, torch-rnn and nanoGPT spellings set the same settings, and -o is --out", () => {
    const train = new Command("train").exitOverride();
    addTrainOptions(train);
    train.parse(["--rnn-size", "64", "--num-layers", "3", "--seq-length", "50", "--batch-size", "8", "--learning-rate", "0.01", "--max-iters", "100", "-o", "runs/a"], { from: "user" });
    expect(typedOptions<TrainConfig>(train, ["hidden", "layers", "seqLen", "batch", "lr", "steps", "out"])).toEqual({
      hidden: 64, layers: 3, seqLen: 50, batch: 8, lr: 0.01, steps: 100, out: "runs/a",
    });
    const sample = new Command("sample").exitOverride();
    addSampleOptions(sample);
    sample.parse(["--temperature", "0.5", "--start-text", "The "], { from: "user" });
    expect(typedOptions<{ temp: number; prime: string }>(sample, ["temp", "prime"])).toEqual({ temp: 0.5, prime: "The " });
    // Hidden from help: one name each there.
    expect(sample.helpInformation()).not.toContain("--temperature");
    expect(train.helpInformation()).toContain("-o, --out <dir>");
  });
});

describe("the README", () => {
  it("documents every flag the settings table declares", async () => {
    const { readFile } = await import("node:fs/promises");
    const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
    for (const table of Object.values(SETTINGS)) {
      for (const [key, described] of Object.entries(table)) {
        const flag = described.rule.kind === "boolean" && described.default === true ? `--no-${flagName(key).slice(2)}` : flagName(key);
        // In backticks, alone or after its short form: `--layers N`, `-n, --length N`.
        expect(readme, flag).toMatch(new RegExp(`(\`|\`-[a-z], )${flag}(?![a-z-])`));
      }
    }
  });
});
