// `charnn completion bash|zsh|fish`, tested by running the scripts in the real shells: bash with
// the script sourced and COMP_WORDS/COMP_CWORD set before calling its function; fish through
// `complete -C`; zsh through a pseudo-terminal (zsh/zpty) where Tab is typed after the line and
// every match compadd is given is recorded. zsh and fish tests skip, saying so, when the shell is
// not installed. The expected options and values are read from the settings table.

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { SETTINGS, flagName } from "../../src/core/settings.js";
import { createTestIO } from "./helpers.js";

let dir: string;
const scripts: Record<string, string> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "charnn-completion-"));
  // What file and folder completion should find: two folders and a file.
  await mkdir(join(dir, "corpora"));
  await mkdir(join(dir, "runs"));
  await writeFile(join(dir, "notes.txt"), "text\n");
  for (const shell of ["bash", "zsh", "fish"]) {
    const captured = createTestIO();
    expect(await main(["completion", shell], captured.io)).toBe(0);
    expect(captured.stderr()).toBe("");
    scripts[shell] = join(dir, `charnn.${shell}`);
    await writeFile(scripts[shell]!, captured.stdout());
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const quoted = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

/** The sorted COMPREPLY of each command line (the last word is the one being completed). */
function bashComplete(lines: string[][]): string[][] {
  const queries = lines.map((words) => `query ${words.map(quoted).join(" ")}`).join("\n");
  const program = `source ${quoted(scripts.bash!)}
query() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _charnn; printf '%s\\n' "\${COMPREPLY[@]}" | sort; echo '--end--'; }
${queries}`;
  const output = execFileSync("bash", ["--norc", "--noprofile", "-c", program], { cwd: dir, encoding: "utf8" });
  return output.split("--end--\n").slice(0, lines.length).map((block) => block.split("\n").filter(Boolean));
}

const completeOne = (words: string[]) => bashComplete([words])[0]!;

/** The visible spellings of a settings table's keys, as commander declares them. */
function flagsOf(table: Record<string, { rule: { kind: string }; default: unknown; short?: string }>): string[] {
  return Object.entries(table).flatMap(([key, described]) => {
    const long = flagName(key);
    if (described.rule.kind === "boolean" && described.default === true) return [`--no-${long.slice(2)}`];
    return described.short === undefined ? [long] : [long, `-${described.short}`];
  });
}

describe("charnn completion", () => {
  it("refuses a shell it does not know, naming the choices", async () => {
    const captured = createTestIO();
    expect(await main(["completion", "tcsh"], captured.io)).toBe(2);
    expect(captured.stderr()).toMatch(/bash, zsh, fish/);
  });
});

describe("bash", () => {
  it("completes the command names, completion and help included", async () => {
    const captured = createTestIO();
    await main(["--help"], captured.io);
    const listed = [...captured.stdout().split("Commands:")[1]!.matchAll(/^ {2}(\w+)/gm)].map((match) => match[1]!);
    expect(listed).toEqual(expect.arrayContaining(["train", "sample", "eval", "info", "viz", "export", "import", "completion", "help"]));
    expect(completeOne(["charnn", ""])).toEqual(listed.sort());
    expect(completeOne(["charnn", "s"])).toEqual(["sample"]);
    expect(completeOne(["charnn", "help", "tr"])).toEqual(["train"]);
  });

  it("offers every option of the settings table, long and short, for each command", () => {
    const commands = ["train", "sample", "eval", "info"] as const;
    const menus = bashComplete(commands.map((command) => ["charnn", command, "-"]));
    commands.forEach((command, index) => {
      expect(menus[index], command).toEqual(expect.arrayContaining([...flagsOf(SETTINGS[command]), "--help", "-h"]));
    });
    expect(completeOne(["charnn", "train", "--mod"])).toEqual(["--model"]);
  });

  it("leaves hidden alias spellings out of the menu, but knows they take a value", () => {
    expect(completeOne(["charnn", "sample", "--temp"])).toEqual(["--temp"]);
    expect(completeOne(["charnn", "sample", "--temperature", ""])).toEqual([]);
  });

  it("completes the values of every enumerated setting, also after --flag=", () => {
    const choices = Object.entries(SETTINGS).flatMap(([command, table]) =>
      Object.entries(table as Record<string, { rule: { kind: string; values?: readonly string[] } }>)
        .filter(([, described]) => described.rule.kind === "choice")
        .map(([key, described]) => ({ command, flag: flagName(key), values: [...described.rule.values!].sort() })),
    );
    expect(choices.map((choice) => choice.flag)).toEqual(expect.arrayContaining(["--model", "--optimizer", "--backend", "--unknown"]));
    const replies = bashComplete(choices.map(({ command, flag }) => ["charnn", command, flag, ""]));
    choices.forEach((choice, index) => expect(replies[index], choice.flag).toEqual(choice.values));
    expect(completeOne(["charnn", "train", "--model", "=", ""])).toEqual(["gru", "lstm", "rnn"]);
    expect(completeOne(["charnn", "train", "--model", "=", "l"])).toEqual(["lstm"]);
    expect(completeOne(["charnn", "viz", "--state", ""])).toEqual(["c", "h"]);
    expect(completeOne(["charnn", "completion", ""])).toEqual(["bash", "fish", "zsh"]);
  });

  it("completes files for file arguments, folders for --out, and nothing for a number", () => {
    expect(completeOne(["charnn", "train", ""])).toEqual(["charnn.bash", "charnn.fish", "charnn.zsh", "corpora", "notes.txt", "runs"]);
    expect(completeOne(["charnn", "sample", "-c", "r"])).toEqual(["runs"]);
    expect(completeOne(["charnn", "train", "notes.txt", "--val-file", "no"])).toEqual(["notes.txt"]);
    expect(completeOne(["charnn", "train", "-o", ""])).toEqual(["corpora", "runs"]);
    expect(completeOne(["charnn", "train", "--layers", ""])).toEqual([]);
  });
});

const fish = "/usr/bin/fish";
describe.skipIf(!existsSync(fish))(`fish (skipped when ${fish} is absent)`, () => {
  /** The candidates `complete -C` prints for each line, without their descriptions, sorted. */
  function fishComplete(lines: string[]): string[][] {
    const program = [`source ${quoted(scripts.fish!)}`, ...lines.map((line) => `complete -C${quoted(line)}; echo --end--`)].join("\n");
    const output = execFileSync(fish, ["--no-config", "-c", program], { cwd: dir, encoding: "utf8" });
    return output
      .split("--end--\n")
      .slice(0, lines.length)
      .map((block) => block.split("\n").filter(Boolean).map((line) => line.split("\t")[0]!).sort());
  }

  it("completes commands, options with their values, and files", () => {
    const [commands, model, values, files, checkpoint, menu, shells] = fishComplete([
      "charnn ",
      "charnn train --mod",
      "charnn train --model ",
      "charnn train no",
      "charnn sample -c ru",
      "charnn sample --",
      "charnn completion ",
    ]);
    expect(commands).toEqual(expect.arrayContaining(["train", "sample", "eval", "info", "viz", "export", "import", "completion"]));
    expect(model).toEqual(["--model"]);
    expect(values).toEqual(["gru", "lstm", "rnn"]);
    expect(files).toEqual(["notes.txt"]);
    expect(checkpoint).toEqual(["runs/"]);
    expect(menu).toEqual(expect.arrayContaining(flagsOf(SETTINGS.sample).filter((flag) => flag.startsWith("--"))));
    expect(menu).not.toContain("--temperature");
    expect(shells).toEqual(["bash", "fish", "zsh"]);
  });
});

const zsh = "/usr/bin/zsh";
describe.skipIf(!existsSync(zsh))(`zsh (skipped when ${zsh} is absent)`, () => {
  // Starts an interactive zsh on a pseudo-terminal, loads compinit and the script, wraps compadd
  // so each match offered is appended to a file, types the line and a Tab, and waits for matches.
  const harness = `
zmodload zsh/zpty
script=$1 line=$2 out=$3
rm -f $out $out.ready
zpty z zsh -f -i
zpty -w z "autoload -U compinit && compinit -u && source \${(q)script}"
zpty -w z "compadd() { if (( \\\${@[(I)-[OAD]]} )); then builtin compadd \\"\\$@\\"; return; fi; local -a hits; builtin compadd -O hits \\"\\$@\\"; print -rl -- \\$hits >> \${(q)out}; builtin compadd \\"\\$@\\"; }"
zpty -w z "print -r -- ready > \${(q)out}.ready"
for i in {1..100}; do [[ -s $out.ready ]] && break; sleep 0.05; done
zpty -w -n z "$line"$'\\t'
for i in {1..60}; do [[ -s $out ]] && break; sleep 0.05; done
sleep 0.2
zpty -d z
`;

  async function zshComplete(line: string): Promise<string[]> {
    const harnessFile = join(dir, "harness.zsh");
    await writeFile(harnessFile, harness);
    const out = join(dir, "zsh-matches");
    execFileSync(zsh, ["-f", harnessFile, scripts.zsh!, line, out], { cwd: dir, encoding: "utf8" });
    const { readFileSync } = await import("node:fs");
    return existsSync(out) ? [...new Set(readFileSync(out, "utf8").split("\n").filter(Boolean))].sort() : [];
  }

  it("loads under compinit without an error", () => {
    const output = execFileSync(zsh, ["-f", "-c", `autoload -U compinit; compinit -u; source ${quoted(scripts.zsh!)} && print -r -- \${_comps[charnn]}`], {
      cwd: dir,
      encoding: "utf8",
    });
    expect(output.trim()).toBe("_charnn");
  });

  it("completes commands, options, the values of an enumerated option, and files", async () => {
    expect(await zshComplete("charnn ")).toEqual(expect.arrayContaining(["train", "sample", "eval", "completion"]));
    expect(await zshComplete("charnn train --mo")).toEqual(["--model", "--momentum"]);
    expect(await zshComplete("charnn train --model ")).toEqual(["gru", "lstm", "rnn"]);
    expect(await zshComplete("charnn sample --unknown=")).toEqual(["error", "skip"]);
    expect(await zshComplete("charnn eval no")).toEqual(["notes.txt"]);
  });
});
