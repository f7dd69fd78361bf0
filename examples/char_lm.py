"""A character-level language model of names: Embedding + LSTM/GRU, or a tiny causal
transformer, trained on names generated from a small syllable grammar (no download), then
sampled.

    python examples/char_lm.py                         # LSTM, 8 epochs
    python examples/char_lm.py --model transformer     # Embedding + causal TransformerEncoder
    python examples/char_lm.py --model gru --epochs 4 --backend torch   # the same in PyTorch

The script is written against PyTorch's API: ``--backend torch`` runs it unchanged with
PyTorch (same names, same seed for the data) for a side-by-side number. Each run writes a
folder (default ``runs/char_lm-<model>-<backend>``) with names.txt (the word list),
metrics.json (per-epoch losses, the samples and their scores), samples.txt and
loss_curve.png.

The names follow a grammar -- 2 or 3 syllables, each an onset, a vowel and a coda, from
fixed lists -- so a sample can be scored: how many samples the grammar accepts (the model
learnt the spelling rules) and how many are not in the training list (it did not just
memorise it).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import re
import time
from pathlib import Path

import numpy as np

# --------------------------------------------------------------------------- the word list

ONSETS = ["", "b", "br", "c", "ch", "d", "dr", "f", "g", "gr", "h", "j", "k", "l", "m", "n",
          "p", "r", "s", "sh", "st", "t", "th", "tr", "v", "z"]
VOWELS = ["a", "e", "i", "o", "u", "ae", "ia", "io", "ou", "y"]
CODAS = ["", "", "", "n", "r", "l", "s", "th", "nd", "m"]  # repeats weight the open syllable
ENDINGS = ["", "", "a", "el", "on", "ia", "us", "wen"]
GRAMMAR = re.compile("^(?:(?:{o})(?:{v})(?:{c})){{2,3}}(?:{e})$".format(
    o="|".join(sorted(set(ONSETS), key=len, reverse=True)),
    v="|".join(sorted(VOWELS, key=len, reverse=True)),
    c="|".join(sorted(set(CODAS), key=len, reverse=True)),
    e="|".join(sorted(set(ENDINGS), key=len, reverse=True))))


def generate_names(count: int, seed: int) -> list[str]:
    """``count`` distinct names from the syllable grammar, in a fixed random order."""
    rng = np.random.default_rng(seed)
    names: set[str] = set()
    while len(names) < count:
        syllables = rng.choice([2, 3], p=[0.7, 0.3])
        name = "".join(ONSETS[rng.integers(len(ONSETS))] + VOWELS[rng.integers(len(VOWELS))]
                       + CODAS[rng.integers(len(CODAS))] for _ in range(syllables))
        name += ENDINGS[rng.integers(len(ENDINGS))]
        if 3 <= len(name) <= 14:
            names.add(name)
    ordered = sorted(names)  # a set's order changes between runs (string hashing)
    return [ordered[i] for i in rng.permutation(len(ordered))]


BOUNDARY = "."  # marks the start and the end of a name (index 0)
ALPHABET = BOUNDARY + "abcdefghijklmnopqrstuvwxyz"
INDEX = {ch: i for i, ch in enumerate(ALPHABET)}


def encode(names: list[str]):
    """Inputs ``.name`` and targets ``name.``, padded to one length; padded targets are
    -1 (left out of the loss). Padded inputs are 0, after the end: a causal model never
    looks at them for the positions that count."""
    length = max(len(n) for n in names) + 1
    inputs = np.zeros((len(names), length), dtype=np.int64)
    targets = np.full((len(names), length), -1, dtype=np.int64)
    for row, name in enumerate(names):
        codes = [INDEX[ch] for ch in name]
        inputs[row, 1:len(codes) + 1] = codes
        targets[row, :len(codes)] = codes
        targets[row, len(codes)] = 0
    return inputs, targets


# --------------------------------------------------------------------------- configuration


@dataclasses.dataclass(frozen=True)
class Config:
    model: str = "lstm"            # lstm | gru | transformer
    backend: str = "tinygrad_fm"   # tinygrad_fm | torch
    names: int = 4000
    embed: int = 32
    hidden: int = 128              # recurrent state size, or d_model of the transformer
    layers: int = 1
    heads: int = 4
    dropout: float = 0.0
    epochs: int = 8
    batch_size: int = 64
    lr: float = 3e-3
    clip: float = 1.0
    samples: int = 20
    temperature: float = 0.8
    seed: int = 0
    threads: int = 1               # BLAS / PyTorch threads (the machine is shared)

    def __post_init__(self):
        if self.model not in ("lstm", "gru", "transformer"):
            raise ValueError(f"--model must be lstm, gru or transformer, got {self.model!r}")
        if self.backend not in ("tinygrad_fm", "torch"):
            raise ValueError(f"--backend must be tinygrad_fm or torch, got {self.backend!r}")
        if self.model == "transformer" and self.hidden % self.heads:
            raise ValueError(f"--hidden ({self.hidden}) must be divisible by --heads "
                             f"({self.heads}) for the transformer")
        for name in ("names", "embed", "hidden", "layers", "heads", "epochs", "batch_size",
                     "threads"):
            if getattr(self, name) <= 0:
                raise ValueError(f"--{name.replace('_', '-')} must be positive")


# --------------------------------------------------------------------------- models


def build_model(torch, config: Config, max_length: int):
    """The model, written once for both backends (``torch`` is the framework module)."""
    nn = torch.nn

    class RecurrentLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(len(ALPHABET), config.embed)
            layer = nn.LSTM if config.model == "lstm" else nn.GRU
            self.rnn = layer(config.embed, config.hidden, num_layers=config.layers,
                             dropout=config.dropout if config.layers > 1 else 0.0,
                             batch_first=True)
            self.head = nn.Linear(config.hidden, len(ALPHABET))

        def forward(self, tokens, state=None):
            output, state = self.rnn(self.embed(tokens), state)
            return self.head(output), state

    class TransformerLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(len(ALPHABET), config.hidden)
            self.position = nn.Embedding(max_length, config.hidden)
            layer = nn.TransformerEncoderLayer(config.hidden, config.heads,
                                               dim_feedforward=4 * config.hidden,
                                               dropout=config.dropout, activation="relu",
                                               batch_first=True, norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, config.layers,
                                                 norm=nn.LayerNorm(config.hidden),
                                                 enable_nested_tensor=False)
            self.head = nn.Linear(config.hidden, len(ALPHABET))

        def forward(self, tokens, state=None):
            length = tokens.shape[1]
            causal = torch.triu(torch.full((length, length), float("-inf")), diagonal=1)
            h = self.embed(tokens) + self.position(torch.arange(length))
            return self.head(self.encoder(h, mask=causal, is_causal=True)), None

    return RecurrentLM() if config.model in ("lstm", "gru") else TransformerLM()


def sequence_loss(torch, logits, targets):
    """Mean cross-entropy over the real (not padded, target >= 0) characters."""
    flat_targets = targets.reshape(-1)
    keep = (flat_targets >= 0).numpy().astype(np.float32)
    losses = torch.nn.functional.cross_entropy(
        logits.reshape(-1, len(ALPHABET)), torch.tensor(np.maximum(flat_targets.numpy(), 0)),
        reduction="none")
    return (losses * torch.tensor(keep)).sum() / float(keep.sum())


def sample(torch, model, config: Config, count: int, max_length: int, rng) -> list[str]:
    """Names drawn one character at a time (temperature ``config.temperature``); the
    recurrent models carry their state, the transformer re-reads its prefix."""
    model.eval()
    names = []
    with torch.no_grad():
        for _ in range(count):
            chars, state = [0], None
            while len(chars) < max_length:
                if config.model == "transformer":
                    logits, _ = model(torch.tensor(np.array([chars])))
                else:
                    logits, state = model(torch.tensor(np.array([[chars[-1]]])), state)
                scores = logits[0, -1].numpy().astype(np.float64) / config.temperature
                probs = np.exp(scores - scores.max())
                chars.append(int(rng.choice(len(ALPHABET), p=probs / probs.sum())))
                if chars[-1] == 0:
                    break
            names.append("".join(ALPHABET[c] for c in chars[1:] if c != 0))
    model.train()
    return names


# --------------------------------------------------------------------------- training


def train(config: Config, out_dir: Path, quiet: bool = False) -> dict:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=config.threads, user_api="blas"):
        return _train(config, out_dir, quiet)


def _train(config: Config, out_dir: Path, quiet: bool) -> dict:
    if config.backend == "torch":
        import torch
        torch.set_num_threads(config.threads)
    else:
        import tinygrad_fm as torch
        import tinygrad_fm.optim  # noqa: F401  (torch.optim)
    torch.manual_seed(config.seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = generate_names(config.names, config.seed)
    (out_dir / "names.txt").write_text("\n".join(names) + "\n")
    split = int(0.9 * len(names))
    train_inputs, train_targets = encode(names[:split])
    val_inputs, val_targets = encode(names[split:])
    max_length = max(train_inputs.shape[1], val_inputs.shape[1]) + 1
    model = build_model(torch, config, max_length)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    rng = np.random.default_rng(config.seed)
    history = {"step_loss": [], "epoch": [], "val_loss": [], "epoch_seconds": []}

    for epoch in range(1, config.epochs + 1):
        start = time.perf_counter()
        order = rng.permutation(len(train_inputs))
        for first in range(0, len(order), config.batch_size):
            batch = order[first:first + config.batch_size]
            length = int((train_targets[batch] >= 0).sum(axis=1).max())  # trim the padding
            inputs = torch.tensor(train_inputs[batch, :length])
            targets = torch.tensor(train_targets[batch, :length])
            logits, _ = model(inputs)
            loss = sequence_loss(torch, logits, targets)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip)
            optimizer.step()
            history["step_loss"].append(loss.item())
        seconds = time.perf_counter() - start
        model.eval()
        with torch.no_grad():
            val_logits, _ = model(torch.tensor(val_inputs))
            val_loss = sequence_loss(torch, val_logits, torch.tensor(val_targets)).item()
        model.train()
        if not math.isfinite(val_loss):
            raise FloatingPointError(f"epoch {epoch}: the validation loss is {val_loss}")
        history["epoch"].append(epoch)
        history["val_loss"].append(val_loss)
        history["epoch_seconds"].append(seconds)
        if not quiet:
            recent = np.mean(history["step_loss"][-20:])
            print(f"epoch {epoch:3d}  train loss {recent:.4f}  val loss {val_loss:.4f} "
                  f"nats/char  ({seconds:.1f} s)")

    samples = sample(torch, model, config, config.samples, max_length,
                     np.random.default_rng(config.seed + 1))
    known = set(names)
    summary = {
        "config": dataclasses.asdict(config),
        "val_loss": history["val_loss"][-1],
        "samples": samples,
        "grammatical": float(np.mean([bool(GRAMMAR.match(s)) for s in samples])),
        "novel": float(np.mean([s not in known for s in samples])),
        "seconds_per_epoch": float(np.mean(history["epoch_seconds"])),
        "history": history,
    }
    (out_dir / "metrics.json").write_text(json.dumps(summary, indent=1) + "\n")
    (out_dir / "samples.txt").write_text("\n".join(samples) + "\n")
    plot_losses(history, config, out_dir / "loss_curve.png")
    if not quiet:
        print("samples:", ", ".join(samples))
        print(f"grammatical {summary['grammatical']:.0%}, not in the training list "
              f"{summary['novel']:.0%}; figures and metrics in {out_dir}")
    return summary


def plot_losses(history: dict, config: Config, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps_per_epoch = len(history["step_loss"]) / max(len(history["epoch"]), 1)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(np.arange(1, len(history["step_loss"]) + 1) / steps_per_epoch,
            history["step_loss"], lw=0.8, alpha=0.6, label="train (per step)")
    ax.plot(history["epoch"], history["val_loss"], "o-", label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy (nats / character)")
    ax.set_title(f"char LM on generated names: {config.model}, {config.backend}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def parse_args(argv=None) -> tuple[Config, Path, bool]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    defaults = Config()
    for field in dataclasses.fields(Config):
        parser.add_argument("--" + field.name.replace("_", "-"),
                            type={"int": int, "float": float, "str": str}[field.type],
                            default=getattr(defaults, field.name))
    parser.add_argument("--out", type=Path, default=None,
                        help="run folder (default runs/char_lm-<model>-<backend>)")
    parser.add_argument("--quiet", action="store_true")
    args = vars(parser.parse_args(argv))
    out, quiet = args.pop("out"), args.pop("quiet")
    try:
        config = Config(**args)
    except ValueError as error:
        parser.error(str(error))
    return config, out or Path("runs") / f"char_lm-{config.model}-{config.backend}", quiet


if __name__ == "__main__":
    config, out_dir, quiet = parse_args()
    train(config, out_dir, quiet)
