// Tests for src/core/config.ts: duration parsing, the strict train-config merge (defaults < file <
// flags), every range check by table, unknown keys with suggestions, and the sample options.

import { describe, expect, it } from "vitest";
import {
  SAMPLE_DEFAULTS,
  TRAIN_DEFAULTS,
  closestKey,
  flagName,
  parseDuration,
  parseStepsOrDuration,
  resolveEvalOptions,
  resolveInfoOptions,
  resolveSampleOptions,
  resolveTrainConfig,
  type TrainConfig,
} from "../../src/core/config.js";
import { CharnnError, ExitCode } from "../../src/core/errors.js";

/** Runs fn and returns the CharnnError it throws (failing the test if it throws nothing). */
function usageFailure(fn: () => unknown): CharnnError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CharnnError);
    expect((error as CharnnError).exitCode).toBe(ExitCode.usage);
    return error as CharnnError;
  }
  throw new Error("expected a usage error, but nothing was thrown");
}

describe("parseDuration", () => {
  it.each([
    ["500ms", 500],
    ["90s", 90_000],
    ["10m", 600_000],
    ["2h", 7_200_000],
    ["1h30m", 5_400_000],
    ["1m30s", 90_000],
    ["1.5h", 5_400_000],
    ["1d", 86_400_000],
    [" 5m ", 300_000],
    ["2m500ms", 120_500],
  ])("%s is %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "10", "abc", "10x", "m", "-5m", "1h 30m", "5 m", "1e3s", "Infinitys"])("rejects %j", (text) => {
    const error = usageFailure(() => parseDuration(text));
    expect(error.message).toContain(`"${text}"`);
  });
});

describe("parseStepsOrDuration", () => {
  it.each([
    ["1000", { steps: 1000 }],
    ["0", { steps: 0 }],
    ["5m", { ms: 300_000 }],
    ["1h", { ms: 3_600_000 }],
    ["90s", { ms: 90_000 }],
  ])("%s", (text, expected) => {
    expect(parseStepsOrDuration(text)).toEqual(expected);
  });

  it.each(["", "1.5", "-3", "ten", "5 minutes"])("rejects %j", (text) => {
    usageFailure(() => parseStepsOrDuration(text));
  });
});

describe("flagName", () => {
  it.each([
    ["lr", "--lr"],
    ["seqLen", "--seq-len"],
    ["lrDecayEvery", "--lr-decay-every"],
    ["initFrom", "--init-from"],
  ])("%s → %s", (key, flag) => {
    expect(flagName(key)).toBe(flag);
  });
});

describe("resolveTrainConfig: defaults and precedence", () => {
  it("returns the documented defaults when nothing is given", () => {
    const config = resolveTrainConfig(undefined, {});
    expect(config).toEqual(TRAIN_DEFAULTS);
    expect(config).toMatchObject({
      model: "lstm",
      layers: 2,
      hidden: 128,
      lr: 2e-3,
      epochs: 10,
      steps: 0,
      time: null,
      checkpointEvery: { steps: 1000 },
      seed: 1,
      out: "checkpoints",
    });
  });

  it("returns a copy: changing the result leaves the defaults alone", () => {
    const config = resolveTrainConfig(undefined, {});
    config.layers = 7;
    (config.checkpointEvery as { steps: number }).steps = 5;
    expect(TRAIN_DEFAULTS.layers).toBe(2);
    expect(TRAIN_DEFAULTS.checkpointEvery).toEqual({ steps: 1000 });
  });

  it("the file overrides defaults and flags override the file", () => {
    const file = { hidden: 256, layers: 3, lr: 0.01, model: "gru" };
    const config = resolveTrainConfig(file, { layers: 4, dropout: 0.25 });
    expect(config.hidden).toBe(256); // file
    expect(config.model).toBe("gru"); // file
    expect(config.lr).toBe(0.01); // file
    expect(config.layers).toBe(4); // flag beats file
    expect(config.dropout).toBe(0.25); // flag beats default
    expect(config.batch).toBe(32); // default
  });

  it("a flag can switch off a boolean the file switched on", () => {
    expect(resolveTrainConfig({ learnInit: true }, {}).learnInit).toBe(true);
    expect(resolveTrainConfig({ learnInit: true }, { learnInit: false }).learnInit).toBe(false);
  });

  it("accepts durations in the file as text or milliseconds", () => {
    expect(resolveTrainConfig({ time: "1h30m" }, {}).time).toBe(5_400_000);
    expect(resolveTrainConfig({ time: 90_000 }, {}).time).toBe(90_000);
    expect(resolveTrainConfig({ time: null, epochs: 3 }, {}).time).toBeNull();
  });

  it("accepts a checkpoint cadence in the file as a count, text or object", () => {
    expect(resolveTrainConfig({ checkpointEvery: 500 }, {}).checkpointEvery).toEqual({ steps: 500 });
    expect(resolveTrainConfig({ checkpointEvery: "5m" }, {}).checkpointEvery).toEqual({ ms: 300_000 });
    expect(resolveTrainConfig({ checkpointEvery: { ms: 60_000 } }, {}).checkpointEvery).toEqual({ ms: 60_000 });
    expect(resolveTrainConfig(undefined, { checkpointEvery: { steps: 50 } }).checkpointEvery).toEqual({ steps: 50 });
  });

  it("seed 0 is a valid seed", () => {
    expect(resolveTrainConfig(undefined, { seed: 0 }).seed).toBe(0);
    expect(resolveTrainConfig(undefined, { seed: 2 ** 32 - 1 }).seed).toBe(4294967295);
  });
});

