// Tests of src/core/train/run.ts without the CLI or a file system: where a run starts, the
// settings that hold on resume and fine-tune, the plan's checks (empty text, a different text on
// resume, validation text, a checkpoint too large to write), the dry-run estimate, and real tiny
// runs through in-memory hooks: exact resume, an AbortSignal, the lock hook and the transplant.

import { describe, expect, it } from "vitest";
import type { CheckpointState } from "../../../src/core/checkpoint/format.js";
import { CharnnError, ExitCode } from "../../../src/core/errors.js";
import { parameterCount } from "../../../src/core/nn/params.js";
import { resolveTrainSettings, type TrainConfig } from "../../../src/core/settings.js";
import { jsKernels } from "../../../src/core/tensor/kernels.js";
import type { TrainEvent } from "../../../src/core/train/events.js";
import {
  NODE_MAX_STRING_LENGTH,
  decideStart,
  dryRunEstimate,
  planRun,
  startSettings,
  train,
  type PlanInput,
  type RunHooks,
  type RunStart,
  type Text,
} from "../../../src/core/train/run.js";

const CORPUS = "the quick brown fox jumps over the lazy dog. ".repeat(12);
const TINY = { model: "gru", layers: 1, hidden: 8, seqLen: 8, batch: 2, evalEvery: 0, checkpointEvery: { steps: 2 }, valFrac: 0.1, backend: "js", logEvery: 1 } as const;

const textOf = (text: string, name = "corpus.txt"): Text => ({ codePoints: Uint32Array.from([...text].map((c) => c.codePointAt(0)!)), sources: [name] });

function settings(flags: Partial<TrainConfig>): { requested: TrainConfig; given: ReadonlySet<string> } {
  const { config, given } = resolveTrainSettings(undefined, { ...TINY, ...flags });
  return { requested: config, given };
}

function failure(promise: Promise<unknown>): Promise<CharnnError> {
  return promise.then(
    () => {
      throw new Error("expected a CharnnError");
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(CharnnError);
      return error as CharnnError;
    },
  );
}

function planInput(flags: Partial<TrainConfig>, start: RunStart = { kind: "new" }, overrides: Partial<PlanInput> = {}): PlanInput & { events: TrainEvent[] } {
  const events: TrainEvent[] = [];
  return {
    ...settings(flags),
    start,
    text: textOf(CORPUS),
    readValidation: async () => textOf("the lazy dog"),
    maxCheckpointChars: NODE_MAX_STRING_LENGTH,
    emit: (event) => events.push(event),
    events,
    ...overrides,
  };
}

/** Plans and trains in memory; returns every saved state and the events. */
async function run(flags: Partial<TrainConfig>, start: RunStart = { kind: "new" }, hooks: Partial<RunHooks> = {}, text = CORPUS) {
  const input = planInput(flags, start, { text: textOf(text) });
  const plan = await planRun(input);
  const saved: CheckpointState[] = [];
  let clock = 0;
  const end = await train(plan, jsKernels, {
    emit: input.emit,
    save: async (state) => (saved.push(state), "latest"),
    now: () => (clock += 1),
    command: ["train", "corpus.txt"],
    host: { charnnVersion: "0.1.0", node: "v20.0.0", platform: "test-x64" },
    isoNow: () => "2026-01-01T00:00:00.000Z",
    ...hooks,
  });
  return { end, saved, events: input.events, plan };
}

const lastOf = <T>(items: T[]): T => items[items.length - 1]!;
const warnings = (events: TrainEvent[]) => events.flatMap((event) => (event.type === "warning" ? [event.message] : []));

describe("decideStart", () => {
  it.each([
    [{ resume: true, initFrom: null, dryRun: false }, true, "resume"],
    [{ resume: true, initFrom: null, dryRun: false }, false, "nothing-to-resume"],
    [{ resume: false, initFrom: null, dryRun: false }, true, "folder-holds-a-run"],
    [{ resume: false, initFrom: "a.json", dryRun: false }, true, "folder-holds-a-run"],
    [{ resume: false, initFrom: null, dryRun: true }, true, "new"],
    [{ resume: false, initFrom: "a.json", dryRun: true }, true, "init"],
    [{ resume: false, initFrom: "a.json", dryRun: false }, false, "init"],
    [{ resume: false, initFrom: null, dryRun: false }, false, "new"],
  ])("%j with a run in the folder: %s → %s", (switches, holdsRun, decision) => {
    expect(decideStart(switches, holdsRun)).toBe(decision);
  });
});

