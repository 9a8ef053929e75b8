// Tests for src/core/data/decode.ts: code points out of UTF-8 and UTF-16, every class of bad
// UTF-8 with its exact byte offset, binary detection, and agreement with TextDecoder.

import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";

import { CharnnError, ExitCode } from "../../../src/core/errors.js";
import { codePointCount, decodeText, looksBinary } from "../../../src/core/data/decode.js";

const bytesOf = (...values: number[]): Uint8Array => Uint8Array.from(values);
const ascii = (text: string): number[] => [...text].map((character) => character.charCodeAt(0));
const decoded = (bytes: Uint8Array): number[] => Array.from(decodeText(bytes, "test.txt"));

/** The CharnnError that decodeText throws for `bytes`, or a failing expectation. */
function decodeError(bytes: Uint8Array, name = "corpus.txt"): CharnnError {
  try {
    decodeText(bytes, name);
  } catch (error) {
    expect(error).toBeInstanceOf(CharnnError);
    return error as CharnnError;
  }
  throw new Error(`decodeText accepted ${Array.from(bytes, (b) => b.toString(16)).join(" ")}`);
}

describe("decodeText, valid UTF-8", () => {
  it("gives ASCII bytes as code points", () => {
    expect(decoded(bytesOf(...ascii("Hi!\n")))).toEqual([0x48, 0x69, 0x21, 0x0a]);
  });

  it("joins two-byte sequences (accents)", () => {
    // "café" = 63 61 66 C3 A9; "ñ" = C3 B1
    expect(decoded(bytesOf(0x63, 0x61, 0x66, 0xc3, 0xa9, 0xc3, 0xb1))).toEqual([0x63, 0x61, 0x66, 0xe9, 0xf1]);
  });

  it("joins three-byte sequences (CJK)", () => {
    // "日本" = E6 97 A5 E6 9C AC
    expect(decoded(bytesOf(0xe6, 0x97, 0xa5, 0xe6, 0x9c, 0xac))).toEqual([0x65e5, 0x672c]);
  });

  it("gives an astral emoji as one code point, not two UTF-16 halves", () => {
    // "😀" = F0 9F 98 80, "🎉" = F0 9F 8E 89
    expect(decoded(bytesOf(0x41, 0xf0, 0x9f, 0x98, 0x80, 0xf0, 0x9f, 0x8e, 0x89))).toEqual([
      0x41, 0x1f600, 0x1f389,
    ]);
  });

  it("accepts the edges of each sequence length", () => {
    expect(decoded(bytesOf(0x7f, 0xc2, 0x80, 0xdf, 0xbf))).toEqual([0x7f, 0x80, 0x7ff]);
    expect(decoded(bytesOf(0xe0, 0xa0, 0x80, 0xed, 0x9f, 0xbf, 0xee, 0x80, 0x80, 0xef, 0xbf, 0xbf))).toEqual([
      0x800, 0xd7ff, 0xe000, 0xffff,
    ]);
    expect(decoded(bytesOf(0xf0, 0x90, 0x80, 0x80, 0xf4, 0x8f, 0xbf, 0xbf))).toEqual([0x10000, 0x10ffff]);
  });

  it("drops a leading BOM but keeps U+FEFF elsewhere", () => {
    expect(decoded(bytesOf(0xef, 0xbb, 0xbf, 0x41))).toEqual([0x41]);
    expect(decoded(bytesOf(0x41, 0xef, 0xbb, 0xbf))).toEqual([0x41, 0xfeff]);
    expect(decoded(bytesOf(0xef, 0xbb, 0xbf))).toEqual([]);
  });

  it("gives an empty array for empty input", () => {
    expect(decoded(new Uint8Array(0))).toEqual([]);
  });

  it("does not normalise: a precomposed é and e + combining acute stay different", () => {
    expect(decoded(bytesOf(0xc3, 0xa9, 0x65, 0xcc, 0x81))).toEqual([0xe9, 0x65, 0x301]);
  });

  it("frees the upper-bound buffer when most of it is unused", () => {
    // 1000 three-byte characters: 3000 bytes in, 1000 code points out.
    const bytes = new Uint8Array(3000);
    for (let i = 0; i < 3000; i += 3) bytes.set([0xe6, 0x97, 0xa5], i);
    const result = decodeText(bytes, "cjk.txt");
    expect(result.length).toBe(1000);
    expect(result.buffer.byteLength).toBe(4000);
    expect(result[999]).toBe(0x65e5);
  });
});

