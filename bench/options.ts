// The options of `npm run bench`, one typed object, and the strict parse of its argv. Pure: the
// run decides what to do with them. Unknown flags and values are usage errors, as in the CLI.

import { usageError } from "../dist/core/errors.js";
import { BENCH_BACKENDS, type BenchBackend } from "./variants.js";
import { WORKLOAD_IDS, type WorkloadId } from "./workloads.js";

export interface BenchOptions {
  /** Workloads to run, in the standard order. */
  workloads: WorkloadId[];
  /** Kernel backends to try; one that cannot be selected is skipped with a note. */
  backends: BenchBackend[];
  /** Thread counts to try per backend; counts a backend cannot run are skipped with a note. */
  threads: number[];
  peers: boolean;
  /** TensorFlow.js also on C3 (slow: about a minute per iteration). */
  tfjsC3: boolean;
  tfjs: boolean;
  /** Timed windows (training) and runs (sampling, eval, checkpoints) per measurement; the median is reported. */
  windows: number;
  /** Seconds one timed training or eval window should last; iterations are chosen to fit. */
  windowSeconds: number;
  /** Characters per sampling run (batch 1). */
  sampleLength: number;
  /** Whole-process runs of the CLI start-up measurement. */
  startupRuns: number;
  /** Iterations per timed window for the numpy peer (its own default is 2000). */
  numpyIters: number;
  /** Also refresh the bench block of README.md (between its bench markers); off unless asked. */
  writeReadme: boolean;
  help: boolean;
}

export const BENCH_USAGE = `Usage: npm run bench -- [options]

Measures charnn's training, sampling, eval, checkpoint and start-up speed on tiny-shakespeare,
and its peers (PyTorch, TensorFlow.js, numpy) in the same run; writes BENCHMARKS.md.

Options:
  --quick              C1 and C2 only, one window each, no TensorFlow.js (a few minutes)
  --full               also TensorFlow.js on C3 (slow)
  --only LIST          workloads to run, e.g. C2,C3 (of ${WORKLOAD_IDS.join(", ")})
  --no-peers           measure charnn only
  --backends LIST      kernel backends to try (default ${BENCH_BACKENDS.join(",")})
  --threads LIST       thread counts to try (default 1 and the number of cores)
  --write-readme       also refresh the results block in README.md
  -h, --help           show this help
`;

const parseList = (flag: string, value: string | undefined): string[] => {
  if (value === undefined || value.startsWith("-")) throw usageError(`${flag} needs a value`, `e.g. ${flag} ${flag === "--only" ? "C2,C3" : flag === "--threads" ? "1,2" : "js,wasm"}`);
  const items = value.split(",").map((item) => item.trim()).filter((item) => item.length > 0);
  if (items.length === 0) throw usageError(`${flag} needs at least one value`);
  return items;
};

/** Parses the bench's argv (after `--`); `cores` is the default largest thread count. */
export function parseBenchArgs(argv: readonly string[], cores: number): BenchOptions {
  let quick = false, full = false, peers = true, help = false, writeReadme = false;
  let only: WorkloadId[] | null = null;
  let backends: BenchOptions["backends"] = [...BENCH_BACKENDS];
  let threads: number[] | null = null;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case "--quick": quick = true; break;
      case "--full": full = true; break;
      case "--no-peers": peers = false; break;
      case "--write-readme": writeReadme = true; break;
      case "-h": case "--help": help = true; break;
      case "--only":
        only = parseList(flag, value()).map((name) => {
          const id = WORKLOAD_IDS.find((known) => known.toLowerCase() === name.toLowerCase());
          if (!id) throw usageError(`--only: unknown workload "${name}"`, `choose from ${WORKLOAD_IDS.join(", ")}`);
          return id;
        });
        break;
      case "--backends":
        backends = parseList(flag, value()).map((name) => {
          const backend = BENCH_BACKENDS.find((known) => known === name);
          if (!backend) throw usageError(`--backends: unknown backend "${name}"`, `choose from ${BENCH_BACKENDS.join(", ")}`);
          return backend;
        });
        break;
      case "--threads":
        threads = parseList(flag, value()).map((text) => {
          const count = Number(text);
          if (!Number.isInteger(count) || count < 1 || count > 256) throw usageError(`--threads: "${text}" is not a thread count`, "give whole numbers from 1, e.g. --threads 1,2");
          return count;
        });
        break;
      default:
        throw usageError(`unknown option ${arg}`, "npm run bench -- --help lists the options");
    }
  }
  if (quick && full) throw usageError("--quick and --full cannot be used together");

  const chosen = new Set<WorkloadId>(only ?? (quick ? ["C1", "C2"] : WORKLOAD_IDS));
  return {
    workloads: WORKLOAD_IDS.filter((id) => chosen.has(id)),
    backends: [...new Set(backends)],
    threads: [...new Set(threads ?? [1, Math.max(1, cores)])].sort((a, b) => a - b),
    peers,
    tfjs: peers && !quick,
    tfjsC3: peers && full,
    windows: quick ? 1 : 3,
    windowSeconds: quick ? 1 : 3,
    sampleLength: 2000,
    startupRuns: quick ? 5 : 10,
    numpyIters: quick ? 500 : 2000,
    writeReadme,
    help,
  };
}
