// Reading the CPU model out of /proc/cpuinfo text.

import { describe, expect, it } from "vitest";
import { cpuModelFrom } from "../../src/bench/machine.js";

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
