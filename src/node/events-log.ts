// The run folder's event log: training events (schema 1, as --json prints them, with a `time`)
// appended to OUT/events.ndjson so a page can follow the run. Bounded so a long run cannot fill
// a disk: past `maxBytes` the file becomes events.1.ndjson (the one before is dropped), and past
// `thinAfter` step events in a file only every 2nd, then 4th, ... step is written. Checkpoints
// stay the source of truth; a log that cannot be written is given up with one warning.
// Not here: the events themselves (src/core/train/events.ts) or reading the log (src/node/serve/).

import { appendFileSync, mkdirSync, renameSync, statSync } from "node:fs";
import path from "node:path";
import type { TrainEvent } from "../core/train/events.js";

export const EVENTS_FILE = "events.ndjson";
export const ROTATED_EVENTS_FILE = "events.1.ndjson";

export interface EventLogOptions {
  /** Size at which the log is rotated. Default 8 MiB (so the folder holds at most about twice it). */
  maxBytes?: number;
  /** Step events written in one file before steps are thinned. Default 5000. */
  thinAfter?: number;
  /** Called once if the log cannot be written (the run goes on without it). */
  onFailure?: (message: string) => void;
  now?: () => Date;
}

export interface EventLog {
  write(event: TrainEvent): void;
}

/**
 * A sink for a run's events in `folder`. Events before the run's start event (warnings while the
 * run is being set up) are held back and written with it, so a run that never starts (a dry run,
 * a refused resume) leaves no log behind.
 */
export function eventLog(folder: string, options: EventLogOptions = {}): EventLog {
  const maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
  const thinAfter = options.thinAfter ?? 5000;
  const now = options.now ?? (() => new Date());
  const file = path.join(folder, EVENTS_FILE);
  let held: string[] | null = [];
  let size = 0;
  let stepsInFile = 0;
  let stepsSeen = 0;
  let failed = false;

  const rotate = () => {
    renameSync(file, path.join(folder, ROTATED_EVENTS_FILE));
    size = 0;
    stepsInFile = 0;
  };

  const append = (line: string) => {
    if (size > 0 && size + Buffer.byteLength(line) > maxBytes) rotate();
    appendFileSync(file, line);
    size += Buffer.byteLength(line);
  };

  const open = () => {
    mkdirSync(folder, { recursive: true });
    try {
      size = statSync(file).size;
    } catch {
      size = 0;
    }
    // A resumed run appends; a log already past its bound is rotated first.
    if (size >= maxBytes) rotate();
  };

  return {
    write(event) {
      if (failed) return;
      const line = JSON.stringify({ ...event, time: now().toISOString() }) + "\n";
      if (held !== null) {
        held.push(line);
        if (event.type !== "start") return;
      }
      try {
        if (held !== null) {
          open();
          for (const waiting of held) append(waiting);
          held = null;
          return;
        }
        if (event.type === "step") {
          // Thinned by halves: the whole run stays on the curve at a coarser grain.
          const stride = 2 ** Math.floor(stepsInFile / thinAfter);
          if (stepsSeen++ % stride !== 0) return;
          stepsInFile++;
        }
        append(line);
      } catch (error) {
        failed = true;
        options.onFailure?.(`cannot write ${file} (${(error as Error).message}); the run goes on without an event log`);
      }
    },
  };
}
