// In-process tests of src/cli/main.ts: help and version, one-line usage errors with exit code 2,
// --config precedence, dispatch to the command bodies, and the one place errors become exit codes.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TRAIN_DEFAULTS, flagName, type EvalOptions, type InfoOptions, type SampleOptions, type TrainConfig } from "../../src/core/config.js";
import { CharnnError, ExitCode } from "../../src/core/errors.js";
import { writeOut, type CliIO } from "../../src/cli/io.js";
import { main, type CommandHandlers } from "../../src/cli/main.js";
import { packageVersion } from "../../src/node/version.js";
import { closedPipe, createTestIO, type TestIOOptions } from "./helpers.js";

interface Calls {
  train?: { config: TrainConfig; inputs: string[] };
  sample?: SampleOptions;
  eval?: { options: EvalOptions; inputs: string[] };
  info?: InfoOptions;
}

/** Handlers that record what main passed them and return `exitCode`. */
function recordingHandlers(exitCode = 0): { handlers: CommandHandlers; calls: Calls } {
  const calls: Calls = {};
  return {
    calls,
    handlers: {
      train: async (config, inputs) => ((calls.train = { config, inputs }), exitCode),
      sample: async (options) => ((calls.sample = options), exitCode),
      eval: async (options, inputs) => ((calls.eval = { options, inputs }), exitCode),
      info: async (options) => ((calls.info = options), exitCode),
    },
  };
}

