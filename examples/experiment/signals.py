"""How the example scripts stop: SIGTERM as Ctrl-C, and a second Ctrl-C that does not cut
short the recording of the first."""

from __future__ import annotations

import contextlib
import signal
import sys

_scopes = 0  # how many sigterm_as_interrupt() blocks are open


def _interrupt(signum, frame):
    raise KeyboardInterrupt


@contextlib.contextmanager
def sigterm_as_interrupt():
    """A script's work: SIGTERM stops it like Ctrl-C (it records what it did and exits
    130), and inside it :func:`ignore_further_interrupts` may silence a second stop. The
    signal handlers are restored when the block ends."""
    global _scopes
    try:
        previous = {number: signal.signal(number, handler) for number, handler in
                    ((signal.SIGTERM, _interrupt), (signal.SIGINT, signal.getsignal(signal.SIGINT)))}
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    _scopes += 1
    try:
        yield
    finally:
        _scopes -= 1
        for number, handler in previous.items():
            signal.signal(number, handler)


def _already_stopping(signum, frame):
    print("\nstill stopping: recording what was done (this takes a moment)",
          file=sys.stderr, flush=True)


def ignore_further_interrupts() -> None:
    """Once a script is stopping, Ctrl-C and SIGTERM only say so until its
    :func:`sigterm_as_interrupt` block ends: a second Ctrl-C would otherwise interrupt
    the recording of the first stop and end the process with a traceback (status -2)
    instead of 130. Outside such a block (a library call) it does nothing."""
    if _scopes:
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, _already_stopping)
