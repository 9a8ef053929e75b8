// splitLines and textOf on small texts written out by hand: line ends, CRLF, empty lines, a
// final newline, and strings longer than one String.fromCodePoint call may take.

import { describe, expect, it } from "vitest";
import { splitLines, textOf } from "../../../src/core/eval/lines.js";

const codePoints = (text: string) => Uint32Array.from([...text].map((c) => c.codePointAt(0)!));
const lines = (text: string) => {
  const cps = codePoints(text);
  return splitLines(cps).map(({ start, end }) => textOf(cps, start, end));
};

describe("splitLines", () => {
  it.each([
    ["", []],
    ["one", ["one"]],
    ["one\n", ["one"]],
    ["one\ntwo", ["one", "two"]],
    ["a\n\nb\n", ["a", "", "b"]],
    ["\n", [""]],
    ["\n\n", ["", ""]],
    ["dos\r\nline\r\n", ["dos", "line"]],
    ["lone\rcr\n", ["lone\rcr"]],
    ["😀x\né", ["😀x", "é"]],
  ])("%j has lines %j", (text, expected) => {
    expect(lines(text)).toEqual(expected);
  });

  it("gives ranges into the array, without the newline", () => {
    expect(splitLines(codePoints("ab\ncd"))).toEqual([{ start: 0, end: 2 }, { start: 3, end: 5 }]);
  });
});

describe("textOf", () => {
  it("handles astral code points and a whole range by default", () => {
    expect(textOf(codePoints("a😀b"))).toBe("a😀b");
  });

  it("joins texts longer than one call's argument limit", () => {
    const long = "xyz".repeat(100_000);
    expect(textOf(codePoints(long))).toBe(long);
    expect(textOf(codePoints(long), 299_998)).toBe("yz");
  });
});