describe("resolveTrainConfig: stopping", () => {
  it("--steps alone turns the default epoch limit off", () => {
    const config = resolveTrainConfig(undefined, { steps: 5000 });
    expect(config.steps).toBe(5000);
    expect(config.epochs).toBe(0);
  });

  it("--time alone turns the default epoch limit off", () => {
    const config = resolveTrainConfig({ time: "10m" }, {});
    expect(config.time).toBe(600_000);
    expect(config.epochs).toBe(0);
  });

  it("an explicit --epochs stays alongside --steps", () => {
    const config = resolveTrainConfig({ epochs: 3 }, { steps: 100 });
    expect(config.epochs).toBe(3);
    expect(config.steps).toBe(100);
  });

  it("refuses a run with no limit at all", () => {
    const error = usageFailure(() => resolveTrainConfig(undefined, { epochs: 0 }));
    expect(error.message).toBe("training would never stop: set --epochs, --steps or --time");
  });
});

describe("resolveTrainConfig: every range error names the flag", () => {
  const cases: [keyof TrainConfig, unknown, string][] = [
    ["layers", 0, "--layers must be between 1 and 16 (got 0)"],
    ["layers", 17, "--layers must be between 1 and 16 (got 17)"],
    ["layers", 2.5, "--layers must be a whole number (got 2.5)"],
    ["hidden", 0, "--hidden must be between 1 and 8192 (got 0)"],
    ["hidden", 8193, "--hidden must be between 1 and 8192 (got 8193)"],
    ["embed", -1, "--embed must be between 0 and 8192 (got -1)"],
    ["embed", 9000, "--embed must be between 0 and 8192 (got 9000)"],
    ["dropout", 1.5, "--dropout must be at least 0 and below 1 (got 1.5)"],
    ["dropout", 1, "--dropout must be at least 0 and below 1 (got 1)"],
    ["dropout", -0.1, "--dropout must be at least 0 and below 1 (got -0.1)"],
    ["dropout", Number.NaN, "--dropout must be a finite number (got NaN)"],
    ["seqLen", 0, "--seq-len must be between 1 and 100000 (got 0)"],
    ["seqLen", 100_001, "--seq-len must be between 1 and 100000 (got 100001)"],
    ["batch", -1, "--batch must be between 1 and 100000 (got -1)"],
    ["batch", 1.5, "--batch must be a whole number (got 1.5)"],
    ["lr", 0, "--lr must be more than 0 (got 0)"],
    ["lr", -0.1, "--lr must be more than 0 (got -0.1)"],
    ["lr", Number.POSITIVE_INFINITY, "--lr must be a finite number (got Infinity)"],
    ["lr", Number.NaN, "--lr must be a finite number (got NaN)"],
    ["momentum", 1, "--momentum must be at least 0 and below 1 (got 1)"],
    ["momentum", -0.5, "--momentum must be at least 0 and below 1 (got -0.5)"],
    ["lrDecay", 0, "--lr-decay must be more than 0 and at most 1 (got 0)"],
    ["lrDecay", 1.1, "--lr-decay must be more than 0 and at most 1 (got 1.1)"],
    ["lrDecayEvery", 0, "--lr-decay-every must be at least 1 (got 0)"],
    ["warmup", -1, "--warmup must be at least 0 (got -1)"],
    ["clip", -1, "--clip must be at least 0 (got -1)"],
    ["weightDecay", -0.01, "--weight-decay must be at least 0 (got -0.01)"],
    ["seed", -1, "--seed must be between 0 and 4294967295 (got -1)"],
    ["seed", 2 ** 32, "--seed must be between 0 and 4294967295 (got 4294967296)"],
    ["seed", 1.5, "--seed must be a whole number (got 1.5)"],
    ["valFrac", 1, "--val-frac must be at least 0 and below 1 (got 1)"],
    ["valFrac", -0.1, "--val-frac must be at least 0 and below 1 (got -0.1)"],
    ["epochs", -1, "--epochs must be at least 0 (got -1)"],
    ["steps", -5, "--steps must be at least 0 (got -5)"],
    ["steps", 10.5, "--steps must be a whole number (got 10.5)"],
    ["time", 0, "--time must be more than 0 (leave it unset for no time limit) (got 0)"],
    ["patience", -1, "--patience must be at least 0 (got -1)"],
    ["evalEvery", -1, "--eval-every must be at least 0 (got -1)"],
    ["sampleEvery", -1, "--sample-every must be at least 0 (got -1)"],
    ["sampleLength", 0, "--sample-length must be at least 1 (got 0)"],
    ["logEvery", 0, "--log-every must be at least 1 (got 0)"],
    ["keep", -1, "--keep must be at least 0 (got -1)"],
    ["threads", -1, "--threads must be between 0 and 1024 (got -1)"],
    ["threads", 2000, "--threads must be between 0 and 1024 (got 2000)"],
    ["model", "transformer", '--model must be one of rnn, lstm, gru (got "transformer")'],
    ["activation", "sigmoid", '--activation must be one of tanh, relu (got "sigmoid")'],
    ["optimizer", "lion", '--optimizer must be one of adam, sgd, rmsprop, adagrad (got "lion")'],
    ["lrSchedule", "linear", '--lr-schedule must be one of constant, step, cosine (got "linear")'],
    ["clipMode", "both", '--clip-mode must be one of norm, value (got "both")'],
    ["backend", "gpu", '--backend must be one of auto, js, wasm, wasm-relaxed (got "gpu")'],
    ["out", "", "--out needs some text (got an empty one)"],
    ["valFile", "", "--val-file needs some text (got an empty one)"],
  ];

  it.each(cases)("%s = %s", (key, value, message) => {
    const error = usageFailure(() => resolveTrainConfig(undefined, { [key]: value } as Partial<TrainConfig>));
    expect(error.message).toBe(message);
  });

  it("rejects a zero or negative checkpoint duration", () => {
    const error = usageFailure(() => resolveTrainConfig(undefined, { checkpointEvery: { ms: 0 } }));
    expect(error.message).toContain("--checkpoint-every must be a step count");
  });
});

