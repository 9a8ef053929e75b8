// Hardening (issue 6): SIGKILL at 20 seeded random moments of one training run — in start-up, at a
// random step, inside checkpoint writes held open by CHARNN_HOLD_WRITE_MS — on js, wasm and wasm
// with two threads. After every kill each checkpoint in the folder loads; --resume takes over the
// dead run's lock, and the run finished in 21 pieces equals the uninterrupted one bit for bit.

import { existsSync } from "node:fs";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCheckpointFile } from "../../src/node/store.js";
import {
  BACKENDS,
  charnn,
  ensureBuilt,
  eventOfType,
  freshFolder,
  generatedText,
  seededUniform,
  sleep,
  spawnCharnn,
  trainingStateOf,
} from "./helpers.js";

const KILLS = 20;
const STEPS = 700;
/** A kill at a random step lands at most this many steps after the last resumed one. */
const MAX_STEPS_PER_PIECE = 25;
const HOLD_MS = 150;

// Two layers with dropout, so the random stream (saved and restored) matters to every step.
const RUN = [
  "train", "corpus.txt", "--hidden", "16", "--layers", "2", "--dropout", "0.1", "--batch", "2", "--seq-len", "8",
  "--steps", String(STEPS), "--checkpoint-every", "5", "--eval-every", "50", "--keep", "2", "--log-every", "1", "--json",
];

type Moment = "start-up" | "a random step" | "inside a write";

/** Temporary checkpoint files in `folder`; with `pid`, only that writer's (their names hold it). */
const temporaryFiles = async (folder: string, pid?: number): Promise<string[]> =>
  existsSync(folder) ? (await readdir(folder)).filter((name) => name.endsWith(".tmp") && (pid === undefined || name.includes(`.${pid}.`))) : [];

/** Every checkpoint file in the folder loads and is checked against its config. */
async function expectAllCheckpointsLoad(folder: string, context: string): Promise<number | null> {
  if (!existsSync(folder)) return null;
  let latestStep: number | null = null;
  for (const name of (await readdir(folder)).filter((n) => n.endsWith(".json"))) {
    const state = await loadCheckpointFile(join(folder, name)).catch((error: Error) => {
      throw new Error(`${context}: ${name} does not load: ${error.message}`);
    });
    if (name === "latest.json") latestStep = state.step;
  }
  return latestStep;
}

beforeAll(() => ensureBuilt(), 120_000);

describe("SIGKILL at 20 seeded random moments, then --resume", () => {
  BACKENDS.forEach((backend, index) => {
    it(`${backend.name}: every checkpoint loads after each kill, and the resumed run equals the uninterrupted one bit for bit`, async () => {
      const cwd = await freshFolder("kill");
      await writeFile(join(cwd, "corpus.txt"), generatedText(20_000, 3 + index));
      const args = [...RUN, ...backend.args];
      const whole = charnn([...args, "--out", "whole"], { cwd });

      const random = seededUniform(100 + index);
      const parts = join(cwd, "parts");
      const moments: Record<Moment, number> = { "start-up": 0, "a random step": 0, "inside a write": 0 };
      let killedInsideWrite = 0;
      let resumedFrom = 0;

      for (let kill = 0; kill < KILLS; kill++) {
        const pick = random();
        const moment: Moment = pick < 0.2 ? "start-up" : pick < 0.6 ? "a random step" : "inside a write";
        const env: Record<string, string> = moment === "inside a write" ? { CHARNN_HOLD_WRITE_MS: String(HOLD_MS) } : {};
        const running = spawnCharnn([...args, "--resume", "--out", "parts"], { cwd, env });
        const context = `${backend.name}, kill ${kill + 1} (${moment})`;

        if (moment === "start-up") {
          await sleep(random() * 250);
        } else if (moment === "a random step") {
          const target = resumedFrom + 1 + Math.floor(random() * MAX_STEPS_PER_PIECE);
          await running.line((line) => eventOfType("step")(line) && (JSON.parse(line) as { step: number }).step >= target);
          await sleep(random() * 2);
        } else {
          // Wait until a complete temporary file of the numbered checkpoint or of latest.json
          // (seeded choice) waits for its rename, then kill at a random moment of that hold.
          const file = random() < 0.5 ? ".ckpt-" : ".latest.json.";
          const deadline = Date.now() + 20_000;
          while (!(await temporaryFiles(parts, running.child.pid)).some((name) => name.startsWith(file))) {
            if (Date.now() > deadline) throw new Error(`${context}: no write of ${file} was seen`);
            await sleep(2);
          }
          await sleep(random() * HOLD_MS * 0.7);
        }
        const insideWrite = (await temporaryFiles(parts, running.child.pid)).length > 0;
        running.child.kill("SIGKILL");
        const ended = await running.done;
        expect(ended.signal, `${context}: the run ended before the kill\n${ended.stderr}`).toBe("SIGKILL");
        moments[moment]++;
        if (moment === "inside a write" && insideWrite) killedInsideWrite++;

        const latest = await expectAllCheckpointsLoad(parts, context);
        if (latest !== null) {
          expect(latest, context).toBeGreaterThanOrEqual(resumedFrom);
          resumedFrom = latest;
        }
      }

      // The 21st piece runs to the end: the dead run's lock and temporary files are no obstacle.
      const last = await charnn([...args, "--resume", "--out", "parts"], { cwd });
      expect(last.code, last.stderr).toBe(0);
      expect((await whole).code).toBe(0);
      expect(await trainingStateOf(join(parts, "latest.json"))).toEqual(await trainingStateOf(join(cwd, "whole", "latest.json")));
      expect((await loadCheckpointFile(join(parts, "latest.json"))).step).toBe(STEPS);
      expect(await temporaryFiles(parts)).toEqual([]);
      expect(existsSync(join(parts, ".lock"))).toBe(false);

      // The checkpoint says what it was trained on: the backend and the thread count asked for.
      const runtime = (await loadCheckpointFile(join(parts, "latest.json"))).runtime;
      // The relaxed build is the wasm backend's fused variant: the record names both.
      const asked = backend.args[1];
      expect(runtime.backend).toBe(asked === "wasm-relaxed" ? "wasm" : asked);
      expect(runtime.variant).toBe(asked);
      expect(runtime.threads).toBe(backend.args.includes("--threads") ? Number(backend.args.at(-1)) : 1);

      // The seeded moments cover all three kinds, and several kills landed inside a write.
      expect(Object.values(moments).reduce((a, b) => a + b, 0)).toBe(KILLS);
      for (const count of Object.values(moments)) expect(count).toBeGreaterThan(0);
      // (A kill that the machine's load delays past the hold falls just after the rename.)
      expect(killedInsideWrite).toBeGreaterThanOrEqual(Math.max(4, Math.ceil(moments["inside a write"] / 2)));
      expect(resumedFrom).toBeGreaterThanOrEqual(40);
    }, 120_000);
  });
});
