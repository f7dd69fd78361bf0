"""What the example scripts share at their edges: exit codes, error messages, signals and
the number of BLAS threads."""

from __future__ import annotations

import contextlib
import signal
import sys
from tinygrad_fm.datasets import DatasetError

from .config import ConfigError
from .training import CheckpointError, TrainingDiverged, TrainingInterrupted

EXIT_OK = 0
#: The work could not be done: a run diverged or failed, the data or a checkpoint could
#: not be read, a sweep worker died.
EXIT_FAILED = 1
#: Bad options (argparse's own status), a bad sweep file, a folder holding other work.
EXIT_USAGE = 2
#: Interrupted (Ctrl-C or SIGTERM); what was finished is kept.
EXIT_INTERRUPTED = 130


def error(message) -> None:
    print(f"error: {message}", file=sys.stderr)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


@contextlib.contextmanager
def sigterm_as_interrupt():
    """SIGTERM stops like Ctrl-C: the script records what it did and exits 130."""
    try:
        previous = signal.signal(signal.SIGTERM, _interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class ExitStatus:
    """The exit status a ``with`` block ended with (see :func:`exit_status`)."""

    code = EXIT_OK


@contextlib.contextmanager
def exit_status():
    """Run a training script's work in ``with exit_status() as status:``: its errors end
    as one message on stderr and ``status.code`` (SIGTERM stops it like Ctrl-C)."""
    status = ExitStatus()
    try:
        with sigterm_as_interrupt():
            yield status
    except ConfigError as problem:
        error(problem)
        status.code = EXIT_USAGE
    except (FileNotFoundError, DatasetError, CheckpointError, TrainingDiverged) as problem:
        error(problem)
        status.code = EXIT_FAILED
    except TrainingInterrupted as problem:
        print(f"\n{problem}", file=sys.stderr)
        status.code = EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("\ninterrupted before training started", file=sys.stderr)
        status.code = EXIT_INTERRUPTED


def single_threaded_blas():
    """Limit BLAS (and OpenMP) to one thread: the examples' matrices are small, so one
    thread per process is faster than several contending for the cores, and K sweep
    workers then use K cores. Usable as a context manager, or called once in a worker
    process to keep the limit for its life."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def blas_threads():
    """The number of threads of the loaded BLAS library (None when none is loaded)."""
    from threadpoolctl import threadpool_info

    counts = [pool["num_threads"] for pool in threadpool_info() if pool.get("user_api") == "blas"]
    return max(counts) if counts else None
