"""Sharing one backend between the console's worker threads.

The simulated account is not thread-safe and boto3 clients are only safe per call, so every
call into the backend goes through one lock.  Calls are short (a describe, one batched
metrics call); the UI thread never makes them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class LockedBackend:
    """A proxy that runs every method of ``backend`` under one lock."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self._lock = threading.RLock()

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    @property
    def inner(self) -> Any:
        return self._backend

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._backend, name)
        if not callable(value):
            return value
        lock = self._lock

        def locked(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return value(*args, **kwargs)

        locked.__name__ = name
        return locked

    def run(self, call: Callable[[], Any]) -> Any:
        with self._lock:
            return call()
