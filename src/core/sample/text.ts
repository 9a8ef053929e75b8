// From a generator to text: warm the state up on a prime, then draw characters one at a time
// until the length or a stop string is reached. Yields each character as it is made, so the
// sample command can stream it. Not here: reading primes or writing output.

import type { Vocabulary } from "../data/vocab.js";
import type { Rng } from "../tensor/rng.js";
import type { Sampler } from "./sampler.js";
import type { SamplingPolicy } from "./policy.js";

export interface GenerateOptions {
  /** Characters to produce (the prime is not counted). */
  length: number;
  policy: SamplingPolicy;
  rng: Rng;
  /** Token indices fed before sampling starts; at least one (the model needs an input). */
  primeTokens: readonly number[];
  /** Stop once the generated text ends with this string (it is included). */
  stop?: string | null;
  /**
   * Go on from the state the generator is in (the previous call's text and its last character)
   * instead of starting over: a conversation's turns. The prime is fed after that state.
   */
  carryState?: boolean;
}

export interface GeneratedCharacter {
  text: string;
  token: number;
  logProbability: number;
}

export function* generateCharacters(generator: Sampler, vocabulary: Vocabulary, options: GenerateOptions): Generator<GeneratedCharacter> {
  if (options.primeTokens.length === 0) throw new Error("generation needs at least one prime token");
  if (options.carryState !== true) generator.reset();
  for (const token of options.primeTokens) generator.feed(token);
  const stop = options.stop ?? "";
  let tail = "";
  for (let i = 0; i < options.length; i++) {
    const pick = generator.pick(options.policy, options.rng);
    const text = vocabulary.charAt(pick.token);
    yield { text, token: pick.token, logProbability: pick.logProbability };
    if (stop.length > 0) {
      tail = (tail + text).slice(-stop.length * 2);
      if (tail.endsWith(stop)) {
        // The state then holds the whole text, stop included, for a carried next call.
        if (options.carryState === true) generator.feed(pick.token);
        return;
      }
    }
    generator.feed(pick.token);
  }
}

/** The whole sample at once, with its total log-probability (nats). */
export function generateText(generator: Sampler, vocabulary: Vocabulary, options: GenerateOptions): { text: string; logProbability: number } {
  let text = "", logProbability = 0;
  for (const c of generateCharacters(generator, vocabulary, options)) {
    text += c.text;
    logProbability += c.logProbability;
  }
  return { text, logProbability };
}
