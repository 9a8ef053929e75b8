// `charnn sample`: load a checkpoint, warm the model up on a prime, and stream generated text to
// stdout in small chunks (so `charnn sample | head -c 100` sees output at once and ends quietly).
// Not here: the sampling arithmetic (src/core/sample/) or the checkpoint format (src/core/checkpoint/).

import { randomInt } from "node:crypto";
import { createInterface } from "node:readline";
import type { SampleOptions } from "../core/config.js";
import { readCorpus } from "../node/corpus.js";
import { describeUnknown, summarizeUnknown } from "../core/data/unknown.js";
import { ExitCode, usageError } from "../core/errors.js";
import type { Kernels } from "../core/tensor/kernels.js";
import { createRng } from "../core/tensor/rng.js";
import type { Vocabulary } from "../core/data/vocab.js";
import type { SamplingPolicy } from "../core/sample/policy.js";
import { Sampler } from "../core/sample/sampler.js";
import { startStateOf } from "../core/sample/start-state.js";
import { generateCharacters } from "../core/sample/text.js";
import { primeTokens, SEED_RANGE, seedOfSample } from "../core/sample/prime.js";
import { codePointsOf } from "../core/util/chars.js";
import { selectKernels } from "../node/backend.js";
import { loadModelFor, retryCommand } from "./checkpoint-arg.js";
import { writeOut, type CliIO } from "./io.js";

// ---------------------------------------------------------------------------------------------
// Output in chunks

/**
 * Collects characters and writes them in chunks: one awaited write per character would make
 * sampling slow, while one write at the end would make `| head` wait for the whole sample.
 * A chunk goes out at `maxCharacters`, or once `maxDelayMs` has passed since the last write.
 */
export class ChunkedOutput {
  private buffer = "";
  private lastFlush = performance.now();

  constructor(
    private readonly io: CliIO,
    private readonly maxCharacters = 64,
    private readonly maxDelayMs = 20,
  ) {}

  /** Adds text; true when the caller should now await flush(). */
  add(text: string): boolean {
    this.buffer += text;
    return this.buffer.length >= this.maxCharacters || performance.now() - this.lastFlush >= this.maxDelayMs;
  }

