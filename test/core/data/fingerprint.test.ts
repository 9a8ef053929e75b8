// Tests for src/core/data/fingerprint.ts: the hash is over little-endian 32-bit code points,
// respects subarray bounds, and changes with content and order.

import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";

import { fingerprintCodePoints } from "../../../src/core/data/fingerprint.js";

const sha256 = (bytes: number[]): string => `sha256:${createHash("sha256").update(Uint8Array.from(bytes)).digest("hex")}`;

describe("fingerprintCodePoints", () => {
  it("hashes nothing to the SHA-256 of the empty string", () => {
    expect(fingerprintCodePoints(new Uint32Array(0))).toBe(
      "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
  });

  it("hashes each code point as four little-endian bytes", () => {
    // "A" = 41 00 00 00, "é" = E9 00 00 00, "😀" (U+1F600) = 00 F6 01 00
    expect(fingerprintCodePoints(Uint32Array.of(0x41, 0xe9, 0x1f600))).toBe(
      sha256([0x41, 0, 0, 0, 0xe9, 0, 0, 0, 0x00, 0xf6, 0x01, 0x00]),
    );
  });

  it("hashes only the elements of a subarray", () => {
    const whole = Uint32Array.of(1, 0x41, 0x42, 2);
    expect(fingerprintCodePoints(whole.subarray(1, 3))).toBe(sha256([0x41, 0, 0, 0, 0x42, 0, 0, 0]));
  });

  it("differs for a different order of the same characters", () => {
    expect(fingerprintCodePoints(Uint32Array.of(0x61, 0x62))).not.toBe(fingerprintCodePoints(Uint32Array.of(0x62, 0x61)));
  });
});

describe("fingerprints stay what charnn 0.1.0 computed (so its checkpoints still resume)", () => {
  it("equals the fingerprints recorded beside the format-1 fixtures", async () => {
    const { readFile } = await import("node:fs/promises");
    const folder = new URL("../../fixtures/checkpoint-v1/", import.meta.url);
    const expected = JSON.parse(await readFile(new URL("expected.json", folder), "utf8")) as Record<string, string>;
    for (const [file, key] of [["corpus.txt", "corpusFingerprint"], ["probe.txt", "probeFingerprint"]] as const) {
      const text = await readFile(new URL(file, folder), "utf8");
      const codePoints = Uint32Array.from([...text].map((character) => character.codePointAt(0)!));
      expect(fingerprintCodePoints(codePoints), file).toBe(expected[key]);
    }
  });
});