describe("planRun", () => {
  it("an empty text is bad input", async () => {
    const error = await failure(planRun(planInput({ steps: 2 }, { kind: "new" }, { text: textOf("") })));
    expect(error.exitCode).toBe(ExitCode.badInput);
    expect(error.code).toBe("corpus.empty");
    expect(error.message).toBe("the corpus is empty (corpus.txt)");
  });

  it("holds out the validation fraction, or reads the validation file and drops unknown characters", async () => {
    const held = await planRun(planInput({ steps: 2 }));
    expect(held.train.length + held.validation.length).toBe([...CORPUS].length);
    expect(held.validation.length).toBe(Math.round([...CORPUS].length * 0.1));

    const input = planInput({ steps: 2, valFile: "val.txt" }, { kind: "new" }, { readValidation: async () => textOf("lazy dog?!", "val.txt") });
    const fromFile = await planRun(input);
    expect(fromFile.train.length).toBe([...CORPUS].length);
    expect(fromFile.validation.length).toBe("lazy dog".length); // "?" and "!" are not in the text
    expect(warnings(input.events)).toEqual(["val.txt: 2 characters not in the training text are left out of validation"]);
  });

  it("an empty validation file is bad input", async () => {
    const input = planInput({ steps: 2, valFile: "val.txt" }, { kind: "new" }, { readValidation: async () => textOf("", "val.txt") });
    expect((await failure(planRun(input))).message).toBe("the validation text is empty (val.txt)");
  });

  it("refuses, before training, a model whose checkpoint would not fit in one string", async () => {
    const error = await failure(planRun(planInput({ steps: 2 }, { kind: "new" }, { maxCheckpointChars: 1000 })));
    expect(error.code).toBe("run.checkpoint-too-large");
    expect(error.facts.limit).toBe(950);
    expect(error.facts.characters as number).toBeGreaterThan(950);
    // The same model fits node's real limit.
    await planRun(planInput({ steps: 2 }));
  });

  it("the dry-run estimate: parameters, steps and memory of the planned run", async () => {
    const plan = await planRun(planInput({ steps: 7 }));
    const estimate = dryRunEstimate(plan);
    expect(estimate).toMatchObject({ start: "new run", parameters: parameterCount(plan.model), totalSteps: 7, windowsPerEpoch: plan.windowsPerEpoch });
    expect(estimate.memoryBytes.corpus).toBe(4 * [...CORPUS].length);
    expect(estimate.memoryBytes.total).toBe(estimate.memoryBytes.model + estimate.memoryBytes.corpus);
    // Weights, gradients and two adam buffers at least.
    expect(estimate.memoryBytes.model).toBeGreaterThan(4 * 4 * estimate.parameters);
  });
});

