// Cutting a text of code points into lines for `charnn eval --per-line`, and turning a run of
// code points back into a string without the argument-count limit of String.fromCodePoint(...).
// Not here: scoring or output; lines are index ranges into the caller's array, nothing is copied.

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
/** Code points per String.fromCodePoint call: well under V8's limit on spread arguments. */
const CHUNK = 8192;

export interface LineRange {
  /** First code point of the line. */
  start: number;
  /** One past the last, without the newline (and without a "\r" before it: CRLF text). */
  end: number;
}

/**
 * The lines of a text, in order. A final newline ends the last line rather than starting an
 * empty one, as `wc -l` and `sort` see it; an empty text has no lines.
 */
export function splitLines(codePoints: Uint32Array): LineRange[] {
  const lines: LineRange[] = [];
  let start = 0;
  for (let i = 0; i <= codePoints.length; i++) {
    const atEnd = i === codePoints.length;
    if (!atEnd && codePoints[i] !== NEWLINE) continue;
    if (atEnd && start === codePoints.length) break;
    const end = i > start && codePoints[i - 1] === CARRIAGE_RETURN ? i - 1 : i;
    lines.push({ start, end });
    start = i + 1;
  }
  return lines;
}

/** codePoints[start, end) as a string. */
export function textOf(codePoints: ArrayLike<number>, start = 0, end = codePoints.length): string {
  let text = "";
  for (let from = start; from < end; from += CHUNK) {
    const to = Math.min(end, from + CHUNK);
    text += String.fromCodePoint(...Array.prototype.slice.call(codePoints, from, to) as number[]);
  }
  return text;
}
