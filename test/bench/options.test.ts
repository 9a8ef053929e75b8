// The bench's argv: defaults, --quick, --full, --only and the strict rejection of anything else.

import { describe, expect, it } from "vitest";
import { parseBenchArgs } from "../../bench/options.js";
import { CharnnError, ExitCode } from "../../dist/core/errors.js";

function usageFailure(argv: string[]): CharnnError {
  try {
    parseBenchArgs(argv, 2);
  } catch (error) {
    expect(error).toBeInstanceOf(CharnnError);
    expect((error as CharnnError).exitCode).toBe(ExitCode.usage);
    return error as CharnnError;
  }
  throw new Error(`parseBenchArgs(${argv.join(" ")}) accepted its arguments`);
}

describe("parseBenchArgs", () => {
  it("runs everything by default: five workloads, js and wasm at 1 and all cores, peers with TF.js on C2", () => {
    const options = parseBenchArgs([], 2);
    expect(options.workloads).toEqual(["C1", "C2", "C3", "GRU", "RNN"]);
    expect(options.backends).toEqual(["js", "wasm", "wasm-relaxed"]);
    expect(options.threads).toEqual([1, 2]);
    expect(options).toMatchObject({ peers: true, tfjs: true, tfjsC3: false, windows: 3, sampleLength: 2000, startupRuns: 10, help: false });
  });

  it("leaves README.md alone unless --write-readme is given", () => {
    expect(parseBenchArgs([], 2).writeReadme).toBe(false);
    expect(parseBenchArgs(["--write-readme"], 2).writeReadme).toBe(true);
  });

  it("does not try one thread count twice on a one-core machine", () => {
    expect(parseBenchArgs([], 1).threads).toEqual([1]);
  });

  it("--quick: C1 and C2, one window, no TF.js", () => {
    const options = parseBenchArgs(["--quick"], 2);
    expect(options.workloads).toEqual(["C1", "C2"]);
    expect(options).toMatchObject({ windows: 1, tfjs: false, tfjsC3: false, peers: true });
    expect(options.numpyIters).toBeLessThan(parseBenchArgs([], 2).numpyIters);
  });

  it("--full adds TF.js on C3; --no-peers turns every peer off", () => {
    expect(parseBenchArgs(["--full"], 2)).toMatchObject({ tfjs: true, tfjsC3: true });
    expect(parseBenchArgs(["--full", "--no-peers"], 2)).toMatchObject({ peers: false, tfjs: false, tfjsC3: false });
  });

  it("--only picks workloads in any case and order, reported in the standard order", () => {
    expect(parseBenchArgs(["--only", "c3,C2"], 2).workloads).toEqual(["C2", "C3"]);
    expect(parseBenchArgs(["--only=gru"], 2).workloads).toEqual(["GRU"]);
    expect(parseBenchArgs(["--quick", "--only", "C3"], 2).workloads).toEqual(["C3"]);
  });

  it("--threads and --backends take lists, sorted and without repeats", () => {
    expect(parseBenchArgs(["--threads", "2,1,2"], 4).threads).toEqual([1, 2]);
    expect(parseBenchArgs(["--backends", "wasm"], 2).backends).toEqual(["wasm"]);
    expect(parseBenchArgs(["--backends", "wasm-relaxed,js"], 2).backends).toEqual(["wasm-relaxed", "js"]);
  });

  it("rejects unknown flags and values with a usage error that names them", () => {
    expect(usageFailure(["--fast"]).message).toContain("--fast");
    expect(usageFailure(["--only", "C4"]).message).toContain('"C4"');
    expect(usageFailure(["--only"]).message).toContain("--only needs a value");
    expect(usageFailure(["--threads", "0"]).message).toContain('"0"');
    expect(usageFailure(["--threads", "1.5"]).message).toContain('"1.5"');
    expect(usageFailure(["--backends", "gpu"]).message).toContain('"gpu"');
    expect(usageFailure(["--quick", "--full"]).message).toContain("cannot be used together");
  });

  it("--help is a request, not an error", () => {
    expect(parseBenchArgs(["--help"], 2).help).toBe(true);
    expect(parseBenchArgs(["-h"], 2).help).toBe(true);
  });
});
