"""The detail screen's recent changes (issue 19): capcon's audit entries and auto scaling's
activities listed in the panel and marked on the charts, the capacity just asked for in the
header at once (marked pending), and a legend that keeps consumed and throttled at 100
columns."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from capcon.core.model import Throughput
from capcon.core.ports import TableChange
from capcon.core.services.audit import AuditLog, Origin
from capcon.core.services.changes import PendingChange, RecentChange
from capcon.core.services.scaler import Scaler
from capcon.tui.console.screens.detail import (
    CAPCON_MARK,
    ChartPanel,
    DetailScreen,
    change_lines,
    change_marks,
)
from tests.console.test_detail import NOW, SIZE, make_app, open_detail, panel_text
from tests.support.faulty import make_plan


def title_text(screen: DetailScreen) -> str:
    return str(screen.query_one("#detail-title", Static).render())


async def test_a_capcon_change_is_listed_and_marked_on_its_chart(tmp_path: Path) -> None:
    app, acc = make_app(tmp_path)
    # a change applied through the core scaler, written to the app's audit log
    log = AuditLog(tmp_path / "audit.jsonl")
    scaler = Scaler(acc, log, Origin("tester", "sim:demo"), wait=lambda s: acc.advance(int(s)))
    result = scaler.apply(make_plan(acc, "orders", TableChange(table=Throughput(500, 450))))
    assert result.outcome == "applied"
    acc.advance(5 * 60)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot, "orders")
        data = screen.data
        assert data is not None
        capcon = [c for c in data.changes if c.source == "capcon"]
        assert len(capcon) == 1 and capcon[0].outcome == "applied"
        text = panel_text(screen)
        assert "Recent changes (1)" in text
        assert f"{CAPCON_MARK} " in text and "capcon · WCU 300 → 450 · applied" in text
        assert "min ago" in text
        # the write change marks the writes chart only
        reads, writes = data.charts
        assert [m.source for m in writes.marks] == ["capcon"]
        assert not [m for m in reads.marks if m.source == "capcon"]
        plot = screen.query_one("#chart-writes", ChartPanel)
        assert CAPCON_MARK in plot.plot.plt.build()
        head = str(plot.query_one(".chart-head", Static).render())
        assert f"{CAPCON_MARK} capcon ×1" in head
        # another row's detail lists none of it
        screen.action_back()
        await pilot.pause()
        other = await open_detail(app, pilot, "checkout")
        assert other.data is not None
        assert not [c for c in other.data.changes if c.source == "capcon"]


def test_change_lines_newest_first_with_source_outcome_and_age() -> None:
    from datetime import timedelta

    changes = (
        RecentChange(NOW - timedelta(minutes=4), "capcon", "orders", "WCU 300 → 450", "refused"),
        RecentChange(NOW - timedelta(hours=2), "aas", "orders", "Setting write to 120.", "Failed"),
    )
    lines = change_lines(changes, NOW)
    assert lines[0].text == "Recent changes (2)"
    assert "capcon · WCU 300 → 450 · refused · 4 min ago" in lines[1].text
    assert lines[1].role == "hot"  # did not take effect
    assert "AAS · write to 120 · Failed · 2 h ago" in lines[2].text
    assert change_lines((), NOW)[1].text.strip() == "none in the last day"
    # a read change marks only the reads chart; one older than the window none
    read = RecentChange(NOW, "capcon", "orders", "RCU 1 → 2", "applied")
    assert [m.text for m in change_marks((read,), NOW - timedelta(hours=1), "reads")] == [
        "RCU 1 → 2"
    ]
    assert change_marks((read,), NOW - timedelta(hours=1), "writes") == ()
    assert change_marks((read,), NOW + timedelta(minutes=1), "reads") == ()


async def test_pending_capacity_shows_in_the_header_at_once(tmp_path: Path) -> None:
    app, acc = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot, "orders")
        assert "500 RCU / 300 WCU" in title_text(screen)
        assert "pending" not in title_text(screen)
        app.pending["orders"] = PendingChange("orders", Throughput(500, 900), acc.now())
        screen._watch_pending()  # what the screen's 1-second check does
        title = title_text(screen)
        assert "500 RCU / 900 WCU pending" in title
        assert "was 500 RCU / 300 WCU" in title
        del app.pending["orders"]
        screen._watch_pending()
        assert "pending" not in title_text(screen)
        assert "500 RCU / 300 WCU" in title_text(screen)


async def test_legend_keeps_consumed_and_throttled_at_100_columns(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_detail(app, pilot, "user-events")  # throttles: no "(none)"
        for key in ("reads", "writes"):
            head = screen.query_one(f"#chart-{key}", ChartPanel).query_one(".chart-head", Static)
            shown = str(head.render())[: head.content_region.width - 1]  # the rest is cut
            assert "━ consumed" in shown and "━ throttled" in shown, shown


def test_the_audit_log_is_parsed_again_only_when_it_changed(tmp_path: Path) -> None:
    """The detail screen refreshes every few seconds: an unchanged log is not re-read."""
    from capcon.tui.console.screens.detail import CachedAudit, recent_changes

    _, acc = make_app(tmp_path)
    log = AuditLog(tmp_path / "audit.jsonl")
    scaler = Scaler(acc, log, Origin("tester", "sim:demo"), wait=lambda s: acc.advance(int(s)))
    scaler.apply(make_plan(acc, "orders", TableChange(table=Throughput(500, 450))))
    cached = CachedAudit(log)
    first = recent_changes(cached, (), "orders", acc.now())
    again = recent_changes(cached, (), "orders", acc.now())
    assert first == again and len(first) == 1 and cached.reads == 1
    scaler.apply(make_plan(acc, "orders", TableChange(table=Throughput(500, 500))))
    newer = recent_changes(cached, (), "orders", acc.now())
    assert cached.reads == 2 and [c.what for c in newer] == ["WCU 450 → 500", "WCU 300 → 450"]
