"""One epoch of the reference CNN on Fashion-MNIST: tinygrad_fm against PyTorch's CPU eager
mode, interleaved in one process, same batches and same initial weights.

The network (issue 14): Conv2d(1, 32, 3, padding=1), ReLU, MaxPool2d(2), Conv2d(32, 64, 3,
padding=1), ReLU, MaxPool2d(2), Flatten, Linear(3136, 128), ReLU, Dropout(0.25),
Linear(128, 10); cross-entropy, Adam at 1e-3, batch 64, float32, over the 54,000-image
training split (real data when FASHION_MNIST_DIR is set, synthetic images otherwise).

The two contenders alternate in chunks of batches (A B, B A, A B, ...), each timing its
own forward (to the loss), backward and optimizer step, so that a load that comes and
goes on the machine hits both alike; compare the ratio, not the seconds. Each one's first
step is left out of its times: it imports and compiles (numba's kernels, PyTorch's
first-call set-up) what every later step reuses.

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


def make_contenders(state: dict, use_torch: bool, threads: int) -> list:
    contenders = [Contender("tinygrad_fm", tg, optim, state)]
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
        order = contenders if i % 2 == 0 else contenders[::-1]
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
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    full = -(-TRAIN_SIZE // BATCH_SIZE)
    count = args.batches or (60 if args.quick else full)
    if args.memory_child:
        memory_child(count)
        return 0

    images, labels, source = load_images(TRAIN_SIZE)
    data = batches(images, labels, BATCH_SIZE, count)
    contenders = make_contenders(initial_state(), not args.no_torch, args.threads)
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

    print(f"{'':>12} {'total s':>9} " + " ".join(f"{p + ' ms':>13}" for p in PHASES)
          + f" {'step ms':>9} {'final loss':>11}")
    for c in contenders:
        per_step = {p: 1e3 * c.seconds[p] / c.timed_steps for p in PHASES}
        tail = np.mean(c.losses[-20:])
        print(f"{c.name:>12} {c.total:>9.2f} " + " ".join(f"{per_step[p]:>13.2f}"
                                                        for p in PHASES)
              + f" {1e3 * c.total / c.timed_steps:>9.2f} {tail:>11.4f}")
    if len(contenders) == 2:
        ours, theirs = contenders
        ratios = " ".join(f"{p} {ours.seconds[p] / theirs.seconds[p]:.2f}" for p in PHASES)
        print(f"\nratio tinygrad_fm / pytorch: {ours.total / theirs.total:.2f} ({ratios})")
        if len(data) < full:
            print(f"projected epoch ({full} batches): tinygrad_fm "
                  f"{ours.total / ours.timed_steps * full:.1f} s, pytorch "
                  f"{theirs.total / theirs.timed_steps * full:.1f} s")
    if not (args.quick or args.no_memory):
        before, peak = peak_memory_mb(min(count, 200))
        print(f"\npeak resident memory of a tinygrad_fm training run ({min(count, 200)} "
              f"batches, data loaded): {peak:.0f} MB ({before:.0f} MB before training)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
