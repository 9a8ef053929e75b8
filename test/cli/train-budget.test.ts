// In-process tests of `charnn train --time` choosing its own settings: when it chooses and when
// it does not, what it prints and emits, that the budget holds calibration, and that an
// interrupted budget run resumes to the same bytes as the uninterrupted run of its recorded settings.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { loadCheckpointFile as loadCheckpoint } from "../../src/node/store.js";
import { createTestIO } from "./helpers.js";

const folders: string[] = [];
afterAll(async () => {
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

async function folderWithText(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), "charnn-budget-test-"));
  folders.push(folder);
  const words = ["the", "cat", "sat", "on", "a", "mat", "and", "ran", "far", "home"];
  let text = "";
  for (let i = 0; text.length < 3000; i++) text += words[(i * 7 + (i >> 3)) % words.length] + (i % 9 === 8 ? ".\n" : " ");
  await writeFile(join(folder, "text.txt"), text);
  return folder;
}

type Event = Record<string, unknown> & { type: string };

/**
 * Runs `charnn train` in-process; `interruptAtStep` sends SIGINT once that step is reported
 * ("after-retime": two steps after the run re-timed itself).
 */
async function train(cwd: string, args: string[], interruptAtStep?: number | "after-retime") {
  const captured = createTestIO({ cwd });
  const collector = captured.io.stdout;
  let pending = "";
  let interruptAt = typeof interruptAtStep === "number" ? interruptAtStep : -1;
  captured.io.stdout = new Writable({
    decodeStrings: false,
    write(chunk: unknown, _encoding, callback) {
      const text = String(chunk);
      collector.write(text);
      pending += text;
      let newline: number;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (interruptAtStep === undefined || !line.startsWith("{")) continue;
        const event = JSON.parse(line) as Event;
        if (event.type === "retime" && interruptAtStep === "after-retime") interruptAt = Number(event.step) + 2;
        if (event.type === "step" && event.step === interruptAt) captured.signals.emit("SIGINT");
      }
      callback();
    },
  });
  const started = performance.now();
  const code = await main(["train", "text.txt", ...args], captured.io);
  const ms = performance.now() - started;
  const events = captured.stdout().split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as Event);
  return { code, events, stderr: captured.stderr(), ms };
}

const small = ["--batch", "4", "--seq-len", "16", "--threads", "1", "--eval-every", "0"];
const startOf = (events: Event[]) => events.find((e) => e.type === "start") as Event & { config: Record<string, unknown>; choice?: Record<string, unknown> | null };

