#!/usr/bin/env python3
"""The PyTorch side of the bridge tests, written for them with numpy and torch.nn alone (not
the companion): a strict safetensors reader, plain torch.nn models built from what it reads,
and a writer of state dicts as a user's own torch.nn module would save them. Prints JSON.

  check-export FILE TEXT [FILE TEXT ...]   -> [{"nats", "predictions", "names"}]
  write-state-dict SPEC_JSON               -> [{"nats", "predictions"}]
  companion-steps SPEC_JSON                -> runs the companion's train() in this process
"""

import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)


class Strict(Exception):
    pass


def strict_read(path):
    """Everything a strict reader demands: 8-byte length, a header of whole 8-byte words padded
    with spaces, JSON with string metadata, F32 tensors whose offsets run contiguously from 0 in
    the header's order and end exactly at the end of the file."""
    data = open(path, "rb").read()
    n = int.from_bytes(data[:8], "little")
    if n % 8 != 0:
        raise Strict(f"header length {n} is not a multiple of 8")
    raw = data[8:8 + n]
    text = raw.decode("utf-8")
    stripped = text.rstrip(" ")
    if not stripped.startswith("{") or not stripped.endswith("}"):
        raise Strict("header is not a JSON object followed by spaces only")
    if len(text) - len(stripped) >= 8:
        raise Strict("more padding than alignment needs")
    header = json.loads(stripped, object_pairs_hook=refuse_duplicates)
    metadata = header.pop("__metadata__")
    if not all(isinstance(v, str) for v in metadata.values()):
        raise Strict("metadata values must be strings")
    vocab_keys = [k for k in metadata if "vocab" in k.lower()]
    if vocab_keys != ["vocabulary"]:
        raise Strict(f"keys naming a vocabulary: {vocab_keys}")
    for key in ("format", "charnn_version", "config"):
        if key not in metadata:
            raise Strict(f"metadata lacks {key}")
    body = data[8 + n:]
    position = 0
    tensors = {}
    for name, entry in header.items():
        if set(entry) != {"dtype", "shape", "data_offsets"} or entry["dtype"] != "F32":
            raise Strict(f"{name}: entry {entry}")
        begin, end = entry["data_offsets"]
        if begin != position or end - begin != 4 * int(np.prod(entry["shape"], dtype=np.int64)):
            raise Strict(f"{name}: offsets {begin}..{end} after {position}")
        tensors[name] = np.frombuffer(body[begin:end], dtype="<f4").reshape(entry["shape"]).copy()
        position = end
    if position != len(body):
        raise Strict(f"{len(body) - position} trailing bytes")
    return tensors, metadata


def refuse_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise Strict("duplicate keys in the header")
    return dict(pairs)


class TorchModel:
    """torch.nn.Embedding / RNN|LSTM|GRU(num_layers=L) / Linear, the reference PyTorch stack."""

    def __init__(self, cell, activation, layers, hidden, vocab, embed, learn_init, dtype=torch.float32):
        self.cell, self.layers, self.hidden, self.vocab = cell, layers, hidden, vocab
        self.embedding = nn.Embedding(vocab, embed) if embed > 0 else None
        size = embed if embed > 0 else vocab
        if cell == "lstm":
            self.rnn = nn.LSTM(size, hidden, num_layers=layers)
        elif cell == "gru":
            self.rnn = nn.GRU(size, hidden, num_layers=layers)
        else:
            self.rnn = nn.RNN(size, hidden, num_layers=layers, nonlinearity=activation)
        self.decoder = nn.Linear(hidden, vocab)
        self.h0 = torch.rand(layers, hidden) - 0.5 if learn_init else None
        self.c0 = torch.rand(layers, hidden) - 0.5 if learn_init and cell == "lstm" else None

    def state_dict(self, prefix=""):
        out = {}
        if self.embedding is not None:
            out["embedding.weight"] = self.embedding.weight
        for name, tensor in self.rnn.named_parameters():
            out[prefix + name] = tensor
        out["decoder.weight"], out["decoder.bias"] = self.decoder.weight, self.decoder.bias
        if self.h0 is not None:
            out["h0"] = self.h0
        if self.c0 is not None:
            out["c0"] = self.c0
        return {k: v.detach() for k, v in out.items()}

    def load(self, tensors):
        with torch.no_grad():
            for name, value in tensors.items():
                value = torch.from_numpy(np.asarray(value, dtype=np.float32))
                if name == "embedding.weight":
                    self.embedding.weight.copy_(value)
                elif name == "decoder.weight":
                    self.decoder.weight.copy_(value)
                elif name == "decoder.bias":
                    self.decoder.bias.copy_(value)
                elif name in ("h0", "c0"):
                    setattr(self, name, value.clone())
                else:
                    getattr(self.rnn, name).copy_(value)

    def text_loss(self, tokens):
        """charnn eval: batch 1, from the initial state, every token after the first predicted."""
        x = torch.tensor(tokens[:-1], dtype=torch.int64).unsqueeze(1)
        y = torch.tensor(tokens[1:], dtype=torch.int64)
        with torch.no_grad():
            inputs = self.embedding(x) if self.embedding is not None else F.one_hot(x, self.vocab).float()
            h0 = self.h0.unsqueeze(1) if self.h0 is not None else torch.zeros(self.layers, 1, self.hidden)
            if self.cell == "lstm":
                c0 = self.c0.unsqueeze(1) if self.c0 is not None else torch.zeros(self.layers, 1, self.hidden)
                output, _ = self.rnn(inputs, (h0, c0))
            else:
                output, _ = self.rnn(inputs, h0)
            logits = self.decoder(output).reshape(-1, self.vocab)
            total = float(F.cross_entropy(logits.double(), y, reduction="sum"))
        return {"nats": total / len(y), "predictions": len(y)}


