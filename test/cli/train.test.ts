// In-process tests of `charnn train` (src/cli/train.ts through main): what a run writes, why it
// stops, what it prints in each mode, resume and fine-tuning, bad input, divergence, the lock,
// injected disk faults, signals, and exact resume compared byte for byte. Tiny models on text
// generated here; the spawned binary is tested in test/e2e/train.test.ts.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { loadCheckpointFile, nodeAtomicFs, processIsAlive } from "../../src/node/store.js";
import { parseFaults, withFaults } from "../helpers/faulty-fs.js";
import { ExitCode } from "../../src/core/errors.js";
import { createTestIO } from "./helpers.js";

// ---------------------------------------------------------------------------------------------
// helpers

const folders: string[] = [];
async function freshFolder(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), "charnn-train-test-"));
  folders.push(folder);
  return folder;
}
afterAll(async () => {
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

/** Deterministic prose-like text of about `length` characters: words, commas, full stops, lines. */
function generatedText(length: number, seed = 7, words = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far", "away", "from", "home", "it", "was", "late"]): string {
  let state = seed >>> 0;
  const next = () => {
    // Numerical Recipes' LCG: enough to vary the text, and the same on every machine.
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  let text = "";
  let line = "";
  while (text.length + line.length < length) {
    line += words[Math.floor(next() * words.length)]!;
    const r = next();
    line += r < 0.1 ? ". " : r < 0.2 ? ", " : " ";
    if (line.length > 60) {
      text += line.trimEnd() + "\n";
      line = "";
    }
  }
  return text + line;
}

const SMALL = ["--hidden", "16", "--layers", "1", "--batch", "2", "--seq-len", "8"];

type Event = Record<string, unknown> & { type: string };

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  stdin?: string;
  env?: NodeJS.ProcessEnv;
  /** Checkpoint writes fail like this (test/helpers/faulty-fs.ts parseFaults), e.g. "rename:ENOSPC". */
  faults?: string;
  /** Send this signal when stdout first carries an event of this type (needs --json). */
  signal?: { name: "SIGINT" | "SIGTERM" | "SIGHUP"; onEvent: string };
}

async function train(cwd: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const captured = createTestIO({ cwd, stdin: options.stdin, env: options.env ?? {} });
  if (options.faults !== undefined) captured.io.checkpointFs = withFaults(nodeAtomicFs, parseFaults(options.faults));
  if (options.signal) {
    const { name, onEvent } = options.signal;
    const collector = captured.io.stdout;
    let sent = false;
    captured.io.stdout = new Writable({
      decodeStrings: false,
      write(chunk: unknown, _encoding, callback) {
        const text = String(chunk);
        collector.write(text);
        if (!sent && text.includes(`{"type":"${onEvent}"`)) {
          sent = true;
          captured.signals.emit(name);
        }
        callback();
      },
    });
  }
  const code = await main(["train", ...args], captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

/** Every stdout line as a JSON object; fails if any line is not one. */
function parseEvents(stdout: string): Event[] {
  expect(stdout.endsWith("\n")).toBe(true);
  return stdout
    .slice(0, -1)
    .split("\n")
    .map((line) => {
      const value = JSON.parse(line) as Event;
      expect(typeof value.type).toBe("string");
      return value;
    });
}

const endOf = (events: Event[]): Event => {
  const ends = events.filter((e) => e.type === "end");
  expect(ends).toHaveLength(1);
  return ends[0]!;
};

const readJson = async (path: string): Promise<Record<string, any>> => JSON.parse(await readFile(path, "utf8"));

/** A folder with corpus.txt holding `text`. */
async function withCorpus(text: string): Promise<string> {
  const folder = await freshFolder();
  await writeFile(join(folder, "corpus.txt"), text);
  return folder;
}

const codePointsOf = (text: string): number => [...text].length;

function decodeFloats(base64: string): Float32Array {
  const bytes = Buffer.from(base64, "base64");
  const floats = new Float32Array(bytes.length / 4);
  new Uint8Array(floats.buffer).set(bytes);
  return floats;
}

/** A node process that stays alive until killed, and its pid. */
function liveProcess(): { pid: number; stop(): void } {
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
  return { pid: child.pid!, stop: () => child.kill("SIGKILL") };
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.on("exit", resolve));
  expect(processIsAlive(child.pid!)).toBe(false);
  return child.pid!;
}

const lockText = (pid: number): string =>
  `${JSON.stringify({ pid, hostname: hostname(), startedAt: "2024-01-01T00:00:00.000Z", nonce: "feedface" })}\n`;

const TEXT = generatedText(3000);

// ---------------------------------------------------------------------------------------------

describe("a new run", () => {
  it("writes latest.json, best.json and numbered checkpoints, keeping the newest --keep", async () => {
    const cwd = await withCorpus(TEXT);
    const { code, stdout } = await train(cwd, ["corpus.txt", ...SMALL, "--steps", "50", "--checkpoint-every", "10", "--keep", "2", "--eval-every", "0", "--json", "--out", "run"]);
    expect(code).toBe(0);
    const events = parseEvents(stdout);
    expect(events.filter((e) => e.type === "checkpoint").map((e) => e.step)).toEqual([10, 20, 30, 40, 50]);
    expect((await readdir(join(cwd, "run"))).sort()).toEqual(["best.json", "ckpt-00000040.json", "ckpt-00000050.json", "latest.json"]);

    const latest = await loadCheckpointFile(join(cwd, "run", "latest.json"));
    expect(latest.step).toBe(50);
    expect(latest.config).toMatchObject({ model: "lstm", hidden: 16, layers: 1, batch: 2, seqLen: 8, steps: 50 });
    expect(latest.corpus.length).toBe(codePointsOf(TEXT));
    expect(latest.vocabulary).toEqual([...new Set([...TEXT].map((c) => c.codePointAt(0)!))].sort((a, b) => a - b));
    // The final evaluation is the run's only one, so best.json is the same state.
    expect(await readFile(join(cwd, "run", "best.json"), "utf8")).toBe(await readFile(join(cwd, "run", "latest.json"), "utf8"));
    expect((await loadCheckpointFile(join(cwd, "run", "ckpt-00000040.json"))).step).toBe(40);
  });

  it("refuses to start over a folder that holds a run, unless told to resume", async () => {
    const cwd = await withCorpus(TEXT);
    expect((await train(cwd, ["corpus.txt", ...SMALL, "--steps", "3", "--out", "run"])).code).toBe(0);
    const before = await readFile(join(cwd, "run", "latest.json"), "utf8");
    const again = await train(cwd, ["corpus.txt", ...SMALL, "--steps", "6", "--out", "run"]);
    expect(again.code).toBe(ExitCode.usage);
    expect(again.stderr).toMatch(/already holds a run/);
    expect(again.stderr).toMatch(/--resume/);
    expect(await readFile(join(cwd, "run", "latest.json"), "utf8")).toBe(before);
  });
});

describe("stopping", () => {
  it("--steps ends the run at that step", async () => {
    const cwd = await withCorpus(TEXT);
    const { code, stdout } = await train(cwd, ["corpus.txt", ...SMALL, "--steps", "12", "--json", "--out", "run"]);
    expect(code).toBe(0);
    expect(endOf(parseEvents(stdout))).toMatchObject({ reason: "steps", step: 12 });
  });

  it("--epochs ends the run after that many passes over the text", async () => {
    const text = generatedText(700);
    const cwd = await withCorpus(text);
    const { code, stdout } = await train(cwd, ["corpus.txt", ...SMALL, "--epochs", "2", "--json", "--out", "run"]);
    expect(code).toBe(0);
    const events = parseEvents(stdout);
    const start = events[0]!;
    expect(start.type).toBe("start");
    // torch-rnn's layout: B streams of floor(N/B), windows of T with one character to spare.
    const windows = Math.floor((Math.floor((start.trainChars as number) / 2) - 1) / 8);
    expect(start.totalSteps).toBe(2 * windows);
    expect(endOf(events)).toMatchObject({ reason: "epochs", step: 2 * windows });
    expect((await loadCheckpointFile(join(cwd, "run", "latest.json"))).epoch).toBe(2);
  });

  it("--time ends the run when the budget is spent", async () => {
    const cwd = await withCorpus(TEXT);
    const { code, stdout } = await train(cwd, ["corpus.txt", ...SMALL, "--time", "300ms", "--json", "--out", "run"]);
    expect(code).toBe(0);
    const end = endOf(parseEvents(stdout));
    expect(end.reason).toBe("time");
    expect(end.elapsedMs as number).toBeGreaterThanOrEqual(300);
    expect(end.elapsedMs as number).toBeLessThan(10_000);
    expect((await loadCheckpointFile(join(cwd, "run", "latest.json"))).step).toBe(end.step);
  });

  it("--patience ends the run when validation stops improving", async () => {
    // Trained on mostly "a", validated on mostly "b": the better it fits, the worse validation gets.
    const cwd = await withCorpus("aaaaaaaab\n".repeat(200));
    await writeFile(join(cwd, "val.txt"), "bbbbbbbba\n".repeat(20));
    const { code, stdout } = await train(cwd, ["corpus.txt", ...SMALL, "--val-file", "val.txt", "--lr", "0.01", "--steps", "2000", "--eval-every", "5", "--patience", "2", "--json", "--out", "run"]);
    expect(code).toBe(0);
    const events = parseEvents(stdout);
    const end = endOf(events);
    expect(end.reason).toBe("patience");
    expect(end.step as number).toBeLessThan(2000);
    const evals = events.filter((e) => e.type === "eval");
    expect(evals.at(-1)!.step).toBe(end.step);
    expect(evals.slice(-2).map((e) => e.isBest)).toEqual([false, false]);
    expect(evals.at(-3)!.isBest).toBe(true);
  });

  it("--resume on a finished run does nothing and succeeds (a cron line can always pass it)", async () => {
    const cwd = await withCorpus(TEXT);
    expect((await train(cwd, ["corpus.txt", ...SMALL, "--steps", "5", "--out", "run"])).code).toBe(0);
    const before = await readFile(join(cwd, "run", "latest.json"), "utf8");
    const { code, stdout } = await train(cwd, ["corpus.txt", "--resume", "--json", "--out", "run"]);
    expect(code).toBe(0);
    expect(endOf(parseEvents(stdout))).toMatchObject({ reason: "steps", step: 5 });
    expect(await readFile(join(cwd, "run", "latest.json"), "utf8")).toBe(before);
  });
});

describe("output", () => {
  it("--json prints only NDJSON on stdout: start, step, eval, checkpoint, sample and end events", async () => {
    const cwd = await withCorpus(TEXT);
    const { code, stdout, stderr } = await train(cwd, ["corpus.txt", ...SMALL, "--steps", "20", "--eval-every", "10", "--checkpoint-every", "10", "--log-every", "5", "--sample-every", "10", "--sample-length", "30", "--json", "--out", "run"]);
    expect(code).toBe(0);
    expect(stderr).toBe("");
    const events = parseEvents(stdout);
    expect(events[0]!.type).toBe("start");
    expect(events.at(-1)!.type).toBe("end");
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(["start", "step", "eval", "checkpoint", "sample", "end"]));
    expect(events.filter((e) => e.type === "step").map((e) => e.step)).toEqual([5, 10, 15, 20]);
    expect(events.filter((e) => e.type === "eval").map((e) => e.step)).toEqual([10, 20]);
    const samples = events.filter((e) => e.type === "sample");
    expect(samples.map((e) => e.step)).toEqual([10, 20]);
    for (const sample of samples) expect(codePointsOf(sample.text as string)).toBe(30);
    for (const event of events) expect(Number.isNaN(Date.parse(event.time as string))).toBe(false);
    expect(events.find((e) => e.type === "checkpoint")!.path).toBe(join(cwd, "run", "latest.json"));
  });

  it("plain mode logs lines on stderr without escape codes and leaves stdout empty", async () => {
    const cwd = await withCorpus(TEXT);
    const { code, stdout, stderr } = await train(cwd, ["corpus.txt", ...SMALL, "--steps", "20", "--eval-every", "10", "--out", "run"]);
    expect(code).toBe(0);
    expect(stdout).toBe("");
    expect(stderr).not.toMatch(/\x1b/);
    expect(stderr).toMatch(/^start: lstm 1x16, /m);
    // The full config line only with --verbose.
    expect(stderr).not.toMatch(/^config: /m);
    expect(stderr).toMatch(/^step 10 epoch 0 step loss \d+\.\d{4} /m);
    expect(stderr).toMatch(/^eval step 20 val loss /m);
    expect(stderr).toMatch(/^finished at step 20: reached the step limit/m);
  });

  it("--dry-run prints the config, parameter count and memory, and writes nothing", async () => {
    const cwd = await withCorpus(TEXT);
    const V = new Set(TEXT).size;
    const H = 16;
    // LSTM, one layer, one-hot input: W_ih (4H, V), W_hh (4H, H), two biases (4H), decoder (V, H) + (V).
    const parameters = 4 * H * (V + H) + 8 * H + V * H + V;

    const plain = await train(cwd, ["corpus.txt", ...SMALL, "--steps", "100", "--dry-run", "--out", "run"]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain(`parameters   ${parameters.toLocaleString("en-US")}`);
    expect(plain.stdout).toMatch(/^memory {7}about \d+\.\d MB/m);
    expect(plain.stdout).toMatch(/^config {7}\{"model":"lstm",.*"hidden":16/m);
    expect(plain.stdout).toMatch(/^start {8}new run$/m);

    const json = await train(cwd, ["corpus.txt", ...SMALL, "--steps", "100", "--dry-run", "--json", "--out", "run"]);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.parameters).toBe(parameters);
    expect(report.vocabularySize).toBe(V);
    expect(report.totalSteps).toBe(100);
    expect(report.memoryBytes.total).toBe(report.memoryBytes.model + report.memoryBytes.corpus);
    // Weights, gradients and optimiser state alone are 4 floats a parameter.
    expect(report.memoryBytes.model).toBeGreaterThan(4 * 4 * parameters);
    expect(report.config.hidden).toBe(16);

    expect(existsSync(join(cwd, "run"))).toBe(false);
  });
});

describe("resume", () => {
  it("--resume with nothing to resume starts a new run and says so", async () => {
    const cwd = await withCorpus(TEXT);
    const { code, stderr } = await train(cwd, ["corpus.txt", ...SMALL, "--steps", "5", "--resume", "--out", "run"]);
    expect(code).toBe(0);
    expect(stderr).toMatch(/^warning: nothing to resume in run: starting a new run$/m);
    expect((await loadCheckpointFile(join(cwd, "run", "latest.json"))).step).toBe(5);
  });

  it("continues from the checkpoint's step with its saved config", async () => {
    const cwd = await withCorpus(TEXT);
    expect((await train(cwd, ["corpus.txt", ...SMALL, "--steps", "5", "--out", "run"])).code).toBe(0);
    const { code, stdout } = await train(cwd, ["corpus.txt", "--resume", "--steps", "9", "--json", "--out", "run"]);
    expect(code).toBe(0);
    const events = parseEvents(stdout);
    expect(events[0]).toMatchObject({ type: "start", resumedFromStep: 5, totalSteps: 9 });
    expect((events[0]!.config as Record<string, unknown>).hidden).toBe(16);
    expect(endOf(events)).toMatchObject({ reason: "steps", step: 9 });
  });

  it("warns that a new --steps bends a cosine schedule, and says nothing for a constant one", async () => {
    const cwd = await withCorpus(TEXT);
    expect((await train(cwd, ["corpus.txt", ...SMALL, "--lr-schedule", "cosine", "--steps", "4", "--out", "cosine"])).code).toBe(0);
    const cosine = await train(cwd, ["corpus.txt", "--resume", "--steps", "8", "--out", "cosine"]);
    expect(cosine.code).toBe(0);
    expect(cosine.stderr).toMatch(/^warning: --steps changed on resume: training continues, but not as the uninterrupted run would have$/m);

    expect((await train(cwd, ["corpus.txt", ...SMALL, "--steps", "4", "--out", "constant"])).code).toBe(0);
    const constant = await train(cwd, ["corpus.txt", "--resume", "--steps", "8", "--out", "constant"]);
    expect(constant.code).toBe(0);
    expect(constant.stderr).not.toMatch(/changed on resume/);
  });

  it("refuses a changed --hidden with exit 2 and leaves the run alone", async () => {
    const cwd = await withCorpus(TEXT);
    expect((await train(cwd, ["corpus.txt", ...SMALL, "--steps", "5", "--out", "run"])).code).toBe(0);
    const before = await readFile(join(cwd, "run", "latest.json"), "utf8");
    const { code, stderr } = await train(cwd, ["corpus.txt", "--resume", "--hidden", "32", "--steps", "10", "--out", "run"]);
    expect(code).toBe(ExitCode.usage);
    expect(stderr).toMatch(/^charnn: --hidden 32 does not match the run being resumed \(16\)/m);
    expect(await readFile(join(cwd, "run", "latest.json"), "utf8")).toBe(before);
    expect(existsSync(join(cwd, "run", ".lock"))).toBe(false);
  });

  it("refuses a different corpus with exit 3 and a hint pointing to --init-from", async () => {
    const cwd = await withCorpus(TEXT);
    await writeFile(join(cwd, "other.txt"), generatedText(3000, 99));
    expect((await train(cwd, ["corpus.txt", ...SMALL, "--steps", "5", "--out", "run"])).code).toBe(0);
    const { code, stderr } = await train(cwd, ["other.txt", "--resume", "--steps", "10", "--out", "run"]);
    expect(code).toBe(ExitCode.badInput);
    expect(stderr).toMatch(/^charnn: the text differs from the text this run was trained on/m);
    expect(stderr).toMatch(/^hint: .*--init-from run\/latest\.json/m);
    expect((await loadCheckpointFile(join(cwd, "run", "latest.json"))).step).toBe(5);
  });
});

describe("--init-from", () => {
  it.each([
    ["one-hot input", [] as string[]],
    ["an embedding", ["--embed", "4"]],
  ])("extends the vocabulary with new characters and keeps the old characters' weights (%s)", async (_name, extra) => {
    const cwd = await withCorpus(TEXT);
    const newText = generatedText(2000, 3, ["café", "🎉", "the", "dog", "ran", "naïve"]);
    await writeFile(join(cwd, "new.txt"), newText);
    expect((await train(cwd, ["corpus.txt", ...SMALL, ...extra, "--steps", "10", "--out", "old"])).code).toBe(0);

    // Interrupted before its first step, the new run saves the transplanted weights untrained.
    const { code, stdout } = await train(cwd, ["new.txt", "--init-from", "old/latest.json", "--batch", "2", "--seq-len", "8", "--steps", "10", "--json", "--out", "new"], { signal: { name: "SIGINT", onEvent: "start" } });
    expect(code).toBe(ExitCode.sigint);
    const warnings = parseEvents(stdout).filter((e) => e.type === "warning").map((e) => e.message as string);
    expect(warnings.some((w) => /vocabulary grows by \d+ new characters: .*"é"/.test(w))).toBe(true);

    const before = await readJson(join(cwd, "old", "latest.json"));
    const after = await readJson(join(cwd, "new", "latest.json"));
    expect(after.step).toBe(0);
    expect(after.config.hidden).toBe(16);
    const oldVocabulary = before.vocabulary as number[];
    const newVocabulary = after.vocabulary as number[];
    const expectedVocabulary = [...new Set([...oldVocabulary, ...[...newText].map((c) => c.codePointAt(0)!)])].sort((a, b) => a - b);
    expect(newVocabulary).toEqual(expectedVocabulary);
    for (const added of ["é", "🎉", "ï"]) expect(oldVocabulary).not.toContain(added.codePointAt(0));

    const H = 16;
    const rows = (record: { data: string }, V: number, index: number) => {
      const values = decodeFloats(record.data);
      const width = values.length / V;
      return Array.from(values.subarray(index * width, (index + 1) * width));
    };
    const perCharacter = ["decoder.weight", "decoder.bias", ...(extra.length > 0 ? ["embedding.weight"] : [])];
    for (const shared of ["t", "o", " ", "\n"]) {
      const oldIndex = oldVocabulary.indexOf(shared.codePointAt(0)!);
      const newIndex = newVocabulary.indexOf(shared.codePointAt(0)!);
      expect(oldIndex).toBeGreaterThanOrEqual(0);
      for (const name of perCharacter) {
        expect(rows(after.params[name], newVocabulary.length, newIndex)).toEqual(rows(before.params[name], oldVocabulary.length, oldIndex));
      }
      if (extra.length === 0) {
        // One-hot input: layer 0's input weights have a column per character.
        const oldWeights = decodeFloats(before.params.weight_ih_l0.data), newWeights = decodeFloats(after.params.weight_ih_l0.data);
        for (let r = 0; r < 4 * H; r++) expect(newWeights[r * newVocabulary.length + newIndex]).toBe(oldWeights[r * oldVocabulary.length + oldIndex]);
      }
    }
    expect(after.params.weight_hh_l0.data).toBe(before.params.weight_hh_l0.data);
    // A new character's decoder row is freshly initialised, not left at zero.
    const newRow = rows(after.params["decoder.weight"], newVocabulary.length, newVocabulary.indexOf("é".codePointAt(0)!));
    expect(newRow.some((value) => value !== 0)).toBe(true);
  });

  it("trains on the new text and can be resumed like any run", async () => {
    const cwd = await withCorpus(TEXT);
    await writeFile(join(cwd, "new.txt"), generatedText(2000, 3, ["café", "the", "dog"]));
    expect((await train(cwd, ["corpus.txt", ...SMALL, "--steps", "5", "--out", "old"])).code).toBe(0);
    expect((await train(cwd, ["new.txt", "--init-from", "old/latest.json", "--batch", "2", "--seq-len", "8", "--steps", "6", "--out", "new"])).code).toBe(0);
    const resumed = await train(cwd, ["new.txt", "--resume", "--steps", "9", "--out", "new"]);
    expect(resumed.code).toBe(0);
    const latest = await loadCheckpointFile(join(cwd, "new", "latest.json"));
    expect(latest.step).toBe(9);
    expect(latest.vocabulary).toContain("é".codePointAt(0));
  });
});

describe("input", () => {
  it("reads settings from --config, with flags taking precedence", async () => {
    const cwd = await withCorpus(TEXT);
    await writeFile(join(cwd, "settings.json"), JSON.stringify({ hidden: 12, layers: 1, batch: 2, seqLen: 8, model: "gru", steps: 20, evalEvery: 3 }));
    const { code, stdout } = await train(cwd, ["corpus.txt", "--config", "settings.json", "--steps", "7", "--json", "--out", "run"]);
    expect(code).toBe(0);
    const events = parseEvents(stdout);
    expect(events.filter((e) => e.type === "eval").map((e) => e.step)).toEqual([3, 6, 7]);
    const latest = await loadCheckpointFile(join(cwd, "run", "latest.json"));
    expect(latest.step).toBe(7);
    expect(latest.config).toMatchObject({ model: "gru", hidden: 12, steps: 7, evalEvery: 3 });
    expect(Object.keys(latest.params)).toContain("weight_hh_l0");
    expect(latest.params.weight_hh_l0!.shape).toEqual([36, 12]);
  });

  it("rejects an unknown key in --config with exit 2", async () => {
    const cwd = await withCorpus(TEXT);
    await writeFile(join(cwd, "settings.json"), JSON.stringify({ hiden: 12 }));
    const { code, stderr } = await train(cwd, ["corpus.txt", "--config", "settings.json", "--out", "run"]);
    expect(code).toBe(ExitCode.usage);
    expect(stderr).toMatch(/unknown key "hiden".*did you mean "hidden"/);
    expect(existsSync(join(cwd, "run"))).toBe(false);
  });

  it("reads a directory's text files in sorted order, skipping binary ones, the same text as on stdin", async () => {
    const cwd = await freshFolder();
    const first = generatedText(1500, 1), second = generatedText(1500, 2);
    await mkdir(join(cwd, "texts", "sub"), { recursive: true });
    await writeFile(join(cwd, "texts", "sub", "b.txt"), second);
    await writeFile(join(cwd, "texts", "a.txt"), first);
    await writeFile(join(cwd, "texts", "image.bin"), Buffer.from([0x89, 0x50, 0x00, 0x01, 0x02]));
    const { code, stderr } = await train(cwd, ["texts", ...SMALL, "--steps", "4", "--out", "run"]);
    expect(code).toBe(0);
    expect(stderr).toMatch(/^warning: skipped texts\/image\.bin: looks binary$/m);
    const latest = await loadCheckpointFile(join(cwd, "run", "latest.json"));
    expect(latest.corpus.length).toBe(first.length + 1 + second.length);

    // The same text on stdin has the same fingerprint, so the run resumes from it.
    const resumed = await train(cwd, ["-", "--resume", "--steps", "6", "--out", "run"], { stdin: `${first}\n${second}` });
    expect(resumed.stderr).not.toMatch(/differs/);
    expect(resumed.code).toBe(0);
    expect((await loadCheckpointFile(join(cwd, "run", "latest.json"))).step).toBe(6);
  });

  it("reads standard input for -, counting code points, not UTF-16 units", async () => {
    const cwd = await freshFolder();
    const text = generatedText(1500, 5, ["🎉", "日本", "語", "ok", "naïve"]);
    expect(text.length).toBeGreaterThan(codePointsOf(text));
    const { code } = await train(cwd, ["-", ...SMALL, "--steps", "3", "--out", "run"], { stdin: text });
    expect(code).toBe(0);
    const latest = await loadCheckpointFile(join(cwd, "run", "latest.json"));
    expect(latest.corpus.length).toBe(codePointsOf(text));
    expect(latest.vocabulary).toContain("🎉".codePointAt(0));
  });

  it("an empty file is bad input (exit 3), and nothing is written", async () => {
    const cwd = await withCorpus("");
    const { code, stderr } = await train(cwd, ["corpus.txt", ...SMALL, "--steps", "3", "--out", "run"]);
    expect(code).toBe(ExitCode.badInput);
    expect(stderr).toMatch(/^charnn: the corpus is empty \(corpus\.txt\)$/m);
    expect(existsSync(join(cwd, "run"))).toBe(false);
  });

  it("invalid UTF-8 names the file and byte offset (exit 3), and nothing is written", async () => {
    const cwd = await freshFolder();
    const good = Buffer.from(generatedText(200));
    await writeFile(join(cwd, "bad.txt"), Buffer.concat([good, Buffer.from([0xc3, 0x28]), good]));
    const { code, stdout, stderr } = await train(cwd, ["bad.txt", ...SMALL, "--steps", "3", "--json", "--out", "run"]);
    expect(code).toBe(ExitCode.badInput);
    expect(stdout).toBe("");
    const message = stderr.split("\n")[0]!;
    expect(message).toMatch(/^charnn: bad\.txt: /);
    expect(message).toContain(`byte ${good.length}`);
    expect(existsSync(join(cwd, "run"))).toBe(false);
  });

  it("--val-file validates on that file and trains on all of the corpus", async () => {
    const cwd = await withCorpus(TEXT);
    await writeFile(join(cwd, "val.txt"), generatedText(400, 11) + "§");
    const { code, stdout } = await train(cwd, ["corpus.txt", ...SMALL, "--val-file", "val.txt", "--steps", "5", "--json", "--out", "run"]);
    expect(code).toBe(0);
    const events = parseEvents(stdout);
    const start = events.find((e) => e.type === "start")!;
    expect(start.trainChars).toBe(codePointsOf(TEXT));
    expect(start.validationChars as number).toBeGreaterThan(0);
    expect(events.some((e) => e.type === "warning" && /val\.txt: 1 characters not in the training text/.test(e.message as string))).toBe(true);
    expect(events.filter((e) => e.type === "eval")).toHaveLength(1);
  });
});

describe("failures that keep the last checkpoint", () => {
  it("divergence exits 4, suggests --lr and --clip, and leaves latest.json untouched", async () => {
    const cwd = await withCorpus(TEXT);
    expect((await train(cwd, ["corpus.txt", ...SMALL, "--optimizer", "sgd", "--steps", "10", "--out", "run"])).code).toBe(0);
    const before = await readFile(join(cwd, "run", "latest.json"), "utf8");
    const { code, stderr } = await train(cwd, ["corpus.txt", "--resume", "--lr", "1e4", "--clip", "0", "--steps", "200", "--out", "run"]);
    expect(code).toBe(ExitCode.diverged);
    expect(stderr).toMatch(/^warning: --lr, --clip changed on resume/m);
    expect(stderr).toMatch(/^charnn: training diverged at step \d+/m);
    expect(stderr).toMatch(/^hint: lower --lr \(now 10000\) or clip harder with --clip \(now 0\)/m);
    expect(await readFile(join(cwd, "run", "latest.json"), "utf8")).toBe(before);
    expect((await loadCheckpointFile(join(cwd, "run", "latest.json"))).step).toBe(10);
    expect(existsSync(join(cwd, "run", ".lock"))).toBe(false);
  });

  it("a full disk (rename fails with ENOSPC) fails with one line about space; the previous checkpoint stays", async () => {
    const cwd = await withCorpus(TEXT);
    expect((await train(cwd, ["corpus.txt", ...SMALL, "--steps", "5", "--out", "run"])).code).toBe(0);
    const before = await readFile(join(cwd, "run", "latest.json"), "utf8");
    const { code, stderr } = await train(cwd, ["corpus.txt", "--resume", "--steps", "10", "--out", "run"], { faults: "rename:ENOSPC" });
    // A checkpoint that cannot be written has its own exit code, not an unexpected crash's 1.
    expect(code).toBe(ExitCode.writeFailed);
    const errors = stderr.split("\n").filter((line) => line.startsWith("charnn:"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/no space left on device \(ENOSPC\)/);
    expect(stderr).toMatch(/^hint: free some disk space/m);
    expect(await readFile(join(cwd, "run", "latest.json"), "utf8")).toBe(before);
    expect((await loadCheckpointFile(join(cwd, "run", "latest.json"))).step).toBe(5);
    expect((await readdir(join(cwd, "run"))).filter((name) => name.endsWith(".tmp") || name === ".lock")).toEqual([]);
  });
});

describe("the run lock", () => {
  it("a live run's lock makes another run exit 5 without touching anything", async () => {
    const cwd = await withCorpus(TEXT);
    const holder = liveProcess();
    try {
      await mkdir(join(cwd, "run"));
      await writeFile(join(cwd, "run", ".lock"), lockText(holder.pid));
      const { code, stderr } = await train(cwd, ["corpus.txt", ...SMALL, "--steps", "3", "--out", "run"]);
      expect(code).toBe(ExitCode.locked);
      expect(stderr).toContain(`charnn: another charnn run (pid ${holder.pid}) is using ${join(cwd, "run")}/\n`);
      expect(await readdir(join(cwd, "run"))).toEqual([".lock"]);
      expect(await readFile(join(cwd, "run", ".lock"), "utf8")).toBe(lockText(holder.pid));
    } finally {
      holder.stop();
    }
  });

  it("a dead run's lock is taken over, and released at the end", async () => {
    const cwd = await withCorpus(TEXT);
    await mkdir(join(cwd, "run"));
    await writeFile(join(cwd, "run", ".lock"), lockText(await deadPid()));
    const { code } = await train(cwd, ["corpus.txt", ...SMALL, "--steps", "3", "--out", "run"]);
    expect(code).toBe(0);
    expect((await loadCheckpointFile(join(cwd, "run", "latest.json"))).step).toBe(3);
    expect(existsSync(join(cwd, "run", ".lock"))).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Exact resume: the parameters and optimiser state after N steps in one go, and after the same
// N steps in two or three parts, are the same bytes (base64 of the raw float32 data).

const EXACT_FIELDS = ["params", "optimizer", "hiddenState", "rng", "cursor", "step", "epoch"] as const;

function expectSameTrainingState(actual: Record<string, unknown>, expected: Record<string, unknown>): void {
  for (const field of EXACT_FIELDS) expect(JSON.stringify(actual[field]), field).toBe(JSON.stringify(expected[field]));
}

describe("exact resume", () => {
  // About 37 windows an epoch: 80 steps cross two epoch ends, where the carried state resets.
  const text = generatedText(640, 21);

  it.each([
    ["lstm", ["--model", "lstm"]],
    ["gru", ["--model", "gru"]],
    ["rnn", ["--model", "rnn"]],
    ["lstm with an embedding and a learned initial state", ["--model", "lstm", "--embed", "6", "--learn-init"]],
  ])("%s, 2 layers with dropout: one run equals two and three resumed parts", async (_name, model) => {
    const cwd = await withCorpus(text);
    const common = ["corpus.txt", ...model, "--layers", "2", "--hidden", "12", "--dropout", "0.3", "--batch", "2", "--seq-len", "8", "--eval-every", "7", "--checkpoint-every", "9"];
    const run = async (out: string, steps: number, resume: boolean) => {
      const result = await train(cwd, [...common, "--steps", String(steps), "--out", out, ...(resume ? ["--resume"] : [])]);
      expect(result.stderr).not.toMatch(/warning: .*changed on resume/);
      expect(result.code).toBe(0);
    };
    await run("whole", 80, false);
    await run("two", 33, false);
    await run("two", 80, true);
    await run("three", 10, false);
    await run("three", 51, true);
    await run("three", 80, true);

    const whole = await readJson(join(cwd, "whole", "latest.json"));
    expect(whole.step).toBe(80);
    expect(whole.epoch).toBe(2);
    expectSameTrainingState(await readJson(join(cwd, "two", "latest.json")), whole);
    expectSameTrainingState(await readJson(join(cwd, "three", "latest.json")), whole);
    // The comparison can fail: a different seed gives other bytes.
    await train(cwd, [...common, "--steps", "80", "--seed", "2", "--out", "other"]);
    expect((await readJson(join(cwd, "other", "latest.json"))).params).not.toEqual(whole.params);
  });

  it("a SIGINT mid-run (exit 130) saves where it stopped, and resuming gives the uninterrupted bytes", async () => {
    const cwd = await withCorpus(text);
    const common = ["corpus.txt", ...SMALL, "--layers", "2", "--dropout", "0.2", "--log-every", "3", "--eval-every", "5"];
    expect((await train(cwd, [...common, "--steps", "60", "--out", "whole"])).code).toBe(0);

    const interrupted = await train(cwd, [...common, "--steps", "60", "--json", "--out", "parts"], { signal: { name: "SIGINT", onEvent: "step" } });
    expect(interrupted.code).toBe(ExitCode.sigint);
    const events = parseEvents(interrupted.stdout);
    const end = endOf(events);
    expect(end.reason).toBe("interrupted");
    // The signal arrives while step 3 is reported (in-process it is delivered at once): the rest
    // of that step's work is done, and the run stops before step 4.
    expect(end.step).toBe(3);
    expect(events.some((e) => e.type === "warning" && /^SIGINT: finishing this step and saving a checkpoint/.test(e.message as string))).toBe(true);
    expect(events.filter((e) => e.type === "checkpoint").at(-1)!.step).toBe(3);
    expect((await loadCheckpointFile(join(cwd, "parts", "latest.json"))).step).toBe(3);
    expect(existsSync(join(cwd, "parts", ".lock"))).toBe(false);

    expect((await train(cwd, ["corpus.txt", "--resume", "--out", "parts"])).code).toBe(0);
    expectSameTrainingState(await readJson(join(cwd, "parts", "latest.json")), await readJson(join(cwd, "whole", "latest.json")));
  });

  it("a SIGHUP (the terminal closed) is handled like SIGTERM: the step finishes, a checkpoint is saved, exit 129", async () => {
    const cwd = await withCorpus(text);
    const { code, stdout, stderr } = await train(cwd, ["corpus.txt", ...SMALL, "--steps", "60", "--log-every", "2", "--json", "--out", "run"], { signal: { name: "SIGHUP", onEvent: "step" } });
    expect(code).toBe(ExitCode.sighup);
    const end = endOf(parseEvents(stdout));
    expect(end.reason).toBe("interrupted");
    expect((await loadCheckpointFile(join(cwd, "run", "latest.json"))).step).toBe(end.step);
    // The message says how to go on, as a command that works when pasted.
    expect(stderr).toContain("to continue this run: charnn train corpus.txt --out run --resume\n");
    expect((await train(cwd, ["corpus.txt", "--out", "run", "--resume"])).code).toBe(0);
  });

  it("--resume --out DIR with no text named goes on with the text the run recorded, checked by its fingerprint", async () => {
    const cwd = await withCorpus(text);
    expect((await train(cwd, ["corpus.txt", ...SMALL, "--steps", "5", "--out", "run"])).code).toBe(0);
    const resumed = await train(cwd, ["--resume", "--out", "run", "--steps", "8"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((await loadCheckpointFile(join(cwd, "run", "latest.json"))).step).toBe(8);
    await writeFile(join(cwd, "corpus.txt"), text + "more text\n");
    const changed = await train(cwd, ["--resume", "--out", "run", "--steps", "9"]);
    expect(changed.code).toBe(ExitCode.badInput);
    expect(changed.stderr).toContain("differs from the text this run was trained on");
    const none = await train(cwd, ["--out", "other"]);
    expect(none.code).toBe(ExitCode.usage);
    expect(none.stderr).toContain("name the text to train on");
  });

  it("a SIGTERM exits 143 after saving", async () => {
    const cwd = await withCorpus(text);
    const { code, stdout } = await train(cwd, ["corpus.txt", ...SMALL, "--steps", "60", "--log-every", "2", "--json", "--out", "run"], { signal: { name: "SIGTERM", onEvent: "step" } });
    expect(code).toBe(ExitCode.sigterm);
    const end = endOf(parseEvents(stdout));
    expect(end.reason).toBe("interrupted");
    expect((await loadCheckpointFile(join(cwd, "run", "latest.json"))).step).toBe(end.step);
  });
});
