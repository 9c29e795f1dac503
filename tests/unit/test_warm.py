"""Warm throughput, pre-warming, on-demand maximums and GSI states in the rule book and the
planner, from AWS-CLI-shaped ``describe-table`` JSON (docs/aws-rules.md#warm-throughput)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from capcon.core.backends.aws.describe import table_from_describe
from capcon.core.config.prices import load_price_book
from capcon.core.model import BillingMode, Table, Throughput, WarmThroughput
from capcon.core.planning.partitions import after_capacity_change, estimate_partitions
from capcon.core.planning.planner import PlanContext, Refusal, ScalePlan, Usage, plan
from capcon.core.ports import TableChange
from capcon.core.rules import Code, RuleSettings
from tests.support.plans import ok, refused

RULES = RuleSettings()
PRICES = load_price_book("us-east-1")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def scenario(**gsi: Any) -> dict[str, Any]:
    """The warm-throughput-scenarios table: warm 30,000 R / 10,000 W, 4,000 / 8,000
    provisioned, as `aws dynamodb describe-table` prints it, with one GSI."""
    index = {
        "IndexName": "by-user",
        "IndexStatus": "ACTIVE",
        "ProvisionedThroughput": {
            "ReadCapacityUnits": 100,
            "WriteCapacityUnits": 100,
            "NumberOfDecreasesToday": 0,
        },
        "WarmThroughput": {"ReadUnitsPerSecond": 3000, "WriteUnitsPerSecond": 1000,
                           "Status": "ACTIVE"},
        "IndexSizeBytes": 0,
        "ItemCount": 0,
    } | gsi  # fmt: skip
    return {
        "Table": {
            "TableName": "orders",
            "TableStatus": "ACTIVE",
            "TableArn": "arn:aws:dynamodb:us-east-1:123456789012:table/orders",
            "ProvisionedThroughput": {
                "ReadCapacityUnits": 4000,
                "WriteCapacityUnits": 8000,
                "NumberOfDecreasesToday": 0,
            },
            "WarmThroughput": {
                "ReadUnitsPerSecond": 30000,
                "WriteUnitsPerSecond": 10000,
                "Status": "ACTIVE",
            },
            "TableSizeBytes": 0,
            "ItemCount": 0,
            "GlobalSecondaryIndexes": [index],
        }
    }


def on_demand_doc() -> dict[str, Any]:
    return {
        "Table": {
            "TableName": "events",
            "TableStatus": "ACTIVE",
            "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
            "ProvisionedThroughput": {
                "ReadCapacityUnits": 0,
                "WriteCapacityUnits": 0,
                "NumberOfDecreasesToday": 0,
            },
            "OnDemandThroughput": {"MaxReadRequestUnits": 1000, "MaxWriteRequestUnits": -1},
            "WarmThroughput": {
                "ReadUnitsPerSecond": 12000,
                "WriteUnitsPerSecond": 4000,
                "Status": "ACTIVE",
            },
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "g1",
                    "IndexStatus": "ACTIVE",
                    "ProvisionedThroughput": {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
                    "OnDemandThroughput": {"MaxReadRequestUnits": 200, "MaxWriteRequestUnits": 50},
                }
            ],
        }
    }


def run(table: Table, change: TableChange, **ctx: Any) -> ScalePlan | Refusal:
    return plan(table, change, NOW, rules=RULES, prices=PRICES, context=PlanContext(**ctx))


# --- warm throughput and partitions ---------------------------------------------------------


def test_a_change_within_warm_throughput_keeps_partitions_and_says_so() -> None:
    table = table_from_describe(scenario())
    result = ok(run(table, TableChange(table=Throughput(4000, 10_000))))
    part = result.parts[0]
    # 4,000 / 3,000 + 10,000 / 1,000 = 11.3: the historical formula would split 10 → 20
    assert part.partitions_before.count == 10
    assert part.partitions_after.count == 10
    assert part.partitions_after.within_warm
    assert not part.partitions_permanent
    assert "permanent-partitions" not in {w.code for w in result.warnings}
    # and up to 30,000 RCU too, as the scenarios page says
    assert (
        ok(run(table, TableChange(table=Throughput(30_000, 10_000))))
        .parts[0]
        .partitions_after.within_warm
    )


def test_beyond_warm_throughput_partitions_follow_the_raised_warm_values_per_dimension() -> None:
    table = table_from_describe(scenario())
    result = ok(run(table, TableChange(table=Throughput(4000, 12_000))))
    part = result.parts[0]
    # warm write rises to 12,000: ceil(12,000 / 1,000) = 12 partitions (not the doubling to 20)
    assert part.partitions_after.count == 12
    assert not part.partitions_after.within_warm
    assert part.partitions_permanent
    assert part.warm_after == WarmThroughput(30_000, 12_000)
    assert "permanent-partitions" in {w.code for w in result.warnings}


def test_without_warm_values_the_historical_doubling_still_applies() -> None:
    doc = scenario()
    del doc["Table"]["WarmThroughput"]
    result = ok(run(table_from_describe(doc), TableChange(table=Throughput(4000, 10_000))))
    assert result.parts[0].partitions_after.count == 20


@settings(max_examples=60, deadline=None)
@given(
    warm_r=st.integers(1, 60_000),
    warm_w=st.integers(1, 20_000),
    read=st.integers(1, 60_000),
    write=st.integers(1, 20_000),
)
def test_partitions_never_shrink_and_within_warm_never_splits(
    warm_r: int, warm_w: int, read: int, write: int
) -> None:
    warm = WarmThroughput(warm_r, warm_w)
    now = estimate_partitions(Throughput(1, 1), 0, RULES, warm=warm)
    after = after_capacity_change(now, Throughput(read, write), 0, RULES, warm=warm)
    assert after.count >= now.count
    if read <= warm_r and write <= warm_w:
        assert after.within_warm and after.count == now.count
    else:
        assert not after.within_warm


# --- pre-warming ----------------------------------------------------------------------------


def test_a_pre_warm_is_planned_irreversible_and_its_price_unknown() -> None:
    table = table_from_describe(scenario())
    result = ok(run(table, TableChange(warm=WarmThroughput(36_000, 10_000))))
    part = result.parts[0]
    assert part.changed and part.prewarm
    assert part.warm_after == WarmThroughput(36_000, 10_000)
    assert part.partitions_after.count == 12  # ceil(36,000 / 3,000)
    assert part.prewarm_charge is None
    codes = {w.code: w.message for w in result.warnings}
    assert "irreversible" in codes["prewarm-irreversible"]
    assert "every replica" in codes["prewarm-irreversible"]
    assert "price unknown to capcon" in codes["prewarm-charge"]
    assert result.cost_after == result.cost_before  # capacity is untouched


def test_a_pre_warm_charge_is_shown_when_a_price_file_sets_it() -> None:
    table = table_from_describe(scenario())
    prices = dataclasses.replace(PRICES, prewarm_read_units=0.0001, prewarm_write_units=0.0005)
    result = plan(
        table, TableChange(warm=WarmThroughput(36_000, 12_000)), NOW, rules=RULES, prices=prices
    )
    assert isinstance(result, ScalePlan)
    # 6,000 read units/s and 2,000 write units/s raised
    expected = 6_000 * 0.0001 + 2_000 * 0.0005
    assert abs(result.parts[0].prewarm_charge - expected) < 1e-9  # type: ignore[operator]
    assert (
        "one-time charge of $1.60" in {w.code: w.message for w in result.warnings}["prewarm-charge"]
    )


def test_warm_throughput_can_never_decrease() -> None:
    table = table_from_describe(scenario())
    result = refused(run(table, TableChange(warm=WarmThroughput(30_000, 5_000))))
    assert [v.code for v in result.violations] == [Code.WARM_DECREASE]
    assert "10,000" in result.violations[0].message
    same = refused(run(table, TableChange(warm=WarmThroughput(30_000, 10_000))))
    assert same.violations[0].code is Code.NO_CHANGE
    too_much = refused(run(table, TableChange(warm=WarmThroughput(50_000, 10_000))))
    assert too_much.violations[0].code is Code.ABOVE_RESOURCE_QUOTA


def test_a_gsi_pre_warm_touches_only_the_gsi() -> None:
    table = table_from_describe(scenario())
    result = ok(run(table, TableChange(index_warm=(("by-user", WarmThroughput(9000, 1000)),))))
    changed = [p.label for p in result.parts if p.changed]
    assert changed == ["index orders/by-user"]
    assert result.parts[1].partitions_after.count == 3


def test_a_pre_warm_needs_an_active_table() -> None:
    doc = scenario()
    doc["Table"]["TableStatus"] = "UPDATING"
    result = refused(
        run(table_from_describe(doc), TableChange(warm=WarmThroughput(36_000, 10_000)))
    )
    assert result.violations[0].code is Code.RESOURCE_BUSY


# --- GSI states -----------------------------------------------------------------------------


def test_a_backfilling_gsi_accepts_capacity_updates() -> None:
    table = table_from_describe(scenario(IndexStatus="CREATING", Backfilling=True))
    assert table.index("by-user").backfilling
    result = ok(run(table, TableChange(indexes=(("by-user", Throughput(200, 100)),))))
    assert result.parts[1].after == Throughput(200, 100)


def test_other_gsi_states_are_refused_with_their_reason() -> None:
    reasons = {
        "CREATING": "has not begun backfilling",
        "UPDATING": "is UPDATING",
        "DELETING": "is DELETING",
    }
    for status, words in reasons.items():
        table = table_from_describe(scenario(IndexStatus=status, Backfilling=False))
        result = refused(run(table, TableChange(indexes=(("by-user", Throughput(200, 100)),))))
        assert result.violations[0].code is Code.RESOURCE_BUSY
        assert words in result.violations[0].message, status


# --- on-demand maximums ---------------------------------------------------------------------


def test_on_demand_maximums_are_read_with_minus_one_as_none() -> None:
    table = table_from_describe(on_demand_doc())
    assert table.on_demand_max == Throughput(1000, 0)
    assert table.index("g1").on_demand_max == Throughput(200, 50)


def test_an_on_demand_maximum_is_planned_and_warned_near_traffic() -> None:
    table = table_from_describe(on_demand_doc())
    usage = {None: Usage(450, 10)}
    result = ok(run(table, TableChange(on_demand_max=Throughput(500, 0)), usage=usage))
    assert result.parts[0].on_demand_max_after == Throughput(500, 0)
    near = [w.message for w in result.warnings if w.code == "near-on-demand-max"]
    assert len(near) == 1 and "90%" in near[0]  # 450 / 500
    calm = ok(run(table, TableChange(on_demand_max=Throughput(2000, 0)), usage=usage))
    assert not [w for w in calm.warnings if w.code == "near-on-demand-max"]


def test_the_near_maximum_threshold_is_a_rule() -> None:
    table = table_from_describe(on_demand_doc())
    usage: dict[str | None, Usage] = {None: Usage(450, 10)}
    strict = dataclasses.replace(RULES, on_demand_max_warn_share=0.95)
    result = plan(
        table, TableChange(on_demand_max=Throughput(500, 0)), NOW, rules=strict, prices=PRICES,
        context=PlanContext(usage=usage),
    )  # fmt: skip
    assert isinstance(result, ScalePlan)
    assert not [w for w in result.warnings if w.code == "near-on-demand-max"]


def test_an_on_demand_maximum_on_a_provisioned_table_is_refused() -> None:
    table = table_from_describe(scenario())
    result = refused(run(table, TableChange(on_demand_max=Throughput(500, 0))))
    assert result.violations[0].code is Code.NOT_ON_DEMAND
    with_switch = ok(
        run(
            table,
            TableChange(billing_mode=BillingMode.PAY_PER_REQUEST, on_demand_max=Throughput(500, 0)),
        )
    )
    assert with_switch.parts[0].on_demand_max_after == Throughput(500, 0)


def test_a_gsi_on_demand_maximum_and_an_unknown_gsi() -> None:
    table = table_from_describe(on_demand_doc())
    result = ok(run(table, TableChange(index_on_demand_max=(("g1", Throughput(0, 50)),))))
    assert result.parts[1].on_demand_max_after == Throughput(0, 50)
    unknown = refused(run(table, TableChange(index_on_demand_max=(("nope", Throughput(1, 1)),))))
    assert unknown.violations[0].code is Code.UNKNOWN_INDEX


def test_back_to_provisioned_with_every_gsi_in_one_request() -> None:
    table = table_from_describe(on_demand_doc())
    missing = refused(
        run(table, TableChange(table=Throughput(10, 10), billing_mode=BillingMode.PROVISIONED))
    )
    assert [v.part for v in missing.violations] == ["index events/g1"]
    result = ok(
        run(
            table,
            TableChange(
                table=Throughput(10, 10),
                indexes=(("g1", Throughput(5, 5)),),
                billing_mode=BillingMode.PROVISIONED,
            ),
        )
    )
    assert [p.after for p in result.parts] == [Throughput(10, 10), Throughput(5, 5)]


# --- bad input ------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(given_text=st.text(max_size=30))
def test_the_new_flags_take_any_text_without_a_traceback(given_text: str) -> None:
    """``--warm``, ``--index-capacity`` and ``--max-read``: a value or a message naming what
    is allowed, for any text."""
    import argparse

    from capcon.tui.cli.flags import index_capacity, limit, units_pair

    for parse in (units_pair("warm", partial=True), index_capacity, limit):
        try:
            value = parse(given_text)
        except argparse.ArgumentTypeError as error:
            assert "expected" in str(error)
        else:
            assert value is not None


def test_backfilling_must_be_true_or_false() -> None:
    from capcon.core.backends.aws.describe import DescribeError

    assert not table_from_describe(scenario()).index("by-user").backfilling  # absent: false
    try:
        table_from_describe(scenario(Backfilling="yes"))
    except DescribeError as error:
        assert "Backfilling" in str(error) and "true or false" in str(error)
    else:
        raise AssertionError("a string Backfilling was accepted")