describe("charnn train --time on a new run without a model shape", () => {
  it("calibrates, chooses, says so on stderr and in the start event, and ends within the budget plus 15 s", async () => {
    const cwd = await folderWithText();
    const run = await train(cwd, ["--time", "3s", ...small, "--out", "run"]);
    expect(run.code).toBe(0);
    expect(run.ms).toBeLessThan(3_000 + 15_000);
    const captured = createTestIO({ cwd });
    const plain = await main(["train", "text.txt", "--time", "2s", ...small, "--out", "plain"], captured.io);
    expect(plain).toBe(0);
    expect(captured.stderr()).toMatch(/chosen for the time budget: gru 2x\d+, dropout [\d.]+, lr [\d.]+ cosine over [\d,]+ steps/);
    expect(captured.stderr()).toMatch(/to train these settings again, pass: --model gru --layers 2 --hidden \d+ .*--steps \d+/);
  });

  it("records what it chose in the start event, and keeps what the user gave", async () => {
    const cwd = await folderWithText();
    const { events } = await train(cwd, ["--time", "2s", "--lr", "0.01", "--dropout", "0.05", ...small, "--json", "--out", "run"]);
    const start = startOf(events);
    const choice = start.choice as { chosen: string[]; measured: Record<string, number>; settings: { steps: number } };
    expect(choice.chosen).toEqual(expect.arrayContaining(["model", "layers", "hidden", "steps", "lrSchedule"]));
    expect(choice.chosen).not.toContain("lr");
    expect(choice.chosen).not.toContain("dropout");
    expect(start.config).toMatchObject({ lr: 0.01, dropout: 0.05, lrSchedule: "cosine", model: "gru", steps: choice.settings.steps, seed: 1, valFrac: 0.05, batch: 4 });
    expect(choice.measured["charsPerSecond.gru2x128"]).toBeGreaterThan(0);
    expect(choice.measured.calibrationMs).toBeGreaterThan(0);
    // Time for the final validation pass and checkpoint is kept out of the training time.
    expect(choice.measured.finishMs).toBeGreaterThanOrEqual(3000);
    const left = Math.max(0, 2000 - choice.measured.calibrationMs! - choice.measured.finishMs!);
    expect(Math.abs(choice.measured.trainMs! - left)).toBeLessThanOrEqual(2);
  });

  it.each([
    ["a model shape", ["--hidden", "16"]],
    ["a step count", ["--steps", "5"]],
    ["an epoch count", ["--epochs", "1"]],
  ])("chooses nothing when given %s", async (_name, given) => {
    const cwd = await folderWithText();
    const { code, events } = await train(cwd, ["--time", "2s", ...given, ...small, "--json", "--out", "run"]);
    expect(code).toBe(0);
    const start = startOf(events);
    expect(start.choice ?? null).toBeNull();
    expect(start.config.model).toBe("lstm");
  });

  it("resumes an interrupted budget run exactly: the same bytes as its recorded settings run uninterrupted", async () => {
    const cwd = await folderWithText();
    // 8 s: 3 s are kept for the final validation and save, so on a busy machine 4 s can leave no steps to interrupt.
    const first = await train(cwd, ["--time", "8s", ...small, "--log-every", "1", "--json", "--out", "budget"], 3);
    expect(first.code).toBe(130);
    const recorded = startOf(first.events).choice as { settings: Record<string, number | string>; chosen: string[] };
    const steps = Number(recorded.settings.steps);
    expect(steps).toBeGreaterThan(3);

    const resumed = await train(cwd, ["--resume", "--time", "10m", ...small, "--json", "--out", "budget"]);
    expect(resumed.code).toBe(0);
    const note = resumed.events.find((e) => e.type === "warning" && /schedule still ends at step [\d,]+, as recorded: --time only cuts this invocation off/.test(String(e.message)));
    expect(note, "a resume given more time says what it does with the schedule").toBeDefined();
    expect(resumed.events.findLast((e) => e.type === "end")).toMatchObject({ step: steps, reason: "steps" });

    const flags = recorded.chosen.flatMap((key) => [`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(recorded.settings[key])]);
    const straight = await train(cwd, [...flags, ...small, "--json", "--out", "straight"]);
    expect(straight.code).toBe(0);
    const a = await loadCheckpoint(join(cwd, "budget", "latest.json"));
    const b = await loadCheckpoint(join(cwd, "straight", "latest.json"));
    expect(a.step).toBe(steps);
    // The checkpoint records the choice, which settings it made, and the schedule's step count,
    // and the resume kept all three.
    expect(a.schedule.totalSteps).toBe(steps);
    expect(a.choice?.reason).toMatch(/^gru 2x\d+/);
    expect(a.choice?.measured["charsPerSecond.gru2x128"]).toBeGreaterThan(0);
    for (const key of recorded.chosen) expect(a.settingSources[key], key).toBe("chosen");
    expect(a.settingSources.seed).toBe("default");
    expect(a.settingSources.batch).toBe("given");
    expect(b.settingSources.hidden).toBe("given");
    expect(b.choice).toBeNull();
    for (const name of Object.keys(b.params)) expect(Buffer.from(a.params[name]!.data.buffer).equals(Buffer.from(b.params[name]!.data.buffer)), name).toBe(true);
  }, 120_000);

  it("re-times itself after its first steps, records the new step count, and a resume keeps it", async () => {
    const cwd = await folderWithText();
    // 8 s: 3 s are kept for the final validation and save, so 4 s would leave too few steps to re-time.
    const first = await train(cwd, ["--time", "8s", ...small, "--log-every", "1", "--json", "--out", "retimed"]);
    expect(first.code).toBe(0);
    const planned = Number((startOf(first.events).choice as { settings: Record<string, unknown> }).settings.steps);
    // Early and (unless the first moved the end before it) again half-way: what is saved is the
    // last re-timing's count.
    const retimes = first.events.filter((e) => e.type === "retime") as Array<Event & { step: number; totalSteps: number; charsPerSecond: number }>;
    expect(retimes.length, "a plan this long re-times").toBeGreaterThanOrEqual(1);
    const retime = retimes.at(-1)!;
    expect(retime.step).toBeLessThan(planned);
    expect(retime.charsPerSecond).toBeGreaterThan(0);
    const saved = await loadCheckpoint(join(cwd, "retimed", "latest.json"));
    expect(saved.schedule.totalSteps).toBe(retime.totalSteps);
    expect(saved.config.steps).toBe(retime.totalSteps);
    expect(saved.choice?.measured.retimedSteps).toBe(retime.totalSteps);
    expect(saved.step).toBeLessThanOrEqual(retime.totalSteps);
    // Interrupted after re-timing, the run resumes to the step count it re-timed to.
    const interrupted = await train(cwd, ["--time", "8s", ...small, "--log-every", "1", "--json", "--out", "cut"], "after-retime");
    // (interrupted two steps after its first re-timing, before the second)
    expect(interrupted.code).toBe(130);
    const moved = interrupted.events.find((e) => e.type === "retime") as Event & { totalSteps: number };
    expect(moved).toBeDefined();
    const resumed = await train(cwd, ["--resume", "--time", "10m", ...small, "--json", "--out", "cut"]);
    expect(resumed.code).toBe(0);
    expect(resumed.events.some((e) => e.type === "retime"), "a resumed run keeps the recorded count").toBe(false);
    expect(resumed.events.findLast((e) => e.type === "end")).toMatchObject({ step: moved.totalSteps, reason: "steps" });
  }, 120_000);

  it("--dry-run says the settings will be chosen when training starts, without calibrating", async () => {
    const cwd = await folderWithText();
    const captured = createTestIO({ cwd });
    expect(await main(["train", "text.txt", "--time", "10m", "--dry-run", "--out", "dry"], captured.io)).toBe(0);
    expect(captured.stdout()).toMatch(/steps\s+chosen for the time budget when training starts/);
    const given = createTestIO({ cwd });
    expect(await main(["train", "text.txt", "--time", "10m", "--hidden", "32", "--dry-run", "--out", "dry"], given.io)).toBe(0);
    expect(given.stdout()).not.toMatch(/chosen for the time budget/);
  });
});

describe("charnn train --help", () => {
  it("states the precedence of --time, --steps and --epochs", async () => {
    const captured = createTestIO();
    await main(["train", "--help"], captured.io);
    const help = (captured.stdout() + captured.stderr()).replace(/\s+/g, " ");
    expect(help).toMatch(/with --steps or --epochs the schedule follows them and --time only cuts the invocation off/);
    expect(help).toMatch(/--resume keeps the recorded choice and step count/);
  });
});