describe("resolveTrainConfig: the config file", () => {
  it("names the file key, not the flag, for a bad value in the file", () => {
    const error = usageFailure(() => resolveTrainConfig({ dropout: 1.5 }, {}, "run.json"));
    expect(error.message).toBe('"dropout" in run.json must be at least 0 and below 1 (got 1.5)');
  });

  it("requires real JSON types, not strings that look like numbers", () => {
    const error = usageFailure(() => resolveTrainConfig({ layers: "2" }, {}, "run.json"));
    expect(error.message).toBe('"layers" in run.json must be a whole number (got "2")');
    const flagError = usageFailure(() => resolveTrainConfig({ json: "yes" }, {}, "run.json"));
    expect(flagError.message).toBe('"json" in run.json must be true or false (got "yes")');
  });

  it.each([
    ["hiden", "hidden"],
    ["learning_rate", "lr"],
    ["batch_size", "batch"],
    ["colour", null],
    ["temperature", null],
    ["seq-len", "seqLen"],
    ["seq_len", "seqLen"],
    ["lr_decay", "lrDecay"],
    ["optimiser", "optimizer"],
    ["epoch", "epochs"],
  ])("unknown key %j suggests %j", (key, suggestion) => {
    const error = usageFailure(() => resolveTrainConfig({ [key]: 1 }, {}, "run.json"));
    const expected = suggestion
      ? `unknown key "${key}" in run.json (did you mean "${suggestion}"?)`
      : `unknown key "${key}" in run.json`;
    expect(error.message).toBe(expected);
  });

  it.each([[[1, 2]], [null], ["lstm"], [3]])("rejects a file that is not an object: %j", (file) => {
    const error = usageFailure(() => resolveTrainConfig(file, {}, "run.json"));
    expect(error.message).toMatch(/^run\.json must hold a JSON object of settings/);
  });

  it("names the file generically when no name is given", () => {
    const error = usageFailure(() => resolveTrainConfig({ nope: 1 }, {}));
    expect(error.message).toBe('unknown key "nope" in the config file');
  });

  it.each([
    [{ checkpointEvery: { steps: 1, ms: 2 } }],
    [{ checkpointEvery: { minutes: 5 } }],
    [{ checkpointEvery: "soon" }],
    [{ checkpointEvery: -1 }],
    [{ checkpointEvery: true }],
  ])("rejects a malformed checkpoint cadence: %j", (file) => {
    const error = usageFailure(() => resolveTrainConfig(file, {}, "run.json"));
    expect(error.message).toMatch(/^"checkpointEvery" in run\.json must be a step count \(1000\) or a duration \(5m\)/);
  });

  it("rejects a malformed time budget", () => {
    const error = usageFailure(() => resolveTrainConfig({ time: "forever" }, {}, "run.json"));
    expect(error.message).toContain('"time" in run.json must be a duration');
  });
});

