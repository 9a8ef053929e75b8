// Tests for src/cli/color.ts: the colour level as a table of environments and terminals, and
// that the chalk instance really emits (or omits) escape codes at that level.

import { describe, expect, it } from "vitest";
import { colorLevel, createColor } from "../../src/cli/color.js";

describe("colorLevel", () => {
  const table: [string, NodeJS.ProcessEnv, boolean, number][] = [
    ["a plain terminal", {}, true, 1],
    ["not a terminal", {}, false, 0],
    ["a 256-colour terminal", { TERM: "xterm-256color" }, true, 2],
    ["a true-colour terminal", { COLORTERM: "truecolor", TERM: "xterm-256color" }, true, 3],
    ["a dumb terminal", { TERM: "dumb" }, true, 0],
    ["NO_COLOR on a terminal", { NO_COLOR: "1" }, true, 0],
    ["NO_COLOR with any value", { NO_COLOR: "false" }, true, 0],
    ["an empty NO_COLOR is ignored", { NO_COLOR: "" }, true, 1],
    ["NO_COLOR beats FORCE_COLOR", { NO_COLOR: "1", FORCE_COLOR: "3" }, true, 0],
    ["FORCE_COLOR off a terminal", { FORCE_COLOR: "1" }, false, 1],
    ["FORCE_COLOR=2", { FORCE_COLOR: "2" }, false, 2],
    ["FORCE_COLOR=3", { FORCE_COLOR: "3" }, false, 3],
    ["FORCE_COLOR is capped at 3", { FORCE_COLOR: "9" }, false, 3],
    ["an empty FORCE_COLOR forces basic colour", { FORCE_COLOR: "" }, false, 1],
    ["FORCE_COLOR=true", { FORCE_COLOR: "true" }, false, 1],
    ["FORCE_COLOR=0 turns colour off on a terminal", { FORCE_COLOR: "0" }, true, 0],
    ["FORCE_COLOR=false turns colour off on a terminal", { FORCE_COLOR: "false" }, true, 0],
    ["CI=true on a terminal", { CI: "true" }, true, 0],
    ["CI=1 on a terminal", { CI: "1" }, true, 0],
    ["CI=false is not CI", { CI: "false" }, true, 1],
    ["CI=0 is not CI", { CI: "0" }, true, 1],
    ["CI forced by FORCE_COLOR", { CI: "true", FORCE_COLOR: "1" }, false, 1],
  ];

  it.each(table)("%s", (_name, env, isTTY, level) => {
    expect(colorLevel(env, isTTY)).toBe(level);
  });
});

describe("createColor", () => {
  it("emits escape codes only when the level allows", () => {
    expect(createColor({}, true).red("x")).toBe("\x1b[31mx\x1b[39m");
    expect(createColor({}, false).red("x")).toBe("x");
    expect(createColor({ NO_COLOR: "1" }, true).red("x")).toBe("x");
  });
});
