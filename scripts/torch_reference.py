#!/usr/bin/env python3
"""PyTorch reference fixtures for charnn's numeric core.

Writes test/fixtures/torch-parity.json (float64 forward, loss, gradients and three
steps of each optimiser on tiny models) and test/fixtures/torch-trajectory.json (ten
float32 Adam steps of truncated-BPTT training on a tiny text). It is not part of the
build or the test run: the TypeScript tests only read the JSON it leaves behind.
Run it with /usr/bin/python3 after `apt-get install -y python3-torch python3-numpy
libopenblas0-openmp` (Debian's torch 1.13); see scripts/README.md.

The model is the real PyTorch stack, so charnn must use the same names, shapes and
gate orders:
  x_t     = one_hot(inputs[t], V) (float)        when embed == 0
          = embedding.weight[inputs[t]]  (E)     when embed  > 0
  rnn     = nn.RNN(nonlinearity=tanh|relu) | nn.LSTM | nn.GRU, num_layers=L,
            batch_first=False, dropout=0. Gate orders (rows of weight_ih_l{k},
            weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}): LSTM i,f,g,o (4H rows);
            GRU r,z,n (3H rows) with n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),
            h' = (1 - z) * n + z * h.
  logits  = decoder(output)        (T, B, V); decoder = nn.Linear(H, V)
  loss    = cross_entropy(logits.reshape(T*B, V), targets.reshape(T*B)), mean.
Initial state: learnInit=true  -> h0_l{k} (H) broadcast over the batch, stacked to
(L, B, H) (and c0_l{k} for LSTM); learnInit=false -> the explicit "carried" state.

Every array is flat, row-major, in the order of its `shape`. Token arrays and state
arrays are time-/layer-major: inputs[t*B + b], logits[(t*B + b)*V + v],
state[(l*B + b)*H + h]. Floats are written with Python's repr, which is exact for
float64 (and so for float32 values too).

torch-parity.json (all float64; every weight and input state is float32-representable):
{
  "format": "charnn-torch-parity", "version": 1, "torch": "<version>",
  "dtype": "float64",
  "cases": [{
    "name": str, "cell": "rnn"|"lstm"|"gru", "activation": "tanh"|"relu",
    "layers": L, "hidden": H, "vocab": V, "embed": E or 0, "learnInit": bool,
    "batch": B, "seqLen": T,
    "inputs": [T*B ints], "targets": [T*B ints],
    "params": {name: {"shape": [..], "data": [..]}},   # order below
    "initialState": {"h": [L*B*H], "c": [L*B*H] (lstm only)} | null,
    "loss": float, "logits": [T*B*V],
    "finalState": {"h": [L*B*H], "c": [L*B*H] (lstm only)},
    "grads": {name: [..]},                               # same keys as params
    "initialStateGrad": {"h": [..], "c": [..] (lstm only)} | null,
    "optimizers": [{                                     # only on three cases, else []
      "name": str, "type": "sgd"|"rmsprop"|"adagrad"|"adam"|"adamw",
      "settings": {...}, "clip": {"mode": "none"|"norm"|"value", "value": float|null},
      "steps": 3, "lossesBefore": [3 floats], "gradNormsBeforeClip": [3 floats]
      (only when clip.mode == "norm"), "paramsAfter": {name: [..]}
    }]
  }]
}
Parameter order: embedding.weight, then the RNN module's own order (weight_ih_l0,
weight_hh_l0, bias_ih_l0, bias_hh_l0, weight_ih_l1, ...), decoder.weight,
decoder.bias, then h0_l0..h0_l{L-1}, then c0_l0..c0_l{L-1}.
Each optimiser step: loss from the same initial state and the current weights,
backward, optional clip, step. Torch 1.13's update rules, for matching exactly:
  sgd      buf = momentum*buf + g (buf = g on the first step); p -= lr*buf
  rmsprop  v = alpha*v + (1-alpha)*g^2; p -= lr * g / (sqrt(v) + eps)
  adagrad  s += g^2; p -= lr * g / (sqrt(s) + eps)
  adam     m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
           p -= (lr / (1-b1^t)) * m / (sqrt(v) / sqrt(1-b2^t) + eps)
  adamw    p *= 1 - lr*weightDecay, then the adam step
  clip norm: total = ||all grads||_2; if total > max: g *= max / (total + 1e-6)
  clip value: g = clamp(g, -value, value)

torch-trajectory.json (all float32, PyTorch's default dtype):
{
  "format": "charnn-torch-trajectory", "version": 1, "torch": "<version>",
  "dtype": "float32",
  "text": str, "vocabulary": [code points, ascending], "tokens": [ints],
  "batch": B, "seqLen": T, "streamLength": S, "windowsPerEpoch": W,
  "cases": [{
    "name", "cell", "activation", "layers", "hidden", "vocab", "embed": 0,
    "learnInit": false, "batch", "seqLen", "windowsPerEpoch", "steps": 10,
    "optimizer": {"type": "adam", "settings": {...}},
    "clip": {"mode": "norm", "value": 1.0},
    "params": {name: {"shape", "data"}},            # initial weights, order as above
    "windows": [10 ints],                           # window index used by each step
    "losses": [10 floats],                          # each step's loss before its update
    "gradNormsBeforeClip": [10 floats],
    "paramsAfter": {name: [..]}                     # after the 10 steps
  }]
}
Batching is charnn's StreamBatcher: stream b = tokens[b*S:(b+1)*S], S = len // B,
W = (S - 1) // T, window w: inputs[t][b] = tokens[b*S + w*T + t], targets one ahead.
Step k uses window k % W; h (and c) carry between windows, detached (truncated
BPTT), and reset to zeros whenever the window index is 0.
"""

