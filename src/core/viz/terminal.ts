// Text coloured by one unit's value, for a terminal: a background colour per character, red for
// positive and blue for negative, in true colour, the 256-colour cube or the 16 basic colours by
// the level given; at level 0 no escape bytes at all, and a row of markers under each line says
// the values instead. Returns strings; deciding the level from a terminal is the caller's job.

/** chalk's levels: 0 none, 1 16 colours, 2 256 colours, 3 true colour. */
export type ColorLevel = 0 | 1 | 2 | 3;

export interface TerminalViewOptions {
  level: ColorLevel;
  /** Values are divided by this and clamped to [-1, 1] before colouring (see valueScale). */
  scale: number;
  /** Columns a tab advances to (the next multiple). */
  tabWidth?: number;
  /** At level 0, lines longer than this are wrapped so each marker stays under its character. */
  width?: number;
}

const ESC = "\u001b[";
const RESET = `${ESC}0m`;
/** The neutral colour 0 fades from, and the two ends (ColorBrewer RdBu's darkest red and blue). */
const NEUTRAL: RGB = [48, 48, 48];
const POSITIVE: RGB = [214, 39, 40];
const NEGATIVE: RGB = [33, 102, 172];

type RGB = readonly [number, number, number];

/**
 * What a unit's values are divided by: the hidden state h of tanh cells lies in (-1, 1), so 1
 * keeps one colour meaning one value across units; c (and a relu h) is unbounded, so its largest
 * magnitude over the text.
 */
export function valueScale(values: ArrayLike<number>, state: "h" | "c"): number {
  let largest = 0;
  for (let i = 0; i < values.length; i++) largest = Math.max(largest, Math.abs(values[i]!));
  if (state === "h") return Math.max(1, largest);
  return largest > 0 ? largest : 1;
}

const clamp = (v: number): number => (Number.isNaN(v) ? 0 : Math.max(-1, Math.min(1, v)));

/** The background colour of a value already scaled to [-1, 1]. */
export function colorOf(v: number): RGB {
  const t = Math.abs(clamp(v)), end = v >= 0 ? POSITIVE : NEGATIVE;
  return [0, 1, 2].map((i) => Math.round(NEUTRAL[i]! + (end[i]! - NEUTRAL[i]!) * t)) as unknown as RGB;
}

/** One of five bins, -2..2: strong negative, weak negative, about zero, weak positive, strong positive. */
export function binOf(v: number): -2 | -1 | 0 | 1 | 2 {
  const x = clamp(v);
  if (x > 0.5) return 2;
  if (x > 0.15) return 1;
  if (x < -0.5) return -2;
  if (x < -0.15) return -1;
  return 0;
}

/** The level-0 marker of each bin, strong negative first. */
export const MARKERS = ["=", "-", " ", "+", "#"] as const;

/** The escape that sets the background (and a readable foreground) for a scaled value. */
export function backgroundEscape(v: number, level: ColorLevel): string {
  if (level === 0) return "";
  if (level === 1) {
    // Basic colours: blue/red, bright for strong values (with black text), none near zero.
    const codes: Record<number, string> = { [-2]: "104;30", [-1]: "44;97", 0: "49;39", 1: "41;97", 2: "101;30" };
    return `${ESC}${codes[binOf(v)]}m`;
  }
  const [r, g, b] = colorOf(v);
  if (level === 2) {
    // The 6x6x6 cube of the 256-colour palette: 16 + 36r + 6g + b, each of r, g, b in 0..5.
    const cube = (x: number): number => Math.round((x / 255) * 5);
    return `${ESC}48;5;${16 + 36 * cube(r) + 6 * cube(g) + cube(b)};97m`;
  }
  return `${ESC}48;2;${r};${g};${b};97m`;
}

