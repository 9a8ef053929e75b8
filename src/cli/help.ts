// How charnn's --help fits the terminal: prose after the options is re-flowed to the help width
// (the terminal's columns, or commander's 80 when output is not a terminal), indented lines such
// as commands are kept whole where they fit and continued with " \" where they do not, and an
// option whose description has no room beside it gets the description on the lines below.
// Not here: what the help says (options.ts, examples.ts and the command registrations).

import { Help, type Command, type HelpConfiguration } from "commander";

/** The width help is laid out in: stdout's for --help, stderr's when help is shown for an error. */
export function helpWidthOf(command: Command, error = false): number {
  const output = command.configureOutput() as { getOutHelpWidth?: () => number; getErrHelpWidth?: () => number };
  const width = (error ? output.getErrHelpWidth : output.getOutHelpWidth)?.();
  return width !== undefined && width > 0 ? width : 80;
}

/** Words of `text` greedily on lines of at most `width` characters, each line after `indent`. */
function fillWords(words: readonly string[], width: number, indent: string, nextIndent = indent): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    const lead = lines.length === 0 ? indent : nextIndent;
    if (line !== "" && lead.length + line.length + 1 + word.length > width) {
      lines.push(lead + line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push((lines.length === 0 ? indent : nextIndent) + line);
  return lines;
}

/**
 * An indented line (a command, a list item) as it fits in `width`: whole if it fits, else broken
 * between words with " \" at each break and the rest indented two more, as a shell reads it;
 * a "# comment" line goes on as more comment lines.
 */
function fitIndentedLine(line: string, width: number): string[] {
  if (line.length <= width) return [line];
  const indent = /^\s*/.exec(line)![0];
  const words = line.trim().split(/\s+/);
  // A comment goes on as comment lines.
  if (words[0] === "#") return fillWords(words.slice(1), width, `${indent}# `);
  // Room for the " \" continuation on every line but the last.
  const lines = fillWords(words, width - 2, indent, `${indent}  `);
  return lines.map((text, index) => (index < lines.length - 1 ? `${text} \\` : text));
}

/**
 * Help prose laid out in `width` columns. Paragraphs (runs of lines that start at the margin) are
 * re-flowed; indented lines are kept as lines; blank lines are kept.
 */
export function wrapHelpText(text: string, width: number): string {
  const out: string[] = [];
  let paragraph: string[] = [];
  const flush = () => {
    if (paragraph.length > 0) out.push(...fillWords(paragraph.join(" ").split(/\s+/).filter(Boolean), width, ""));
    paragraph = [];
  };
  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      flush();
      out.push("");
    } else if (/^\s/.test(line)) {
      flush();
      out.push(...fitIndentedLine(line, width));
    } else {
      paragraph.push(line.trim());
    }
  }
  flush();
  return out.join("\n");
}

/** Prose after a command's options, laid out in the help width each time help is shown. */
export function addHelpNotes(command: Command, text: string): void {
  command.addHelpText("after", (context: { error: boolean; command: Command }) => wrapHelpText(text, helpWidthOf(context.command, context.error)));
}

/**
 * The help layout for charnn's commands (commander copies it to every subcommand): as
 * commander's, but an item whose description would have less than `minWidthToWrap` columns
 * beside its term (options such as --checkpoint-every <steps|duration> in 60 columns) puts the
 * description on its own lines, indented under the term, instead of running past the edge.
 */
export function fittedHelp(): HelpConfiguration {
  return {
    formatItem(this: Help, term: string, termWidth: number, description: string, helper: Help): string {
      const width = this.helpWidth ?? 80;
      const besideWidth = width - termWidth - 4;
      if (!description || besideWidth >= this.minWidthToWrap) {
        return Help.prototype.formatItem.call(this, term, termWidth, description, helper);
      }
      const indent = "      ";
      const wrapped = fillWords(description.split(/\s+/).filter(Boolean), width, indent);
      return [...fitIndentedLine(`  ${term}`, width), ...wrapped].join("\n");
    },
  };
}
