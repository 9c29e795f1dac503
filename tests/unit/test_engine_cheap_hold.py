"""The engine's cheap hold: a dimension whose policy counts only datapoints since the last
capacity change is decided without ``GetMetricData`` while no such datapoint can exist yet
(issue 17: the deployed engine's wake-ups right after a change)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from capcon.core.backends.sim.account import IndexSpec, SimAccount, TableSpec
from capcon.core.backends.sim.tables import SimSettings
from capcon.core.backends.sim.traffic import Bell, Steady, StreamLoad
from capcon.core.config.prices import load_price_book
from capcon.core.model import Throughput
from capcon.core.policies import (
    POLICIES,
    Decision,
    first_fresh_minute,
    fresh_published_at,
    make_policy,
)
from capcon.core.ports import Scalable
from capcon.core.rules import RuleSettings
from capcon.core.services.audit import AuditLog, Origin
from capcon.core.services.engine import AutoscaleEngine, table_capacity_since
from capcon.core.services.scaler import Scaler
from capcon.core.services.state import MemoryStateStore

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
RULES = RuleSettings()
PRICES = load_price_book("us-east-1")
WAITING = "no datapoints since the last change yet"
TABLE_DIMS = [
    Scalable("orders", "read"),
    Scalable("orders", "write"),
    Scalable("orders", "read", "by-day"),
    Scalable("orders", "write", "by-day"),
]
STREAM_DIMS = [Scalable("clicks", "shards")]


def no_wait(seconds: float) -> None:
    """The scaler does not follow a change (``follow=False``), so it never waits."""


def test_the_first_fresh_minute_rounds_up_and_is_published_a_minute_plus_the_delay_later() -> None:
    on_minute = START + timedelta(minutes=5)
    assert first_fresh_minute(on_minute) == on_minute
    assert first_fresh_minute(on_minute + timedelta(microseconds=1)) == START + timedelta(minutes=6)
    assert first_fresh_minute(on_minute + timedelta(seconds=59)) == START + timedelta(minutes=6)
    assert fresh_published_at(on_minute, 120) == START + timedelta(minutes=8)
    assert fresh_published_at(on_minute + timedelta(seconds=1), 90) == START + timedelta(
        minutes=8, seconds=30
    )


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_only_the_policies_counting_fresh_datapoints_declare_it(name: str) -> None:
    since = START + timedelta(minutes=3)
    declared = make_policy(name, 70.0).fresh_since(since)
    assert declared == (since if name in ("aas", "aas-legacy", "h1", "h2", "kinesis") else None)


def rising_account(settings: SimSettings | None = None) -> SimAccount:
    """A table with a GSI and a stream, all rising for the next hour."""
    acc = SimAccount(START, settings=settings)
    acc.add_table(
        TableSpec(
            "orders",
            Throughput(30, 30),
            reads=Bell(base=20, peak=900, steady_s=300, rise_s=3600, fall_s=600),
            writes=Bell(base=25, peak=600, steady_s=300, rise_s=3000, fall_s=600),
            indexes=[
                IndexSpec(
                    "by-day",
                    Throughput(15, 20),
                    Bell(base=10, peak=400, steady_s=600, rise_s=3000, fall_s=600),
                )
            ],
        )
    )
    records = Bell(base=300, peak=9_000, steady_s=300, rise_s=3300, fall_s=600)
    acc.add_stream("clicks", shards=1, load=StreamLoad(records, 700.0))
    acc.advance(10 * 60)
    return acc


Row = tuple[datetime, str, Decision, str, int | None, tuple[str, ...]]


def run(
    policy: str,
    managed: list[Scalable],
    tmp: Path,
    *,
    cheap: bool,
    step_s: int = 23,
    minutes: int = 60,
    settings: SimSettings | None = None,
    reshards_known: bool = True,
) -> tuple[list[Row], int, int]:
    """An hour of rounds ``step_s`` apart, the handler's way (state rebuilt from a store each
    round, the scaler not waiting): every decision, GetMetricData calls and metrics."""
    acc = rising_account(settings)
    scaler = Scaler(
        acc, AuditLog(tmp / "audit.jsonl"), Origin("engine", "sim"), wait=no_wait, follow=False
    )
    state = MemoryStateStore()
    calls = metrics = 0
    rows: list[Row] = []
    for _ in range(minutes * 60 // step_s):
        acc.advance(step_s)
        engine = AutoscaleEngine(
            acc, policy, 70.0, RULES, PRICES, managed, (1, 40_000), scaler,
            metric_delay_seconds=120, update_seconds=60, state=state,
            reshard_history=acc.controls.reshard_history if reshards_known else None,
            cheap_holds=cheap,
        )  # fmt: skip
        assert engine.metrics is not None
        rows += [
            (d.at, d.scalable.key, d.decision, d.outcome, d.capacity_after, d.notes)
            for d in engine.round()
        ]
        calls += engine.metrics.usage.calls
        metrics += engine.metrics.usage.metrics_requested
    return rows, calls, metrics


@pytest.mark.parametrize(
    ("policy", "managed", "reshards_known"),
    [
        ("h1", TABLE_DIMS, True),
        ("h2", TABLE_DIMS, True),
        ("aas", TABLE_DIMS, True),
        ("kinesis", STREAM_DIMS, True),
        ("kinesis", STREAM_DIMS, False),  # AWS does not report reshards: since the last action
    ],
)
def test_cheap_holds_decide_exactly_as_the_full_observation_with_fewer_metrics(
    policy: str, managed: list[Scalable], reshards_known: bool, tmp_path: Path
) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "cheap").mkdir()
    full, full_calls, full_metrics = run(
        policy, managed, tmp_path / "full", cheap=False, reshards_known=reshards_known
    )
    cheap, cheap_calls, cheap_metrics = run(
        policy, managed, tmp_path / "cheap", cheap=True, reshards_known=reshards_known
    )
    assert cheap == full  # every decision, reason, outcome and capacity
    assert sum(1 for row in full if row[3] == "accepted") >= 3  # the traffic really rose
    waited = [row for row in full if row[2].reason.startswith(WAITING)]
    assert all("is published about" in row[2].reason for row in waited)
    if policy != "kinesis":  # (its 5-minute cooldown outlasts the wait: it holds for that)
        assert len(waited) >= 5
    # Independently of the engine: a decision is taken without datapoints when, at the start
    # of its round, the last change of its table/GSI (or stream) was so recent that no minute
    # since can be published (a change earlier in the same round comes too late to save the
    # refresh).  Each such decision saves exactly its dimension's metrics (2 a table or GSI
    # dimension, 3 a stream): the shortcut is taken every time it can be, and only then.
    changed: dict[str, datetime] = {}
    shortcut = 0
    for at, key, _, outcome, _, _ in full:
        part = key.rsplit(":", 1)[0]
        since = changed.get(part)
        if since is not None and since < at < fresh_published_at(since, 120):
            shortcut += 1
        if outcome == "accepted":
            changed[part] = at
    assert shortcut >= 5
    assert full_metrics - cheap_metrics == shortcut * (3 if policy == "kinesis" else 2)
    assert cheap_calls < full_calls  # rounds whose every dimension waited ask nothing at all


def test_a_cloudwatch_later_than_assumed_still_gives_the_same_decisions(tmp_path: Path) -> None:
    """The sim publishes 3 minutes late, the engine assumes 2: the shortcut stops a minute too
    early (a normal round that holds), never decides differently."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    late = replace(SimSettings(), metric_delay_seconds=180)
    full, _, full_metrics = run(
        "h1", TABLE_DIMS, tmp_path / "a", cheap=False, settings=late, minutes=40
    )
    cheap, _, cheap_metrics = run(
        "h1", TABLE_DIMS, tmp_path / "b", cheap=True, settings=late, minutes=40
    )
    assert cheap == full
    assert cheap_metrics < full_metrics


