// Tests for src/core/data/vocab.ts: sorting, lookup, encoding with unknowns, extension, the JSON
// form and its validation, and the printable description; plus agreement with the
// vocabulary and tokens of the PyTorch trajectory fixture.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

import { CharnnError, ExitCode } from "../../../src/core/errors.js";
import { Vocabulary } from "../../../src/core/data/vocab.js";
import { describeCodePoint } from "../../../src/core/util/chars.js";

const codePointsOf = (text: string): Uint32Array => Uint32Array.from(text, (character) => character.codePointAt(0)!);

describe("Vocabulary.fromCodePoints", () => {
  it("keeps each code point once, sorted by value", () => {
    const vocabulary = Vocabulary.fromCodePoints(codePointsOf("hello, wörld 😀 hé"));
    expect(vocabulary.codePoints).toEqual([0x20, 0x2c, 0x64, 0x65, 0x68, 0x6c, 0x6f, 0x72, 0x77, 0xe9, 0xf6, 0x1f600]);
    expect(vocabulary.size).toBe(12);
  });

  it("gives the same vocabulary for any order of the same characters", () => {
    const a = Vocabulary.fromCodePoints(codePointsOf("cab"));
    const b = Vocabulary.fromCodePoints(codePointsOf("bca"));
    expect(a.toJSON()).toEqual([0x61, 0x62, 0x63]);
    expect(b.toJSON()).toEqual(a.toJSON());
  });

  it("is empty for empty text", () => {
    const vocabulary = Vocabulary.fromCodePoints(new Uint32Array(0));
    expect(vocabulary.size).toBe(0);
    expect(vocabulary.indexOf(0x61)).toBe(-1);
  });
});

describe("Vocabulary lookup and encoding", () => {
  const vocabulary = new Vocabulary([0x0a, 0x41, 0xe9, 0x65e5, 0x1f600]);

  it("finds the index of BMP and astral code points, -1 when absent", () => {
    expect(vocabulary.indexOf(0x0a)).toBe(0);
    expect(vocabulary.indexOf(0x41)).toBe(1);
    expect(vocabulary.indexOf(0xe9)).toBe(2);
    expect(vocabulary.indexOf(0x65e5)).toBe(3);
    expect(vocabulary.indexOf(0x1f600)).toBe(4);
    expect(vocabulary.indexOf(0x42)).toBe(-1);
    expect(vocabulary.indexOf(0x1f601)).toBe(-1);
    expect(vocabulary.indexOf(-1)).toBe(-1);
  });

  it("gives characters back by index, astral ones as a whole", () => {
    expect(vocabulary.charAt(0)).toBe("\n");
    expect(vocabulary.charAt(2)).toBe("é");
    expect(vocabulary.charAt(4)).toBe("😀");
    expect(() => vocabulary.charAt(5)).toThrow(RangeError);
  });

  it("encodes known code points and drops and counts unknown ones", () => {
    const { indices, unknown } = vocabulary.encode(codePointsOf("AéxA😀yx\n日"));
    expect(Array.from(indices)).toEqual([1, 2, 1, 4, 0, 3]);
    expect([...unknown.entries()].sort((a, b) => a[0] - b[0])).toEqual([
      [0x78, 2],
      [0x79, 1],
    ]);
  });

  it("encodes text with no unknowns to one index per code point", () => {
    const { indices, unknown } = vocabulary.encode(codePointsOf("\nA😀"));
    expect(Array.from(indices)).toEqual([0, 1, 4]);
    expect(unknown.size).toBe(0);
  });
});

describe("Vocabulary.extendedWith", () => {
  it("adds the new code points and keeps the result sorted", () => {
    const base = new Vocabulary([0x61, 0x63, 0x65]);
    const { vocabulary, added } = base.extendedWith(codePointsOf("dcba😀d"));
    expect(vocabulary.codePoints).toEqual([0x61, 0x62, 0x63, 0x64, 0x65, 0x1f600]);
    expect(added).toEqual([0x62, 0x64, 0x1f600]);
    expect(vocabulary.indexOf(0x65)).toBe(4);
    // The original is unchanged.
    expect(base.codePoints).toEqual([0x61, 0x63, 0x65]);
  });

  it("adds nothing when every code point is known", () => {
    const base = new Vocabulary([0x61, 0x62]);
    const { vocabulary, added } = base.extendedWith(codePointsOf("abba"));
    expect(added).toEqual([]);
    expect(vocabulary.codePoints).toEqual([0x61, 0x62]);
  });
});

