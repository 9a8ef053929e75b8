// Unit tests of src/core/train/loop.ts: when the loop steps, evaluates, saves, samples and stops,
// driven by a scripted trainer (losses chosen per step) and a fake clock, so every cadence and
// stopping rule is checked at exact steps. The numeric Trainer itself is tested in trainer.test.ts.

import { describe, expect, it } from "vitest";
import type { TrainEvent } from "../../../src/core/train/events.js";
import {
  evaluationsSinceBest,
  explodingLoss,
  runLoop,
  totalSteps,
  type LoopCadence,
  type LoopLimits,
  type LoopTrainer,
  type Progress,
} from "../../../src/core/train/loop.js";
import type { StepResult } from "../../../src/core/train/trainer.js";

/** A trainer whose losses are a function of the step; each step advances the fake clock. */
class ScriptedTrainer implements LoopTrainer {
  step: number;
  readonly charsPerStep = 16;
  readonly batcher: { windowsPerEpoch: number };
  readonly model = { config: { vocabSize: 10 } };
  /** Steps at which validationLoss() was asked for. */
  readonly evaluatedAt: number[] = [];

  constructor(
    private readonly clock: FakeClock,
    options: { startStep?: number; windowsPerEpoch?: number; msPerStep?: number; trainLoss?: (step: number) => number; validationLoss?: (step: number) => number | null } = {},
  ) {
    this.step = options.startStep ?? 0;
    this.batcher = { windowsPerEpoch: options.windowsPerEpoch ?? 1000 };
    this.msPerStep = options.msPerStep ?? 10;
    this.trainLossAt = options.trainLoss ?? (() => 1.5);
    this.validationLossAt = options.validationLoss ?? ((step) => 2 - step / 1000);
  }

  private readonly msPerStep: number;
  private readonly trainLossAt: (step: number) => number;
  private readonly validationLossAt: (step: number) => number | null;

  get epoch(): number {
    return Math.floor(this.step / this.batcher.windowsPerEpoch);
  }

  trainStep(): StepResult {
    const loss = this.trainLossAt(this.step + 1);
    this.step++;
    this.clock.ms += this.msPerStep;
    return { loss, gradNorm: 0.5, lr: 0.01, finite: Number.isFinite(loss) };
  }

  validationLoss(): number | null {
    this.evaluatedAt.push(this.step);
    return this.validationLossAt(this.step);
  }
}

class FakeClock {
  ms = 1_000;
}

interface Recorded {
  events: TrainEvent[];
  saves: Array<{ step: number; isBest: boolean; bestOnly?: true }>;
  samples: number[];
}

function hooksFor(trainer: ScriptedTrainer, clock: FakeClock, interruptWhen: (step: number) => boolean = () => false) {
  const recorded: Recorded = { events: [], saves: [], samples: [] };
  return {
    recorded,
    hooks: {
      emit: (event: TrainEvent) => recorded.events.push(event),
      save: async (isBest: boolean, bestOnly?: boolean) => {
        recorded.saves.push({ step: trainer.step, isBest, ...(bestOnly === true ? { bestOnly: true as const } : {}) });
        return bestOnly === true ? "/out/best.json" : "/out/latest.json";
      },
      sample: () => {
        recorded.samples.push(trainer.step);
        return "sample text";
      },
      now: () => clock.ms,
      interrupted: () => interruptWhen(trainer.step),
    },
  };
}

const limits = (overrides: Partial<LoopLimits>): LoopLimits => ({ steps: 0, epochs: 0, timeMs: null, patience: 0, ...overrides });
const cadence = (overrides: Partial<LoopCadence>): LoopCadence => ({ evalEvery: 0, checkpointEvery: { steps: 0 }, sampleEvery: 0, logEvery: 1, ...overrides });
const emptyProgress = (): Progress => ({ train: [], validation: [], bestValidationLoss: null });

const eventsOf = <T extends TrainEvent["type"]>(recorded: Recorded, type: T) =>
  recorded.events.filter((event): event is Extract<TrainEvent, { type: T }> => event.type === type);
const savedSteps = (recorded: Recorded) => recorded.saves.map((save) => save.step);

