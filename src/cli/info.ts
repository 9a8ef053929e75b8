// `charnn info [CHECKPOINT]` (or -c, --best): what a checkpoint holds, for people (a short report
// with the loss curves drawn in plain characters) or as JSON with --json; --plot also writes the
// curves as an SVG image. Reads the metadata and counts the weights; it builds no model and runs
// nothing. Not here: the file format (src/core/checkpoint/) or drawing the SVG (src/core/viz/).

import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { InfoOptions } from "../core/config.js";
import type { Checkpoint } from "../core/checkpoint/load.js";
import { ExitCode, badInput, usageError } from "../core/errors.js";
import { textOf } from "../core/eval/lines.js";
import { escapeCodePoint } from "../core/util/chars.js";
import { formatCount } from "../core/util/format.js";
import { natsToBits } from "../core/util/units.js";
import { renderLossSvg } from "../core/viz/svg.js";
import { createColor } from "./color.js";
import type { PlotOptions } from "./viz-options.js";
import { writeOut, type CliIO } from "./io.js";
import { readCheckpointFor, retryCommand } from "./checkpoint-arg.js";

const MAX_VOCABULARY_SHOWN = 160;
const CHART_WIDTH = 60;
const CHART_HEIGHT = 10;

/**
 * The vocabulary as one quoted line: visible characters as they are, and an escape for anything
 * that would print as nothing or move the cursor (controls, separators other than the space).
 */
export function renderVocabulary(codePoints: readonly number[], limit = MAX_VOCABULARY_SHOWN): string {
  let text = "";
  for (const codePoint of codePoints.slice(0, limit)) text += escapeCodePoint(codePoint);
  const rest = codePoints.length - limit;
  return `"${text}"${rest > 0 ? ` and ${rest} more` : ""}`;
}

export interface ChartSeries {
  name: string;
  /** One character drawn at each point. */
  symbol: string;
  /** [step, loss] pairs. */
  points: ReadonlyArray<readonly [number, number]>;
}

/**
 * Loss curves as lines of plain text: `width` columns of steps by `height` rows of loss, with
 * the loss range on the left and the step range below. Points that share a column are averaged
 * so a long history reads as a line rather than a smear; a later series is drawn over an earlier
 * one. `paint` may colour a symbol (it is applied after layout, so widths stay right).
 */
export function drawLossChart(
  series: readonly ChartSeries[],
  width = CHART_WIDTH,
  height = CHART_HEIGHT,
  paint: (series: ChartSeries, symbol: string) => string = (_, symbol) => symbol,
): string[] {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return ["(no loss history yet)"];
  // One pass, not Math.min(...steps): spreading a long run's history (over ~120,000 points)
  // into arguments overflows the stack.
  let xMin = Infinity, xMax = -Infinity, yMin = Infinity, yMax = -Infinity;
  for (const [step, loss] of all) {
    xMin = Math.min(xMin, step);
    xMax = Math.max(xMax, step);
    yMin = Math.min(yMin, loss);
    yMax = Math.max(yMax, loss);
  }
  if (yMax === yMin) {
    yMin -= 0.5;
    yMax += 0.5;
  }
  const column = (step: number): number => (xMax === xMin ? 0 : Math.round(((step - xMin) / (xMax - xMin)) * (width - 1)));
  const row = (loss: number): number => Math.round(((yMax - loss) / (yMax - yMin)) * (height - 1));

  const grid: string[][] = Array.from({ length: height }, () => new Array<string>(width).fill(" "));
  for (const s of series) {
    const sums = new Map<number, { total: number; count: number }>();
    for (const [step, loss] of s.points) {
      const bucket = sums.get(column(step)) ?? { total: 0, count: 0 };
      bucket.total += loss;
      bucket.count++;
      sums.set(column(step), bucket);
    }
    for (const [x, { total, count }] of sums) grid[row(total / count)]![x] = paint(s, s.symbol);
  }

  const labelWidth = Math.max(yMax.toFixed(2).length, yMin.toFixed(2).length);
  const label = (r: number): string => {
    if (r === 0) return yMax.toFixed(2);
    if (r === height - 1) return yMin.toFixed(2);
    if (r === Math.floor((height - 1) / 2)) return ((yMax + yMin) / 2).toFixed(2);
    return "";
  };
  const pad = " ".repeat(labelWidth);
  const lines = grid.map((cells, r) => `${label(r).padStart(labelWidth)} |${cells.join("")}`);
  lines.push(`${pad} +${"-".repeat(width)}`);
  const first = `step ${xMin}`, last = String(xMax);
  lines.push(`${pad}  ${first}${last.padStart(Math.max(1, width - first.length))}`);
  lines.push(`${pad}  ${series.map((s) => `${paint(s, s.symbol)} ${s.name}`).join("   ")}`);
  return lines;
}

