// Tests for src/cli/reporter.ts: the same events rendered as NDJSON, as plain log lines and as a
// terminal progress bar, each checked for where it writes and what it must never write.

import { describe, expect, it } from "vitest";
import { TRAIN_DEFAULTS } from "../../src/core/config.js";
import {
  barLine,
  createReporter,
  formatDuration,
  plainStepLine,
  type TrainEvent,
} from "../../src/cli/reporter.js";
import { createTestIO } from "./helpers.js";

const start: TrainEvent = {
  type: "start",
  config: { ...TRAIN_DEFAULTS, steps: 3000, epochs: 0 },
  parameterCount: 215_361,
  vocabularySize: 65,
  trainChars: 1_003_854,
  validationChars: 111_540,
  resumedFromStep: null,
  totalSteps: 3000,
};

function step(n: number, loss = 1.8342): TrainEvent {
  return {
    type: "step",
    step: n,
    epoch: 1,
    loss,
    lr: 2e-3,
    gradNorm: 0.5,
    charsPerSecond: 1234.4,
    elapsedMs: n * 100,
    etaMs: 187_000,
  };
}

const run: TrainEvent[] = [
  start,
  ...Array.from({ length: 25 }, (_, i) => step(i + 1, 2 - i * 0.01)),
  { type: "eval", step: 20, validationLoss: 1.9021, isBest: true },
  { type: "checkpoint", step: 20, path: "checkpoints/step-20.json" },
  { type: "sample", step: 20, text: "ROMEO:\nWherefore" },
  { type: "warning", message: "loss spiked at step 21" },
  {
    type: "end",
    step: 25,
    reason: "steps",
    trainLoss: 1.7,
    validationLoss: 1.9021,
    bestValidationLoss: 1.9021,
    elapsedMs: 723_000,
  },
];

describe("formatting", () => {
  it.each([
    [850, "850ms"],
    [12_340, "12.3s"],
    [187_000, "3m07s"],
    [3_720_000, "1h02m"],
    [Number.NaN, "?"],
  ])("formatDuration(%d) = %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("a plain step line has the documented shape", () => {
    expect(plainStepLine({ ...(step(120) as Extract<TrainEvent, { type: "step" }>), etaMs: null })).toBe(
      "step 120 epoch 1 step loss 1.8342 lr 2.0e-3 1,234 chars/s",
    );
    expect(plainStepLine(step(120) as Extract<TrainEvent, { type: "step" }>)).toBe(
      "step 120 epoch 1 step loss 1.8342 lr 2.0e-3 1,234 chars/s eta 3m07s",
    );
  });

  it("counts in log lines have thousands separators", () => {
    expect(plainStepLine({ ...(step(12_345) as Extract<TrainEvent, { type: "step" }>), epoch: 1234, etaMs: null })).toBe(
      "step 12,345 epoch 1,234 step loss 1.8342 lr 2.0e-3 1,234 chars/s",
    );
    const { io, stderr } = createTestIO();
    const reporter = createReporter(io, { json: false, logEvery: 1 });
    reporter.event({ type: "checkpoint", step: 12_000, path: "run/step-12000.json" });
    reporter.event({ type: "end", step: 12_000, reason: "steps", trainLoss: 1.7, validationLoss: null, bestValidationLoss: null, elapsedMs: 0.4 });
    reporter.close();
    expect(stderr()).toMatch(/^checkpoint step 12,000 run\/step-12000\.json$/m);
    expect(stderr()).toMatch(/^finished at step 12,000: reached the step limit after 0\.4ms/m);
  });

  const state = {
    step: 1500,
    totalSteps: 3000,
    timeMs: null,
    firstStep: 0,
    elapsedMs: 60_000,
    epoch: 2,
    loss: 1.5,
    validationLoss: 1.6,
    charsPerSecond: 12_345,
    etaMs: 60_000,
  };

  it("the bar line shows progress, the step loss labelled as such, and the ETA", () => {
    expect(barLine(state, 200)).toBe(
      "██████████░░░░░░░░░░ step 1,500/3,000 | epoch 2 | step loss 1.5000 | val 1.6000 | 12,345 chars/s | ETA 1m00s",
    );
    expect(barLine({ ...state, totalSteps: null }, 200)).toMatch(/^step 1,500 \| epoch 2 \|/);
  });

  it("fits any terminal width, narrowing the bar and dropping numbers so the ETA stays", () => {
    for (let width = 30; width <= 120; width++) {
      const line = barLine(state, width);
      expect(line.length, line).toBeLessThan(width);
      expect(line, `${width} columns`).toMatch(/step 1,500\/3,000.* \| ETA 1m00s$/);
    }
    // At 80 columns the bar and the step loss are still there.
    expect(barLine(state, 80)).toMatch(/^█+░+ step 1,500\/3,000 \| .*step loss 1\.5000.*\| ETA 1m00s$/);
    expect(barLine(state, 10)).toHaveLength(9);
  });

  it("with --time ending the run before --steps, counts toward the time budget", () => {
    // 205 steps in 8 s of a 12 s budget: at this rate 2000 steps would take 78 s.
    const timed = { ...state, step: 205, totalSteps: 2000, timeMs: 12_000, elapsedMs: 8_000, etaMs: 4_000 };
    const line = barLine(timed, 120);
    expect(line).toMatch(/^█{13}░{7} step 205, 8\.0s of 12\.0s \|/);
    expect(line).toMatch(/ETA 4\.0s$/);
    // The steps end first when the run is fast enough to reach them within the budget.
    const fast = { ...timed, step: 1800, elapsedMs: 8_000, etaMs: 889 };
    expect(barLine(fast, 120)).toMatch(/^█{18}░{2} step 1,800\/2,000 \|/);
    // Only a time budget: the bar is the time.
    expect(barLine({ ...timed, totalSteps: null }, 120)).toMatch(/^█{13}░{7} step 205, 8\.0s of 12\.0s/);
  });
});

