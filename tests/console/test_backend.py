"""The console's typed backend: every port call under one lock, the clock's values without it."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from capcon.core.backends.sim.scenarios import build_scenario
from capcon.core.ports import Backend, SimulationControls
from capcon.tui.console.backend import LockedBackend, LockedControls, locked

NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)


def port_methods(protocol: type) -> list[str]:
    return sorted(
        name
        for name, member in inspect.getmembers(protocol, inspect.isfunction)
        if not name.startswith("_")
    )


class LockChecker:
    """Stands in for a backend or controls: every call records whether ``lock`` was held."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.calls: dict[str, bool] = {}
        self.label = "checker"

    def held(self) -> bool:
        """Held by someone: another thread cannot take it at once."""
        taken: list[bool] = []

        def probe() -> None:
            if self.lock.acquire(blocking=False):
                self.lock.release()
                taken.append(True)
            else:
                taken.append(False)

        thread = threading.Thread(target=probe)
        thread.start()
        thread.join()
        return not taken[0]

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def call(*_args: Any, **_kwargs: Any) -> None:
            self.calls[name] = self.held()

        return call


def dummy_arguments(method: Callable[..., Any]) -> list[None]:
    parameters = inspect.signature(method).parameters
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [None] * len([p for p in parameters.values() if p.kind in positional])


def test_locked_backend_is_a_backend_and_every_port_call_takes_the_lock() -> None:
    checker = LockChecker()
    backend: Backend = LockedBackend(checker, checker.lock)  # mypy: it is a Backend
    assert backend.label == "checker"
    names = port_methods(Backend)
    assert "describe_table" in names and "get_metric_data" in names and "now" in names
    for name in names:
        method = getattr(backend, name)
        method(*dummy_arguments(method))
    assert checker.calls == dict.fromkeys(names, True)


def test_controls_run_the_world_under_the_lock_and_read_the_clock_without_it() -> None:
    account = build_scenario("demo", NOW)
    backend, controls = locked(account, account.controls)
    assert isinstance(controls, LockedControls) and isinstance(controls, SimulationControls)
    assert controls.now() == NOW and controls.speed_range == (1.0, 3_600.0)

    # the status bar reads the clock every second on the UI thread: never behind a poll
    done: list[object] = []
    with backend.lock:

        def read_clock() -> None:
            controls.speed = 120
            controls.pause()
            done.extend([controls.now(), controls.paused, controls.speed])

        reader = threading.Thread(target=read_clock)
        reader.start()
        reader.join(timeout=10)
    assert done == [NOW, True, 120.0]

    checker = LockChecker()
    wrapped = LockedControls(checker, checker.lock)  # type: ignore[arg-type]
    wrapped.tick(1.0)
    wrapped.step(60)
    wrapped.provisioned_in_use()
    wrapped.reshard_history("s")
    assert checker.calls == {
        "tick": True,
        "step": True,
        "provisioned_in_use": True,
        "reshard_history": True,
    }


def test_no_controls_on_a_backend_without_them() -> None:
    account = build_scenario("demo", NOW)
    backend, controls = locked(account, None)
    assert controls is None
    assert backend.list_tables() == account.list_tables()


def test_a_refused_speed_is_refused_through_the_wrapper() -> None:
    account = build_scenario("demo", NOW)
    _, controls = locked(account, account.controls)
    assert controls is not None
    with pytest.raises(ValueError, match="3,600"):
        controls.speed = 0.5
    assert controls.speed == account.clock.speed