import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE_DIR = os.path.join(REPO_ROOT, "test", "fixtures")

# Sizes of the parity cases: small enough to read by hand, large enough that every
# dimension differs (V != H != E != B != T) so a transposed index cannot pass.
PARITY_VOCAB, PARITY_HIDDEN, PARITY_EMBED, PARITY_BATCH, PARITY_SEQ = 7, 5, 4, 3, 4
PARITY_OPTIMIZER_STEPS = 3

TRAJECTORY_BATCH, TRAJECTORY_SEQ, TRAJECTORY_STEPS = 4, 8, 10
TRAJECTORY_SEED = 1234

# 231 characters, shorter than a paragraph on purpose: with B=4 and T=8 it gives S=57
# and W=7 windows per epoch, so ten steps cross one epoch boundary (step 7 restarts
# from zero state). A 400-600 character text would give W >= 12 and never wrap.
TRAJECTORY_TEXT = (
    "The lamp on the hill burns late.\n"
    "A fox runs past the mill, quick and quiet; the dog sleeps.\n"
    "Who lit the lamp? Nobody knows, but every night it glows.\n"
    "Rain came at noon, and the river rose by a foot.\n"
    "We waited, then we walked home.\n"
)


def build_modules(cell, activation, layers, hidden, vocab, embed):
    """Creates embedding (or None), the recurrent module and the decoder, in that
    order, so the draws from the seeded generator are reproducible."""
    embedding = nn.Embedding(vocab, embed) if embed > 0 else None
    input_size = embed if embed > 0 else vocab
    if cell == "rnn":
        rnn = nn.RNN(input_size, hidden, num_layers=layers, nonlinearity=activation,
                     batch_first=False, dropout=0.0)
    elif cell == "lstm":
        rnn = nn.LSTM(input_size, hidden, num_layers=layers, batch_first=False, dropout=0.0)
    elif cell == "gru":
        rnn = nn.GRU(input_size, hidden, num_layers=layers, batch_first=False, dropout=0.0)
    else:
        raise ValueError(f"unknown cell {cell}")
    decoder = nn.Linear(hidden, vocab)
    return embedding, rnn, decoder


