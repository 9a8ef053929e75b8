import { describe, expect, it } from "vitest";
import { codePointLabel, escapeCodePoint } from "../../../src/core/util/chars.js";

describe("escapeCodePoint", () => {
  it.each([
    [0x61, "a"],
    [0x20, " "],
    [0xe9, "é"],
    [0x0a, "\\n"],
    [0x09, "\\t"],
    [0x0d, "\\r"],
    [0x22, '\\"'],
    [0x5c, "\\\\"],
    [0x00, "\\u0000"],
    [0xa0, "\\u00A0"],
    [0x200b, "\\u200B"],
    [0xe000, "\\uE000"],
    [0xf0000, "\\u{F0000}"],
    [0x0301, "\u25CC\u0301"],
    [0x1f600, "😀"],
  ])("U+%s", (codePoint, shown) => {
    expect(escapeCodePoint(codePoint)).toBe(shown);
  });

  it("labels code points with at least four hex digits", () => {
    expect(codePointLabel(0x0a)).toBe("U+000A");
    expect(codePointLabel(0x1f600)).toBe("U+1F600");
  });
});
