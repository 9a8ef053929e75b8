// The library's train(): the same run as `charnn train` with the same settings (the same
// checkpoint, bit for bit but for when and how it was started), text from a string, a save hook
// that sees every checkpoint, events from a callback and an async iterator, an AbortSignal that
// stops after the step and saves, resume (exact) and fine-tuning, and errors with codes.

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { CharnnError, parseCheckpoint, readCheckpoint, train, trainEvents, type CheckpointState, type TrainEvent } from "../../src/index.js";
import { createTestIO } from "../cli/helpers.js";

let dir: string;
const TEXT = "the quick brown fox jumps over the lazy dog.\nthe lazy dog sleeps.\n".repeat(15);
const SMALL = { hidden: 12, layers: 1, batch: 2, seqLen: 8, backend: "js", threads: 1 } as const;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "charnn-library-train-"));
  await writeFile(join(dir, "corpus.txt"), TEXT);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What two checkpoints of the same run share: all but when, by which command and into which folder they were made. */
function comparable(state: CheckpointState): unknown {
  const { createdAt: _createdAt, command: _command, invocations: _invocations, corpus, config, ...rest } = state as CheckpointState & { invocations?: unknown };
  return { ...rest, config: { ...config, out: undefined }, corpus: { ...corpus, paths: undefined } };
}

describe("train", () => {
  it("trains on a string exactly as charnn train trains on the same text in a file", async () => {
    const run = await train({ text: TEXT, ...SMALL, steps: 12, evalEvery: 6, out: join(dir, "api-run") });
    const captured = createTestIO({ cwd: dir });
    const code = await main(["train", "corpus.txt", "--out", "cli-run", "--steps", "12", "--eval-every", "6", "--hidden", "12", "--layers", "1", "--batch", "2", "--seq-len", "8", "--backend", "js", "--threads", "1"], captured.io);
    expect(code).toBe(0);
    expect(run).toMatchObject({ reason: "steps", step: 12 });
    const fromApi = await readCheckpoint(join(dir, "api-run"));
    const fromCli = await readCheckpoint(join(dir, "cli-run"));
    expect(comparable(fromApi)).toEqual(comparable(fromCli));
    expect(comparable(run.checkpoint!)).toEqual(comparable(fromApi));
  });

  it("sends every checkpoint to the save hook, and events in order with schema 1", async () => {
    const saves: Array<{ step: number; isBest: boolean }> = [];
    const events: TrainEvent[] = [];
    const run = await train({
      text: TEXT, ...SMALL, steps: 10, checkpointEvery: { steps: 4 }, evalEvery: 5,
      save: async (state, info) => {
        expect(state.step).toBe(info.step);
        saves.push(info);
        return `memory:${info.step}`;
      },
      onEvent: (event) => events.push(event),
    });
    expect(saves.map((save) => save.step)).toEqual([4, 5, 8, 10]);
    expect(run.savedTo).toBe("memory:10");
    expect(events[0]!.type).toBe("start");
    expect(events.at(-1)).toMatchObject({ type: "end", reason: "steps", step: 10 });
    expect(events.filter((event) => event.type === "checkpoint").map((event) => (event as { path: string }).path)).toEqual(["memory:4", "memory:5", "memory:8", "memory:10"]);
    for (const event of events) expect(event.schema).toBe(1);
  });

  it("gives the same events through the async iterator, and the result after them", async () => {
    const seen: string[] = [];
    const run = trainEvents({ text: TEXT, ...SMALL, steps: 6, logEvery: 2 });
    for await (const event of run) seen.push(event.type);
    expect(seen[0]).toBe("start");
    expect(seen.at(-1)).toBe("end");
    expect(seen.filter((type) => type === "step")).toHaveLength(3);
    expect((await run.result).step).toBe(6);
  });

  it("stops after the current step when the signal is aborted, saving the checkpoint, and resumes exactly", async () => {
    const stop = new AbortController();
    const out = join(dir, "stopped");
    const first = await train({
      text: TEXT, ...SMALL, steps: 20, out,
      onEvent: (event) => { if (event.type === "step" && event.step === 7) stop.abort(); },
      logEvery: 1, signal: stop.signal,
    });
    expect(first).toMatchObject({ reason: "interrupted", step: 7 });
    expect((await readCheckpoint(out)).step).toBe(7);

    const resumed = await train({ text: TEXT, ...SMALL, steps: 20, out, resume: true, logEvery: 1 });
    expect(resumed).toMatchObject({ reason: "steps", step: 20 });
    const straight = await train({ text: TEXT, ...SMALL, steps: 20, logEvery: 1 });
    expect(resumed.checkpoint!.params).toEqual(straight.checkpoint!.params);
    expect(resumed.checkpoint!.optimizer).toEqual(straight.checkpoint!.optimizer);
  });

  it("resumes from a checkpoint held in memory and fine-tunes from one on new text", async () => {
    const half = await train({ text: TEXT, ...SMALL, steps: 5 });
    const rest = await train({ text: TEXT, ...SMALL, steps: 9, resume: parseCheckpoint(JSON.stringify(JSON.parse(await serialize(half.checkpoint!)))) });
    const whole = await train({ text: TEXT, ...SMALL, steps: 9 });
    expect(rest.checkpoint!.params).toEqual(whole.checkpoint!.params);

    const tuned = await train({ text: "THE NEW TEXT, IN CAPITALS.\n".repeat(20), batch: 2, seqLen: 8, backend: "js", steps: 3, initFrom: half.checkpoint! });
    expect(tuned.step).toBe(3);
    expect(tuned.config).toMatchObject({ hidden: 12, layers: 1 });
    expect(tuned.checkpoint!.vocabulary.length).toBeGreaterThan(half.checkpoint!.vocabulary.length);
  });

  it("refuses what the command refuses, with codes and the settings' own names", async () => {
    const failure = async (options: Parameters<typeof train>[0]): Promise<CharnnError> => {
      try {
        await train(options);
      } catch (error) {
        if (error instanceof CharnnError) return error;
        throw error;
      }
      throw new Error("train() did not fail");
    };
    expect(await failure({ text: TEXT, hidden: -3, steps: 1 })).toMatchObject({ code: "setting.out-of-range", exitCode: 2 });
    const unknown = await failure({ text: TEXT, hiden: 3, steps: 1 } as never);
    expect(unknown).toMatchObject({ code: "setting.unknown" });
    expect(unknown.message).toContain("hiden");
    expect(unknown.message).not.toContain("--");
    expect(await failure({ steps: 1 })).toMatchObject({ code: "setting.conflict" });
    expect(await failure({ text: "", steps: 1 })).toMatchObject({ code: "corpus.empty", exitCode: 3 });
    expect(await failure({ text: TEXT, ...SMALL, steps: 1, out: join(dir, "api-run") })).toMatchObject({ code: "run.folder-holds-a-run" });
    const fixed = await failure({ text: TEXT, ...SMALL, hidden: 13, steps: 30, out: join(dir, "api-run"), resume: true });
    expect(fixed.code).toBe("setting.fixed-on-resume");
    expect(fixed.message).toMatch(/^hidden 13 /);
  });
});

async function serialize(state: CheckpointState): Promise<string> {
  const { serializeCheckpoint } = await import("../../src/index.js");
  return serializeCheckpoint(state);
}