describe("checkpoint cadence", () => {
  it("saves every N steps and once at the end, never twice for one step", async () => {
    const clock = new FakeClock();
    const trainer = new ScriptedTrainer(clock);
    const { hooks, recorded } = hooksFor(trainer, clock);
    const reason = await runLoop(trainer, emptyProgress(), limits({ steps: 30 }), cadence({ checkpointEvery: { steps: 10 } }), hooks);
    expect(reason).toBe("steps");
    // Step 30 is both a cadence step and the last: one save, with the final evaluation's verdict.
    expect(savedSteps(recorded)).toEqual([10, 20, 30]);
    expect(recorded.saves.at(-1)).toEqual({ step: 30, isBest: true });
    expect(eventsOf(recorded, "checkpoint").map((e) => e.step)).toEqual([10, 20, 30]);
  });

  it("a new best between checkpoints writes best.json alone, not a numbered checkpoint or latest.json", async () => {
    const clock = new FakeClock();
    const trainer = new ScriptedTrainer(clock);
    const { hooks, recorded } = hooksFor(trainer, clock);
    await runLoop(trainer, emptyProgress(), limits({ steps: 30 }), cadence({ evalEvery: 5, checkpointEvery: { steps: 20 } }), hooks);
    const regular = recorded.saves.filter((save) => save.bestOnly === undefined).map((save) => save.step);
    expect(regular).toEqual([20, 30]);
    const bestOnly = recorded.saves.filter((save) => save.bestOnly === true);
    expect(bestOnly.length).toBeGreaterThan(0);
    for (const save of bestOnly) expect(save.step % 20).not.toBe(0);
    expect(bestOnly.every((save) => save.isBest)).toBe(true);
  });

  it("adds a final save when the last step is off the cadence", async () => {
    const clock = new FakeClock();
    const trainer = new ScriptedTrainer(clock);
    const { hooks, recorded } = hooksFor(trainer, clock);
    await runLoop(trainer, emptyProgress(), limits({ steps: 25 }), cadence({ checkpointEvery: { steps: 10 } }), hooks);
    expect(savedSteps(recorded)).toEqual([10, 20, 25]);
  });

  it("counts steps from 0, not from where a resumed run started", async () => {
    const clock = new FakeClock();
    const trainer = new ScriptedTrainer(clock, { startStep: 15 });
    const { hooks, recorded } = hooksFor(trainer, clock);
    await runLoop(trainer, emptyProgress(), limits({ steps: 42 }), cadence({ checkpointEvery: { steps: 10 } }), hooks);
    expect(savedSteps(recorded)).toEqual([20, 30, 40, 42]);
  });

  it("saves by wall-clock duration since the last save", async () => {
    const clock = new FakeClock();
    const trainer = new ScriptedTrainer(clock, { msPerStep: 100 });
    const { hooks, recorded } = hooksFor(trainer, clock);
    await runLoop(trainer, emptyProgress(), limits({ steps: 23 }), cadence({ checkpointEvery: { ms: 450 } }), hooks);
    // 100 ms a step: 500 ms have passed at step 5, then 500 more at 10, 15, 20; 23 is the end.
    expect(savedSteps(recorded)).toEqual([5, 10, 15, 20, 23]);
  });

  it("a best.json-only save for a new best does not restart the duration clock", async () => {
    const clock = new FakeClock();
    const trainer = new ScriptedTrainer(clock, { msPerStep: 100 });
    const { hooks, recorded } = hooksFor(trainer, clock);
    // Validation improves every time, so each evaluation writes best.json; the clock's
    // checkpoints come every 450 ms (5 steps) regardless.
    await runLoop(trainer, emptyProgress(), limits({ steps: 12 }), cadence({ evalEvery: 3, checkpointEvery: { ms: 450 } }), hooks);
    expect(recorded.saves).toEqual([
      { step: 3, isBest: true, bestOnly: true },
      { step: 5, isBest: false },
      { step: 6, isBest: true, bestOnly: true },
      { step: 9, isBest: true, bestOnly: true },
      { step: 10, isBest: false },
      { step: 12, isBest: true },
    ]);
  });

  it("with checkpoints only at the end, saves exactly once", async () => {
    const clock = new FakeClock();
    const trainer = new ScriptedTrainer(clock, { validationLoss: () => null });
    const { hooks, recorded } = hooksFor(trainer, clock);
    await runLoop(trainer, emptyProgress(), limits({ steps: 7 }), cadence({}), hooks);
    expect(recorded.saves).toEqual([{ step: 7, isBest: false }]);
  });
});

