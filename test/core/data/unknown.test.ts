import { describe, expect, it } from "vitest";
import { countUnknown, describeUnknown, summarizeUnknown, type UnknownCounts } from "../../../src/core/data/unknown.js";
import { Vocabulary } from "../../../src/core/data/vocab.js";

const codePointsOf = (text: string): Uint32Array => Uint32Array.from([...text].map((c) => c.codePointAt(0)!));

describe("unknown characters", () => {
  it("counts each code point the vocabulary lacks, as encode reports them", () => {
    const { unknown } = new Vocabulary([0x61, 0x62]).encode(codePointsOf("abxéxa\u00a0x"));
    expect([...unknown]).toEqual([[0x78, 3], [0xe9, 1], [0xa0, 1]]);
  });

  it("summarizes them most frequent first, ties by code point, with the total", () => {
    const unknown: UnknownCounts = new Map();
    for (const c of "zzyxx\u00e9") countUnknown(unknown, c.codePointAt(0)!);
    expect(summarizeUnknown(unknown)).toEqual({
      count: 6,
      characters: [
        { character: "x", codePoint: 0x78, count: 2 },
        { character: "z", codePoint: 0x7a, count: 2 },
        { character: "y", codePoint: 0x79, count: 1 },
        { character: "é", codePoint: 0xe9, count: 1 },
      ],
    });
    expect(summarizeUnknown(new Map())).toEqual({ count: 0, characters: [] });
  });

  it("describes them for a message, escaped, at most `limit` of them", () => {
    const unknown: UnknownCounts = new Map([[0xe9, 3], [0x0a, 1], [0x41, 1]]);
    expect(describeUnknown(unknown)).toBe('"é" (U+00E9) x3, "\\n" (U+000A), "A" (U+0041)');
    expect(describeUnknown(unknown, 1)).toBe('"é" (U+00E9) x3, and 2 more');
  });
});
