"""Rehearsing a planned event with reactive scaling (core/backends/sim/rehearsal.py), and
scheduled-only targets in the auto-scaling traps (core/planning/autoscaling.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from capcon.core.backends.sim.rehearsal import rehearse
from capcon.core.backends.sim.tables import SimSettings
from capcon.core.config.prices import load_price_book
from capcon.core.model import Table, TableClass, Throughput
from capcon.core.planning.autoscaling import find_traps, scheduled_only
from capcon.core.planning.events import ReactiveEstimate
from capcon.core.ports import (
    TABLE_READ,
    TABLE_WRITE,
    WRITE_UTILIZATION,
    ScalableTarget,
    ScalingPolicy,
    ScheduledAction,
)

PRICES = load_price_book("us-east-1")
BURST = SimSettings().burst_seconds


# --- rehearse ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dimension", ["write", "read"])
def test_a_fixed_target_throttles_and_costs_exactly_what_arithmetic_says(dimension: Any) -> None:
    """min = max = the table's capacity: no policy can move it, so the measures are known in
    closed form: the peak above capacity, less one full burst bucket, is throttled; the cost
    is the capacity for the whole window."""
    cap, base, peak, lead, dur, after = 200, 50.0, 500.0, 600, 1800, 1200
    got = rehearse(
        cap, base, peak, lead, dur, "aas", 70, dimension, PRICES,
        min_capacity=cap, max_capacity=cap, after_s=after,
    )  # fmt: skip
    throttled = (peak - cap) * dur - cap * BURST
    requested = base * (lead + after) + peak * dur
    assert got.throttled_units == pytest.approx(throttled)
    assert got.served == pytest.approx(1 - throttled / requested)
    hourly = PRICES.rcu_hour if dimension == "read" else PRICES.wcu_hour
    assert got.usd == pytest.approx(cap * (lead + dur + after) / 3600 * hourly)
    assert (got.scale_ups, got.scale_downs, got.peak_capacity) == (0, 0, cap)
    assert got.policy == "aas" and got.target == 70.0


@pytest.mark.parametrize("dimension", ["write", "read"])
def test_standard_ia_is_priced_at_its_own_rate(dimension: str) -> None:
    args: tuple[Any, ...] = (100, 10.0, 10.0, 60, 60, "aas", 70, dimension, PRICES)
    ia_class = TableClass.STANDARD_INFREQUENT_ACCESS
    ia = rehearse(*args, min_capacity=100, max_capacity=100, table_class=ia_class)
    std = rehearse(*args, min_capacity=100, max_capacity=100)
    if dimension == "read":
        assert ia.usd / std.usd == pytest.approx(PRICES.ia_rcu_hour / PRICES.rcu_hour)
    else:
        assert ia.usd / std.usd == pytest.approx(PRICES.ia_wcu_hour / PRICES.wcu_hour)


def test_a_reactive_policy_is_late_on_a_top_heavy_jump_and_the_oracle_is_not() -> None:
    common: dict[str, Any] = {"prices": PRICES, "after_s": 3600}
    aas = rehearse(200, 100.0, 2000.0, 900, 3600, "aas", 70, **common)
    oracle = rehearse(200, 100.0, 2000.0, 900, 3600, "oracle", 70, **common)
    assert isinstance(aas, ReactiveEstimate)
    assert aas.served < 0.99 and aas.throttled_units > 0
    assert aas.scale_ups >= 1 and aas.peak_capacity >= 2000 / 0.7
    assert oracle.served == 1.0 and oracle.throttled_units == 0
    # both come back down after the event (the tail is an hour at base)
    assert aas.scale_downs >= 1 and oracle.scale_downs >= 1
    assert "aas at 70%" in aas.note and "2,000/s" in aas.note


def test_the_same_inputs_give_the_same_estimate_and_sampling_does_not_change_it() -> None:
    """An event on whole minutes is sampled coarsely; one a second off, every second: the
    served share and the cost must agree (the demand is the same step function)."""
    a = rehearse(300, 100.0, 900.0, 600, 1800, "h1", 60, prices=PRICES)
    assert a == rehearse(300, 100.0, 900.0, 600, 1800, "h1", 60, prices=PRICES)
    fine = rehearse(300, 100.0, 900.0, 600, 1801, "h1", 60, prices=PRICES)
    assert fine.served == pytest.approx(a.served, abs=0.002)
    assert fine.usd == pytest.approx(a.usd, rel=0.01)


def test_the_window_starts_at_the_moment_given() -> None:
    """``at`` near UTC midnight: the decreases after the event fall on the next day, and
    the estimate is still made (nothing about the default start is assumed)."""
    late = rehearse(
        200, 50.0, 800.0, 300, 1800, "aas", 70, prices=PRICES,
        at=datetime(2026, 12, 4, 23, 30, 17, tzinfo=UTC),
    )  # fmt: skip
    assert late.scale_ups >= 1 and 0 < late.served < 1


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"table_capacity": 0}, "table_capacity must be a whole number ≥ 1"),
        ({"table_capacity": True}, "table_capacity must be a whole number"),
        ({"table_capacity": 50_000}, "above the per-table quota"),
        ({"base_demand": -1.0}, "base_demand must be a finite number"),
        ({"peak_demand": float("nan")}, "peak_demand must be a finite number"),
        ({"start_offset_s": -5}, "start_offset_s must be a whole number ≥ 0"),
        ({"duration_s": 0}, "duration_s must be a whole number ≥ 1"),
        ({"duration_s": 60 * 86400}, "at most 40 days"),
        ({"policy": "nope"}, "unknown table policy 'nope'"),
        ({"policy": "kinesis"}, "unknown table policy 'kinesis'"),
        ({"target": 95}, "outside 20–90%"),
        ({"dimension": "shards"}, "dimension must be 'read' or 'write'"),
        ({"min_capacity": 10, "max_capacity": 5}, "min_capacity 10 is above max_capacity 5"),
        ({"max_capacity": 90_000}, "max_capacity 90,000 is above the per-table quota"),
        ({"after_s": 1.5}, "after_s must be a whole number"),
        ({"at": datetime(2026, 12, 4)}, "at must be a time with a time zone"),
        ({"table_class": "IA"}, "table_class must be one of STANDARD"),
    ],
)
def test_bad_inputs_are_named(kwargs: dict[str, Any], words: str) -> None:
    args: dict[str, Any] = {
        "table_capacity": 100, "base_demand": 10.0, "peak_demand": 100.0,
        "start_offset_s": 60, "duration_s": 600, "policy": "aas", "target": 70.0,
        "prices": PRICES,
    }  # fmt: skip
    with pytest.raises(ValueError, match=words):
        rehearse(**(args | kwargs))


# --- scheduled-only targets -------------------------------------------------------------------

TABLE = Table("t", provisioned=Throughput(50, 50))


def target(dim: str = TABLE_WRITE) -> ScalableTarget:
    return ScalableTarget("table/t", dim, 50, 50)


def action(name: str, dim: str = TABLE_WRITE) -> ScheduledAction:
    return ScheduledAction(name, "table/t", dim, "at(2026-12-05T18:00:00)", 500, 500)


NO_POLICY = "writes: scalable target registered but no policy — nothing scales"


def test_a_target_with_scheduled_actions_and_no_policy_is_scheduled_only_not_the_trap() -> None:
    actions = (
        action("capcon-event-1a2b3c4d-raise-write"),
        action("capcon-event-1a2b3c4d-restore-write"),
    )
    assert find_traps(TABLE, None, (target(),), (), actions) == []
    assert scheduled_only((target(),), (), actions) == ["writes: scheduled-only (event 1a2b3c4d)"]
    # without the actions it is the trap, as before
    assert find_traps(TABLE, None, (target(),), ()) == [NO_POLICY]
    assert scheduled_only((target(),), (), ()) == []


def test_actions_on_the_other_dimension_do_not_hide_the_trap() -> None:
    actions = (action("capcon-event-1a2b3c4d-raise-read", TABLE_READ),)
    assert find_traps(TABLE, None, (target(),), (), actions) == [NO_POLICY]
    assert scheduled_only((target(),), (), actions) == []


def test_other_scheduled_actions_are_counted_and_events_listed_once_each() -> None:
    actions = (
        action("nightly-up"),
        action("capcon-event-0000beef-raise-write"),
        action("capcon-event-0000beef-restore-write"),
        action("capcon-event-12345678-raise-write"),
        action("capcon-event-12345678-lower-write"),  # not capcon's form: another action
    )
    assert scheduled_only((target(),), (), actions) == [
        "writes: scheduled-only (event 0000beef, 12345678; 2 scheduled actions)"
    ]


def test_a_target_with_a_policy_is_not_scheduled_only() -> None:
    policy = ScalingPolicy("p", "table/t", TABLE_WRITE, target_value=70.0,
                           predefined_metric=WRITE_UTILIZATION)  # fmt: skip
    actions = (action("capcon-event-1a2b3c4d-raise-write"),)
    assert scheduled_only((target(),), (policy,), actions) == []
    assert find_traps(TABLE, None, (target(),), (policy,), actions) == [
        "auto scaling covers only writes: reads stay fixed"
    ]
