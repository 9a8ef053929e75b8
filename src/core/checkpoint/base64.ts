// Float arrays as base64 of their little-endian bytes (RFC 4648 §4, with padding), in plain
// TypeScript so the core needs no Buffer. Decoding is strict: only canonical base64 is accepted
// (no whitespace, no missing padding, no stray bits after the last byte), so every string has
// exactly one meaning. Not a general base64 library: floats in, floats out.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const ALPHABET_CODES = Uint8Array.from(ALPHABET, (character) => character.charCodeAt(0));
const PAD = 0x3d; // "="

/** Code unit -> 6-bit value, or -1 for anything outside the alphabet. */
const VALUES = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i;

const hostIsLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Each 12-bit value's two base64 characters (as ASCII codes): encoding takes two lookups per
 * three bytes instead of four shifts, masks and lookups.
 */
const FIRST_OF_PAIR = new Uint8Array(4096);
const SECOND_OF_PAIR = new Uint8Array(4096);
for (let value = 0; value < 4096; value++) {
  FIRST_OF_PAIR[value] = ALPHABET_CODES[value >>> 6]!;
  SECOND_OF_PAIR[value] = ALPHABET_CODES[value & 63]!;
}

/** Characters of base64 (padded) for `byteLength` bytes. */
export const base64Length = (byteLength: number): number => Math.ceil(byteLength / 3) * 4;

export function floatsToBase64(values: Float32Array): string {
  const out = new Uint8Array(base64Length(values.byteLength));
  writeFloatsBase64(values, out, 0);
  return new TextDecoder("latin1").decode(out);
}

/**
 * Writes the base64 of `values` (as ASCII codes, padded) into `out` from `offset`, which must
 * have base64Length(values.byteLength) bytes of room; returns the offset after it.
 */
export function writeFloatsBase64(values: Float32Array, out: Uint8Array, offset: number): number {
  const bytes = littleEndianBytesOf(values);
  let o = offset, i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const triple = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    const high = triple >>> 12, low = triple & 4095;
    out[o] = FIRST_OF_PAIR[high]!;
    out[o + 1] = SECOND_OF_PAIR[high]!;
    out[o + 2] = FIRST_OF_PAIR[low]!;
    out[o + 3] = SECOND_OF_PAIR[low]!;
    o += 4;
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const triple = (bytes[i]! << 16) | (rest === 2 ? bytes[i + 1]! << 8 : 0);
    out[o++] = ALPHABET_CODES[triple >>> 18]!;
    out[o++] = ALPHABET_CODES[(triple >>> 12) & 63]!;
    out[o++] = rest === 2 ? ALPHABET_CODES[(triple >>> 6) & 63]! : PAD;
    out[o++] = PAD;
  }
  return o;
}

function littleEndianBytesOf(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (hostIsLittleEndian) return bytes;
  const swapped = new Uint8Array(bytes.length);
  const view = new DataView(swapped.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return swapped;
}

/** The floats `text` encodes, or in words why it encodes none ("is not valid base64", ...). */
export function base64ToFloats(text: string): Float32Array | string {
  if (text.length % 4 !== 0) return "is not valid base64";
  let padding = 0;
  if (text.length > 0 && text.charCodeAt(text.length - 1) === PAD) padding = text.charCodeAt(text.length - 2) === PAD ? 2 : 1;
  const byteLength = (text.length / 4) * 3 - padding;
  if (byteLength % 4 !== 0) {
    // Still reject bad characters first: a damaged file should be called that.
    return isAlphabetOnly(text, text.length - padding) ? `holds ${byteLength} bytes, not a whole number of 4-byte floats` : "is not valid base64";
  }
  const floats = new Float32Array(byteLength / 4);
  const bytes = new Uint8Array(floats.buffer);
  const end = text.length - (padding > 0 ? 4 : 0);
  let o = 0;
  for (let i = 0; i < end; i += 4) {
    const a = valueAt(text, i), b = valueAt(text, i + 1), c = valueAt(text, i + 2), d = valueAt(text, i + 3);
    if ((a | b | c | d) < 0) return "is not valid base64";
    const triple = (a << 18) | (b << 12) | (c << 6) | d;
    bytes[o++] = triple >>> 16;
    bytes[o++] = (triple >>> 8) & 255;
    bytes[o++] = triple & 255;
  }
  if (padding > 0) {
    const a = valueAt(text, end), b = valueAt(text, end + 1), c = padding === 1 ? valueAt(text, end + 2) : 0;
    if ((a | b | c) < 0) return "is not valid base64";
    // Canonical form: the bits past the last byte are zero.
    if (padding === 2 ? (b & 15) !== 0 : (c & 3) !== 0) return "is not valid base64";
    const triple = (a << 18) | (b << 12) | (c << 6);
    bytes[o++] = triple >>> 16;
    if (padding === 1) bytes[o++] = (triple >>> 8) & 255;
  }
  if (!hostIsLittleEndian) {
    const view = new DataView(floats.buffer);
    for (let i = 0; i < floats.length; i++) floats[i] = view.getFloat32(i * 4, true);
  }
  return floats;
}

function valueAt(text: string, index: number): number {
  const code = text.charCodeAt(index);
  return code < 128 ? VALUES[code]! : -1;
}

function isAlphabetOnly(text: string, end: number): boolean {
  for (let i = 0; i < end; i++) if (valueAt(text, i) < 0) return false;
  return true;
}
