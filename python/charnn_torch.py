#!/usr/bin/env python3
"""charnn's model in PyTorch: train past one machine with torchrun and DistributedDataParallel.

Needs only torch and numpy (Debian: apt-get install python3-torch python3-numpy
libopenblas0-openmp; run with /usr/bin/python3). It reads and writes the safetensors files of
`charnn export` / `charnn import` itself, builds the same model (rnn tanh/relu, lstm, gru;
layers; one-hot or embedding input; learned initial states; dropout between layers; linear
decoder), and trains it exactly as `charnn train` does: the same parallel-stream batches, the
hidden state carried across windows and reset at each epoch start, the same optimisers, learning
rate schedules and gradient clipping. It is not charnn's engine and does not read charnn's JSON
checkpoints: go through `charnn export` and `charnn import`.

    charnn export run/latest.json --format safetensors start.safetensors
    torchrun --standalone --nproc_per_node 2 python/charnn_torch.py train corpus.txt \\
        --from start.safetensors --out torch-run --steps 5000
    charnn import torch-run/model.safetensors --out imported

Processes: the global batch B is split into equal contiguous runs of streams, rank r taking
streams r*B/W .. (r+1)*B/W - 1, so W processes see exactly the windows one process would, and
DDP's averaged gradient is the gradient of the global mean loss. Dropout masks are drawn for the
whole global batch from one seeded generator on every rank and each rank takes its rows, so
they do not depend on W either. Backend: gloo on CPUs, NCCL when CUDA is available (--device
cuda); the NCCL path is not tested by charnn's test suite.

DIR (--out) holds model.safetensors (the weights, for `charnn import`), train-state.pt (the whole
training state, for --resume: weights, optimiser, carried hidden state, dropout generator, step,
cursor, history) and log.ndjson (one JSON object per step and evaluation, from rank 0). Both
files are replaced atomically. A resumed run continues exactly with the same number of processes.
Across machines every process reads the text (and, on --resume, DIR) from the same path, so put
them on a shared file system or copy them to each machine first.

Layout, as charnn's src/core/data/batches.ts (change both or neither): N tokens, V = last
floor(N * val_frac) tokens held out; S = floor(N_train / B); W = floor((S - 1) / T);
inputs[t][b] = train[b*S + w*T + t], targets one ahead; step k uses window k % W.
"""

import argparse
import hashlib
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

CHARNN_VERSION = "0.1.0"
STATE_FILE = "train-state.pt"
MODEL_FILE = "model.safetensors"
LOG_FILE = "log.ndjson"
MAX_HEADER_BYTES = 100_000_000


class CompanionError(Exception):
    """A failure the user can act on: printed as one line, exit code 3 (2 for usage)."""

    def __init__(self, message, exit_code=3):
        super().__init__(message)
        self.exit_code = exit_code


# ---------------------------------------------------------------------------------------------
# safetensors with numpy

DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "F64": np.dtype("<f8")}


