// The machine a bench ran on, for the report's header: Node version, CPU model, core count,
// platform and how busy it was. cpuModelFrom is pure (tested on /proc/cpuinfo text); machineInfo reads the system.

import { readFileSync } from "node:fs";
import os from "node:os";
import type { MachineInfo } from "./report.js";

/** The first "model name" in /proc/cpuinfo text, whitespace collapsed; null when there is none. */
export function cpuModelFrom(cpuinfo: string): string | null {
  for (const line of cpuinfo.split("\n")) {
    const match = /^model name\s*:\s*(.+)$/.exec(line);
    if (match) return match[1]!.trim().replace(/\s+/g, " ");
  }
  return null;
}

export function machineInfo(): MachineInfo {
  let cpu: string | null = null;
  try {
    cpu = cpuModelFrom(readFileSync("/proc/cpuinfo", "utf8"));
  } catch {
    // Not Linux: os.cpus() knows the model too.
  }
  return {
    node: process.version,
    cpu: cpu ?? os.cpus()[0]?.model.trim() ?? "unknown CPU",
    cores: os.availableParallelism(),
    platform: `${process.platform}-${process.arch}`,
    loadAverage: os.loadavg()[0] ?? 0,
  };
}
