// Whether stderr gets colour, as a pure function of the environment and the terminal, and a chalk
// instance at that level. chalk 5's default instance decides from the real process at import
// time and ignores NO_COLOR, so charnn never uses it: every colour goes through createColor.

import { Chalk, type ChalkInstance } from "chalk";

/** chalk's levels: 0 none, 1 16 colours, 2 256 colours, 3 true colour. */
export type ColorLevel = 0 | 1 | 2 | 3;

/** FORCE_COLOR as supports-color reads it: "", "true" and "1" force basic colour, "0"/"false" force none. */
function forcedLevel(value: string): ColorLevel {
  if (value === "" || value === "true") return 1;
  if (value === "false") return 0;
  const level = Number.parseInt(value, 10);
  if (Number.isNaN(level)) return 1;
  return Math.max(0, Math.min(level, 3)) as ColorLevel;
}

function isCi(env: NodeJS.ProcessEnv): boolean {
  const value = env.CI;
  return value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false";
}

/**
 * Decides the colour level for a stream. In order: NO_COLOR (any non-empty value, no-color.org)
 * turns colour off; FORCE_COLOR sets it; CI logs and non-terminals get none; TERM=dumb gets none;
 * otherwise COLORTERM / TERM say how many colours the terminal has.
 */
export function colorLevel(env: NodeJS.ProcessEnv, isTTY: boolean): ColorLevel {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return 0;
  if (env.FORCE_COLOR !== undefined) return forcedLevel(env.FORCE_COLOR);
  if (isCi(env)) return 0;
  if (!isTTY) return 0;
  const term = env.TERM ?? "";
  if (term === "dumb") return 0;
  const colorterm = (env.COLORTERM ?? "").toLowerCase();
  if (colorterm === "truecolor" || colorterm === "24bit") return 3;
  if (term.includes("256")) return 2;
  return 1;
}

export function createColor(env: NodeJS.ProcessEnv, isTTY: boolean): ChalkInstance {
  return new Chalk({ level: colorLevel(env, isTTY) });
}
