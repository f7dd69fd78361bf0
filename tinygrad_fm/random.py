"""One seeded source of random numbers, as PyTorch's ``Generator``.

``default_generator`` is behind every random factory, initializer, dropout mask and
``DataLoader(shuffle=True)`` without a generator of its own; ``manual_seed(s)`` reseeds it,
so a program that calls it first is reproducible. A ``Generator`` wraps a NumPy
``Generator`` (PCG64): the same seed gives the same numbers as
``np.random.default_rng(seed)``, not PyTorch's (bitwise equality with torch's RNG is not a
goal). ``get_state()`` is a uint8 Tensor, so it can go into a checkpoint.
"""

from __future__ import annotations

import json

import numpy as np

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed",
           "get_rng_state", "set_rng_state", "numpy_rng"]


class Generator:
    """``torch.Generator``: ``Generator().manual_seed(0)``; pass it as ``generator=`` to
    the random factories, in-place fills, ``DataLoader``, ``random_split`` and the
    samplers. Its NumPy generator is ``.rng``."""

    def __init__(self, device="cpu"):
        from .dtypes import check_device
        check_device(device, "Generator")
        self.seed()

    def manual_seed(self, seed) -> "Generator":
        seed = int(seed)
        # torch accepts negative seeds (as their unsigned 64-bit value)
        self._initial_seed = seed % (1 << 64)
        self.rng = np.random.default_rng(self._initial_seed)
        return self

    def seed(self) -> int:
        """Reseed from fresh entropy and return the seed used."""
        new_seed = int(np.random.SeedSequence().entropy) % (1 << 63)
        self.manual_seed(new_seed)
        return new_seed

    def initial_seed(self) -> int:
        return self._initial_seed

    def get_state(self):
        """The generator's state as a uint8 Tensor (JSON of NumPy's bit-generator state)."""
        from .tensor import Tensor
        encoded = json.dumps({"seed": self._initial_seed, "state": self.rng.bit_generator.state})
        return Tensor(np.frombuffer(encoded.encode(), dtype=np.uint8).copy())

    def set_state(self, state) -> "Generator":
        array = np.asarray(getattr(state, "data", state))
        if array.dtype != np.uint8 or array.ndim != 1:
            raise TypeError(f"set_state: expected the uint8 tensor that get_state() returns, "
                            f"got dtype {array.dtype} and shape {array.shape}")
        try:
            decoded = json.loads(array.tobytes().decode())
            seed_value, state_value = decoded["seed"], decoded["state"]
            rng = np.random.default_rng()
            rng.bit_generator.state = state_value
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"set_state: not a state from Generator.get_state() ({error})"
                             ) from None
        self._initial_seed, self.rng = int(seed_value), rng
        return self

    @property
    def device(self):
        from .dtypes import CPU
        return CPU

    def __call__(self) -> "Generator":
        # tinygrad_fm.default_generator() (a function in earlier versions) is the
        # generator itself
        return self

    def __getattr__(self, name):
        # NumPy's drawing methods (integers, random, standard_normal, bit_generator, ...)
        # so that a Generator goes wherever a NumPy generator was expected.
        if name == "rng":
            raise AttributeError(name)
        return getattr(self.rng, name)

    def __repr__(self) -> str:
        return f"<tinygrad_fm.Generator seed={self._initial_seed}>"


default_generator = Generator()


def numpy_rng(generator=None) -> np.random.Generator:
    """The NumPy generator behind ``generator`` (a Generator, a NumPy generator, or None
    for the default one)."""
    if generator is None:
        return default_generator.rng
    if isinstance(generator, Generator):
        return generator.rng
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"generator must be a tinygrad_fm.Generator (or None), got "
                    f"{type(generator).__name__}")


