// Bytes → Unicode code points for a corpus: strict UTF-8 (BOM dropped), or UTF-16 when a
// byte-order mark says so. Our own decoder, so an error can name the file and the byte.
// Not a general text codec: no normalisation, no replacement characters, no legacy
// encodings, and never a JavaScript string in between (a 100 MB corpus would not fit twice).

import { badInput, type CharnnError } from "../errors.js";

/** git's heuristic looks at a prefix of this size for NUL (git uses 8000; 8 KiB here). */
const BINARY_SNIFF_BYTES = 8192;

const iconvHint = (sourceName: string, what: string): string =>
  `${what}; if the file is in another encoding, convert it first, e.g. ` +
  `iconv -f LATIN1 -t UTF-8 ${sourceName} > converted.txt`;

const hasUtf16ByteOrderMark = (bytes: Uint8Array): boolean =>
  bytes.length >= 2 &&
  ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));

/**
 * True when the first 8 KiB contain a NUL byte, the way git decides a file is binary.
 * A file that opens with a UTF-16 byte-order mark is text (its ASCII characters carry NUL
 * high bytes), because decodeText reads it.
 */
export function looksBinary(bytes: Uint8Array): boolean {
  if (hasUtf16ByteOrderMark(bytes)) return false;
  const end = Math.min(bytes.length, BINARY_SNIFF_BYTES);
  for (let i = 0; i < end; i++) if (bytes[i] === 0) return true;
  return false;
}

const binaryFile = (sourceName: string, offset: number): CharnnError =>
  badInput(
    `${sourceName}: looks like a binary file (NUL byte at byte ${offset})`,
    "charnn trains on text; pass text files only (directories skip binary files by themselves)",
  );

/**
 * Decode a corpus file to code points.
 *
 * - UTF-16LE / UTF-16BE when the bytes open with FF FE / FE FF (the mark is dropped);
 * - otherwise strict UTF-8 (a leading EF BB BF is dropped), where a NUL byte means binary.
 *
 * Errors are `badInput` with the offset of the first byte of the offending sequence, so
 * that `xxd -s OFFSET` shows it (for a Latin-1 "é" that is the é itself, not what follows).
 */
export function decodeText(bytes: Uint8Array, sourceName: string): Uint32Array {
  // At most one code point per byte (UTF-16: per two bytes, the mark not counted).
  const out = new Uint32Array(hasUtf16ByteOrderMark(bytes) ? Math.max(0, (bytes.length - 2) >>> 1) : bytes.length);
  return trimmed(out, decodeTextInto(bytes, sourceName, out, 0));
}

/**
 * As decodeText, writing the code points into `out` from `offset` (which must have room for
 * codePointCount(bytes) of them); returns how many were written. Lets many files be decoded
 * into one buffer without a buffer per file.
 */
export function decodeTextInto(bytes: Uint8Array, sourceName: string, out: Uint32Array, offset: number): number {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) {
    return decodeUtf16(bytes, sourceName, true, out, offset);
  }
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) {
    return decodeUtf16(bytes, sourceName, false, out, offset);
  }
  return decodeUtf8(bytes, sourceName, out, offset);
}

/**
 * How many code points decodeText gives for `bytes` when they are valid, counted without
 * decoding: lets a caller size one buffer for many files before decoding them into it.
 * Invalid bytes give a count too; decodeText is what rejects them.
 */
export function codePointCount(bytes: Uint8Array): number {
  if (hasUtf16ByteOrderMark(bytes)) {
    // Each unit is a code point, except the low half of a surrogate pair.
    const lowByte = bytes[0] === 0xff ? 0 : 1;
    let count = 0;
    for (let i = 2; i + 1 < bytes.length; i += 2) {
      const high = bytes[i + 1 - lowByte]!;
      if (high < 0xdc || high > 0xdf) count++;
    }
    return count;
  }
  // Every byte but a continuation byte (10xxxxxx) starts a code point; a UTF-8 BOM is dropped.
  let count = 0;
  for (let i = 0; i < bytes.length; i++) if ((bytes[i]! & 0xc0) !== 0x80) count++;
  const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  return bom ? count - 1 : count;
}

/**
 * Keep the over-allocated buffer when little of it is unused, otherwise copy the used part
 * so that the upper-bound allocation (4 bytes per input byte) can be freed.
 */
function trimmed(out: Uint32Array, used: number): Uint32Array {
  if (used === out.length) return out;
  if (out.length - used <= out.length >>> 3) return out.subarray(0, used);
  return out.slice(0, used);
}

/**
 * Well-formed UTF-8 per the Unicode Standard, Table 3-7: the second byte's range depends
 * on the lead byte, which is what rules out overlongs (E0 80..9F, F0 80..8F), encoded
 * surrogates (ED A0..BF) and code points above U+10FFFF (F4 90..BF, F5..FF). C0 and C1
 * can only start overlong two-byte forms.
 */
