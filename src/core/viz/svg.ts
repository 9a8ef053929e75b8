// Loss curves as a standalone SVG image: train and validation loss by step, with labelled axes,
// round-numbered ticks and a legend, on a linear or a log-10 loss axis. Every history point is
// plotted (train as a line, validation as a line with dots), so the picture is the data.
// Not here: reading checkpoints or writing files.

export type LossPoints = ReadonlyArray<readonly [number, number]>;

export interface LossPlotOptions {
  logScale?: boolean;
  width?: number;
  height?: number;
  title?: string;
}

export interface LossHistory {
  train: LossPoints;
  validation: LossPoints;
}

/** The plot area inside the image, in pixels. */
export const PLOT_MARGIN = { left: 64, right: 20, top: 36, bottom: 52 } as const;
/** Pixels between the frame and the highest and lowest points, so no point sits on a border. */
export const PLOT_INSET = 8;

const TRAIN_COLOR = "#1f77b4";
const VALIDATION_COLOR = "#d62728";

/** About `count` round tick values (1, 2 or 5 times a power of ten apart) covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  // The round step whose tick count comes nearest the one asked for.
  const candidates = [1, 2, 5, 10].map((m) => m * power);
  const step = candidates.reduce((best, s) => (Math.abs((max - min) / s - count) < Math.abs((max - min) / best - count) ? s : best));
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Ticks for a log axis: 1, 2 and 5 times each power of ten inside [min, max] (min > 0). */
function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** e).toPrecision(12));
      if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) ticks.push(v);
    }
  }
  return ticks.length >= 2 ? ticks : [min, max];
}

const label = (v: number): string => (Math.abs(v) >= 1e4 ? v.toExponential(1) : String(Number(v.toPrecision(4))));
const px = (v: number): string => String(Math.round(v * 100) / 100);
const escapeXml = (text: string): string => text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/**
 * The SVG document. Steps run left to right from the first to the last step of either series;
 * loss runs bottom to top from the smallest to the largest value (on a log scale, log10 of it;
 * losses at or below zero are left out there, since they have no logarithm). Each series is one
 * <polyline data-series="train|validation"> with its points in history order.
 */
export function renderLossSvg(history: LossHistory, options: LossPlotOptions = {}): string {
  const width = options.width ?? 720, height = options.height ?? 400;
  const logScale = options.logScale === true;
  const keep = (points: LossPoints): LossPoints => points.filter(([step, loss]) => Number.isFinite(step) && Number.isFinite(loss) && (!logScale || loss > 0));
  const train = keep(history.train), validation = keep(history.validation);
  const all = [...train, ...validation];
  const left = PLOT_MARGIN.left, right = width - PLOT_MARGIN.right, top = PLOT_MARGIN.top, bottom = height - PLOT_MARGIN.bottom;
  const title = escapeXml(options.title ?? "loss by step");
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${title}</text>`,
  ];
  if (all.length === 0) {
    parts.push(`<text x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="#666">no loss history yet</text>`, "</svg>");
    return parts.join("\n") + "\n";
  }

  let stepMin = Infinity, stepMax = -Infinity, lossMin = Infinity, lossMax = -Infinity;
  for (const [step, loss] of all) {
    stepMin = Math.min(stepMin, step);
    stepMax = Math.max(stepMax, step);
    lossMin = Math.min(lossMin, loss);
    lossMax = Math.max(lossMax, loss);
  }
  const f = logScale ? Math.log10 : (v: number) => v;
  let yLow = f(lossMin), yHigh = f(lossMax);
  if (yHigh === yLow) {
    yLow -= 0.5;
    yHigh += 0.5;
  }
  const xSpan = stepMax - stepMin;
  const x = (step: number): number => (xSpan === 0 ? (left + right) / 2 : left + ((step - stepMin) / xSpan) * (right - left));
  const yBottom = bottom - PLOT_INSET, yTop = top + PLOT_INSET;
  const y = (loss: number): number => yBottom - ((f(loss) - yLow) / (yHigh - yLow)) * (yBottom - yTop);

  // Grid and ticks.
  const yTicks = logScale ? logTicks(10 ** yLow, 10 ** yHigh) : niceTicks(yLow, yHigh);
  for (const v of yTicks) {
    const ty = px(y(v));
    parts.push(`<line x1="${left}" y1="${ty}" x2="${right}" y2="${ty}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${left - 6}" y="${ty}" text-anchor="end" dominant-baseline="middle" fill="#333">${label(v)}</text>`);
  }
  for (const v of xSpan === 0 ? [stepMin] : niceTicks(stepMin, stepMax, 6)) {
    const tx = px(x(v));
    parts.push(`<line x1="${tx}" y1="${bottom}" x2="${tx}" y2="${bottom + 5}" stroke="#333"/>`);
    parts.push(`<text x="${tx}" y="${bottom + 18}" text-anchor="middle" fill="#333">${label(v)}</text>`);
  }
  parts.push(`<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${(left + right) / 2}" y="${height - 12}" text-anchor="middle">step</text>`);
  parts.push(`<text transform="translate(16 ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle">loss (nats/char${logScale ? ", log scale" : ""})</text>`);

  // The series, then the legend.
  const series: Array<[string, LossPoints, string]> = [["train", train, TRAIN_COLOR], ["validation", validation, VALIDATION_COLOR]];
  for (const [name, points, color] of series) {
    if (points.length === 0) continue;
    const coordinates = points.map(([step, loss]) => `${px(x(step))},${px(y(loss))}`).join(" ");
    parts.push(`<polyline data-series="${name}" fill="none" stroke="${color}" stroke-width="${name === "train" ? 1.5 : 2}" stroke-linejoin="round" points="${coordinates}"/>`);
    if (name === "validation") {
      for (const [step, loss] of points) parts.push(`<circle cx="${px(x(step))}" cy="${px(y(loss))}" r="3" fill="${color}"/>`);
    }
  }
  // The legend: one row per series in a box at the top right, where loss curves seldom are.
  const legendWidth = 170, legendX = right - legendWidth - 8, legendY = top + 8;
  parts.push(`<rect x="${legendX}" y="${legendY}" width="${legendWidth}" height="44" fill="#ffffff" fill-opacity="0.85" stroke="#ccc"/>`);
  series.forEach(([name, points, color], i) => {
    const rowY = legendY + 14 + i * 18;
    const text = `${name} (${points.length} point${points.length === 1 ? "" : "s"})`;
    parts.push(`<line x1="${legendX + 8}" y1="${rowY}" x2="${legendX + 28}" y2="${rowY}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${legendX + 34}" y="${rowY}" dominant-baseline="middle">${text}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