class CharModel:
    """The reference stack with its parameters under the fixture's names."""

    def __init__(self, cell, activation, layers, hidden, vocab, embed, learn_init):
        self.cell, self.layers, self.hidden, self.vocab = cell, layers, hidden, vocab
        self.embedding, self.rnn, self.decoder = build_modules(
            cell, activation, layers, hidden, vocab, embed)
        self.learn_init = learn_init
        self.params = {}
        if self.embedding is not None:
            self.params["embedding.weight"] = self.embedding.weight
        for name, tensor in self.rnn.named_parameters():
            self.params[name] = tensor
        self.params["decoder.weight"] = self.decoder.weight
        self.params["decoder.bias"] = self.decoder.bias
        if learn_init:
            # Random rather than zero so a gradient that ignores h0 cannot pass.
            state_names = [f"h0_l{k}" for k in range(layers)]
            if cell == "lstm":
                state_names += [f"c0_l{k}" for k in range(layers)]
            for name in state_names:
                self.params[name] = nn.Parameter(torch.rand(hidden) - 0.5)

    def learned_state(self, batch):
        def stacked(prefix):
            return torch.stack([self.params[f"{prefix}_l{k}"].unsqueeze(0).expand(batch, self.hidden)
                                for k in range(self.layers)])
        if self.cell == "lstm":
            return {"h": stacked("h0"), "c": stacked("c0")}
        return {"h": stacked("h0")}

    def forward(self, inputs, targets, state):
        """inputs, targets: (T, B) int64; state: {"h": (L,B,H), "c": (L,B,H)}.
        Returns loss, logits (T,B,V) and the final state dict."""
        seq_len, batch = inputs.shape
        if self.embedding is not None:
            x = self.embedding(inputs)
        else:
            x = F.one_hot(inputs, self.vocab).to(torch.get_default_dtype())
        if self.cell == "lstm":
            output, (h_n, c_n) = self.rnn(x, (state["h"], state["c"]))
            final = {"h": h_n, "c": c_n}
        else:
            output, h_n = self.rnn(x, state["h"])
            final = {"h": h_n}
        logits = self.decoder(output)
        loss = F.cross_entropy(logits.reshape(seq_len * batch, self.vocab),
                               targets.reshape(seq_len * batch))
        return loss, logits, final

    def round_params_to_float32(self):
        with torch.no_grad():
            for tensor in self.params.values():
                tensor.copy_(tensor.float().to(tensor.dtype))

    def load(self, values):
        with torch.no_grad():
            for name, tensor in self.params.items():
                tensor.copy_(values[name])

    def snapshot(self):
        return {name: tensor.detach().clone() for name, tensor in self.params.items()}

    def zero_grad(self):
        for tensor in self.params.values():
            tensor.grad = None


def flat(tensor):
    return [float(v) for v in tensor.detach().reshape(-1).tolist()]


def params_with_shapes(params):
    return {name: {"shape": list(t.shape), "data": flat(t)} for name, t in params.items()}


def state_to_json(state):
    return {key: flat(value) for key, value in state.items()}


def optimizer_specs():
    """The optimiser runs recorded on the three parity cases that carry them.
    `make` builds the torch optimiser; settings mirror its hyperparameters exactly."""
    betas = [0.9, 0.999]
    return [
        {"name": "sgd", "type": "sgd",
         "settings": {"lr": 0.1, "momentum": 0.9, "dampening": 0.0, "nesterov": False, "weightDecay": 0.0},
         "clip": {"mode": "none", "value": None},
         "make": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)},
        {"name": "sgd-plain", "type": "sgd",
         "settings": {"lr": 0.5, "momentum": 0.0, "dampening": 0.0, "nesterov": False, "weightDecay": 0.0},
         "clip": {"mode": "none", "value": None},
         "make": lambda p: torch.optim.SGD(p, lr=0.5)},
        {"name": "rmsprop", "type": "rmsprop",
         "settings": {"lr": 0.01, "alpha": 0.99, "eps": 1e-8, "momentum": 0.0, "centered": False, "weightDecay": 0.0},
         "clip": {"mode": "none", "value": None},
         "make": lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.99, eps=1e-8)},
        {"name": "adagrad", "type": "adagrad",
         "settings": {"lr": 0.1, "eps": 1e-10, "lrDecay": 0.0, "initialAccumulatorValue": 0.0, "weightDecay": 0.0},
         "clip": {"mode": "none", "value": None},
         "make": lambda p: torch.optim.Adagrad(p, lr=0.1, eps=1e-10)},
        {"name": "adam", "type": "adam",
         "settings": {"lr": 0.01, "betas": betas, "eps": 1e-8, "weightDecay": 0.0, "amsgrad": False},
         "clip": {"mode": "none", "value": None},
         "make": lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.9, 0.999), eps=1e-8)},
        {"name": "adamw", "type": "adamw",
         "settings": {"lr": 0.01, "betas": betas, "eps": 1e-8, "weightDecay": 0.1, "amsgrad": False},
         "clip": {"mode": "none", "value": None},
         "make": lambda p: torch.optim.AdamW(p, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)},
        {"name": "adam-clip-norm", "type": "adam",
         "settings": {"lr": 0.01, "betas": betas, "eps": 1e-8, "weightDecay": 0.0, "amsgrad": False},
         "clip": {"mode": "norm", "value": 0.05},
         "make": lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.9, 0.999), eps=1e-8)},
        {"name": "sgd-clip-value", "type": "sgd",
         "settings": {"lr": 0.1, "momentum": 0.0, "dampening": 0.0, "nesterov": False, "weightDecay": 0.0},
         "clip": {"mode": "value", "value": 0.01},
         "make": lambda p: torch.optim.SGD(p, lr=0.1)},
    ]


