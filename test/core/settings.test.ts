// Tests for src/core/settings.ts: what is derived from the table (roles, defaults, the run's
// settings), reading a saved config back through the same rules, and the resume and fine-tune
// merges. The range checks themselves are tested by table in config.test.ts.

import { describe, expect, it } from "vitest";
import {
  INVOCATION_KEYS,
  MODEL_SHAPE_KEYS,
  RUN_KEYS,
  SETTINGS,
  TRAIN_DEFAULTS,
  fineTuneSettings,
  keysWithRole,
  readSavedConfig,
  resolveSampleOptions,
  resolveTrainConfig,
  resolveTrainSettings,
  resumeSettings,
  runSettingsOf,
  settingSourcesOf,
  type TrainConfig,
} from "../../src/core/settings.js";
import { CharnnError, ExitCode } from "../../src/core/errors.js";

function failure(fn: () => unknown): CharnnError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CharnnError);
    return error as CharnnError;
  }
  throw new Error("expected a CharnnError, but nothing was thrown");
}

/** A checkpoint's config as charnn 0.x wrote it: every key, the invocation's switches included. */
const V1_SAVED: Record<string, unknown> = { ...TRAIN_DEFAULTS, hidden: 16, steps: 5, epochs: 0, resume: true, initFrom: "a.json" };

describe("roles on resume", () => {
  it("fixed: the model's shape, the data layout, the optimizer and the seed", () => {
    expect(keysWithRole("fixed")).toEqual(["model", "activation", "layers", "hidden", "embed", "learnInit", "seqLen", "batch", "optimizer", "seed", "valFrac", "valFile"]);
  });

  it("trajectory: what changes the arithmetic of later steps", () => {
    expect(keysWithRole("trajectory")).toEqual(["dropout", "lr", "momentum", "lrSchedule", "lrDecay", "lrDecayEvery", "warmup", "clip", "clipMode", "weightDecay"]);
  });

  it("invocation: out, keep, json, logEvery, quiet, verbose and the run-control switches, which the run does not keep", () => {
    expect([...INVOCATION_KEYS].sort()).toEqual(["dryRun", "initFrom", "json", "keep", "logEvery", "out", "quiet", "resume", "verbose"]);
    for (const key of INVOCATION_KEYS) expect(RUN_KEYS).not.toContain(key);
    expect(RUN_KEYS.length + INVOCATION_KEYS.length).toBe(Object.keys(SETTINGS.train).length);
  });

  it("the model shape that fine-tuning takes from its checkpoint is fixed on resume", () => {
    expect(MODEL_SHAPE_KEYS).toEqual(["model", "activation", "layers", "hidden", "embed", "learnInit"]);
    for (const key of MODEL_SHAPE_KEYS) expect(SETTINGS.train[key].resume).toBe("fixed");
  });

  it("every default passes its own rule", () => {
    expect(resolveTrainConfig(TRAIN_DEFAULTS, {})).toEqual(TRAIN_DEFAULTS);
  });
});

describe("resolveTrainSettings", () => {
  it("reports what was given: flags in table order, then the file's keys", () => {
    const { given } = resolveTrainSettings({ seed: 3, hidden: 64 }, { clip: 1, lr: 0.01 });
    expect([...given]).toEqual(["lr", "clip", "seed", "hidden"]);
  });

  it("errors carry a stable code and the facts", () => {
    const error = failure(() => resolveTrainConfig(undefined, { layers: 17 }));
    expect(error.code).toBe("setting.out-of-range");
    expect(error.facts).toMatchObject({ key: "layers", value: 17, requirement: "between 1 and 16" });
    expect(failure(() => resolveTrainConfig(undefined, { layers: 2.5 })).code).toBe("setting.invalid");
    expect(failure(() => resolveTrainConfig({ hiden: 3 }, {})).facts).toMatchObject({ key: "hiden", suggestion: "hidden" });
  });

  it("a library caller may spell the settings its own way; the CLI's flags are the default", () => {
    const asKey = (key: string) => key;
    expect(failure(() => resolveTrainConfig(undefined, { layers: 0 }, undefined, asKey)).message).toBe("layers must be between 1 and 16 (got 0)");
    expect(failure(() => resolveTrainConfig(undefined, { epochs: 0 }, undefined, asKey)).message).toBe("training would never stop: set epochs, steps or time");
    expect(failure(() => resolveTrainConfig(undefined, { resume: true, initFrom: "a" }, undefined, asKey)).message).toBe("resume and initFrom cannot be used together");
    expect(failure(() => resolveSampleOptions({ topP: 0 }, asKey)).message).toBe("topP must be more than 0 and at most 1 (got 0)");
    expect(failure(() => resolveTrainConfig(undefined, { layers: 0 })).message).toBe("--layers must be between 1 and 16 (got 0)");
  });

  it("settingSourcesOf marks each run setting given or default", () => {
    const { given } = resolveTrainSettings(undefined, { hidden: 64, out: "run" });
    const sources = settingSourcesOf(given);
    expect(sources.hidden).toBe("given");
    expect(sources.layers).toBe("default");
    expect(Object.keys(sources)).toEqual([...RUN_KEYS]);
  });
});

describe("runSettingsOf", () => {
  it("keeps the run's settings and drops the invocation's, as a copy", () => {
    const config = resolveTrainConfig(undefined, { out: "run", json: true, keep: 9, hidden: 64 });
    const run = runSettingsOf(config);
    expect(Object.keys(run)).toEqual([...RUN_KEYS]);
    expect(run).not.toHaveProperty("out");
    expect(run.hidden).toBe(64);
    (run.checkpointEvery as { steps: number }).steps = 1;
    expect(config.checkpointEvery).toEqual({ steps: 1000 });
  });
});

