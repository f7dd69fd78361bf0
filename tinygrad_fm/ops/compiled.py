"""Compiled kernels for the ops where NumPy needs many passes over memory or many calls:
max pooling (the scan and the gradient's routing), the convolution's input gradient
("col2im") and the cross-entropy of (N, C) logits against class indices (forward and
gradient, a dozen NumPy calls each, which a 16-row training step notices).

They run when numba is importable (``pip install "tinygrad_fm[fast]"``) and give the
same numbers as the NumPy code beside each op, which stays the reference and is always
available -- except the cross-entropy's exponentials and logarithm, which are libm's
(numba's) rather than NumPy's vectorized ones and may differ in the last bits (the
tests bound it to a few units in the last place). Eager and captured steps take the
same path, so they still agree bit for bit. ``use(False)`` -- or the environment variable ``TINYGRAD_FM_KERNELS=numpy`` --
turns them off (the tests compare both paths)::

    with tinygrad_fm.ops.compiled.use(False):
        ...   # NumPy only
"""

from __future__ import annotations

import contextlib
import os

import numpy as np

__all__ = ["kernels", "use", "DTYPES"]

#: The dtypes the kernels are compiled for (numba has no float16 arithmetic).
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

_MODULE = None  # the kernels module once numba has been imported, False without it
_ENABLED = os.environ.get("TINYGRAD_FM_KERNELS", "").lower() != "numpy"


def _load():
    global _MODULE
    if _MODULE is None:
        try:
            import numba  # noqa: F401
        except ImportError:
            _MODULE = False
        else:
            from . import _compiled_kernels

            _MODULE = _compiled_kernels
    return _MODULE


def kernels(dtype=None):
    """The compiled kernels' module, or None (numba missing, turned off, or ``dtype`` not
    one of :data:`DTYPES`)."""
    if not _ENABLED or (dtype is not None and np.dtype(dtype) not in DTYPES):
        return None
    return _load() or None


@contextlib.contextmanager
def use(enabled: bool):
    """Within the block, run the compiled kernels (when numba is there) or not."""
    global _ENABLED
    before, _ENABLED = _ENABLED, bool(enabled)
    try:
        yield
    finally:
        _ENABLED = before