def apply_clip(params, clip):
    """Clips in place; returns the total norm before clipping for mode "norm"."""
    if clip["mode"] == "norm":
        return float(torch.nn.utils.clip_grad_norm_(params, clip["value"]))
    if clip["mode"] == "value":
        torch.nn.utils.clip_grad_value_(params, clip["value"])
    return None


def run_optimizer(model, initial_params, inputs, targets, state, spec, steps):
    model.load(initial_params)
    params = list(model.params.values())
    optimizer = spec["make"](params)
    losses, norms = [], []
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        loss, _, _ = model.forward(inputs, targets, state)
        loss.backward()
        norm = apply_clip(params, spec["clip"])
        if norm is not None:
            norms.append(norm)
        optimizer.step()
        losses.append(float(loss))
    record = {"name": spec["name"], "type": spec["type"], "settings": spec["settings"],
              "clip": spec["clip"], "steps": steps, "lossesBefore": losses}
    if spec["clip"]["mode"] == "norm":
        record["gradNormsBeforeClip"] = norms
    record["paramsAfter"] = {name: flat(t) for name, t in model.params.items()}
    return record


def parity_case_specs():
    carried = [
        ("rnn-tanh-l1", "rnn", "tanh", 1), ("rnn-tanh-l2", "rnn", "tanh", 2),
        ("rnn-relu-l2", "rnn", "relu", 2),
        ("lstm-l1", "lstm", "tanh", 1), ("lstm-l2", "lstm", "tanh", 2), ("lstm-l3", "lstm", "tanh", 3),
        ("gru-l1", "gru", "tanh", 1), ("gru-l2", "gru", "tanh", 2), ("gru-l3", "gru", "tanh", 3),
    ]
    specs = [dict(name=n, cell=c, activation=a, layers=l, embed=0, learn_init=False)
             for n, c, a, l in carried]
    specs += [
        dict(name="lstm-l2-learninit", cell="lstm", activation="tanh", layers=2, embed=0, learn_init=True),
        dict(name="gru-l2-learninit", cell="gru", activation="tanh", layers=2, embed=0, learn_init=True),
        dict(name="rnn-tanh-l2-learninit", cell="rnn", activation="tanh", layers=2, embed=0, learn_init=True),
        dict(name="lstm-l2-embed4", cell="lstm", activation="tanh", layers=2, embed=PARITY_EMBED, learn_init=False),
        dict(name="gru-l1-embed4", cell="gru", activation="tanh", layers=1, embed=PARITY_EMBED, learn_init=False),
    ]
    return specs


WITH_OPTIMIZERS = {"lstm-l2", "gru-l2", "rnn-tanh-l2"}


def parity_case(index, spec):
    V, H, B, T = PARITY_VOCAB, PARITY_HIDDEN, PARITY_BATCH, PARITY_SEQ
    L = spec["layers"]
    # One seed per case so adding or reordering cases leaves the others unchanged.
    torch.manual_seed(1000 + index)
    model = CharModel(spec["cell"], spec["activation"], L, H, V, spec["embed"], spec["learn_init"])
    model.round_params_to_float32()
    inputs = torch.randint(0, V, (T, B))
    targets = torch.randint(0, V, (T, B))

    if spec["learn_init"]:
        carried_state = None
        state = model.learned_state(B)
    else:
        keys = ["h", "c"] if spec["cell"] == "lstm" else ["h"]
        carried_state = {k: ((torch.rand(L, B, H) - 0.5).float().double()).requires_grad_(True)
                         for k in keys}
        state = carried_state

    model.zero_grad()
    loss, logits, final = model.forward(inputs, targets, state)
    loss.backward()

    case = {
        "name": spec["name"], "cell": spec["cell"], "activation": spec["activation"],
        "layers": L, "hidden": H, "vocab": V, "embed": spec["embed"],
        "learnInit": spec["learn_init"], "batch": B, "seqLen": T,
        "inputs": inputs.reshape(-1).tolist(), "targets": targets.reshape(-1).tolist(),
        "params": params_with_shapes(model.params),
        "initialState": state_to_json(carried_state) if carried_state is not None else None,
        "loss": float(loss), "logits": flat(logits),
        "finalState": state_to_json(final),
        "grads": {name: flat(t.grad) for name, t in model.params.items()},
        "initialStateGrad": ({k: flat(v.grad) for k, v in carried_state.items()}
                             if carried_state is not None else None),
        "optimizers": [],
    }

    if spec["name"] in WITH_OPTIMIZERS:
        initial = model.snapshot()
        fixed_state = {k: v.detach() for k, v in state.items()}
        for opt_spec in optimizer_specs():
            case["optimizers"].append(run_optimizer(
                model, initial, inputs, targets, fixed_state, opt_spec, PARITY_OPTIMIZER_STEPS))
    return case


