// How one character is shown in a message or a listing: as itself when it is visible, as an
// escape when it would print as nothing or move the cursor. Used by every place that shows a
// vocabulary or an unknown character, so they all escape alike. Not here: decoding text.

const NAMED_ESCAPES: ReadonlyMap<number, string> = new Map([
  [0x09, "\\t"],
  [0x0a, "\\n"],
  [0x0d, "\\r"],
  [0x22, '\\"'],
  [0x5c, "\\\\"],
]);

/** Escapes from \u0000 to \uFFFF are written with four digits, beyond with braces. */
const BMP_LIMIT = 0x10000;

/** "U+00E9": the code point's label, four hex digits at least. */
export function codePointLabel(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * A valid code point as it should appear between double quotes: `\n`, `\t`, `\"` and `\\` by
 * name; `\u00A0` for controls, format characters, separators other than the space, unassigned
 * and private-use code points; a dotted circle under a combining mark so it has a base to sit
 * on; otherwise the character itself.
 */
export function escapeCodePoint(codePoint: number): string {
  const named = NAMED_ESCAPES.get(codePoint);
  if (named !== undefined) return named;
  const character = String.fromCodePoint(codePoint);
  if (codePoint !== 0x20 && /[\p{C}\p{Z}]/u.test(character)) {
    const hex = codePoint.toString(16).toUpperCase().padStart(4, "0");
    return codePoint < BMP_LIMIT ? `\\u${hex}` : `\\u{${hex}}`;
  }
  if (/\p{M}/u.test(character)) return `\u25CC${character}`;
  return character;
}

export const MAX_CODE_POINT = 0x10ffff;
export const isSurrogate = (codePoint: number): boolean => codePoint >= 0xd800 && codePoint <= 0xdfff;

/**
 * `"é" (U+00E9)`, `"\n" (U+000A)`, `"\u00A0" (U+00A0)`: the character in quotes when it is
 * visible, an escape when it would print as nothing (controls, format characters, spaces
 * other than U+0020, separators, unassigned or private-use code points), and a dotted circle
 * under a combining mark so the mark has something to sit on.
 */
export function describeCodePoint(codePoint: number): string {
  const label = codePointLabel(codePoint);
  if (!Number.isInteger(codePoint) || codePoint < 0 || codePoint > MAX_CODE_POINT || isSurrogate(codePoint)) {
    return `(${label}, not a character)`;
  }
  return `"${escapeCodePoint(codePoint)}" (${label})`;
}

/** The code points of a string, one per character (a surrogate pair is one). */
export function codePointsOf(text: string): Uint32Array {
  const codePoints: number[] = [];
  for (const character of text) codePoints.push(character.codePointAt(0)!);
  return Uint32Array.from(codePoints);
}