def read_safetensors(path):
    """Returns ({name: float32 ndarray}, metadata) after checking the header against the file."""
    with open(path, "rb") as source:
        data = source.read()
    if len(data) < 8:
        raise CompanionError(f"{path}: not a safetensors file (shorter than 8 bytes)")
    header_length = int.from_bytes(data[:8], "little")
    if header_length > MAX_HEADER_BYTES or 8 + header_length > len(data):
        raise CompanionError(f"{path}: not a safetensors file, or truncated (header of {header_length} bytes)")
    try:
        header = json.loads(data[8:8 + header_length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CompanionError(f"{path}: not a safetensors file (the header is not JSON)")
    metadata = header.pop("__metadata__", {}) or {}
    body = memoryview(data)[8 + header_length:]
    position = 0
    tensors = {}
    for name, entry in sorted(header.items(), key=lambda item: item[1]["data_offsets"][0]):
        begin, end = entry["data_offsets"]
        if begin != position or end > len(body):
            raise CompanionError(f"{path}: the header's offsets for {name} do not fit the file")
        dtype = entry["dtype"]
        if dtype == "BF16":
            words = np.frombuffer(body[begin:end], dtype="<u2").astype(np.uint32) << 16
            array = words.view(np.float32)
        elif dtype in DTYPES:
            array = np.frombuffer(body[begin:end], dtype=DTYPES[dtype]).astype(np.float32)
        else:
            raise CompanionError(f"{path}: {name} has dtype {dtype} (F32, F16, BF16 or F64 expected)")
        tensors[name] = array.reshape(entry["shape"])
        position = end
    if position != len(body):
        raise CompanionError(f"{path}: {len(body) - position} bytes after the last tensor belong to none")
    return tensors, metadata


def write_safetensors(path, tensors, metadata):
    """tensors: [(name, ndarray)] written as F32 in that order; the header is padded with
    spaces to a multiple of 8 bytes; the file is replaced atomically."""
    header = {"__metadata__": {key: str(value) for key, value in metadata.items()}}
    offset = 0
    blobs = []
    for name, array in tensors:
        blob = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    write_atomic(path, [len(text).to_bytes(8, "little"), text, *blobs])


def write_atomic(path, chunks):
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "wb") as out:
        for chunk in chunks:
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


# ---------------------------------------------------------------------------------------------
# The model

CONFIG_KEYS = ("cell", "activation", "layers", "hidden", "embed", "dropout", "learn_init")


class CharModel(nn.Module):
    """Input (one-hot or embedding) -> L single-layer recurrent modules with dropout between
    them -> linear decoder. Layers are separate modules so that dropout masks can be drawn for
    the global batch; torch's names are mapped to charnn's by export_tensors / load_tensors."""

    def __init__(self, config, vocab_size):
        super().__init__()
        self.config = dict(config)
        self.vocab_size = vocab_size
        cell, hidden, layers, embed = config["cell"], config["hidden"], config["layers"], config["embed"]
        self.embedding = nn.Embedding(vocab_size, embed) if embed > 0 else None
        modules = []
        for layer in range(layers):
            size = hidden if layer > 0 else (embed if embed > 0 else vocab_size)
            if cell == "lstm":
                modules.append(nn.LSTM(size, hidden))
            elif cell == "gru":
                modules.append(nn.GRU(size, hidden))
            else:
                modules.append(nn.RNN(size, hidden, nonlinearity=config["activation"]))
        self.layers = nn.ModuleList(modules)
        self.decoder = nn.Linear(hidden, vocab_size)
        if config["learn_init"]:
            self.h0 = nn.Parameter(torch.zeros(layers, hidden))
            self.c0 = nn.Parameter(torch.zeros(layers, hidden)) if cell == "lstm" else None
        else:
            self.h0 = self.c0 = None

    def charnn_initialise(self, generator):
        """charnn's initialisation rule (its numbers differ: another generator): uniform +-1/sqrt(H)
        for recurrent and decoder weights, N(0,1) embedding, LSTM forget-gate bias 1 (b_ih) and 0
        (b_hh), learned initial states 0."""
        hidden = self.config["hidden"]
        bound = 1 / math.sqrt(hidden)
        with torch.no_grad():
            for name, tensor in self.named_parameters():
                if name == "embedding.weight":
                    tensor.copy_(torch.randn(tensor.shape, generator=generator))
                elif name in ("h0", "c0"):
                    tensor.zero_()
                else:
                    tensor.copy_((torch.rand(tensor.shape, generator=generator) * 2 - 1) * bound)
            if self.config["cell"] == "lstm":
                for module in self.layers:
                    module.bias_ih_l0[hidden:2 * hidden] = 1
                    module.bias_hh_l0[hidden:2 * hidden] = 0

    def zero_state(self, batch, dtype, device):
        shape = (self.config["layers"], batch, self.config["hidden"])
        h = torch.zeros(shape, dtype=dtype, device=device)
        return (h, torch.zeros_like(h)) if self.config["cell"] == "lstm" else (h,)

    def forward(self, inputs, state, from_init=False, masks=None):
        """inputs (T, B) int64; state: (h,) or (h, c), each (L, B, H), used unless from_init
        (then the learned initial state, or zeros). masks: per layer gap, (T, B, H) scales of 0
        or 1/(1-p), or None. Returns logits (T, B, V) and the final state."""
        batch = inputs.shape[1]
        if from_init:
            if self.h0 is not None:
                expand = lambda p: p.unsqueeze(1).expand(-1, batch, -1)
                state = (expand(self.h0), expand(self.c0)) if self.c0 is not None else (expand(self.h0),)
            else:
                state = tuple(torch.zeros_like(s) for s in state)
        if self.embedding is not None:
            x = self.embedding(inputs)
        else:
            # One-hot input, as charnn's row lookup computes it.
            x = F.one_hot(inputs, self.vocab_size).to(self.decoder.weight.dtype)
        finals = []
        for layer, module in enumerate(self.layers):
            if self.config["cell"] == "lstm":
                x, (h, c) = module(x, (state[0][layer:layer + 1].contiguous(), state[1][layer:layer + 1].contiguous()))
                finals.append((h, c))
            else:
                x, h = module(x, state[0][layer:layer + 1].contiguous())
                finals.append((h,))
            if masks is not None and layer < len(self.layers) - 1:
                x = x * masks[layer]
        logits = self.decoder(x)
        final = tuple(torch.cat([f[i] for f in finals]) for i in range(len(finals[0])))
        return logits, final


def export_tensors(model):
    """[(charnn name, ndarray)] in charnn's order: embedding, per layer ih/hh weights and biases,
    decoder, then h0 (L, H) and c0 (L, H)."""
    out = []
    if model.embedding is not None:
        out.append(("embedding.weight", model.embedding.weight))
    for layer, module in enumerate(model.layers):
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            out.append((f"{kind}_l{layer}", getattr(module, f"{kind}_l0")))
    out += [("decoder.weight", model.decoder.weight), ("decoder.bias", model.decoder.bias)]
    if model.h0 is not None:
        out.append(("h0", model.h0))
    if model.c0 is not None:
        out.append(("c0", model.c0))
    return [(name, tensor.detach().cpu().double().numpy().astype(np.float32)) for name, tensor in out]


def load_tensors(model, tensors, path):
    names = dict(export_tensors(model))
    if set(names) != set(tensors):
        missing, extra = sorted(set(names) - set(tensors)), sorted(set(tensors) - set(names))
        raise CompanionError(f"{path}: tensors do not match the config (missing {missing}, unexpected {extra})")
    targets = {"embedding.weight": model.embedding.weight if model.embedding is not None else None,
               "decoder.weight": model.decoder.weight, "decoder.bias": model.decoder.bias,
               "h0": model.h0, "c0": model.c0}
    for layer, module in enumerate(model.layers):
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            targets[f"{kind}_l{layer}"] = getattr(module, f"{kind}_l0")
    with torch.no_grad():
        for name, array in tensors.items():
            target = targets[name]
            if tuple(target.shape) != tuple(array.shape):
                raise CompanionError(f"{path}: {name} has shape {list(array.shape)}, expected {list(target.shape)}")
            target.copy_(torch.from_numpy(np.array(array)).to(target.dtype))


def model_metadata(model, vocabulary):
    return {"format": "pt", "charnn_version": CHARNN_VERSION, "vocabulary": json.dumps(vocabulary),
            "config": json.dumps({key: model.config[key] for key in CONFIG_KEYS})}


def model_from_file(path):
    tensors, metadata = read_safetensors(path)
    if "vocabulary" not in metadata or "config" not in metadata:
        raise CompanionError(f"{path}: no vocabulary/config metadata; make the file with charnn export")
    vocabulary = json.loads(metadata["vocabulary"])
    if vocabulary != sorted(set(vocabulary)):
        raise CompanionError(f"{path}: the vocabulary is not in charnn's order (ascending code points)")
    config = json.loads(metadata["config"])
    model = CharModel(config, len(vocabulary))
    load_tensors(model, tensors, path)
    return model, vocabulary


# ---------------------------------------------------------------------------------------------
# Data: charnn's text reading, vocabulary, split and parallel streams

def read_text(paths):
    """Files joined by a newline, decoded as charnn decodes them (UTF-8, or UTF-16 with a BOM)."""
    pieces = []
    for path in paths:
        with open(path, "rb") as source:
            raw = source.read()
        try:
            if raw[:2] == b"\xff\xfe":
                pieces.append(raw[2:].decode("utf-16-le"))
            elif raw[:2] == b"\xfe\xff":
                pieces.append(raw[2:].decode("utf-16-be"))
            else:
                pieces.append(raw.decode("utf-8-sig"))
        except UnicodeDecodeError as error:
            raise CompanionError(f"{path}: not valid text ({error.reason} at byte {error.start})")
    return "\n".join(pieces)


def encode(text, vocabulary):
    """The text as vocabulary indices (int64), through a lookup table over code points."""
    code_points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    table = np.full(max(int(code_points.max(initial=0)), max(vocabulary)) + 1, -1, dtype=np.int64)
    table[np.asarray(vocabulary, dtype=np.int64)] = np.arange(len(vocabulary))
    tokens = table[code_points]
    if (tokens < 0).any():
        unknown = sorted({chr(c) for c in np.unique(code_points[tokens < 0])})
        shown = ", ".join(repr(ch) for ch in unknown[:10])
        raise CompanionError(f"the text has {len(unknown)} character(s) the model's vocabulary lacks: {shown}"
                             " (charnn train --init-from extends a vocabulary)")
    return tokens


def split_validation(tokens, val_frac):
    validation_length = math.floor(len(tokens) * val_frac)
    boundary = len(tokens) - validation_length
    return tokens[:boundary], tokens[boundary:]


class StreamBatcher:
    """charnn's StreamBatcher: stream b = data[b*S:(b+1)*S]; window w = T steps of every stream."""

    def __init__(self, data, batch, seq_len):
        self.data, self.batch, self.seq_len = data, batch, seq_len
        self.stream_length = len(data) // batch
        self.windows = (self.stream_length - 1) // seq_len
        if self.windows < 1:
            raise CompanionError(f"the text is too short for batch {batch} and seq-len {seq_len}: "
                                 f"{len(data)} characters, at least {batch * (seq_len + 1)} are needed")

    def window(self, w, streams):
        """(inputs, targets), each (T, len(streams)) int64, for window w of the given streams."""
        starts = np.asarray(streams) * self.stream_length + w * self.seq_len
        offsets = starts[None, :] + np.arange(self.seq_len)[:, None]
        return torch.from_numpy(self.data[offsets]), torch.from_numpy(self.data[offsets + 1])


# ---------------------------------------------------------------------------------------------
# Optimisers, schedules, clipping: charnn's settings

def make_optimizer(args, params):
    if args.optimizer == "adam":
        if args.weight_decay > 0:
            return torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=args.weight_decay)
        return torch.optim.Adam(params, lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    if args.optimizer == "sgd":
        return torch.optim.SGD(params, lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    if args.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=args.lr, alpha=0.99, eps=1e-8, weight_decay=args.weight_decay)
    return torch.optim.Adagrad(params, lr=args.lr, eps=1e-10, weight_decay=args.weight_decay)


def learning_rate(args, step, total_steps):
    """charnn's src/core/optim/schedule.ts for the update made at `step` (0-based)."""
    if args.lr_schedule == "step":
        return args.lr * args.lr_decay ** (step // max(1, args.lr_decay_every))
    if args.lr_schedule == "cosine":
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        if total_steps is None:
            return args.lr
        span = max(1, total_steps - args.warmup)
        progress = min(1.0, (step - args.warmup) / span)
        return 0.5 * args.lr * (1 + math.cos(math.pi * progress))
    return args.lr


def clip_gradients(params, mode, limit):
    """Returns the global L2 norm before clipping; limit 0 = no clipping (charnn's clip.ts)."""
    grads = [p.grad for p in params]
    norm = torch.norm(torch.stack([torch.norm(g.detach(), 2) for g in grads]), 2)
    if limit > 0 and mode == "norm":
        scale = limit / (norm + 1e-6)
        if scale < 1:
            for g in grads:
                g.detach().mul_(scale)
    elif limit > 0:
        for g in grads:
            g.detach().clamp_(-limit, limit)
    return float(norm)


# ---------------------------------------------------------------------------------------------
# Processes

class World:
    """This process's place among the torchrun processes (one process without torchrun)."""

    def __init__(self, device):
        self.size = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.distributed = self.size > 1
        if device == "cuda":
            local_rank = int(os.environ.get("LOCAL_RANK", "0"))
            torch.cuda.set_device(local_rank)
            self.device = torch.device("cuda", local_rank)
        else:
            self.device = torch.device("cpu")
        if self.distributed:
            dist.init_process_group("nccl" if device == "cuda" else "gloo")

    def mean(self, value):
        if not self.distributed:
            return float(value)
        tensor = torch.tensor([float(value)], dtype=torch.float64, device=self.device)
        dist.all_reduce(tensor)
        return float(tensor) / self.size

    def gather_streams(self, tensor):
        """Concatenates every rank's (.., B/W, ..) part along dim 1 into the global batch."""
        if not self.distributed:
            return tensor
        parts = [torch.empty_like(tensor) for _ in range(self.size)]
        dist.all_gather(parts, tensor.contiguous())
        return torch.cat(parts, dim=1)

    def barrier(self):
        if self.distributed:
            dist.barrier()

    def close(self):
        if self.distributed:
            dist.destroy_process_group()


# ---------------------------------------------------------------------------------------------
# Training

def validation_loss(model, validation, args, dtype, device):
    """charnn's Trainer.validationLoss: up to B streams of the held-out text, from the initial
    state, carrying the state across windows; mean loss per character."""
    streams = min(args.batch, len(validation) // (args.seq_len + 1))
    if streams == 0:
        return None
    batcher = StreamBatcher(validation, streams, args.seq_len)
    state = model.zero_state(streams, dtype, device)
    total, count = 0.0, 0
    with torch.no_grad():
        for w in range(batcher.windows):
            inputs, targets = batcher.window(w, list(range(streams)))
            logits, state = model(inputs.to(device), state, from_init=(w == 0))
            total += float(F.cross_entropy(logits.reshape(-1, model.vocab_size).double(),
                                           targets.to(device).reshape(-1), reduction="sum"))
            count += targets.numel()
    return total / count


def draw_masks(model, generator, seq_len, batch, local_streams, dtype, device):
    """Inverted-dropout masks for the global batch (the same on every rank), this rank's rows."""
    p = model.config["dropout"]
    if p == 0 or model.config["layers"] == 1:
        return None
    keep = 1.0 / (1.0 - p)
    masks = []
    for _ in range(model.config["layers"] - 1):
        draw = torch.rand((seq_len, batch, model.config["hidden"]), generator=generator, dtype=torch.float64)
        masks.append(((draw >= p).to(dtype) * keep)[:, local_streams[0]:local_streams[-1] + 1].to(device))
    return masks


# Training settings and their defaults (charnn train's). The parser leaves them None, so that a
# resumed run can tell a setting typed again from one left out (which keeps the saved value).
TRAIN_DEFAULTS = {"batch": 32, "seq_len": 64, "val_frac": 0.05, "optimizer": "adam", "lr": 2e-3, "momentum": 0.9,
                  "weight_decay": 0.0, "lr_schedule": "constant", "lr_decay": 0.5, "lr_decay_every": 1000, "warmup": 0,
                  "clip": 5.0, "clip_mode": "norm", "steps": 0, "epochs": 0, "seed": 1, "dtype": "float32",
                  "eval_every": 200, "checkpoint_every": 1000, "log_every": 10}
# Settings that fix the data layout or the arithmetic's identity: a resumed run keeps them.
FIXED_ON_RESUME = ("batch", "seq_len", "val_frac", "optimizer", "seed", "dtype")


def settle_new_settings(args):
    for key, value in TRAIN_DEFAULTS.items():
        if getattr(args, key) is None:
            setattr(args, key, value)


def settle_resumed_settings(args, saved):
    for key in TRAIN_DEFAULTS:
        typed = getattr(args, key)
        if typed is None:
            setattr(args, key, saved[key])
        elif key in FIXED_ON_RESUME and typed != saved[key]:
            raise CompanionError(f"--{key.replace('_', '-')} {typed} does not match the run being resumed ({saved[key]})", 2)
    args.dropout = None


def torch_dtype(name):
    return torch.float64 if name == "float64" else torch.float32


def text_fingerprint(text):
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def train(args):
    world = World(args.device)
    try:
        return train_in(world, args)
    finally:
        world.close()


def train_in(world, args):
    say = (lambda message: print(message, file=sys.stderr, flush=True)) if world.rank == 0 else (lambda message: None)
    os.makedirs(args.out, exist_ok=True)
    state_path = os.path.join(args.out, STATE_FILE)
    saved = None
    if args.resume:
        if not os.path.exists(state_path):
            raise CompanionError(f"nothing to resume: no {state_path}")
        saved = torch.load(state_path, map_location="cpu")
        settle_resumed_settings(args, saved["args"])
        if saved["world_size"] != world.size:
            say(f"note: this run was trained with {saved['world_size']} process(es), now {world.size}: "
                "the same batches and state, equal only up to float rounding")
        vocabulary = saved["vocabulary"]
        # In the run's dtype before loading, so float64 weights are not rounded through float32.
        model = CharModel(saved["config"], len(vocabulary)).to(torch_dtype(args.dtype))
        model.load_state_dict(saved["model"])
    else:
        settle_new_settings(args)
        if args.init_from is not None:
            model, vocabulary = model_from_file(args.init_from)
            if args.dropout is not None:
                model.config["dropout"] = args.dropout
        else:
            vocabulary = sorted({ord(ch) for ch in read_text(args.files)})
            config = {key: getattr(args, key) for key in CONFIG_KEYS}
            config["dropout"] = args.dropout or 0.0
            model = CharModel(config, len(vocabulary))
            model.charnn_initialise(torch.Generator().manual_seed(args.seed))
    if args.batch % world.size != 0:
        raise CompanionError(f"--batch {args.batch} must divide evenly among {world.size} processes", 2)
    dtype = torch_dtype(args.dtype)
    model = model.to(dtype=dtype, device=world.device)

    text = read_text(args.files)
    fingerprint = text_fingerprint(text)
    if saved is not None and saved["fingerprint"] != fingerprint:
        raise CompanionError("the text differs from the text this run was trained on")
    tokens = encode(text, vocabulary)
    train_tokens, validation = split_validation(tokens, args.val_frac)
    batcher = StreamBatcher(train_tokens, args.batch, args.seq_len)
    per_rank = args.batch // world.size
    local_streams = list(range(world.rank * per_rank, (world.rank + 1) * per_rank))
    candidates = [n for n in (args.steps, args.epochs * batcher.windows) if n > 0]
    total_steps = min(candidates) if candidates else None
    if total_steps is None:
        raise CompanionError("training would never stop: set --steps or --epochs", 2)

    params = list(model.parameters())
    optimizer = make_optimizer(args, params)
    generator = torch.Generator().manual_seed(args.seed)
    step, epoch, window = 0, 0, 0
    history = {"train": [], "validation": []}
    best = None
    carried = model.zero_state(per_rank, dtype, world.device)
    if saved is not None:
        optimizer.load_state_dict(saved["optimizer"])
        generator.set_state(saved["generator"])
        step, epoch, window = saved["step"], saved["epoch"], saved["window"]
        history, best = saved["history"], saved["best"]
        carried = tuple(s[:, local_streams[0]:local_streams[-1] + 1].to(dtype=dtype, device=world.device).contiguous()
                        for s in saved["carried"])

    learned_init = model.h0 is not None
    network = model
    if world.distributed:
        # The learned initial state only takes part at an epoch's first window.
        network = nn.parallel.DistributedDataParallel(model, find_unused_parameters=learned_init)
    log = open(os.path.join(args.out, LOG_FILE), "a", encoding="utf-8") if world.rank == 0 else None

    def log_event(event):
        if log is not None:
            log.write(json.dumps(event) + "\n")
            log.flush()

    def save():
        gathered = tuple(world.gather_streams(s.detach()) for s in carried)
        if world.rank == 0:
            write_safetensors(os.path.join(args.out, MODEL_FILE), export_tensors(model), model_metadata(model, vocabulary))
            document = {"args": vars(args), "world_size": world.size, "config": model.config, "vocabulary": vocabulary,
                        "model": model.state_dict(), "optimizer": optimizer.state_dict(), "generator": generator.get_state(),
                        "carried": tuple(s.cpu() for s in gathered), "step": step, "epoch": epoch, "window": window,
                        "history": history, "best": best, "fingerprint": fingerprint}
            temporary = f"{state_path}.{os.getpid()}.tmp"
            torch.save(document, temporary)
            os.replace(temporary, state_path)
        world.barrier()

    def evaluate():
        nonlocal best
        loss = validation_loss(model, validation, args, dtype, world.device) if world.rank == 0 else None
        world.barrier()
        if loss is not None:
            history["validation"].append([step, loss])
            best = loss if best is None else min(best, loss)
            log_event({"type": "eval", "step": step, "loss": loss})
            say(f"step {step}: validation loss {loss:.4f}")

    started = time.time()
    say(f"{world.size} process(es), batch {args.batch} ({per_rank} per process), {batcher.windows} windows per epoch, "
        f"{sum(p.numel() for p in params):,} parameters, {total_steps} steps")
    while step < total_steps:
        epoch_start = window == 0
        inputs, targets = batcher.window(window, local_streams)
        inputs, targets = inputs.to(world.device), targets.to(world.device)
        masks = draw_masks(model, generator, args.seq_len, args.batch, local_streams, dtype, world.device)
        lr = learning_rate(args, step, total_steps)
        optimizer.zero_grad(set_to_none=False)
        logits, final = network(inputs, carried, from_init=epoch_start, masks=masks)
        loss = F.cross_entropy(logits.reshape(-1, model.vocab_size), targets.reshape(-1))
        loss.backward()
        for p in params:
            if p.grad is None:  # charnn's optimisers see a zero gradient, not none
                p.grad = torch.zeros_like(p)
        grad_norm = clip_gradients(params, args.clip_mode, args.clip)
        mean_loss = world.mean(loss.detach())
        finite = math.isfinite(mean_loss) and math.isfinite(grad_norm)
        if finite:
            for group in optimizer.param_groups:
                group["lr"] = lr
            optimizer.step()
        carried = tuple(s.detach() for s in final)
        event = {"type": "step", "step": step, "epoch": epoch, "window": window, "loss": mean_loss,
                 "grad_norm": grad_norm, "lr": lr}
        if args.log_batches:
            event["inputs"] = world.gather_streams(inputs).reshape(-1).tolist()
        log_event(event)
        history["train"].append([step + 1, mean_loss])
        step += 1
        window += 1
        if window == batcher.windows:
            window, epoch = 0, epoch + 1
        if not finite or mean_loss > 3 * math.log(max(2, model.vocab_size)):
            save_note = "the last checkpoint is untouched"
            raise CompanionError(f"training diverged at step {step}: loss {mean_loss}; {save_note}; lower --lr", 4)
        if step % args.log_every == 0:
            say(f"step {step}/{total_steps} epoch {epoch} loss {mean_loss:.4f} ({time.time() - started:.1f}s)")
        if args.eval_every > 0 and step % args.eval_every == 0 and step < total_steps:
            evaluate()
        if args.checkpoint_every > 0 and step % args.checkpoint_every == 0 and step < total_steps:
            save()
        if args.stop_after is not None and step >= args.stop_after:
            save()
            say(f"stopped after step {step} (--stop-after); continue with --resume")
            return 0
    evaluate()
    save()
    say(f"finished at step {step}: wrote {os.path.join(args.out, MODEL_FILE)}")
    return 0


# ---------------------------------------------------------------------------------------------
# Evaluation and a fresh model

def evaluate_text(args):
    """charnn eval's total: every character predicted from the ones before it, batch 1, from
    the initial state; characters outside the vocabulary are dropped."""
    model, vocabulary = model_from_file(args.model)
    dtype = torch_dtype(args.dtype)
    model = model.to(dtype)
    text = read_text(args.files)
    index = {code_point: i for i, code_point in enumerate(vocabulary)}
    tokens = torch.tensor([index[ord(ch)] for ch in text if ord(ch) in index], dtype=torch.int64)
    with torch.no_grad():
        logits, _ = model(tokens[:-1].unsqueeze(1), model.zero_state(1, dtype, "cpu"), from_init=True)
        loss = F.cross_entropy(logits.reshape(-1, model.vocab_size).double(), tokens[1:], reduction="sum")
    nats = float(loss) / (len(tokens) - 1)
    print(json.dumps({"nats": nats, "bits": nats / math.log(2), "predictions": len(tokens) - 1}))
    return 0


def init_model(args):
    """A model with charnn's initialisation rule and the text's sorted vocabulary."""
    vocabulary = sorted({ord(ch) for ch in read_text(args.files)})
    config = {"cell": args.cell, "activation": args.activation, "layers": args.layers, "hidden": args.hidden,
              "embed": args.embed, "dropout": args.dropout, "learn_init": args.learn_init}
    model = CharModel(config, len(vocabulary))
    model.charnn_initialise(torch.Generator().manual_seed(args.seed))
    write_safetensors(args.out, export_tensors(model), model_metadata(model, vocabulary))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def add_model_options(parser, seed_default=1):
    parser.add_argument("--cell", choices=["rnn", "lstm", "gru"], default="lstm")
    parser.add_argument("--activation", choices=["tanh", "relu"], default="tanh")
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--embed", type=int, default=0)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--learn-init", action="store_true")
    parser.add_argument("--seed", type=int, default=seed_default)


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog="charnn_torch.py", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    trainer = commands.add_parser("train", help="train (under torchrun for several processes)")
    trainer.add_argument("files", nargs="+")
    trainer.add_argument("--out", required=True, help="folder for model.safetensors, train-state.pt, log.ndjson")
    trainer.add_argument("--from", dest="init_from", help="start from this safetensors file (charnn export)")
    trainer.add_argument("--resume", action="store_true", help="continue the run in --out exactly")
    add_model_options(trainer, seed_default=None)
    trainer.set_defaults(dropout=None)
    trainer.add_argument("--batch", type=int, help="parallel streams, the global batch (default 32)")
    trainer.add_argument("--seq-len", type=int, help="characters per window (default 64)")
    trainer.add_argument("--val-frac", type=float, help="held-out fraction at the end of the text (default 0.05)")
    trainer.add_argument("--optimizer", choices=["adam", "sgd", "rmsprop", "adagrad"])
    trainer.add_argument("--lr", type=float, help="default 0.002")
    trainer.add_argument("--momentum", type=float, help="sgd only (default 0.9)")
    trainer.add_argument("--weight-decay", type=float, help="decoupled (AdamW) for adam, L2 otherwise (default 0)")
    trainer.add_argument("--lr-schedule", choices=["constant", "step", "cosine"])
    trainer.add_argument("--lr-decay", type=float, help="step schedule: factor (default 0.5)")
    trainer.add_argument("--lr-decay-every", type=int, help="step schedule: steps (default 1000)")
    trainer.add_argument("--warmup", type=int, help="cosine schedule: warm-up steps (default 0)")
    trainer.add_argument("--clip", type=float, help="gradient clipping limit, 0 = off (default 5)")
    trainer.add_argument("--clip-mode", choices=["norm", "value"])
    trainer.add_argument("--steps", type=int, help="stop after this many steps (0 = no limit)")
    trainer.add_argument("--epochs", type=int, help="stop after this many epochs (0 = no limit)")
    trainer.add_argument("--dtype", choices=["float32", "float64"])
    trainer.add_argument("--eval-every", type=int, help="steps between validation passes, 0 = only at the end (default 200)")
    trainer.add_argument("--checkpoint-every", type=int, help="steps between saves, 0 = only at the end (default 1000)")
    trainer.add_argument("--log-every", type=int, help="steps between progress lines (default 10)")
    trainer.add_argument("--stop-after", type=int, default=None, help="save and stop after this step (to test --resume)")
    trainer.add_argument("--log-batches", action="store_true", help="put each step's global input tokens in log.ndjson")
    trainer.add_argument("--device", choices=["cpu", "cuda"], default="cuda" if torch.cuda.is_available() else "cpu")
    trainer.set_defaults(run=train)

    evaluator = commands.add_parser("eval", help="loss per character of text under a safetensors model")
    evaluator.add_argument("model")
    evaluator.add_argument("files", nargs="+")
    evaluator.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    evaluator.set_defaults(run=evaluate_text)

    initialiser = commands.add_parser("init", help="a new model for a text, initialised by charnn's rule")
    initialiser.add_argument("files", nargs="+")
    initialiser.add_argument("--out", required=True)
    add_model_options(initialiser)
    initialiser.set_defaults(run=init_model)
    return parser.parse_args(argv)


def main(argv):
    args = parse_arguments(argv)
    try:
        return args.run(args)
    except CompanionError as error:
        print(f"charnn_torch: {error}", file=sys.stderr)
        return error.exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
