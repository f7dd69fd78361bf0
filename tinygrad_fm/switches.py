"""PyTorch's global switches that change nothing for NumPy: ``torch.compile`` and the
float32 matmul precision. They are kept so that code written for PyTorch runs unchanged,
and say so."""

from __future__ import annotations

__all__ = ["compile", "set_float32_matmul_precision", "get_float32_matmul_precision"]

_MATMUL_PRECISIONS = ("highest", "high", "medium")
_matmul_precision = "highest"


def set_float32_matmul_precision(precision: str) -> None:
    """Record PyTorch's float32 matmul precision ('highest', 'high' or 'medium'). It has
    no effect here: NumPy's float32 matrix products are always computed in full float32
    (PyTorch's 'highest'); :func:`get_float32_matmul_precision` returns what was set."""
    global _matmul_precision
    if precision not in _MATMUL_PRECISIONS:
        raise ValueError(f"set_float32_matmul_precision: precision must be one of "
                         f"{', '.join(map(repr, _MATMUL_PRECISIONS))}, got {precision!r}")
    _matmul_precision = precision


def get_float32_matmul_precision() -> str:
    """The precision last set with :func:`set_float32_matmul_precision` ('highest' by
    default); see there: it changes nothing here."""
    return _matmul_precision


def compile(model=None, *, fullgraph: bool = False, dynamic=None, backend="inductor",
            mode=None, options=None, disable: bool = False):
    """``torch.compile``: returns ``model`` (a function or module) unchanged, or, called
    without one, a decorator that does. PyTorch returns the same callable optimized; here
    nothing is compiled. To capture and replay a whole training step, which is what makes
    a step faster here, decorate it with :func:`tinygrad_fm.jit`."""
    if model is None:
        return lambda function: function
    if not callable(model):
        raise TypeError(f"compile: expects a function or a module, got "
                        f"{type(model).__name__}")
    return model
