"""The figures of a run: sample images, confusion matrices and learning curves (PNG).

matplotlib is an optional extra: without it :func:`new_figure` returns None and every
plotting function returns None instead of a path.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np

from tinygrad_fm.nn.serialization import atomic_write

#: The two panels of a run's curves: loss and accuracy, train (dashed) and validation.
LOSS_AND_ACCURACY = (("loss", ("train_loss", "val_loss")),
                     ("accuracy", ("train_accuracy", "val_accuracy")))


def new_figure(width: float, height: float, dpi: int = 100):
    """A matplotlib Figure that needs no display (no pyplot state), or None when
    matplotlib is not installed."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return None
    return Figure(figsize=(width, height), dpi=dpi, layout="constrained")


def save_figure(figure, path: Path) -> Path:
    """Write ``figure`` to ``path`` as PNG (atomically) and return ``path``."""
    with atomic_write(path) as file:
        figure.savefig(file, format="png")
    return path


def plot_samples(images, labels, classes, path: Path) -> Optional[Path]:
    """One image of each class in a grid, titled with the class names."""
    figure = new_figure(2.0 * 5, 2.3 * math.ceil(len(classes) / 5))
    if figure is None:
        return None
    axes = figure.subplots(math.ceil(len(classes) / 5), 5, squeeze=False).ravel()
    for index, axis in enumerate(axes):
        axis.axis("off")
        if index >= len(classes):
            continue
        rows = np.flatnonzero(labels == index)
        if len(rows):
            axis.imshow(images[rows[0]], cmap="gray_r")
        axis.set_title(f"{index}: {classes[index]}", fontsize=10)
    figure.suptitle("One training image of each class")
    return save_figure(figure, path)


def plot_confusion_matrix(counts: np.ndarray, classes, path: Path,
                          title: str = "Confusion matrix (test set)") -> Optional[Path]:
    """A heat-map of ``counts[true, predicted]`` with class names and the counts."""
    return plot_confusion_matrices({title: counts}, classes, path)


def plot_confusion_matrices(matrices: Mapping[str, np.ndarray], classes,
                            path: Path) -> Optional[Path]:
    """Heat-maps of several confusion matrices side by side, titled by their keys."""
    figure = new_figure(8.5 * len(matrices), 7.5)
    if figure is None:
        return None
    axes = figure.subplots(1, len(matrices), squeeze=False)[0]
    ticks = np.arange(len(classes))
    for axis, (title, counts) in zip(axes, matrices.items()):
        counts = np.asarray(counts)
        image = axis.imshow(counts, cmap="Blues")
        figure.colorbar(image, ax=axis, shrink=0.8)
        axis.set_xticks(ticks, classes, rotation=45, ha="right")
        axis.set_yticks(ticks, classes)
        axis.set_xlabel("predicted class")
        axis.set_ylabel("true class")
        total = counts.sum()
        accuracy = np.trace(counts) / total if total else float("nan")
        axis.set_title(f"{title}: accuracy {accuracy:.2%}")
        threshold = counts.max() / 2 if counts.size else 0
        for (i, j), count in np.ndenumerate(counts):
            if count:
                axis.text(j, i, str(count), ha="center", va="center", fontsize=8,
                          color="white" if count > threshold else "black")
    return save_figure(figure, path)


def plot_curves(histories: Mapping[str, list], path: Path,
                panels: Sequence = LOSS_AND_ACCURACY,
                size: tuple = (11, 4.2)) -> Optional[Path]:
    """Per-epoch curves of one or more runs, one panel per ``(label, record keys)``.

    ``histories`` maps a run's label to its epoch records. Each run has its colour; a
    panel with two keys draws the ``train_`` one dashed. Loss panels of several runs use
    a log scale (losses of different kinds differ in scale).
    """
    figure = new_figure(*size)
    if figure is None:
        return None
    from matplotlib.ticker import MaxNLocator

    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    several = len(histories) > 1
    for index, (name, history) in enumerate(histories.items()):
        epochs = [record["epoch"] for record in history]
        for axis, (_, keys) in zip(axes, panels):
            for key_index, key in enumerate(keys):
                if len(keys) == 1:
                    color, style, label = f"C{index}", "-", name
                else:
                    split = key.split("_")[0]
                    color = f"C{index if several else key_index}"
                    style = "--" if split == "train" else "-"
                    label = f"{name}: {split}" if several else split
                axis.plot(epochs, [record[key] for record in history], style, color=color,
                          marker="o", markersize=3, label=label)
    for axis, (label, _) in zip(axes, panels):
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_xlabel("epoch")
        axis.set_ylabel(label)
        axis.set_title(f"{label} per epoch")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
        if several and label.endswith("loss"):
            axis.set_yscale("log")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return save_figure(figure, path)
