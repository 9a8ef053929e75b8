// Tests for src/cli/options.ts: strict number parsing by table, and that only the options the
// user typed (not commander's defaults) are reported as typed.

import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { TRAIN_DEFAULTS, flagName, type TrainConfig } from "../../src/core/config.js";
import {
  addTrainOptions,
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
