// The text features by hand on short strings: quotes, brackets, line position, indentation and
// a user's regular expression (including characters outside the BMP), and the name lookup.

import { describe, expect, it } from "vitest";
import { featureNamed, indentation, insideBrackets, insideMatches, insideQuotes, linePosition } from "../../../src/core/viz/features.js";
import { CharnnError } from "../../../src/core/errors.js";

const of = (feature: (c: string[]) => Float64Array, text: string): number[] => Array.from(feature([...text]));

describe("features", () => {
  it("quotes: 1 from an opening quote up to its closing one", () => {
    expect(of(insideQuotes, 'a"bc"d"e')).toEqual([0, 1, 1, 1, 0, 0, 1, 1]);
  });

  it("brackets: 1 while any bracket or parenthesis is open, nested or not; a stray closer does not go negative", () => {
    expect(of(insideBrackets, "a(b[c])d)e{f}")).toEqual([0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0]);
  });

  it("line-position: the column, restarting after each newline", () => {
    expect(of(linePosition, "abc\nde\n")).toEqual([0, 1, 2, 0, 0, 1, 0]);
  });

  it("indent: the leading spaces and tabs of the line read so far", () => {
    expect(of(indentation, "  ab\n\tc d\nx")).toEqual([1, 2, 2, 2, 0, 1, 1, 1, 1, 0, 0]);
  });

  it("a regular expression marks every match, counting characters as code points", () => {
    expect(of(insideMatches(/\d+/), "a12b3")).toEqual([0, 1, 1, 0, 1]);
    expect(of(insideMatches(/x/), "😀x😀x")).toEqual([0, 1, 0, 1]);
    expect(of(featureNamed("/B/i"), "abc")).toEqual([0, 1, 0]);
  });

  it("names: the built-in ones and /REGEX/; anything else is a usage error", () => {
    expect(featureNamed("quotes")).toBe(insideQuotes);
    expect(() => featureNamed("commas")).toThrow(CharnnError);
    expect(() => featureNamed("commas")).toThrow(/unknown feature "commas"/);
    expect(() => featureNamed("/(/")).toThrow(/not a valid regular expression/);
  });
});