describe("Vocabulary JSON form", () => {
  it("round-trips through JSON text", () => {
    const original = Vocabulary.fromCodePoints(codePointsOf("zebra 🦓 éclair\t"));
    const restored = Vocabulary.fromJSON(JSON.parse(JSON.stringify(original)));
    expect(restored.codePoints).toEqual(original.codePoints);
    expect(restored.indexOf(0x1f993)).toBe(original.indexOf(0x1f993));
    expect(JSON.stringify(original)).toBe("[9,32,97,98,99,101,105,108,114,122,233,129427]");
  });

  const bad: Array<[string, unknown, string]> = [
    ["an object", { codePoints: [1] }, "expected an array of code points, got object"],
    ["null", null, "expected an array of code points, got null"],
    ["a string", "abc", "expected an array of code points, got string"],
    ["a string entry", [65, "B"], 'entry 1 is not a Unicode code point (got "B")'],
    ["a fraction", [65, 66.5], "entry 1 is not a Unicode code point (got 66.5)"],
    ["a negative number", [-1], "entry 0 is not a Unicode code point (got -1)"],
    ["a value above U+10FFFF", [65, 0x110000], "entry 1 is not a Unicode code point (got 1114112)"],
    ["a surrogate", [0xd800], "entry 0 is not a Unicode code point (got 55296)"],
    ["a repeat", [65, 66, 66], "entry 2 (66) is not greater than the one before (66)"],
    ["a descending pair", [66, 65], "entry 1 (65) is not greater than the one before (66)"],
  ];

  it.each(bad)("rejects %s", (_what, value, message) => {
    let caught: unknown;
    try {
      Vocabulary.fromJSON(value);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CharnnError);
    expect((caught as CharnnError).message).toBe(`vocabulary: ${message}`);
    expect((caught as CharnnError).exitCode).toBe(ExitCode.badInput);
  });

  it("accepts the ends of the code point range", () => {
    expect(Vocabulary.fromJSON([0, 0x10ffff]).size).toBe(2);
  });

  it("rejects an unsorted list in the constructor too", () => {
    expect(() => new Vocabulary([0x62, 0x61])).toThrow(CharnnError);
  });
});

describe("describeCodePoint", () => {
  it.each([
    [0xe9, '"é" (U+00E9)'],
    [0x0a, '"\\n" (U+000A)'],
    [0x09, '"\\t" (U+0009)'],
    [0x41, '"A" (U+0041)'],
    [0x20, '" " (U+0020)'],
    [0x22, '"\\"" (U+0022)'],
    [0x00, '"\\u0000" (U+0000)'],
    [0xa0, '"\\u00A0" (U+00A0)'],
    [0x200b, '"\\u200B" (U+200B)'],
    [0x301, '"\u25CC\u0301" (U+0301)'],
    [0x1f600, '"😀" (U+1F600)'],
    [0xe0001, '"\\u{E0001}" (U+E0001)'],
  ])("renders %d as %s", (codePoint, expected) => {
    expect(describeCodePoint(codePoint)).toBe(expected);
    expect(new Vocabulary([]).describe(codePoint)).toBe(expected);
  });
});

describe("agreement with the PyTorch reference fixture", () => {
  it("builds the fixture's vocabulary and tokens from its text", () => {
    const fixture = JSON.parse(
      readFileSync(new URL("../../fixtures/torch-trajectory.json", import.meta.url), "utf8"),
    ) as { text: string; vocabulary: number[]; tokens: number[] };
    const codePoints = codePointsOf(fixture.text);
    const vocabulary = Vocabulary.fromCodePoints(codePoints);
    expect(vocabulary.toJSON()).toEqual(fixture.vocabulary);
    const { indices, unknown } = vocabulary.encode(codePoints);
    expect(Array.from(indices)).toEqual(fixture.tokens);
    expect(unknown.size).toBe(0);
  });
});