async function run(argv: string[], handlers: Partial<CommandHandlers> = {}, options: TestIOOptions = {}) {
  const captured = createTestIO(options);
  const code = await main(argv, captured.io, handlers);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

/** Lines of text without the trailing newline's empty entry. */
const lines = (text: string) => text.split("\n").filter((line, i, all) => !(line === "" && i === all.length - 1));

describe("help and version", () => {
  it("--help lists the commands on stdout and exits 0", async () => {
    const { code, stdout, stderr } = await run(["--help"]);
    expect(code).toBe(0);
    expect(stderr).toBe("");
    for (const command of ["train", "sample", "eval", "info"]) {
      expect(stdout).toMatch(new RegExp(`^\\s+${command} `, "m"));
    }
  });

  it("`charnn help train` is the same as `charnn train --help`", async () => {
    const viaHelp = await run(["help", "train"]);
    const viaFlag = await run(["train", "--help"]);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
  });

  it("no command prints the help on stderr and exits 2", async () => {
    const { code, stdout, stderr } = await run([]);
    expect(code).toBe(ExitCode.usage);
    expect(stdout).toBe("");
    expect(stderr).toContain("Usage: charnn");
  });

  it("--version prints the package version", async () => {
    const { code, stdout, stderr } = await run(["--version"]);
    expect(code).toBe(0);
    expect(stdout).toBe(`${packageVersion()}\n`);
    expect(stdout).toBe("0.1.0\n");
    expect(stderr).toBe("");
  });

  it("train --help shows every option with its default", async () => {
    const { code, stdout } = await run(["train", "--help"], {}, {});
    expect(code).toBe(0);
    const flat = stdout.replace(/\s+/g, " ");
    for (const key of Object.keys(TRAIN_DEFAULTS)) expect(flat).toContain(flagName(key));
    expect(flat).toContain("--lr <rate> learning rate (> 0) (default: 0.002)");
    expect(flat).toContain("--hidden <n> hidden units per layer (1-8192) (default: 128)");
    expect(flat).toContain('default: "lstm"');
    expect(flat).toContain("--checkpoint-every <steps|duration>");
    expect(flat).toMatch(/--checkpoint-every <steps\|duration> .*\(default: 1000\)/);
    expect(flat).toMatch(/--time <duration> .*\(default: none\)/);
    expect(flat).toContain("--no-learn-init");
    expect(flat).toContain("--config <file>");
  });

  it("sample --help shows its defaults and the --no-echo negation", async () => {
    const { code, stdout } = await run(["sample", "--help"]);
    expect(code).toBe(0);
    const flat = stdout.replace(/\s+/g, " ");
    expect(flat).toContain('-c, --checkpoint <file|dir> checkpoint file, or a run folder (its latest.json) (default: "checkpoints/latest.json")');
    expect(flat).toContain("-n, --length <n> characters to generate (default: 500)");
    expect(flat).toContain("(default: random, printed to stderr)");
    expect(flat).toContain("--no-echo");
  });
});

describe("usage errors: exit 2, one line on stderr, nothing on stdout", () => {
  it.each([
    [["train", "in.txt", "--bogus"], "charnn: unknown option '--bogus' (see charnn train --help)"],
    [["train", "in.txt", "--lrr", "1"], "charnn: unknown option '--lrr', did you mean --lr? (see charnn train --help)"],
    [["sample", "--bogus"], "charnn: unknown option '--bogus' (see charnn sample --help)"],
    [["trian"], "charnn: unknown command 'trian', did you mean train?"],
    // `charnn train` with no text is the run's usage error (with --resume it takes the recorded text).
    [["eval"], "charnn: missing required argument 'FILE'"],
    [["sample", "extra"], "charnn: too many arguments for 'sample'. Expected 0 arguments but got 1."],
    [["train", "in.txt", "--lr"], "charnn: option '--lr <rate>' argument missing"],
    [["train", "in.txt", "--lr", "abc"], 'charnn: --lr must be a number (got "abc")'],
    [["train", "in.txt", "--lr", "1e-3x"], 'charnn: --lr must be a number (got "1e-3x")'],
    [["train", "in.txt", "--lr", "0"], "charnn: --lr must be more than 0 (got 0)"],
    [["train", "in.txt", "--layers", "2.5"], "charnn: --layers must be a whole number (got 2.5)"],
    [["train", "in.txt", "--batch", "-1"], "charnn: --batch must be between 1 and 100000 (got -1)"],
    [["train", "in.txt", "--dropout", "1.5"], "charnn: --dropout must be at least 0 and below 1 (got 1.5)"],
    [["train", "in.txt", "--model", "transformer"], 'charnn: --model must be one of rnn, lstm, gru (got "transformer")'],
    [["train", "in.txt", "--time", "10"], 'charnn: --time must be a duration such as 90s, 10m or 1h30m (got "10")'],
    [["train", "in.txt", "--checkpoint-every", "soon"], 'charnn: --checkpoint-every must be a step count (1000) or a duration (5m) (got "soon")'],
    [["sample", "--temp", "-1"], "charnn: --temp must be at least 0 (got -1)"],
    [["sample", "--top-p", "0"], "charnn: --top-p must be more than 0 and at most 1 (got 0)"],
    [["sample", "-n", "ten"], 'charnn: --length must be a number (got "ten")'],
    [["sample", "--seed", "1.5"], "charnn: --seed must be a whole number (got 1.5)"],
    [["sample", "--unknown", "ignore"], 'charnn: --unknown must be one of error, skip (got "ignore")'],
  ])("%j", async (argv, message) => {
    const { handlers, calls } = recordingHandlers();
    const { code, stdout, stderr } = await run(argv, handlers);
    expect(code).toBe(ExitCode.usage);
    expect(stdout).toBe("");
    // Usage errors with a hint carry a second "hint:" line; these have none.
    expect(lines(stderr)).toEqual([message]);
    expect(calls).toEqual({});
  });

  it.each([
    [
      ["sample", "--prime", "a", "--prime-file", "b.txt"],
      "charnn: --prime and --prime-file cannot be used together",
      "hint: give the prime text one way or the other",
    ],
    [
      ["train", "in.txt", "--epochs", "0"],
      "charnn: training would never stop: set --epochs, --steps or --time",
      "hint: --epochs 0 and --steps 0 mean no limit, so one of the three must be set",
    ],
  ])("a usage error with a hint prints it on a second line: %j", async (argv, message, hint) => {
    const { handlers, calls } = recordingHandlers();
    const { code, stdout, stderr } = await run(argv, handlers);
    expect(code).toBe(ExitCode.usage);
    expect(stdout).toBe("");
    expect(lines(stderr)).toEqual([message, hint]);
    expect(calls).toEqual({});
  });
});

describe("--config", () => {
  function configFile(content: string): { dir: string; name: string } {
    const dir = mkdtempSync(join(tmpdir(), "charnn-config-"));
    writeFileSync(join(dir, "run.json"), content);
    return { dir, name: "run.json" };
  }

  it("is read relative to the working directory; only typed flags override it", async () => {
    const { dir } = configFile(JSON.stringify({ hidden: 256, layers: 3, lr: 0.01, steps: 500 }));
    const { handlers, calls } = recordingHandlers();
    const { code, stderr } = await run(["train", "a.txt", "b.txt", "--config", "run.json", "--layers", "4"], handlers, {
      cwd: dir,
    });
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(calls.train?.inputs).toEqual(["a.txt", "b.txt"]);
    expect(calls.train?.config).toMatchObject({ hidden: 256, layers: 4, lr: 0.01, steps: 500, epochs: 0, batch: 32 });
  });

  it("an unknown key is a usage error naming the file and suggesting the key", async () => {
    const { dir } = configFile(JSON.stringify({ hiden: 256 }));
    const { handlers, calls } = recordingHandlers();
    const { code, stderr } = await run(["train", "a.txt", "--config", "run.json"], handlers, { cwd: dir });
    expect(code).toBe(ExitCode.usage);
    expect(lines(stderr)).toEqual(['charnn: unknown key "hiden" in run.json (did you mean "hidden"?)']);
    expect(calls.train).toBeUndefined();
  });

  it("invalid JSON is a usage error naming the file", async () => {
    const { dir } = configFile("{ hidden: 256 ");
    const { code, stderr } = await run(["train", "a.txt", "--config", "run.json"], {}, { cwd: dir });
    expect(code).toBe(ExitCode.usage);
    expect(stderr).toMatch(/^charnn: config file run\.json is not valid JSON: .+\n$/);
  });

  it("a missing file is a usage error naming the file", async () => {
    const { code, stderr } = await run(["train", "a.txt", "--config", "absent.json"], {}, { cwd: tmpdir() });
    expect(code).toBe(ExitCode.usage);
    expect(stderr).toBe("charnn: cannot read config file absent.json: no such file\n");
  });
});

describe("dispatch", () => {
  it("train gets the resolved config, the inputs, and its exit code is main's", async () => {
    const { handlers, calls } = recordingHandlers(ExitCode.diverged);
    const { code } = await run(
      ["train", "-", "--model", "gru", "--lr", "1e-3", "--time", "1h30m", "--checkpoint-every", "5m", "--json"],
      handlers,
    );
    expect(code).toBe(ExitCode.diverged);
    expect(calls.train?.inputs).toEqual(["-"]);
    expect(calls.train?.config).toEqual({
      ...TRAIN_DEFAULTS,
      model: "gru",
      lr: 1e-3,
      time: 5_400_000,
      epochs: 0,
      checkpointEvery: { ms: 300_000 },
      json: true,
    });
  });

  it("sample gets its options, with --no-echo and seed 0", async () => {
    const { handlers, calls } = recordingHandlers();
    const { code } = await run(["sample", "-c", "run/latest.json", "-n", "100", "--temp", "0", "--no-echo", "--seed", "0", "--stop", "\n\n"], handlers);
    expect(code).toBe(0);
    expect(calls.sample).toMatchObject({
      checkpoint: "run/latest.json",
      length: 100,
      temp: 0,
      echo: false,
      seed: 0,
      stop: "\n\n",
      topK: 0,
      count: 1,
    });
  });

  it("eval gets its files and options", async () => {
    const { handlers, calls } = recordingHandlers();
    await run(["eval", "a.txt", "-", "--best", "--per-line"], handlers);
    expect(calls.eval).toEqual({
      options: { checkpoint: "checkpoints/latest.json", best: true, json: false, perLine: true, quiet: false },
      inputs: ["a.txt", "-"],
    });
  });

  it("info defaults to checkpoints/latest.json and takes a positional checkpoint", async () => {
    const { handlers, calls } = recordingHandlers();
    await run(["info"], handlers);
    expect(calls.info).toEqual({ checkpoint: "checkpoints/latest.json", best: false, json: false, plot: null, logScale: false, quiet: false });
    await run(["info", "run/best.json", "--json"], handlers);
    expect(calls.info).toEqual({ checkpoint: "run/best.json", best: false, json: true, plot: null, logScale: false, quiet: false });
    await run(["info", "-c", "run", "--best"], handlers);
    expect(calls.info).toEqual({ checkpoint: "run", best: true, json: false, plot: null, logScale: false, quiet: false });
    await run(["info", "-q"], handlers);
    expect(calls.info).toMatchObject({ quiet: true });
  });
});

describe("errors from a command become exit codes in one place", () => {
  it("a CharnnError gives its message, its hint and its exit code", async () => {
    const { code, stdout, stderr } = await run(["info"], {
      info: async () => {
        throw new CharnnError("checkpoint run/latest.json is damaged", ExitCode.badInput, "train again with --resume off");
      },
    });
    expect(code).toBe(ExitCode.badInput);
    expect(stdout).toBe("");
    expect(lines(stderr)).toEqual(["charnn: checkpoint run/latest.json is damaged", "hint: train again with --resume off"]);
  });

  it("an unexpected error exits 1 with one message and no stack", async () => {
    const { code, stderr } = await run(["info"], {
      info: async () => {
        throw new TypeError("cannot read properties of undefined");
      },
    });
    expect(code).toBe(ExitCode.failure);
    expect(lines(stderr)).toEqual([
      "charnn: unexpected error: cannot read properties of undefined",
      "(set CHARNN_DEBUG=1 for the stack trace)",
    ]);
    expect(stderr).not.toMatch(/^\s+at /m);
  });

  it("CHARNN_DEBUG=1 adds the stack", async () => {
    const { code, stderr } = await run(
      ["info"],
      {
        info: async () => {
          throw new Error("boom");
        },
      },
      { env: { CHARNN_DEBUG: "1" } },
    );
    expect(code).toBe(ExitCode.failure);
    expect(stderr).toContain("charnn: unexpected error: boom\n");
    expect(stderr).toMatch(/^\s+at /m);
    expect(stderr).not.toContain("set CHARNN_DEBUG=1");
  });

  it("something thrown that is not an Error is still reported", async () => {
    const { code, stderr } = await run(["info"], {
      info: async () => {
        throw "a string";
      },
    });
    expect(code).toBe(ExitCode.failure);
    expect(lines(stderr)[0]).toBe("charnn: unexpected error: a string");
  });

  it("a reader that went away (EPIPE) is success, not an error", async () => {
    const captured = createTestIO();
    captured.io.stdout = closedPipe();
    let linesWritten = 0;
    const code = await main(["sample"], captured.io, {
      sample: async (_options, io: CliIO) => {
        for (;;) {
          await writeOut(io, "some sampled text\n");
          linesWritten += 1;
          if (linesWritten > 1000) return ExitCode.failure; // writeOut never noticed
        }
      },
    });
    expect(code).toBe(ExitCode.ok);
    expect(captured.stderr()).toBe("");
    expect(linesWritten).toBe(0);
  });

  it("the built-in command bodies are loaded and run when no handler is given", async () => {
    // The placeholders (until the real commands land) throw a CharnnError with exit code 1;
    // either way, this checks main reaches the module and maps what comes back.
    const { code, stderr } = await run(["info", "/nonexistent/charnn-test.json"]);
    expect(code).not.toBe(ExitCode.ok);
    expect(code).not.toBe(ExitCode.usage);
    expect(stderr).toMatch(/^charnn: /);
  });
});