describe("a run in memory", () => {
  it("trains to --steps, saving on the cadence and at the end, and reports how it ended", async () => {
    const { end, saved, events } = await run({ steps: 5 });
    expect(end).toMatchObject({ reason: "steps", step: 5 });
    expect(saved.map((state) => state.step)).toEqual([2, 4, 5]);
    expect(events[0]).toMatchObject({ type: "start", resumedFromStep: null, totalSteps: 5 });
    expect(lastOf(events)).toMatchObject({ type: "end", reason: "steps", step: 5 });
    expect(lastOf(saved).invocations).toEqual([{ argv: ["train", "corpus.txt"], startedAt: "2026-01-01T00:00:00.000Z", fromStep: 0 }]);
  });

  it("resuming from a saved state continues exactly: 3 + 3 steps equal 6", async () => {
    const whole = await run({ steps: 6 });
    const first = await run({ steps: 3 });
    const { requested, given } = settings({ steps: 6, resume: true });
    const start: RunStart = { kind: "resume", checkpoint: lastOf(first.saved) };
    expect(startSettings(requested, given, start).inexact).toEqual([]);
    const second = await run({ steps: 6, resume: true }, start);
    expect(second.end.step).toBe(6);
    expect(second.events[0]).toMatchObject({ type: "start", resumedFromStep: 3 });
    const a = lastOf(whole.saved).params, b = lastOf(second.saved).params;
    for (const name of Object.keys(a)) expect(Array.from(b[name]!.data), name).toEqual(Array.from(a[name]!.data));
  });

  it("a resume refuses a fixed setting changed and warns about a trajectory setting changed", async () => {
    const first = await run({ steps: 2 });
    const start: RunStart = { kind: "resume", checkpoint: lastOf(first.saved) };
    const error = await failure(planRun(planInput({ steps: 4, resume: true, hidden: 16 }, start)));
    expect(error.message).toBe("--hidden 16 does not match the run being resumed (8); it cannot change on resume");
    const resumed = await run({ steps: 4, resume: true, lr: 0.01 }, start);
    expect(warnings(resumed.events)).toContain("--lr changed on resume: training continues, but not as the uninterrupted run would have");
  });

  it("a resume on another text is bad input", async () => {
    const first = await run({ steps: 2 });
    const start: RunStart = { kind: "resume", checkpoint: lastOf(first.saved) };
    const error = await failure(planRun(planInput({ steps: 4, resume: true }, start, { text: textOf(CORPUS + "more") })));
    expect(error.code).toBe("run.text-differs");
    expect(error.hint).toContain("--init-from checkpoints/latest.json --out NEWDIR");
  });

  it("an AbortSignal stops after the current step, and the run saves", async () => {
    const controller = new AbortController();
    const { end, saved } = await run({ steps: 50 }, { kind: "new" }, {
      emit: (event) => {
        if (event.type === "step" && event.step === 3) controller.abort();
      },
      signal: controller.signal,
    });
    expect(end).toMatchObject({ reason: "interrupted", step: 3 });
    expect(lastOf(saved).step).toBe(3);
  });

  it("takes the lock hook before the first step and releases it at the end, even when a save fails", async () => {
    const order: string[] = [];
    const acquire = async () => (order.push("acquire"), async () => void order.push("release"));
    await run({ steps: 1 }, { kind: "new" }, { acquire, emit: (event) => void order.push(event.type) });
    expect(order).toEqual(["acquire", "start", "step", "eval", "checkpoint", "end", "release"]);

    order.length = 0;
    const broken = run({ steps: 3 }, { kind: "new" }, { acquire, save: async () => Promise.reject(new Error("disk full")) });
    await expect(broken).rejects.toThrow("disk full");
    expect(lastOf(order)).toBe("release");
  });

  it("fine-tuning takes the shape from the checkpoint, extends the vocabulary and moves each character's weights", async () => {
    const first = await run({ steps: 2 });
    const source = lastOf(first.saved);
    const start: RunStart = { kind: "init", checkpoint: source, path: "old/latest.json" };
    const input = planInput({ steps: 1, initFrom: "old/latest.json", model: "lstm", hidden: 8 }, start, { text: textOf("A brand new text with Zebras. " + CORPUS) });
    await expect(planRun(input)).rejects.toThrow('--model "lstm" does not match the --init-from checkpoint ("gru")');

    const tuned = await run({ steps: 1, initFrom: "old/latest.json", lr: 1e-30 }, start, {}, "A brand new text, Zebras! " + CORPUS);
    expect(tuned.plan.config).toMatchObject({ model: "gru", hidden: 8 });
    expect(warnings(tuned.events)[0]).toMatch(/^the vocabulary grows by \d+ new characters: /);
    expect(dryRunEstimate(tuned.plan).start).toBe("new run from the weights of old/latest.json");
    // With a learning rate of 1e-30 one step leaves the weights as transplanted.
    const oldVocabulary = source.vocabulary, newVocabulary = lastOf(tuned.saved).vocabulary;
    const oldBias = source.params["decoder.bias"]!.data, newBias = lastOf(tuned.saved).params["decoder.bias"]!.data;
    oldVocabulary.forEach((codePoint, i) => expect(newBias[newVocabulary.indexOf(codePoint)]).toBeCloseTo(oldBias[i]!, 6));
    expect(lastOf(tuned.saved).params["weight_hh_l0"]!.data[0]).toBeCloseTo(source.params["weight_hh_l0"]!.data[0]!, 6);
  });
});
