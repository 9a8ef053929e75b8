// `charnn viz`: a checkpoint's model reads a text, and the text is shown coloured by one unit's
// value (terminal), written as a standalone HTML view (--html), or the units are ranked by how
// well they track a feature (--find). The arithmetic and the drawing are the engine's
// (src/core/viz/); this file reads inputs, picks the colour level and writes the outputs.

import { writeFile } from "node:fs/promises";
import path from "node:path";
import { ExitCode, badInput, usageError } from "../core/errors.js";
import type { Kernels } from "../core/tensor/kernels.js";
import { readCorpus } from "../node/corpus.js";
import { selectKernels } from "../node/backend.js";
import { activationView, featureNamed, rankUnits, renderHtml, renderLegend, renderTerminal, traceText, unitLabel, unitValues, valueScale, type Trace, type UnitRef } from "../core/viz/index.js";
import type { CharModel } from "../core/nn/model.js";
import { colorLevel } from "./color.js";
import { writeOut, type CliIO } from "./io.js";
import { describeUnknown, summarizeUnknown } from "../core/data/unknown.js";
import { loadModelFor, retryCommand } from "./checkpoint-arg.js";
import type { VizOptions } from "./viz-options.js";

/** Characters traced at most, and floats of states kept at most (2^25 floats: 128 MiB). */
export const MAX_TRACED_CHARACTERS = 200_000;
const MAX_TRACE_FLOATS = 2 ** 25;

/** How many characters a trace of this model may hold: it keeps (T, L, H) floats, twice for an LSTM. */
function traceLimit(model: CharModel): number {
  const perStep = model.config.layers * model.config.hidden * (model.config.cell === "lstm" ? 2 : 1);
  return Math.max(1, Math.min(MAX_TRACED_CHARACTERS, Math.floor(MAX_TRACE_FLOATS / perStep)));
}

async function textOf(options: VizOptions, io: CliIO): Promise<string> {
  if (options.text !== null && options.files.length > 0) throw usageError("give either FILE... or --text, not both");
  if (options.text !== null) return options.text;
  if (options.files.length === 0) {
    throw usageError("nothing to show: name a FILE (- for stdin) or pass --text", "e.g. charnn viz -c checkpoints --text 'some text'");
  }
  const { codePoints } = await readCorpus(options.files, { stdin: io.stdin, cwd: io.cwd });
  let text = "";
  // String.fromCodePoint over chunks: spreading a whole file into one call overflows the stack.
  for (let i = 0; i < codePoints.length; i += 8192) text += String.fromCodePoint(...codePoints.subarray(i, i + 8192));
  return text;
}

/** The unit --layer/--unit/--state name, checked against the model with the ranges in the message. */
function chosenUnit(options: VizOptions, model: CharModel): UnitRef {
  const { layers, hidden, cell } = model.config;
  if (options.layer >= layers) throw usageError(`--layer ${options.layer} is past the model's last layer (it has ${layers}: 0 to ${layers - 1})`);
  if (options.unit >= hidden) throw usageError(`--unit ${options.unit} is past the last unit (layers have ${hidden}: 0 to ${hidden - 1})`);
  if (options.state === "c" && cell !== "lstm") throw usageError(`--state c needs an LSTM; this model is a ${cell}, which has only h`);
  return { layer: options.layer, unit: options.unit, state: options.state };
}

export async function runViz(options: VizOptions, io: CliIO): Promise<number> {
  const text = await textOf(options, io);
  const kernels = selectKernels("auto", 1);
  try {
    await vizWith(kernels, text, options, io);
  } finally {
    kernels.dispose();
  }
  return ExitCode.ok;
}

async function vizWith(kernels: Kernels, fullText: string, options: VizOptions, io: CliIO): Promise<void> {
  const feature = options.find === null ? null : featureNamed(options.find);
  const argument = { checkpoint: options.checkpoint, best: options.best };
  const { model, vocabulary, file } = await loadModelFor(argument, io, retryCommand("viz", options.text === null ? options.files : ["--text", options.text]), kernels);
  const unit = chosenUnit(options, model);

  const characters = [...fullText];
  const limit = traceLimit(model);
  if (characters.length > limit) io.stderr.write(`note: showing the first ${limit} of ${characters.length} characters\n`);
  const trace = traceText(model, kernels, vocabulary, characters.slice(0, limit).join(""));
  if (trace.skipped.size > 0) {
    io.stderr.write(`note: left out ${summarizeUnknown(trace.skipped).count} character(s) the model never saw: ${describeUnknown(trace.skipped)}\n`);
  }
  if (trace.characters.length === 0) throw badInput("the text has no character the model knows, so there is nothing to show");

  if (feature !== null) {
    const ranking = rankUnits(trace, feature(trace.characters)).slice(0, options.top);
    const lines = [`units of ${file} by correlation with ${options.find} over ${trace.characters.length} characters`, "rank  layer  unit  state  correlation"];
    ranking.forEach((score, i) => {
      lines.push(`${String(i + 1).padStart(4)}  ${String(score.layer).padStart(5)}  ${String(score.unit).padStart(4)}  ${score.state.padStart(5)}  ${score.correlation.toFixed(4).padStart(11)}`);
    });
    await writeOut(io, lines.join("\n") + "\n");
    if (options.html !== null) {
      const units = ranking.map((score) => ({ ...score, label: `${unitLabel(score)}  r = ${score.correlation.toFixed(3)}` }));
      await writeHtml(trace, units, `${options.find} in ${file}`, options.html, io);
    }
    return;
  }

  if (options.html !== null) {
    await writeHtml(trace, [unit], `${unitLabel(unit)} of ${file}`, options.html, io);
    return;
  }
  const values = unitValues(trace, unit.layer, unit.unit, unit.state);
  const level = colorLevel(io.env, io.stdoutIsTTY);
  const scale = valueScale(values, unit.state);
  const columns = io.stdoutIsTTY ? (io.stdout as { columns?: number }).columns : undefined;
  const view = renderTerminal(trace.characters, values, { level, scale, width: columns });
  await writeOut(io, `${unitLabel(unit)} of ${file}   ${renderLegend(level, scale)}${view}`);
}

async function writeHtml(trace: Trace, units: Array<UnitRef & { label?: string }>, title: string, file: string, io: CliIO): Promise<void> {
  const html = renderHtml(activationView(trace, units, title));
  try {
    await writeFile(path.resolve(io.cwd, file), html);
  } catch (error) {
    throw badInput(`cannot write ${file}: ${(error as Error).message}`);
  }
  io.stderr.write(`wrote ${file} (${trace.characters.length} characters, ${units.length} unit(s))\n`);
}