describe("decodeText, UTF-16 with a byte-order mark", () => {
  it("decodes UTF-16LE and joins a surrogate pair", () => {
    // "Aé😀": 0041 00E9 D83D DE00
    const bytes = bytesOf(0xff, 0xfe, 0x41, 0x00, 0xe9, 0x00, 0x3d, 0xd8, 0x00, 0xde);
    expect(decoded(bytes)).toEqual([0x41, 0xe9, 0x1f600]);
  });

  it("decodes UTF-16BE and joins a surrogate pair", () => {
    const bytes = bytesOf(0xfe, 0xff, 0x00, 0x41, 0x00, 0xe9, 0xd8, 0x3d, 0xde, 0x00, 0x65, 0xe5);
    expect(decoded(bytes)).toEqual([0x41, 0xe9, 0x1f600, 0x65e5]);
  });

  it("rejects a high surrogate followed by a non-surrogate, naming its byte", () => {
    const error = decodeError(bytesOf(0xff, 0xfe, 0x41, 0x00, 0x3d, 0xd8, 0x41, 0x00), "u16.txt");
    expect(error.message).toBe("u16.txt: not valid UTF-16LE: unpaired surrogate at byte 4");
    expect(error.exitCode).toBe(ExitCode.badInput);
  });

  it("rejects a lone low surrogate and a high surrogate at the end", () => {
    expect(decodeError(bytesOf(0xfe, 0xff, 0xde, 0x00), "be.txt").message).toBe(
      "be.txt: not valid UTF-16BE: unpaired surrogate at byte 2",
    );
    expect(decodeError(bytesOf(0xff, 0xfe, 0x41, 0x00, 0x3d, 0xd8), "le.txt").message).toBe(
      "le.txt: not valid UTF-16LE: unpaired surrogate at byte 4",
    );
  });

  it("rejects an odd number of bytes", () => {
    expect(decodeError(bytesOf(0xff, 0xfe, 0x41, 0x00, 0x42), "odd.txt").message).toBe(
      "odd.txt: not valid UTF-16LE: odd number of bytes (5)",
    );
  });
});

describe("decodeText, invalid UTF-8", () => {
  // [what, bytes, offset of the first byte of the bad sequence, a word the hint must contain]
  const cases: Array<[string, number[], number, string]> = [
    ["a lone continuation byte", [0x41, 0x80], 1, "continuation"],
    ["a two-byte overlong (C0 80)", [0x61, 0x62, 0xc0, 0x80], 2, "overlong"],
    ["a two-byte overlong (C1 BF)", [0xc1, 0xbf], 0, "overlong"],
    ["a three-byte overlong (E0 80 80)", [0x41, 0xe0, 0x80, 0x80], 1, "overlong"],
    ["a four-byte overlong (F0 8F BF BF)", [0x41, 0x42, 0xf0, 0x8f, 0xbf, 0xbf], 2, "overlong"],
    ["an encoded high surrogate (ED A0 80)", [0x41, 0xed, 0xa0, 0x80], 1, "surrogate"],
    ["an encoded low surrogate (ED BF BF)", [0xed, 0xbf, 0xbf], 0, "surrogate"],
    ["U+110000 (F4 90 80 80)", [0x7a, 0xf4, 0x90, 0x80, 0x80], 1, "above U+10FFFF"],
    ["a lead byte above F4 (F5)", [0x41, 0x41, 0x41, 0xf5, 0x80, 0x80, 0x80], 3, "above U+10FFFF"],
    ["an FF byte", [0xff], 0, "never occurs"],
    ["a two-byte sequence cut by ASCII", [0xc3, 0x41], 0, "cut short"],
    ["a three-byte sequence cut after two bytes", [0xe2, 0x82, 0x41], 0, "cut short"],
    ["a four-byte sequence cut after three bytes", [0x41, 0xf0, 0x9f, 0x98, 0x41], 1, "cut short"],
    ["a sequence cut by the end of the file", [0x41, 0xe2, 0x82], 1, "end of the file"],
    ["a lead byte as the last byte", [0x63, 0x61, 0x66, 0xe9], 3, "end of the file"],
    ["an overlong cut by the end of the file", [0x41, 0xe0, 0x80], 1, "overlong"],
  ];

  it.each(cases)("rejects %s at the right byte", (_what, bytes, offset, reasonWord) => {
    const error = decodeError(Uint8Array.from(bytes));
    expect(error.message).toBe(`corpus.txt: not valid UTF-8 at byte ${offset}`);
    expect(error.exitCode).toBe(ExitCode.badInput);
    expect(error.hint).toContain(reasonWord);
    expect(error.hint).toContain("iconv");
  });

  it("counts the offset in bytes across earlier multi-byte characters", () => {
    const good = new TextEncoder().encode("é".repeat(600) + "x".repeat(34)); // 1234 bytes
    const bytes = new Uint8Array(good.length + 1);
    bytes.set(good);
    bytes[good.length] = 0x80;
    expect(decodeError(bytes).message).toBe("corpus.txt: not valid UTF-8 at byte 1234");
  });
});

