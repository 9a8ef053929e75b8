// `charnn sample`: load a checkpoint, warm the model up on a prime, and stream generated text to
// stdout in small chunks (so `charnn sample | head -c 100` sees output at once and ends quietly).
// Not here: the sampling arithmetic (src/core/sample/) or the checkpoint format (src/core/checkpoint/).

import { randomInt } from "node:crypto";
import type { SampleOptions } from "../core/config.js";
import { readCorpus } from "../node/corpus.js";
import { describeUnknown, summarizeUnknown } from "../core/data/unknown.js";
import { ExitCode, usageError } from "../core/errors.js";
import type { Kernels } from "../core/tensor/kernels.js";
import { createRng } from "../core/tensor/rng.js";
import type { SamplingPolicy } from "../core/sample/policy.js";
import { Sampler } from "../core/sample/sampler.js";
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
}

export async function runSample(options: SampleOptions, io: CliIO): Promise<number> {
  checkCombinations(options);
  const kernels = selectKernels(options.backend, 0);
  try {
    await sampleWith(kernels, options, io);
  } finally {
    kernels.dispose();
  }
  return ExitCode.ok;
}

async function sampleWith(kernels: Kernels, options: SampleOptions, io: CliIO): Promise<void> {
  const { model, vocabulary, arena } = await loadModelFor(options, io, retryCommand("sample"), kernels, (config, dtype) => Sampler.arenaFloats(config, dtype));
  const prime = primeTokens(await primeCodePoints(options, io), vocabulary, options.unknown);
  if (prime.skipped.size > 0) {
    io.stderr.write(`note: left out ${summarizeUnknown(prime.skipped).count} prime character(s) the model never saw: ${describeUnknown(prime.skipped)}\n`);
  }

  const baseSeed = options.seed ?? randomInt(0, SEED_RANGE);
  if (options.seed === null) {
    io.stderr.write(`seed: ${baseSeed} (pass --seed ${baseSeed} to repeat ${options.count > 1 ? "these samples" : "this sample"})\n`);
  }

  const sampler = new Sampler(model, kernels, arena);
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
