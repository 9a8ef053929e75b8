// Every command's --help at 60 and 100 columns: no line runs past the width, and each ends with
// an Examples block whose commands the real program parses (command bodies replaced by recorders,
// so an example that names a flag the command lacks, or a bad value, fails here).
// Also the layout rules of src/cli/help.ts on their own.

import { describe, expect, it } from "vitest";
import { main, type CommandHandlers } from "../../src/cli/main.js";
import { wrapHelpText } from "../../src/cli/help.js";
import { createTestIO } from "./helpers.js";

/** Every command main registers, read from `charnn --help` so a new one is checked too. */
async function commandNames(): Promise<string[]> {
  const captured = createTestIO();
  await main(["--help"], captured.io);
  const list = captured.stdout().split("Commands:")[1]!;
  return [...list.matchAll(/^ {2}(\w+)/gm)].map((match) => match[1]!).filter((name) => name !== "help");
}

async function helpAt(command: string, columns: number): Promise<string> {
  const captured = createTestIO();
  (captured.io.stdout as unknown as { columns: number }).columns = columns;
  expect(await main([command, "--help"], captured.io)).toBe(0);
  return captured.stdout();
}

/** The Examples block's commands, continuation lines joined, as they would be pasted. */
function examplesOf(help: string): string[] {
  const block = help.split(/^Examples:$/m)[1];
  if (block === undefined) return [];
  const joined = block.replace(/ \\\n\s*/g, " ");
  return joined
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

/** The words after `charnn` in a shell line, up to a pipe, redirection or closing parenthesis. */
function charnnWords(line: string): string[] {
  const start = line.indexOf("charnn ");
  expect(start, `example runs charnn: ${line}`).toBeGreaterThanOrEqual(0);
  const words: string[] = [];
  let word: string | null = null;
  let quote: string | null = null;
  for (const char of line.slice(start + "charnn ".length)) {
    if (quote !== null) {
      if (char === quote) quote = null;
      else word = (word ?? "") + char;
    } else if (char === "'" || char === '"') {
      quote = char;
      word ??= "";
    } else if (/\s/.test(char)) {
      if (word !== null) words.push(word);
      word = null;
    } else if ("|<>);".includes(char)) {
      break;
    } else {
      word = (word ?? "") + char;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

const recorded: string[] = [];
const recorders: Partial<CommandHandlers> = Object.fromEntries(
  ["train", "sample", "eval", "info", "viz", "export", "import"].map((name) => [
    name,
    async () => {
      recorded.push(name);
      return 0;
    },
  ]),
);

describe("--help of every command", () => {
  it("lists the commands this test walks", async () => {
    expect(await commandNames()).toEqual(expect.arrayContaining(["train", "sample", "eval", "info", "viz", "export", "import", "completion"]));
  });

  for (const columns of [60, 100]) {
    it(`fits ${columns} columns and ends with Examples`, async () => {
      for (const command of await commandNames()) {
        const help = await helpAt(command, columns);
        const tooLong = help.split("\n").filter((line) => line.length > columns);
        expect(tooLong, `${command} --help at ${columns} columns`).toEqual([]);
        expect(examplesOf(help).length, `${command} --help has examples`).toBeGreaterThanOrEqual(2);
      }
    });
  }

  it("uses the width: prose is laid out wider at 100 columns than at 60", async () => {
    const narrow = await helpAt("sample", 60);
    const wide = await helpAt("sample", 100);
    const longest = (text: string) => Math.max(...text.split("\n").map((line) => line.length));
    expect(longest(narrow)).toBeGreaterThan(50);
    expect(longest(wide)).toBeGreaterThan(80);
    expect(wide.split("\n").length).toBeLessThan(narrow.split("\n").length);
  });

  it("every example parses with the real program and reaches its command", async () => {
    for (const command of await commandNames()) {
      const examples = examplesOf(await helpAt(command, 100));
      expect(examples.length, `${command} --help has examples`).toBeGreaterThanOrEqual(2);
      for (const example of examples) {
        const words = charnnWords(example);
        expect(words[0], example).toBe(command);
        recorded.length = 0;
        const captured = createTestIO();
        const code = await main(words, captured.io, recorders);
        expect({ example, code, stderr: captured.stderr() }).toEqual({ example, code: 0, stderr: "" });
        if (command !== "completion") expect(recorded, example).toEqual([command]);
        else expect(captured.stdout()).toContain("charnn");
      }
    }
  });

  it("an example with a flag the command lacks would be caught", async () => {
    const captured = createTestIO();
    expect(await main(charnnWords("charnn sample --tempp 0.8"), captured.io, recorders)).toBe(2);
  });
});

describe("wrapHelpText", () => {
  it("re-flows paragraphs, keeps indented lines, and continues a long command with a backslash", () => {
    const text = "one two three four five six\nseven eight\n\n  # says what it does\n  charnn train a b c d e f g\n  short";
    expect(wrapHelpText(text, 16)).toBe(
      ["one two three", "four five six", "seven eight", "", "  # says what it", "  # does", "  charnn train \\", "    a b c d e \\", "    f g", "  short"].join("\n"),
    );
  });
});
