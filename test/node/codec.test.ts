// The Node codec (node:crypto and Buffer) against the core's portable one: for any input, the
// same digest, the same floats bit for bit, and the same words for base64 that is not canonical;
// and a checkpoint decoded through either is the same state, or fails with the same message.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { portableCodec } from "../../src/core/checkpoint/codec.js";
import { encodeCheckpoint } from "../../src/core/checkpoint/format.js";
import { decodeCheckpoint } from "../../src/core/checkpoint/load.js";
import { CharnnError } from "../../src/core/errors.js";
import { nodeCodec } from "../../src/node/codec.js";
import { expectSameState, makeState, resealed } from "../core/checkpoint/state-fixture.js";

const bits = (result: Float32Array | string): number[] | string =>
  typeof result === "string" ? result : Array.from(new Uint32Array(result.buffer, result.byteOffset, result.length));

const sameDecoding = (text: string): void => {
  expect(bits(nodeCodec.base64ToFloats(text)), JSON.stringify(text.slice(0, 40))).toEqual(bits(portableCodec.base64ToFloats(text)));
};

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/** Characters near the alphabet: padding, URL-safe variants, whitespace, one outside ASCII. */
const NEAR_ALPHABET = [...ALPHABET, "=", "-", "_", " ", "\n", "é", "A", "A", "A"];

describe("nodeCodec.base64ToFloats", () => {
  it("reads what Buffer writes for any float bytes, as the portable reader does", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }).map((bytes) => bytes.subarray(0, bytes.length - (bytes.length % 4))), (bytes) => {
      sameDecoding(Buffer.from(bytes).toString("base64"));
    }), { numRuns: 300 });
  });

  it("answers like the portable reader for any text near base64: wrong length, padding, characters or tail bits", () => {
    const nearText = fc.array(fc.constantFrom(...NEAR_ALPHABET), { maxLength: 24 }).map((characters) => characters.join(""));
    fc.assert(fc.property(nearText, (text) => sameDecoding(text)), { numRuns: 2000 });
    for (const text of ["", "====", "AAAA====", "AAA=", "AAB=", "AA==", "AB==", "AAAAAAE=", "AAAAAB==", "AAAAAAA=", "AAAA AAA", "AAAAAA-_", "AAAAAAAA\n"]) sameDecoding(text);
  });
});

describe("nodeCodec.sha256Hex", () => {
  it("gives the portable digest of any pieces of text and bytes, text as UTF-8 (lone surrogates too)", () => {
    const piece = fc.oneof(fc.string({ unit: "binary", maxLength: 200 }), fc.string({ unit: fc.integer({ min: 0xd7f0, max: 0xe010 }).map((code) => String.fromCharCode(code)), maxLength: 20 }), fc.uint8Array({ maxLength: 300 }));
    fc.assert(fc.property(fc.array(piece, { maxLength: 5 }), (parts) => {
      expect(nodeCodec.sha256Hex(parts)).toBe(portableCodec.sha256Hex(parts));
    }), { numRuns: 300 });
  });
});

describe("decodeCheckpoint through either codec", () => {
  const text = encodeCheckpoint(makeState({ hidden: 6 }));
  const messageOf = (input: string, codec: typeof nodeCodec): string => {
    try {
      decodeCheckpoint(input, "x.json", codec);
    } catch (error) {
      expect(error).toBeInstanceOf(CharnnError);
      return (error as Error).message;
    }
    throw new Error("expected the decode to fail");
  };

  it("gives the same state", () => {
    expectSameState(decodeCheckpoint(text, "x.json", nodeCodec), decodeCheckpoint(text, "x.json", portableCodec));
  });

  it("fails with the same message for a flipped byte, a damaged float array and a changed field", () => {
    const damaged = [
      text.replace('"step":42', '"step":43'),
      resealed(text, (document) => (document.params.weight_hh_l0.data = `${document.params.weight_hh_l0.data.slice(0, -4)}AAA-`)),
      resealed(text, (document) => (document.optimizer.buffers.m = `${document.optimizer.buffers.m}AAAA`)),
      resealed(text, (document) => (document.hiddenState = document.hiddenState.slice(0, -1))),
    ];
    for (const input of damaged) expect(messageOf(input, nodeCodec)).toBe(messageOf(input, portableCodec));
  });
});
