"""After Apply: what the console asked for is pending (``CapconApp.pending``) until it lands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Input

from capcon.core.model import Throughput
from capcon.core.services.audit import AuditLogError
from capcon.core.services.changes import PendingChange
from capcon.tui.console.app import CapconApp
from capcon.tui.console.modals.scale import ScaleModal
from capcon.tui.console.testing import DEMO_NOW, demo_console, settle

SIZE = (160, 50)


async def started(app: CapconApp, pilot: Any) -> None:
    app.action_refresh()
    await settle(app, pilot)
    assert app.snapshot is not None, app.last_error


async def scale_to(app: CapconApp, pilot: Any, name: str, wcu: str) -> None:
    """Open the scale modal on ``name``, ask for ``wcu`` write units and apply."""
    app.jump_to(name)
    app.action_scale()
    await settle(app, pilot)
    modal = app.screen
    assert isinstance(modal, ScaleModal), modal
    modal.query_one("#wcu", Input).value = wcu
    await pilot.pause()
    await pilot.click("#apply")


async def test_pending_holds_the_asked_capacity_until_the_row_is_active_at_it(
    tmp_path: Path,
) -> None:
    during: list[dict[str, PendingChange]] = []

    def watch(_seconds: float) -> None:
        during.append(app.call_from_thread(lambda: dict(app.pending)))

    app, acc = demo_console(tmp_path / "audit.jsonl", before_wait=watch)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await scale_to(app, pilot, "audit-log", "800")
        await settle(app, pilot)
        assert during, "the apply never waited"
        asked = during[0]["audit-log"]
        assert asked.asked == Throughput(100, 800)
        assert asked.row == "audit-log"
        assert asked.at >= DEMO_NOW
        assert acc.describe_table("audit-log").provisioned == Throughput(100, 800)
        assert app.pending == {}  # ACTIVE at 800: landed


async def test_a_refused_apply_leaves_nothing_pending(tmp_path: Path) -> None:
    app, acc = demo_console(tmp_path / "audit.jsonl")
    seen: list[dict[str, PendingChange]] = []

    def unwritable() -> None:  # in the apply worker, before anything is sent
        seen.append(dict(app.pending))
        raise AuditLogError(app.audit.path, "permission denied")

    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        app.audit.check_writable = unwritable  # type: ignore[method-assign]
        await scale_to(app, pilot, "audit-log", "800")
        await settle(app, pilot)
        assert [list(s) for s in seen] == [["audit-log"]]
        assert acc.describe_table("audit-log").provisioned == Throughput(100, 1000)
        assert app.pending == {}


async def test_an_apply_that_breaks_leaves_nothing_pending_or_applying(tmp_path: Path) -> None:
    app, acc = demo_console(tmp_path / "audit.jsonl")

    def broken(*_args: object) -> None:
        raise RuntimeError("a bug nobody expected")

    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        acc.update_table = broken  # type: ignore[method-assign, assignment]
        await scale_to(app, pilot, "audit-log", "800")
        await settle(app, pilot)
        assert app.pending == {} and app.applying == {}
        said = [str(n.title) for n in app._notifications if n.severity == "error"]
        assert any(t.startswith("apply audit-log failed") for t in said), said
