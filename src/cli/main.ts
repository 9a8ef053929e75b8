// The charnn command line: parses argv with commander, dispatches to the command bodies, and is
// the one place that turns an error into a message on stderr and an exit code.
// It never calls process.exit and never touches the real process streams except through io,
// so tests run it in-process. What each command does lives in train.ts, sample.ts, eval.ts, info.ts.

import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { Command, CommanderError } from "commander";
import {
  SETTINGS,
  resolveEvalOptions,
  resolveInfoOptions,
  resolveSampleOptions,
  resolveServeSettings,
  resolveTrainSettings,
  type EvalOptions,
  type InfoOptions,
  type SampleOptions,
  type ServeSettings,
  type TrainConfig,
} from "../core/settings.js";
import { CharnnError, ExitCode, usageError } from "../core/errors.js";
import { cliHint } from "./hints.js";
import { packageVersion } from "../node/version.js";
import { addCheckpointArgument, checkpointOfArguments, retryCommand } from "./checkpoint-arg.js";
import { createColor } from "./color.js";
import { addCompletionCommand } from "./completion.js";
import { addExamples } from "./examples.js";
import { fittedHelp } from "./help.js";
import { OutputClosed, processIO, quietIO, type CliIO } from "./io.js";
import { addEvalOptions, addInfoOptions, addSampleOptions, addServeOptions, addTrainOptions, typedOptions } from "./options.js";
import { addPlotOptions, addVizOptions, plotOptionsOf, vizOptionsOf, type PlotOptions, type VizOptions } from "./viz-options.js";
import type { ExportOptions } from "./export.js";
import type { ImportOptions } from "./import.js";
import type { ServeOptions } from "./serve.js";

/** The command bodies. Tests pass their own to check dispatch and error handling. */
export interface CommandHandlers {
  /** `explicit`: the options this invocation set, by flag or --config file (resume keeps the rest). */
  train(config: TrainConfig, inputs: string[], io: CliIO, explicit: ReadonlySet<string>): Promise<number>;
  sample(options: SampleOptions, io: CliIO): Promise<number>;
  eval(options: EvalOptions, inputs: string[], io: CliIO): Promise<number>;
  info(options: InfoOptions & PlotOptions, io: CliIO): Promise<number>;
  viz(options: VizOptions, io: CliIO): Promise<number>;
  export(options: ExportOptions, io: CliIO): Promise<number>;
  import(options: ImportOptions, io: CliIO): Promise<number>;
  serve(options: ServeOptions, io: CliIO): Promise<number>;
}

// Loaded on first use, so `--help` and `--version` stay fast and keep working even while a
// command body (and the numeric core it imports) is broken.
const builtInHandlers: CommandHandlers = {
  train: async (...args) => (await import("./train.js")).runTrain(...args),
  sample: async (...args) => (await import("./sample.js")).runSample(...args),
  eval: async (...args) => (await import("./eval.js")).runEval(...args),
  info: async (...args) => (await import("./info.js")).runInfo(...args),
  viz: async (...args) => (await import("./viz.js")).runViz(...args),
  export: async (...args) => (await import("./export.js")).runExport(...args),
  import: async (...args) => (await import("./import.js")).runImport(...args),
  serve: async (...args) => (await import("./serve.js")).runServe(...args),
};

/** The keys of a command's settings, for reading its typed options back from commander. */
const keysOf = <T extends object>(table: T) => Object.keys(table) as (keyof T & string)[];

/** A commander parse failure, remembered with the command that was being parsed. */
class ParseFailure extends Error {
  constructor(
    readonly commanderError: CommanderError,
    readonly commandPath: string,
  ) {
    super(commanderError.message);
  }
}

