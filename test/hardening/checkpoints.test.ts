// Hardening (issue 6): damaged and foreign checkpoints (truncated, flipped, foreign, other
// versions, wrong shapes, NaN/inf, missing fields, mismatched vocabulary or config, not JSON)
// through sample, eval, info, train --resume and --init-from, in-process and a subset spawned:
// exit 3, one line (and at most a hint), nothing on stdout, the file left as it was.
// Not the format's unit tests (test/checkpoint/); the fuzzing is in fuzz.test.ts.

import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCheckpointFile } from "../../src/node/store.js";
import { ExitCode } from "../../src/core/errors.js";
import { charnn, ensureBuilt, expectOneLineError, freshFolder, generatedText, runMain, seededUniform, trainedCheckpoint } from "./helpers.js";

type Document = Record<string, any>;

/** A document re-sealed by the checksum rule of src/core/checkpoint/format.ts, so only the edit is wrong. */
function sealed(document: Document): Buffer {
  const { checksum: _dropped, ...rest } = document;
  const body = JSON.stringify(rest);
  return Buffer.from(`${body.slice(0, -1)},"checksum":"sha256:${createHash("sha256").update(body, "utf8").digest("hex")}"}\n`);
}

const floatsBase64 = (values: number[]): string => {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((value, index) => bytes.writeFloatLE(value, index * 4));
  return bytes.toString("base64");
};

const edited = (original: Document, edit: (document: Document) => void): Buffer => {
  const copy = structuredClone(original);
  edit(copy);
  return sealed(copy);
};

interface Variant {
  group: string;
  name: string;
  /** The file's bytes, or "folder" for a directory where the file should be. */
  content: Buffer | "folder";
}

let original: Buffer;
let document: Document;
const variants: Variant[] = [];

