// Hardening (issue 6): property-based fuzzing with fast-check, seeded so a failure replays — the
// checkpoint loader on real checkpoints damaged byte by byte, edited field by field and re-sealed
// (so the field checks, not the checksum, are what is tested), and on arbitrary JSON; and main()
// with generated argv for every command. Never a crash or a stack: a one-line CharnnError with the
// right exit code, and whatever is accepted is usable (a model builds, a config re-validates).

import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Command } from "commander";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeCheckpoint, modelFromCheckpoint } from "../../src/core/checkpoint/load.js";
import { loadCheckpointFile } from "../../src/node/store.js";
import type { CommandHandlers } from "../../src/cli/main.js";
import { addEvalOptions, addInfoOptions, addSampleOptions, addTrainOptions } from "../../src/cli/options.js";
import { resolveSampleOptions, resolveTrainConfig, type TrainConfig } from "../../src/core/config.js";
import { CharnnError, ExitCode } from "../../src/core/errors.js";
import { freshFolder, linesOf, runMain, trainedCheckpoint } from "./helpers.js";

const SEED = 20240606;
const SOURCE = "fuzz.json";

/** The loader's contract for a rejected file: a CharnnError, exit code 3, one line, file named. */
function expectRejected(error: unknown, context: string): void {
  if (!(error instanceof CharnnError)) throw new Error(`${context}: not a CharnnError: ${String((error as Error)?.stack ?? error)}`);
  expect(error.exitCode, `${context}: ${error.message}`).toBe(ExitCode.badInput);
  expect(error.message, context).not.toMatch(/[\n\r]/);
  expect(error.message.length, context).toBeLessThan(400);
  if (error.hint !== undefined) expect(error.hint, context).not.toMatch(/[\n\r]/);
}

/** Every way the loader is called: decode, then build the model sample and eval would use. */
function loadAndBuild(text: string): "accepted" {
  const state = decodeCheckpoint(text, SOURCE);
  const { model, vocabulary } = modelFromCheckpoint(state);
  expect(vocabulary.size).toBe(state.vocabulary.length);
  expect(model.params.size).toBeGreaterThan(0);
  return "accepted";
}

function outcome(text: string, context: string): "accepted" | "rejected" {
  try {
    return loadAndBuild(text);
  } catch (error) {
    expectRejected(error, context);
    return "rejected";
  }
}

/** Re-seal a document by the checksum rule of src/core/checkpoint/format.ts. */
function sealed(document: Record<string, unknown>): string {
  const { checksum: _dropped, ...rest } = document;
  const body = JSON.stringify(rest);
  return `${body.slice(0, -1)},"checksum":"sha256:${createHash("sha256").update(body, "utf8").digest("hex")}"}\n`;
}

/** Every path to a value in a JSON document, e.g. ["config", "hidden"], ["params", "decoder.bias", "shape", 0]. */
function pathsOf(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const paths: Array<Array<string | number>> = [prefix];
  if (Array.isArray(value)) {
    // Long lists (the vocabulary, the history) contribute their ends and a middle entry.
    const indices = value.length <= 6 ? value.map((_, i) => i) : [0, 1, Math.floor(value.length / 2), value.length - 2, value.length - 1];
    for (const index of indices) paths.push(...pathsOf(value[index], [...prefix, index]));
  } else if (typeof value === "object" && value !== null) {
    for (const [key, child] of Object.entries(value)) paths.push(...pathsOf(child, [...prefix, key]));
  }
  return paths;
}

type Edit =
  | { kind: "replace"; path: number; value: unknown }
  | { kind: "delete"; path: number }
  | { kind: "nudge"; path: number; by: number }
  | { kind: "add"; path: number; key: string; value: unknown };

