"""Calls in flight: what capcon is waiting for right now, for a front end to say so.

A call to a control plane usually answers in milliseconds; when one does not (a throttled
account, a hung endpoint, a proxy that holds the connection) the user should see *what* is
slow, not a frozen screen.  Every request the AWS adapter makes is registered here by its
``calling`` block (``dynamodb:DescribeTable`` on ``table orders``); the console registers
each call it makes through its ports too (:class:`~capcon.tui.console.backend.LockedBackend`),
so the simulated account reports the same way, and a batch (1,000 DescribeTables) is named
as a whole while its single requests are quick.

The registry is thread-safe and costs a lock and a dict entry per call.  A front end asks
:meth:`InFlight.waiting` once a second which call to name.  This module is a leaf: it imports
nothing of capcon.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

#: A call is named once it has run this long (quicker ones would only flicker).
SLOW_SECONDS = 2.0


@dataclass(frozen=True)
class Call:
    """One call in flight: the operation (an IAM action, ``service:Operation``), what it is
    about (``table orders``, ``40 tables``; ``None`` for a listing) and when it started (the
    registry's monotonic clock)."""

    operation: str
    resource: str | None
    started: float
    thread: int
    batch: bool = False
    """Registered around many requests (a front end's port call): named only when none of
    the single requests it is made of is slow itself."""

    def what(self) -> str:
        """``dynamodb:DescribeTable on table orders`` (raw text: a front end escapes it)."""
        return f"{self.operation} on {self.resource}" if self.resource else self.operation


class InFlight:
    """The calls running now, across threads."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._calls: dict[int, Call] = {}
        self._tokens = itertools.count()

    @contextmanager
    def track(
        self, operation: str, resource: str | None = None, *, batch: bool = False
    ) -> Iterator[None]:
        """The block is a call to ``operation`` on ``resource``, in flight until it ends."""
        call = Call(operation, resource, self.clock(), threading.get_ident(), batch)
        token = next(self._tokens)
        with self._lock:
            self._calls[token] = call
        try:
            yield
        finally:
            with self._lock:
                self._calls.pop(token, None)

    def calls(self) -> tuple[Call, ...]:
        """Every call in flight, oldest first."""
        with self._lock:
            return tuple(sorted(self._calls.values(), key=lambda c: c.started))

    def waiting(self, slow_seconds: float = SLOW_SECONDS) -> tuple[Call, float] | None:
        """The call to name while waiting, and for how many seconds it has run: of the calls
        running at least ``slow_seconds``, the single request running longest; a batch only
        when no single request is that slow.  Within one thread the innermost call counts
        (what that thread is blocked on right now).  ``None`` when nothing is slow."""
        now = self.clock()
        innermost: dict[tuple[int, bool], Call] = {}
        for call in self.calls():  # oldest first: a later call in a thread is nested
            innermost[(call.thread, call.batch)] = call
        slow = [c for c in innermost.values() if now - c.started >= slow_seconds]
        if not slow:
            return None
        single = [c for c in slow if not c.batch]
        oldest = min(single or slow, key=lambda c: c.started)
        return oldest, now - oldest.started


#: The process's registry: the AWS adapter's requests and the console's port calls.
IN_FLIGHT = InFlight()