describe("readSavedConfig", () => {
  it("reads a config back to the run's settings, ignoring the switches older files kept", () => {
    const run = readSavedConfig(V1_SAVED);
    expect(run).toEqual(runSettingsOf(V1_SAVED as TrainConfig));
    expect(run).not.toHaveProperty("resume");
  });

  it("reads what runSettingsOf wrote", () => {
    const run = runSettingsOf(resolveTrainConfig(undefined, { model: "gru", time: 60_000 }));
    expect(readSavedConfig(JSON.parse(JSON.stringify(run)))).toEqual(run);
  });

  it.each([
    [{ ...V1_SAVED, layers: 1e9 }, '"layers" in the config must be between 1 and 16 (got 1000000000)'],
    [{ ...V1_SAVED, model: "transformer" }, '"model" in the config must be one of rnn, lstm, gru (got "transformer")'],
    [{ ...V1_SAVED, colour: 1 }, 'unknown key "colour" in the config'],
    [Object.fromEntries(Object.entries(V1_SAVED).filter(([key]) => key !== "seed")), 'missing field "config.seed"'],
    [{ ...V1_SAVED, epochs: 0, steps: 0, time: null }, "training would never stop: set --epochs, --steps or --time"],
    [[1, 2], '"config" must be an object (got [1,2])'],
  ])("refuses %j as bad input", (record, message) => {
    const error = failure(() => readSavedConfig(record));
    expect(error.exitCode).toBe(ExitCode.badInput);
    expect(error.code).toBe("checkpoint.damaged");
    expect(error.message).toBe(message);
  });

  it("a missing per-invocation switch is fine", () => {
    const { out: _out, keep: _keep, ...rest } = V1_SAVED;
    expect(readSavedConfig(rest).hidden).toBe(16);
  });
});

describe("resumeSettings", () => {
  const saved = readSavedConfig({ ...V1_SAVED, lr: 0.01, keep: 7 });
  const resolve = (flags: Partial<TrainConfig>) => resolveTrainSettings(undefined, { resume: true, ...flags });

  it("what was not given comes from the run; the invocation's switches from this invocation", () => {
    const { config: current, given } = resolve({ json: true });
    const { config, inexact } = resumeSettings(saved, current, given);
    expect(config.hidden).toBe(16);
    expect(config.lr).toBe(0.01);
    expect(config.steps).toBe(5);
    expect(config.json).toBe(true);
    expect(config.resume).toBe(true);
    expect(config.keep).toBe(TRAIN_DEFAULTS.keep); // keep is the invocation's, not the run's
    expect(config.initFrom).toBeNull();
    expect(inexact).toEqual([]);
  });

  it("a fixed setting given with the same value is fine; with another it is a usage error", () => {
    const same = resolve({ hidden: 16 });
    expect(resumeSettings(saved, same.config, same.given).config.hidden).toBe(16);
    const other = resolve({ hidden: 32 });
    const error = failure(() => resumeSettings(saved, other.config, other.given));
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.code).toBe("setting.fixed-on-resume");
    expect(error.message).toBe("--hidden 32 does not match the run being resumed (16); it cannot change on resume");
    expect(failure(() => resumeSettings(saved, other.config, other.given, (key) => key)).message).toMatch(/^hidden 32 /);
  });

  it("trajectory settings that change are listed; adjustable ones are not", () => {
    const { config: current, given } = resolve({ clip: 0, lr: 0.01, steps: 50, threads: 2, dropout: 0 });
    const { config, inexact } = resumeSettings(saved, current, given);
    expect(inexact).toEqual(["clip"]); // lr and dropout did not change
    expect(config).toMatchObject({ clip: 0, steps: 50, threads: 2 });
  });

  it("a new total changes a cosine schedule, and only a cosine one", () => {
    const cosine = readSavedConfig({ ...V1_SAVED, lrSchedule: "cosine" });
    const more = resolve({ steps: 8 });
    expect(resumeSettings(cosine, more.config, more.given).inexact).toEqual(["steps"]);
    expect(resumeSettings(saved, more.config, more.given).inexact).toEqual([]);
    const switched = resolve({ steps: 8, lrSchedule: "cosine" });
    expect(resumeSettings(saved, switched.config, switched.given).inexact).toEqual(["lrSchedule"]);
  });
});

describe("fineTuneSettings", () => {
  const saved = readSavedConfig({ ...V1_SAVED, model: "gru", layers: 1 });

  it("takes the model's shape from the checkpoint and the rest from this invocation", () => {
    const { config: current, given } = resolveTrainSettings(undefined, { initFrom: "a.json", lr: 0.1, seed: 9 });
    const config = fineTuneSettings(saved, current, given);
    expect(config).toMatchObject({ model: "gru", layers: 1, hidden: 16, lr: 0.1, seed: 9, initFrom: "a.json", steps: 0 });
  });

  it("a shape setting given with another value is a usage error", () => {
    const { config: current, given } = resolveTrainSettings(undefined, { initFrom: "a.json", layers: 3 });
    const error = failure(() => fineTuneSettings(saved, current, given));
    expect(error.message).toBe("--layers 3 does not match the --init-from checkpoint (1)");
    expect(error.code).toBe("setting.fixed-on-fine-tune");
  });
});