def test_capcon_uses_every_datapoint_and_is_never_shortcut(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    full = run("capcon", TABLE_DIMS, tmp_path / "a", cheap=False, minutes=30)
    cheap = run("capcon", TABLE_DIMS, tmp_path / "b", cheap=True, minutes=30)
    assert cheap == full  # same decisions and the same GetMetricData calls and metrics
    assert any(row[3] == "accepted" for row in full[0])


def test_the_shortcut_ends_exactly_when_the_first_fresh_minute_is_published(
    tmp_path: Path,
) -> None:
    """A change at a second that is not on a minute: one second before ``T + 60 s + delay``
    nothing is asked for that dimension; at that moment it is observed and sees the minute."""
    acc = SimAccount(START)
    acc.add_table(TableSpec("orders", Throughput(10, 10), reads=Steady(5), writes=Steady(40)))
    acc.advance(10 * 60 + 17)
    scaler = Scaler(
        acc, AuditLog(tmp_path / "audit.jsonl"), Origin("engine", "sim"), wait=no_wait, follow=False
    )
    dims = [Scalable("orders", "write")]
    state = MemoryStateStore()

    def engine() -> AutoscaleEngine:
        return AutoscaleEngine(
            acc, "h1", 70.0, RULES, PRICES, dims, (1, 40_000), scaler,
            metric_delay_seconds=120, update_seconds=60, state=state,
        )  # fmt: skip

    [first] = engine().round()
    assert first.decision.action == "scale-out" and first.outcome == "accepted"
    since = table_capacity_since(acc.describe_table("orders"), dims[0])
    assert since == START + timedelta(minutes=10, seconds=17)
    due = fresh_published_at(since, 120)
    assert due == START + timedelta(minutes=14)  # the minute from 08:11, published at 08:14
    acc.advance(int((due - acc.now()).total_seconds()) - 1)
    before = engine()
    [held] = before.round()
    assert before.metrics is not None and before.metrics.usage.metrics_requested == 0
    assert held.decision == Decision(
        "hold", None, f"{WAITING} (the minute from 08:11 is published about 08:14:00)"
    )
    acc.advance(1)
    after = engine()
    [seen] = after.round()
    assert after.metrics is not None and after.metrics.usage.metrics_requested == 2
    assert not seen.decision.reason.startswith(WAITING)  # the fresh minute was there