describe("--json reporter", () => {
  it("writes one JSON object per event on stdout and nothing on stderr", () => {
    const { io, stdout, stderr } = createTestIO({ stderrIsTTY: true });
    const reporter = createReporter(io, { json: true, logEvery: 10, now: () => new Date("2024-05-01T12:00:00Z") });
    for (const e of run) reporter.event(e);
    reporter.close();

    expect(stderr()).toBe("");
    const lines = stdout().trimEnd().split("\n");
    expect(lines).toHaveLength(run.length);
    const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.map((e) => e.type)).toEqual(run.map((e) => e.type));
    expect(events.every((e) => e.time === "2024-05-01T12:00:00.000Z")).toBe(true);
    expect((events[0]?.config as { model: string; steps: number }).model).toBe("lstm");
    expect((events[0]?.config as { steps: number }).steps).toBe(3000);
    expect(events[1]).toMatchObject({ type: "step", step: 1, loss: 2, lr: 0.002, charsPerSecond: 1234.4 });
    expect(events.at(-1)).toMatchObject({ type: "end", reason: "steps", bestValidationLoss: 1.9021 });
  });

  it("writes a diverged loss as null, which JSON can hold", () => {
    const { io, stdout } = createTestIO();
    const reporter = createReporter(io, { json: true, logEvery: 10 });
    reporter.event(step(3, Number.NaN));
    expect(JSON.parse(stdout()).loss).toBeNull();
    expect(Number.isNaN(Date.parse(JSON.parse(stdout()).time))).toBe(false);
  });
});

describe("plain reporter (stderr is not a terminal)", () => {
  function render(flags: { verbose?: boolean; quiet?: boolean } = { verbose: true }): { stdout: string; stderr: string } {
    const { io, stdout, stderr } = createTestIO({ stderrIsTTY: false, env: { FORCE_COLOR: "3" } });
    const reporter = createReporter(io, { json: false, logEvery: 10, ...flags });
    for (const e of run) reporter.event(e);
    reporter.close();
    return { stdout: stdout(), stderr: stderr() };
  }

  it("prints the full config only with --verbose, and nothing at all with --quiet", () => {
    expect(render({}).stderr).not.toContain("config: ");
    expect(render({}).stderr).toMatch(/^start: lstm 2x128/);
    expect(render({ verbose: true }).stderr).toContain(`config: {"model":"lstm"`);
    expect(render({ quiet: true })).toEqual({ stdout: "", stderr: "" });
  });

  it("writes one line per logEvery steps and one per other event, to stderr only (--verbose)", () => {
    const { stdout, stderr } = render();
    expect(stdout).toBe("");
    const lines = stderr.trimEnd().split("\n");
    expect(lines).toEqual([
      "start: lstm 2x128, 215,361 parameters, vocabulary 65, 1,003,854 train chars, 111,540 validation chars, 3,000 steps",
      `config: ${JSON.stringify(start.type === "start" ? start.config : null)}`,
      "step 10 epoch 1 step loss 1.9100 lr 2.0e-3 1,234 chars/s eta 3m07s",
      "step 20 epoch 1 step loss 1.8100 lr 2.0e-3 1,234 chars/s eta 3m07s",
      "eval step 20 val loss 1.9021 (2.744 bits/char) new best",
      "checkpoint step 20 checkpoints/step-20.json",
      'sample step 20: "ROMEO:\\nWherefore"',
      "warning: loss spiked at step 21",
      "finished at step 25: reached the step limit after 12m03s; last step loss 1.7000 (2.453 bits/char), " +
        "val loss 1.9021 (2.744 bits/char), best val loss 1.9021 (2.744 bits/char)",
    ]);
  });

  it("writes no control codes and no colour, even when colour is forced", () => {
    expect(render().stderr).not.toContain("\x1b");
  });

  it("says so when a run resumes and when losses are missing", () => {
    const { io, stderr } = createTestIO();
    const reporter = createReporter(io, { json: false, logEvery: 10 });
    reporter.event({ ...start, resumedFromStep: 1200 } as TrainEvent);
    reporter.event({
      type: "end",
      step: 1200,
      reason: "interrupted",
      trainLoss: null,
      validationLoss: null,
      bestValidationLoss: null,
      elapsedMs: 500,
    });
    expect(stderr()).toContain(", resuming from step 1,200\n");
    expect(stderr()).toContain("finished at step 1,200: interrupted after 500ms; last step loss n/a, val loss n/a, best val loss n/a");
  });
});

