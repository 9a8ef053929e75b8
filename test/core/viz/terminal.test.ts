// The terminal view at each colour level, byte for byte where it matters: the escape each level
// uses, resets before line ends, and at level 0 no escape byte at all with markers under each
// character (tabs, wide characters and wrapping keep them aligned).

import { describe, expect, it } from "vitest";
import { backgroundEscape, binOf, colorOf, renderLegend, renderTerminal, valueScale } from "../../../src/core/viz/terminal.js";

const chars = [..."ab\ncd"];
const values = [1, -1, 0, 0.3, -0.3];

describe("renderTerminal", () => {
  it("true colour: a 48;2;r;g;b background per colour change and a reset before each newline", () => {
    const out = renderTerminal(chars, values, { level: 3, scale: 1 });
    expect(out).toBe(
      `\u001b[48;2;214;39;40;97ma\u001b[48;2;33;102;172;97mb\u001b[48;2;48;48;48;97m \u001b[0m\n` +
        `${backgroundEscape(0.3, 3)}c${backgroundEscape(-0.3, 3)}d\u001b[0m\n`,
    );
  });

  it("256 colours: indices of the 6x6x6 cube", () => {
    const out = renderTerminal(chars, values, { level: 2, scale: 1 });
    // (214,39,40) -> (4,1,1) -> 16 + 144 + 6 + 1 = 167; (33,102,172) -> (1,2,3) -> 16 + 36 + 12 + 3 = 67.
    expect(out.startsWith("\u001b[48;5;167;97ma\u001b[48;5;67;97mb")).toBe(true);
    expect(out).not.toMatch(/48;2;/);
  });

  it("16 colours: basic and bright red and blue backgrounds by bin, the default near zero", () => {
    const out = renderTerminal(chars, values, { level: 1, scale: 1 });
    expect(out).toBe("\u001b[101;30ma\u001b[104;30mb\u001b[49;39m \u001b[0m\n\u001b[41;97mc\u001b[44;97md\u001b[0m\n");
  });

  it("level 0: not one escape byte, and a marker row under each line", () => {
    const out = renderTerminal(chars, values, { level: 0, scale: 1 });
    expect(out).not.toContain("\u001b");
    expect(out).toBe("ab\n#=\ncd\n+-\n");
  });

  it("level 0 keeps markers under their characters across tabs and wide characters, and wraps at a width", () => {
    expect(renderTerminal([..."\tx"], [1, -1], { level: 0, scale: 1, tabWidth: 4 })).toBe("    x\n####=\n");
    expect(renderTerminal([..."漢a"], [1, -1], { level: 0, scale: 1 })).toBe("漢a\n##=\n");
    expect(renderTerminal([..."abcdef"], [1, 1, 1, -1, -1, -1], { level: 0, scale: 1, width: 4 })).toBe("abcd\n###=\nef\n==\n");
  });

  it("scales values before colouring, so the same value is stronger on a smaller scale", () => {
    expect(binOf(0.4)).toBe(1);
    const out = renderTerminal(["a"], [0.4], { level: 0, scale: 0.5 });
    expect(out).toBe("a\n#\n");
    expect(colorOf(0)).toEqual([48, 48, 48]);
  });
});

describe("valueScale and the legend", () => {
  it("h keeps a scale of 1 unless values exceed it; c scales to its largest magnitude", () => {
    expect(valueScale([0.2, -0.5], "h")).toBe(1);
    expect(valueScale([0.2, -3], "h")).toBe(3);
    expect(valueScale(Float32Array.from([0.25, -0.5]), "c")).toBe(0.5);
    expect(valueScale([0, 0], "c")).toBe(1);
  });

  it("says what markers mean at level 0 without escapes, and shows a colour strip otherwise", () => {
    expect(renderLegend(0, 2)).toBe("= < -1.00  - < -0.30  + > 0.30  # > 1.00\n");
    expect(renderLegend(3, 1)).toContain("\u001b[48;2;");
    expect(renderLegend(3, 1).endsWith("\u001b[0m 1.00\n")).toBe(true);
  });
});
