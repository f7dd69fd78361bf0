"""Do subnormal float32 numbers appear in Adam's gradients and state on the benchmark's
MLP, and do they slow the update down?

Trains the MLP of ``bench_mlp.py`` (batch 64, Adam at 1e-3) on Fashion-MNIST (when
FASHION_MNIST_DIR is set) and on the benchmark's synthetic data, each with its own labels
and with random labels, and counts the nonzero values below float32's smallest normal
(1.18e-38) in the gradient, its square, the running sums and the update every 50 steps.
Then it times the hand-written NumPy loop's epoch on real and random labels, interleaved.

    python benchmarks/check_subnormals.py [--epochs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_mlp as bench  # noqa: E402

TINY = np.finfo(np.float32).tiny


def subnormal(a: np.ndarray) -> int:
    return int(np.count_nonzero((a != 0) & (np.abs(a) < TINY)))


def datasets(n: int) -> dict:
    found = {}
    real_dir = os.environ.pop("FASHION_MNIST_DIR", None)
    if real_dir:
        os.environ["FASHION_MNIST_DIR"] = real_dir
        images, labels, _ = bench.load_images(n)
        del os.environ["FASHION_MNIST_DIR"]
        found["Fashion-MNIST"] = (images, labels)
    found["synthetic"] = bench.load_images(n)[:2]
    random_labels = np.random.default_rng(1).integers(0, 10, n)
    for name in list(found):
        found[name + ", random labels"] = (found[name][0], random_labels)
    if real_dir:
        os.environ["FASHION_MNIST_DIR"] = real_dir
    return found


def count(images, labels, epochs: int) -> dict:
    contender = bench.TinygradFM()
    optimizer, params = contender.optimizer, list(contender.model.parameters())
    counts = dict(grad=0, grad_squared=0, exp_avg=0, exp_avg_sq=0, update=0)
    for epoch in range(epochs):
        for i, (x, y) in enumerate(bench.batches(images, labels, 64, epoch)):
            contender.forward_backward(x, y)
            optimizer.step()
            if i % 50:
                continue
            for p in params:
                g, state = p.grad.data, optimizer.state[p]
                m, v = state["exp_avg_sum"], state["exp_avg_sq_sum"]
                counts["grad"] += subnormal(g)
                counts["grad_squared"] += subnormal(np.square(g))
                counts["exp_avg"] += subnormal(m)
                counts["exp_avg_sq"] += subnormal(v)
                counts["update"] += subnormal(m / (np.sqrt(v) + 1e-8))
    return counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    data = datasets(bench.TRAIN_SIZE)
    for name, (images, labels) in data.items():
        print(f"{name}: subnormal values seen over {args.epochs} epochs (every 50th step): "
              f"{count(images, labels, args.epochs)}", flush=True)
    times = {name: [] for name in data}
    for round_ in range(args.rounds):
        for name, (images, labels) in data.items():
            by_hand = bench.NumpyByHand()
            started = time.perf_counter()
            by_hand.epoch(images, labels, 64, round_)
            times[name].append(time.perf_counter() - started)
    for name, t in times.items():
        print(f"hand-written NumPy loop, batch 64, {name}: median epoch "
              f"{statistics.median(t):.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