describe("terminal reporter (stderr is a terminal)", () => {
  function render(env: NodeJS.ProcessEnv = {}): { stdout: string; stderr: string } {
    const { io, stdout, stderr } = createTestIO({ stderrIsTTY: true, columns: 120, env });
    const reporter = createReporter(io, { json: false, logEvery: 10 });
    for (const e of run) reporter.event(e);
    reporter.close();
    return { stdout: stdout(), stderr: stderr() };
  }

  it("draws a progress bar on stderr and nothing on stdout", () => {
    const { stdout, stderr } = render();
    expect(stdout).toBe("");
    // The bar is drawn (cursor to column 1, then the line) at least when it starts.
    expect(stderr).toContain("\x1b[1G░░░░░░░░░░░░░░░░░░░░ step 0/3,000 | step loss - | ETA -");
    // After the eval it comes back with the latest numbers, including the validation loss.
    expect(stderr).toContain("step 25/3,000 | epoch 1 | step loss 1.7600 | val 1.9021 | 1,234 chars/s | ETA 3m07s");
  });

  it("prints events above the bar and a summary with bits per char at the end", () => {
    const { stderr } = render({ NO_COLOR: "1" });
    const text = stderr;
    const order = [
      "charnn train: lstm 2x128, 215,361 parameters",
      "eval step 20 val loss 1.9021 (2.744 bits/char) new best",
      "checkpoint step 20 checkpoints/step-20.json",
      "--- sample at step 20 ---\nROMEO:\nWherefore\n",
      "warning: loss spiked at step 21",
      "finished at step 25: reached the step limit after 12m03s\n",
      "last step loss 1.7000 (2.453 bits/char), val loss 1.9021 (2.744 bits/char), best val loss 1.9021 (2.744 bits/char)\n",
    ];
    let from = 0;
    for (const piece of order) {
      const at = text.indexOf(piece, from);
      expect(at, `"${piece}" after position ${from}`).toBeGreaterThanOrEqual(0);
      from = at + piece.length;
    }
    // The bar clears its line before each message, so no message lands on a half-drawn bar.
    expect(text).toMatch(/\x1b\[2Keval step 20/);
  });

  it("colours messages on a colour terminal but not under NO_COLOR", () => {
    expect(render({ TERM: "xterm" }).stderr).toContain("\x1b[33mwarning: loss spiked at step 21\x1b[39m");
    const plain = render({ NO_COLOR: "1" }).stderr;
    expect(plain).toContain("warning: loss spiked at step 21\n");
    expect(plain).not.toContain("\x1b[33m");
  });

  it("stops its redraw timer on close, even without an end event", async () => {
    const { io, stderr } = createTestIO({ stderrIsTTY: true });
    const reporter = createReporter(io, { json: false, logEvery: 10 });
    reporter.event(start);
    reporter.close();
    const written = stderr().length;
    await new Promise((r) => setTimeout(r, 250)); // more than two redraw intervals
    expect(stderr().length).toBe(written);
  });
});

describe("a budget run that re-times itself", () => {
  const retime: TrainEvent = { schema: 1, type: "retime", step: 40, totalSteps: 2_812, charsPerSecond: 10_480.4 } as TrainEvent;
  const before = run.filter((e) => e.type === "start" || (e.type === "step" && e.step <= 20));

  it("says where the schedule now ends, on a plain stderr", () => {
    const { io, stderr } = createTestIO({ stderrIsTTY: false });
    const reporter = createReporter(io, { json: false, logEvery: 10 });
    for (const e of [...before, retime]) reporter.event(e);
    reporter.close();
    expect(stderr()).toContain("re-timed at step 40: 10,480 chars/s, so the schedule now ends at step 2,812\n");
  });

  it("moves the progress bar's end to the new step count", () => {
    const { io, stderr } = createTestIO({ stderrIsTTY: true, columns: 120, env: { NO_COLOR: "1" } });
    const reporter = createReporter(io, { json: false, logEvery: 10 });
    for (const e of [...before, retime, step(50)]) reporter.event(e);
    reporter.close();
    expect(stderr()).toContain("step 50/2,812");
  });
});
