"""One epoch of the reference CNN on Fashion-MNIST: tinygrad_fm (eager, and its step captured
by tinygrad_fm.jit) against PyTorch's CPU eager mode, interleaved in one process, same
batches and same initial weights.

The network (issue 14): Conv2d(1, 32, 3, padding=1), ReLU, MaxPool2d(2), Conv2d(32, 64, 3,
padding=1), ReLU, MaxPool2d(2), Flatten, Linear(3136, 128), ReLU, Dropout(0.25),
Linear(128, 10); cross-entropy, Adam at 1e-3, batch 64, float32, over the 54,000-image
training split (real data when FASHION_MNIST_DIR is set, synthetic images otherwise).

The contenders take turns in chunks of batches, the order rotating and reversing from one
chunk to the next, each timing its own forward (to the loss), backward and optimizer step
(the captured step only as a whole), so that a load that comes and goes on the machine
hits all alike; compare the ratios, not the seconds. Each one's first step is left out of
its times (it imports and compiles what later steps reuse: numba's kernels, PyTorch's
first-call set-up), and the captured step's first two (they record it).

    python benchmarks/bench_cnn.py            # one epoch (844 batches), peak memory
    python benchmarks/bench_cnn.py --quick    # 60 batches, for trying things
    python benchmarks/bench_cnn.py --batches 200 --chunk 10
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import tinygrad_fm as tg  # noqa: E402
from tinygrad_fm import optim  # noqa: E402

TRAIN_SIZE = 54_000
BATCH_SIZE = 64
PHASES = ("forward", "backward", "optimizer")


def reference_cnn(nn):
    """The issue's CNN, written once for any module namespace with PyTorch's names."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, 10))


def load_images(n: int):
    if os.environ.get("FASHION_MNIST_DIR"):
        from tinygrad_fm.datasets import fashion_mnist

        data = fashion_mnist(download=False)
        return data.train_images[:n], data.train_labels[:n].astype(np.int64), "Fashion-MNIST"
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    return images, rng.integers(0, 10, n).astype(np.int64), "synthetic"


def batches(images, labels, batch_size: int, count: int) -> list:
    """The first ``count`` batches of one shuffled epoch, as float32 (B, 1, 28, 28)."""
    order = np.random.default_rng(0).permutation(len(images))
    out = []
    for start in range(0, min(len(order), count * batch_size), batch_size):
        index = order[start:start + batch_size]
        x = np.multiply(images[index].reshape(-1, 1, 28, 28), np.float32(1 / 255))
        out.append((x, labels[index]))
    return out


def initial_state(seed: int = 0) -> dict:
    """PyTorch's default initialisation of the network, as float32 arrays (drawn with
    NumPy when PyTorch is absent)."""
    try:
        import torch
    except ImportError:
        tg.manual_seed(seed)
        return {k: v.copy() for k, v in reference_cnn(tg.nn).state_dict().items()}
    torch.manual_seed(seed)
    return {k: v.detach().numpy().copy() for k, v in reference_cnn(torch.nn).state_dict().items()}


class Contender:
    """One framework's model, optimizer and per-phase clock."""

    def __init__(self, name: str, framework, optimizer_module, state: dict):
        self.name, self.framework = name, framework
        self.model = reference_cnn(framework.nn)
        self.model.load_state_dict({k: framework.tensor(v) for k, v in state.items()})
        self.optimizer = optimizer_module.Adam(self.model.parameters(), lr=1e-3)
        self.loss_fn = framework.nn.CrossEntropyLoss()
        self.seconds = dict.fromkeys(PHASES, 0.0)
        self.steps = 0
        self.losses = []

    def run(self, chunk) -> None:
        fw, clock = self.framework, time.perf_counter
        for x, y in chunk:
            x, y = fw.from_numpy(x), fw.from_numpy(y)
            started = clock()
            loss = self.loss_fn(self.model(x), y)
            forward_done = clock()
            self.optimizer.zero_grad()
            loss.backward()
            backward_done = clock()
            self.optimizer.step()
            step_done = clock()
            self.losses.append(float(loss.item()))
            self.steps += 1
            if self.steps == 1:
                continue  # the first step loads and compiles what later steps reuse
            self.seconds["forward"] += forward_done - started
            self.seconds["backward"] += backward_done - forward_done
            self.seconds["optimizer"] += step_done - backward_done

    @property
    def timed_steps(self) -> int:
        return max(self.steps - 1, 1)

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    def phase(self, name: str) -> float:
        """Seconds per timed step in one phase."""
        return self.seconds[name] / self.timed_steps

    @property
    def per_step(self) -> float:
        """Seconds per timed step."""
        return self.total / self.timed_steps


class CapturedContender(Contender):
    """tinygrad_fm with the whole step (forward, loss, backward, optimizer step) captured
    by tinygrad_fm.jit: timed as one, so its phases are not split."""

    def __init__(self, state: dict):
        super().__init__("captured", tg, optim, state)
        model, optimizer, loss_fn = self.model, self.optimizer, self.loss_fn

        @tg.jit
        def step(x, y):
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss

        self.step = step
        self.seconds = {"step": 0.0}

    def run(self, chunk) -> None:
        clock = time.perf_counter
        for x, y in chunk:
            x, y = tg.from_numpy(x), tg.from_numpy(y)
            started = clock()
            loss = self.step(x, y)
            done = clock()
            self.losses.append(float(loss.item()))
            self.steps += 1
            if self.steps > 2:  # the first two calls record the step
                self.seconds["step"] += done - started

    @property
    def timed_steps(self) -> int:
        return max(self.steps - 2, 1)