/** Everything info reports, as plain data (the weights are only counted). */
export function describeCheckpoint(state: Checkpoint, file: string) {
  const config = state.config;
  const parameters = Object.values(state.params).reduce((sum, tensor) => sum + tensor.data.length, 0);
  const best = state.bestValidationLoss;
  return {
    checkpoint: file,
    charnnVersion: state.charnnVersion,
    createdAt: state.createdAt,
    kind: state.kind,
    /** The command line of the latest invocation; every one is in `invocations`. */
    command: state.invocations.at(-1)?.argv ?? [],
    invocations: state.invocations,
    model: {
      cell: config.model,
      activation: config.activation,
      layers: config.layers,
      hidden: config.hidden,
      embed: config.embed,
      dropout: config.dropout,
      learnInit: config.learnInit,
      parameters,
    },
    vocabulary: { size: state.vocabulary.length, text: textOf(state.vocabulary), codePoints: state.vocabulary },
    progress: { step: state.step, epoch: state.epoch, cursor: state.kind === "training" ? state.cursor : null },
    bestValidationLoss: best === null ? null : { nats: best, bits: natsToBits(best) },
    corpus: state.corpus,
    runtime: state.runtime,
    schedule: state.schedule,
    config: state.config,
    settingSources: state.settingSources,
    history: state.history,
  };
}

/** --plot: the loss curves as an SVG file (the report on stdout is unchanged). */
async function writePlot(state: Checkpoint, file: string, options: PlotOptions, io: CliIO): Promise<void> {
  const svg = renderLossSvg(state.history, { logScale: options.logScale, title: `loss by step: ${path.basename(path.dirname(path.resolve(io.cwd, file)))}/${path.basename(file)}` });
  try {
    await writeFile(path.resolve(io.cwd, options.plot!), svg);
  } catch (error) {
    throw badInput(`cannot write ${options.plot}: ${(error as Error).message}`);
  }
  io.stderr.write(`wrote ${options.plot} (${state.history.train.length} train and ${state.history.validation.length} validation points)\n`);
}

export async function runInfo(options: InfoOptions & Partial<PlotOptions>, io: CliIO): Promise<number> {
  if (options.logScale === true && options.plot == null) throw usageError("--log-scale applies to --plot, which is not given", "add --plot FILE.svg");
  const { state, file } = await readCheckpointFor(options, io, retryCommand("info", [], true));
  if (options.plot != null) await writePlot(state, file, { plot: options.plot, logScale: options.logScale === true }, io);
  const info = describeCheckpoint(state, file);
  if (options.json) {
    await writeOut(io, JSON.stringify(info) + "\n");
    return ExitCode.ok;
  }

  const color = createColor(io.env, io.stdoutIsTTY);
  const config = state.config;
  const m = info.model;
  const input = m.embed > 0 ? `embedding of ${m.embed}` : "one-hot input";
  const extras = [m.cell === "rnn" ? `${m.activation} activation` : null, m.learnInit ? "learned initial state" : null].filter((x) => x !== null);
  const schedule = config.lrSchedule === "constant" ? "" : ` (${config.lrSchedule} schedule)`;
  const latestTrain = state.history.train.at(-1);
  const rows: Array<[string, string]> = [
    ["checkpoint", `${file} (written ${state.createdAt} by charnn ${state.charnnVersion})`],
    ["model", `${m.cell}, ${m.layers} layer(s) of ${m.hidden} hidden units, ${input}${extras.length ? `, ${extras.join(", ")}` : ""}; ${formatCount(m.parameters)} parameters`],
    ["vocabulary", `${info.vocabulary.size} characters: ${renderVocabulary(state.vocabulary)}`],
    ["progress", `step ${formatCount(state.step)}, epoch ${state.epoch}${latestTrain ? `; train loss ${latestTrain[1].toFixed(4)} nats/char (mean of the last logged steps)` : ""}`],
    ["training", `${config.optimizer} lr ${config.lr}${schedule}, batch ${config.batch} x ${config.seqLen} steps, clip ${config.clip} (${config.clipMode}), dropout ${config.dropout}, seed ${config.seed}`],
    ["corpus", state.corpus === null ? "unknown (weights from outside a charnn run)" : `${formatCount(state.corpus.length)} characters (fingerprint ${state.corpus.fingerprint})`],
    ["runtime", state.runtime === null ? "unknown" : `${state.runtime.backend} backend, ${state.runtime.threads} thread(s), node ${state.runtime.node}, ${state.runtime.platform}`],
    ["best val", info.bestValidationLoss === null
      ? "none yet (no validation pass has run)"
      : `${info.bestValidationLoss.nats.toFixed(4)} nats/char (${info.bestValidationLoss.bits.toFixed(3)} bits/char)`],
  ];
  if (state.kind === "weights") rows.splice(1, 0, ["kind", "weights only (sample, eval and --init-from use it; it cannot be resumed)"]);
  if (info.command.length > 0) rows.push(["command", `charnn ${info.command.join(" ")}`]);

  const columns = (io.stdout as { columns?: number }).columns;
  const width = columns === undefined ? CHART_WIDTH : Math.max(20, Math.min(CHART_WIDTH, columns - 12));
  const chart = drawLossChart(
    [
      { name: "train (mean per log interval)", symbol: ".", points: state.history.train },
      { name: "validation", symbol: "o", points: state.history.validation },
    ],
    width,
    CHART_HEIGHT,
    (series, symbol) => (series.name.startsWith("train") ? color.cyan(symbol) : color.yellow(symbol)),
  );
  const text = [
    ...rows.map(([name, value]) => `${color.bold(name.padEnd(11))}${value}`),
    "",
    color.bold("loss (nats/char) by step"),
    ...chart,
    "",
  ].join("\n");
  await writeOut(io, text);
  return ExitCode.ok;
}