function applyEdit(document: Record<string, unknown>, paths: Array<Array<string | number>>, edit: Edit): void {
  const path = paths[edit.path % paths.length]!;
  if (path.length === 0) return; // the root itself: nothing to replace in place
  // An earlier edit may have removed or replaced part of the path: then this edit does nothing.
  let parent: any = document;
  for (const step of path.slice(0, -1)) {
    parent = typeof parent === "object" && parent !== null ? parent[step] : undefined;
  }
  if (typeof parent !== "object" || parent === null) return;
  const key = path.at(-1)!;
  switch (edit.kind) {
    case "replace":
      parent[key] = edit.value;
      break;
    case "delete":
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      break;
    case "nudge":
      if (typeof parent[key] === "number") parent[key] += edit.by;
      else parent[key] = edit.by;
      break;
    case "add":
      if (typeof parent[key] === "object" && parent[key] !== null && !Array.isArray(parent[key])) parent[key][edit.key] = edit.value;
      else parent[key] = { [edit.key]: edit.value };
      break;
  }
}

/** Values a hand-edited or foreign file holds where charnn expects something else. */
const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(0, -1, 1, 2, 1.5, -0.5, 1e308, -1e308, 2 ** 53, 2 ** 31, 0x110000, "", "lstm", "gru", "rnn", "relu", "sigmoid", "js", "wasm", null, true, false, [], {}, [0], [1, 1], "AAAA", "AAAAAA==", "////", "sha256:00"),
  fc.jsonValue({ maxDepth: 2 }),
);

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant("replace" as const), path: fc.nat(), value: nastyValue }),
  fc.record({ kind: fc.constant("delete" as const), path: fc.nat() }),
  fc.record({ kind: fc.constant("nudge" as const), path: fc.nat(), by: fc.constantFrom(1, -1, 2, 1000, -1000, 0.5) }),
  fc.record({ kind: fc.constant("add" as const), path: fc.nat(), key: fc.string({ maxLength: 8 }), value: nastyValue }),
);

type ByteMutation =
  | { kind: "truncate"; at: number }
  | { kind: "flip"; at: number; mask: number }
  | { kind: "set"; at: number; byte: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "delete"; at: number; length: number }
  | { kind: "duplicate"; at: number; length: number }
  | { kind: "splice"; at: number; other: number; otherAt: number };

const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant("splice" as const), at: fc.nat(), other: fc.nat(), otherAt: fc.nat() }),
);

function mutateBytes(bytes: Buffer, mutation: ByteMutation, others: Buffer[]): Buffer {
  const at = mutation.at % (bytes.length + 1);
  switch (mutation.kind) {
    case "truncate":
      return bytes.subarray(0, at);
    case "flip":
    case "set": {
      const copy = Buffer.from(bytes);
      const index = Math.min(at, copy.length - 1);
      copy[index] = mutation.kind === "flip" ? copy[index]! ^ mutation.mask : mutation.byte;
      return copy;
    }
    case "insert":
      return Buffer.concat([bytes.subarray(0, at), mutation.bytes, bytes.subarray(at)]);
    case "delete":
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + mutation.length)]);
    case "duplicate":
      return Buffer.concat([bytes.subarray(0, at + mutation.length), bytes.subarray(at)]);
    case "splice": {
      // The head of this checkpoint and the tail of another: a file two writers interleaved.
      const other = others[mutation.other % others.length]!;
      return Buffer.concat([bytes.subarray(0, at), other.subarray(mutation.otherAt % (other.length + 1))]);
    }
  }
}

// ---------------------------------------------------------------------------------------------

const KINDS: Array<{ name: string; args: string[] }> = [
  { name: "lstm, 2 layers", args: ["--model", "lstm", "--layers", "2", "--hidden", "4"] },
  { name: "gru with an embedding", args: ["--model", "gru", "--hidden", "5", "--embed", "3"] },
  { name: "rnn relu with a learned initial state", args: ["--model", "rnn", "--activation", "relu", "--hidden", "3", "--learn-init"] },
];

let texts: string[] = [];
let files: string[] = [];

beforeAll(async () => {
  files = [];
  for (const kind of KINDS) files.push(await trainedCheckpoint(await freshFolder("fuzz"), kind.args));
  texts = await Promise.all(files.map((file) => readFile(file, "utf8")));
  for (const text of texts) expect(loadAndBuild(text)).toBe("accepted");
}, 60_000);