describe("resolveTrainConfig: combinations", () => {
  it("--resume and --init-from exclude each other", () => {
    const error = usageFailure(() => resolveTrainConfig(undefined, { resume: true, initFrom: "a.json" }));
    expect(error.message).toBe("--resume and --init-from cannot be used together");
    expect(error.hint).toContain("--init-from starts a new run");
  });

  it("--activation relu needs --model rnn", () => {
    const error = usageFailure(() => resolveTrainConfig(undefined, { activation: "relu" }));
    expect(error.message).toBe("--activation relu only applies to --model rnn (got --model lstm)");
    expect(resolveTrainConfig(undefined, { activation: "relu", model: "rnn" }).activation).toBe("relu");
  });
});

describe("closestKey", () => {
  it("finds nothing when every key is far away", () => {
    expect(closestKey("zzzzzz", ["lr", "batch"])).toBeNull();
  });
  it("prefers the nearest key", () => {
    expect(closestKey("batc", ["batch", "hidden"])).toBe("batch");
  });
});

describe("resolveSampleOptions", () => {
  it("returns the documented defaults", () => {
    expect(resolveSampleOptions({})).toEqual(SAMPLE_DEFAULTS);
    expect(SAMPLE_DEFAULTS).toMatchObject({
      checkpoint: "checkpoints/latest.json",
      length: 500,
      temp: 1,
      topK: 0,
      topP: 1,
      seed: null,
      echo: true,
      unknown: "error",
      count: 1,
    });
  });

  it("keeps typed values", () => {
    const options = resolveSampleOptions({ temp: 0, seed: 0, topK: 5, topP: 0.9, prime: "ROMEO:", echo: false });
    expect(options).toMatchObject({ temp: 0, seed: 0, topK: 5, topP: 0.9, prime: "ROMEO:", echo: false });
  });

  it.each([
    [{ temp: -0.5 }, "--temp must be at least 0 (got -0.5)"],
    [{ temp: Number.POSITIVE_INFINITY }, "--temp must be a finite number (got Infinity)"],
    [{ topP: 0 }, "--top-p must be more than 0 and at most 1 (got 0)"],
    [{ topP: 1.5 }, "--top-p must be more than 0 and at most 1 (got 1.5)"],
    [{ topK: -1 }, "--top-k must be at least 0 (got -1)"],
    [{ length: 0 }, "--length must be at least 1 (got 0)"],
    [{ count: 0 }, "--count must be at least 1 (got 0)"],
    [{ seed: -1 }, "--seed must be between 0 and 4294967295 (got -1)"],
    [{ prime: "a", primeFile: "b.txt" }, "--prime and --prime-file cannot be used together"],
  ])("%j", (flags, message) => {
    const error = usageFailure(() => resolveSampleOptions(flags));
    expect(error.message).toBe(message);
  });
});

describe("resolveEvalOptions and resolveInfoOptions", () => {
  it("fill defaults and keep typed values", () => {
    expect(resolveEvalOptions({})).toEqual({ checkpoint: "checkpoints/latest.json", best: false, json: false, perLine: false, quiet: false });
    expect(resolveEvalOptions({ best: true, perLine: true }).perLine).toBe(true);
    expect(resolveInfoOptions({})).toEqual({ checkpoint: "checkpoints/latest.json", best: false, json: false, quiet: false });
    expect(resolveInfoOptions({ checkpoint: "run/best.json", json: true })).toEqual({ checkpoint: "run/best.json", best: false, json: true, quiet: false });
  });

  it("rejects an empty checkpoint path", () => {
    expect(usageFailure(() => resolveEvalOptions({ checkpoint: "" })).message).toBe("--checkpoint needs some text (got an empty one)");
  });
});
