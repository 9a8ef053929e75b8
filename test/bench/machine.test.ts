// Reading the CPU model out of /proc/cpuinfo text, and the revision out of git's output.

import { describe, expect, it } from "vitest";
import { cpuModelFrom, revisionFrom } from "../../bench/machine.js";

describe("cpuModelFrom", () => {
  it("takes the first model name, spaces collapsed", () => {
    const cpuinfo = [
      "processor\t: 0", "vendor_id\t: AuthenticAMD", "model name\t: AMD EPYC   9R14 96-Core Processor", "",
      "processor\t: 1", "model name\t: Something Else",
    ].join("\n");
    expect(cpuModelFrom(cpuinfo)).toBe("AMD EPYC 9R14 96-Core Processor");
  });

  it("is null when there is no model name (some ARM kernels)", () => {
    expect(cpuModelFrom("processor\t: 0\nBogoMIPS\t: 50.00\n")).toBeNull();
  });
});

describe("revisionFrom", () => {
  it("is the commit when the tree is clean, or only the bench's own outputs changed", () => {
    expect(revisionFrom("6cfba80\n", "")).toBe("6cfba80");
    expect(revisionFrom("6cfba80\n", " M BENCHMARKS.md\n M README.md\n")).toBe("6cfba80");
  });

  it("marks uncommitted source changes with their count", () => {
    expect(revisionFrom("6cfba80\n", " M src/cli/backend.ts\n?? src/wasm/\n M BENCHMARKS.md\n")).toBe("6cfba80 with uncommitted changes (2 paths)");
    expect(revisionFrom("6cfba80", "?? assembly/\n")).toBe("6cfba80 with uncommitted changes (1 path)");
  });

  it("is null when git printed no commit", () => {
    expect(revisionFrom("", "")).toBeNull();
    expect(revisionFrom("fatal: not a git repository", "")).toBeNull();
  });
});
