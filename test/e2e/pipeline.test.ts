// End-to-end: the built binary (bin/charnn.js over dist/) in real shell pipelines, with stdout,
// stderr and the exit code checked separately: `sample | head -c 100` ends quietly with exit 0,
// eval reads stdin and feeds `sort`, and errors give their exit codes with nothing on stdout.
// The corpora are ASCII, so `head -c` bytes are characters.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const charnn = `node ${JSON.stringify(join(root, "bin", "charnn.js"))}`;
let dir: string;

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a bash command line with pipefail, so a pipeline's status is charnn's when it fails. */
function shell(script: string, timeoutMs = 30_000): Promise<Finished> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn("bash", ["-c", `set -o pipefail; ${script}`], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "", stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`timed out after ${timeoutMs} ms: ${script}\n${stderr}`));
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** dist/ is stale when a source of these commands is newer than what was built from it. */
function distIsStale(): boolean {
  for (const folder of ["src/cli", "src/core/eval", "src/core/sample"]) {
    for (const name of readdirSync(join(root, folder))) {
      if (!name.endsWith(".ts")) continue;
      const built = join(root, "dist", folder.slice("src/".length), name.replace(/\.ts$/, ".js"));
      if (!existsSync(built) || statSync(built).mtimeMs < statSync(join(root, folder, name)).mtimeMs) return true;
    }
  }
  return false;
}

beforeAll(async () => {
  if (distIsStale()) {
    const build = spawnSync("npm", ["run", "build"], { cwd: root, encoding: "utf8" });
    if (build.status !== 0 || distIsStale()) throw new Error(`npm run build failed:\n${build.stdout}\n${build.stderr}`);
  }
  dir = await mkdtemp(join(tmpdir(), "charnn-pipeline-"));
  await writeFile(join(dir, "corpus.txt"), "the cat sat on the mat\nthe dog sat on the log\na cat and a dog\n".repeat(40));
  await writeFile(join(dir, "lines.txt"), "the cat sat\nzzzz qqqq\n\nthe dog sat on the log\n");
  const trained = await shell(`${charnn} train corpus.txt --out run --steps 20 --hidden 16 --layers 1 --batch 2 --seq-len 8`, 60_000);
  if (trained.code !== 0) throw new Error(`training the fixture failed: ${trained.stderr}`);
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("charnn sample in a pipeline", () => {
  it("`sample | head -c 100` gives exactly 100 bytes and exit 0", async () => {
    const { code, stdout, stderr } = await shell(`${charnn} sample -c run/latest.json --seed 1 | head -c 100`);
    expect(code).toBe(0);
    expect(Buffer.byteLength(stdout)).toBe(100);
    expect(stderr).toBe("");
  });

  it("stops soon after the reader goes away, even when asked for a million characters", async () => {
    const { code, stdout, stderr, ms } = await shell(`${charnn} sample -c run/latest.json --seed 2 -n 1000000 | head -c 100`);
    expect(code).toBe(0);
    expect(stdout).toHaveLength(100);
    expect(stderr).toBe("");
    // A million characters take minutes to generate; quitting at the closed pipe takes moments.
    expect(ms).toBeLessThan(20_000);
  });

  it("keeps the seed line on stderr and only the text on stdout", async () => {
    const { code, stdout, stderr } = await shell(`${charnn} sample -c run/latest.json -n 50`);
    expect(code).toBe(0);
    const seed = /^seed: (\d+) \(pass --seed \1 to repeat this sample\)\n$/.exec(stderr);
    expect(seed).not.toBeNull();
    expect(stdout).not.toContain("seed");
    expect([...stdout]).toHaveLength(51);
    const again = await shell(`${charnn} sample -c run/latest.json -n 50 --seed ${seed![1]}`);
    expect(again.stdout).toBe(stdout);
  });

  it("reads the prime from stdin", async () => {
    const { code, stdout } = await shell(`printf 'the dog ' | ${charnn} sample -c run/latest.json --prime - --seed 3 -n 20`);
    expect(code).toBe(0);
    expect(stdout.startsWith("the dog ")).toBe(true);
  });
});

describe("charnn eval in a pipeline", () => {
  it("`eval -c X - < file` prints one line on stdout and nothing on stderr", async () => {
    const { code, stdout, stderr } = await shell(`${charnn} eval -c run/latest.json - < corpus.txt`);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\d+\.\d{6} nats\/char {2}\d+\.\d{6} bits\/char {2}perplexity \d+\.\d{4} {2}2,479 characters predicted\n$/);
    expect(stderr).toBe("");
  });

  it("`eval --per-line - < lines | sort -rn | head` gives the highest-scoring lines", async () => {
    const all = await shell(`${charnn} eval -c run/latest.json --per-line - < lines.txt`);
    expect(all.code).toBe(0);
    const rows = all.stdout.trimEnd().split("\n");
    expect(rows.map((row) => row.split("\t")[1])).toEqual(["the cat sat", "zzzz qqqq", "", "the dog sat on the log"]);
    expect(rows[2]).toBe("-\t");
    // "zzzz qqqq" keeps only its space; the other characters are left out and reported.
    expect(all.stderr).toContain("left out 8 character(s) the model never saw");

    const { code, stdout } = await shell(`${charnn} eval -c run/latest.json --per-line - < lines.txt | sort -rn | head -n 2`);
    expect(code).toBe(0);
    const scored = rows.filter((row) => !row.startsWith("-")).sort((a, b) => Number(b.split("\t")[0]) - Number(a.split("\t")[0]));
    expect(stdout).toBe(scored.slice(0, 2).join("\n") + "\n");
  });
});

describe("exit codes", () => {
  it("a missing checkpoint: exit 3, the message on stderr, nothing on stdout", async () => {
    const { code, stdout, stderr } = await shell(`${charnn} sample -c nowhere.json`);
    expect(code).toBe(3);
    expect(stdout).toBe("");
    expect(stderr).toBe("charnn: no checkpoint at nowhere.json\nhint: a run here: charnn sample -c run\n");
  });

  it("a bad option combination: exit 2", async () => {
    const { code, stdout } = await shell(`${charnn} sample -c run/latest.json --temp 0 --top-p 0.5`);
    expect(code).toBe(2);
    expect(stdout).toBe("");
  });

  it("unknown prime characters: exit 3", async () => {
    const { code, stderr } = await shell(`${charnn} sample -c run/latest.json --prime 'Q!'`);
    expect(code).toBe(3);
    expect(stderr).toContain('the prime has 2 character(s) the model never saw: "!" (U+0021), "Q" (U+0051)');
  });

  it("info prints the report and exits 0", async () => {
    const { code, stdout, stderr } = await shell(`${charnn} info run/latest.json`);
    expect(code).toBe(0);
    expect(stdout).toContain("model      lstm, 1 layer(s) of 16 hidden units");
    expect(stderr).toBe("");
  });
});
