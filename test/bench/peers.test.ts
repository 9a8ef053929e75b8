// The peer scripts' command lines: the flags the bench passes, checked against the options the
// scripts in ../shared/peers really define (when that folder is there).

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { numpyArgs, tfjsArgs, torchArgs } from "../../bench/peers.js";

const peersDir = fileURLToPath(new URL("../../../shared/peers", import.meta.url));
const flagsOf = (args: string[]) => args.filter((arg) => arg.startsWith("--"));

describe("peer command lines", () => {
  it("run torch_charlstm.py for one config and thread count", () => {
    expect(torchArgs("/p", "C3", 2, 3, 2000)).toEqual(["/p/torch_charlstm.py", "--configs", "C3", "--threads", "2", "--windows", "3", "--sample", "2000"]);
  });

  it("run numpy_minrnn.py on min-char-rnn's own variant and the fastest one, with the iteration count", () => {
    const args = numpyArgs("/p", 1, 500, 2000);
    expect(args[0]).toBe("/p/numpy_minrnn.py");
    expect(args[args.indexOf("--variants") + 1]).toBe("onehot:float64,gather:float32");
    expect(args[args.indexOf("--iters") + 1]).toBe("500");
    expect(args[args.indexOf("--windows") + 1]).toBe("1");
  });

  it("run tfjs_charlstm.mjs on the wasm backend only, with short iteration counts", () => {
    const c2 = tfjsArgs("/p", "C2", 3, 2000);
    expect(c2[c2.indexOf("--backends") + 1]).toBe("wasm");
    expect(c2[c2.indexOf("--configs") + 1]).toBe("C2");
    expect(c2[c2.indexOf("--iters") + 1]).toMatch(/^\d+:\d+$/);
    const c3 = tfjsArgs("/p", "C3", 3, 2000);
    const [, c3PerWindow] = c3[c3.indexOf("--iters") + 1]!.split(":").map(Number);
    expect(c3PerWindow).toBeLessThanOrEqual(2); // the script's own C3 default; a C3 step takes about 30 s
  });

  it.skipIf(!existsSync(peersDir))("only use flags the scripts define", () => {
    const script = (name: string) => readFileSync(path.join(peersDir, name), "utf8");
    for (const flag of flagsOf(torchArgs(peersDir, "C2", 1, 3, 2000))) expect(script("torch_charlstm.py")).toContain(`add_argument("${flag}"`);
    for (const flag of flagsOf(numpyArgs(peersDir, 3, 2000, 2000))) expect(script("numpy_minrnn.py")).toContain(`add_argument("${flag}"`);
    // The TF.js script reads its flags from an object: args.backends, args.iters, ...
    for (const flag of flagsOf(tfjsArgs(peersDir, "C2", 3, 2000))) expect(script("tfjs_charlstm.mjs")).toMatch(new RegExp(`args(\\.${flag.slice(2)}\\b|\\['${flag.slice(2)}'\\])`));
  });
});
