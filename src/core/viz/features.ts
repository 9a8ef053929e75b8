// Features of a text, one number per character, for ranking units by how well they track them:
// inside double quotes, inside brackets, position in the line, the line's indentation, and a
// user's regular expression (inside a match or not). Each value describes the text as read up
// to and including that character, since that is all the state after it can know.
// Not here: the correlation (rank.ts) or parsing flags (the CLI passes the feature's name).

import { usageError } from "../errors.js";

export type Feature = (characters: readonly string[]) => Float64Array;

/** 1 after an opening double quote up to (not including) its closing one, else 0. */
export const insideQuotes: Feature = (characters) => {
  const values = new Float64Array(characters.length);
  let inside = false;
  characters.forEach((character, t) => {
    if (character === '"') inside = !inside;
    values[t] = inside ? 1 : 0;
  });
  return values;
};

const OPENING = new Set(["(", "[", "{"]);
const CLOSING = new Set([")", "]", "}"]);

/** 1 while at least one bracket or parenthesis is open (the opening one included), else 0. */
export const insideBrackets: Feature = (characters) => {
  const values = new Float64Array(characters.length);
  let depth = 0;
  characters.forEach((character, t) => {
    if (OPENING.has(character)) depth++;
    else if (CLOSING.has(character)) depth = Math.max(0, depth - 1);
    values[t] = depth > 0 ? 1 : 0;
  });
  return values;
};

/** The column: characters since the last newline (the first of a line is 0; a newline is 0 too). */
export const linePosition: Feature = (characters) => {
  const values = new Float64Array(characters.length);
  let column = 0;
  characters.forEach((character, t) => {
    if (character === "\n") column = 0;
    else values[t] = column++;
  });
  return values;
};

/** The line's leading spaces and tabs read so far (0 on the newline that ends a line). */
export const indentation: Feature = (characters) => {
  const values = new Float64Array(characters.length);
  let indent = 0, leading = true;
  characters.forEach((character, t) => {
    if (character === "\n") {
      indent = 0;
      leading = true;
      return;
    }
    if (leading && (character === " " || character === "\t")) indent++;
    else leading = false;
    values[t] = indent;
  });
  return values;
};

/** 1 for characters inside a match of `pattern` (every match, as with the g flag), else 0. */
export function insideMatches(pattern: RegExp): Feature {
  const flags = pattern.flags.includes("g") ? pattern.flags : pattern.flags + "g";
  const global = new RegExp(pattern.source, flags);
  return (characters) => {
    const text = characters.join("");
    // Matches are in UTF-16 offsets; characters are code points, so map one onto the other.
    const characterAt = new Int32Array(text.length + 1);
    let offset = 0;
    characters.forEach((character, t) => {
      for (let i = 0; i < character.length; i++) characterAt[offset + i] = t;
      offset += character.length;
    });
    characterAt[text.length] = characters.length;
    const values = new Float64Array(characters.length);
    for (const match of text.matchAll(global)) {
      const start = characterAt[match.index]!, end = characterAt[match.index + match[0].length]!;
      values.fill(1, start, end);
    }
    return values;
  };
}

export const BUILT_IN_FEATURES: Readonly<Record<string, Feature>> = Object.freeze({
  quotes: insideQuotes,
  brackets: insideBrackets,
  "line-position": linePosition,
  indent: indentation,
});

/**
 * A feature by name: one of the built-in ones, or `/REGEX/flags`. Anything else, or a regular
 * expression that does not compile, is a usage error naming the choices.
 */
export function featureNamed(name: string): Feature {
  const builtIn = BUILT_IN_FEATURES[name];
  if (builtIn !== undefined) return builtIn;
  const regex = /^\/(.+)\/([a-z]*)$/s.exec(name);
  if (regex === null) {
    throw usageError(`unknown feature "${name}"`, `choose one of ${Object.keys(BUILT_IN_FEATURES).join(", ")}, or /REGEX/ for your own`, {
      code: "viz.unknown-feature", facts: { feature: name },
    });
  }
  try {
    return insideMatches(new RegExp(regex[1]!, regex[2]!));
  } catch (error) {
    throw usageError(`the feature ${name} is not a valid regular expression: ${(error as Error).message}`, undefined, {
      code: "viz.bad-regex", facts: { feature: name },
    });
  }
}
