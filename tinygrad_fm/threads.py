"""``torch.set_num_threads`` / ``torch.get_num_threads``: how many threads the matrix
products use.

tinygrad_fm's only multi-threaded work is NumPy's BLAS (OpenBLAS, MKL, ...), whose thread
pool these resize through threadpoolctl (``pip install threadpoolctl``; the examples and
tests install it). Without threadpoolctl the BLAS keeps its own setting (the
``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` environment variables read at start-up):
``set_num_threads`` then warns once and ``get_num_threads`` reports the CPU count.
"""

from __future__ import annotations

import os
import warnings

__all__ = ["set_num_threads", "get_num_threads"]

_limits = None  # the threadpoolctl limit in force (kept so that it is not undone)


def _threadpoolctl():
    try:
        import threadpoolctl
    except ImportError:
        return None
    return threadpoolctl


def set_num_threads(num_threads: int) -> None:
    """Use ``num_threads`` threads in the matrix products (PyTorch's name)."""
    global _limits
    if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
        raise ValueError(f"set_num_threads expects a positive integer, got {num_threads!r}")
    control = _threadpoolctl()
    if control is None:
        warnings.warn("set_num_threads needs threadpoolctl to resize the BLAS thread pool "
                      "(pip install threadpoolctl); the number of threads is unchanged",
                      RuntimeWarning, stacklevel=2)
        return
    _limits = control.threadpool_limits(limits=num_threads, user_api="blas")


def get_num_threads() -> int:
    """The threads the matrix products use (the largest BLAS pool loaded)."""
    control = _threadpoolctl()
    if control is not None:
        pools = [pool["num_threads"] for pool in control.threadpool_info()
                 if pool.get("user_api") == "blas"]
        if pools:
            return max(pools)
    return os.cpu_count() or 1