  async flush(): Promise<void> {
    this.lastFlush = performance.now();
    if (this.buffer.length === 0) return;
    const text = this.buffer;
    this.buffer = "";
    await writeOut(this.io, text);
    // Sampling is synchronous, so without a turn of the event loop an EPIPE from a reader that
    // went away (`| head`) would never be delivered and a long sample would run on for nothing.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

// ---------------------------------------------------------------------------------------------
// The prime

export { primeTokens, seedOfSample, type Prime } from "../core/sample/prime.js";

async function primeCodePoints(options: SampleOptions, io: CliIO): Promise<Uint32Array> {
  // `--prime -` reads stdin like `--prime-file -`: a prime is rarely just a dash.
  const file = options.prime === "-" ? "-" : options.primeFile;
  if (file !== null) return (await readCorpus([file], { stdin: io.stdin, cwd: io.cwd })).codePoints;
  return options.prime === null ? new Uint32Array(0) : codePointsOf(options.prime);
}

// ---------------------------------------------------------------------------------------------
// The command


function checkCombinations(options: SampleOptions): void {
  if (options.temp === 0 && (options.topK !== 0 || options.topP !== 1)) {
    throw usageError(
      `${options.topK !== 0 ? "--top-k" : "--top-p"} has no effect with --temp 0, which always takes the most likely character`,
      "leave out --temp 0 to sample from the filtered distribution",
    );
  }
  // Greedy decoding draws no random numbers: every sample of a --count would be the same text.
  if (options.temp === 0 && options.count > 1) {
    throw usageError(
      `--count ${options.count} with --temp 0 would print the same text ${options.count} times: --temp 0 always takes the most likely character`,
      "for different samples give a temperature above 0, e.g. --temp 0.5; for the greedy one leave out --count",
    );
  }
  if (options.interactive) {
    const conflict = options.json ? "--json" : options.count > 1 ? "--count" : options.prime !== null ? "--prime" : options.primeFile !== null ? "--prime-file" : null;
    if (conflict !== null) {
      throw usageError(`${conflict} cannot be used with --interactive, where each line typed is the prime`, "leave out one or the other");
    }
  }
}

export async function runSample(options: SampleOptions, io: CliIO): Promise<number> {
  checkCombinations(options);
  const kernels = selectKernels("auto", 0);
  try {
    await sampleWith(kernels, options, io);
  } finally {
    kernels.dispose();
  }
  return ExitCode.ok;
}

async function sampleWith(kernels: Kernels, options: SampleOptions, io: CliIO): Promise<void> {
  const { model, vocabulary, state } = await loadModelFor(options, io, retryCommand("sample"), kernels);
  if (options.interactive) return converse(new Sampler(model, kernels), vocabulary, options, io);
  const prime = primeTokens(await primeCodePoints(options, io), vocabulary, options.unknown);
  if (prime.skipped.size > 0) {
    io.stderr.write(`note: left out ${summarizeUnknown(prime.skipped).count} prime character(s) the model never saw: ${describeUnknown(prime.skipped)}\n`);
  }

  const baseSeed = options.seed ?? randomInt(0, SEED_RANGE);
  // --temp 0 draws no random numbers, so there is no seed worth repeating.
  if (options.seed === null && options.temp > 0) {
    io.stderr.write(`seed: ${baseSeed} (pass --seed ${baseSeed} to repeat ${options.count > 1 ? "these samples" : "this sample"})\n`);
  }

  const sampler = new Sampler(model, kernels);
  // Without a prime, start from the state the checkpoint recorded from its training text (if
  // any): a line start the model knows, not the zero state it almost never saw in training.
  if (prime.text === "") sampler.useStartState(startStateOf(model, state.startState));
  const policy: SamplingPolicy = { temperature: options.temp, topK: options.topK, topP: options.topP };
  const out = new ChunkedOutput(io);
  for (let i = 0; i < options.count; i++) {
    const seed = seedOfSample(baseSeed, i);
    const characters = generateCharacters(sampler, vocabulary, {
      length: options.length, policy, rng: createRng(seed), primeTokens: prime.tokens, stop: options.stop,
    });
    if (options.json) {
      let text = "", logProbability = 0;
      for (const character of characters) {
        text += character.text;
        logProbability += character.logProbability;
      }
      const stopped = options.stop !== null && text.endsWith(options.stop);
      out.add(JSON.stringify({ seed, prime: prime.text, text, logProbability, length: [...text].length, stopped }) + "\n");
      await out.flush();
      continue;
    }
    // Samples are separated by a blank line, and each ends with a newline.
    if (i > 0) out.add("\n");
    if (options.echo) out.add(prime.text);
    for (const character of characters) {
      if (out.add(character.text)) await out.flush();
    }
    out.add("\n");
    await out.flush();
  }
}

// ---------------------------------------------------------------------------------------------
// --interactive

/** What the prompt shows; on stderr, so stdout holds only the model's text. */
const PROMPT = "> ";

/**
 * A conversation: each line read from stdin, with its newline, is fed to the model after
 * everything before it (its own earlier lines and answers), and the answer streams to stdout
 * until --stop (a blank line by default here) or --length characters. End of input ends it.
 */
async function converse(sampler: Sampler, vocabulary: Vocabulary, options: SampleOptions, io: CliIO): Promise<void> {
  const baseSeed = options.seed ?? randomInt(0, SEED_RANGE);
  if (options.seed === null && options.temp > 0) io.stderr.write(`seed: ${baseSeed} (pass --seed ${baseSeed} to repeat this conversation)\n`);
  const rng = createRng(baseSeed);
  const policy: SamplingPolicy = { temperature: options.temp, topK: options.topK, topP: options.topP };
  const stop = options.stop ?? "\n\n";
  const out = new ChunkedOutput(io);
  const lines = createInterface({ input: io.stdin, crlfDelay: Infinity, terminal: false });
  let turn = 0;
  io.stderr.write(PROMPT);
  for await (const line of lines) {
    const prime = primeTokens(codePointsOf(`${line}\n`), vocabulary, "skip");
    if (prime.skipped.size > 0) io.stderr.write(`note: left out characters the model never saw: ${describeUnknown(prime.skipped)}\n`);
    const characters = generateCharacters(sampler, vocabulary, {
      length: options.length, policy, rng, primeTokens: prime.tokens, stop, carryState: turn > 0,
    });
    let last = "";
    for (const character of characters) {
      last = character.text;
      if (out.add(character.text)) await out.flush();
    }
    if (last !== "\n") out.add("\n");
    await out.flush();
    turn++;
    io.stderr.write(PROMPT);
  }
  io.stderr.write("\n");
}