def build_parity():
    torch.set_default_dtype(torch.float64)
    try:
        cases = [parity_case(i, spec) for i, spec in enumerate(parity_case_specs())]
    finally:
        torch.set_default_dtype(torch.float32)
    return {"format": "charnn-torch-parity", "version": 1, "torch": torch.__version__,
            "dtype": "float64", "cases": cases}


def stream_window(tokens, stream_length, window):
    """(inputs, targets) of one window as (T, B) int64, laid out like StreamBatcher."""
    B, T = TRAJECTORY_BATCH, TRAJECTORY_SEQ
    inputs = torch.empty(T, B, dtype=torch.int64)
    targets = torch.empty(T, B, dtype=torch.int64)
    for t in range(T):
        for b in range(B):
            position = b * stream_length + window * T + t
            inputs[t, b] = tokens[position]
            targets[t, b] = tokens[position + 1]
    return inputs, targets


def trajectory_case(name, cell, activation, layers, hidden, tokens, vocab_size, stream_length, windows):
    B = TRAJECTORY_BATCH
    torch.manual_seed(TRAJECTORY_SEED)
    model = CharModel(cell, activation, layers, hidden, vocab_size, 0, False)
    initial = params_with_shapes(model.params)
    params = list(model.params.values())
    optimizer = torch.optim.Adam(params, lr=0.01, betas=(0.9, 0.999), eps=1e-8)
    # With these sizes the gradient norms stay below 0.7, so this clip never fires: it
    # guards the trajectory against a wrong clip that shrinks small gradients, while
    # the parity fixture's adam-clip-norm run is the test that clipping scales.
    clip = {"mode": "norm", "value": 1.0}
    keys = ["h", "c"] if cell == "lstm" else ["h"]

    state = None
    losses, norms, used_windows = [], [], []
    for step in range(TRAJECTORY_STEPS):
        window = step % windows
        if window == 0:
            state = {k: torch.zeros(layers, B, hidden) for k in keys}
        inputs, targets = stream_window(tokens, stream_length, window)
        optimizer.zero_grad(set_to_none=True)
        loss, _, final = model.forward(inputs, targets, state)
        loss.backward()
        norms.append(apply_clip(params, clip))
        optimizer.step()
        # Truncated BPTT: the next window starts from this one's final state, detached.
        state = {k: v.detach() for k, v in final.items()}
        losses.append(float(loss))
        used_windows.append(window)

    return {
        "name": name, "cell": cell, "activation": activation, "layers": layers,
        "hidden": hidden, "vocab": vocab_size, "embed": 0, "learnInit": False,
        "batch": B, "seqLen": TRAJECTORY_SEQ, "windowsPerEpoch": windows,
        "steps": TRAJECTORY_STEPS,
        "optimizer": {"type": "adam", "settings": {"lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-8,
                                                   "weightDecay": 0.0, "amsgrad": False}},
        "clip": clip, "params": initial, "windows": used_windows, "losses": losses,
        "gradNormsBeforeClip": norms,
        "paramsAfter": {n: flat(t) for n, t in model.params.items()},
    }


def build_trajectory():
    text = TRAJECTORY_TEXT
    vocabulary = sorted(set(text), key=ord)
    index_of = {ch: i for i, ch in enumerate(vocabulary)}
    tokens = [index_of[ch] for ch in text]
    stream_length = len(tokens) // TRAJECTORY_BATCH
    windows = (stream_length - 1) // TRAJECTORY_SEQ
    if windows >= TRAJECTORY_STEPS or windows < 2:
        raise SystemExit(f"text gives W={windows}; ten steps must cross an epoch boundary")
    V = len(vocabulary)
    cases = [
        trajectory_case("lstm-l1-h16", "lstm", "tanh", 1, 16, tokens, V, stream_length, windows),
        trajectory_case("gru-l2-h12", "gru", "tanh", 2, 12, tokens, V, stream_length, windows),
        trajectory_case("rnn-tanh-l1-h16", "rnn", "tanh", 1, 16, tokens, V, stream_length, windows),
    ]
    return {"format": "charnn-torch-trajectory", "version": 1, "torch": torch.__version__,
            "dtype": "float32", "text": text, "vocabulary": [ord(ch) for ch in vocabulary],
            "tokens": tokens, "batch": TRAJECTORY_BATCH, "seqLen": TRAJECTORY_SEQ,
            "streamLength": stream_length, "windowsPerEpoch": windows, "cases": cases}


