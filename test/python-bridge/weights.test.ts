// charnn's weights in PyTorch and back. Export: a strict reader written with numpy alone loads
// each exported file into torch.nn (RNN/LSTM/GRU with num_layers, Embedding, Linear) and its
// held-out loss equals `charnn eval`'s. Import: state dicts a torch.nn module would save (rows in
// another order, a name prefix, float16 / bfloat16, no metadata) evaluate in charnn to PyTorch's loss.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { TORCH_SIDE, charnn, corpusText, python, relative, skipNote, temporaryFolder, torchMissing } from "./helpers.js";

const TOLERANCE = 1e-5;

interface ExportCase {
  name: string;
  flags: string[];
}

const EXPORT_CASES: ExportCase[] = [
  { name: "rnn tanh, 2 layers, one-hot", flags: ["--model", "rnn", "--layers", "2", "--hidden", "12"] },
  { name: "rnn relu, learned initial state", flags: ["--model", "rnn", "--activation", "relu", "--layers", "1", "--hidden", "10", "--learn-init"] },
  { name: "lstm, 2 layers, embedding, learned initial state", flags: ["--model", "lstm", "--layers", "2", "--hidden", "12", "--embed", "6", "--learn-init"] },
  { name: "gru, 2 layers, embedding", flags: ["--model", "gru", "--layers", "2", "--hidden", "11", "--embed", "5"] },
  { name: "gru, learned initial state, one-hot", flags: ["--model", "gru", "--layers", "1", "--hidden", "9", "--learn-init"] },
];

describe.skipIf(torchMissing !== null)(`export to PyTorch: the held-out loss matches charnn eval${skipNote}`, () => {
  const folder = temporaryFolder("export");
  const results: Array<{ charnn: number; torch: { nats: number; predictions: number; names: string[]; format: string } }> = [];

  beforeAll(async () => {
    const text = corpusText(1500);
    writeFileSync(path.join(folder.dir, "train.txt"), text);
    // The tail is the held-out part (val-frac 0.1), so every character is in the vocabulary.
    writeFileSync(path.join(folder.dir, "heldout.txt"), [...text].slice(-150).join(""));
    const pairs: string[] = [];
    for (const [index, c] of EXPORT_CASES.entries()) {
      const out = `run${index}`;
      const trained = await charnn(["train", "train.txt", ...c.flags, "--steps", "4", "--batch", "4", "--seq-len", "16", "--val-frac", "0.1", "--backend", "js", "--out", out], folder.dir);
      expect(trained.code, trained.stderr).toBe(0);
      const exported = await charnn(["export", `${out}/latest.json`, "--format", "safetensors", `${out}.safetensors`], folder.dir);
      expect(exported.code, exported.stderr).toBe(0);
      const evaluated = await charnn(["eval", "-c", `${out}/latest.json`, "heldout.txt", "--json"], folder.dir);
      expect(evaluated.code, evaluated.stderr).toBe(0);
      results.push({ charnn: JSON.parse(evaluated.stdout).nats, torch: undefined as never });
      pairs.push(`${out}.safetensors`, "heldout.txt");
    }
    const torchSide = await python([TORCH_SIDE, "check-export", ...pairs], folder.dir);
    expect(torchSide.code, torchSide.stderr).toBe(0);
    (JSON.parse(torchSide.stdout) as Array<(typeof results)[number]["torch"]>).forEach((value, index) => (results[index]!.torch = value));
  }, 300_000);
  afterAll(() => folder.remove());

  it.each(EXPORT_CASES.map((c, index) => [c.name, index] as const))("%s", (_name, index) => {
    const { charnn: nats, torch } = results[index]!;
    expect(torch.predictions).toBe(149);
    expect(relative(torch.nats, nats)).toBeLessThan(TOLERANCE);
    expect(torch.format).toBe("pt");
  });

  it("names the learned initial states h0 and c0, (L, H) each", () => {
    expect(results[2]!.torch.names).toEqual(expect.arrayContaining(["embedding.weight", "weight_ih_l1", "decoder.bias", "h0", "c0"]));
    expect(results[4]!.torch.names).toContain("h0");
    expect(results[4]!.torch.names).not.toContain("c0");
  });
});

