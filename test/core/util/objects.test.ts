import { describe, expect, it } from "vitest";
import { isPlainObject } from "../../../src/core/util/objects.js";

describe("isPlainObject", () => {
  it.each([
    [{}, true],
    [{ a: 1 }, true],
    [Object.create(null), true],
    [null, false],
    [[], false],
    [[1], false],
    ["{}", false],
    [1, false],
    [undefined, false],
  ])("%j → %s", (value, expected) => {
    expect(isPlainObject(value)).toBe(expected);
  });
});