function buildVariants(): void {
  const text = original;
  const random = seededUniform(6);
  const add = (group: string, name: string, content: Buffer | "folder") => variants.push({ group, name, content });

  // Truncated: at the start, inside the header, inside the tensors, just before the checksum.
  const offsets = new Set([0, 1, 2, 10, 100, text.length - 90, text.length - 3, text.length - 2]);
  while (offsets.size < 40) offsets.add(Math.floor(random() * (text.length - 2)));
  for (const at of [...offsets].sort((a, b) => a - b)) add("truncated", `cut at byte ${at} of ${text.length}`, text.subarray(0, at));

  // One byte flipped anywhere, the checksum catching what JSON parsing does not.
  for (let i = 0; i < 40; i++) {
    const at = Math.floor(random() * text.length);
    const copy = Buffer.from(text);
    copy[at] = copy[at]! ^ (1 + Math.floor(random() * 255));
    add("flipped", `byte ${at} flipped`, copy);
  }

  add("foreign", "format of another program", edited(document, (d) => (d.format = "torch-rnn")));
  add("foreign", "no format field", edited(document, (d) => delete d.format));
  add("foreign", "a nanoGPT-like config file", Buffer.from(JSON.stringify({ n_layer: 2, n_head: 4, block_size: 64 })));
  add("foreign", "a package.json", Buffer.from(JSON.stringify({ name: "x", version: "1.0.0" }, null, 2)));
  add("version", "a newer version", edited(document, (d) => (d.version = 3)));
  add("version", "version 0", edited(document, (d) => (d.version = 0)));
  add("version", "version as text", edited(document, (d) => (d.version = "1")));
  add("version", "version 1.5", edited(document, (d) => (d.version = 1.5)));
  add("version", "no version", edited(document, (d) => delete d.version));

  const V = document.vocabulary.length as number;
  add("shapes", "decoder.bias one longer than the vocabulary", edited(document, (d) => {
    d.params["decoder.bias"] = { shape: [V + 1], data: floatsBase64(new Array(V + 1).fill(0.1)) };
  }));
  add("shapes", "weight_hh_l0 transposed shape", edited(document, (d) => {
    const shape = d.params.weight_hh_l0.shape as number[];
    d.params.weight_hh_l0.shape = [shape[1], shape[0]];
  }));
  add("shapes", "shape that does not match its data", edited(document, (d) => (d.params["decoder.bias"].shape = [V, 2])));
  add("shapes", "an extra parameter", edited(document, (d) => (d.params.weight_ih_l9 = { shape: [1], data: floatsBase64([1]) })));
  add("shapes", "a missing parameter", edited(document, (d) => delete d.params.bias_hh_l0));
  add("shapes", "config says more hidden units", edited(document, (d) => (d.config.hidden = 17)));
  add("shapes", "config says another cell", edited(document, (d) => (d.config.model = "gru")));

  for (const [name, value] of [["NaN", NaN], ["+inf", Infinity], ["-inf", -Infinity]] as const) {
    add("non-finite", `${name} in a weight`, edited(document, (d) => {
      d.params["decoder.bias"].data = floatsBase64(new Array(V).fill(0).map((_, i) => (i === 3 ? value : 0.5)));
    }));
  }
  add("non-finite", "NaN in the optimizer state", edited(document, (d) => {
    const name = Object.keys(d.optimizer.buffers)[0]!;
    const bytes = Buffer.from(d.optimizer.buffers[name], "base64");
    bytes.writeFloatLE(NaN, 8);
    d.optimizer.buffers[name] = bytes.toString("base64");
  }));
  add("non-finite", "infinite hidden state", edited(document, (d) => {
    const bytes = Buffer.from(d.hiddenState, "base64");
    bytes.writeFloatLE(Infinity, 0);
    d.hiddenState = bytes.toString("base64");
  }));

  for (const key of Object.keys(document)) {
    if (key === "format" || key === "checksum" || key === "version") continue;
    add("missing field", `no ${key}`, edited(document, (d) => delete d[key]));
  }
  for (const key of ["hidden", "layers", "embed", "model", "batch"]) add("missing field", `no config.${key}`, edited(document, (d) => delete d.config[key]));
  add("missing field", "no checksum", Buffer.from(JSON.stringify({ ...document, checksum: undefined })));

  add("vocabulary", "one character more than the weights", edited(document, (d) => d.vocabulary.push(0x10fff0)));
  add("vocabulary", "one character fewer than the weights", edited(document, (d) => d.vocabulary.pop()));
  add("vocabulary", "not in ascending order", edited(document, (d) => d.vocabulary.reverse()));
  add("vocabulary", "not code points", edited(document, (d) => (d.vocabulary[1] = "a")));

  add("config", "a billion layers", edited(document, (d) => (d.config.layers = 1e9)));
  add("config", "hidden size 2^53", edited(document, (d) => (d.config.hidden = 2 ** 53)));
  add("config", "a model charnn does not have", edited(document, (d) => (d.config.model = "transformer")));
  add("config", "batch zero", edited(document, (d) => (d.config.batch = 0)));
  add("config", "an unknown setting", edited(document, (d) => (d.config.flashAttention = true)));

  add("not JSON", "an empty file", Buffer.alloc(0));
  add("not JSON", "plain text", Buffer.from("the quick brown fox\n"));
  add("not JSON", "random bytes", Buffer.from(Array.from({ length: 4096 }, () => Math.floor(random() * 256))));
  add("not JSON", "a PNG header", Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]));
  add("not JSON", "gzip of the checkpoint", Buffer.from([0x1f, 0x8b, 0x08, 0x00, ...text.subarray(0, 64)]));
  add("not JSON", "the checkpoint in UTF-16", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text.toString("utf8"), "utf16le")]));
  add("not JSON", "a JSON list", Buffer.from("[1, 2, 3]"));
  add("not JSON", "JSON null", Buffer.from("null"));
  add("not JSON", "a folder", "folder");
}

interface CommandCase {
  name: string;
  /** Places the damaged content and returns the argv and the path that must not change. */
  argv(folder: string): string[];
  file(folder: string): string;
}

const COMMANDS: CommandCase[] = [
  { name: "info", argv: () => ["info", "damaged.json"], file: (folder) => join(folder, "damaged.json") },
  { name: "info --json", argv: () => ["info", "--json", "damaged.json"], file: (folder) => join(folder, "damaged.json") },
  { name: "sample", argv: () => ["sample", "-c", "damaged.json", "--length", "5", "--seed", "1"], file: (folder) => join(folder, "damaged.json") },
  { name: "eval", argv: () => ["eval", "-c", "damaged.json", "corpus.txt"], file: (folder) => join(folder, "damaged.json") },
  { name: "train --resume", argv: () => ["train", "corpus.txt", "--resume", "--out", "run", "--backend", "js"], file: (folder) => join(folder, "run", "latest.json") },
  { name: "train --init-from", argv: () => ["train", "corpus.txt", "--init-from", "damaged.json", "--out", "fresh", "--steps", "1", "--backend", "js"], file: (folder) => join(folder, "damaged.json") },
];