/** Columns a character takes in a terminal: 0 for combining marks, 2 for wide East Asian and emoji. */
export function columnsOf(character: string): number {
  const cp = character.codePointAt(0)!;
  if (/\p{M}/u.test(character)) return 0;
  const wide =
    (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1faff) || (cp >= 0x20000 && cp <= 0x3fffd);
  return wide ? 2 : 1;
}

interface Cell {
  /** What is printed for the character (a tab as spaces, a newline as one space, a control as ·). */
  shown: string;
  columns: number;
  value: number;
}

/** The text split into lines of display cells; a newline ends its line as a cell of its own. */
function layout(characters: readonly string[], values: ArrayLike<number>, scale: number, tabWidth: number): Cell[][] {
  const lines: Cell[][] = [[]];
  let column = 0;
  characters.forEach((character, t) => {
    const value = clamp(values[t]! / scale);
    const line = lines[lines.length - 1]!;
    if (character === "\n") {
      line.push({ shown: " ", columns: 1, value });
      lines.push([]);
      column = 0;
      return;
    }
    let cell: Cell;
    if (character === "\t") {
      const columns = tabWidth - (column % tabWidth);
      cell = { shown: " ".repeat(columns), columns, value };
    } else if (/\p{Cc}/u.test(character)) cell = { shown: "\u00b7", columns: 1, value };
    else cell = { shown: character, columns: columnsOf(character), value };
    line.push(cell);
    column += cell.columns;
  });
  if (lines.length > 1 && lines[lines.length - 1]!.length === 0) lines.pop();
  return lines;
}

/** Splits a line into pieces of at most `width` columns (a wide character never straddles two). */
function wrap(line: Cell[], width: number): Cell[][] {
  const pieces: Cell[][] = [[]];
  let used = 0;
  for (const cell of line) {
    if (used + cell.columns > width && used > 0) {
      pieces.push([]);
      used = 0;
    }
    pieces[pieces.length - 1]!.push(cell);
    used += cell.columns;
  }
  return pieces;
}

/**
 * The characters with one value each, as terminal text ending in a newline. Levels 1-3 colour
 * each character's background and reset before every line end; level 0 writes each line plainly
 * with a marker row under it (MARKERS by binOf), and never an escape byte.
 */
export function renderTerminal(characters: readonly string[], values: ArrayLike<number>, options: TerminalViewOptions): string {
  if (values.length !== characters.length) throw new RangeError(`${values.length} values for ${characters.length} characters`);
  const lines = layout(characters, values, options.scale > 0 ? options.scale : 1, options.tabWidth ?? 4);
  let out = "";
  if (options.level === 0) {
    const width = options.width !== undefined && options.width > 0 ? options.width : Infinity;
    for (const line of lines) {
      for (const piece of wrap(line, width)) {
        const text = piece.map((cell) => cell.shown).join("");
        const markers = piece.map((cell) => MARKERS[binOf(cell.value) + 2].repeat(cell.columns)).join("");
        out += `${text.trimEnd()}\n${markers.trimEnd()}\n`;
      }
    }
    return out;
  }
  for (const line of lines) {
    let current = "";
    for (const cell of line) {
      const escape = backgroundEscape(cell.value, options.level);
      if (escape !== current) out += escape;
      current = escape;
      out += cell.shown;
    }
    out += `${RESET}\n`;
  }
  return out;
}

/**
 * One line that says how to read the view: at level 0 what each marker means, else a strip of
 * the colours from -scale to +scale.
 */
export function renderLegend(level: ColorLevel, scale: number): string {
  const at = (x: number): string => (x * scale).toFixed(2);
  if (level === 0) {
    return `${MARKERS[0]} < ${at(-0.5)}  ${MARKERS[1]} < ${at(-0.15)}  ${MARKERS[3]} > ${at(0.15)}  ${MARKERS[4]} > ${at(0.5)}\n`;
  }
  let strip = "";
  for (let i = -5; i <= 5; i++) strip += `${backgroundEscape(i / 5, level)}  `;
  return `${at(-1)} ${strip}${RESET} ${at(1)}\n`;
}
