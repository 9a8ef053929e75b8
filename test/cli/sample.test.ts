// `charnn sample` in-process through main(): seeds, greedy decoding checked against an argmax
// computed here from the model's own logits, top-k, --count, --json (with its log-probability
// recomputed independently), --stop, primes and their unknown characters, --best, errors, and
// output that streams in chunks and ends quietly when the reader goes away.

import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { modelFromCheckpoint } from "../../src/core/checkpoint/load.js";
import { loadCheckpointFile } from "../../src/node/store.js";
import { selectKernels } from "../../src/node/backend.js";
import { main } from "../../src/cli/main.js";
import { primeTokens, seedOfSample } from "../../src/cli/sample.js";
import { Vocabulary } from "../../src/core/data/vocab.js";
import { ExitCode } from "../../src/core/errors.js";
import { Workspace } from "../../src/core/nn/model.js";
import { closedPipe, createTestIO } from "./helpers.js";

let dir: string;
const codePoints = (text: string) => Uint32Array.from([...text].map((c) => c.codePointAt(0)!));

/** An ASCII corpus: lowercase words, spaces and newlines (no capitals, no accents). */
function corpus(): string {
  const words = ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "and", "runs", "far", "away"];
  let text = "";
  for (let line = 0; line < 120; line++) {
    const count = 3 + (line % 5);
    const picked: string[] = [];
    for (let w = 0; w < count; w++) picked.push(words[(line * 7 + w * w * 5 + w) % words.length]!);
    text += picked.join(" ") + "\n";
  }
  return text;
}

