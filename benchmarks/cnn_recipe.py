"""The CNN example's default recipe, run as one plain PyTorch program under either
framework: test accuracy and wall time per epoch, for a side-by-side comparison.

The recipe: the issue's reference CNN, inputs standardised with the training set's mean
and standard deviation, Adam at 1e-3, batch 64, cosine annealing of the learning rate
over the epochs, on the 54,000 images the example trains on (10% held out, as there);
test accuracy on the whole 10,000-image test set after every epoch.

    python benchmarks/cnn_recipe.py --framework tinygrad_fm --epochs 8
    python benchmarks/cnn_recipe.py --framework torch --epochs 8 --threads 1
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tinygrad_fm.datasets import fashion_mnist  # noqa: E402

MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST training pixels, scaled to [0, 1]


def reference_cnn(nn):
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, 10))


def standardise(images: np.ndarray) -> np.ndarray:
    x = images.reshape(-1, 1, 28, 28).astype(np.float32) / np.float32(255)
    return (x - np.float32(MEAN)) / np.float32(STD)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--framework", choices=["tinygrad_fm", "torch"], default="tinygrad_fm")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1, help="PyTorch intra-op threads")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch = importlib.import_module(args.framework)
    if args.framework == "torch":
        torch.set_num_threads(args.threads)
        importlib.import_module("torch.optim")
    else:
        importlib.import_module("tinygrad_fm.optim")
    torch.manual_seed(args.seed)

    data = fashion_mnist()
    order = np.random.default_rng(args.seed).permutation(len(data.train_images))
    train = order[:54_000]
    x_train, y_train = standardise(data.train_images[train]), data.train_labels[train]
    x_test, y_test = standardise(data.test_images), data.test_labels.astype(np.int64)
    y_train = y_train.astype(np.int64)

    model = reference_cnn(torch.nn)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    loss_fn = torch.nn.CrossEntropyLoss()
    rng = np.random.default_rng(args.seed + 1)
    print(f"{args.framework}: {args.epochs} epochs, load average {os.getloadavg()[0]:.1f}",
          flush=True)
    started = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        epoch_start = time.perf_counter()
        permutation = rng.permutation(len(x_train))
        total = 0.0
        for start in range(0, len(permutation), 64):
            index = permutation[start:start + 64]
            x, y = torch.from_numpy(x_train[index]), torch.from_numpy(y_train[index])
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(index)
        scheduler.step()
        model.eval()
        correct = 0
        with torch.no_grad():
            for start in range(0, len(x_test), 1000):
                logits = model(torch.from_numpy(x_test[start:start + 1000]))
                correct += int((logits.argmax(1).numpy() == y_test[start:start + 1000]).sum())
        print(f"epoch {epoch}: train_loss {total / len(x_train):.4f} test_accuracy "
              f"{correct / len(x_test):.4f} epoch_s {time.perf_counter() - epoch_start:.0f} "
              f"load {os.getloadavg()[0]:.1f}", flush=True)
    print(f"{args.framework}: final test_accuracy {correct / len(x_test):.4f} after "
          f"{args.epochs} epochs, {time.perf_counter() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