describe("evaluation cadence", () => {
  it("evaluates every N steps and at the end", async () => {
    const clock = new FakeClock();
    const trainer = new ScriptedTrainer(clock);
    const { hooks, recorded } = hooksFor(trainer, clock);
    const progress = emptyProgress();
    await runLoop(trainer, progress, limits({ steps: 20 }), cadence({ evalEvery: 7 }), hooks);
    expect(trainer.evaluatedAt).toEqual([7, 14, 20]);
    expect(eventsOf(recorded, "eval").map((e) => [e.step, e.validationLoss])).toEqual([[7, 2 - 7 / 1000], [14, 2 - 14 / 1000], [20, 2 - 20 / 1000]]);
    expect(progress.validation.map(([step]) => step)).toEqual([7, 14, 20]);
    expect(progress.bestValidationLoss).toBe(2 - 20 / 1000);
  });

  it("evaluates only at the end with --eval-every 0", async () => {
    const clock = new FakeClock();
    const trainer = new ScriptedTrainer(clock);
    const { hooks } = hooksFor(trainer, clock);
    await runLoop(trainer, emptyProgress(), limits({ steps: 9 }), cadence({}), hooks);
    expect(trainer.evaluatedAt).toEqual([9]);
  });

  it("writes best.json alone at every new best, and not at a worse one", async () => {
    const clock = new FakeClock();
    const losses: Record<number, number> = { 5: 2.0, 10: 1.5, 15: 1.8, 20: 1.4 };
    const trainer = new ScriptedTrainer(clock, { validationLoss: (step) => losses[step]! });
    const { hooks, recorded } = hooksFor(trainer, clock);
    await runLoop(trainer, emptyProgress(), limits({ steps: 20 }), cadence({ evalEvery: 5 }), hooks);
    expect(recorded.saves).toEqual([{ step: 5, isBest: true, bestOnly: true }, { step: 10, isBest: true, bestOnly: true }, { step: 20, isBest: true }]);
    expect(eventsOf(recorded, "eval").map((e) => e.isBest)).toEqual([true, true, false, true]);
  });

  it("samples every N steps", async () => {
    const clock = new FakeClock();
    const trainer = new ScriptedTrainer(clock);
    const { hooks, recorded } = hooksFor(trainer, clock);
    await runLoop(trainer, emptyProgress(), limits({ steps: 12 }), cadence({ sampleEvery: 5 }), hooks);
    expect(recorded.samples).toEqual([5, 10]);
    expect(eventsOf(recorded, "sample")).toEqual([{ schema: 1, type: "sample", step: 5, text: "sample text" }, { schema: 1, type: "sample", step: 10, text: "sample text" }]);
  });

  it("stamps every event with the schema version", async () => {
    const clock = new FakeClock();
    const trainer = new ScriptedTrainer(clock);
    const { hooks, recorded } = hooksFor(trainer, clock);
    await runLoop(trainer, emptyProgress(), limits({ steps: 12 }), cadence({ sampleEvery: 5, evalEvery: 4, logEvery: 3 }), hooks);
    const types = new Set(recorded.events.map((e) => e.type));
    for (const type of ["step", "eval", "checkpoint", "sample", "end"]) expect(types.has(type as never)).toBe(true);
    for (const event of recorded.events) expect(event.schema).toBe(1);
  });

  it("reports a step event every logEvery steps, with the mean training loss in the history", async () => {
    const clock = new FakeClock();
    const trainer = new ScriptedTrainer(clock, { trainLoss: (step) => step / 4 });
    const { hooks, recorded } = hooksFor(trainer, clock);
    const progress = emptyProgress();
    await runLoop(trainer, progress, limits({ steps: 7 }), cadence({ logEvery: 3 }), hooks);
    expect(eventsOf(recorded, "step").map((e) => [e.step, e.loss])).toEqual([[3, 0.75], [6, 1.5]]);
    // Means of steps 1-3, 4-6, and the partial interval 7.
    expect(progress.train).toEqual([[3, 0.5], [6, 1.25], [7, 1.75]]);
  });
});

