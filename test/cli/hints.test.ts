// The CLI's hints: an engine error's code and facts become a sentence naming the flags, and an
// error the table does not know keeps the engine's own hint.

import { describe, expect, it } from "vitest";
import { cliHint } from "../../src/cli/hints.js";
import { StreamBatcher, splitValidation } from "../../src/core/data/batches.js";
import { CharnnError, ExitCode } from "../../src/core/errors.js";
import { selectKernels } from "../../src/node/backend.js";

const caught = (run: () => unknown): CharnnError => {
  try {
    run();
  } catch (error) {
    if (error instanceof CharnnError) return error;
    throw error;
  }
  throw new Error("did not throw");
};

describe("cliHint", () => {
  it("names the flag of an out-of-range setting by its key", () => {
    expect(cliHint(caught(() => new StreamBatcher(new Uint32Array(10), 0, 2)))).toBe("check --batch");
    expect(cliHint(caught(() => new StreamBatcher(new Uint32Array(10), 2, 0)))).toBe("check --seq-len");
    expect(cliHint(caught(() => splitValidation(new Uint32Array(10), 1)))).toBe("check --val-frac");
    expect(cliHint(caught(() => selectKernels("wasm", -1)))).toBe("check --threads");
    // The key is the setting's own, so the flag named is one the CLI has.
    expect(caught(() => splitValidation(new Uint32Array(10), 1)).facts).toMatchObject({ key: "valFrac", value: 1 });
  });

  it("words a too-short corpus with the flags that change what is needed", () => {
    const error = caught(() => new StreamBatcher(new Uint32Array(5), 2, 2));
    expect(error.hint).not.toMatch(/--/);
    expect(cliHint(error)).toBe("lower --batch or --seq-len, or give more text");
  });

  it("gives the backend that ran out of memory its own advice", () => {
    const js = new CharnnError("x", ExitCode.failure, "engine words", { code: "memory.allocation-failed", facts: { backend: "js" } });
    const wasm = new CharnnError("x", ExitCode.failure, "engine words", { code: "memory.allocation-failed", facts: { backend: "wasm" } });
    expect(cliHint(js)).toBe("use a smaller --batch, --seq-len, --hidden or --layers");
    expect(cliHint(wasm)).toBe("use a smaller --batch, --seq-len or --hidden, or --backend js");
  });

  it("keeps the engine's hint for a code it has no sentence for", () => {
    expect(cliHint(new CharnnError("x", ExitCode.failure, "the engine's hint", { code: "something.else" }))).toBe("the engine's hint");
    expect(cliHint(new CharnnError("x", ExitCode.failure))).toBeUndefined();
  });
});
