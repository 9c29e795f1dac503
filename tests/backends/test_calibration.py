"""Calibration against field note B: AAS target tracking on the bell and top-heavy shapes
(docs/field-notes.md#what-they-found).

The game studio ran each traffic shape on a table starting at 50 WCU, with AAS at target
utilisation 30 … 80 %, and measured the success rate (consumed / requested).  Their control
(the 2017 AAS, five breaches to scale out: ``aas-legacy``) had no throttling at 30–50 % on
the bell, fell apart at 70–80 %, and throttled at every level on top heavy; today's AAS
(two breaches: ``aas``) should do at least as well.  The simulated account must reproduce
those shapes, or its advice about targets is worthless.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest

from capcon.core.backends.sim.account import SimAccount, TableSpec
from capcon.core.backends.sim.traffic import Bell, Pattern, Steady, TopHeavy
from capcon.core.model import Throughput
from capcon.core.ports import (
    TABLE_WRITE,
    WRITE_UTILIZATION,
    MetricQuery,
    ScalableTarget,
    ScalingPolicy,
)

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
RUN_S = int(2.5 * 3600)
TARGETS = (30, 40, 50, 60, 70, 80)
SHAPES: dict[str, Pattern] = {"bell": Bell(), "top-heavy": TopHeavy()}


@dataclass(frozen=True)
class Result:
    consumed: float
    throttled: float
    minutes: int
    final_capacity: int

    @property
    def success_rate(self) -> float:
        return self.consumed / (self.consumed + self.throttled)


@cache
def run(shape: str, target: int, policy: str) -> Result:
    """Field note B's experiment (docs/field-notes.md#b-auto-scaling-too-slow): 50 WCU, AAS
    on writes (5 … 40,000), 2.5 h of traffic."""
    acc = SimAccount(T0, aas_policy=policy)
    acc.add_table(TableSpec("game", Throughput(5, 50), reads=Steady(1), writes=SHAPES[shape]))
    acc.register_scalable_target(ScalableTarget("table/game", TABLE_WRITE, 5, 40_000))
    acc.put_scaling_policy(
        ScalingPolicy(
            "game-write",
            "table/game",
            TABLE_WRITE,
            target_value=target,
            predefined_metric=WRITE_UTILIZATION,
        )
    )
    # run the 2.5 h, then wait for the last minutes to be published
    acc.advance(RUN_S + acc.settings.metric_delay_seconds)
    dims = (("TableName", "game"),)
    consumed, throttled = acc.get_metric_data(
        [
            MetricQuery("c", "AWS/DynamoDB", "ConsumedWriteCapacityUnits", dims),
            MetricQuery("t", "AWS/DynamoDB", "WriteThrottleEvents", dims),
        ],
        T0,
        T0 + timedelta(seconds=RUN_S),
    )
    # throttles are published as AWS publishes them: only in minutes that throttled
    assert set(throttled.timestamps) <= set(consumed.timestamps)
    assert all(v > 0 for v in throttled.values)
    table = acc.describe_table("game")
    assert table.provisioned is not None
    return Result(
        sum(consumed.values), sum(throttled.values), len(consumed.values), table.provisioned.write
    )


def requested_units(shape: str) -> float:
    """Writes asked for over the run, from the shape itself (1 write = 1 WCU)."""
    return sum(SHAPES[shape].rates(0, RUN_S))


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_write_asked_for_is_either_consumed_or_throttled(shape: str) -> None:
    result = run(shape, 70, "aas-legacy")
    assert result.minutes == RUN_S // 60
    assert result.consumed + result.throttled == pytest.approx(requested_units(shape))


@pytest.mark.parametrize("target", [30, 40, 50])
def test_bell_legacy_aas_does_not_throttle_at_low_targets(target: int) -> None:
    result = run("bell", target, "aas-legacy")
    assert result.throttled == 0
    assert result.success_rate == 1.0


@pytest.mark.parametrize("target", [70, 80])
def test_bell_legacy_aas_throttles_at_high_targets(target: int) -> None:
    assert run("bell", target, "aas-legacy").throttled > 0


def test_bell_legacy_aas_falls_apart_as_the_target_rises() -> None:
    rates = [run("bell", t, "aas-legacy").success_rate for t in TARGETS]
    assert rates == sorted(rates, reverse=True)
    assert rates[-1] < 0.9  # 80 %: demand outruns consumed capacity


@pytest.mark.parametrize("target", [30, 40, 50, 60, 70])
def test_bell_two_breach_aas_does_not_throttle_up_to_70(target: int) -> None:
    result = run("bell", target, "aas")
    assert result.throttled == 0
    assert result.success_rate == 1.0


def test_two_breach_aas_throttles_less_than_legacy_at_80() -> None:
    legacy, today = run("bell", 80, "aas-legacy"), run("bell", 80, "aas")
    assert today.throttled < legacy.throttled
    assert today.success_rate > legacy.success_rate


@pytest.mark.parametrize("target", TARGETS)
def test_top_heavy_legacy_aas_throttles_at_every_target(target: int) -> None:
    result = run("top-heavy", target, "aas-legacy")
    assert result.throttled > 0
    assert result.success_rate < 1.0


@pytest.mark.parametrize("target", TARGETS)
def test_two_breach_aas_is_never_worse_on_top_heavy(target: int) -> None:
    assert (
        run("top-heavy", target, "aas").throttled
        <= run("top-heavy", target, "aas-legacy").throttled
    )


@pytest.mark.parametrize("policy", ["aas", "aas-legacy"])
@pytest.mark.parametrize("target", TARGETS)
def test_capacity_settles_at_base_load_over_target_after_the_bell(policy: str, target: int) -> None:
    # 75 min of steady 25 writes/s after the bell: AAS scales in to ceil(25 / target).
    expected = math.ceil(25 / (target / 100) - 1e-9)
    assert run("bell", target, policy).final_capacity == expected