interface StateDictCase {
  name: string;
  spec: Record<string, unknown>;
  importFlags: string[];
}

const STATE_DICT_CASES: StateDictCase[] = [
  {
    name: "lstm with an 'rnn.' prefix, float32, vocabulary as JSON code points",
    spec: { cell: "lstm", layers: 2, hidden: 10, embed: 0, learn_init: false, dtype: "F32", prefix: "rnn.", vocabulary: "v0.json" },
    importFlags: ["--prefix", "rnn.", "--vocabulary", "v0.json"],
  },
  {
    name: "gru with embedding and learned initial state, float16, vocabulary as text",
    spec: { cell: "gru", layers: 2, hidden: 8, embed: 5, learn_init: true, dtype: "F16", vocabulary: "v1.txt" },
    importFlags: ["--vocabulary", "v1.txt"],
  },
  {
    name: "rnn relu, bfloat16, names under 'module.rnn.'",
    spec: { cell: "rnn", activation: "relu", layers: 1, hidden: 9, embed: 4, learn_init: false, dtype: "BF16", prefix: "module.rnn.", vocabulary: "v2.json" },
    importFlags: ["--prefix", "module.rnn.", "--vocabulary", "v2.json", "--activation", "relu"],
  },
  {
    name: "lstm with learned initial state, one-hot input (columns reordered), float16",
    spec: { cell: "lstm", layers: 1, hidden: 7, embed: 0, learn_init: true, dtype: "F16", vocabulary: "v3.json" },
    importFlags: ["--vocabulary", "v3.json"],
  },
];

describe.skipIf(torchMissing !== null)(`import from a torch.nn state dict: charnn's loss matches PyTorch's${skipNote}`, () => {
  const folder = temporaryFolder("import");
  const torchLosses: Array<{ nats: number; predictions: number }> = [];

  beforeAll(async () => {
    writeFileSync(path.join(folder.dir, "text.txt"), corpusText(600));
    const specs = STATE_DICT_CASES.map((c, index) => ({ ...c.spec, seed: 7 + index, text: "text.txt", out: `sd${index}.safetensors` }));
    writeFileSync(path.join(folder.dir, "specs.json"), JSON.stringify(specs));
    const torchSide = await python([TORCH_SIDE, "write-state-dict", "specs.json"], folder.dir);
    expect(torchSide.code, torchSide.stderr).toBe(0);
    torchLosses.push(...JSON.parse(torchSide.stdout));
  }, 120_000);
  afterAll(() => folder.remove());

  it.each(STATE_DICT_CASES.map((c, index) => [c.name, index] as const))("%s", async (_name, index) => {
    const c = STATE_DICT_CASES[index]!;
    const imported = await charnn(["import", `sd${index}.safetensors`, "--out", `imported${index}`, ...c.importFlags], folder.dir);
    expect(imported.code, imported.stderr).toBe(0);
    const evaluated = await charnn(["eval", "-c", `imported${index}/latest.json`, "text.txt", "--json"], folder.dir);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const result = JSON.parse(evaluated.stdout);
    expect(result.predictions).toBe(torchLosses[index]!.predictions);
    expect(relative(result.nats, torchLosses[index]!.nats)).toBeLessThan(TOLERANCE);
  });

  it("without --vocabulary a plain state dict is refused, with exit 3 and one line", async () => {
    const refused = await charnn(["import", "sd0.safetensors", "--out", "never", "--prefix", "rnn."], folder.dir);
    expect(refused.code).toBe(3);
    expect(refused.stderr.trim().split("\n")).toHaveLength(1);
    expect(refused.stderr).toMatch(/no vocabulary.*--vocabulary/);
  });
});
