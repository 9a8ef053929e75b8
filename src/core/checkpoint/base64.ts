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

/** Characters of output encoded per TextDecoder call, so no single step builds a huge array of numbers. */
const ENCODE_CHUNK_BYTES = 3 * (1 << 20);

export function floatsToBase64(values: Float32Array): string {
  const bytes = littleEndianBytesOf(values);
  const decoder = new TextDecoder("latin1");
  let text = "";
  for (let start = 0; start < bytes.length; start += ENCODE_CHUNK_BYTES) {
    text += decoder.decode(encodeChunk(bytes.subarray(start, Math.min(bytes.length, start + ENCODE_CHUNK_BYTES))));
  }
  return text;
}

/** The base64 characters (as ASCII codes) of `bytes`, padded. */
function encodeChunk(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4);
  let o = 0, i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const triple = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[o++] = ALPHABET_CODES[triple >>> 18]!;
    out[o++] = ALPHABET_CODES[(triple >>> 12) & 63]!;
    out[o++] = ALPHABET_CODES[(triple >>> 6) & 63]!;
    out[o++] = ALPHABET_CODES[triple & 63]!;
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const triple = (bytes[i]! << 16) | (rest === 2 ? bytes[i + 1]! << 8 : 0);
    out[o++] = ALPHABET_CODES[triple >>> 18]!;
    out[o++] = ALPHABET_CODES[(triple >>> 12) & 63]!;
    out[o++] = rest === 2 ? ALPHABET_CODES[(triple >>> 6) & 63]! : PAD;
    out[o++] = PAD;
  }
  return out;
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