async function place(folder: string, target: string, content: Buffer | "folder"): Promise<void> {
  await rm(target, { recursive: true, force: true });
  await mkdir(join(target, ".."), { recursive: true });
  if (content === "folder") await mkdir(target, { recursive: true });
  else await writeFile(target, content);
}

let work: string;

beforeAll(async () => {
  work = await freshFolder("damaged");
  const file = await trainedCheckpoint(work);
  original = await readFile(file);
  document = JSON.parse(original.toString("utf8"));
  buildVariants();
}, 60_000);

describe("damaged and foreign checkpoints through every command that reads one", () => {
  it("the variants cover every kind the issue names", () => {
    const groups = new Set(variants.map((v) => v.group));
    expect([...groups].sort()).toEqual(["config", "flipped", "foreign", "missing field", "non-finite", "not JSON", "shapes", "truncated", "version", "vocabulary"]);
    expect(variants.length).toBeGreaterThan(130);
  });

  for (const command of COMMANDS) {
    it(`${command.name}: every variant is exit 3 with one line, nothing on stdout, and the file untouched`, async () => {
      const folder = await freshFolder("damaged-cmd");
      await writeFile(join(folder, "corpus.txt"), generatedText(2000));
      const byGroup = new Map<string, number>();
      for (const variant of variants) {
        const target = command.file(folder);
        await place(folder, target, variant.content);
        const result = await runMain(command.argv(folder), { cwd: folder });
        const context = `${command.name} on ${variant.group}: ${variant.name}`;
        const message = expectOneLineError(result, ExitCode.badInput, context);
        expect(result.stdout, context).toBe("");
        // The message names the file it is about.
        expect(message, context).toMatch(/damaged\.json|latest\.json/);
        // Buffer.equals: vitest's deep equality walks a 64 KB buffer byte by byte, far too slowly here.
        if (variant.content !== "folder") expect((await readFile(target)).equals(variant.content), context).toBe(true);
        expect(existsSync(join(folder, "fresh", "latest.json")), context).toBe(false);
        expect(existsSync(join(folder, "run", ".lock")), context).toBe(false);
        byGroup.set(variant.group, (byGroup.get(variant.group) ?? 0) + 1);
      }
      expect([...byGroup.values()].reduce((a, b) => a + b, 0)).toBe(variants.length);
    }, 60_000);
  }

  it("the messages say what is wrong, in words a user can act on", async () => {
    const folder = await freshFolder("damaged-words");
    const messageFor = async (name: string): Promise<string> => {
      const variant = variants.find((v) => v.name === name)!;
      await place(folder, join(folder, "damaged.json"), variant.content);
      return expectOneLineError(await runMain(["info", "damaged.json"], { cwd: folder }), ExitCode.badInput, name);
    };
    expect(await messageFor(`cut at byte 100 of ${original.length}`)).toMatch(/may be truncated/);
    expect(await messageFor("an empty file")).toMatch(/empty/);
    expect(await messageFor("format of another program")).toMatch(/not a charnn checkpoint \(format is "torch-rnn"/);
    expect(await messageFor("a newer version")).toMatch(/written by a newer charnn \(format 3\); upgrade charnn/);
    expect(await messageFor("NaN in a weight")).toMatch(/weights contain NaN \(decoder\.bias\[3\]\)/);
    expect(await messageFor("+inf in a weight")).toMatch(/weights contain Infinity/);
    expect(await messageFor("one character more than the weights")).toMatch(/the vocabulary does not match the weights/);
    expect(await messageFor("config says more hidden units")).toMatch(/the config does not match the weights/);
    expect(await messageFor("a billion layers")).toMatch(/"layers" in the config must be between 1 and 16 \(got 1000000000\)/);
    expect(await messageFor("no config.embed")).toMatch(/missing field "config\.embed"/);
    expect(await messageFor("no params")).toMatch(/missing field "params"/);
    expect(await messageFor("random bytes")).toMatch(/not a charnn checkpoint \(not JSON/);
    expect(await messageFor("a folder")).toMatch(/is a folder without a checkpoint \(no latest\.json in it\)/);
  });
});

describe("through the built binary", () => {
  beforeAll(() => ensureBuilt(), 120_000);

  it("one variant of each kind, through each command: exit 3, one line, nothing on stdout", async () => {
    const folder = await freshFolder("damaged-bin");
    await writeFile(join(folder, "corpus.txt"), generatedText(2000));
    const firstOfEach = [...new Map(variants.map((v) => [v.group, v])).values()];
    let cases = 0;
    for (const variant of firstOfEach) {
      for (const command of COMMANDS) {
        const caseFolder = join(folder, `case-${cases++}`);
        await mkdir(caseFolder);
        await copyFile(join(folder, "corpus.txt"), join(caseFolder, "corpus.txt"));
        await place(caseFolder, command.file(caseFolder), variant.content);
      }
    }
    // Two at a time: the machine has two cores and other test files run beside this one.
    const jobs = firstOfEach.flatMap((variant, v) => COMMANDS.map((command, c) => ({ variant, command, folder: join(folder, `case-${v * COMMANDS.length + c}`) })));
    for (let i = 0; i < jobs.length; i += 2) {
      await Promise.all(jobs.slice(i, i + 2).map(async ({ variant, command, folder: caseFolder }) => {
        const result = await charnn(command.argv(caseFolder), { cwd: caseFolder });
        const context = `${command.name} on ${variant.group}: ${variant.name}`;
        expectOneLineError(result, ExitCode.badInput, context);
        expect(result.stdout, context).toBe("");
      }));
    }
    expect(jobs.length).toBe(60);
  }, 120_000);
});

describe("regressions the suite found", () => {
  it("info draws the loss curve of a long run (300,000 history points) instead of overflowing the stack", async () => {
    const folder = await freshFolder("long-history");
    const train = Array.from({ length: 300_000 }, (_, i) => [i + 1, 3 - i / 200_000] as [number, number]);
    await writeFile(join(folder, "long.json"), sealed({ ...document, step: 300_000, history: { train, validation: [[300_000, 1.5]] } }));
    const result = await runMain(["info", "long.json"], { cwd: folder });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(ExitCode.ok);
    expect(result.stdout).toMatch(/step 1 {2,}300,000/);
    expect(result.stdout).toContain("3.00 |.");
  });

  it("a config with a billion layers is refused at once, without building anything", async () => {
    const folder = await freshFolder("billion");
    await writeFile(join(folder, "big.json"), edited(document, (d) => (d.config.layers = 1e9)));
    const started = performance.now();
    const result = await runMain(["sample", "-c", "big.json", "--length", "3"], { cwd: folder });
    expect(expectOneLineError(result, ExitCode.badInput)).toMatch(/\/big\.json: "layers" in the config must be between 1 and 16 \(got 1000000000\)$/);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("a resumed fine-tuned run, whose config holds both resume and initFrom, still loads everywhere", async () => {
    const folder = await freshFolder("finetune");
    const base = await trainedCheckpoint(folder);
    await writeFile(join(folder, "more.txt"), generatedText(1500, 5) + "zebra ✓\n");
    const tuned = await runMain(["train", "more.txt", "--init-from", base, "--out", "tuned", "--steps", "2", "--batch", "2", "--seq-len", "8", "--backend", "js"], { cwd: folder });
    expect(tuned.code, tuned.stderr).toBe(0);
    expect((await runMain(["train", "more.txt", "--resume", "--out", "tuned", "--steps", "4", "--backend", "js"], { cwd: folder })).code).toBe(0);
    const saved = JSON.parse(await readFile(join(folder, "tuned", "latest.json"), "utf8"));
    // The switches of one invocation are not the run's settings; its command lines say what was done.
    expect(saved.config).not.toHaveProperty("resume");
    expect(saved.config).not.toHaveProperty("initFrom");
    expect(saved.invocations.map((invocation: { fromStep: number }) => invocation.fromStep)).toEqual([0, 2]);
    expect((await loadCheckpointFile(join(folder, "tuned", "latest.json"))).step).toBe(4);
    for (const argv of [["info", "tuned/latest.json"], ["sample", "-c", "tuned/latest.json", "--length", "5", "--seed", "3"], ["eval", "-c", "tuned/latest.json", "more.txt"]]) {
      const result = await runMain(argv, { cwd: folder });
      expect(result.code, `${argv.join(" ")}: ${result.stderr}`).toBe(ExitCode.ok);
    }
    const resumedAgain = await runMain(["train", "more.txt", "--resume", "--out", "tuned", "--steps", "6", "--backend", "js"], { cwd: folder });
    expect(resumedAgain.code, resumedAgain.stderr).toBe(0);
    expect((await readdir(join(folder, "tuned"))).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });
});