/** The --config file: read relative to the working directory and parsed as JSON. */
async function readConfigFile(file: string, io: CliIO): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(resolve(io.cwd, file), "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
    throw usageError(`cannot read config file ${file}: ${reason}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw usageError(`config file ${file} is not valid JSON: ${(error as Error).message}`);
  }
}

/** -q/--quiet on the commands whose bodies only report on stderr (info, viz, export, import, serve). */
const QUIET_FLAGS = "-q, --quiet";
const QUIET_HELP = "print nothing on stderr but errors";
/** The io a command body gets: with --quiet, stderr goes nowhere (errors are reported by main, on `io`). */
const ioFor = (io: CliIO, quiet: boolean | undefined): CliIO => (quiet === true ? quietIO(io) : io);

function buildProgram(io: CliIO, handlers: CommandHandlers, setExitCode: (code: number) => void): Command {
  const program = new Command("charnn");
  let commandPath = "charnn";

  // Configured before any subcommand is created: .command() copies these settings to it.
  program
    .description("Train character-level RNN, LSTM and GRU language models, then sample and evaluate them.")
    .version(packageVersion(), "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .configureHelp(fittedHelp())
    .exitOverride((error) => {
      throw new ParseFailure(error, commandPath);
    })
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // main prints the one-line error itself, with the context commander does not have.
      outputError: () => {},
      getOutHelpWidth: () => (io.stdout as { columns?: number }).columns ?? 80,
      getErrHelpWidth: () => (io.stderr as { columns?: number }).columns ?? 80,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .showSuggestionAfterError(true)
    .hook("preSubcommand", (_program, subcommand) => {
      commandPath = `charnn ${subcommand.name()}`;
    });

  const train = program
    .command("train")
    .summary("train a model on text files")
    .description("Train a model on one or more text files (- reads stdin). Checkpoints go to --out.")
    .argument("[FILE...]", "training text; - for stdin (with --resume and none: the text the run recorded)");
  addTrainOptions(train);
  train.action(async (files: string[], _options: unknown, command: Command) => {
    const configFile = command.opts().config as string | undefined;
    const fileConfig = configFile === undefined ? undefined : await readConfigFile(configFile, io);
    const flags = typedOptions<TrainConfig>(command, keysOf(SETTINGS.train));
    const { config, given } = resolveTrainSettings(fileConfig, flags, configFile);
    setExitCode(await handlers.train(config, files, io, given));
  });

  const sample = program
    .command("sample")
    .summary("generate text from a checkpoint")
    .description("Generate text from a trained checkpoint and write it to stdout.");
  addSampleOptions(sample);
  sample.action(async (_options: unknown, command: Command) => {
    const flags = typedOptions<SampleOptions>(command, keysOf(SETTINGS.sample));
    setExitCode(await handlers.sample(resolveSampleOptions(flags), io));
  });

  const evaluate = program
    .command("eval")
    .summary("measure a checkpoint's loss on text files")
    .description("Report a checkpoint's loss and bits per character on text files (- reads stdin).")
    .argument("<FILE...>", "text to evaluate; - for stdin");
  addEvalOptions(evaluate);
  evaluate.action(async (files: string[], _options: unknown, command: Command) => {
    const flags = typedOptions<EvalOptions>(command, keysOf(SETTINGS.eval));
    setExitCode(await handlers.eval(resolveEvalOptions(flags), files, io));
  });

  const info = program
    .command("info")
    .summary("describe a checkpoint")
    .description("Print a checkpoint's model, training settings and progress.");
  addCheckpointArgument(info);
  addInfoOptions(info);
  addPlotOptions(info);
  info.action(async (positional: string | undefined, _options: unknown, command: Command) => {
    const flags = typedOptions<InfoOptions>(command, keysOf(SETTINGS.info));
    const checkpoint = checkpointOfArguments(positional, flags.checkpoint, retryCommand("info", [], true));
    const options = resolveInfoOptions({ ...flags, checkpoint });
    setExitCode(await handlers.info({ ...options, ...plotOptionsOf(command) }, ioFor(io, options.quiet)));
  });

  const viz = program
    .command("viz")
    .summary("show the text coloured by a hidden unit, or rank units by a feature")
    .description("Colour text by one hidden unit of a checkpoint's model (terminal or --html), or rank units with --find.")
    .argument("[FILE...]", "text to show; - for stdin (or --text)");
  addVizOptions(viz);
  viz.action(async (files: string[], _options: unknown, command: Command) => {
    const options = vizOptionsOf(command, files);
    setExitCode(await handlers.viz(options, ioFor(io, options.quiet)));
  });

  program
    .command("export")
    .summary("write a checkpoint's model for other programs (PyTorch)")
    .description("Write a checkpoint's model in another format: --format safetensors for PyTorch.")
    .usage("[CHECKPOINT] OUT [options]")
    .argument("<PATHS...>", "CHECKPOINT OUT, or OUT with -c")
    .option("-c, --checkpoint <file|dir>", "checkpoint file, or a run folder (its latest.json)")
    .option("--best", "the run's best.json (lowest validation loss) instead")
    .option("--format <format>", "safetensors or html (default: from OUT's extension)")
    .option(QUIET_FLAGS, `${QUIET_HELP} (no "wrote OUT" line)`)
    .action(async (paths: string[], options: { checkpoint?: string; best?: boolean; format?: string; quiet?: boolean }) => {
      setExitCode(await handlers.export({ paths, checkpoint: options.checkpoint, best: options.best === true, format: options.format }, ioFor(io, options.quiet)));
    });

  program
    .command("import")
    .summary("make a checkpoint from a safetensors file (PyTorch)")
    .description("Turn a safetensors file (from charnn export, the PyTorch companion or a torch.nn state dict) into DIR/latest.json, a weights-only checkpoint.")
    .argument("<FILE>", "a .safetensors file")
    .requiredOption("--out <dir>", "folder for latest.json (must not hold one)")
    .option("--vocabulary <file>", "for a file without one: a .json array of code points, or text whose characters are the vocabulary, in row order")
    .option("--prefix <prefix>", "strip this prefix from tensor names (repeatable, e.g. module. rnn.)", (value: string, list: string[] | undefined) => [...(list ?? []), value])
    .option("--activation <tanh|relu>", "an rnn's non-linearity, for a file without a config")
    .option(QUIET_FLAGS, `${QUIET_HELP} (no "wrote DIR/latest.json" line)`)
    .action(async (file: string, { quiet, ...options }: { out: string; vocabulary?: string; prefix?: string[]; activation?: string; quiet?: boolean }) => {
      if (options.activation !== undefined && options.activation !== "tanh" && options.activation !== "relu") {
        throw usageError(`--activation must be tanh or relu (got ${options.activation})`);
      }
      setExitCode(await handlers.import({ file, ...options, prefix: options.prefix ?? [], activation: options.activation as ImportOptions["activation"] }, ioFor(io, quiet)));
    });

  const serve = program
    .command("serve")
    .summary("a local page that follows a run and samples in the browser")
    .description("Serve a page for a run folder: loss curves that follow the run live, sampling from its checkpoints and the activation view, computed in the browser. Prints the URL first; Ctrl-C stops.")
    .argument("[DIR]", "the run folder", "checkpoints");
  addServeOptions(serve);
  serve.option(QUIET_FLAGS, `${QUIET_HELP} (the URL still goes to stdout)`);
  serve.action(async (dir: string, options: { quiet?: boolean }, command: Command) => {
    const flags = typedOptions<ServeSettings>(command, keysOf(SETTINGS.serve));
    setExitCode(await handlers.serve({ dir, ...resolveServeSettings(flags) }, ioFor(io, options.quiet)));
  });

  addCompletionCommand(program, io);
  addExamples(program);
  return program;
}

/**
 * Commander's message as one line: without its "error: " prefix, and with its suggestion
 * ("\n(Did you mean --lr?)") folded in.
 */
function commanderMessage(error: CommanderError): string {
  return error.message
    .replace(/^error: /, "")
    .replace(/\s*\(Did you mean (.*)\?\)\s*$/s, ", did you mean $1?")
    .replace(/\s*\n\s*/g, " ");
}

function reportParseFailure(failure: ParseFailure, io: CliIO): number {
  const error = failure.commanderError;
  switch (error.code) {
    case "commander.helpDisplayed":
    case "commander.version":
      return ExitCode.ok;
    case "commander.help":
      // `charnn help` printed the help to stdout (exit code 0); `charnn` with no command printed
      // it to stderr as an error (exit code 1), which is a usage error here.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    case "commander.unknownOption":
      io.stderr.write(`charnn: ${commanderMessage(error)} (see ${failure.commandPath} --help)\n`);
      return ExitCode.usage;
    default:
      io.stderr.write(`charnn: ${commanderMessage(error)}\n`);
      return ExitCode.usage;
  }
}

/** The one place an error becomes a message and an exit code. */
function reportError(error: unknown, io: CliIO): number {
  if (error instanceof OutputClosed) return ExitCode.ok;
  if (error instanceof ParseFailure) return reportParseFailure(error, io);

  const color = createColor(io.env, io.stderrIsTTY);
  const debug = io.env.CHARNN_DEBUG !== undefined && io.env.CHARNN_DEBUG !== "" && io.env.CHARNN_DEBUG !== "0";
  const stack = (error as Error | null)?.stack;

  if (error instanceof CharnnError) {
    io.stderr.write(`${color.red("charnn:")} ${error.message}\n`);
    const hint = cliHint(error);
    if (hint !== undefined) io.stderr.write(`${color.dim("hint:")} ${hint}\n`);
    if (debug && stack) io.stderr.write(stack + "\n");
    return error.exitCode;
  }

  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`${color.red("charnn:")} unexpected error: ${message}\n`);
  if (debug && stack) io.stderr.write(stack + "\n");
  else io.stderr.write("(set CHARNN_DEBUG=1 for the stack trace)\n");
  return ExitCode.failure;
}

/**
 * Runs charnn with the arguments after the program name and returns the exit code.
 * `handlers` replaces command bodies (tests use it to inject failures).
 */
export async function main(
  argv: string[],
  io: CliIO = processIO(),
  handlers: Partial<CommandHandlers> = {},
): Promise<number> {
  let exitCode: number = ExitCode.ok;
  try {
    const program = buildProgram(io, { ...builtInHandlers, ...handlers }, (code) => {
      exitCode = code;
    });
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (error) {
    return reportError(error, io);
  }
}
