"""Recent changes on rows: capcon's audit entries and auto scaling's activities as a mark and
age after the name, read by the poll worker sparingly."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from textual.widgets import Input

from capcon.core.ports import ScalableTarget, ScalingActivity
from capcon.core.services.audit import AuditLog, Origin
from capcon.core.services.changes import changes_from_activities
from capcon.core.services.overview import AutoScalingState, Row
from capcon.tui.console.app import CapconApp
from capcon.tui.console.modals.scale import ScaleModal
from capcon.tui.console.recent import AWS_ACTIVITIES_SECONDS, RecentWatch
from capcon.tui.console.testing import demo_console, settle
from capcon.tui.console.widgets.resource_list import ResourceList

SIZE = (160, 50)
NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)


async def started(app: CapconApp, pilot: Any) -> None:
    app.action_refresh()
    await settle(app, pilot)
    assert app.snapshot is not None, app.last_error


def name_cell(app: CapconApp, name: str) -> str:
    return app.query_one(ResourceList).get_cell(name, "name").plain


async def test_an_apply_marks_its_row_and_the_age_counts(tmp_path: Path) -> None:
    app, acc = demo_console(tmp_path / "audit.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        assert "✎" not in name_cell(app, "audit-log")
        app.jump_to("audit-log")
        app.action_scale()
        await settle(app, pilot)
        modal = app.screen
        assert isinstance(modal, ScaleModal)
        modal.query_one("#wcu", Input).value = "800"
        await pilot.pause()
        await pilot.click("#apply")
        await settle(app, pilot)
        (change,) = [c for c in app.recent_changes if c.row == "audit-log"]
        assert app.snapshot is not None
        age = int((app.snapshot.at - change.at).total_seconds() // 60)
        assert age <= 2  # the apply's own simulated wait
        cell = name_cell(app, "audit-log")
        assert cell.startswith("audit-log") and cell.endswith(f"✎ {age or 'now'}{'m' * bool(age)}")
        assert len(cell) == 24
        assert (change.source, change.what, change.outcome) == (
            "capcon",
            "WCU 1,000 → 800",
            "applied",
        )

        assert app.controls is not None
        app.controls.step(7 * 60)
        await started(app, pilot)
        assert name_cell(app, "audit-log").endswith(f"✎ {age + 7}m")
        app.controls.step(25 * 3600)  # a day later: no longer recent
        await started(app, pilot)
        assert "✎" not in name_cell(app, "audit-log")
        del acc


async def test_auto_scaling_activities_mark_their_rows_with_the_newest(tmp_path: Path) -> None:
    app, acc = demo_console(tmp_path / "audit.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        assert app.snapshot is not None
        changes = changes_from_activities(acc.describe_scaling_activities())
        rows = {c.row for c in changes if NOW - timedelta(hours=24) <= c.at <= NOW}
        assert rows, "the demo's auto scaling did nothing"
        for name in rows:
            newest = max(c.at for c in changes if c.row == name)
            minutes = int((app.snapshot.at - newest).total_seconds() // 60)
            age = "now" if minutes < 1 else f"{minutes}m" if minutes < 60 else f"{minutes // 60}h"
            assert f"⇅ {age}" in name_cell(app, name), (name, name_cell(app, name))
        quiet = {r.name for r in app.snapshot.rows} - rows - set(app.event_rows)
        assert quiet and all("⇅" not in name_cell(app, n) for n in quiet)


async def test_changes_of_other_accounts_and_earlier_demos_are_not_marked(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.jsonl"

    def line(change_id: str, backend: str, resource: str) -> str:
        return json.dumps(
            {
                "change_id": change_id,
                "phase": "intent",
                "at": (NOW - timedelta(minutes=10)).isoformat(),
                "origin": {"who": "x", "backend": backend, "region": "us-east-1"},
                "resource": resource,
                "kind": "table",
                "summary": f"{resource}: [red]boom[/]",
            }
        )

    # an earlier demo's change (same backend), and another account's
    path.write_text(line("old", "sim:demo", "payments") + "\n")
    app, _ = demo_console(path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        assert name_cell(app, "payments").strip() == "payments"
        with path.open("a") as log:
            log.write(line("other", "aws:elsewhere", "payments") + "\n")
            log.write(line("new", "sim:demo", "payments") + "\n")
        await started(app, pilot)
        assert name_cell(app, "payments").endswith("✎ 10m")
        assert [c.what for c in app.recent_changes if c.row == "payments"] == ["[red]boom[/]"]


async def test_the_audit_log_is_read_again_only_when_it_changed(tmp_path: Path) -> None:
    app, _ = demo_console(tmp_path / "audit.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(5):
            await started(app, pilot)
        assert app._recent.audit_reads == 1
        AuditLog(tmp_path / "audit.jsonl").path.write_text("")
        (tmp_path / "audit.jsonl").write_text("not json\n")
        await started(app, pilot)
        assert app._recent.audit_reads == 2


class CountingBackend:
    """Only what :class:`RecentWatch` calls, counted."""

    def __init__(self) -> None:
        self.calls = 0

    def describe_scaling_activities(self, resource_id: str | None = None) -> list[ScalingActivity]:
        self.calls += 1
        return [
            ScalingActivity(
                "table/orders",
                "dynamodb:table:WriteCapacityUnits",
                NOW - timedelta(minutes=3),
                "Setting write capacity units to 9.",
                "alarm",
            )
        ]


def rows(auto_scaled: bool) -> Sequence[Row]:
    targets = (ScalableTarget("table/orders", "dynamodb:table:WriteCapacityUnits", 1, 9),)
    state = AutoScalingState(targets=targets if auto_scaled else ())
    return [Row("orders", "table", "orders", None, "PROVISIONED", "ACTIVE", auto_scaling=state)]


def test_on_aws_activities_are_read_every_two_minutes_at_most(tmp_path: Path) -> None:
    clock = [0.0]
    watch = RecentWatch(
        AuditLog(tmp_path / "audit.jsonl"),
        Origin("me", "aws:test"),
        simulated=False,
        clock=lambda: clock[0],
    )
    backend = CountingBackend()
    found = []
    for second in range(0, 600, 5):  # a poll every 5 s for 10 minutes
        clock[0] = float(second)
        found.append(watch.look(backend, rows(True), NOW).changes)  # type: ignore[arg-type]
    assert backend.calls == 600 // AWS_ACTIVITIES_SECONDS == 5
    assert found[0] is not None and [c.row for c in found[0]] == ["orders"]
    assert all(f is None for f in found[1:])  # nothing new: the list is not repainted
    # no scalable target on any row: no call at all
    idle = CountingBackend()
    other = RecentWatch(
        AuditLog(tmp_path / "audit.jsonl"),
        Origin("me", "aws:test"),
        simulated=False,
        clock=lambda: 0,
    )
    other.look(idle, rows(False), NOW)  # type: ignore[arg-type]
    assert idle.calls == 0
