// `charnn eval`: how well a checkpoint predicts some text, as nats and bits per character and
// perplexity, in one exact pass (or line by line with --per-line, for `sort -rn | head`).
// Rule for characters outside the vocabulary: they are dropped from the text before scoring
// (neither fed nor predicted), counted, and reported on stderr and in --json.
// Not here: the scoring arithmetic (src/core/eval/score.ts) or line splitting (src/core/eval/lines.ts).

import type { EvalOptions } from "../core/config.js";
import { readCorpus } from "../node/corpus.js";
import { countUnknown, describeUnknown, summarizeUnknown, type UnknownCounts } from "../core/data/unknown.js";
import type { Vocabulary } from "../core/data/vocab.js";
import { ExitCode, badInput } from "../core/errors.js";
import { splitLines, textOf } from "../core/eval/lines.js";
import { TextScorer, scoreSummary, type Score } from "../core/eval/score.js";
import type { RecurrentState } from "../core/nn/model.js";
import { lineStartStateOf } from "../core/sample/start-state.js";
import type { Kernels } from "../core/tensor/kernels.js";
import { selectKernels } from "../node/backend.js";
import { quietIO, writeOut, type CliIO } from "./io.js";
import { formatCount, formatDecimal } from "../core/util/format.js";
import { loadModelFor, retryCommand } from "./checkpoint-arg.js";
import { corpusNotes } from "./corpus-notes.js";

const NEWLINE = 0x0a;
/** Per-line output is written in chunks of about this many characters. */
const OUTPUT_CHUNK = 16_384;

function warnUnknown(io: CliIO, unknown: UnknownCounts): void {
  if (unknown.size === 0) return;
  const { count } = summarizeUnknown(unknown);
  io.stderr.write(`note: left out ${formatCount(count)} character(s) the model never saw (not fed, not scored): ${describeUnknown(unknown)}\n`);
}


export async function runEval(options: EvalOptions, inputs: string[], given: CliIO): Promise<number> {
  const io = options.quiet ? quietIO(given) : given;
  const kernels = selectKernels("auto", 0);
  try {
    return await evalWith(kernels, options, inputs, io);
  } finally {
    kernels.dispose();
  }
}

async function evalWith(kernels: Kernels, options: EvalOptions, inputs: string[], io: CliIO): Promise<number> {
  const { model, vocabulary, file, state } = await loadModelFor(options, io, retryCommand("eval", inputs), kernels);
  const scorer = new TextScorer(model, kernels);
  const corpus = await readCorpus(inputs, { stdin: io.stdin, cwd: io.cwd });
  for (const note of corpusNotes(corpus)) io.stderr.write(`note: ${note}\n`);
  if (options.perLine) return evalPerLine(scorer, vocabulary, lineStartStateOf(model, state.startState), corpus.codePoints, options, io);

  const { indices, unknown } = vocabulary.encode(corpus.codePoints);
  warnUnknown(io, unknown);
  if (indices.length < 2) {
    throw badInput(
      `nothing to score in ${corpus.sources.join(", ")}: ${indices.length} known character(s), at least 2 are needed`,
      "each character is predicted from the ones before it, so the first one is never scored",
    );
  }
  // The indices are below 2^31, so the same bytes read as Int32 are the same numbers.
  const tokens = new Int32Array(indices.buffer, indices.byteOffset, indices.length);
  const score = scorer.score(tokens);
  const { nats, bits, perplexity } = scoreSummary(score);
  if (options.json) {
    await writeOut(io, JSON.stringify({
      checkpoint: file,
      inputs: corpus.sources,
      nats, bits, perplexity,
      predictions: score.predictions,
      characters: indices.length,
      lossSum: score.lossSum,
      unknown: summarizeUnknown(unknown),
    }) + "\n");
  } else {
    // Six digits compare runs; formatDecimal shows "-" when nothing was scored.
    await writeOut(io, `${formatDecimal(nats, 6)} nats/char  ${formatDecimal(bits, 6)} bits/char  perplexity ${formatDecimal(perplexity, 4)}  ${formatCount(score.predictions)} characters predicted\n`);
  }
  return ExitCode.ok;
}

/**
 * Every line on its own: from the checkpoint's line state (start-state.ts) when it has one,
 * else from the initial state. The model first reads a newline (when the vocabulary has one),
 * the context any line start has in training text, so every character of the line is predicted;
 * without one, a line of n known characters gives n−1 predictions.
 */
async function evalPerLine(
  scorer: TextScorer,
  vocabulary: Vocabulary,
  startState: RecurrentState | null,
  codePoints: Uint32Array,
  options: EvalOptions,
  io: CliIO,
): Promise<number> {
  const newline = vocabulary.indexOf(NEWLINE);
  const lead = newline >= 0 ? 1 : 0;
  const lines = splitLines(codePoints);
  let longest = 0;
  for (const line of lines) longest = Math.max(longest, line.end - line.start);
  // One buffer for every line's tokens: the newline context, then the line's known characters.
  const tokens = new Int32Array(longest + lead);
  if (lead) tokens[0] = newline;
  const unknown: UnknownCounts = new Map();

  let pending = "";
  for (let n = 0; n < lines.length; n++) {
    const { start, end } = lines[n]!;
    let length = lead, lineUnknown = 0;
    for (let i = start; i < end; i++) {
      const index = vocabulary.indexOf(codePoints[i]!);
      if (index >= 0) tokens[length++] = index;
      else {
        countUnknown(unknown, codePoints[i]!);
        lineUnknown++;
      }
    }
    const score: Score = length > 1 ? scorer.score(tokens.subarray(0, length), lead ? startState : null) : { lossSum: 0, predictions: 0 };
    const { nats, bits } = scoreSummary(score);
    const text = textOf(codePoints, start, end);
    if (options.json) {
      const known = score.predictions > 0;
      pending += JSON.stringify({ line: n + 1, bits: known ? bits : null, nats: known ? nats : null, predictions: score.predictions, unknown: lineUnknown, text }) + "\n";
    } else {
      pending += `${formatDecimal(bits, 4)}\t${text}\n`;
    }
    if (pending.length >= OUTPUT_CHUNK) {
      await writeOut(io, pending);
      pending = "";
    }
  }
  if (pending.length > 0) await writeOut(io, pending);
  warnUnknown(io, unknown);
  return ExitCode.ok;
}