describe("the checkpoint loader, fuzzed", () => {
  it("byte-level damage (cut, flipped, set, inserted, deleted, duplicated, spliced): 3000 cases, rejected with one line unless the text is unchanged", () => {
    const buffers = texts.map((text) => Buffer.from(text, "utf8"));
    let rejected = 0;
    fc.assert(
      fc.property(fc.nat(), fc.array(byteMutation, { minLength: 1, maxLength: 3 }), (which, mutations) => {
        const original = buffers[which % buffers.length]!;
        const damaged = mutations.reduce((bytes, mutation) => mutateBytes(bytes, mutation, buffers), original);
        // Read as loadCheckpointFile reads a file: bytes that are not UTF-8 become U+FFFD.
        const text = damaged.toString("utf8");
        const result = outcome(text, JSON.stringify(mutations).slice(0, 300));
        if (result === "accepted") {
          // Only the optional final newline may go without changing what the file means.
          expect(text.replace(/\n$/, "")).toBe(original.toString("utf8").replace(/\n$/, ""));
        } else rejected++;
      }),
      { seed: SEED, numRuns: 3000 },
    );
    expect(rejected).toBeGreaterThan(2900);
  });

  it("field-level edits re-sealed with a valid checksum: 3000 cases, each rejected with one line or usable as a model", () => {
    const documents = texts.map((text) => JSON.parse(text) as Record<string, unknown>);
    const pathLists = documents.map((document) => pathsOf(document));
    const counts = { accepted: 0, rejected: 0 };
    fc.assert(
      fc.property(fc.nat(), fc.array(edit, { minLength: 1, maxLength: 3 }), (which, edits) => {
        const index = which % documents.length;
        const document = structuredClone(documents[index]!);
        for (const change of edits) applyEdit(document, pathLists[index]!, change);
        counts[outcome(sealed(document), JSON.stringify(edits).slice(0, 300))]++;
      }),
      { seed: SEED + 1, numRuns: 3000 },
    );
    // Most edits break something; some (a new createdAt, an added note) are harmless.
    expect(counts.rejected).toBeGreaterThan(1500);
    expect(counts.accepted).toBeGreaterThan(0);
  });

  it("arbitrary JSON values, and objects that claim to be checkpoints: 2000 cases, all rejected with one line", () => {
    const claimed = fc
      .record(
        {
          format: fc.constantFrom("charnn-checkpoint", "charnn", "", 1),
          version: fc.oneof(fc.constantFrom(1, 0, 2, -1, 1.5, "1"), fc.jsonValue({ maxDepth: 1 })),
          config: fc.jsonValue({ maxDepth: 2 }),
          vocabulary: fc.oneof(fc.array(fc.integer({ min: -2, max: 0x110000 }), { maxLength: 8 }), fc.jsonValue({ maxDepth: 1 })),
          params: fc.oneof(fc.dictionary(fc.string({ maxLength: 12 }), fc.record({ shape: fc.array(fc.nat(8), { maxLength: 3 }), data: fc.base64String({ maxLength: 40 }) })), fc.jsonValue({ maxDepth: 2 })),
          step: fc.jsonValue({ maxDepth: 1 }),
        },
        { requiredKeys: ["format"] },
      )
      .map((document) => sealed(document));
    const raw = fc.jsonValue().map((value) => JSON.stringify(value) ?? "null");
    fc.assert(
      fc.property(fc.oneof(raw, claimed, fc.string({ unit: "binary", maxLength: 200 })), (text) => {
        expect(outcome(text, text.slice(0, 200))).toBe("rejected");
      }),
      { seed: SEED + 2, numRuns: 2000 },
    );
  });

  it("loadCheckpointFile on damaged files on disk: 300 cases, rejected with one line naming the file", async () => {
    const folder = await freshFolder("fuzz-files");
    const buffers = texts.map((text) => Buffer.from(text, "utf8"));
    let case_ = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat(), byteMutation, async (which, mutation) => {
        const file = join(folder, `damaged-${case_++}.json`);
        const damaged = mutateBytes(buffers[which % buffers.length]!, mutation, buffers);
        await writeFile(file, damaged);
        try {
          await loadCheckpointFile(file);
          expect(damaged.toString("utf8").replace(/\n$/, "")).toBe(texts[which % texts.length]!.replace(/\n$/, ""));
        } catch (error) {
          expectRejected(error, JSON.stringify(mutation));
          expect((error as Error).message.startsWith(`${file}: `) || (error as Error).message.includes(file)).toBe(true);
        }
      }),
      { seed: SEED + 3, numRuns: 300 },
    );
  });

  it("re-sealed edits through the real commands (info, sample, eval): 150 cases, exit 0 or 3 with one line", async () => {
    const folder = await freshFolder("fuzz-commands");
    await writeFile(join(folder, "text.txt"), "the quick brown fox\n");
    const documents = texts.map((text) => JSON.parse(text) as Record<string, unknown>);
    const pathLists = documents.map((document) => pathsOf(document));
    const commands = [
      ["info", "edited.json"],
      ["info", "--json", "edited.json"],
      ["sample", "-c", "edited.json", "--length", "5", "--seed", "1"],
      ["eval", "-c", "edited.json", "text.txt"],
    ];
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.array(edit, { minLength: 1, maxLength: 2 }), fc.nat(), async (which, edits, command) => {
        const index = which % documents.length;
        const document = structuredClone(documents[index]!);
        for (const change of edits) applyEdit(document, pathLists[index]!, change);
        await writeFile(join(folder, "edited.json"), sealed(document));
        const argv = commands[command % commands.length]!;
        const result = await runMain(argv, { cwd: folder });
        const context = `${argv.join(" ")} after ${JSON.stringify(edits).slice(0, 300)}\n${result.stderr}`;
        expect([ExitCode.ok, ExitCode.badInput], context).toContain(result.code);
        expect(result.stderr, context).not.toMatch(/unexpected error|^\s+at /m);
        if (result.code === ExitCode.badInput) {
          const lines = linesOf(result.stderr);
          expect(lines[0], context).toMatch(/^charnn: /);
          expect(lines.length, context).toBeLessThanOrEqual(2);
          expect(result.stdout, context).toBe("");
        }
      }),
      { seed: SEED + 4, numRuns: 150 },
    );
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// Option parsing

