"""Row and audit text written once (:mod:`capcon.tui.text`), shown the same by ``capcon ls`` /
``capcon audit`` and the console's list / audit screen, and escaped on both sides."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.widgets import DataTable

from capcon.core.model import Throughput
from capcon.core.planning.planner import StreamTraffic, Usage
from capcon.core.services.overview import Row
from capcon.tui.cli.main import main
from capcon.tui.console.screens.audit import AuditScreen
from capcon.tui.console.testing import demo_console, settle
from capcon.tui.text import (
    AUDIT_COLUMNS,
    audit_cells,
    capacity_text,
    cost_text,
    markup_safe,
    printable,
    throttled_text,
    use_text,
    util_text,
)

TABLE = Row(
    "orders", "table", "orders", None, "provisioned", "ACTIVE",
    capacity=Throughput(1_500, 300), usage=Usage(261.4, 114.0), utilisation=0.52,
    throttled_per_second=133.66, cost_per_hour=0.2671,
)  # fmt: skip
STREAM = Row(
    "clicks", "stream", None, None, "provisioned", "ACTIVE", shards=4,
    stream_traffic=StreamTraffic(3_160_000, 3_163),
)  # fmt: skip
ON_DEMAND = Row("sessions", "table", "sessions", None, "on-demand", "ACTIVE")


def test_capacity_and_use_text() -> None:
    assert capacity_text(TABLE) == "1,500 / 300"
    assert capacity_text(TABLE, compact=True) == "1,500/300"  # the console's narrow column
    assert capacity_text(STREAM) == "4 shards"
    assert capacity_text(STREAM, compact=True) == "4 sh"
    assert capacity_text(ON_DEMAND) == capacity_text(ON_DEMAND, compact=True) == "on-demand"
    assert use_text(TABLE) == "261 / 114"
    assert use_text(STREAM) == "3.01 MiB/s, 3,163 rec/s"  # 3,160,000 B/s ÷ 2**20
    assert use_text(ON_DEMAND) == ""
    assert (util_text(TABLE), throttled_text(TABLE), cost_text(TABLE)) == ("52%", "133.7", "0.267")
    assert (util_text(ON_DEMAND), throttled_text(ON_DEMAND), cost_text(ON_DEMAND)) == ("", "0", "")


RECORD: dict[str, Any] = {
    "change_id": "abc123",
    "phase": "outcome",
    "at": "2026-11-23T01:30:00+00:00",
    "origin": {"who": "arn:aws:iam::1:user/[bold]eve[/bold]", "backend": "aws:prod/us-east-1"},
    "resource": "orders[red]",
    "summary": "orders: 100 → 200 WCU",
    "outcome": "failed",
    "error": "LimitExceeded [x]",
}


def test_audit_cells_of_a_record_and_of_odd_ones() -> None:
    assert audit_cells(RECORD) == (
        "2026-11-23 01:30:00",
        "abc123",
        "outcome",
        "arn:aws:iam::1:user/[bold]eve[/bold]",
        "aws:prod/us-east-1",
        "orders[red]",
        "orders: 100 → 200 WCU",
        "failed: LimitExceeded [x]",
    )
    assert audit_cells({}) == ("",) * len(AUDIT_COLUMNS)
    assert audit_cells({"origin": "not a mapping", "phase": 3})[2:4] == ("3", "")


def test_a_reconciled_record_says_what_was_found_and_how_the_change_was_left() -> None:
    record = {
        **RECORD,
        "phase": "reconciled",
        "outcome": "applied",
        "error": None,
        "details": {"left_as": "interrupted", "found": "orders now: as the change asked"},
    }
    assert audit_cells(record)[-1] == (
        "reconciled as applied (left as interrupted): orders now: as the change asked"
    )
    odd = {**record, "details": "not a mapping"}
    assert audit_cells(odd)[-1] == "applied"


def write_log(tmp_path: Path) -> Path:
    path = tmp_path / "state" / "capcon" / "audit.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(RECORD) + "\n", encoding="utf-8")
    return path


def test_cli_audit_prints_the_shared_cells_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_log(tmp_path)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.setenv("NO_COLOR", "1")
    assert main(["audit"]) == 0
    out = capsys.readouterr().out
    for header in AUDIT_COLUMNS:
        assert header in out
    for cell in audit_cells(RECORD):
        assert cell in out  # markup-looking text printed as it is, not interpreted


async def test_console_audit_screen_shows_the_same_cells(tmp_path: Path) -> None:
    app, _ = demo_console(write_log(tmp_path))
    async with app.run_test(size=(200, 40)) as pilot:
        app.action_audit()
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        table = screen.query_one(DataTable)
        assert [str(c.label) for c in table.columns.values()] == list(AUDIT_COLUMNS)
        assert tuple(str(cell) for cell in table.get_row_at(0)) == audit_cells(RECORD)


def test_text_from_outside_is_neither_markup_nor_control_codes() -> None:
    """The one escaping path the CLI and the console share: Rich markup is escaped, ESC/OSC/
    BEL/C1 are dropped, line breaks become spaces."""
    hostile = "t[/]\x1b]0;pwned\x07[@click=app.quit]x\x9b31m\nend"
    safe = markup_safe(hostile)
    assert not any(ch in safe for ch in "\x1b\x07\x9b\n")
    assert Text.from_markup(safe).plain == printable(hostile)
    assert printable(hostile) == "t[/]]0;pwned[@click=app.quit]x31m end"
