"""Epoch time of the assignment's MLP: tinygrad_fm (eager, and its step captured with
tinygrad_fm.jit) against NumPy by hand, the matrix-product floor, PyTorch and JAX (each when
installed), measured interleaved in one process.

The workload: 784-128-128-128-128-10, tanh, cross-entropy, Adam at 1e-3, float32, one epoch
over the 54,000-image training split of Fashion-MNIST (real data when FASHION_MNIST_DIR is
set, synthetic data of the same shape otherwise). Every contender sees the same batches,
built the same way (uint8 rows indexed, converted to float32 once per batch).

    python benchmarks/bench_mlp.py              # batch 16, 64, 256; 3 rounds; peak RSS of
                                                # a 10-epoch run of the example
    python benchmarks/bench_mlp.py --no-memory  # without the example run
    python benchmarks/bench_mlp.py --quick      # a tiny smoke run (used by the tests)

Run it with PyTorch importable (e.g. ``pip install torch==2.13.0`` in the same venv) to
include the PyTorch column, and with JAX and optax (``pip install -e ".[jax]"``) for the
JAX column (the whole step, optax's Adam included, compiled by ``jax.jit``); otherwise it
says which were skipped.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import tinygrad_fm as tg
from tinygrad_fm import nn, optim
from tinygrad_fm.nn import functional as F

ROOT = Path(__file__).resolve().parent.parent

SIZES = (784, 128, 128, 128, 128, 10)
TRAIN_SIZE = 54_000


def load_images(n: int) -> tuple[np.ndarray, np.ndarray, str]:
    if os.environ.get("FASHION_MNIST_DIR"):
        from tinygrad_fm.datasets import fashion_mnist

        data = fashion_mnist(download=False)
        images, labels = data.train_images, data.train_labels
        return images[:n].reshape(n, -1), labels[:n].astype(np.int64), "Fashion-MNIST"
    # Labels that a fixed rule ties to the pixels, so that the network learns as it does
    # on real data: with random labels the hand-written loop's Adam step measured about
    # twice as slow as on Fashion-MNIST (1.24 ms against 0.68 ms), which would skew the
    # comparison.
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 784), dtype=np.uint8)
    rule = rng.standard_normal((784, 10)).astype(np.float32)
    labels = np.argmax((images.astype(np.float32) - 127.5) @ rule, axis=1).astype(np.int64)
    return images, labels, "synthetic"


def batches(images, labels, batch_size, epoch):
    order = np.random.default_rng([0, epoch]).permutation(len(images))
    for start in range(0, len(order), batch_size):
        index = order[start:start + batch_size]
        yield np.multiply(images[index], np.float32(1 / 255)), labels[index]


def initial_weights(seed: int = 0):
    rng = np.random.default_rng(seed)
    weights, biases = [], []
    for fan_in, fan_out in zip(SIZES, SIZES[1:]):
        bound = 1 / np.sqrt(fan_in)
        weights.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        biases.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    return weights, biases


# --------------------------------------------------------------------------- contenders


class TinygradFM:
    name = "tinygrad_fm"

    def __init__(self):
        weights, biases = initial_weights()
        layers = []
        for i, (w, b) in enumerate(zip(weights, biases)):
            linear = nn.Linear(w.shape[1], w.shape[0])
            linear.weight.data[...] = w
            linear.bias.data[...] = b
            layers.append(linear)
            if i < len(weights) - 1:
                layers.append(nn.Tanh())
        self.model = nn.Sequential(*layers)
        self.optimizer = optim.Adam(self.model.parameters(), lr=1e-3)

    def forward_backward(self, x, y):
        loss = F.cross_entropy(self.model(tg.Tensor(x)), y)
        self.optimizer.zero_grad()
        loss.backward()

    def epoch(self, images, labels, batch_size, epoch):
        for x, y in batches(images, labels, batch_size, epoch):
            self.forward_backward(x, y)
            self.optimizer.step()

    def weights(self) -> list:
        return [layer.weight.numpy() for layer in self.model if isinstance(layer, nn.Linear)]


class TinygradFMCaptured(TinygradFM):
    """The same training step, captured once per batch shape by tinygrad_fm.jit and
    replayed (bit-identical to the eager step)."""

    name = "captured"

    def __init__(self):
        super().__init__()
        model, optimizer = self.model, self.optimizer

        @tg.jit
        def step(x, y):
            loss = F.cross_entropy(model(tg.Tensor(x)), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss

        self.step = step

    def epoch(self, images, labels, batch_size, epoch):
        for x, y in batches(images, labels, batch_size, epoch):
            self.step(x, y)


class NumpyByHand:
    """Forward, backward and Adam written as ordinary NumPy expressions."""

    name = "numpy"

    def __init__(self):
        self.weights_, self.biases = initial_weights()
        self.params = self.weights_ + self.biases
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0

    def forward_backward(self, x, y) -> list:
        """The gradients of the mean cross-entropy, weights then biases."""
        weights, biases = self.weights_, self.biases
        activations = [x]
        h = x
        for i, (w, b) in enumerate(zip(weights, biases)):
            h = h @ w.T + b
            if i < len(weights) - 1:
                h = np.tanh(h)
            activations.append(h)
        rows = np.arange(len(y))
        shifted = h - h.max(axis=1, keepdims=True)
        probs = np.exp(shifted)
        total = probs.sum(axis=1, keepdims=True)
        # The loss value, which a training loop logs (the other contenders compute it too).
        self.loss = np.mean(np.log(total[:, 0]) - shifted[rows, y])
        probs /= total
        probs[rows, y] -= 1
        grad = probs / len(y)
        grad_w, grad_b = [None] * len(weights), [None] * len(weights)
        for i in reversed(range(len(weights))):
            grad_w[i] = grad.T @ activations[i]
            grad_b[i] = grad.sum(axis=0)
            if i:
                grad = (grad @ weights[i]) * (1 - activations[i] ** 2)
        return grad_w + grad_b

    def epoch(self, images, labels, batch_size, epoch):
        lr, beta1, beta2, eps = 1e-3, 0.9, 0.999, 1e-8
        for x, y in batches(images, labels, batch_size, epoch):
            grads = self.forward_backward(x, y)
            self.t += 1
            for p, g, m, v in zip(self.params, grads, self.m, self.v):
                m[...] = beta1 * m + (1 - beta1) * g
                v[...] = beta2 * v + (1 - beta2) * g * g
                m_hat = m / (1 - beta1 ** self.t)
                v_hat = v / (1 - beta2 ** self.t)
                p -= lr * m_hat / (np.sqrt(v_hat) + eps)

    def weights(self) -> list:
        return self.weights_


class MatmulFloor:
    """Only the matrix products a step must do: forward, weight gradients, and input
    gradients of every layer but the first."""

    name = "matmul floor"

    def __init__(self):
        self.weights, _ = initial_weights()

    def epoch(self, images, labels, batch_size, epoch):
        for x, _ in batches(images, labels, batch_size, epoch):
            self.step(x)

    def step(self, x):
        weights = self.weights
        activations = [x]
        h = x
        for w in weights:
            h = h @ w.T
            activations.append(h)
        grad = h
        for i in reversed(range(len(weights))):
            grad.T @ activations[i]
            if i:
                grad = grad @ weights[i]


class Torch:
    name = "pytorch"

    def __init__(self, torch):
        self.torch = torch
        weights, biases = initial_weights()
        layers = []
        for i, (w, b) in enumerate(zip(weights, biases)):
            linear = torch.nn.Linear(w.shape[1], w.shape[0])
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(w))
                linear.bias.copy_(torch.from_numpy(b))
            layers.append(linear)
            if i < len(weights) - 1:
                layers.append(torch.nn.Tanh())
        self.model = torch.nn.Sequential(*layers)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.loss = torch.nn.CrossEntropyLoss()

    def epoch(self, images, labels, batch_size, epoch):
        torch, model, optimizer = self.torch, self.model, self.optimizer
        for x, y in batches(images, labels, batch_size, epoch):
            loss = self.loss(model(torch.from_numpy(x)), torch.from_numpy(y))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    def weights(self) -> list:
        return [layer.weight.detach().numpy() for layer in self.model
                if isinstance(layer, self.torch.nn.Linear)]


class Jax:
    """The step (forward, loss, gradients and optax's Adam) compiled by jax.jit, the
    parameters and Adam state donated so that XLA updates them in place."""

    name = "jax"

    def __init__(self, jax, optax):
        jnp = jax.numpy
        self.jax = jax
        weights, biases = initial_weights()
        self.params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in zip(weights, biases)]
        optimizer = optax.adam(1e-3)
        self.opt_state = optimizer.init(self.params)

        def loss_fn(params, x, y):
            h = x
            for i, (w, b) in enumerate(params):
                h = h @ w.T + b
                if i < len(params) - 1:
                    h = jnp.tanh(h)
            log_probs = jax.nn.log_softmax(h)
            return -jnp.mean(jnp.take_along_axis(log_probs, y[:, None], axis=1))

        def step(params, opt_state, x, y):
            loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), opt_state, loss

        self.step = jax.jit(step, donate_argnums=(0, 1))

    def epoch(self, images, labels, batch_size, epoch):
        params, opt_state, step = self.params, self.opt_state, self.step
        for x, y in batches(images, labels, batch_size, epoch):
            params, opt_state, loss = step(params, opt_state, x, y)
        self.params, self.opt_state = self.jax.block_until_ready((params, opt_state))

    def weights(self) -> list:
        return [np.asarray(w) for w, _ in self.params]


def import_jax(threads: int | None = None):
    """(jax, optax), or None when either is missing. ``threads`` limits XLA's CPU threads
    (only before the first import of jax)."""
    if threads is not None and "jax" not in sys.modules:
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_"
                                   f"eigen={'true' if threads > 1 else 'false'} "
                                   f"intra_op_parallelism_threads={threads}").strip()
    try:
        import jax
        import optax
    except ImportError:
        return None
    return jax, optax


# --------------------------------------------------------------------------- measuring


# Runs the example in a child and prints the child's own peak resident memory at exit.
# VmHWM belongs to the memory map made at exec, so, unlike ru_maxrss (which keeps the
# size of the forked copy of this process), it counts only the example.
_PEAK_WRAPPER = """
import atexit, os, resource, runpy, sys
def report():
    try:
        with open("/proc/self/status") as status:
            kb = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
    except (OSError, StopIteration):  # not Linux: ru_maxrss (KB on Linux, bytes on macOS)
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        kb = kb // 1024 if sys.platform == "darwin" else kb
    print(f"PEAK_RSS_KB {kb}")
atexit.register(report)
sys.argv = sys.argv[1:]
sys.path.insert(0, os.path.dirname(sys.argv[0]))  # as `python script.py` does
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def peak_memory_of_example(epochs: int) -> float:
    """Peak resident memory (MB) of a full training run of the example, in a child."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-c", _PEAK_WRAPPER,
                   str(ROOT / "examples" / "fashion_mnist.py"), "-e", str(epochs),
                   "--wandb-mode", "disabled", "--quiet", "--out", out]
        done = subprocess.run(command, check=True, cwd=ROOT, capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    said = next((line.strip() for line in reversed(lines[:-1]) if line.strip()), "")
    print(f"  (example run of {epochs} epochs took {time.perf_counter() - started:.1f} s"
          f"{': ' + said if said else ''})")
    return int(lines[-1].split("PEAK_RSS_KB")[-1]) / 1024


def make_contenders(torch=None, jax=None) -> list:
    contenders = [TinygradFM(), TinygradFMCaptured(), NumpyByHand(), MatmulFloor()]
    if torch is not None:
        contenders.append(Torch(torch))
    if jax is not None:
        contenders.append(Jax(*jax))
    return contenders


def measure(images, labels, batch_sizes, rounds, torch=None, jax=None,
            clock=time.perf_counter) -> dict:
    """``{batch_size: {contender: median epoch seconds}}``, contenders interleaved. The
    first round includes JAX's compilation and the captured step's two recording calls;
    the median of three or more rounds leaves it out. ``clock``: wall time, or
    ``time.process_time`` (CPU seconds of all of this process's threads, which other
    processes on a shared machine barely disturb)."""
    results = {}
    for batch_size in batch_sizes:
        contenders = make_contenders(torch, jax)
        times = {c.name: [] for c in contenders}
        for round_ in range(rounds):
            for contender in contenders:  # interleaved: A B C D A B C D ...
                started = clock()
                contender.epoch(images, labels, batch_size, round_)
                times[contender.name].append(clock() - started)
        results[batch_size] = {name: statistics.median(t) for name, t in times.items()}
    return results


def measure_step(images, labels, batch_size, rounds) -> dict:
    """``{contender: median microseconds}`` of one forward+backward step (no optimizer
    step), tinygrad_fm and NumPy by hand interleaved batch by batch."""
    contenders = [TinygradFM(), NumpyByHand()]
    times = {c.name: [] for c in contenders}
    for round_ in range(rounds):
        for x, y in batches(images, labels, batch_size, round_):
            for contender in contenders:
                started = time.perf_counter()
                contender.forward_backward(x, y)
                times[contender.name].append(time.perf_counter() - started)
    return {name: statistics.median(t) * 1e6 for name, t in times.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per size")
    parser.add_argument("--train-size", type=int, default=TRAIN_SIZE)
    parser.add_argument("--threads", type=int, default=2,
                        help="threads of every contender: PyTorch's intra-op threads, XLA's "
                             "(set before JAX is imported) and NumPy's BLAS (through "
                             "threadpoolctl, when installed)")
    parser.add_argument("--no-memory", action="store_true",
                        help="skip the peak RSS of a 10-epoch run of the example")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--no-jax", action="store_true", help="leave JAX out")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall time, or the process's CPU time (all threads): steadier "
                             "on a loaded machine, fair with --threads 1")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.batch_sizes, args.rounds, args.train_size = [64], 1, 640

    images, labels, source = load_images(args.train_size)
    torch = None
    if not args.no_torch:
        try:
            import torch

            torch.set_num_threads(args.threads)
        except ImportError:
            pass
    if torch is not None:
        torch_note = f"PyTorch {torch.__version__}, {args.threads} threads, eager"
    else:
        torch_note = "PyTorch not installed: skipped (pip install torch==2.13.0 to compare)"
    jax = None if args.no_jax else import_jax(args.threads)
    blas_note = ""
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=args.threads)
        blas_note = f"; NumPy's BLAS limited to {args.threads} threads"
    except ImportError:
        pass
    if jax is not None:
        jax_note = (f"JAX {jax[0].__version__} jit + optax {jax[1].__version__}, "
                    f"{args.threads} threads")
    else:
        jax_note = "JAX not installed: skipped (pip install -e \".[jax]\" to compare)"

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, NumPy {np.__version__}")
    print(f"data: {source}, {len(images)} images per epoch; {torch_note}; {jax_note}"
          f"{blas_note}")
    print(f"optimizer update: {'fused (numba)' if optim.fused.available() else 'NumPy'}")
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    results = measure(images, labels, args.batch_sizes, args.rounds, torch, jax, clock)
    names = list(next(iter(results.values())))
    ratios = [("tg/numpy", "tinygrad_fm", "numpy"), ("tg/floor", "tinygrad_fm", "matmul floor"),
              ("cap/floor", "captured", "matmul floor"), ("cap/tg", "captured", "tinygrad_fm")]
    if torch:
        ratios.append(("tg/torch", "tinygrad_fm", "pytorch"))
    if jax:
        ratios.append(("cap/jax", "captured", "jax"))
    clock_note = "CPU time of all threads" if args.clock == "cpu" else "wall"
    print(f"\nmedian epoch time (s, {clock_note})")
    header = f"{'batch':>6} " + " ".join(f"{n:>12}" for n in names)
    header += "".join(f" {label:>9}" for label, _, _ in ratios)
    print(header)
    for batch_size, row in results.items():
        line = f"{batch_size:>6} " + " ".join(f"{row[n]:>12.3f}" for n in names)
        line += "".join(f" {row[a] / row[b]:>9.2f}" for _, a, b in ratios)
        print(line)
    step = measure_step(images, labels, 64, args.rounds)
    print(f"\nforward+backward step at batch 64 (median): tinygrad_fm {step['tinygrad_fm']:.0f} "
          f"us, numpy {step['numpy']:.0f} us, ratio {step['tinygrad_fm'] / step['numpy']:.2f}")
    if not (args.no_memory or args.quick):
        try:
            print(f"\npeak RSS of a 10-epoch example run: {peak_memory_of_example(10):.0f} MB")
        except subprocess.CalledProcessError as error:
            last = (error.stderr or "").strip().splitlines()[-1:] or ["(no message)"]
            print(f"\npeak RSS: the example run failed (exit {error.returncode}): {last[0]}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
