"""Train a character-level language model of names with tinygrad_fm, then sample new names.

    python examples/char_lm.py                           # LSTM, 8 epochs
    python examples/char_lm.py --model transformer       # a tiny causal transformer
    python examples/char_lm.py --model gru -e 4 --wandb-mode disabled

The model reads a name one character at a time and predicts the next: ``--model lstm``
(default) or ``gru`` (Embedding, recurrent layers, Linear), or ``transformer`` (token and
position embeddings, a causal TransformerEncoder, Linear). The word list is generated,
not downloaded: names from a small syllable grammar -- 2 or 3 syllables, each an onset, a
vowel and a coda, from fixed lists, and an ending -- split 80/10/10 into training,
validation and test names. The grammar also scores the names sampled at the end: the
fraction it accepts (the model learnt the spelling rules) and the fraction not in the
word list (it did not just memorise it).

The flags, run folder, wandb logging (offline fallback), figures, --save/--resume and the
divergence stop are the ``experiment`` package's, shared with the Fashion-MNIST examples;
this script holds the word list, the model, its epoch loop and the sampling. The model is
written against PyTorch's API (``build_model`` takes the framework module), and its test
builds the same model in PyTorch from the same weights.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from experiment.cli import exit_status, exit_with, single_threaded_blas
from experiment.config import (MORE, ConfigError, RunOptions, TrainingConfig, build_parser,
                               flag, parse_command_line, with_default)
from experiment.files import write_text
from experiment.training import TrainingRun, build_optimizer, build_scheduler
import tinygrad_fm as tg
from tinygrad_fm import nn, no_grad
from tinygrad_fm.nn import functional as F
from tinygrad_fm.utils.data import DataLoader, DistributedSampler, TensorDataset

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


def split_names(names: list[str]) -> tuple[list[str], list[str], list[str]]:
    """The first 80% of the (shuffled) list for training, then 10% validation, 10% test."""
    train_end, val_end = int(0.8 * len(names)), int(0.9 * len(names))
    return names[:train_end], names[train_end:val_end], names[val_end:]


BOUNDARY = "."  # marks the start and the end of a name (index 0)
ALPHABET = BOUNDARY + "abcdefghijklmnopqrstuvwxyz"
INDEX = {ch: i for i, ch in enumerate(ALPHABET)}
PADDING = -1  # the target of a position after the end (left out of the loss)


def encode(names: list[str]):
    """Inputs ``.name`` and targets ``name.``, padded to one length; padded targets are
    -1 (left out of the loss). Padded inputs are 0, after the end: a causal model never
    looks at them for the positions that count."""
    length = max(len(n) for n in names) + 1
    inputs = np.zeros((len(names), length), dtype=np.int64)
    targets = np.full((len(names), length), PADDING, dtype=np.int64)
    for row, name in enumerate(names):
        codes = [INDEX[ch] for ch in name]
        inputs[row, 1:len(codes) + 1] = codes
        targets[row, :len(codes)] = codes
        targets[row, len(codes)] = 0
    return inputs, targets


def trimmed(inputs: np.ndarray, targets: np.ndarray):
    """A batch cut to its longest name (the padding after it only costs time)."""
    length = int((targets >= 0).sum(axis=1).max())
    return inputs[:, :length], targets[:, :length]


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class CharLMConfig(TrainingConfig):
    """The shared training flags and the model's; the word list is generated from
    ``--seed``."""

    MODELS: ClassVar[tuple] = ("lstm", "gru", "transformer")

    epochs: int = with_default(TrainingConfig, "epochs", 8)
    learning_rate: float = with_default(TrainingConfig, "learning_rate", 3e-3)
    hidden_size: int = flag(128, "-sz", "recurrent state size, or the transformer's width "
                            "(default {default})", metavar="N", minimum=1)
    model: str = flag("lstm", None, "lstm or gru (Embedding, recurrent layers, Linear), or "
                      "transformer (token and position embeddings, causal "
                      "TransformerEncoder, Linear)", group=MORE, choices=MODELS)
    names: int = flag(4000, None, "names in the generated word list, 80%% for training, "
                      "10%% each for validation and test (default {default})", group=MORE,
                      metavar="N", minimum=20)
    embed: int = flag(32, None, "embedding size of the recurrent models (default "
                      "{default})", group=MORE, metavar="N", minimum=1)
    layers: int = flag(1, None, "recurrent or transformer layers (default {default})",
                       group=MORE, metavar="N", minimum=1)
    heads: int = flag(4, None, "attention heads of the transformer, dividing -sz (default "
                      "{default})", group=MORE, metavar="N", minimum=1)
    dropout: float = flag(0.0, None, "dropout between recurrent layers and inside the "
                          "transformer (default 0)", group=MORE, metavar="P", below_one=True)
    clip: float = flag(1.0, None, "clip the gradients' joint norm to NORM (default "
                       "{default}; 0: no clipping)", group=MORE, metavar="NORM")
    samples: int = flag(20, None, "names sampled at the end (default {default})",
                        group=MORE, metavar="N", minimum=0)
    temperature: float = flag(0.8, None, "sampling temperature (default {default})",
                              group=MORE, metavar="T", positive=True)

    def __post_init__(self):
        super().__post_init__()
        if self.model == "transformer" and self.hidden_size % self.heads:
            raise ConfigError(f"the transformer's width -sz ({self.hidden_size}) must be "
                              f"divisible by --heads ({self.heads})")

    def run_name(self) -> str:
        """``charlm_lstm_sz_128_bs_64_opt_adam_lr_0.003``, plus what differs from the
        defaults of the rest."""
        parts = [f"charlm_{self.model}", f"sz_{self.hidden_size}", f"bs_{self.batch_size}",
                 f"opt_{self.optimizer}", f"lr_{self.learning_rate:g}"]
        defaults = CharLMConfig()
        for key, short in (("layers", "layers"), ("embed", "emb"), ("dropout", "do"),
                           ("names", "names"), ("weight_decay", "wd")):
            if getattr(self, key) != getattr(defaults, key):
                parts.append(f"{short}_{getattr(self, key):g}")
        if self.model == "transformer" and self.heads != defaults.heads:
            parts.append(f"heads_{self.heads}")
        if self.lr_schedule != defaults.lr_schedule:
            parts.append(self.lr_schedule)
        return "_".join(parts)


# --------------------------------------------------------------------------- the model


def build_model(config: CharLMConfig, max_length: int, framework=tg):
    """The model, written against PyTorch's API: ``framework`` is tinygrad_fm or torch.
    ``forward(tokens, state=None) -> (logits, state)``; the transformer has no state and
    sees positions below ``max_length``."""
    nn_ = framework.nn

    class RecurrentLM(nn_.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn_.Embedding(len(ALPHABET), config.embed)
            layer = nn_.LSTM if config.model == "lstm" else nn_.GRU
            self.rnn = layer(config.embed, config.hidden_size, num_layers=config.layers,
                             dropout=config.dropout if config.layers > 1 else 0.0,
                             batch_first=True)
            self.head = nn_.Linear(config.hidden_size, len(ALPHABET))

        def forward(self, tokens, state=None):
            output, state = self.rnn(self.embed(tokens), state)
            return self.head(output), state

    class TransformerLM(nn_.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn_.Embedding(len(ALPHABET), config.hidden_size)
            self.position = nn_.Embedding(max_length, config.hidden_size)
            layer = nn_.TransformerEncoderLayer(config.hidden_size, config.heads,
                                                dim_feedforward=4 * config.hidden_size,
                                                dropout=config.dropout, activation="relu",
                                                batch_first=True, norm_first=True)
            self.encoder = nn_.TransformerEncoder(layer, config.layers,
                                                  norm=nn_.LayerNorm(config.hidden_size),
                                                  enable_nested_tensor=False)
            self.head = nn_.Linear(config.hidden_size, len(ALPHABET))

        def forward(self, tokens, state=None):
            length = tokens.shape[1]
            causal = framework.triu(framework.full((length, length), float("-inf")),
                                    diagonal=1)
            h = self.embed(tokens) + self.position(framework.arange(length))
            return self.head(self.encoder(h, mask=causal, is_causal=True)), None

    return RecurrentLM() if config.model in ("lstm", "gru") else TransformerLM()


def sequence_loss(logits, targets):
    """Mean cross-entropy over the real characters, in nats per character: the targets
    after a name's end are -1, which ``ignore_index`` leaves out (of a captured step's
    every batch too: the op itself masks them)."""
    return F.cross_entropy(logits.reshape(-1, len(ALPHABET)), targets.reshape(-1),
                           ignore_index=-1)


def correct_characters(logits, targets: np.ndarray) -> int:
    """How many real characters the model ranks first."""
    predicted = logits.detach().numpy().argmax(axis=-1)
    return int(((predicted == targets) & (targets >= 0)).sum())


def evaluate(model, inputs: np.ndarray, targets: np.ndarray):
    """Loss per character and next-character accuracy over a split, in eval mode."""
    model.eval()
    with no_grad():
        logits, _ = model(tg.Tensor(inputs))
        loss = sequence_loss(logits, tg.Tensor(targets)).item()
    return loss, correct_characters(logits, targets) / int((targets >= 0).sum())


def sample(model, config: CharLMConfig, count: int, max_length: int, rng) -> list[str]:
    """Names drawn one character at a time (temperature ``config.temperature``); the
    recurrent models carry their state, the transformer re-reads its prefix."""
    model.eval()
    names = []
    with no_grad():
        for _ in range(count):
            chars, state = [0], None
            while len(chars) < max_length:
                if config.model == "transformer":
                    logits, _ = model(tg.Tensor(np.array([chars])))
                else:
                    logits, state = model(tg.Tensor(np.array([[chars[-1]]])), state)
                scores = logits[0, -1].numpy().astype(np.float64) / config.temperature
                probs = np.exp(scores - scores.max())
                chars.append(int(rng.choice(len(ALPHABET), p=probs / probs.sum())))
                if chars[-1] == 0:
                    break
            names.append("".join(ALPHABET[c] for c in chars[1:] if c != 0))
    return names


def score(samples: list[str], names: list[str]) -> dict:
    """The fractions of ``samples`` the grammar accepts and that are not in ``names``."""
    if not samples:
        return {"grammatical": None, "novel": None}
    known = set(names)
    return {"grammatical": float(np.mean([bool(GRAMMAR.match(s)) for s in samples])),
            "novel": float(np.mean([s not in known for s in samples]))}


# --------------------------------------------------------------------------- training


def train(config=None, options: RunOptions = RunOptions()) -> dict:
    """Train one configuration (a CharLMConfig, a mapping of its flags, or None for the
    defaults) and return its result (see ``TrainingRun.finish``; test_loss is in nats per
    character, test_accuracy the next-character accuracy, and ``samples``,
    ``grammatical`` and ``novel`` the sampled names and their scores). Raises
    TrainingDiverged / TrainingInterrupted as fashion_mnist.train does.

    BLAS runs on one thread: the model's matrices are small, and more threads only
    contend for the cores (an epoch took three times as long with two on two cores)."""
    with single_threaded_blas(), TrainingRun(CharLMConfig, config, options) as run:
        config = run.config  # with --resume: the checkpoint's
        names = generate_names(config.names, config.seed)
        write_text(run.out_dir / "names.txt", "\n".join(names) + "\n")
        splits = [encode(split) for split in split_names(names)]
        (train_inputs, train_targets), val, test = splits
        max_length = max(inputs.shape[1] for inputs, _ in splits) + 1
        train_set = TensorDataset(train_inputs, train_targets)
        loader = DataLoader(train_set, config.batch_size,
                            sampler=DistributedSampler(train_set, seed=config.seed))
        model = build_model(config, max_length)
        optimizer = build_optimizer(config, model.parameters())
        scheduler = build_scheduler(config, optimizer, len(loader))
        run.say(f"{len(train_inputs)} training, {len(val[0])} validation and "
                f"{len(test[0])} test names")
        run.start(model, optimizer, scheduler)

        def forward_backward(inputs, targets):
            logits, _ = model(inputs)
            loss = sequence_loss(logits, targets)
            optimizer.zero_grad()
            loss.backward()
            return loss, logits

        # Captured with tinygrad_fm.jit unless --no-capture; clipping and the optimizer
        # step come after the call, as clipping cannot be captured.
        train_batch = run.training_step(forward_backward)
        for epoch in run.epochs():
            model.train()
            total_loss, correct, characters = 0.0, 0, 0
            for step, batch in enumerate(run.progress(loader, epoch), 1):
                inputs, targets = trimmed(*(part.numpy() for part in batch))
                loss, logits = train_batch(tg.Tensor(inputs), tg.Tensor(targets))
                value = run.check_finite(loss.item(), epoch, step)
                if config.clip:
                    nn.utils.clip_grad_norm_(model.parameters(), config.clip)
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                count = int((targets >= 0).sum())
                total_loss += value * count
                correct += correct_characters(logits, targets)
                characters += count
                run.show_running_loss(step, total_loss / characters)
            val_loss, val_accuracy = evaluate(model, *val)
            run.end_epoch(epoch, train_loss=total_loss / characters,
                          train_accuracy=correct / characters, val_loss=val_loss,
                          val_accuracy=val_accuracy)

        test_loss, test_accuracy = evaluate(model, *test)
        samples = sample(model, config, config.samples, max_length,
                         np.random.default_rng(config.seed + 1))
        write_text(run.out_dir / "samples.txt", "".join(f"{s}\n" for s in samples))
        return run.finish(test_loss, test_accuracy,
                          extra={"samples": samples, **score(samples, names)})


EPILOG = """\
After every epoch the script prints and logs epoch, train_loss, train_accuracy, val_loss
and val_accuracy: the cross-entropy in nats per character and the fraction of characters
predicted right (train_* over the epoch's own training steps). At the end it evaluates the
test names, samples --samples names and scores them (grammatical: the fraction the
grammar accepts; novel: the fraction not in the word list). The run folder holds
names.txt and samples.txt beside the files of every run.

wandb: without an API key the run is logged offline into the run folder and the script
says how to upload it (wandb sync); it never asks for a key. --wandb-mode disabled
turns it off.

Exit status: 0 done, 1 the loss diverged (NaN/inf) or the checkpoint could not be read,
2 bad options, 130 interrupted (Ctrl-C or SIGTERM; with --save the last epoch's
checkpoint is kept).
"""


def parser():
    return build_parser(CharLMConfig, prog="char_lm.py", description=__doc__.split("\n\n")[0],
                        epilog=EPILOG)


def final_line(result: dict) -> str:
    line = (f"test_loss={result['test_loss']:.4f} test_accuracy={result['test_accuracy']:.4f} "
            f"({result['wall_time_s']:.0f} s)")
    if result["samples"]:
        line += (f"; samples: {', '.join(result['samples'])}; grammatical "
                 f"{result['grammatical']:.0%}, novel {result['novel']:.0%}")
    line += f"; run folder {result['out_dir']}"
    if result.get("wandb_dir"):
        line += f"; wandb run {result['wandb_dir']}"
    return line


def main(argv=None) -> int:
    command = parse_command_line(parser(), CharLMConfig, argv)
    with exit_status() as status:
        print(final_line(train(command.config, command.options)))
    return status.code


if __name__ == "__main__":
    exit_with(main)
