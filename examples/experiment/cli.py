"""What the example scripts share at their edges: exit codes, error messages, signals and
the number of BLAS threads."""

from __future__ import annotations

import contextlib
import signal
import sys
from tinygrad_fm.datasets import DatasetError

from .config import ConfigError
from .files import os_error_message
from .signals import ignore_further_interrupts, sigterm_as_interrupt
from .training import CheckpointError, TrainingDiverged, TrainingInterrupted

EXIT_OK = 0
#: The work could not be done: a run diverged or failed, the data or a checkpoint could
#: not be read, an output folder could not be written, a sweep worker died.
EXIT_FAILED = 1
#: Bad options (argparse's own status), a bad sweep file, a folder holding other work.
EXIT_USAGE = 2
#: Interrupted (Ctrl-C or SIGTERM: a script stops the same way on either, so both end
#: with the shell's status of Ctrl-C, 128 + SIGINT); what was finished is kept.
EXIT_INTERRUPTED = 130


def error(message) -> None:
    print(f"error: {message}", file=sys.stderr)


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
    except OSError as problem:  # an output folder that cannot be written, a full disk
        error(os_error_message(problem))
        status.code = EXIT_FAILED
    except TrainingInterrupted as problem:
        ignore_further_interrupts()
        print(f"\n{problem}", file=sys.stderr)
        status.code = EXIT_INTERRUPTED
    except KeyboardInterrupt:
        ignore_further_interrupts()
        print("\ninterrupted before training started", file=sys.stderr)
        status.code = EXIT_INTERRUPTED
    except RuntimeError as problem:
        if not isinstance(problem.__cause__, KeyboardInterrupt):
            raise
        # Ctrl-C during an import, wrapped by Python ("Error calling __set_name__")
        ignore_further_interrupts()
        print("\ninterrupted before training started", file=sys.stderr)
        status.code = EXIT_INTERRUPTED


def exit_with(main) -> None:
    """``sys.exit(main())`` for a script's ``__main__``. A stop that escapes ``main`` (a
    Ctrl-C while the options are read) ends with 130 and one line instead of a
    traceback, and once a script stops with 130, further Ctrl-C and SIGTERM are ignored
    while the interpreter shuts down (wandb's and tqdm's exit hooks)."""
    try:
        code = main()
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        code = EXIT_INTERRUPTED
    if code == EXIT_INTERRUPTED:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.exit(code)


def single_threaded_blas():
    """Limit BLAS (and OpenMP) to one thread: the examples' matrices are small, so one
    thread per process is faster than several contending for the cores, and K sweep
    workers then use K cores. Usable as a context manager, or called once in a worker
    process to keep the limit for its life."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)