describe("stopping", () => {
  it("stops at the epoch limit", async () => {
    const clock = new FakeClock();
    const trainer = new ScriptedTrainer(clock, { windowsPerEpoch: 6 });
    const { hooks, recorded } = hooksFor(trainer, clock);
    expect(await runLoop(trainer, emptyProgress(), limits({ epochs: 2 }), cadence({}), hooks)).toBe("epochs");
    expect(trainer.step).toBe(12);
    expect(eventsOf(recorded, "end")[0]).toMatchObject({ step: 12, reason: "epochs" });
  });

  it("stops at whichever of steps and epochs comes first", async () => {
    const clock = new FakeClock();
    const trainer = new ScriptedTrainer(clock, { windowsPerEpoch: 6 });
    const { hooks } = hooksFor(trainer, clock);
    expect(await runLoop(trainer, emptyProgress(), limits({ epochs: 2, steps: 8 }), cadence({}), hooks)).toBe("steps");
    expect(trainer.step).toBe(8);
  });

  it("stops when the time budget of this invocation is spent, and saves once", async () => {
    const clock = new FakeClock();
    const trainer = new ScriptedTrainer(clock, { startStep: 100, msPerStep: 100 });
    const { hooks, recorded } = hooksFor(trainer, clock);
    expect(await runLoop(trainer, emptyProgress(), limits({ timeMs: 350 }), cadence({}), hooks)).toBe("time");
    // 400 ms after 4 steps is the first time past 350 ms; the budget counts from this invocation.
    expect(trainer.step).toBe(104);
    expect(savedSteps(recorded)).toEqual([104]);
    expect(eventsOf(recorded, "end")[0]).toMatchObject({ reason: "time", elapsedMs: 400 });
  });

  it("a run resumed at its limit trains nothing and writes nothing", async () => {
    const clock = new FakeClock();
    const trainer = new ScriptedTrainer(clock, { startStep: 30 });
    const { hooks, recorded } = hooksFor(trainer, clock);
    expect(await runLoop(trainer, emptyProgress(), limits({ steps: 30 }), cadence({ evalEvery: 10 }), hooks)).toBe("steps");
    expect(trainer.step).toBe(30);
    expect(recorded.saves).toEqual([]);
    expect(trainer.evaluatedAt).toEqual([]);
    expect(recorded.events.map((e) => e.type)).toEqual(["end"]);
  });

  it("stops for patience after N evaluations without a new best", async () => {
    const clock = new FakeClock();
    const losses: Record<number, number> = { 10: 2.0, 20: 1.0, 30: 1.1, 40: 1.05, 50: 1.2, 60: 0.5 };
    const trainer = new ScriptedTrainer(clock, { validationLoss: (step) => losses[step]! });
    const { hooks, recorded } = hooksFor(trainer, clock);
    const reason = await runLoop(trainer, emptyProgress(), limits({ steps: 100, patience: 3 }), cadence({ evalEvery: 10 }), hooks);
    expect(reason).toBe("patience");
    expect(trainer.step).toBe(50);
    expect(trainer.evaluatedAt).toEqual([10, 20, 30, 40, 50]);
    // The step it stopped at is saved once (not as best), after the best saves at 10 and 20.
    expect(recorded.saves).toEqual([{ step: 10, isBest: true, bestOnly: true }, { step: 20, isBest: true, bestOnly: true }, { step: 50, isBest: false }]);
    expect(eventsOf(recorded, "end")[0]).toMatchObject({ reason: "patience", step: 50, bestValidationLoss: 1.0, validationLoss: 1.2 });
  });

  it("counts patience across a resumed run's history", async () => {
    const clock = new FakeClock();
    const trainer = new ScriptedTrainer(clock, { startStep: 20, validationLoss: (step) => 1 + step / 100 });
    const { hooks } = hooksFor(trainer, clock);
    // One evaluation since the best already; the off-cadence 15 (where the earlier part stopped)
    // does not count. Two more without a best make three.
    const progress: Progress = { train: [], validation: [[10, 1.0], [15, 1.05], [20, 1.1]], bestValidationLoss: 1.0 };
    expect(await runLoop(trainer, progress, limits({ steps: 100, patience: 3 }), cadence({ evalEvery: 10 }), hooks)).toBe("patience");
    expect(trainer.step).toBe(40);
  });

  it("an interruption finishes the step, evaluates, saves and returns interrupted", async () => {
    const clock = new FakeClock();
    const trainer = new ScriptedTrainer(clock);
    const { hooks, recorded } = hooksFor(trainer, clock, (step) => step >= 3);
    expect(await runLoop(trainer, emptyProgress(), limits({ steps: 100 }), cadence({ evalEvery: 10 }), hooks)).toBe("interrupted");
    expect(trainer.step).toBe(3);
    expect(trainer.evaluatedAt).toEqual([3]);
    expect(recorded.saves).toEqual([{ step: 3, isBest: true }]);
    expect(recorded.events.at(-1)).toMatchObject({ type: "end", reason: "interrupted", step: 3 });
  });

  it("an interruption right after a saved step does not save that step again", async () => {
    const clock = new FakeClock();
    const trainer = new ScriptedTrainer(clock);
    const { hooks, recorded } = hooksFor(trainer, clock, (step) => step >= 10);
    await runLoop(trainer, emptyProgress(), limits({ steps: 100 }), cadence({ checkpointEvery: { steps: 5 } }), hooks);
    expect(savedSteps(recorded)).toEqual([5, 10]);
  });

  it("an interruption before the first step of a new run still saves, so --resume finds the run", async () => {
    const clock = new FakeClock();
    const trainer = new ScriptedTrainer(clock);
    const { hooks, recorded } = hooksFor(trainer, clock, () => true);
    expect(await runLoop(trainer, emptyProgress(), limits({ steps: 100 }), cadence({}), hooks)).toBe("interrupted");
    expect(trainer.step).toBe(0);
    expect(recorded.saves).toEqual([{ step: 0, isBest: false }]);
    expect(trainer.evaluatedAt).toEqual([]);
  });

  it.each([
    ["a non-finite loss", NaN],
    ["an exploding loss", explodingLoss(10) * 1.01],
  ])("stops on %s without saving", async (_name, badLoss) => {
    const clock = new FakeClock();
    const trainer = new ScriptedTrainer(clock, { trainLoss: (step) => (step === 6 ? badLoss : 2) });
    const { hooks, recorded } = hooksFor(trainer, clock);
    const reason = await runLoop(trainer, emptyProgress(), limits({ steps: 100 }), cadence({ checkpointEvery: { steps: 5 }, evalEvery: 5 }), hooks);
    expect(reason).toBe("diverged");
    expect(trainer.step).toBe(6);
    expect(savedSteps(recorded)).toEqual([5]);
    expect(recorded.events.at(-1)).toMatchObject({ type: "end", reason: "diverged", step: 6 });
  });

  it("a loss just under the exploding limit is not divergence", async () => {
    const clock = new FakeClock();
    const trainer = new ScriptedTrainer(clock, { trainLoss: () => explodingLoss(10) * 0.99 });
    const { hooks } = hooksFor(trainer, clock);
    expect(await runLoop(trainer, emptyProgress(), limits({ steps: 4 }), cadence({}), hooks)).toBe("steps");
  });
});