async function train(out: string, extra: string[]): Promise<void> {
  const { io, stderr } = createTestIO({ cwd: dir });
  const code = await main(["train", "corpus.txt", "--out", out, "--steps", "20", "--layers", "1", "--batch", "2", "--seq-len", "8", ...extra], io);
  if (code !== 0) throw new Error(`training the fixture failed (${code}): ${stderr()}`);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "charnn-sample-"));
  await writeFile(join(dir, "corpus.txt"), corpus());
  await train("run", ["--hidden", "16"]);
  await train("other", ["--hidden", "8", "--seed", "2"]);
  // A folder whose best.json is another model than its latest.json, to see which one --best loads.
  await mkdir(join(dir, "mixed"));
  await copyFile(join(dir, "run", "latest.json"), join(dir, "mixed", "latest.json"));
  await copyFile(join(dir, "other", "latest.json"), join(dir, "mixed", "best.json"));
  await mkdir(join(dir, "nobest"));
  await copyFile(join(dir, "run", "latest.json"), join(dir, "nobest", "latest.json"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function sample(args: string[], stdin?: string) {
  const captured = createTestIO({ cwd: dir, ...(stdin === undefined ? {} : { stdin }) });
  const code = await main(["sample", "-c", "run/latest.json", ...args], captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

/** The model run by hand: a Workspace of one step, fed token by token, and its logits. */
class Reference {
  private constructor(
    readonly vocabulary: Vocabulary,
    private readonly workspace: Workspace,
    private readonly state: ReturnType<Workspace["model"]["newState"]>,
    private readonly startState: { h: Float32Array; c?: Float32Array } | null,
  ) {}

  /** Goes on from the start state the checkpoint recorded, as an unprimed sample does. */
  fromStartState(): void {
    expect(this.startState, "the checkpoint records a start state").not.toBeNull();
    this.state.h.set(this.startState!.h);
    if (this.state.c !== null) this.state.c.set(this.startState!.c!);
    this.started = true;
  }
  private started = false;
  private readonly input = new Int32Array(1);

  static async load(file: string): Promise<Reference> {
    const checkpoint = await loadCheckpointFile(join(dir, file));
    const kernels = selectKernels("auto");
    const { model, vocabulary } = modelFromCheckpoint(checkpoint, kernels);
    const arena = kernels.newArena("float32", Workspace.arenaFloats(model.config, 1, 1, "float32"));
    const start = checkpoint.startState === null ? null : { h: checkpoint.startState.h!.data, ...(checkpoint.startState.c ? { c: checkpoint.startState.c.data } : {}) };
    return new Reference(vocabulary, new Workspace(model, 1, 1, arena, kernels), model.newState(1), start);
  }

  feed(character: string): void {
    this.input[0] = this.vocabulary.indexOf(character.codePointAt(0)!);
    this.workspace.forward(this.input, null, this.state, { fromInit: !this.started });
    this.started = true;
  }

  argmax(): string {
    const logits = this.workspace.logits;
    let best = 0;
    for (let v = 1; v < this.vocabulary.size; v++) if (logits[v]! > logits[best]!) best = v;
    return this.vocabulary.charAt(best);
  }

  logProbability(character: string): number {
    const logits = this.workspace.logits;
    let max = -Infinity;
    for (let v = 0; v < this.vocabulary.size; v++) max = Math.max(max, logits[v]!);
    let sum = 0;
    for (let v = 0; v < this.vocabulary.size; v++) sum += Math.exp(logits[v]! - max);
    return logits[this.vocabulary.indexOf(character.codePointAt(0)!)]! - max - Math.log(sum);
  }
}

describe("charnn sample: reproducible text", () => {
  it("gives the same text for the same seed, and other text for another", async () => {
    const first = await sample(["--seed", "7", "-n", "120"]);
    const again = await sample(["--seed", "7", "-n", "120"]);
    const other = await sample(["--seed", "8", "-n", "120"]);
    expect(first.code).toBe(0);
    expect(first.stderr).toBe("");
    expect([...first.stdout.slice(0, -1)].length).toBe(120);
    expect(first.stdout.endsWith("\n")).toBe(true);
    expect(again.stdout).toBe(first.stdout);
    expect(other.stdout).not.toBe(first.stdout);
  });

  it("prints the seed it chose on stderr, and that seed repeats the sample", async () => {
    const chosen = await sample(["-n", "80"]);
    const match = /^seed: (\d+) \(pass --seed (\d+) to repeat this sample\)\n$/.exec(chosen.stderr);
    expect(match).not.toBeNull();
    expect(match![2]).toBe(match![1]);
    expect((await sample(["-n", "80", "--seed", match![1]!])).stdout).toBe(chosen.stdout);
  });

  it("--temp 0 always takes the most likely character, as an argmax of the logits says", async () => {
    const { code, stdout } = await sample(["--temp", "0", "-n", "60", "--seed", "1"]);
    expect(code).toBe(0);
    expect((await sample(["--temp", "0", "-n", "60", "--seed", "99"])).stdout).toBe(stdout);
    const reference = await Reference.load("run/latest.json");
    reference.fromStartState();
    reference.feed("\n"); // the warm-up without a prime
    let expected = "";
    for (let i = 0; i < 60; i++) {
      const next = reference.argmax();
      expected += next;
      reference.feed(next);
    }
    expect(stdout).toBe(expected + "\n");
  });

  it("--top-k 1 at temperature 1 is greedy decoding", async () => {
    const greedy = await sample(["--temp", "0", "-n", "60", "--seed", "1"]);
    const topOne = await sample(["--top-k", "1", "-n", "60", "--seed", "5"]);
    expect(topOne.stdout).toBe(greedy.stdout);
  });

  it("--count N uses seeds S..S+N-1 and separates the samples by a blank line", async () => {
    const many = await sample(["--count", "3", "--seed", "40", "-n", "50"]);
    const singles = await Promise.all([40, 41, 42].map(async (seed) => (await sample(["--seed", String(seed), "-n", "50"])).stdout));
    expect(many.stdout).toBe(singles.join("\n"));
    expect(many.stdout.split("\n\n").length).toBeGreaterThanOrEqual(3);
  });

  it("wraps the seeds of --count at 2^32 so every sample can be repeated with --seed", () => {
    expect(seedOfSample(10, 2)).toBe(12);
    expect(seedOfSample(2 ** 32 - 1, 1)).toBe(0);
  });
});

describe("charnn sample --json", () => {
  it("prints one object per sample with its seed, text and log-probability", async () => {
    const { code, stdout } = await sample(["--json", "--count", "2", "--seed", "11", "-n", "40"]);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
    expect(lines).toHaveLength(2);
    for (const [i, object] of lines.entries()) {
      expect(object.seed).toBe(11 + i);
      expect(object.prime).toBe("");
      expect(object.length).toBe(40);
      expect(object.stopped).toBe(false);
      expect(object.text).toBe((await sample(["--seed", String(11 + i), "-n", "40"])).stdout.slice(0, -1));
      // The same log-probability, from softmax(logits) computed here along the text.
      const reference = await Reference.load("run/latest.json");
      reference.fromStartState();
      reference.feed("\n");
      let logProbability = 0;
      for (const character of object.text as string) {
        logProbability += reference.logProbability(character);
        reference.feed(character);
      }
      expect(object.logProbability).toBeCloseTo(logProbability, 3);
      expect(object.logProbability).toBeLessThan(0);
    }
  });
});

describe("charnn sample: --stop and the prime", () => {
  it("--stop ends the sample where the stop text first appears, and includes it", async () => {
    const { stdout } = await sample(["--stop", " ", "-n", "500", "--seed", "3"]);
    const text = stdout.slice(0, -1);
    expect(text.endsWith(" ")).toBe(true);
    expect(text.indexOf(" ")).toBe(text.length - 1);
    const json = JSON.parse((await sample(["--stop", " ", "-n", "500", "--seed", "3", "--json"])).stdout);
    expect(json.text).toBe(text);
    expect(json.stopped).toBe(true);
  });

  it("echoes the prime before the sample, or not with --no-echo", async () => {
    const echoed = await sample(["--prime", "the lazy ", "--seed", "4", "-n", "50"]);
    const quiet = await sample(["--prime", "the lazy ", "--seed", "4", "-n", "50", "--no-echo"]);
    expect(echoed.stdout.startsWith("the lazy ")).toBe(true);
    expect(echoed.stdout).toBe("the lazy " + quiet.stdout);
  });

  it("continues the prime: greedy text after it is what the model predicts from it", async () => {
    const { stdout } = await sample(["--prime", "the fox", "--temp", "0", "-n", "20", "--no-echo"]);
    const reference = await Reference.load("run/latest.json");
    for (const character of "the fox") reference.feed(character);
    let expected = "";
    for (let i = 0; i < 20; i++) {
      const next = reference.argmax();
      expected += next;
      reference.feed(next);
    }
    expect(stdout).toBe(expected + "\n");
  });

  it("reads the prime from stdin with --prime - and --prime-file -, and from a file", async () => {
    await writeFile(join(dir, "prime.txt"), "over the ");
    const typed = await sample(["--prime", "over the ", "--seed", "6", "-n", "30"]);
    expect((await sample(["--prime", "-", "--seed", "6", "-n", "30"], "over the ")).stdout).toBe(typed.stdout);
    expect((await sample(["--prime-file", "-", "--seed", "6", "-n", "30"], "over the ")).stdout).toBe(typed.stdout);
    expect((await sample(["--prime-file", "prime.txt", "--seed", "6", "-n", "30"])).stdout).toBe(typed.stdout);
  });

  it("names prime characters the model never saw and exits 3", async () => {
    const { code, stdout, stderr } = await sample(["--prime", "Zébra", "--seed", "1"]);
    expect(code).toBe(ExitCode.badInput);
    expect(stdout).toBe("");
    expect(stderr).toContain('the prime has 2 character(s) the model never saw: "Z" (U+005A), "é" (U+00E9)');
    expect(stderr).toContain("--unknown skip");
  });

  it("--unknown skip leaves them out, says so, and echoes what the model was given", async () => {
    const skipped = await sample(["--prime", "Zébra", "--unknown", "skip", "--seed", "2", "-n", "30"]);
    const plain = await sample(["--prime", "bra", "--seed", "2", "-n", "30"]);
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toBe(plain.stdout);
    expect(skipped.stderr).toContain('left out 2 prime character(s) the model never saw: "Z" (U+005A), "é" (U+00E9)');
  });

  it("primeTokens warms up on a newline, or on the first character when there is none", () => {
    const withNewline = new Vocabulary(codePoints("\n ab").sort());
    expect(primeTokens(new Uint32Array(0), withNewline, "error")).toEqual({ tokens: [withNewline.indexOf(10)], text: "", skipped: new Map() });
    const without = new Vocabulary(codePoints("xyz"));
    expect(primeTokens(new Uint32Array(0), without, "error").tokens).toEqual([0]);
    expect(primeTokens(codePoints("qqq"), without, "skip")).toEqual({ tokens: [0], text: "", skipped: new Map([[0x71, 3]]) });
    expect(primeTokens(codePoints("zx"), without, "error").tokens).toEqual([2, 0]);
  });
});

describe("charnn sample --help", () => {
  it("documents the warm-up without a prime, the unknown-character policy and the seeds of --count", async () => {
    const captured = createTestIO();
    expect(await main(["sample", "--help"], captured.io)).toBe(0);
    const help = captured.stdout().replace(/\s+/g, " ");
    expect(help).toContain("Without a prime the model starts from the start state its checkpoint recorded from the training text");
    expect(help).toContain("--unknown skip leaves them out");
    expect(help).toContain("Sample i of --count uses seed S+i (mod 2^32)");
  });
});

describe("charnn sample: --temp 0, empty primes", () => {
  it("--temp 0 --count 2 is a usage error: greedy decoding would print one text twice", async () => {
    const { code, stdout, stderr } = await sample(["--temp", "0", "--count", "2"]);
    expect(code).toBe(ExitCode.usage);
    expect(stdout).toBe("");
    expect(stderr).toContain("--count 2 with --temp 0 would print the same text 2 times");
  });

  it("--temp 0 prints no seed line, since no random number is drawn", async () => {
    const { code, stderr } = await sample(["--temp", "0", "-n", "20"]);
    expect(code).toBe(0);
    expect(stderr).toBe("");
  });

  it("--prime '' says the flag needs text, in a flag's words", async () => {
    const { code, stderr } = await sample(["--prime", ""]);
    expect(code).toBe(ExitCode.usage);
    expect(stderr).toBe("charnn: --prime needs some text (got an empty one)\nhint: leave out --prime for none\n");
  });
});

describe("charnn sample --interactive", () => {
  // Answers of exactly -n characters ("#" is never generated: the corpus has none), so two
  // conversations draw the same random numbers and differ only by the state carried.
  const talk = (lines: string) => sample(["--interactive", "--seed", "5", "-n", "40", "--stop", "#"], lines);

  it("answers each line, streaming to stdout, with the prompt on stderr, and ends at end of input", async () => {
    const { code, stdout, stderr } = await talk("the fox\n");
    expect(code).toBe(0);
    expect(stderr).toBe("> > \n");
    expect([...stdout.replace(/\n$/, "")].length).toBe(40);
  });

  it("the first turn is the sample primed with that line", async () => {
    const turn = await sample(["--interactive", "--temp", "0", "-n", "40"], "the fox\n");
    const primed = await sample(["--prime", "the fox\n", "--temp", "0", "-n", "40", "--no-echo", "--stop", "\n\n"]);
    expect(turn.stdout.replace(/\n+$/, "")).toBe(primed.stdout.replace(/\n+$/, ""));
  });

  it("a second turn goes on from the first: it is the sample primed with the whole conversation so far", async () => {
    const greedy = ["--interactive", "--temp", "0", "-n", "40", "--stop", "#"];
    const one = await sample(greedy, "the fox\n");
    const two = await sample(greedy, "the fox\nover the\n");
    expect(two.stdout.startsWith(one.stdout)).toBe(true);
    const firstAnswer = [...one.stdout].slice(0, 40).join("");
    const history = `the fox\n${firstAnswer}over the\n`;
    const primed = await sample(["--prime", history, "--temp", "0", "-n", "40", "--no-echo"]);
    expect(two.stdout.slice(one.stdout.length)).toBe(primed.stdout);
    // (That the state changes what comes next is shown with a model whose state matters, in
    // test/core/sample/text.test.ts; this barely trained one answers almost alike either way.)
  });

  it("cannot be combined with --json, --count or a prime", async () => {
    for (const extra of [["--json"], ["--count", "2"], ["--prime", "x"]]) {
      expect((await sample(["--interactive", ...extra], "")).code).toBe(ExitCode.usage);
    }
  });
});

describe("charnn sample: checkpoints and errors", () => {
  it("--best loads best.json from the checkpoint's folder", async () => {
    const best = await sample(["-c", "mixed/latest.json", "--best", "--temp", "0", "-n", "40"]);
    const other = await sample(["-c", "other/latest.json", "--temp", "0", "-n", "40"]);
    const latest = await sample(["-c", "mixed/latest.json", "--temp", "0", "-n", "40"]);
    expect(best.code).toBe(0);
    expect(best.stdout).toBe(other.stdout);
    expect(latest.stdout).not.toBe(other.stdout);
  });

  it("--best without a best.json says why there is none, exit 3", async () => {
    const { code, stderr } = await sample(["-c", "nobest/latest.json", "--best"]);
    expect(code).toBe(ExitCode.badInput);
    expect(stderr).toContain("no best.json in nobest (--best)");
  });

  it("a missing checkpoint is one line saying how to make one, exit 3", async () => {
    const { code, stdout, stderr } = await sample(["-c", "nowhere/latest.json"]);
    expect(code).toBe(ExitCode.badInput);
    expect(stdout).toBe("");
    // The runs in this folder are offered, the newest first, as a command to paste.
    expect(stderr).toMatch(/^charnn: no checkpoint at nowhere\/latest\.json\nhint: the newest run here: charnn sample -c \S+ \(other runs: .*\)\n$/);
  });

  it("a damaged checkpoint is bad input, exit 3, with no stack trace", async () => {
    await writeFile(join(dir, "broken.json"), '{"format":"charnn-checkpoint","version":1');
    const { code, stderr } = await sample(["-c", "broken.json"]);
    expect(code).toBe(ExitCode.badInput);
    expect(stderr).toMatch(/broken\.json: not a charnn checkpoint .*truncated/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("--top-k with --temp 0 is a usage error, exit 2", async () => {
    const { code, stderr } = await sample(["--temp", "0", "--top-k", "5"]);
    expect(code).toBe(ExitCode.usage);
    expect(stderr).toContain("--top-k has no effect with --temp 0");
  });
});

describe("charnn sample: output", () => {
  it("streams: a long sample reaches stdout in many chunks, not one write at the end", async () => {
    const captured = createTestIO({ cwd: dir });
    const chunks: string[] = [];
    captured.io.stdout = new Writable({
      decodeStrings: false,
      write(chunk: unknown, _encoding, callback) {
        chunks.push(String(chunk));
        callback();
      },
    });
    const code = await main(["sample", "-c", "run/latest.json", "-n", "2000", "--seed", "1"], captured.io);
    expect(code).toBe(0);
    expect(chunks.length).toBeGreaterThanOrEqual(2000 / 64);
    expect(chunks.join("")).toBe((await sample(["-n", "2000", "--seed", "1"])).stdout);
  });

  it("ends quietly with exit 0 when the reader has gone away", async () => {
    const captured = createTestIO({ cwd: dir });
    captured.io.stdout = closedPipe();
    const code = await main(["sample", "-c", "run/latest.json", "-n", "100000", "--seed", "1"], captured.io);
    expect(code).toBe(0);
    expect(captured.stderr()).toBe("");
  });
});
