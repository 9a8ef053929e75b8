// The portable SHA-256 against the FIPS 180-4 / NIST example vectors and against node:crypto on
// random inputs of every length around the block and padding boundaries, fed whole and in pieces.

import { createHash } from "node:crypto";
import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import { Sha256, sha256Hex } from "../../../src/core/hash/sha256.js";

const nodeSha256 = (input: string | Uint8Array): string =>
  typeof input === "string" ? createHash("sha256").update(input, "utf8").digest("hex") : createHash("sha256").update(input).digest("hex");

describe("sha256Hex", () => {
  it("gives the standard test vectors", () => {
    expect(sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).toBe(
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
    expect(sha256Hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")).toBe(
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
    );
    const million = new Uint8Array(1_000_000).fill(0x61);
    expect(sha256Hex(million)).toBe("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  });

  it("equals node:crypto on 600 random byte strings of 0 to 300 bytes, whole and in random pieces", () => {
    const random = seedrandom("sha256-bytes");
    for (let trial = 0; trial < 600; trial++) {
      const length = trial < 300 ? trial : Math.floor(random() * 300);
      const bytes = Uint8Array.from({ length }, () => Math.floor(random() * 256));
      const expected = nodeSha256(bytes);
      expect(sha256Hex(bytes), `length ${length}`).toBe(expected);
      const hash = new Sha256();
      for (let start = 0; start < length; ) {
        const end = Math.min(length, start + 1 + Math.floor(random() * 80));
        hash.update(bytes.subarray(start, end));
        start = end;
      }
      expect(hash.digestHex(), `length ${length} in pieces`).toBe(expected);
    }
  });

  it("hashes text as UTF-8, like node:crypto, across its internal chunk size and surrogate pairs", () => {
    const random = seedrandom("sha256-text");
    const alphabet = ["a", "é", "λ", "日", "😀", "\n", "\u0000", "\uFFFD"];
    for (let trial = 0; trial < 200; trial++) {
      const text = Array.from({ length: Math.floor(random() * 200) }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
      expect(sha256Hex(text)).toBe(nodeSha256(text));
    }
    // An emoji straddling the 2^20-unit chunk boundary must hash as one character.
    const long = "x".repeat((1 << 20) - 1) + "😀" + "tail";
    expect(sha256Hex(long)).toBe(nodeSha256(long));
    expect(new Sha256().updateText("ab").updateText("c").digestHex()).toBe(nodeSha256("abc"));
  });

  it("refuses input after the digest", () => {
    const hash = new Sha256();
    hash.digestHex();
    expect(() => hash.update(new Uint8Array(1))).toThrow(/after digest/);
  });
});