describe("evaluationsSinceBest", () => {
  it.each([
    { validation: [], evalEvery: 10, expected: 0 },
    { validation: [[10, 2]], evalEvery: 10, expected: 0 },
    { validation: [[10, 2], [20, 1], [30, 1.5]], evalEvery: 10, expected: 1 },
    { validation: [[10, 1], [20, 1], [30, 1]], evalEvery: 10, expected: 2 }, // a tie is not a new best
    { validation: [[10, 2], [15, 0.5], [20, 1.9], [30, 1.95]], evalEvery: 10, expected: 1 }, // 15 is off the cadence
    { validation: [[10, 2], [15, 0.5], [20, 1.9]], evalEvery: 0, expected: 1 }, // no cadence: all count
  ] as Array<{ validation: Array<[number, number]>; evalEvery: number; expected: number }>)(
    "$validation with eval every $evalEvery -> $expected",
    ({ validation, evalEvery, expected }) => {
      expect(evaluationsSinceBest({ train: [], validation, bestValidationLoss: null }, evalEvery)).toBe(expected);
    },
  );
});

describe("totalSteps", () => {
  it.each([
    [{ steps: 0, epochs: 0 }, null],
    [{ steps: 500, epochs: 0 }, 500],
    [{ steps: 0, epochs: 3 }, 300],
    [{ steps: 250, epochs: 3 }, 250],
    [{ steps: 900, epochs: 3 }, 300],
  ])("%o with 100 windows an epoch -> %s", (stops, expected) => {
    expect(totalSteps(limits(stops), 100)).toBe(expected);
  });
});

