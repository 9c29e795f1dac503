"""The scale planner: plans and refusals for tables, GSIs and streams."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capcon.core.config.prices import load_price_book
from capcon.core.model import (
    BillingMode,
    Index,
    Stream,
    StreamMode,
    Table,
    Throughput,
    ThroughputHistory,
)
from capcon.core.planning.planner import (
    PlanContext,
    Refusal,
    ScalePlan,
    StreamTraffic,
    Usage,
    fingerprint,
    plan,
)
from capcon.core.planning.requests import ShardChange
from capcon.core.planning.reshard import covers, uniform_ranges, uniform_shards
from capcon.core.ports import TableChange
from capcon.core.rules import AccountCapacity, AccountShards, RuleSettings
from tests.support.plans import ok, refused

RULES = RuleSettings()
PRICES = load_price_book("us-east-1")
NOW = datetime(2026, 11, 23, 0, 50, tzinfo=UTC)
BUSY = ThroughputHistory(decreases_today=4, last_decrease=datetime(2026, 11, 23, 0, 40, tzinfo=UTC))


def orders(**kwargs: object) -> Table:
    base = Table(
        "orders",
        provisioned=Throughput(1_200, 400),
        history=BUSY,
        indexes=(Index("by-customer", provisioned=Throughput(300, 400)),),
    )
    return dataclasses.replace(base, **kwargs)  # type: ignore[arg-type]


def run(
    resource: Table | Stream, change: TableChange | ShardChange, **ctx: object
) -> ScalePlan | Refusal:
    return plan(resource, change, NOW, rules=RULES, prices=PRICES, context=PlanContext(**ctx))  # type: ignore[arg-type]


def codes(result: ScalePlan | Refusal) -> list[str]:
    if isinstance(result, Refusal):
        return [v.code.value for v in result.violations]
    return [w.code for w in result.warnings]


# --- tables ---------------------------------------------------------------------------------


def test_scale_up_shows_cost_and_permanent_partitions() -> None:
    p = ok(run(orders(), TableChange(table=Throughput(1_200, 4_000))))
    table = p.parts[0]
    assert table.changed and not p.parts[1].changed
    assert table.partitions_before.count == 1
    assert table.partitions_after.count == 5
    assert table.partitions_permanent
    # back at 1,200/400 on five partitions: 240 RCU and 80 WCU each (field note C,
    # docs/field-notes.md#partition-dilution)
    assert table.per_partition_after_return == (240.0, 80.0)
    assert table.cost_before is not None and table.cost_after is not None
    assert table.cost_before.per_hour == pytest.approx(1_200 * 0.00013 + 400 * 0.00065)
    assert table.cost_after.per_hour == pytest.approx(1_200 * 0.00013 + 4_000 * 0.00065)
    assert table.cost_after.per_month == pytest.approx(table.cost_after.per_hour * 730)
    assert p.cost_after is not None and p.cost_before is not None
    assert p.cost_after.per_hour - p.cost_before.per_hour == pytest.approx(3_600 * 0.00065)
    assert {"permanent-partitions", "big-increase"} <= set(codes(p))
    assert any("estimates" in a for a in p.assumptions)
    assert table.quota_left_after == Throughput(38_800, 36_000)


def test_gsi_budget_is_independent_of_the_table() -> None:
    # The table has used its four decreases; its GSI has used none.
    p = ok(run(orders(), TableChange(indexes=(("by-customer", Throughput(300, 200)),))))
    gsi = p.parts[1]
    assert gsi.is_decrease and gsi.decrease_budget.used_today == 0
    assert gsi.decreases_left_after == 26
    assert "decrease-budget" in codes(p)
    refused(run(orders(), TableChange(table=Throughput(1_200, 200))))


def test_mixed_increase_and_refused_decrease_is_refused_whole() -> None:
    change = TableChange(
        table=Throughput(1_200, 300), indexes=(("by-customer", Throughput(300, 800)),)
    )
    r = refused(run(orders(), change))
    assert codes(r) == ["decrease-budget", "whole-request"]
    assert r.whole_request
    assert r.allowed_at == datetime(2026, 11, 23, 1, 40, tzinfo=UTC)
    # The other way round: a table increase with a GSI decrease over its own budget.
    gsi_busy = orders(
        history=ThroughputHistory(),
        indexes=(Index("by-customer", provisioned=Throughput(300, 400), history=BUSY),),
    )
    change = TableChange(
        table=Throughput(1_200, 900), indexes=(("by-customer", Throughput(300, 100)),)
    )
    r = refused(run(gsi_busy, change))
    assert codes(r) == ["decrease-budget", "whole-request"]
    assert "table orders would not happen either" in r.violations[-1].message


def test_auto_scaled_part_warns_about_override() -> None:
    p = ok(run(orders(), TableChange(table=Throughput(1_200, 800)), auto_scaled=frozenset({None})))
    assert "auto-scaling-override" in codes(p)
    quiet = ok(run(orders(), TableChange(table=Throughput(1_200, 800))))
    assert "auto-scaling-override" not in codes(quiet)


def test_decrease_that_uses_the_last_one_of_the_day() -> None:
    late = orders(history=ThroughputHistory(26, datetime(2026, 11, 23, 21, 0, tzinfo=UTC)))
    p = plan(
        late,
        TableChange(table=Throughput(1_200, 300)),
        datetime(2026, 11, 23, 22, 30, tzinfo=UTC),
        rules=RULES,
        prices=PRICES,
    )
    p = ok(p)
    assert p.parts[0].decreases_left_after == 0
    assert p.parts[0].next_decrease_after == datetime(2026, 11, 24, tzinfo=UTC)
    assert "last-decrease" in codes(p)


def test_below_traffic_and_on_demand_alternative() -> None:
    usage = {None: Usage(900.0, 350.0), "by-customer": Usage(120.0, 350.0)}
    quiet = orders(history=ThroughputHistory())
    p = ok(run(quiet, TableChange(table=Throughput(1_200, 300)), usage=usage))
    assert "below-traffic" in codes(p)
    assert p.on_demand_alternative is not None
    expected = (900 + 120) * 3600 * 0.125 / 1e6 + (350 + 350) * 3600 * 0.625 / 1e6
    assert p.on_demand_alternative.per_hour == pytest.approx(expected)


def test_on_demand_table_has_no_capacity_to_set() -> None:
    od = Table("s", billing_mode=BillingMode.PAY_PER_REQUEST)
    r = refused(run(od, TableChange(table=Throughput(10, 10))))
    assert codes(r) == ["not-provisioned"]
    assert "--mode provisioned" in r.violations[0].message


def test_switch_to_provisioned_needs_every_gsi() -> None:
    od = Table(
        "s",
        billing_mode=BillingMode.PAY_PER_REQUEST,
        indexes=(Index("g1"), Index("g2")),
    )
    change = TableChange(
        table=Throughput(10, 10),
        indexes=(("g1", Throughput(5, 5)),),
        billing_mode=BillingMode.PROVISIONED,
    )
    r = refused(run(od, change))
    assert codes(r) == ["missing-capacity"]
    assert "index s/g2" in r.violations[0].message
    full = dataclasses.replace(change, indexes=(("g1", Throughput(5, 5)), ("g2", Throughput(5, 5))))
    p = ok(run(od, full, usage={None: Usage(1, 1), "g1": Usage(1, 1), "g2": Usage(1, 1)}))
    assert all(part.changed and part.mode_after is BillingMode.PROVISIONED for part in p.parts)
    assert p.cost_before is not None and p.cost_after is not None


def test_switch_to_on_demand_costs_at_traffic() -> None:
    table = Table("t", provisioned=Throughput(100, 100))
    change = TableChange(billing_mode=BillingMode.PAY_PER_REQUEST)
    p = ok(run(table, change, usage={None: Usage(10.0, 10.0)}))
    assert p.parts[0].after is None
    assert p.cost_after is not None
    assert p.cost_after.per_hour == pytest.approx(10 * 3600 * (0.125 + 0.625) / 1e6)
    unknown = ok(run(table, change))
    assert unknown.cost_after is None  # no traffic, no on-demand price: said, not guessed


def test_updating_table_and_creating_index_are_busy() -> None:
    r = refused(run(orders(status="UPDATING"), TableChange(table=Throughput(1_200, 800))))
    assert codes(r) == ["resource-busy"]
    creating = orders(
        indexes=(Index("by-customer", status="CREATING", provisioned=Throughput(1, 1)),)
    )
    r = refused(run(creating, TableChange(indexes=(("by-customer", Throughput(5, 5)),))))
    assert codes(r) == ["resource-busy"]


def test_unknown_index_lists_the_known_ones() -> None:
    r = refused(run(orders(), TableChange(indexes=(("nope", Throughput(5, 5)),))))
    assert codes(r) == ["unknown-index"]
    assert "by-customer" in r.violations[0].message


def test_account_quota() -> None:
    near = AccountCapacity(read_units=10_000, write_units=79_500)
    r = refused(run(orders(), TableChange(table=Throughput(1_200, 1_000)), account_capacity=near))
    assert codes(r) == ["above-account-quota"]
    fine = AccountCapacity(read_units=10_000, write_units=70_000)
    p = ok(run(orders(), TableChange(table=Throughput(1_200, 1_000)), account_capacity=fine))
    assert p.account_left == Throughput(70_000, 80_000 - 70_000 - 600)


def test_plans_are_pure() -> None:
    change = TableChange(table=Throughput(1_200, 4_000))
    assert run(orders(), change) == run(orders(), change)
    with pytest.raises(ValueError, match="timezone"):
        plan(orders(), change, datetime(2026, 11, 23), rules=RULES, prices=PRICES)


def test_fingerprint_tracks_what_a_plan_depends_on() -> None:
    assert fingerprint(orders()) == fingerprint(orders())
    assert fingerprint(orders()) != fingerprint(orders(provisioned=Throughput(1_200, 401)))
    assert fingerprint(orders()) != fingerprint(orders(status="UPDATING"))
    s = Stream("s", shards=uniform_shards(4))
    assert fingerprint(s) != fingerprint(dataclasses.replace(s, shards=uniform_shards(5)))


# --- streams --------------------------------------------------------------------------------


def clicks(count: int = 4, **kwargs: object) -> Stream:
    return Stream("clicks", retention_hours=48, shards=uniform_shards(count), **kwargs)  # type: ignore[arg-type]


def test_doubling_a_stream() -> None:
    p = ok(run(clicks(), ShardChange(8)))
    sp = p.stream
    assert sp is not None
    assert (sp.open_before, sp.open_after) == (4, 8)
    assert len(sp.reshard.shards_closed) == 4 and not sp.reshard.short_lived
    assert sp.reshard.closed_readable_until == NOW + timedelta(hours=48)
    assert sp.write_limit_after == (8 * 1_048_576, 8_000)  # 1 MiB/s a shard
    assert sp.reshards_left_after == 9
    assert sp.cost_after.per_hour == pytest.approx(8 * (0.015 + 0.020))  # 48 h retention
    assert "closed-shards" in codes(p)
    assert "short-lived-shards" not in codes(p)
    assert any("other tools" in a for a in p.assumptions)


def test_uneven_target_warns_about_short_lived_shards() -> None:
    p = ok(run(clicks(), ShardChange(6)))
    assert p.stream is not None and len(p.stream.reshard.short_lived) == 4
    assert "short-lived-shards" in codes(p)
    assert p.stream.alternative is not None
    assert not p.stream.alternative.short_lived


def test_hot_shard_offers_the_targeted_plan() -> None:
    loads = {
        s.shard_id: load for s, load in zip(uniform_shards(4), (0.95, 0.5, 0.4, 0.3), strict=True)
    }
    traffic = StreamTraffic(2_100_000, 2_150, 0, loads)
    p = ok(run(clicks(), ShardChange(6), stream_traffic=traffic))
    assert "hot-shard" in codes(p)
    assert p.stream is not None and p.stream.alternative is not None
    alt = p.stream.alternative
    assert alt.max_load_after is not None and alt.max_load_before == 0.95
    assert alt.max_load_after < 0.95
    targeted = ok(run(clicks(), ShardChange(6, "targeted"), stream_traffic=traffic))
    assert targeted.stream is not None
    assert targeted.stream.reshards_left_after == 10  # split/merge is not UpdateShardCount


def test_stream_refusals() -> None:
    assert codes(run(clicks(), ShardChange(9))) == ["shard-factor"]
    assert codes(run(clicks(), ShardChange(1))) == ["shard-factor"]
    assert codes(run(clicks(mode=StreamMode.ON_DEMAND), ShardChange(6)))[0] == "not-provisioned"
    history = tuple(NOW - timedelta(hours=h) for h in range(1, 11))
    r = refused(run(clicks(), ShardChange(6), reshard_history=history))
    assert codes(r) == ["reshard-limit"]
    assert r.allowed_at == NOW - timedelta(hours=10) + timedelta(hours=24)
    quota = AccountShards(open_shards=498, shard_quota=500)
    assert codes(run(clicks(), ShardChange(6), account_shards=quota)) == ["account-shard-quota"]


def test_stream_below_traffic() -> None:
    traffic = StreamTraffic(bytes_in_per_second=3_500_000, records_in_per_second=3_000)
    p = ok(run(clicks(), ShardChange(2), stream_traffic=traffic))
    assert "below-traffic" in codes(p)
    assert p.on_demand_alternative is not None


# --- properties -----------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    read=st.integers(1, 20_000),
    write=st.integers(1, 20_000),
    a=st.integers(1, 20_000),
    b=st.integers(1, 20_000),
)
def test_cost_never_falls_as_capacity_rises(read: int, write: int, a: int, b: int) -> None:
    table = Table("t", provisioned=Throughput(read, write))
    low, high = sorted((a, b))
    results = [run(table, TableChange(table=Throughput(read, w))) for w in (low, high)]
    costs = [r.cost_after.per_hour for r in results if isinstance(r, ScalePlan) and r.cost_after]
    if len(costs) == 2:
        assert costs[0] <= costs[1]


@settings(max_examples=150, deadline=None)
@given(current=st.integers(1, 40), data=st.data())
def test_uniform_plan_ends_on_target_covering_the_key_space(
    current: int, data: st.DataObject
) -> None:
    target = data.draw(
        st.integers(max(1, -(-current // 2)), 2 * current).filter(lambda t: t != current)
    )
    p = ok(run(Stream("s", shards=uniform_shards(current)), ShardChange(target)))
    assert p.stream is not None
    final = p.stream.reshard.final_ranges
    assert len(final) == target == p.stream.open_after
    assert covers(final)
    assert final == uniform_ranges(target)


@settings(max_examples=100, deadline=None)
@given(start=st.integers(1, 10_000), steps=st.lists(st.integers(1, 40_000), min_size=1, max_size=6))
def test_planned_partitions_never_decrease(start: int, steps: list[int]) -> None:
    """Chain plans as if each were applied: the estimate carried forward never drops."""
    table = Table("t", provisioned=Throughput(100, start))
    previous: int | None = None
    for wcu in steps:
        result = plan(
            table,
            TableChange(table=Throughput(100, wcu)),
            NOW,
            rules=RuleSettings(decreases_any_time_per_day=27),
            prices=PRICES,
            context=PlanContext(previous_partitions={None: previous} if previous else {}),
        )
        if isinstance(result, Refusal):
            continue
        part = result.parts[0]
        assert part.partitions_after.count >= part.partitions_before.count
        if previous is not None:
            assert part.partitions_before.count >= previous
        previous = part.partitions_after.count
        table = dataclasses.replace(table, provisioned=Throughput(100, wcu))
