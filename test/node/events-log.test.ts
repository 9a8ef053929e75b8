// The run folder's event log: what charnn train appends to OUT/events.ndjson (the schema-1
// events with a time), that a resume appends, that a dry run writes none, and its bounds
// (rotation at a size into events.1.ndjson, one kept; steps thinned past a count).

import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { trainEvent, type TrainEvent } from "../../src/core/train/events.js";
import { eventLog, EVENTS_FILE, ROTATED_EVENTS_FILE } from "../../src/node/events-log.js";
import { trainTiny } from "../helpers/page.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "charnn-events-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const lines = async (file: string) => (await readFile(file, "utf8")).split("\n").filter(Boolean).map((line) => JSON.parse(line) as TrainEvent & { time: string });

const start = trainEvent({ type: "start", config: {} as never, parameterCount: 1, vocabularySize: 2, trainChars: 3, validationChars: 0, resumedFromStep: null, totalSteps: null });
const step = (n: number) => trainEvent({ type: "step", step: n, epoch: 0, loss: 1 / n, lr: 0.1, gradNorm: 1, charsPerSecond: 1, elapsedMs: n, etaMs: null });

describe("charnn train's event log", () => {
  it("holds the run's events, and a resume appends to it", async () => {
    await trainTiny(dir, "run", ["--steps", "6"]);
    const first = await lines(path.join(dir, "run", EVENTS_FILE));
    expect(first[0]!.type).toBe("start");
    expect(first.every((event) => event.schema === 1 && !Number.isNaN(Date.parse(event.time)))).toBe(true);
    expect(first.filter((event) => event.type === "step").map((event) => (event as { step: number }).step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(first.some((event) => event.type === "eval")).toBe(true);
    expect(first.at(-1)!.type).toBe("end");

    await trainTiny(dir, "run", ["--steps", "9", "--resume"]);
    const both = await lines(path.join(dir, "run", EVENTS_FILE));
    expect(both.slice(0, first.length)).toEqual(first);
    const resumed = both.slice(first.length);
    expect(resumed[0]).toMatchObject({ type: "start", resumedFromStep: 6 });
    expect(resumed.filter((event) => event.type === "step").map((event) => (event as { step: number }).step)).toEqual([7, 8, 9]);
  });

  it("is not written by a dry run", async () => {
    await trainTiny(dir, "dry", ["--steps", "6", "--dry-run"]);
    expect(existsSync(path.join(dir, "dry", EVENTS_FILE))).toBe(false);
  });
});

describe("eventLog bounds", () => {
  it("holds back the events before the start and drops them when the run never starts", async () => {
    const folder = path.join(dir, "never");
    const log = eventLog(folder);
    log.write(trainEvent({ type: "warning", message: "before" }));
    expect(existsSync(folder)).toBe(false);
    log.write(start);
    expect((await lines(path.join(folder, EVENTS_FILE))).map((event) => event.type)).toEqual(["warning", "start"]);
  });

  it("rotates at its size into events.1.ndjson and keeps one rotated file", async () => {
    const log = eventLog(dir, { maxBytes: 2000 });
    log.write(start);
    for (let n = 1; n <= 200; n++) log.write(step(n));
    const names = (await readdir(dir)).sort();
    expect(names).toEqual([ROTATED_EVENTS_FILE, EVENTS_FILE].sort());
    for (const name of names) expect((await stat(path.join(dir, name))).size).toBeLessThanOrEqual(2000);
    // The newest steps survive, in order, across the two files; the oldest were dropped.
    const kept = [...(await lines(path.join(dir, ROTATED_EVENTS_FILE))), ...(await lines(path.join(dir, EVENTS_FILE)))].map((event) => (event as { step: number }).step);
    expect(kept.at(-1)).toBe(200);
    expect(kept).toEqual([...kept].sort((a, b) => a - b));
    expect(kept.length).toBeLessThan(200);
  });

  it("rotates a log already past its size when a resumed run opens it", async () => {
    const first = eventLog(dir);
    first.write(start);
    for (let n = 1; n <= 3; n++) first.write(step(n));
    const before = (await stat(path.join(dir, EVENTS_FILE))).size;
    const second = eventLog(dir, { maxBytes: before });
    second.write({ ...start, resumedFromStep: 3 });
    expect((await lines(path.join(dir, ROTATED_EVENTS_FILE))).length).toBe(4);
    expect((await lines(path.join(dir, EVENTS_FILE))).map((event) => event.type)).toEqual(["start"]);
  });

  it("thins steps by halves past its count, keeping every other event", async () => {
    const log = eventLog(dir, { thinAfter: 10 });
    log.write(start);
    for (let n = 1; n <= 60; n++) {
      log.write(step(n));
      if (n % 20 === 0) log.write(trainEvent({ type: "eval", step: n, validationLoss: 1, isBest: true }));
    }
    const events = await lines(path.join(dir, EVENTS_FILE));
    const steps = events.filter((event) => event.type === "step").map((event) => (event as { step: number }).step);
    // 10 at stride 1, 10 at stride 2, then stride 4 for the rest (counted over every step seen).
    expect(steps.slice(0, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(steps.slice(10, 20)).toEqual([11, 13, 15, 17, 19, 21, 23, 25, 27, 29]);
    expect(steps.slice(20)).toEqual([33, 37, 41, 45, 49, 53, 57]);
    expect(events.filter((event) => event.type === "eval")).toHaveLength(3);
  });

  it("gives up with one warning when the folder cannot be written, and the run goes on", async () => {
    const warnings: string[] = [];
    // A folder under a file cannot be made (ENOTDIR).
    await writeFile(path.join(dir, "a-file"), "");
    const log = eventLog(path.join(dir, "a-file", "run"), { onFailure: (message) => warnings.push(message) });
    log.write(start);
    log.write(step(1));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/goes on without an event log/);
  });
});