function decodeUtf8(bytes: Uint8Array, sourceName: string, out: Uint32Array, offset: number): number {
  const length = bytes.length;
  let i = 0;
  if (length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3;
  let n = offset;

  while (i < length) {
    let lead = bytes[i];

    if (lead < 0x80) {
      // Runs of ASCII are the common case; an inner loop keeps them off the multi-byte path.
      do {
        if (lead === 0) throw binaryFile(sourceName, i);
        out[n++] = lead;
        i++;
      } while (i < length && (lead = bytes[i]) < 0x80);
      continue;
    }

    let sequenceLength: number;
    let secondMin = 0x80;
    let secondMax = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) {
      sequenceLength = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      sequenceLength = 3;
      if (lead === 0xe0) secondMin = 0xa0;
      else if (lead === 0xed) secondMax = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      sequenceLength = 4;
      if (lead === 0xf0) secondMin = 0x90;
      else if (lead === 0xf4) secondMax = 0x8f;
    } else {
      throw invalidUtf8(bytes, sourceName, i, invalidLeadReason(lead));
    }

    if (i + sequenceLength > length) {
      // Still check the bytes that are there: "E0 80" at the end is an overlong, not just short.
      checkAvailableContinuations(bytes, sourceName, i, secondMin, secondMax);
      throw invalidUtf8(bytes, sourceName, i, "a multi-byte sequence is cut off by the end of the file");
    }

    const second = bytes[i + 1];
    if (second < secondMin || second > secondMax) {
      throw invalidUtf8(bytes, sourceName, i, secondByteReason(lead, second));
    }

    if (sequenceLength === 2) {
      out[n++] = ((lead & 0x1f) << 6) | (second & 0x3f);
      i += 2;
      continue;
    }

    const third = bytes[i + 2];
    if ((third & 0xc0) !== 0x80) {
      throw invalidUtf8(bytes, sourceName, i, "a multi-byte sequence is cut short");
    }
    if (sequenceLength === 3) {
      out[n++] = ((lead & 0x0f) << 12) | ((second & 0x3f) << 6) | (third & 0x3f);
      i += 3;
      continue;
    }

    const fourth = bytes[i + 3];
    if ((fourth & 0xc0) !== 0x80) {
      throw invalidUtf8(bytes, sourceName, i, "a multi-byte sequence is cut short");
    }
    out[n++] =
      ((lead & 0x07) << 18) | ((second & 0x3f) << 12) | ((third & 0x3f) << 6) | (fourth & 0x3f);
    i += 4;
  }

  return n - offset;
}

function checkAvailableContinuations(
  bytes: Uint8Array,
  sourceName: string,
  start: number,
  secondMin: number,
  secondMax: number,
): void {
  const lead = bytes[start];
  if (start + 1 >= bytes.length) return;
  const second = bytes[start + 1];
  if (second < secondMin || second > secondMax) {
    throw invalidUtf8(bytes, sourceName, start, secondByteReason(lead, second));
  }
  if (start + 2 < bytes.length && (bytes[start + 2] & 0xc0) !== 0x80) {
    throw invalidUtf8(bytes, sourceName, start, "a multi-byte sequence is cut short");
  }
}

function invalidLeadReason(lead: number): string {
  if (lead >= 0x80 && lead <= 0xbf) return "a continuation byte has no lead byte";
  if (lead === 0xc0 || lead === 0xc1) return "an overlong (non-shortest) encoding";
  return "a byte that never occurs in UTF-8 (it would encode a code point above U+10FFFF)";
}

function secondByteReason(lead: number, second: number): string {
  if ((second & 0xc0) !== 0x80) return "a multi-byte sequence is cut short";
  if (lead === 0xe0 || lead === 0xf0) return "an overlong (non-shortest) encoding";
  if (lead === 0xed) return "a UTF-16 surrogate encoded in UTF-8";
  return "a code point above U+10FFFF";
}

function invalidUtf8(
  bytes: Uint8Array,
  sourceName: string,
  offset: number,
  reason: string,
): CharnnError {
  // Binary files are rarely valid UTF-8 up to their first NUL (a PNG fails at byte 0), so
  // name the likelier cause when the git heuristic agrees.
  const sniffEnd = Math.min(bytes.length, BINARY_SNIFF_BYTES);
  for (let i = 0; i < sniffEnd; i++) if (bytes[i] === 0) return binaryFile(sourceName, i);
  return badInput(
    `${sourceName}: not valid UTF-8 at byte ${offset}`,
    iconvHint(sourceName, `the bytes there are ${reason}`),
  );
}

/**
 * UTF-16 with a byte-order mark: code units are read in the marked order, surrogate pairs
 * are joined (Unicode Standard, section 3.9, D91), and an unpaired surrogate is an error.
 */
function decodeUtf16(bytes: Uint8Array, sourceName: string, littleEndian: boolean, out: Uint32Array, offset: number): number {
  const encoding = littleEndian ? "UTF-16LE" : "UTF-16BE";
  if (bytes.length % 2 !== 0) {
    throw badInput(
      `${sourceName}: not valid ${encoding}: odd number of bytes (${bytes.length})`,
      "the file may be truncated or not UTF-16 at all",
    );
  }
  const lowByte = littleEndian ? 0 : 1;
  const highByte = 1 - lowByte;
  const length = bytes.length;
  let n = offset;

  for (let i = 2; i < length; i += 2) {
    const unit = bytes[i + lowByte] | (bytes[i + highByte] << 8);
    if (unit < 0xd800 || unit > 0xdfff) {
      out[n++] = unit;
      continue;
    }
    if (unit <= 0xdbff && i + 2 < length) {
      const next = bytes[i + 2 + lowByte] | (bytes[i + 2 + highByte] << 8);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out[n++] = 0x10000 + ((unit - 0xd800) << 10) + (next - 0xdc00);
        i += 2;
        continue;
      }
    }
    throw badInput(
      `${sourceName}: not valid ${encoding}: unpaired surrogate at byte ${i}`,
      `the code unit there (U+${unit.toString(16).toUpperCase()}) has no partner; the file is damaged or not UTF-16`,
    );
  }

  return n - offset;
}
