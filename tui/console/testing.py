"""A console over a paused ``demo`` account, for tests, snapshots and benchmarks.

Nothing moves unless the caller moves it: the simulated clock is paused, automatic polling
is off unless asked for, and the scaler's waits advance simulated time under the console's
backend lock instead of sleeping.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from rich.text import Text
from textual.app import App
from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import Label, Static
from textual.worker import WorkerFailed

from capcon.core.backends.sim.account import SimAccount
from capcon.core.backends.sim.scenarios import build_scenario
from capcon.core.config.prices import load_price_book
from capcon.core.rules import RuleSettings
from capcon.core.services.audit import AuditLog, Origin
from capcon.tui.console.app import CapconApp, ConsoleOptions
from capcon.tui.console.theming import builtin_themes

ReturnT = TypeVar("ReturnT")

#: The demo's "now" in tests: simulated time, never the wall clock.
DEMO_NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)


def demo_console(
    audit_path: Path,
    *,
    before_wait: Callable[[float], None] | None = None,
    now: datetime = DEMO_NOW,
    **options: Any,
) -> tuple[CapconApp, SimAccount]:
    """The console and its paused demo account; ``options`` override :class:`ConsoleOptions`."""
    account = build_scenario("demo", now)
    settings: dict[str, Any] = {"sim_speed": 1.0, "poll": False}
    settings.update(options)

    def wait(seconds: float) -> None:
        if before_wait is not None:
            before_wait(seconds)
        assert app.controls is not None
        app.controls.step(int(seconds))  # under the console's backend lock

    app = CapconApp(
        account,
        Origin("simulated", "sim:demo", region="us-east-1"),
        RuleSettings(),
        load_price_book("us-east-1"),
        AuditLog(audit_path),
        ConsoleOptions(**settings),
        controls=account.controls,
        wait=wait,
        themes=builtin_themes(),
    )
    account.controls.pause()  # after the app: it sets the clock's speed
    return app, account


async def settle(app: App[ReturnT], pilot: Pilot[ReturnT]) -> None:
    """Until no worker runs and the messages they posted (and the workers those start,
    such as the refresh after an apply) have been handled.  A worker that failed is no
    reason to stop: the console's own handler reports it, and a test asserts on that."""
    for _ in range(50):
        with contextlib.suppress(WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.is_running for w in app.workers):
            return
    raise AssertionError(f"workers still running: {list(app.workers)}")


def plain(widget: Static | Label) -> str:
    """What a Static shows, as plain text (markup strings, Text, Content or a Rich panel)."""
    content = widget.content
    if isinstance(content, str):
        return Content.from_markup(content).plain
    if isinstance(content, Content | Text):
        return content.plain
    console = Console(width=200, file=io.StringIO(), record=True, color_system=None)
    console.print(content)
    return console.export_text()


def status_bar(app: CapconApp) -> str:
    return plain(app.query_one("#status", Static))
