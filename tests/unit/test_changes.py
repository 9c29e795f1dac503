"""Recent changes: capcon's audit records and auto scaling's activities, in one shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from capcon.core.model import TableClass, Throughput
from capcon.core.planning.requests import ShardChange
from capcon.core.ports import ScalingActivity, TableChange
from capcon.core.services.audit import AuditLog, Origin
from capcon.core.services.changes import (
    PendingChange,
    RecentChange,
    change_mark,
    changes_from_activities,
    changes_from_audit,
    pending_for,
    recent_for,
)
from capcon.core.services.scaler import Scaler
from tests.support.faulty import account, make_plan

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def record(change_id: str, phase: str, at: datetime, **values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "change_id": change_id,
        "phase": phase,
        "at": at.isoformat(),
        "origin": {"who": "me", "backend": "aws"},
        "resource": "orders",
        "kind": "table",
        "summary": "orders: 100 RCU / 100 WCU → 100 RCU / 400 WCU",
    }
    return base | values


def test_the_scalers_own_records_become_one_change_per_row(tmp_path: Path) -> None:
    acc = account()
    log = AuditLog(tmp_path / "audit.jsonl")
    scaler = Scaler(acc, log, Origin("me", "sim:test"), wait=lambda s: acc.advance(int(s)))
    scaler.apply(make_plan(acc, "orders", TableChange(table=Throughput(100, 400))))
    scaler.apply(make_plan(acc, "orders", TableChange(indexes=(("by-day", Throughput(50, 150)),))))
    stream = acc.list_streams()[0]
    scaler.apply(make_plan(acc, stream, ShardChange(8)))

    changes = changes_from_audit(log.read())

    assert [(c.source, c.row, c.what, c.outcome) for c in changes] == [
        ("capcon", "orders", "WCU 100 → 400", "applied"),
        ("capcon", "orders/by-day", "WCU 50 → 150", "applied"),
        ("capcon", stream, "shards 4 → 8", "applied"),
    ]
    assert all(c.ended is not None and c.ended >= c.at for c in changes)


def test_a_change_of_table_and_gsi_at_once_shows_on_both_rows() -> None:
    intent = record(
        "c1",
        "intent",
        NOW,
        before={"capacity": {"read": 10, "write": 10}, "indexes": {"gsi": {"read": 5, "write": 5}}},
        details={
            "plan": {
                "table": {"read": 20, "write": 10},
                "indexes": [["gsi", {"read": 5, "write": 9}]],
            }
        },
    )
    changes = changes_from_audit([intent])
    assert [(c.row, c.what, c.outcome, c.ended) for c in changes] == [
        ("orders", "RCU 10 → 20", "pending", None),
        ("orders/gsi", "WCU 5 → 9", "pending", None),
    ]


def test_an_intent_without_outcome_is_pending_and_the_last_word_counts() -> None:
    later = NOW + timedelta(minutes=3)
    records = [
        record("open", "intent", NOW),
        record("done", "intent", NOW),
        record("done", "outcome", NOW + timedelta(minutes=1), outcome="unknown"),
        record("done", "reconciled", later, outcome="applied"),
        record("sent", "intent", NOW),
        record("sent", "outcome", later, outcome="accepted"),
    ]
    by_id = {c.outcome: c for c in changes_from_audit(records)}
    assert set(by_id) == {"pending", "applied"}
    assert by_id["applied"].ended == later
    pending = [c for c in changes_from_audit(records) if c.outcome == "pending"]
    assert len(pending) == 2  # no outcome yet, and AWS accepted but not followed to ACTIVE
    assert all(c.ended is None for c in pending)


@pytest.mark.parametrize(
    "bad",
    [
        "not a mapping",
        None,
        {"phase": "intent"},
        {"change_id": "x", "phase": "intent", "at": "yesterday", "resource": "t"},
        {"change_id": "x", "phase": "intent", "at": "2026-03-02T12:00:00", "resource": "t"},
        {"change_id": 7, "phase": "intent", "at": NOW.isoformat(), "resource": "t"},
        {"change_id": "x", "phase": "intent", "at": NOW.isoformat(), "resource": ["t"]},
        {"change_id": "x", "phase": "intent", "at": NOW.isoformat(), "resource": ""},
    ],
)
def test_malformed_records_are_skipped_never_raised(bad: Any) -> None:
    good = record("ok", "intent", NOW, details={"plan": {"table": {"read": 1, "write": 2}}})
    orphan = record("orphan", "outcome", NOW, outcome="applied")  # no intent: nothing asked
    changes = changes_from_audit([bad, good, orphan])
    assert [(c.row, c.what) for c in changes] == [("orders", "RCU 1 / WCU 2")]


@pytest.mark.parametrize(
    "details",
    [
        "plan",
        {"plan": {"table": {"read": "1", "write": 2}}},
        {"plan": {"indexes": [["g"], 3, ["", {}], ["g", {"read": None}]]}},
        {"plan": [1, 2]},
        {"change": "x"},
    ],
)
def test_odd_details_fall_back_to_the_summary(details: Any) -> None:
    odd = record("y", "intent", NOW, details=details, before=3)
    (change,) = changes_from_audit([odd])
    assert (change.row, change.what) == ("orders", "100 RCU / 100 WCU → 100 RCU / 400 WCU")
    (stream,) = changes_from_audit(
        [
            record(
                "w",
                "intent",
                NOW,
                kind="stream",
                resource="s",
                summary="s: 4 → ?",
                details={"plan": {"target": "8"}},
            )
        ]
    )
    assert (stream.row, stream.what) == ("s", "4 → ?")


def test_auto_scaling_and_events_name_their_gsi_row() -> None:
    records = [
        record(
            "a",
            "intent",
            NOW,
            kind="autoscaling",
            summary="orders/by-day writes: auto scaling 5–50 at 70%",
            details={"change": {"table": "orders", "index": "by-day"}},
        ),
        record(
            "e",
            "intent",
            NOW,
            kind="event",
            summary="orders: event launch",
            details={"event": {"request": {"resource": "orders", "index": None}}},
        ),
    ]
    changes = changes_from_audit(records)
    assert [(c.row, c.what) for c in changes] == [
        ("orders/by-day", "auto scaling 5–50 at 70%"),
        ("orders", "event launch"),
    ]


def activity(rid: str, description: str, minutes: int, **values: Any) -> ScalingActivity:
    return ScalingActivity(
        resource_id=rid,
        dimension="dynamodb:table:WriteCapacityUnits",
        start=NOW - timedelta(minutes=minutes),
        description=description,
        cause="alarm",
        **values,
    )


def test_activities_map_to_table_gsi_and_stream_rows_and_skip_no_change() -> None:
    found = changes_from_activities(
        [
            activity("table/orders", "Setting write capacity units to 400.", 5),
            activity("table/orders/index/by-day", "Setting write capacity units to 9.", 3),
            activity("table/orders", "No change to write capacity units.", 1),
            activity("table/orders", "", 2, details={"NotScaledReason0": "Code=AlreadyAtMax"}),
            activity("stream/clicks", "Setting shards to 8.", 4, status="InProgress"),
            activity("cluster/x/y", "Setting something.", 4),
        ]
    )
    assert [(c.source, c.row, c.outcome) for c in found] == [
        ("aas", "orders", "Successful"),
        ("aas", "orders/by-day", "Successful"),
        ("aas", "clicks", "InProgress"),
    ]
    assert found[0].what == "Setting write capacity units to 400."


def test_recent_for_keeps_the_rows_window_newest_first() -> None:
    def change(row: str, minutes: float) -> RecentChange:
        return RecentChange(NOW - timedelta(minutes=minutes), "capcon", row, "x", "applied")

    changes = [
        change("a", 30),
        change("a", 5),
        change("b", 1),
        change("a", 60 * 25),  # older than the window
        change("a", -2),  # in the future
    ]
    assert [c.at for c in recent_for(changes, "a", NOW)] == [
        NOW - timedelta(minutes=5),
        NOW - timedelta(minutes=30),
    ]
    assert recent_for(changes, "a", NOW, timedelta(minutes=10)) == [changes[1]]


@pytest.mark.parametrize(
    ("source", "age", "mark"),
    [
        ("capcon", timedelta(seconds=20), "✎ now"),
        ("capcon", timedelta(minutes=4), "✎ 4m"),
        ("aas", timedelta(hours=2, minutes=59), "⇅ 2h"),
        ("aas", timedelta(days=3), "⇅ 3d"),
        ("aas", timedelta(days=400), "⇅ 99d"),
        ("capcon", timedelta(minutes=-5), "✎ now"),
    ],
)
def test_change_mark_says_source_and_age_in_six_cells(
    source: str, age: timedelta, mark: str
) -> None:
    change = RecentChange(NOW - age, source, "t", "x", "applied")  # type: ignore[arg-type]
    assert change_mark(change, NOW) == mark
    assert len(mark) <= 6


def test_pending_rows_of_a_plan_and_when_they_landed() -> None:
    table = pending_for(
        "orders",
        "table",
        TableChange(table=Throughput(5, 9), indexes=(("gsi", Throughput(1, 2)),)),
        NOW,
    )
    assert [(p.row, p.asked) for p in table] == [
        ("orders", Throughput(5, 9)),
        ("orders/gsi", Throughput(1, 2)),
    ]
    assert pending_for("orders", "table", TableChange(table_class=TableClass.STANDARD), NOW) == []
    (stream,) = pending_for("clicks", "stream", ShardChange(8), NOW)
    assert stream == PendingChange("clicks", 8, NOW)
    assert table[0].reached(Throughput(5, 9), None, "ACTIVE")
    assert not table[0].reached(Throughput(5, 9), None, "UPDATING")
    assert not table[0].reached(Throughput(5, 5), None, "ACTIVE")
    assert stream.reached(None, 8, "ACTIVE")
    assert not stream.reached(None, 4, "ACTIVE")