describe("re-timing a budget run", () => {
  it("re-plans at each of its steps, the later plan from the steps since the one before", async () => {
    const clock = new FakeClock();
    const trainer = new ScriptedTrainer(clock, { msPerStep: 10 });
    const { hooks, recorded } = hooksFor(trainer, clock);
    const asked: number[][] = [];
    await runLoop(trainer, emptyProgress(), limits({
      steps: 100,
      timeMs: 10_000,
      retime: { atSteps: [4, 30], plan: (stepsDone, timedSteps, timedMs) => { asked.push([stepsDone, timedSteps, timedMs]); return stepsDone === 4 ? 60 : 40; }, apply: () => {} },
    }), cadence({}), hooks);
    // The first three steps are left out; the second re-timing times the steps since the first.
    expect(asked).toEqual([[4, 1, 10], [30, 26, 260]]);
    expect(eventsOf(recorded, "retime").map((e) => [e.step, e.totalSteps])).toEqual([[4, 60], [30, 40]]);
    expect(trainer.step).toBe(40);
  });

  it("plans again once, at its step, from the time its steps took, and stops at the new count", async () => {
    const clock = new FakeClock();
    const trainer = new ScriptedTrainer(clock, { msPerStep: 10 });
    const { hooks, recorded } = hooksFor(trainer, clock);
    const asked: Array<[number, number, number, number]> = [];
    const applied: number[] = [];
    const reason = await runLoop(trainer, emptyProgress(), limits({
      steps: 100,
      timeMs: 10_000,
      retime: {
        atSteps: [5],
        plan: (stepsDone, timedSteps, timedMs, timeLeftMs) => {
          asked.push([stepsDone, timedSteps, timedMs, timeLeftMs]);
          return 12;
        },
        apply: (steps) => applied.push(steps),
      },
    }), cadence({ evalEvery: 0 }), hooks);
    expect(reason).toBe("steps");
    expect(trainer.step).toBe(12);
    // Five steps made; the two after the first three timed, 10 ms each; what is left of the 10 s.
    expect(asked).toEqual([[5, 2, 20, 9_950]]);
    expect(applied).toEqual([12]);
    const retimes = eventsOf(recorded, "retime");
    expect(retimes).toHaveLength(1);
    expect(retimes[0]).toMatchObject({ step: 5, totalSteps: 12, charsPerSecond: (2 * 16 * 1000) / 20 });
    // ETAs after the re-plan count toward the new end.
    const lastStep = eventsOf(recorded, "step").at(-1)!;
    expect(lastStep.step).toBe(12);
    expect(lastStep.etaMs).toBe(0);
  });

  it("leaves evaluation and save time out of the step time it reports", async () => {
    const clock = new FakeClock();
    const trainer = new ScriptedTrainer(clock, { msPerStep: 10 });
    const { hooks } = hooksFor(trainer, clock);
    const slowSave = { ...hooks, save: async (isBest: boolean, bestOnly?: boolean) => { clock.ms += 500; return hooks.save(isBest, bestOnly); } };
    let stepMsSeen = -1;
    await runLoop(trainer, emptyProgress(), limits({
      steps: 20,
      timeMs: 60_000,
      retime: { atSteps: [10], plan: (_done, _timed, timedMs) => { stepMsSeen = timedMs; return 20; }, apply: () => {} },
    }), cadence({ checkpointEvery: { steps: 4 } }), slowSave);
    expect(stepMsSeen).toBe(70);
  });
});
