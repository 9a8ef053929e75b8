// The flags of `charnn viz` and of `charnn info --plot`, kept apart from the command bodies so
// main.ts can register them without loading the engine. Parsers name the flag in their errors.
// Not here: what the commands do with the values (viz.ts, info.ts).

import { Option, type Command } from "commander";
import { usageError } from "../core/errors.js";
import { addHelpNotes } from "./help.js";
import { DEFAULT_CHECKPOINT } from "../core/settings.js";

export const VIZ_DEFAULTS = Object.freeze({
  checkpoint: DEFAULT_CHECKPOINT,
  best: false,
  text: null as string | null,
  layer: 0,
  unit: 0,
  state: "h" as "h" | "c",
  html: null as string | null,
  find: null as string | null,
  top: 10,
  quiet: false,
});

export interface VizOptions {
  /** A checkpoint file, or a run folder (its latest.json). */
  checkpoint: string;
  best: boolean;
  /** FILE... ("-" for stdin); empty when --text is given. */
  files: string[];
  text: string | null;
  layer: number;
  unit: number;
  state: "h" | "c";
  html: string | null;
  find: string | null;
  top: number;
  /** Nothing on stderr but errors (main hands the body an io whose stderr goes nowhere). */
  quiet: boolean;
}

export interface PlotOptions {
  /** Write the loss curves to this SVG file. */
  plot: string | null;
  logScale: boolean;
}

function wholeNumber(flag: string, min: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(value) || value < min) {
      throw usageError(`${flag} must be a whole number of at least ${min} (got "${text}")`);
    }
    return value;
  };
}

export function addVizOptions(command: Command): void {
  const d = VIZ_DEFAULTS;
  command.addOption(new Option("-c, --checkpoint <file|dir>", "checkpoint to load (a run folder means its latest.json)").default(d.checkpoint));
  command.addOption(new Option("--best", "use best.json in the checkpoint's folder").default(false));
  command.addOption(new Option("--text <string>", "show this text instead of files"));
  command.addOption(new Option("--layer <l>", "layer of the unit (0 = the first)").argParser(wholeNumber("--layer", 0)).default(d.layer));
  command.addOption(new Option("--unit <n>", "hidden unit to colour the text by").argParser(wholeNumber("--unit", 0)).default(d.unit));
  command.addOption(new Option("--state <name>", "h: hidden state; c: the LSTM's cell state").choices(["h", "c"]).default(d.state));
  command.addOption(new Option("--html <file>", "write a standalone HTML view instead (hover shows values and predictions)"));
  command.addOption(new Option("--find <feature>", "rank units by correlation with quotes, brackets, line-position, indent or /REGEX/"));
  command.addOption(new Option("--top <n>", "units --find shows").argParser(wholeNumber("--top", 1)).default(d.top));
  command.addOption(new Option("-q, --quiet", "print nothing on stderr but errors (no notes or \"wrote FILE\" line)"));
  addHelpNotes(
    command,
    `
The model reads the text from its initial state; after each character, the unit's value colours
that character (red positive, blue negative; truecolor, 256 or 16 colours as the terminal allows,
FORCE_COLOR=1|2|3 to choose, NO_COLOR for none: then a marker row under each line shows the
values). --find prints the best --top units by Pearson correlation with the feature over the text
(with --html, the page lets you switch between them).`,
  );
}

/** The viz options from a parsed command. */
export function vizOptionsOf(command: Command, files: string[]): VizOptions {
  const o = command.opts() as Record<string, unknown>;
  return {
    checkpoint: o.checkpoint as string,
    best: o.best === true,
    files,
    text: (o.text as string | undefined) ?? null,
    layer: o.layer as number,
    unit: o.unit as number,
    state: o.state as "h" | "c",
    html: (o.html as string | undefined) ?? null,
    find: (o.find as string | undefined) ?? null,
    top: o.top as number,
    quiet: o.quiet === true,
  };
}

export function addPlotOptions(command: Command): void {
  command.addOption(new Option("--plot <file.svg>", "also write the loss curves as an SVG image"));
  command.addOption(new Option("--log-scale", "with --plot: a logarithmic loss axis").default(false));
}

export function plotOptionsOf(command: Command): PlotOptions {
  const o = command.opts() as Record<string, unknown>;
  return { plot: (o.plot as string | undefined) ?? null, logScale: o.logScale === true };
}