def manual_seed(seed) -> Generator:
    """Reseed the default generator (``torch.manual_seed``); returns it."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state) -> None:
    default_generator.set_state(state)


# --------------------------------------------------------------------------- arrays

def _float_dtype(dtype):
    dtype = np.dtype(np.float32 if dtype is None else dtype)
    if dtype.kind != "f":
        raise TypeError(f"expected a floating-point dtype, got {dtype}")
    return dtype


def uniform_array(shape, low, high, generator=None, dtype=None) -> np.ndarray:
    """U(low, high) drawn as nn.init.uniform_ draws it (same numbers for one seed)."""
    if not low <= high:
        raise ValueError(f"uniform: the lower bound {low} must not exceed {high}")
    sample = numpy_rng(generator).random(shape, dtype=_float_dtype(dtype))
    sample *= high - low
    sample += low
    return sample


def normal_array(shape, mean, std, generator=None, dtype=None) -> np.ndarray:
    """N(mean, std^2) drawn as nn.init.normal_ draws it; mean and std broadcast."""
    if np.any(np.asarray(std) < 0):
        raise ValueError(f"normal: std must be >= 0, got {std}")
    sample = numpy_rng(generator).standard_normal(shape, dtype=_float_dtype(dtype))
    return (sample * std + mean).astype(sample.dtype, copy=False)


def exponential_array(shape, lambd, generator=None) -> np.ndarray:
    return numpy_rng(generator).exponential(1.0 / lambd, shape)


def bernoulli_array(shape, p, generator=None) -> np.ndarray:
    p = np.asarray(p)
    if np.any((p < 0) | (p > 1)) or np.any(np.isnan(p)):
        raise ValueError("bernoulli: probabilities must lie in [0, 1]")
    return (numpy_rng(generator).random(shape) < p).astype(np.float32)


def default_random_bound(dtype) -> int:
    """random_()'s default upper bound: 2^mantissa for floats, the type's max + 1 else."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return 2 ** (np.finfo(dtype).nmant + 1)
    if dtype.kind == "b":
        return 2
    return int(np.iinfo(dtype).max) + 1


def integers_array(shape, low, high, generator=None) -> np.ndarray:
    low, high = int(low), int(high)
    if high <= low:
        raise ValueError(f"random integers: the range [{low}, {high}) is empty; the upper "
                         "bound is exclusive and must exceed the lower one")
    return numpy_rng(generator).integers(low, high, shape, dtype=np.int64)


def multinomial_array(probs, num_samples, replacement=False, generator=None) -> np.ndarray:
    """Row-wise category indices drawn with weights ``probs`` (1-D or 2-D, non-negative,
    not necessarily normalized), as ``torch.multinomial``."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim not in (1, 2):
        raise ValueError(f"multinomial: probabilities must be 1-D or 2-D, got shape "
                         f"{probs.shape}")
    rows = probs.reshape(-1, probs.shape[-1])
    num_samples = int(num_samples)
    if num_samples <= 0:
        raise ValueError(f"multinomial: num_samples must be positive, got {num_samples}")
    if not np.all(np.isfinite(rows)) or np.any(rows < 0):
        raise ValueError("multinomial: probabilities must be finite and non-negative")
    totals = rows.sum(axis=1)
    if np.any(totals <= 0):
        raise ValueError("multinomial: every row of probabilities must have a positive sum")
    if not replacement and num_samples > int(np.min(np.count_nonzero(rows, axis=1))):
        raise ValueError(f"multinomial: cannot draw {num_samples} samples without replacement "
                         f"from a row with only {int(np.min(np.count_nonzero(rows, axis=1)))} "
                         "non-zero probabilities; pass replacement=True or fewer samples")
    rng = numpy_rng(generator)
    if replacement:
        cdf = np.cumsum(rows / totals[:, None], axis=1)
        draws = rng.random((len(rows), num_samples))
        out = np.stack([np.searchsorted(c, d, side="right") for c, d in zip(cdf, draws)])
        out = np.minimum(out, rows.shape[1] - 1)
    else:
        # Gumbel top-k: sampling without replacement in proportion to the weights
        with np.errstate(divide="ignore"):
            keys = np.log(rows) + rng.gumbel(size=rows.shape)
        out = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    out = out.astype(np.int64)
    return out[0] if probs.ndim == 1 else out