def make_contenders(state: dict, use_torch: bool, threads: int,
                    captured: bool = True) -> list:
    contenders = [Contender("tinygrad_fm", tg, optim, state)]
    if captured:
        contenders.append(CapturedContender(state))
    if use_torch:
        try:
            import torch
        except ImportError:
            print("PyTorch not installed: tinygrad_fm alone (pip install torch==2.13.0)")
            return contenders
        torch.set_num_threads(threads)
        contenders.append(Contender("pytorch", torch, torch.optim, state))
    return contenders


def interleave(contenders: list, data: list, chunk: int) -> None:
    """Each contender trains on every batch, in chunks, alternating who goes first."""
    for i, start in enumerate(range(0, len(data), chunk)):
        order = contenders[i % len(contenders):] + contenders[:i % len(contenders)]
        order = order if i % 2 == 0 else order[::-1]
        for contender in order:
            contender.run(data[start:start + chunk])


def peak_memory_mb(batches_count: int) -> tuple[float, float]:
    """(resident MB before training, peak resident MB) of a tinygrad_fm-only training run
    of ``batches_count`` batches, in a child process."""
    done = subprocess.run([sys.executable, __file__, "--memory-child",
                           "--batches", str(batches_count)], cwd=ROOT, check=True,
                          capture_output=True, text=True, timeout=3600)
    line = next(l for l in done.stdout.splitlines() if l.startswith("MEMORY_KB"))
    before, peak = (int(v) / 1024 for v in line.split()[1:])
    return before, peak


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


def memory_child(batches_count: int) -> None:
    images, labels, _ = load_images(TRAIN_SIZE)
    data = batches(images, labels, BATCH_SIZE, batches_count)
    contender = Contender("tinygrad_fm", tg, optim, initial_state())
    before = _status_kb("VmRSS")
    contender.run(data)
    print(f"MEMORY_KB {before} {_status_kb('VmHWM')}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=None,
                        help="batches to train (default: the whole epoch)")
    parser.add_argument("--chunk", type=int, default=20, help="batches per interleaved turn")
    parser.add_argument("--threads", type=int, default=2, help="PyTorch intra-op threads")
    parser.add_argument("--quick", action="store_true", help="60 batches, no memory run")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory run")
    parser.add_argument("--no-capture", action="store_true",
                        help="leave out the captured step (tinygrad_fm.jit)")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    full = -(-TRAIN_SIZE // BATCH_SIZE)
    count = args.batches or (60 if args.quick else full)
    if args.memory_child:
        memory_child(count)
        return 0

    images, labels, source = load_images(TRAIN_SIZE)
    data = batches(images, labels, BATCH_SIZE, count)
    contenders = make_contenders(initial_state(), not args.no_torch, args.threads,
                                 captured=not args.no_capture)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} at start; Python "
          f"{platform.python_version()}, NumPy {np.__version__}")
    print(f"data: {source}, {len(data)} batches of {BATCH_SIZE} "
          f"({'one epoch' if len(data) == full else 'part of an epoch'}); interleaved in "
          f"chunks of {args.chunk}; PyTorch threads: {args.threads}")
    started = time.perf_counter()
    interleave(contenders, data, args.chunk)
    print(f"(wall {time.perf_counter() - started:.1f} s, load average "
          f"{os.getloadavg()[0]:.1f} at the end)\n")

    print(f"{'':>12} " + " ".join(f"{p + ' ms':>13}" for p in PHASES)
          + f" {'step ms':>9} {'epoch s':>8} {'final loss':>11}")
    for c in contenders:
        phases = " ".join(f"{1e3 * c.phase(p):>13.2f}" if p in c.seconds
                          else f"{'-':>13}" for p in PHASES)
        print(f"{c.name:>12} {phases} {1e3 * c.per_step:>9.2f} {c.per_step * full:>8.1f} "
              f"{np.mean(c.losses[-20:]):>11.4f}")
    by_name = {c.name: c for c in contenders}
    if "pytorch" in by_name:
        theirs = by_name["pytorch"]
        ours = by_name["tinygrad_fm"]
        split = " ".join(f"{p} {ours.phase(p) / theirs.phase(p):.2f}" for p in PHASES)
        print(f"\nratio tinygrad_fm / pytorch: {ours.per_step / theirs.per_step:.2f} ({split})")
        if "captured" in by_name:
            print(f"ratio captured / pytorch: {by_name['captured'].per_step / theirs.per_step:.2f}")
    if len(data) < full:
        print(f"(epoch s: per-step time times the {full} batches of an epoch)")
    if not (args.quick or args.no_memory):
        before, peak = peak_memory_mb(min(count, 200))
        print(f"\npeak resident memory of a tinygrad_fm training run ({min(count, 200)} "
              f"batches, data loaded): {peak:.0f} MB ({before:.0f} MB before training)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