def write_fixture(path, document):
    """Compact JSON with one case per line, so the committed file stays small and a
    regenerated fixture diffs case by case."""
    header = {k: v for k, v in document.items() if k != "cases"}
    lines = [json.dumps(header, separators=(",", ":"))[:-1] + ',"cases":[']
    cases = [json.dumps(case, separators=(",", ":"), allow_nan=False) for case in document["cases"]]
    lines.append(",\n".join(cases))
    lines.append("]}")
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


def product(shape):
    total = 1
    for size in shape:
        total *= size
    return total


def validate(path):
    """Re-reads a fixture and checks that every array has the length its shape implies."""
    with open(path, encoding="utf-8") as source:
        document = json.load(source)
    for case in document["cases"]:
        L, H, B, T, V = case["layers"], case["hidden"], case["batch"], case["seqLen"], case["vocab"]
        names = list(case["params"])
        sizes = {n: product(p["shape"]) for n, p in case["params"].items()}
        for n, p in case["params"].items():
            assert len(p["data"]) == sizes[n], (case["name"], n)
        state_keys = ["c", "h"] if case["cell"] == "lstm" else ["h"]  # sorted
        if "logits" in case:  # parity case
            assert len(case["inputs"]) == T * B and len(case["targets"]) == T * B
            assert len(case["logits"]) == T * B * V, case["name"]
            assert list(case["grads"]) == names
            for n in names:
                assert len(case["grads"][n]) == sizes[n], (case["name"], "grad", n)
            assert sorted(case["finalState"]) == state_keys
            for k in state_keys:
                assert len(case["finalState"][k]) == L * B * H
            if case["learnInit"]:
                assert case["initialState"] is None and case["initialStateGrad"] is None
            else:
                for part in ("initialState", "initialStateGrad"):
                    assert sorted(case[part]) == state_keys
                    for k in state_keys:
                        assert len(case[part][k]) == L * B * H, (case["name"], part, k)
            for run in case["optimizers"]:
                assert len(run["lossesBefore"]) == run["steps"]
                assert list(run["paramsAfter"]) == names
                for n in names:
                    assert len(run["paramsAfter"][n]) == sizes[n], (case["name"], run["name"], n)
                if run["clip"]["mode"] == "norm":
                    assert len(run["gradNormsBeforeClip"]) == run["steps"]
        else:  # trajectory case
            assert len(case["losses"]) == case["steps"] == len(case["windows"])
            assert len(case["gradNormsBeforeClip"]) == case["steps"]
            assert list(case["paramsAfter"]) == names
            for n in names:
                assert len(case["paramsAfter"][n]) == sizes[n], (case["name"], n)
    return document


def main():
    torch.set_num_threads(1)  # one reduction order, so regenerating gives the same bits
    os.makedirs(FIXTURE_DIR, exist_ok=True)
    parity_path = os.path.join(FIXTURE_DIR, "torch-parity.json")
    trajectory_path = os.path.join(FIXTURE_DIR, "torch-trajectory.json")
    write_fixture(parity_path, build_parity())
    write_fixture(trajectory_path, build_trajectory())

    parity = validate(parity_path)
    trajectory = validate(trajectory_path)
    print(f"torch {torch.__version__}")
    print(f"{parity_path}: {os.path.getsize(parity_path)} bytes")
    for case in parity["cases"]:
        runs = ", ".join(f"{r['name']} {r['lossesBefore'][-1]:.6f}" for r in case["optimizers"])
        print(f"  {case['name']:<24} loss {case['loss']:.12f}" + (f"  [{runs}]" if runs else ""))
    print(f"{trajectory_path}: {os.path.getsize(trajectory_path)} bytes, "
          f"{len(trajectory['text'])} chars, V={len(trajectory['vocabulary'])}, "
          f"S={trajectory['streamLength']}, W={trajectory['windowsPerEpoch']}")
    for case in trajectory["cases"]:
        print(f"  {case['name']:<16} losses " + " ".join(f"{x:.4f}" for x in case["losses"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