type CommandName = "train" | "sample" | "eval" | "info";
const DECLARE: Record<CommandName, (command: Command) => void> = { train: addTrainOptions, sample: addSampleOptions, eval: addEvalOptions, info: addInfoOptions };

/** Every flag spelling a command declares (long, short, negations), whether it takes a value. */
function flagsOf(command: CommandName): Array<{ flag: string; takesValue: boolean }> {
  const program = new Command(command);
  DECLARE[command](program);
  return program.options.flatMap((option) => {
    const takesValue = option.required || option.optional;
    return [option.long, option.short].filter((flag): flag is string => flag !== undefined).map((flag) => ({ flag, takesValue }));
  });
}

const NASTY_VALUES = [
  "0", "-0", "1", "-1", "2.5", "1e3", "1e30", "1e309", "-1e309", "NaN", "Infinity", "0x10", "1_000", "", " ", "abc", "-", "--",
  "4294967295", "4294967296", "9007199254740993", "1e-400", "5m", "0s", "1h30m", "10", "lstm", "rnn", "relu", "adam", "wasm",
  "checkpoints/latest.json", "/nonexistent/folder/file.txt", "\u0000", "日本", "😀", "--help",
];

function argvArbitrary(command: CommandName): fc.Arbitrary<string[]> {
  const flags = flagsOf(command);
  const value = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...NASTY_VALUES) }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) });
  const token: fc.Arbitrary<string[]> = fc.oneof(
    { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...flags), value).map(([{ flag, takesValue }, v]) => (takesValue ? [flag, v] : [flag])) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...flags.filter((f) => f.flag.startsWith("--"))), value).map(([{ flag }, v]) => [`${flag}=${v}`]) },
    { weight: 1, arbitrary: fc.constantFrom(...flags).map(({ flag }) => [flag]) },
    { weight: 1, arbitrary: fc.constantFrom("--bogus", "-x", "-Z", "--lr", "--temp", "--per-line", "--steps", "--", "-", "file.txt").map((t) => [t]) },
    { weight: 1, arbitrary: fc.string({ maxLength: 10 }).map((t) => [t]) },
  );
  // train and eval need a FILE; usually give one, so that the options are what gets tested.
  const positional = command === "train" || command === "eval" ? fc.oneof({ weight: 9, arbitrary: fc.constant(["corpus.txt"]) }, { weight: 1, arbitrary: fc.constant([]) }) : fc.constant([]);
  return fc.tuple(positional, fc.array(token, { maxLength: 8 })).map(([files, tokens]) => [command, ...files, ...tokens.flat()]);
}

