// Hardening (issue 6): SIGINT at a seeded random step (exit 130), SIGTERM inside a held checkpoint
// write (exit 143, the save completes) and SIGTERM in start-up, one after another on one run, on
// js, wasm and wasm with two threads. Each stop leaves a checkpoint at the step it reports and no
// lock; resumed after all three, the run equals the uninterrupted one bit for bit.

import { existsSync } from "node:fs";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCheckpointFile } from "../../src/node/store.js";
import { ExitCode } from "../../src/core/errors.js";
import { BACKENDS, charnn, ensureBuilt, eventOfType, freshFolder, generatedText, linesOf, seededUniform, sleep, spawnCharnn, trainingStateOf, type Finished } from "./helpers.js";

const STEPS = 300;
const RUN = [
  "train", "corpus.txt", "--hidden", "16", "--layers", "2", "--dropout", "0.1", "--batch", "2", "--seq-len", "8",
  "--steps", String(STEPS), "--checkpoint-every", "40", "--eval-every", "60", "--log-every", "1", "--json",
];

interface EndEvent {
  type: "end";
  step: number;
  reason: string;
}

/** The run's last stdout line, which must be its end event. */
function endOf(result: Finished): EndEvent {
  const last = JSON.parse(linesOf(result.stdout).at(-1)!) as EndEvent;
  expect(last.type).toBe("end");
  return last;
}

async function expectStoppedCleanly(folder: string, result: Finished, context: string): Promise<number> {
  const end = endOf(result);
  expect(end.reason, context).toBe("interrupted");
  // Only the command that continues the run.
  expect(result.stderr, context).toMatch(/^to continue this run: charnn train \S.* --resume\n$/);
  const latest = await loadCheckpointFile(join(folder, "latest.json"));
  expect(latest.step, `${context}: the checkpoint is at the step the run reports`).toBe(end.step);
  expect(existsSync(join(folder, ".lock")), context).toBe(false);
  expect((await readdir(folder)).filter((name) => name.endsWith(".tmp")), context).toEqual([]);
  return end.step;
}

beforeAll(() => ensureBuilt(), 120_000);

describe("SIGINT and SIGTERM: a checkpoint, the documented exit code, and an exact resume", () => {
  BACKENDS.forEach((backend, index) => {
    it(`${backend.name}: SIGINT at a random step, SIGTERM inside a held write, SIGTERM in start-up`, async () => {
      const cwd = await freshFolder("signals");
      await writeFile(join(cwd, "corpus.txt"), generatedText(12_000, 20 + index));
      const args = [...RUN, ...backend.args];
      const parts = join(cwd, "parts");
      const random = seededUniform(200 + index);
      const whole = charnn([...args, "--out", "whole"], { cwd });

      // SIGINT once the run reaches a random step.
      const target = 5 + Math.floor(random() * 100);
      const first = spawnCharnn([...args, "--out", "parts"], { cwd });
      await first.line((line) => eventOfType("step")(line) && (JSON.parse(line) as { step: number }).step >= target);
      first.child.kill("SIGINT");
      const interrupted = await first.done;
      expect(interrupted.code, interrupted.stderr).toBe(ExitCode.sigint);
      const stoppedAt = await expectStoppedCleanly(parts, interrupted, "SIGINT");
      expect(stoppedAt).toBeGreaterThanOrEqual(target);
      expect(interrupted.stdout).toMatch(/"type":"warning","time":"[^"]+",(?:"schema":1,)?"message":"SIGINT: finishing this step and saving a checkpoint/);

      // SIGTERM while the next cadence checkpoint waits, complete, for its rename.
      const second = spawnCharnn([...args, "--resume", "--out", "parts"], { cwd, env: { CHARNN_HOLD_WRITE_MS: "300" } });
      const deadline = Date.now() + 20_000;
      while (!(await readdir(parts)).some((name) => name.endsWith(".tmp") && name.includes(`.${second.child.pid}.`))) {
        if (Date.now() > deadline) throw new Error("no checkpoint write was seen");
        await sleep(2);
      }
      await sleep(random() * 100);
      second.child.kill("SIGTERM");
      const terminated = await second.done;
      expect(terminated.code, terminated.stderr).toBe(ExitCode.sigterm);
      const termAt = await expectStoppedCleanly(parts, terminated, "SIGTERM in a write");
      // The save in progress (a cadence one, or one for a new best at an evaluation) completed,
      // and no other was needed.
      expect(termAt % 40 === 0 || termAt % 60 === 0, `stopped at ${termAt}`).toBe(true);
      expect(termAt).toBeGreaterThan(stoppedAt);

      // SIGTERM at a random moment of start-up: before the handlers exist, node's default ends
      // the process by the signal (the shell's status is 143 all the same) and nothing was lost.
      const third = spawnCharnn([...args, "--resume", "--out", "parts"], { cwd });
      await sleep(random() * 200);
      third.child.kill("SIGTERM");
      const early = await third.done;
      expect(early.code === ExitCode.sigterm || early.signal === "SIGTERM", `${early.code} ${early.signal} ${early.stderr}`).toBe(true);
      expect((await loadCheckpointFile(join(parts, "latest.json"))).step).toBeGreaterThanOrEqual(termAt);

      const last = await charnn([...args, "--resume", "--out", "parts"], { cwd });
      expect(last.code, last.stderr).toBe(0);
      expect((await whole).code).toBe(0);
      expect(await trainingStateOf(join(parts, "latest.json"))).toEqual(await trainingStateOf(join(cwd, "whole", "latest.json")));
      expect((await loadCheckpointFile(join(parts, "latest.json"))).step).toBe(STEPS);
    }, 90_000);
  });
});