describe("binary input", () => {
  it("calls a NUL byte binary and says where it is", () => {
    const bytes = bytesOf(...ascii("seventeen bytes!!"), 0x00, 0x41);
    const error = decodeError(bytes, "x.bin");
    expect(error.message).toBe("x.bin: looks like a binary file (NUL byte at byte 17)");
    expect(error.exitCode).toBe(ExitCode.badInput);
  });

  it("calls a file binary even when invalid UTF-8 comes before its first NUL (a PNG)", () => {
    const png = bytesOf(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d);
    expect(decodeError(png, "logo.png").message).toBe("logo.png: looks like a binary file (NUL byte at byte 8)");
  });

  it("looksBinary checks the first 8 KiB for NUL", () => {
    const bytes = new Uint8Array(10_000).fill(0x61);
    expect(looksBinary(bytes)).toBe(false);
    bytes[8191] = 0;
    expect(looksBinary(bytes)).toBe(true);
    bytes[8191] = 0x61;
    bytes[8192] = 0;
    expect(looksBinary(bytes)).toBe(false);
    expect(looksBinary(bytesOf(0x00))).toBe(true);
    expect(looksBinary(new Uint8Array(0))).toBe(false);
  });

  it("looksBinary treats UTF-16 with a byte-order mark as text, since decodeText reads it", () => {
    expect(looksBinary(bytesOf(0xff, 0xfe, 0x41, 0x00))).toBe(false);
    expect(looksBinary(bytesOf(0xfe, 0xff, 0x00, 0x41))).toBe(false);
  });
});

describe("agreement with TextDecoder (fatal)", () => {
  const reference = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

  /** A random scalar value from one of several ranges, never NUL and never a surrogate. */
  function randomCodePoint(random: () => number): number {
    const ranges: Array<[number, number]> = [
      [0x01, 0x7f],
      [0x80, 0x7ff],
      [0x800, 0xd7ff],
      [0xe000, 0xffff],
      [0x10000, 0x10ffff],
    ];
    const [low, high] = ranges[Math.floor(random() * ranges.length)]!;
    return low + Math.floor(random() * (high - low + 1));
  }

  it("decodes 400 random valid strings to the same code points", () => {
    const random = seedrandom("decode-valid");
    for (let trial = 0; trial < 400; trial++) {
      const length = Math.floor(random() * 40);
      const codePoints = Array.from({ length }, () => randomCodePoint(random));
      const bytes = new TextEncoder().encode(String.fromCodePoint(...codePoints));
      const expected = Array.from(reference.decode(bytes), (character) => character.codePointAt(0)!);
      expect(expected).toEqual(codePoints);
      expect(Array.from(decodeText(bytes, "random.txt"))).toEqual(expected);
    }
  });

  it("accepts and rejects 2000 random byte strings exactly when TextDecoder does", () => {
    const random = seedrandom("decode-soup");
    // Mostly high bytes, so that most strings hit some rule of Table 3-7; never NUL.
    const pickByte = (): number => {
      const r = random();
      if (r < 0.2) return 0x20 + Math.floor(random() * 0x5f);
      if (r < 0.6) return 0x80 + Math.floor(random() * 0x40);
      return 0xc0 + Math.floor(random() * 0x40);
    };
    let rejected = 0;
    for (let trial = 0; trial < 2000; trial++) {
      const bytes = Uint8Array.from({ length: 1 + Math.floor(random() * 8) }, pickByte);
      // A leading FF FE / FE FF would select UTF-16 here but not in TextDecoder("utf-8").
      if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) continue;
      let expected: number[] | undefined;
      try {
        expected = Array.from(reference.decode(bytes), (character) => character.codePointAt(0)!);
      } catch {
        expected = undefined;
      }
      if (expected) {
        expect(Array.from(decodeText(bytes, "soup.txt"))).toEqual(expected);
        continue;
      }
      rejected++;
      const error = decodeError(bytes, "soup.txt");
      const offset = Number(/at byte (\d+)$/.exec(error.message)?.[1]);
      // Everything before the reported byte is valid, and the reported byte starts no valid text.
      expect(() => reference.decode(bytes.subarray(0, offset))).not.toThrow();
      expect(() => reference.decode(bytes.subarray(offset))).toThrow();
    }
    expect(rejected).toBeGreaterThan(500);
  });
});

describe("codePointCount", () => {
  it("equals the length decodeText gives, for every encoding it reads", () => {
    const samples = [
      Buffer.from("plain ascii"),
      Buffer.from("é ★ 😀 — naïve"),
      Uint8Array.from([0xef, 0xbb, 0xbf, ...Buffer.from("bom ü😀")]),
      Uint8Array.from([0xff, 0xfe, ...Buffer.from("é😀x𝄞", "utf16le")]),
      Uint8Array.from([0xfe, 0xff, ...Buffer.from("😀ab", "utf16le").swap16()]),
      new Uint8Array(0),
    ];
    for (const bytes of samples) expect(codePointCount(bytes)).toBe(decodeText(bytes, "x").length);
  });
});