interface Call {
  command: CommandName;
  options: Record<string, unknown>;
  inputs?: string[];
}

function recording(calls: Call[]): CommandHandlers {
  return {
    train: async (config, inputs) => (calls.push({ command: "train", options: config as unknown as Record<string, unknown>, inputs }), 0),
    sample: async (options) => (calls.push({ command: "sample", options: options as unknown as Record<string, unknown> }), 0),
    eval: async (options, inputs) => (calls.push({ command: "eval", options: options as unknown as Record<string, unknown>, inputs }), 0),
    info: async (options) => (calls.push({ command: "info", options: options as unknown as Record<string, unknown> }), 0),
  };
}

/** What every invocation must satisfy, whatever the command body then does. */
function expectWellBehaved(argv: string[], result: { code: number; stdout: string; stderr: string }, allowed: number[]): void {
  const context = `${JSON.stringify(argv)}\nstdout: ${result.stdout.slice(0, 200)}\nstderr: ${result.stderr}`;
  expect(allowed, context).toContain(result.code);
  expect(result.stderr, context).not.toMatch(/unexpected error|^\s+at |Error:/m);
  if (result.code !== ExitCode.ok) {
    const lines = linesOf(result.stderr);
    expect(lines[0], context).toMatch(/^charnn: \S/);
    expect(lines.length, context).toBeLessThanOrEqual(2);
    if (lines.length === 2) expect(lines[1], context).toMatch(/^hint: \S/);
    expect(result.stdout, context).toBe("");
  }
}

describe("option parsing, fuzzed", () => {
  for (const command of ["train", "sample", "eval", "info"] as const) {
    it(`charnn ${command} with 1500 generated argv: exit 0 or 2, one line for errors, and only valid options reach the command`, async () => {
      let accepted = 0, refused = 0;
      await fc.assert(
        fc.asyncProperty(argvArbitrary(command), async (argv) => {
          const calls: Call[] = [];
          const result = await runMain(argv, { handlers: recording(calls) });
          expectWellBehaved(argv, result, [ExitCode.ok, ExitCode.usage]);
          if (result.code === ExitCode.usage) {
            refused++;
            expect(calls).toEqual([]);
            return;
          }
          if (calls.length === 0) {
            // --help (or -h) printed the command's help on stdout.
            expect(result.stdout, JSON.stringify(argv)).toMatch(/^Usage: charnn/);
            return;
          }
          accepted++;
          expect(calls).toHaveLength(1);
          expect(result.stderr).toBe("");
          const options = calls[0]!.options;
          // What reached the command is valid as it stands: it resolves to itself.
          if (command === "train") expect(resolveTrainConfig(options, {})).toStrictEqual(options as unknown as TrainConfig);
          if (command === "sample") expect(resolveSampleOptions(options)).toStrictEqual(options);
          for (const value of Object.values(options)) if (typeof value === "number") expect(Number.isFinite(value)).toBe(true);
        }),
        { seed: SEED + 10, numRuns: 1500 },
      );
      expect(refused).toBeGreaterThan(100);
      expect(accepted).toBeGreaterThan(50);
    });
  }

  it("the real command bodies in an empty folder, 400 generated argv: exit 0, 2 or 3, one line for errors", async () => {
    const folder = await freshFolder("fuzz-empty");
    const any = fc.oneof(...(["train", "sample", "eval", "info"] as const).map((command) => argvArbitrary(command)));
    await fc.assert(
      fc.asyncProperty(any, async (argv) => {
        const result = await runMain(argv, { cwd: folder });
        expectWellBehaved(argv, result, [ExitCode.ok, ExitCode.usage, ExitCode.badInput]);
        // Nothing to read, so nothing runs: success is only --help.
        if (result.code === ExitCode.ok) expect(result.stdout).toMatch(/^Usage: charnn/);
      }),
      { seed: SEED + 20, numRuns: 400 },
    );
  }, 60_000);
});
