// Format-1 checkpoints written by charnn 0.1.0 (test/fixtures/checkpoint-v1/) still load, and
// read as a version 2 state: a whole training state, the saved command line as the one
// invocation, setting sources told from it and the defaults, the kernel variant from the backend.

import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { decodeCheckpoint, modelFromCheckpoint } from "../../../src/core/checkpoint/load.js";
import { encodeCheckpoint } from "../../../src/core/checkpoint/format.js";
import { expectSameState } from "./state-fixture.js";

const FIXTURES = new URL("../../fixtures/checkpoint-v1/", import.meta.url);
const NAMES = ["lstm", "gru-embed", "rnn-learn-init"] as const;
const bytesOf = (name: string): Promise<Uint8Array> => readFile(new URL(`${name}.json`, FIXTURES));

describe("format 1 fixtures", () => {
  it("are format 1 files (so this test keeps meaning what it says)", async () => {
    for (const name of NAMES) {
      const text = new TextDecoder().decode(await bytesOf(name));
      expect(text.startsWith('{"format":"charnn-checkpoint","version":1,'), name).toBe(true);
    }
  });

  it("load from bytes as training states with the record filled in", async () => {
    for (const name of NAMES) {
      const bytes = await bytesOf(name);
      const document = JSON.parse(new TextDecoder().decode(bytes));
      const state = decodeCheckpoint(bytes, `${name}.json`);
      expect(state.kind, name).toBe("training");
      expect(state.invocations, name).toEqual([{ argv: document.command, startedAt: document.createdAt, fromStep: 0 }]);
      expect(state.corpus, name).toEqual({ ...document.corpus, paths: [] });
      expect(state.runtime, name).toEqual({ ...document.runtime, variant: "js" });
      expect(state.schedule, name).toEqual({ totalSteps: null });
      expect(state.startState, name).toBeNull();
      expect(state.choice, name).toBeNull();
      // Per-invocation switches are not the run's settings.
      for (const key of ["out", "json", "keep", "logEvery", "resume", "initFrom", "dryRun"]) expect(state.config, `${name} ${key}`).not.toHaveProperty(key);
      expect(state.config.hidden, name).toBe(8);
      expect(state.settingSources.hidden, name).toBe("given");
      expect(state.settingSources.seed, name).toBe("default");
      expect(state.settingSources.batch, name).toBe("given");
      expect(state.step, name).toBe(6);
      const { model, vocabulary } = modelFromCheckpoint(state);
      expect(vocabulary.size, name).toBe(document.vocabulary.length);
      expect(model.params.size, name).toBe(Object.values(state.params).reduce((sum, tensor) => sum + tensor.data.length, 0));
    }
  });

  it("say which settings each cell used", async () => {
    const gru = decodeCheckpoint(await bytesOf("gru-embed"), "gru-embed.json");
    expect([gru.config.model, gru.config.embed, gru.settingSources.embed]).toEqual(["gru", 5, "given"]);
    const rnn = decodeCheckpoint(await bytesOf("rnn-learn-init"), "rnn-learn-init.json");
    expect([rnn.config.model, rnn.config.learnInit, rnn.config.optimizer, rnn.settingSources.learnInit]).toEqual(["rnn", true, "rmsprop", "given"]);
    expect(Object.keys(rnn.params)).toContain("h0_l0");
  });

  it("save again as version 2 and read back to the same state", async () => {
    for (const name of NAMES) {
      const state = decodeCheckpoint(await bytesOf(name), `${name}.json`);
      const text = encodeCheckpoint(state);
      expect(text.startsWith('{"format":"charnn-checkpoint","version":2,"kind":"training",'), name).toBe(true);
      expectSameState(decodeCheckpoint(text, `${name}.json`), state);
    }
  });
});
