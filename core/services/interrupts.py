"""Signals during an apply: how a change ends when the user presses Ctrl-C or the process is
told to stop.

The CLI runs an apply inside :func:`interruptible`: SIGINT raises ``KeyboardInterrupt`` as
always, SIGTERM and SIGHUP raise :class:`Interrupted` (by default they end the process at once,
leaving an intent with no explanation).  The scaler catches both after its intent record and
writes an ``interrupted`` outcome saying whether the request had been sent, then lets the
exception go on, so the command exits as the signal asked.

A signal that arrives while a record is being written waits for the end of the write
(:func:`critical`), so no audit line is ever cut in half.  Only the main thread receives
signals; elsewhere (the console's worker threads) these helpers change nothing.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

#: The signals an apply turns into exceptions (SIGHUP: the terminal closed).
STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(BaseException):
    """SIGTERM or SIGHUP arrived during an apply (SIGINT stays ``KeyboardInterrupt``).

    A ``BaseException``, like ``KeyboardInterrupt``: no ``except Exception`` swallows it.
    """

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


def signal_name(error: BaseException) -> str:
    """The signal an interruption stands for: ``SIGINT`` for ``KeyboardInterrupt``."""
    if isinstance(error, Interrupted):
        return signal.Signals(error.signum).name
    if isinstance(error, KeyboardInterrupt):
        return "SIGINT"
    return type(error).__name__


def exit_status(error: BaseException) -> int:
    """The shell's exit status for a process ended by the signal (128 + its number)."""
    if isinstance(error, Interrupted):
        return 128 + error.signum
    return 128 + signal.SIGINT


class _Held:
    """Whether a record is being written (depth) and the signal held back meanwhile."""

    depth = 0
    pending: int | None = None


def _exception(signum: int) -> BaseException:
    return KeyboardInterrupt() if signum == signal.SIGINT else Interrupted(signum)


def _handler(signum: int, _frame: FrameType | None) -> None:
    if _Held.depth:
        _Held.pending = signum  # raised when the record is whole
        return
    raise _exception(signum)


@contextmanager
def critical() -> Iterator[None]:
    """Hold back a signal until the block ends (an audit record being written)."""
    _Held.depth += 1
    try:
        yield
    finally:
        _Held.depth -= 1
        if not _Held.depth and _Held.pending is not None:
            signum, _Held.pending = _Held.pending, None
            raise _exception(signum)


@contextmanager
def interruptible() -> Iterator[None]:
    """While the block runs (in the main thread), SIGINT, SIGTERM and SIGHUP raise
    ``KeyboardInterrupt`` / :class:`Interrupted`; the previous handlers come back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, _handler) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
