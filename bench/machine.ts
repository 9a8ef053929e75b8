// The machine and source a bench ran on, for the report's header: Node version, CPU model, core
// count, platform, how busy it was, and the git revision measured. The parsers are pure (tested
// on sample text); machineInfo and sourceRevision read the system.

import { spawnSync } from "node:child_process";
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

/**
 * The short commit, marked when the working tree differs from it: numbers from uncommitted code
 * cannot be reproduced from the commit alone. The bench's own outputs do not count as changes.
 */
export function revisionFrom(head: string, porcelain: string): string | null {
  const commit = head.trim();
  if (!/^[0-9a-f]{4,40}$/.test(commit)) return null;
  const ownOutputs = new Set(["BENCHMARKS.md", "README.md"]);
  const changed = porcelain.split("\n").filter((line) => line.trim().length > 0 && !ownOutputs.has(line.slice(3).trim()));
  return changed.length > 0 ? `${commit} with uncommitted changes (${changed.length} path${changed.length === 1 ? "" : "s"})` : commit;
}

/** The repository's revision, or null outside git. */
export function sourceRevision(repositoryRoot: string): string | null {
  const git = (args: string[]) => spawnSync("git", ["-C", repositoryRoot, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  const head = git(["rev-parse", "--short", "HEAD"]);
  if (head.status !== 0) return null;
  const status = git(["status", "--porcelain"]);
  return revisionFrom(head.stdout, status.status === 0 ? status.stdout : "");
}