def read_text(path):
    return open(path, encoding="utf-8").read()


def check_export(pairs):
    results = []
    for path, text_path in pairs:
        tensors, metadata = strict_read(path)
        vocabulary = json.loads(metadata["vocabulary"])
        config = json.loads(metadata["config"])
        model = TorchModel(config["cell"], config["activation"], config["layers"], config["hidden"],
                           len(vocabulary), config["embed"], config["learn_init"])
        model.load(tensors)
        index = {cp: i for i, cp in enumerate(vocabulary)}
        tokens = [index[ord(ch)] for ch in read_text(text_path)]
        result = model.text_loss(tokens)
        result["names"] = list(tensors)
        result["format"] = metadata["format"]
        results.append(result)
    return results


def write_header_and_data(path, tensors, dtype, metadata=None):
    """A plain writer (no metadata unless given), the names as given, dtype F32/F16/BF16."""
    header = {} if metadata is None else {"__metadata__": metadata}
    blobs, offset = [], 0
    for name, tensor in tensors.items():
        array = tensor.numpy().astype(np.float32)
        if dtype == "F16":
            blob = array.astype("<f2").tobytes()
        elif dtype == "BF16":
            blob = (array.view(np.uint32) >> 16).astype("<u2").tobytes()
        else:
            blob = array.astype("<f4").tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as out:
        out.write(len(text).to_bytes(8, "little") + text + b"".join(blobs))


def round_to(tensor, dtype):
    """The values a reader of the written dtype gets back (bf16 truncates, as the writer does)."""
    array = tensor.numpy().astype(np.float32)
    if dtype == "F16":
        return torch.from_numpy(array.astype(np.float16).astype(np.float32))
    if dtype == "BF16":
        return torch.from_numpy(((array.view(np.uint32) >> 16) << 16).view(np.float32))
    return torch.from_numpy(array)


def write_state_dicts(cases):
    results = []
    for case in cases:
        torch.manual_seed(case["seed"])
        text = read_text(case["text"])
        file_order = sorted(set(text))
        rng = np.random.default_rng(case["seed"])
        rng.shuffle(file_order)  # rows in an order other than charnn's
        model = TorchModel(case["cell"], case.get("activation", "tanh"), case["layers"], case["hidden"],
                           len(file_order), case["embed"], case["learn_init"])
        state = model.state_dict(prefix=case.get("prefix", ""))
        rounded = {name: round_to(tensor, case["dtype"]) for name, tensor in state.items()}
        write_header_and_data(case["out"], state, case["dtype"])
        if case["vocabulary"].endswith(".json"):
            json.dump([ord(ch) for ch in file_order], open(case["vocabulary"], "w"))
        else:
            open(case["vocabulary"], "w", encoding="utf-8", newline="").write("".join(file_order))
        prefix = case.get("prefix", "")
        model.load({(name[len(prefix):] if prefix and name.startswith(prefix) else name): t for name, t in rounded.items()})
        index = {ch: i for i, ch in enumerate(file_order)}
        results.append(model.text_loss([index[ch] for ch in text]))
    return results


def companion_steps(spec):
    """Runs the companion's train command in this process once per argument list."""
    sys.path.insert(0, spec["companion"])
    import charnn_torch
    codes = []
    for argv in spec["runs"]:
        codes.append(charnn_torch.main(argv))
    return codes


def main(argv):
    command = argv[0]
    if command == "check-export":
        out = check_export(list(zip(argv[1::2], argv[2::2])))
    elif command == "write-state-dict":
        out = write_state_dicts(json.load(open(argv[1])))
    elif command == "companion-steps":
        out = companion_steps(json.load(open(argv[1])))
    else:
        raise SystemExit(f"unknown command {command}")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
