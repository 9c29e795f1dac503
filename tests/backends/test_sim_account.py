"""Behaviour tests of the simulated account, driven only through its ports.

Every expected number here is computed by hand from the rules in docs/aws-rules.md and the
documented model of ``capcon.core.backends.sim`` (burst bucket of 300 s, hot key limited to its
partition's share × adaptive boost, ``UPDATING`` for ``update_seconds``, …), never read back
from the simulator.  Time only moves through ``advance``/``tick``/``step``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest

from capcon.core.backends.sim.account import IndexSpec, SimAccount, TableSpec
from capcon.core.backends.sim.clock import SpeedError
from capcon.core.backends.sim.scenarios import ScenarioError, build_scenario
from capcon.core.backends.sim.tables import SimSettings
from capcon.core.backends.sim.traffic import KeyDistribution, Spike, Steady, StreamLoad
from capcon.core.errors import (
    LimitExceeded,
    NotFound,
    ResourceInUse,
    ValidationFailed,
)
from capcon.core.model import HASH_KEY_MAX, Stream, StreamMode, Throughput
from capcon.core.ports import (
    SPARSE_METRICS,
    TABLE_READ,
    TABLE_WRITE,
    WRITE_UTILIZATION,
    MetricQuery,
    ScalableTarget,
    ScalingPolicy,
    SimulationControls,
    TableChange,
)
from capcon.core.rules import Code

#: A Monday, 10:00 UTC: the first hours of every test stay inside one UTC day.
T0 = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
MIN = 60

Dims = tuple[tuple[str, str], ...]


def account(*, aas_policy: str = "aas", **settings: Any) -> SimAccount:
    """A fresh account; metrics visible at once unless ``metric_delay_seconds`` is given."""
    settings.setdefault("metric_delay_seconds", 0)
    return SimAccount(T0, settings=SimSettings(**settings), aas_policy=aas_policy)


def table_dims(name: str, index: str | None = None) -> Dims:
    if index is None:
        return (("TableName", name),)
    return (("TableName", name), ("GlobalSecondaryIndexName", index))


def series(
    acc: SimAccount,
    metric: str,
    dims: Dims,
    *,
    namespace: str = "AWS/DynamoDB",
    stat: Any = "Sum",
    period: int = 60,
    start: datetime | None = None,
) -> tuple[list[datetime], list[float]]:
    (answer,) = acc.get_metric_data(
        [MetricQuery("q", namespace, metric, dims, stat, period)],
        T0 if start is None else start,
        acc.now(),
    )
    return list(answer.timestamps), list(answer.values)


def per_minute(acc: SimAccount, metric: str, dims: Dims, **kw: Any) -> list[float]:
    stamps, values = series(acc, metric, dims, **kw)
    if metric in SPARSE_METRICS:
        # published as AWS does: only minutes with throttling, each above zero; a missing
        # minute up to the newest published one is a zero
        assert all(v > 0 for v in values)
        published = acc.store.published_until(acc.now())
        n = int((published - T0) // timedelta(minutes=1))
        found = dict(zip(stamps, values, strict=True))
        return [found.get(T0 + timedelta(minutes=i), 0.0) for i in range(n)]
    # every minute since the start is there, in order, with no gap
    assert stamps == [T0 + timedelta(minutes=i) for i in range(len(stamps))]
    return values


def writes_of(acc: SimAccount, name: str, index: str | None = None) -> tuple[list[float], ...]:
    dims = table_dims(name, index)
    return (
        per_minute(acc, "ConsumedWriteCapacityUnits", dims),
        per_minute(acc, "WriteThrottleEvents", dims),
    )


def square(level: float, at_s: float, duration_s: float) -> Spike:
    """``level`` extra units/s during ``[at_s, at_s + duration_s)``, nothing otherwise."""
    return Spike(base=0, peak=level, at_s=at_s, duration_s=duration_s, ramp_s=0)


# ============================================================================================
# 1. Throttling and burst arithmetic
# ============================================================================================


def test_burst_bucket_serves_twice_the_capacity_for_300_s_then_throttles() -> None:
    # 100 WCU, full bucket of 300 s × 100 = 30,000 units, demand 200/s: the bucket drains
    # 100/s, so 0 s … 299 s are served in full and from 300 s on 100/s is throttled.
    acc = account()
    acc.add_table(TableSpec("t", Throughput(5, 100), reads=Steady(0), writes=Steady(200)))
    acc.advance(7 * MIN)
    consumed, throttled = writes_of(acc, "t")
    assert consumed == [12_000.0] * 5 + [6_000.0] * 2
    assert throttled == [0.0] * 5 + [6_000.0] * 2


def test_burst_bucket_running_dry_mid_minute() -> None:
    # Demand 250/s on 100 WCU drains the 30,000-unit bucket at 150/s: dry at 200 s, inside
    # minute 3 (180 s … 239 s): 20 s at 250/s + 40 s at 100/s, 40 s × 150/s throttled.
    acc = account()
    acc.add_table(TableSpec("t", Throughput(5, 100), reads=Steady(0), writes=Steady(250)))
    acc.advance(5 * MIN)
    consumed, throttled = writes_of(acc, "t")
    assert consumed == [15_000.0] * 3 + [20 * 250 + 40 * 100.0] + [6_000.0]
    assert throttled == [0.0] * 3 + [40 * 150.0] + [9_000.0]


@pytest.mark.parametrize(
    ("refill_s", "consumed", "throttled"),
    [
        # 300 s at 50/s refills half the bucket (15,000): the second burst lasts 150 s
        # (600 s … 749 s); minute 12 = 30 s at 200/s + 30 s at 100/s.
        (
            300,
            [12_000.0] * 5 + [3_000.0] * 5 + [12_000.0] * 2 + [9_000.0] + [6_000.0] * 7
            + [3_000.0],
            [0.0] * 12 + [3_000.0] + [6_000.0] * 7 + [0.0],
        ),
        # 600 s at 50/s refills the bucket exactly: another 300 s of double demand.
        (
            600,
            [12_000.0] * 5 + [3_000.0] * 10 + [12_000.0] * 5 + [6_000.0] * 5 + [3_000.0],
            [0.0] * 20 + [6_000.0] * 5 + [0.0],
        ),
        # 1,200 s at 50/s would bank 60,000 units: the bucket is capped at 30,000 (300 s).
        (
            1_200,
            [12_000.0] * 5 + [3_000.0] * 20 + [12_000.0] * 5 + [6_000.0] * 5 + [3_000.0],
            [0.0] * 30 + [6_000.0] * 5 + [0.0],
        ),
    ],
)  # fmt: skip
def test_demand_below_capacity_refills_the_bucket_up_to_its_cap(
    refill_s: int, consumed: list[float], throttled: list[float]
) -> None:
    # 200/s for 300 s (bucket empty), 50/s for refill_s (bucket refills 50/s), 200/s for 600 s.
    second = 300 + refill_s
    writes = Steady(50) + square(150, 0, 300) + square(150, second, 600)
    acc = account()
    acc.add_table(TableSpec("t", Throughput(5, 100), reads=Steady(0), writes=writes))
    acc.advance(second + 600 + MIN)
    assert writes_of(acc, "t") == (consumed, throttled)


def test_reads_have_their_own_bucket() -> None:
    # Reads at 10/s on 5 RCU: bucket 1,500 drains 5/s, dry after 300 s; writes fit.
    acc = account()
    acc.add_table(TableSpec("t", Throughput(5, 100), reads=Steady(10), writes=Steady(50)))
    acc.advance(6 * MIN)
    dims = table_dims("t")
    assert per_minute(acc, "ConsumedReadCapacityUnits", dims) == [600.0] * 5 + [300.0]
    assert per_minute(acc, "ReadThrottleEvents", dims) == [0.0] * 5 + [300.0]
    assert writes_of(acc, "t") == ([3_000.0] * 6, [0.0] * 6)


def test_on_demand_serves_up_to_the_initial_warm_throughput() -> None:
    # A new on-demand table serves 4,000 WCU at once: 3,900/s fit; 5,000/s are cut to
    # 4,000/s for the first minute, then 2 × that peak (8,000/s) covers them.
    small, big = account(), account()
    small.add_table(TableSpec("t", None, reads=Steady(0), writes=Steady(3_900)))
    big.add_table(TableSpec("t", None, reads=Steady(0), writes=Steady(5_000)))
    small.advance(3 * MIN)
    big.advance(3 * MIN)
    assert writes_of(small, "t") == ([234_000.0] * 3, [0.0] * 3)
    assert writes_of(big, "t") == (
        [240_000.0, 300_000.0, 300_000.0],
        [60_000.0, 0.0, 0.0],
    )


@pytest.mark.parametrize(
    ("jump_minute", "served_per_s"),
    [
        (39, 5_900.0),  # minute 9's peak of 3,000/s is one of the last 30: 2 × 3,000 = 6,000
        (40, 4_000.0),  # it has aged out: back to the 4,000/s warm floor
    ],
)
def test_on_demand_serves_twice_the_peak_of_the_last_30_minutes(
    jump_minute: int, served_per_s: float
) -> None:
    writes = Steady(1) + square(2_999, 0, 600) + square(5_899, jump_minute * MIN, MIN)
    acc = account()
    acc.add_table(TableSpec("od", None, reads=Steady(0), writes=writes))
    acc.advance((jump_minute + 1) * MIN)
    consumed, throttled = writes_of(acc, "od")
    assert consumed[:10] == [180_000.0] * 10
    assert throttled[:jump_minute] == [0.0] * jump_minute
    assert consumed[jump_minute] == served_per_s * 60
    assert throttled[jump_minute] == (5_900.0 - served_per_s) * 60


def test_on_demand_throttling_does_not_depend_on_how_time_is_advanced() -> None:
    writes = Steady(1_000) + square(8_000, 10 * MIN, 10 * MIN)
    whole, chunked = account(), account()
    for acc in (whole, chunked):
        acc.add_table(TableSpec("od", None, reads=Steady(0), writes=writes))
        acc.advance(10 * MIN)
    whole.advance(3 * MIN)
    for _ in range(3 * MIN):
        chunked.advance(1)  # what the live console does at 1× speed
    # By the documented rule (2 × the 1,000/s peak, at least 4,000/s) minute 10 serves
    # 4,000/s and throttles 5,000/s, however the minute was stepped.
    assert writes_of(whole, "od")[1][10] == 300_000.0
    assert writes_of(chunked, "od") == writes_of(whole, "od")


# ============================================================================================
# 2. Hot keys on a diluted table
# ============================================================================================


@pytest.mark.parametrize("boost", [1.5, 2.0])
def test_diluted_table_throttles_a_hot_key_below_table_capacity(boost: float) -> None:
    # 400 WCU over 40 partitions (left from an earlier scale-up): 10 WCU each; the hot key
    # gets 0.2 × 250 = 50 writes/s but its partition serves min(1,000, 10 × boost).
    acc = account(adaptive_boost=boost)
    acc.add_table(
        TableSpec(
            "diluted",
            Throughput(5, 400),
            reads=Steady(0),
            writes=Steady(250),
            hot_share=0.2,
            previous_partitions=40,
        )
    )
    acc.advance(5 * MIN)
    hot_limit = min(1_000, 400 / 40 * boost)
    throttled_per_s = 250 * 0.2 - hot_limit  # 35/s at 1.5×, 30/s at 2×
    consumed, throttled = writes_of(acc, "diluted")
    assert throttled == pytest.approx([throttled_per_s * 60] * 5)
    assert consumed == pytest.approx([(250 - throttled_per_s) * 60] * 5)
    assert max(consumed) < 400 * 60  # the table as a whole is under its capacity
    # the partition estimate (never below the earlier 40) shows in WarmThroughput
    warm = acc.describe_table("diluted").warm
    assert warm is not None and warm.write_units_per_second == 40 * 1_000


def test_same_hot_key_on_an_undiluted_table_does_not_throttle() -> None:
    # One partition holds all 400 WCU: the hot key may use min(1,000, 400 × 1.5) = 600/s.
    acc = account()
    acc.add_table(
        TableSpec(
            "fresh",
            Throughput(5, 400),
            reads=Steady(0),
            writes=Steady(250),
            hot_share=0.2,
            previous_partitions=None,
        )
    )
    acc.advance(5 * MIN)
    assert writes_of(acc, "fresh") == ([15_000.0] * 5, [0.0] * 5)


# ============================================================================================
# 3. The decrease budget
# ============================================================================================


def _decrease_four_times(acc: SimAccount, name: str, index: str | None = None) -> datetime:
    """Four decreases one minute apart (each after the previous left UPDATING); returns the
    time of the last one."""
    last = acc.now()
    for units in (90, 80, 70, 60):
        last = acc.now()
        change = (
            TableChange(table=Throughput(100, units))
            if index is None
            else TableChange(indexes=((index, Throughput(100, units)),))
        )
        acc.update_table(name, change)
        acc.advance(MIN)
    return last


def _table(acc: SimAccount, name: str = "t", *, gsi: bool = False) -> None:
    indexes = [IndexSpec("g", Throughput(100, 100), Steady(0))] if gsi else []
    acc.add_table(
        TableSpec("t", Throughput(100, 100), reads=Steady(1), writes=Steady(1), indexes=indexes)
    )


def test_fifth_decrease_in_the_first_hour_is_refused_until_an_hour_after_the_fourth() -> None:
    acc = account()
    _table(acc)
    last = _decrease_four_times(acc, "t")
    before = acc.describe_table("t")
    assert before.provisioned == Throughput(100, 60)
    assert before.history.decreases_today == 4
    assert before.history.last_decrease == last == T0 + timedelta(minutes=3)

    with pytest.raises(LimitExceeded) as refused:
        acc.update_table("t", TableChange(Throughput(100, 50)))
    allowed = last + timedelta(hours=1)
    (violation,) = refused.value.violations
    assert violation.code is Code.DECREASE_BUDGET
    assert violation.allowed_at == allowed
    assert "2025-03-03 11:03 UTC" in str(refused.value)  # names the next allowed time
    assert refused.value.aws_code == "LimitExceededException"
    assert acc.describe_table("t") == before  # nothing changed

    acc.advance(int((allowed - acc.now()).total_seconds()) - 1)
    with pytest.raises(LimitExceeded):  # one second early: still refused
        acc.update_table("t", TableChange(Throughput(100, 50)))
    acc.advance(1)
    assert acc.now() == allowed
    assert acc.update_table("t", TableChange(Throughput(100, 50))).status == "UPDATING"
    acc.advance(MIN)
    after = acc.describe_table("t")
    assert after.provisioned == Throughput(100, 50)
    assert after.history.decreases_today == 5
    assert after.history.last_decrease == allowed


def test_update_while_updating_is_refused_and_changes_nothing() -> None:
    acc = account(update_seconds=120)
    _table(acc)
    acc.update_table("t", TableChange(Throughput(100, 200)))
    with pytest.raises(ResourceInUse) as busy:
        acc.update_table("t", TableChange(Throughput(100, 300)))
    assert Code.RESOURCE_BUSY in {v.code for v in busy.value.violations}
    assert "UPDATING" in str(busy.value)
    acc.advance(120)
    table = acc.describe_table("t")
    assert table.status == "ACTIVE"
    assert table.provisioned == Throughput(100, 200)  # the first request, not the second


def test_gsi_decrease_budget_is_independent_of_the_table() -> None:
    acc = account()
    _table(acc, gsi=True)
    _decrease_four_times(acc, "t")
    with pytest.raises(LimitExceeded):
        acc.update_table("t", TableChange(Throughput(100, 50)))
    # the GSI still has all of its budget
    acc.update_table("t", TableChange(indexes=(("g", Throughput(100, 50)),)))
    acc.advance(MIN)
    table = acc.describe_table("t")
    gsi = table.index("g")
    assert gsi.provisioned == Throughput(100, 50)
    assert gsi.history.decreases_today == 1
    assert table.history.decreases_today == 4


def test_increase_with_a_refused_gsi_decrease_is_refused_whole() -> None:
    acc = account()
    _table(acc, gsi=True)
    _decrease_four_times(acc, "t", "g")
    before = acc.describe_table("t")
    assert before.index("g").history.decreases_today == 4
    with pytest.raises(LimitExceeded) as refused:
        acc.update_table(
            "t", TableChange(table=Throughput(100, 200), indexes=(("g", Throughput(100, 50)),))
        )
    codes = [v.code for v in refused.value.violations]
    assert Code.DECREASE_BUDGET in codes
    assert Code.WHOLE_REQUEST in codes
    after = acc.describe_table("t")
    assert after == before  # the table increase did not happen either
    assert after.status == "ACTIVE" and after.history.last_increase is None
    # alone, the increase is fine
    acc.update_table("t", TableChange(table=Throughput(100, 200)))
    acc.advance(MIN)
    assert acc.describe_table("t").provisioned == Throughput(100, 200)


def test_decrease_budget_resets_at_utc_midnight() -> None:
    # 23:30 … 23:33: four decreases; the fifth would wait until 00:33, but the UTC day
    # ends first: allowed at 00:00.
    start = datetime(2025, 3, 3, 23, 30, tzinfo=UTC)
    acc = SimAccount(start, settings=SimSettings(metric_delay_seconds=0))
    _table(acc)
    _decrease_four_times(acc, "t")
    with pytest.raises(LimitExceeded) as refused:
        acc.update_table("t", TableChange(Throughput(100, 50)))
    midnight = datetime(2025, 3, 4, tzinfo=UTC)
    assert refused.value.violations[0].allowed_at == midnight
    acc.advance(int((midnight - acc.now()).total_seconds()))
    acc.update_table("t", TableChange(Throughput(100, 50)))
    acc.advance(MIN)
    history = acc.describe_table("t").history
    assert history.decreases_today == 1
    assert history.last_decrease == midnight


def test_number_of_decreases_today_reads_zero_after_utc_midnight() -> None:
    start = datetime(2025, 3, 3, 23, 30, tzinfo=UTC)
    acc = SimAccount(start, settings=SimSettings(metric_delay_seconds=0))
    _table(acc)
    _decrease_four_times(acc, "t")
    acc.advance(30 * MIN - 4 * MIN)
    assert acc.now() == datetime(2025, 3, 4, tzinfo=UTC)
    assert acc.describe_table("t").history.decreases_today == 0


# ============================================================================================
# 4. UPDATING delays capacity; partitions never shrink
# ============================================================================================


def test_new_capacity_takes_effect_only_after_update_seconds() -> None:
    # 100 WCU, no burst, demand 200/s; raised to 300 WCU at 0 s, effective at 90 s.
    acc = account(update_seconds=90, burst_seconds=0)
    acc.add_table(TableSpec("t", Throughput(5, 100), reads=Steady(0), writes=Steady(200)))
    returned = acc.update_table("t", TableChange(Throughput(5, 300)))
    assert returned.status == "UPDATING"
    assert returned.provisioned == Throughput(5, 100)
    acc.advance(89)
    table = acc.describe_table("t")
    assert (table.status, table.provisioned) == ("UPDATING", Throughput(5, 100))
    acc.advance(1)
    table = acc.describe_table("t")
    assert (table.status, table.provisioned) == ("ACTIVE", Throughput(5, 300))
    assert table.history.last_increase == T0
    assert table.history.decreases_today == 0
    acc.advance(4 * MIN - 90)
    consumed, throttled = writes_of(acc, "t")
    # minute 1: 30 s at 100/s (30 × 100 throttled) then 30 s at 200/s
    assert consumed == [6_000.0, 30 * 100 + 30 * 200.0, 12_000.0, 12_000.0]
    assert throttled == [6_000.0, 3_000.0, 0.0, 0.0]

    decided = acc.now()
    acc.update_table("t", TableChange(Throughput(5, 250)))
    assert acc.describe_table("t").history.decreases_today == 1
    acc.advance(90)
    history = acc.describe_table("t").history
    assert history.decreases_today == 1
    assert history.last_decrease == decided
    assert history.last_increase == T0


def test_partitions_never_decrease_after_a_big_temporary_increase() -> None:
    # 5 RCU / 100 WCU: one partition; the hot key (half of 80 writes/s) fits 1.5 × 100.
    # Raised to 1,500 RCU / 4,500 WCU: 0.5 + 4.5 = 5 partitions.  Back at 5 / 100 the five
    # partitions stay: each gets 20 WCU, the hot key 1.5 × 20 = 30/s, 10/s throttled.
    acc = account(burst_seconds=0)
    acc.add_table(
        TableSpec("t", Throughput(5, 100), reads=Steady(0), writes=Steady(80), hot_share=0.5)
    )
    warm = acc.describe_table("t").warm
    assert warm is not None
    assert (warm.read_units_per_second, warm.write_units_per_second) == (3_000, 1_000)
    acc.advance(MIN)
    acc.update_table("t", TableChange(Throughput(1_500, 4_500)))
    acc.advance(MIN)
    big = acc.describe_table("t").warm
    assert big is not None
    assert (big.read_units_per_second, big.write_units_per_second) == (15_000, 5_000)
    acc.update_table("t", TableChange(Throughput(5, 100)))
    acc.advance(2 * MIN)
    acc.advance(3 * 3600)
    table = acc.describe_table("t")
    assert table.provisioned == Throughput(5, 100)
    assert table.warm == big
    consumed, throttled = writes_of(acc, "t")
    assert throttled[:3] == [0.0] * 3
    assert throttled[3:] == pytest.approx([600.0] * (len(throttled) - 3))
    assert consumed[3:] == pytest.approx([70 * 60.0] * (len(consumed) - 3))


# ============================================================================================
# GSIs
# ============================================================================================


def test_a_throttled_gsi_throttles_the_table_writes() -> None:
    # Table 1,000 WCU, GSI 100 WCU, no burst, 200 writes/s all projected onto the GSI:
    # 100/s of them are rejected, for the table too.
    acc = account(burst_seconds=0)
    acc.add_table(
        TableSpec(
            "t",
            Throughput(5, 1_000),
            reads=Steady(0),
            writes=Steady(200),
            indexes=[IndexSpec("g", Throughput(5, 100), Steady(0))],
        )
    )
    acc.advance(2 * MIN)
    assert writes_of(acc, "t", "g") == ([6_000.0] * 2, [6_000.0] * 2)
    assert writes_of(acc, "t") == ([6_000.0] * 2, [6_000.0] * 2)


def test_writes_the_table_throttles_never_reach_its_gsi() -> None:
    # Table 100 WCU, GSI 1,000 WCU, no burst, 200 writes/s: only the 100/s the table
    # accepts are written to the GSI.
    acc = account(burst_seconds=0)
    acc.add_table(
        TableSpec(
            "t",
            Throughput(5, 100),
            reads=Steady(0),
            writes=Steady(200),
            indexes=[IndexSpec("g", Throughput(5, 1_000), Steady(0))],
        )
    )
    acc.advance(2 * MIN)
    assert writes_of(acc, "t") == ([6_000.0] * 2, [6_000.0] * 2)
    assert writes_of(acc, "t", "g") == ([6_000.0] * 2, [0.0] * 2)


# ============================================================================================
# 5. Kinesis resharding
# ============================================================================================


def stream_account(**settings: Any) -> SimAccount:
    settings.setdefault("reshard_base_seconds", 30)
    settings.setdefault("reshard_seconds_per_step", 0)
    acc = account(**settings)
    acc.add_stream("s", shards=4, load=StreamLoad(Steady(100), record_bytes=500))
    return acc


def assert_covers_key_space(stream: Stream) -> None:
    ranges = [s.hash_range for s in stream.open_shards]
    assert ranges[0].start == 0
    assert ranges[-1].end == HASH_KEY_MAX
    for left, right in pairwise(ranges):
        assert left.end + 1 == right.start


@pytest.mark.parametrize("target", [9, 1])
def test_update_shard_count_outside_half_to_double_is_refused(target: int) -> None:
    acc = stream_account()
    before = acc.describe_stream("s")
    with pytest.raises(ValidationFailed) as refused:
        acc.update_shard_count("s", target)
    assert refused.value.violations[0].code is Code.SHARD_FACTOR
    assert "2…8" in str(refused.value)
    assert acc.describe_stream("s") == before


def test_doubling_shards_closes_the_parents_after_the_delay() -> None:
    acc = stream_account()
    parents = {s.shard_id for s in acc.describe_stream("s").shards}
    returned = acc.update_shard_count("s", 8)
    assert returned.status == "UPDATING"
    acc.advance(29)
    stream = acc.describe_stream("s")
    assert stream.status == "UPDATING" and stream.open_shard_count == 4
    acc.advance(1)
    stream = acc.describe_stream("s")
    assert stream.status == "ACTIVE"
    assert stream.open_shard_count == 8
    assert_covers_key_space(stream)
    closed = [s for s in stream.shards if not s.is_open]
    assert {s.shard_id for s in closed} == parents
    assert all(s.ending_sequence is not None for s in closed)
    children = stream.open_shards
    assert {s.parent_id for s in children} == parents
    for child in children:  # each child lies inside its parent's range
        parent = next(p for p in closed if p.shard_id == child.parent_id)
        assert parent.hash_range.start <= child.hash_range.start
        assert child.hash_range.end <= parent.hash_range.end


def test_closed_shards_disappear_after_the_retention_period() -> None:
    acc = stream_account()
    acc.update_shard_count("s", 8)
    acc.advance(30)  # parents closed at 30 s
    acc.advance(24 * 3600 - 1)
    assert len(acc.describe_stream("s").shards) == 12
    acc.advance(1)
    stream = acc.describe_stream("s")
    assert len(stream.shards) == 8
    assert all(s.is_open for s in stream.shards)


def test_eleventh_update_shard_count_in_24_h_is_refused_until_the_first_ages_out() -> None:
    acc = stream_account()
    for i in range(10):
        acc.update_shard_count("s", 8 if i % 2 == 0 else 4)
        acc.advance(MIN)
    assert acc.describe_stream("s").open_shard_count == 4
    with pytest.raises(LimitExceeded) as refused:
        acc.update_shard_count("s", 8)
    (violation,) = refused.value.violations
    assert violation.code is Code.RESHARD_LIMIT
    assert violation.allowed_at == T0 + timedelta(hours=24)
    assert "2025-03-04 10:00 UTC" in str(refused.value)
    assert acc.describe_stream("s").status == "ACTIVE"
    acc.advance(int((T0 + timedelta(hours=24) - acc.now()).total_seconds()) - 1)
    with pytest.raises(LimitExceeded):
        acc.update_shard_count("s", 8)
    acc.advance(1)
    assert acc.update_shard_count("s", 8).status == "UPDATING"


def test_split_shard_and_merge_adjacent_shards() -> None:
    acc = stream_account(split_merge_seconds=10)
    first, second, third, _ = acc.describe_stream("s").open_shards
    middle = (first.hash_range.start + first.hash_range.end + 1) // 2
    acc.split_shard("s", first.shard_id, middle)
    assert acc.describe_stream("s").status == "UPDATING"
    acc.advance(10)
    stream = acc.describe_stream("s")
    assert stream.status == "ACTIVE" and stream.open_shard_count == 5
    assert_covers_key_space(stream)
    left, right = stream.open_shards[:2]
    assert (left.hash_range.start, left.hash_range.end) == (0, middle - 1)
    assert (right.hash_range.start, right.hash_range.end) == (middle, first.hash_range.end)
    assert left.parent_id == right.parent_id == first.shard_id

    with pytest.raises(ValidationFailed, match="not adjacent"):
        acc.merge_shards("s", second.shard_id, acc.describe_stream("s").open_shards[-1].shard_id)
    acc.merge_shards("s", second.shard_id, third.shard_id)
    acc.advance(10)
    stream = acc.describe_stream("s")
    assert stream.open_shard_count == 4
    assert_covers_key_space(stream)
    merged = next(s for s in stream.open_shards if s.hash_range.start == second.hash_range.start)
    assert merged.hash_range.end == third.hash_range.end
    assert {merged.parent_id, merged.adjacent_parent_id} == {second.shard_id, third.shard_id}


def test_split_and_merge_are_checked() -> None:
    acc = stream_account()
    shard = acc.describe_stream("s").open_shards[1]
    with pytest.raises(ValidationFailed):
        acc.split_shard("s", shard.shard_id, shard.hash_range.start)  # not strictly inside
    with pytest.raises(ValidationFailed):
        acc.split_shard("s", shard.shard_id, shard.hash_range.end + 1)
    with pytest.raises(NotFound):
        acc.split_shard("s", "shardId-000000000099", 1)
    with pytest.raises(NotFound):
        acc.merge_shards("s", shard.shard_id, "shardId-000000000099")
    assert acc.describe_stream("s").status == "ACTIVE"


def test_resharding_is_refused_while_a_reshard_is_pending() -> None:
    acc = stream_account()
    acc.update_shard_count("s", 8)
    shards = acc.describe_stream("s").open_shards
    with pytest.raises(ResourceInUse) as busy:
        acc.update_shard_count("s", 6)
    assert Code.RESOURCE_BUSY in {v.code for v in busy.value.violations}
    with pytest.raises(ResourceInUse):
        acc.split_shard("s", shards[0].shard_id, shards[0].hash_range.start + 1)
    with pytest.raises(ResourceInUse):
        acc.merge_shards("s", shards[0].shard_id, shards[1].shard_id)
    acc.advance(30)
    assert acc.describe_stream("s").open_shard_count == 8  # only the first request ran


def test_on_demand_stream_refuses_update_shard_count() -> None:
    acc = account()
    acc.add_stream(
        "od", shards=4, mode=StreamMode.ON_DEMAND, load=StreamLoad(Steady(10), record_bytes=500)
    )
    with pytest.raises(ValidationFailed) as refused:
        acc.update_shard_count("od", 8)
    assert Code.NOT_PROVISIONED in {v.code for v in refused.value.violations}
    shard = acc.describe_stream("od").open_shards[0]
    with pytest.raises(ValidationFailed):
        acc.split_shard("od", shard.shard_id, shard.hash_range.start + 1)
    assert acc.describe_stream("od").open_shard_count == 4


def test_hot_key_throttles_its_shard_while_the_stream_is_under_its_limit() -> None:
    # 2,500 records/s of 500 B on 4 shards (4,000/s in all); 30% on one key.  The shard
    # holding the key gets 0.7 × ¼ + 0.3 = 47.5%: 1,187.5/s, 187.5/s over its 1,000/s.
    keys = KeyDistribution(hot_share=0.3)
    acc = account()
    acc.add_stream("hot", shards=4, load=StreamLoad(Steady(2_500), record_bytes=500, keys=keys))
    acc.advance(2 * MIN)
    stream = acc.describe_stream("hot")
    hot = [s for s in stream.open_shards if s.hash_range.start <= keys.hot_key][-1]
    assert hot.hash_range.start <= keys.hot_key <= hot.hash_range.end

    def shard_metric(metric: str, shard_id: str) -> list[float]:
        dims = (("StreamName", "hot"), ("ShardId", shard_id))
        return per_minute(acc, metric, dims, namespace="AWS/Kinesis")

    for shard in stream.open_shards:
        rejected = shard_metric("WriteProvisionedThroughputExceeded", shard.shard_id)
        incoming = shard_metric("IncomingRecords", shard.shard_id)
        if shard is hot:
            assert rejected == pytest.approx([187.5 * 60] * 2)
            assert incoming == pytest.approx([1_000.0 * 60] * 2)
        else:
            assert rejected == [0.0, 0.0]
            assert incoming == pytest.approx([2_500 * 0.7 / 4 * 60] * 2)
    whole = (("StreamName", "hot"),)
    total = per_minute(acc, "IncomingRecords", whole, namespace="AWS/Kinesis")
    assert total == pytest.approx([(2_500 - 187.5) * 60] * 2)
    assert max(total) < 4 * 1_000 * 60
    assert per_minute(
        acc, "WriteProvisionedThroughputExceeded", whole, namespace="AWS/Kinesis"
    ) == pytest.approx([187.5 * 60] * 2)

    # Splitting the hot shard just above the hot key leaves it on a narrow shard:
    # 0.7 × (1/3 − 1/4) + 0.3 ≈ 35.8% = 896/s, under the limit.
    acc.split_shard("hot", hot.shard_id, keys.hot_key + 1)
    acc.advance(MIN)
    acc.advance(MIN)
    rejected = per_minute(acc, "WriteProvisionedThroughputExceeded", whole, namespace="AWS/Kinesis")
    assert rejected[-1] == 0.0


def test_child_shard_sequence_numbers_follow_the_parents() -> None:
    acc = stream_account()
    acc.update_shard_count("s", 8)
    acc.advance(30)
    stream = acc.describe_stream("s")
    ends = {s.shard_id: int(s.ending_sequence) for s in stream.shards if s.ending_sequence}
    for child in stream.open_shards:
        assert child.parent_id is not None and child.starting_sequence is not None
        assert int(child.starting_sequence) > ends[child.parent_id]


def test_on_demand_stream_rejections_do_not_depend_on_how_time_is_advanced() -> None:
    load = StreamLoad(Steady(1_000) + square(8_000, 2 * MIN, 10 * MIN), record_bytes=1_000)
    whole, chunked = account(), account()
    for acc in (whole, chunked):
        acc.add_stream("od", shards=4, mode=StreamMode.ON_DEMAND, load=load)
        acc.advance(2 * MIN)
    whole.advance(2 * MIN)
    for _ in range(2 * MIN):
        chunked.advance(1)
    dims = (("StreamName", "od"),)
    metric = "WriteProvisionedThroughputExceeded"
    # minute 2: 4,000 records/s (the floor, 2 × 1,000 is less) of 9,000/s accepted
    assert per_minute(whole, metric, dims, namespace="AWS/Kinesis")[2] == 300_000.0
    assert per_minute(chunked, metric, dims, namespace="AWS/Kinesis") == per_minute(
        whole, metric, dims, namespace="AWS/Kinesis"
    )


# ============================================================================================
# 7. Application Auto Scaling
# ============================================================================================


def aas_account(capacity: int, writes: float, **settings: Any) -> SimAccount:
    acc = account(**settings)
    acc.add_table(TableSpec("t", Throughput(5, capacity), reads=Steady(1), writes=Steady(writes)))
    return acc


@pytest.mark.parametrize(
    ("current", "low", "high", "expected"), [(10, 50, 100, 50), (500, 5, 100, 100)]
)
def test_registering_a_target_moves_capacity_into_its_range(
    current: int, low: int, high: int, expected: int
) -> None:
    acc = aas_account(current, 1)
    acc.register_scalable_target(ScalableTarget("table/t", TABLE_WRITE, low, high))
    table = acc.describe_table("t")
    assert table.status == "UPDATING"
    acc.advance(MIN)
    assert acc.describe_table("t").provisioned == Throughput(5, expected)
    (activity,) = acc.describe_scaling_activities("table/t")
    assert activity.status == "Successful"
    assert f"{current} → {expected}" in activity.cause


def test_register_inside_the_range_changes_nothing() -> None:
    acc = aas_account(80, 1)
    acc.register_scalable_target(ScalableTarget("table/t", TABLE_WRITE, 50, 100))
    assert acc.describe_table("t").status == "ACTIVE"
    assert acc.describe_scaling_activities() == []
    with pytest.raises(ValidationFailed):
        acc.register_scalable_target(ScalableTarget("table/t", TABLE_WRITE, 100, 50))
    with pytest.raises(ValidationFailed):
        acc.register_scalable_target(ScalableTarget("table/t", "dynamodb:index:Nope", 1, 5))
    with pytest.raises(NotFound):
        acc.register_scalable_target(ScalableTarget("table/none", TABLE_WRITE, 1, 5))


def test_registered_target_without_a_policy_never_scales() -> None:
    acc = aas_account(50, 200, metric_delay_seconds=120)
    acc.register_scalable_target(ScalableTarget("table/t", TABLE_WRITE, 5, 1_000))
    acc.advance(60 * MIN)
    assert acc.describe_table("t").provisioned == Throughput(5, 50)
    assert acc.describe_scaling_activities() == []
    assert acc.describe_scaling_policies() == []
    assert len(acc.describe_scalable_targets()) == 1
    _, throttled = writes_of(acc, "t")
    assert sum(throttled) > 0


@pytest.mark.parametrize(("delay", "scales_at"), [(0, 120), (120, 240)])
def test_scale_out_after_two_breached_minutes_plus_the_metric_delay(
    delay: int, scales_at: int
) -> None:
    # 90 writes/s on 100 WCU is 90% > 70%: minutes 0 and 1 breach; AAS sees them once
    # published (delay after each minute) and scales to ceil(90 / 0.7) = 129.
    acc = aas_account(100, 90, metric_delay_seconds=delay)
    acc.register_scalable_target(ScalableTarget("table/t", TABLE_WRITE, 5, 1_000))
    acc.put_scaling_policy(
        ScalingPolicy(
            "p", "table/t", TABLE_WRITE, target_value=70, predefined_metric=WRITE_UTILIZATION
        )
    )
    acc.advance(scales_at - 1)
    assert acc.describe_scaling_activities() == []
    assert acc.describe_table("t").status == "ACTIVE"
    acc.advance(1)
    (activity,) = acc.describe_scaling_activities("table/t")
    assert activity.start == T0 + timedelta(seconds=scales_at)
    assert activity.status == "Successful"
    assert activity.description == "Setting write capacity units to 129."
    assert activity.cause.startswith("policy p (aas): AlarmHigh (2 × 1 min above 70%)")
    assert acc.describe_table("t").status == "UPDATING"
    acc.advance(MIN)
    assert acc.describe_table("t").provisioned == Throughput(5, 129)


def test_legacy_policy_needs_five_breaches() -> None:
    acc = account(aas_policy="aas-legacy", metric_delay_seconds=120)
    acc.add_table(TableSpec("t", Throughput(5, 100), reads=Steady(1), writes=Steady(90)))
    acc.register_scalable_target(ScalableTarget("table/t", TABLE_WRITE, 5, 1_000))
    acc.put_scaling_policy(ScalingPolicy("p", "table/t", TABLE_WRITE, target_value=70))
    acc.advance(7 * MIN - 1)  # minutes 0…4 are all published at 7 min
    assert acc.describe_scaling_activities() == []
    assert acc.describe_table("t").status == "ACTIVE"
    acc.advance(1)
    activity = acc.describe_scaling_activities()[0]
    assert activity.status == "Successful"
    assert "AlarmHigh (5 × 1 min above 70%)" in activity.cause


def test_scale_in_only_after_fifteen_minutes_twenty_points_below_target() -> None:
    # 100 writes/s on 1,000 WCU is 10% < 70 − 20: minutes 0…14 are published at 17 min.
    acc = aas_account(1_000, 100, metric_delay_seconds=120)
    acc.register_scalable_target(ScalableTarget("table/t", TABLE_WRITE, 5, 1_000))
    acc.put_scaling_policy(ScalingPolicy("p", "table/t", TABLE_WRITE, target_value=70))
    acc.advance(17 * MIN - 1)
    assert acc.describe_scaling_activities() == []
    acc.advance(1)
    (activity,) = acc.describe_scaling_activities()
    assert activity.start == T0 + timedelta(minutes=17)
    assert activity.description == "Setting write capacity units to 143."
    assert "AlarmLow (15 × 1 min below 50%)" in activity.cause
    acc.advance(MIN)
    assert acc.describe_table("t").provisioned == Throughput(5, 143)


def test_no_scale_in_when_usage_is_less_than_twenty_points_below_target() -> None:
    # 55% of 1,000 is below the 70% target but not below 50%: no scale-in, ever.
    acc = aas_account(1_000, 550, metric_delay_seconds=120)
    acc.register_scalable_target(ScalableTarget("table/t", TABLE_WRITE, 5, 1_000))
    acc.put_scaling_policy(ScalingPolicy("p", "table/t", TABLE_WRITE, target_value=70))
    acc.advance(60 * MIN)
    assert acc.describe_table("t").provisioned == Throughput(5, 1_000)
    assert acc.describe_scaling_activities() == []


@pytest.mark.parametrize(
    "policy",
    [
        ScalingPolicy("p", "table/t", TABLE_WRITE, policy_type="StepScaling"),
        ScalingPolicy("p", "table/t", TABLE_WRITE, target_value=19.9),
        ScalingPolicy("p", "table/t", TABLE_WRITE, target_value=91),
        ScalingPolicy("p", "table/t", TABLE_READ, target_value=70),  # no target registered
    ],
)
def test_unsupported_policies_are_refused(policy: ScalingPolicy) -> None:
    acc = aas_account(100, 1)
    acc.register_scalable_target(ScalableTarget("table/t", TABLE_WRITE, 5, 1_000))
    with pytest.raises(ValidationFailed):
        acc.put_scaling_policy(policy)
    assert acc.describe_scaling_policies() == []


@pytest.mark.parametrize("target", [20.0, 90.0])
def test_target_values_at_the_edges_are_accepted(target: float) -> None:
    acc = aas_account(100, 1)
    acc.register_scalable_target(ScalableTarget("table/t", TABLE_WRITE, 5, 1_000))
    acc.put_scaling_policy(ScalingPolicy("p", "table/t", TABLE_WRITE, target_value=target))
    assert [p.target_value for p in acc.describe_scaling_policies()] == [target]


def test_scale_in_refused_by_the_decrease_budget_is_a_failed_activity() -> None:
    acc = aas_account(1_000, 100, metric_delay_seconds=120)
    acc.register_scalable_target(ScalableTarget("table/t", TABLE_WRITE, 5, 1_000))
    acc.put_scaling_policy(ScalingPolicy("p", "table/t", TABLE_WRITE, target_value=70))
    for units in (990, 980, 970, 960):  # the day's four free decreases, by hand
        acc.update_table("t", TableChange(Throughput(5, units)))
        acc.advance(MIN)
    acc.advance(55 * MIN)  # AlarmLow fires long before 11:03
    failed = [a for a in acc.describe_scaling_activities("table/t") if a.status == "Failed"]
    assert failed
    assert all("decrease" in a.status_message for a in failed)
    assert all("11:03" in a.status_message for a in failed)
    assert acc.describe_table("t").provisioned == Throughput(5, 960)
    acc.advance(5 * MIN)  # past 11:03: the next attempt succeeds
    done = [a for a in acc.describe_scaling_activities("table/t") if a.status == "Successful"]
    assert [a.start for a in done] == [T0 + timedelta(hours=1, minutes=3)]
    assert acc.describe_table("t").provisioned == Throughput(5, 143)


def test_deregistering_a_target_removes_its_policies() -> None:
    acc = aas_account(100, 90)
    acc.register_scalable_target(ScalableTarget("table/t", TABLE_WRITE, 5, 1_000))
    acc.put_scaling_policy(ScalingPolicy("p", "table/t", TABLE_WRITE))
    acc.deregister_scalable_target("table/t", TABLE_WRITE)
    assert acc.describe_scaling_policies() == []
    acc.advance(10 * MIN)
    assert acc.describe_table("t").provisioned == Throughput(5, 100)
    with pytest.raises(NotFound):
        acc.deregister_scalable_target("table/t", TABLE_WRITE)


# ============================================================================================
# 8. The clock
# ============================================================================================


@pytest.mark.parametrize("speed", [0.0, 0.5, 3_600.5, -1.0])
def test_speed_outside_1_to_3600_is_refused(speed: float) -> None:
    with pytest.raises(SpeedError, match=r"1× to 3,600×"):
        SimAccount(T0, speed=speed)
    acc = SimAccount(T0)
    with pytest.raises(SpeedError):
        acc.clock.speed = speed
    assert acc.clock.speed == 1.0


def test_tick_advances_real_seconds_times_speed() -> None:
    acc = SimAccount(T0, speed=60)
    assert acc.tick(2.5) == 150
    assert acc.now() == T0 + timedelta(seconds=150)
    acc.clock.speed = 3_600
    assert acc.tick(1) == 3_600
    assert acc.now() == T0 + timedelta(seconds=3_750)


def test_tick_carries_fractions_of_a_second() -> None:
    acc = SimAccount(T0, speed=1.5)
    assert [acc.tick(1) for _ in range(4)] == [1, 2, 1, 2]
    assert acc.now() == T0 + timedelta(seconds=6)


def test_pause_stops_tick_but_not_step() -> None:
    acc = account()
    acc.add_table(TableSpec("t", Throughput(5, 100), reads=Steady(0), writes=Steady(10)))
    acc.clock.speed = 60
    acc.clock.paused = True
    assert acc.tick(100) == 0
    assert acc.now() == T0
    assert writes_of(acc, "t") == ([], [])
    acc.step(MIN)
    assert acc.now() == T0 + timedelta(minutes=1)
    acc.clock.paused = False
    assert acc.tick(1) == 60
    assert writes_of(acc, "t") == ([600.0] * 2, [0.0] * 2)


def test_the_accounts_simulation_controls_drive_its_clock() -> None:
    acc = stream_account()
    acc.add_table(TableSpec("t", Throughput(5, 100), reads=Steady(0), writes=Steady(10)))
    controls = acc.controls
    assert isinstance(controls, SimulationControls)
    assert controls.now() == acc.now() == T0
    assert controls.speed_range == (1.0, 3_600.0)
    controls.speed = 60
    assert acc.clock.speed == 60
    with pytest.raises(SpeedError, match=r"1× to 3,600×"):
        controls.speed = 7_200
    assert controls.speed == 60  # unchanged by the refusal
    controls.pause()
    assert controls.paused and acc.clock.paused
    assert controls.tick(100) == 0
    controls.step(MIN)  # paused or not
    assert controls.now() == T0 + timedelta(minutes=1)
    controls.resume()
    assert not controls.paused
    assert controls.tick(1) == 60
    assert controls.now() == T0 + timedelta(minutes=2)
    # what the simulation knows exactly: capacity in use, and every counted reshard
    assert controls.provisioned_in_use() == Throughput(5, 100)
    assert controls.reshard_history("s") == ()
    acc.update_shard_count("s", 8)
    assert controls.reshard_history("s") == (T0 + timedelta(minutes=2),)
    with pytest.raises(NotFound):
        controls.reshard_history("nope")


def test_time_only_moves_forward_in_whole_steps() -> None:
    acc = SimAccount(T0)
    with pytest.raises(ValueError):
        acc.advance(-1)
    with pytest.raises(ValueError):
        acc.advance(60, resolution=7)
    with pytest.raises(ValueError):
        SimAccount(datetime(2025, 3, 3, 10, 0))  # naive: no timezone


def _snapshot(acc: SimAccount) -> tuple[object, ...]:
    queries = [
        MetricQuery(f"q{i}", "AWS/DynamoDB", metric, table_dims(name))
        for i, (name, metric) in enumerate(
            (name, metric)
            for name in acc.list_tables()
            for metric in ("ConsumedWriteCapacityUnits", "WriteThrottleEvents")
        )
    ] + [
        MetricQuery(f"s{i}", "AWS/Kinesis", "IncomingRecords", (("StreamName", name),))
        for i, name in enumerate(acc.list_streams())
    ]
    return (
        acc.now(),
        [acc.describe_table(name) for name in acc.list_tables()],
        [acc.describe_stream(name) for name in acc.list_streams()],
        acc.get_metric_data(queries, acc.now() - timedelta(hours=4), acc.now()),
        acc.describe_scaling_activities(),
    )


def test_the_demo_is_deterministic() -> None:
    now = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
    one, two = build_scenario("demo", now), build_scenario("demo", now)
    assert _snapshot(one) == _snapshot(two)
    one.advance(10 * MIN)
    two.advance(10 * MIN)
    assert _snapshot(one) == _snapshot(two)


# ============================================================================================
# 10. Scenarios
# ============================================================================================

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo() -> SimAccount:
    return build_scenario("demo", NOW)


def _sum(acc: SimAccount, metric: str, dims: Dims, namespace: str = "AWS/DynamoDB") -> float:
    _, values = series(acc, metric, dims, namespace=namespace, start=NOW - timedelta(hours=3))
    return sum(values)


def test_demo_inventory_and_clock(demo: SimAccount) -> None:
    assert demo.now() == NOW
    assert len(demo.list_tables()) >= 8
    assert len(demo.list_streams()) == 4
    assert {"inventory", "user-events", "leaderboard"} <= set(demo.list_tables())


def test_demo_charts_are_full(demo: SimAccount) -> None:
    # three hours of minutes, less the two not yet published
    expected = [NOW - timedelta(hours=3) + timedelta(minutes=i) for i in range(180 - 2)]
    for name in demo.list_tables():
        stamps, _ = series(
            demo, "ConsumedWriteCapacityUnits", table_dims(name), start=NOW - timedelta(hours=3)
        )
        assert stamps == expected, name


def test_demo_inventory_table_is_the_registered_but_no_policy_trap(demo: SimAccount) -> None:
    inventory = [t for t in demo.describe_scalable_targets() if t.resource_id == "table/inventory"]
    assert {t.dimension for t in inventory} == {TABLE_READ, TABLE_WRITE}
    assert [p for p in demo.describe_scaling_policies() if p.resource_id == "table/inventory"] == []


def test_demo_user_events_throttles_a_hot_key_below_capacity(demo: SimAccount) -> None:
    dims = table_dims("user-events")
    table = demo.describe_table("user-events")
    assert table.provisioned is not None
    assert _sum(demo, "WriteThrottleEvents", dims) > 0
    _, consumed = series(demo, "ConsumedWriteCapacityUnits", dims, start=NOW - timedelta(hours=3))
    assert max(consumed) / 60 < table.provisioned.write


def test_demo_leaderboard_throttles(demo: SimAccount) -> None:
    assert _sum(demo, "WriteThrottleEvents", table_dims("leaderboard")) > 0


def test_fleet_scenario_sizes() -> None:
    fleet = build_scenario("fleet:30,10", NOW)
    assert len(fleet.list_tables()) == 30
    assert len(fleet.list_streams()) == 10
    assert fleet.now() == NOW


@pytest.mark.parametrize("name", ["nope", "fleet:x", "fleet:3", "fleet:-1,2", ""])
def test_bad_scenario_names_are_refused(name: str) -> None:
    with pytest.raises(ScenarioError) as refused:
        build_scenario(name, NOW)
    if not name.startswith("fleet"):
        for known in ("demo", "fleet:N,M", "empty"):
            assert known in str(refused.value)
