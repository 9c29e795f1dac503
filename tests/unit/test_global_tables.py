"""Global tables and table classes: parsed from AWS-CLI-shaped ``describe-table`` output,
priced in every region at the table class's prices (money checked by hand), planned with the
replicas each change touches, and the class switch with its break-even and AWS's limit."""

from __future__ import annotations

import copy
import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capcon.core.backends.aws.describe import (
    DescribeError,
    replica_auto_scaling_from_describe,
    table_from_describe,
)
from capcon.core.config.prices import load_price_book
from capcon.core.model import BillingMode, TableClass, Throughput
from capcon.core.planning.planner import (
    PlanContext,
    ScalePlan,
    Usage,
    fingerprint,
    plan,
)
from capcon.core.ports import TableChange
from capcon.core.pricing import HOURS_PER_MONTH, on_demand_table_cost, provisioned_table_cost
from capcon.core.rules import RuleSettings
from tests.support.plans import ok, refused

GIB = 2**30
RULES = RuleSettings()
HOME = load_price_book("us-east-1")
NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)

# us-east-1 list prices from core/data/prices.toml, written out for the hand arithmetic
IA_RCU, IA_WCU, IA_RWCU, IA_GB = 0.00016, 0.00081, 0.00081, 0.10
STD_RCU, STD_WCU, STD_GB = 0.00013, 0.00065, 0.25

#: ``aws dynamodb describe-table --table-name order-history`` (CLI v2) of a Standard-IA
#: global table (version 2019.11.21) in us-east-1 with replicas in eu-west-1 and
#: ap-southeast-2, one GSI; eu-west-1 overrides the read capacity of the table and the GSI.
GLOBAL_IA: dict[str, Any] = {
    "Table": {
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "customer", "AttributeType": "S"},
        ],
        "TableName": "order-history",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "TableStatus": "ACTIVE",
        "CreationDateTime": "2024-05-14T08:01:12.311000+00:00",
        "ProvisionedThroughput": {
            "LastIncreaseDateTime": "2026-11-30T12:00:00+00:00",
            "NumberOfDecreasesToday": 0,
            "ReadCapacityUnits": 1000,
            "WriteCapacityUnits": 500,
        },
        "TableSizeBytes": 100 * GIB,
        "ItemCount": 812000000,
        "TableArn": "arn:aws:dynamodb:us-east-1:123456789012:table/order-history",
        "TableId": "3f0b5a2e-9c1d-4e7a-8b1e-0a2d4c6e8f10",
        "BillingModeSummary": {"BillingMode": "PROVISIONED"},
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by-customer",
                "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
                "IndexStatus": "ACTIVE",
                "ProvisionedThroughput": {
                    "NumberOfDecreasesToday": 0,
                    "ReadCapacityUnits": 200,
                    "WriteCapacityUnits": 100,
                },
                "IndexSizeBytes": 10 * GIB,
                "ItemCount": 812000000,
                "IndexArn": (
                    "arn:aws:dynamodb:us-east-1:123456789012:table/order-history/index/by-customer"
                ),
            }
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        "LatestStreamLabel": "2024-05-14T08:01:12.311",
        "GlobalTableVersion": "2019.11.21",
        "Replicas": [
            {
                "RegionName": "eu-west-1",
                "ReplicaStatus": "ACTIVE",
                "ProvisionedThroughputOverride": {"ReadCapacityUnits": 400},
                "GlobalSecondaryIndexes": [
                    {
                        "IndexName": "by-customer",
                        "ProvisionedThroughputOverride": {"ReadCapacityUnits": 50},
                    }
                ],
                "ReplicaTableClassSummary": {
                    "TableClass": "STANDARD_INFREQUENT_ACCESS",
                    "LastUpdateDateTime": "2024-05-14T08:30:00+00:00",
                },
            },
            {
                "RegionName": "ap-southeast-2",
                "ReplicaStatus": "ACTIVE",
                "GlobalSecondaryIndexes": [{"IndexName": "by-customer"}],
                "ReplicaTableClassSummary": {"TableClass": "STANDARD_INFREQUENT_ACCESS"},
            },
        ],
        "TableClassSummary": {
            "TableClass": "STANDARD_INFREQUENT_ACCESS",
            "LastUpdateDateTime": "2026-11-20T10:00:00+00:00",
        },
        "DeletionProtectionEnabled": True,
    }
}


def doc(**changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(GLOBAL_IA)
    document["Table"].update(changes)
    return document


def replicas_books() -> PlanContext:
    return PlanContext(
        replica_prices={r: load_price_book(r) for r in ("eu-west-1", "ap-southeast-2")}
    )


def warning(result: ScalePlan, code: str) -> str:
    found = [w.message for w in result.warnings if w.code == code]
    assert found, [w.code for w in result.warnings]
    return found[0]


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


def test_replicas_and_table_class_are_read() -> None:
    table = table_from_describe(GLOBAL_IA)
    assert table.table_class is TableClass.STANDARD_INFREQUENT_ACCESS
    assert table.table_class_updated == datetime(2026, 11, 20, 10, tzinfo=UTC)
    assert table.global_table_version == "2019.11.21"
    assert table.is_global
    eu, ap = table.replicas
    assert (eu.region, eu.status, eu.read_override) == ("eu-west-1", "ACTIVE", 400)
    assert eu.table_class is TableClass.STANDARD_INFREQUENT_ACCESS
    index = eu.index("by-customer")
    assert index is not None and index.read_override == 50
    assert (ap.region, ap.read_override) == ("ap-southeast-2", None)
    plain = table_from_describe(
        {"Table": {"TableName": "t", "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"}}}
    )
    assert plain.table_class is TableClass.STANDARD and not plain.is_global


@pytest.mark.parametrize(
    ("change", "path", "says"),
    [
        (
            {"TableClassSummary": {"TableClass": "GLACIER"}},
            "Table.TableClassSummary.TableClass",
            "allowed: STANDARD, STANDARD_INFREQUENT_ACCESS",
        ),
        ({"Replicas": {"RegionName": "eu-west-1"}}, "Table.Replicas", "expected a list"),
        ({"Replicas": ["eu-west-1"]}, "Table.Replicas[0]", "expected a JSON object"),
        ({"Replicas": [{"ReplicaStatus": "ACTIVE"}]}, "Table.Replicas[0].RegionName", "missing"),
        (
            {"Replicas": [{"RegionName": "eu-west-1"}, {"RegionName": "eu-west-1"}]},
            "Table.Replicas[1].RegionName",
            "listed twice",
        ),
        (
            {
                "Replicas": [
                    {
                        "RegionName": "eu-west-1",
                        "ProvisionedThroughputOverride": {"ReadCapacityUnits": -5},
                    }
                ]
            },
            "Table.Replicas[0](eu-west-1).ProvisionedThroughputOverride.ReadCapacityUnits",
            "whole number",
        ),
        (
            {
                "Replicas": [
                    {"RegionName": "eu-west-1", "GlobalSecondaryIndexes": [{"IndexName": "nope"}]}
                ]
            },
            "Table.Replicas[0](eu-west-1).GlobalSecondaryIndexes[0].IndexName",
            "it has: by-customer",
        ),
        (
            {
                "Replicas": [
                    {
                        "RegionName": "eu-west-1",
                        "ReplicaTableClassSummary": {"TableClass": ["STANDARD"]},
                    }
                ]
            },
            "Table.Replicas[0](eu-west-1).ReplicaTableClassSummary.TableClass",
            "not a table class",
        ),
        (
            {"TableClassSummary": {"TableClass": "STANDARD", "LastUpdateDateTime": "soon"}},
            "Table.TableClassSummary.LastUpdateDateTime",
            "not a timestamp",
        ),
    ],
)
def test_malformed_replicas_name_the_field(change: dict[str, Any], path: str, says: str) -> None:
    with pytest.raises(DescribeError) as caught:
        table_from_describe(doc(**change))
    assert path in str(caught.value) and says in str(caught.value)


def test_replica_auto_scaling_is_read() -> None:
    """``aws dynamodb describe-table-replica-auto-scaling`` output."""
    answer: dict[str, Any] = {
        "TableAutoScalingDescription": {
            "TableName": "order-history",
            "TableStatus": "ACTIVE",
            "Replicas": [
                {
                    "RegionName": "eu-west-1",
                    "GlobalSecondaryIndexes": [
                        {
                            "IndexName": "by-customer",
                            "IndexStatus": "ACTIVE",
                            "ProvisionedWriteCapacityAutoScalingSettings": {
                                "MinimumUnits": 50,
                                "MaximumUnits": 1000,
                                "AutoScalingDisabled": False,
                            },
                        }
                    ],
                    "ReplicaProvisionedReadCapacityAutoScalingSettings": {
                        "MinimumUnits": 100,
                        "MaximumUnits": 2000,
                        "AutoScalingDisabled": True,
                    },
                    "ReplicaProvisionedWriteCapacityAutoScalingSettings": {
                        "MinimumUnits": 100,
                        "MaximumUnits": 4000,
                        "AutoScalingDisabled": False,
                        "AutoScalingRoleArn": "arn:aws:iam::123456789012:role/aws-service-role",
                        "ScalingPolicies": [
                            {
                                "PolicyName": "DynamoDBWriteCapacityUtilization:table/x",
                                "TargetTrackingScalingPolicyConfiguration": {
                                    "DisableScaleIn": False,
                                    "TargetValue": 70.0,
                                },
                            }
                        ],
                    },
                    "ReplicaStatus": "ACTIVE",
                }
            ],
        }
    }
    (eu,) = replica_auto_scaling_from_describe(answer)
    assert eu.region == "eu-west-1" and eu.write_scaled
    assert eu.write is not None and (eu.write.minimum, eu.write.maximum) == (100, 4000)
    assert eu.write.target == 70.0
    assert eu.read is not None and eu.read.disabled and not eu.read.active
    bad = copy.deepcopy(answer)
    replica = bad["TableAutoScalingDescription"]["Replicas"][0]
    policy = replica["ReplicaProvisionedWriteCapacityAutoScalingSettings"]["ScalingPolicies"][0]
    policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] = "high"
    with pytest.raises(DescribeError, match=r"TargetValue: expected a utilisation"):
        replica_auto_scaling_from_describe(bad)


# --------------------------------------------------------------------------------------------
# Money: every region, at the table class's prices (hand arithmetic)
# --------------------------------------------------------------------------------------------

# One region's hour: the table and its GSI, at Standard-IA prices, writes as replicated WCU.
US_EAST_1 = (
    1000 * IA_RCU
    + 500 * IA_RWCU
    + 100 * IA_GB / 730
    + 200 * IA_RCU
    + 100 * IA_RWCU
    + 10 * IA_GB / 730
)
EU_WEST_1 = (  # reads overridden: 400 RCU on the table, 50 on the GSI
    400 * IA_RCU
    + 500 * IA_RWCU
    + 100 * IA_GB / 730
    + 50 * IA_RCU
    + 100 * IA_RWCU
    + 10 * IA_GB / 730
)
AP_SOUTHEAST_2 = US_EAST_1  # no override: the table's read capacity


def test_a_three_region_ia_global_table_costs_every_region() -> None:
    """The issue's measurement: a 3-region Standard-IA table was priced as one Standard region."""
    table = table_from_describe(GLOBAL_IA)
    result = ok(plan(table, TableChange(table=Throughput(1000, 2000)), NOW, rules=RULES,
                     prices=HOME, context=replicas_books()))  # fmt: skip
    assert result.cost_before is not None
    assert result.cost_before.per_hour == pytest.approx(US_EAST_1 + EU_WEST_1 + AP_SOUTHEAST_2)
    one_standard_region = 1200 * STD_RCU + 600 * STD_WCU + 110 * STD_GB / 730
    assert result.cost_before.per_hour > 2.5 * one_standard_region
    regions = {r.region: r for r in result.regions}
    assert set(regions) == {"us-east-1", "eu-west-1", "ap-southeast-2"}
    assert regions["eu-west-1"].cost_before is not None
    assert regions["eu-west-1"].cost_before.per_hour == pytest.approx(EU_WEST_1)
    assert regions["eu-west-1"].prices_from == "us-east-1"  # borrowed, and said
    # after: 2,000 WCU in every region, each at 0.00081 a replicated WCU-hour
    extra = 3 * (2000 - 500) * IA_RWCU
    assert result.cost_after is not None
    assert result.cost_after.per_hour == pytest.approx(
        US_EAST_1 + EU_WEST_1 + AP_SOUTHEAST_2 + extra
    )
    labels = [label for label, _ in result.cost_after.breakdown]
    assert "eu-west-1 replicated writes" in labels and "ap-southeast-2 storage" in labels
    assert any("no prices for eu-west-1" in a for a in result.assumptions)


def test_a_region_without_a_loaded_book_is_priced_at_home_and_said() -> None:
    table = table_from_describe(GLOBAL_IA)
    result = ok(
        plan(table, TableChange(table=Throughput(1000, 600)), NOW, rules=RULES, prices=HOME)
    )
    assert any("no price book loaded for ap-southeast-2" in a for a in result.assumptions)


def test_a_replica_listed_for_the_plans_own_region_is_not_counted_twice() -> None:
    document = doc()
    document["Table"]["Replicas"].append({"RegionName": "us-east-1", "ReplicaStatus": "ACTIVE"})
    table = table_from_describe(document)
    result = ok(plan(table, TableChange(table=Throughput(1000, 600)), NOW, rules=RULES,
                     prices=HOME, context=replicas_books()))  # fmt: skip
    assert result.cost_before is not None
    assert result.cost_before.per_hour == pytest.approx(US_EAST_1 + EU_WEST_1 + AP_SOUTHEAST_2)


def test_on_demand_global_table_pays_replicated_write_units_everywhere() -> None:
    document = doc(BillingModeSummary={"BillingMode": "PAY_PER_REQUEST"})
    table = table_from_describe(document)
    usage = {None: Usage(100.0, 50.0), "by-customer": Usage(20.0, 10.0)}
    context = dataclasses.replace(replicas_books(), usage=usage)
    result = ok(plan(table, TableChange(billing_mode=BillingMode.PROVISIONED,
                                        table=Throughput(200, 100),
                                        indexes=(("by-customer", Throughput(50, 20)),)),
                     NOW, rules=RULES, prices=HOME, context=context))  # fmt: skip
    ia_read_m, ia_rwrite_m = 0.15625, 0.78125  # per million request units
    storage = (100 + 10) * IA_GB / 730
    home = (100 + 20) * 3600 * ia_read_m / 1e6 + (50 + 10) * 3600 * ia_rwrite_m / 1e6 + storage
    replica = (50 + 10) * 3600 * ia_rwrite_m / 1e6 + storage  # replica reads: not measured here
    assert result.cost_before is not None
    assert result.cost_before.per_hour == pytest.approx(home + 2 * replica)
    assert any("not measured here" in a for a in result.assumptions)
    message = warning(result, "replicas-switch-mode")
    assert "eu-west-1, ap-southeast-2" in message and "provisioned" in message
    assert "write auto scaling" in warning(result, "global-needs-auto-scaling")


def test_class_aware_prices_keep_standard_by_default() -> None:
    capacity = Throughput(100, 10)
    assert provisioned_table_cost(capacity, HOME).per_hour == pytest.approx(
        100 * STD_RCU + 10 * STD_WCU
    )
    ia = provisioned_table_cost(
        capacity, HOME, storage_bytes=GIB, table_class=TableClass.STANDARD_INFREQUENT_ACCESS
    )
    assert ia.per_hour == pytest.approx(100 * IA_RCU + 10 * IA_WCU + IA_GB / 730)
    od = on_demand_table_cost(10, 10, HOME, table_class=TableClass.STANDARD_INFREQUENT_ACCESS)
    assert od.per_hour == pytest.approx(10 * 3600 * 0.15625 / 1e6 + 10 * 3600 * 0.78125 / 1e6)


# --------------------------------------------------------------------------------------------
# Plans: the replicas each change touches
# --------------------------------------------------------------------------------------------


def test_wcu_change_names_every_replica() -> None:
    table = table_from_describe(GLOBAL_IA)
    result = ok(plan(table, TableChange(table=Throughput(1000, 2000)), NOW, rules=RULES,
                     prices=HOME, context=replicas_books()))  # fmt: skip
    message = warning(result, "replicas-write-capacity")
    assert "500 → 2,000 WCU applies in eu-west-1, ap-southeast-2" in message
    assert "eu-west-1 $" in message  # each region's cost move


def test_rcu_change_skips_replicas_with_a_read_override() -> None:
    table = table_from_describe(GLOBAL_IA)
    result = ok(plan(table, TableChange(table=Throughput(2000, 500)), NOW, rules=RULES,
                     prices=HOME, context=replicas_books()))  # fmt: skip
    message = warning(result, "replicas-read-capacity")
    assert "applies in ap-southeast-2 too" in message
    assert "eu-west-1 (400 RCU) keeps its own read capacity" in message
    assert not [w for w in result.warnings if w.code == "replicas-write-capacity"]
    regions = {r.region: r for r in result.regions}
    eu = regions["eu-west-1"]
    assert eu.cost_before is not None and eu.cost_after is not None
    assert eu.cost_after.per_hour == pytest.approx(eu.cost_before.per_hour)  # override kept
    ap = regions["ap-southeast-2"]
    assert ap.cost_before is not None and ap.cost_after is not None
    assert ap.cost_after.per_hour - ap.cost_before.per_hour == pytest.approx(1000 * IA_RCU)


def test_switch_to_on_demand_warns_every_replica_switches() -> None:
    table = table_from_describe(GLOBAL_IA)
    result = ok(plan(table, TableChange(billing_mode=BillingMode.PAY_PER_REQUEST), NOW,
                     rules=RULES, prices=HOME, context=replicas_books()))  # fmt: skip
    assert "every replica too (eu-west-1, ap-southeast-2)" in warning(
        result, "replicas-switch-mode"
    )


@pytest.mark.parametrize("status", ["CREATING", "UPDATING", "DELETING"])
def test_a_changing_replica_refuses_the_update(status: str) -> None:
    document = doc()
    document["Table"]["Replicas"][1]["ReplicaStatus"] = status
    table = table_from_describe(document)
    for change in (
        TableChange(table=Throughput(1000, 600)),
        TableChange(billing_mode=BillingMode.PAY_PER_REQUEST),
        TableChange(table_class=TableClass.STANDARD),
    ):
        result = refused(plan(table, change, NOW, rules=RULES, prices=HOME))
        assert result.violations[0].code.value == "resource-busy"
        assert f"ap-southeast-2 ({status})" in result.violations[0].message


def test_an_unavailable_replica_is_warned() -> None:
    document = doc()
    document["Table"]["Replicas"][0]["ReplicaStatus"] = "INACCESSIBLE_ENCRYPTION_CREDENTIALS"
    table = table_from_describe(document)
    result = ok(
        plan(table, TableChange(table=Throughput(1000, 600)), NOW, rules=RULES, prices=HOME)
    )
    assert "eu-west-1 is INACCESSIBLE_ENCRYPTION_CREDENTIALS" in warning(
        result, "replica-unavailable"
    )


def test_replica_auto_scaling_is_respected() -> None:
    table = table_from_describe(GLOBAL_IA)
    context = dataclasses.replace(replicas_books(), replica_auto_scaled=frozenset({"eu-west-1"}))
    result = ok(plan(table, TableChange(table=Throughput(1000, 600)), NOW, rules=RULES,
                     prices=HOME, context=context))  # fmt: skip
    assert "eu-west-1" in warning(result, "replica-auto-scaling")
    reads_only = ok(plan(table, TableChange(table=Throughput(1100, 500)), NOW, rules=RULES,
                         prices=HOME, context=context))  # fmt: skip
    assert not [w for w in reads_only.warnings if w.code == "replica-auto-scaling"]


def test_fingerprint_sees_class_and_replicas() -> None:
    table = table_from_describe(GLOBAL_IA)
    assert fingerprint(table) != fingerprint(
        dataclasses.replace(table, table_class=TableClass.STANDARD)
    )
    other = dataclasses.replace(table.replicas[0], status="UPDATING")
    assert fingerprint(table) != fingerprint(
        dataclasses.replace(table, replicas=(other, table.replicas[1]))
    )


# --------------------------------------------------------------------------------------------
# The class switch
# --------------------------------------------------------------------------------------------

SINGLE_STANDARD = table_from_describe(
    {
        "Table": {
            "TableName": "audit-log",
            "TableStatus": "ACTIVE",
            "ProvisionedThroughput": {"ReadCapacityUnits": 100, "WriteCapacityUnits": 20},
            "TableSizeBytes": 500 * GIB,
            "BillingModeSummary": {"BillingMode": "PROVISIONED"},
            "TableClassSummary": {"TableClass": "STANDARD"},
        }
    }
)


def test_class_switch_break_even_with_the_numbers() -> None:
    to_ia = TableChange(table_class=TableClass.STANDARD_INFREQUENT_ACCESS)
    result = ok(plan(SINGLE_STANDARD, to_ia, NOW, rules=RULES, prices=HOME))
    saving = 500 * (STD_GB - IA_GB)  # $75.00 a month
    premium = (100 * (IA_RCU - STD_RCU) + 20 * (IA_WCU - STD_WCU)) * HOURS_PER_MONTH  # $4.53
    be = result.class_break_even
    assert be is not None
    assert be.storage_saving == pytest.approx(saving)
    assert be.throughput_premium == pytest.approx(premium)
    assert be.break_even_gb == pytest.approx(premium / (STD_GB - IA_GB))
    message = warning(result, "class-break-even")
    assert f"saves ${saving:,.2f}/month" in message and f"${premium:,.2f}/month more" in message
    assert f"net saving ${saving - premium:,.2f}/month" in message
    assert "AWS reports no earlier class update" in warning(result, "class-switch-limit")
    assert result.cost_after is not None and result.cost_before is not None
    assert result.cost_before.per_hour - result.cost_after.per_hour == pytest.approx(
        (saving - premium) / HOURS_PER_MONTH
    )
    assert result.summary == "audit-log: table class Standard → Standard-IA"


def test_class_switch_that_costs_more_says_so() -> None:
    small = dataclasses.replace(SINGLE_STANDARD, size_bytes=GIB)
    result = ok(plan(small, TableChange(table_class=TableClass.STANDARD_INFREQUENT_ACCESS), NOW,
                     rules=RULES, prices=HOME))  # fmt: skip
    assert "costs $" in warning(result, "class-costs-more")


def test_class_switch_limit_two_in_thirty_days() -> None:
    last = NOW - timedelta(days=3)
    table = dataclasses.replace(SINGLE_STANDARD, table_class_updated=last)
    known = (NOW - timedelta(days=20), last)
    result = refused(plan(table, TableChange(table_class=TableClass.STANDARD_INFREQUENT_ACCESS),
                          NOW, rules=RULES, prices=HOME,
                          context=PlanContext(class_switch_history=known)))  # fmt: skip
    (violation,) = result.violations
    assert violation.code.value == "class-switch-limit"
    assert result.allowed_at == NOW - timedelta(days=20) + timedelta(days=30)
    # the older one leaves the window: allowed again
    later = result.allowed_at + timedelta(seconds=1)
    ok(plan(table, TableChange(table_class=TableClass.STANDARD_INFREQUENT_ACCESS), later,
            rules=RULES, prices=HOME, context=PlanContext(class_switch_history=known)))  # fmt: skip


def test_class_switch_same_class_or_mixed_is_refused() -> None:
    same = refused(plan(SINGLE_STANDARD, TableChange(table_class=TableClass.STANDARD), NOW,
                        rules=RULES, prices=HOME))  # fmt: skip
    assert [v.code.value for v in same.violations] == ["no-change"]
    mixed = refused(plan(SINGLE_STANDARD, TableChange(table=Throughput(5, 5),
                                                      table_class=TableClass.STANDARD_INFREQUENT_ACCESS),
                         NOW, rules=RULES, prices=HOME))  # fmt: skip
    assert [v.code.value for v in mixed.violations] == ["separate-request"]


def test_class_switch_of_a_global_table_prices_this_region_only() -> None:
    table = table_from_describe(GLOBAL_IA)
    result = ok(plan(table, TableChange(table_class=TableClass.STANDARD), NOW, rules=RULES,
                     prices=HOME, context=replicas_books()))  # fmt: skip
    regions = {r.region: r for r in result.regions}
    home = regions["us-east-1"]
    assert home.table_class_after is TableClass.STANDARD
    assert regions["eu-west-1"].table_class_after is TableClass.STANDARD_INFREQUENT_ACCESS
    std_home = (
        1200 * STD_RCU + 600 * STD_WCU + 110 * STD_GB / 730  # Standard rWCU = 0.00065
    )
    assert home.cost_after is not None
    assert home.cost_after.per_hour == pytest.approx(std_home)
    assert "keeps it" in warning(result, "class-this-region")
    # AWS reported the last update on 2026-11-20: this would be the second in 30 days
    assert "class update 2" in warning(result, "class-switch-limit")
    assert result.class_budget is not None and result.class_budget.left == 1


# --------------------------------------------------------------------------------------------
# Any value anywhere in the replicas: a table or a DescribeError naming the field, never a
# traceback; a table that parses is planned without an exception
# --------------------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.sampled_from(
        ["STANDARD", "STANDARD_INFREQUENT_ACCESS", "ACTIVE", "CREATING", "us-east-1"]
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*path, key))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            found += _paths(inner, (*path, i))
    return found


GLOBAL_PATHS = [
    p
    for p in _paths(GLOBAL_IA)
    if len(p) > 1 and p[1] in ("Replicas", "TableClassSummary", "GlobalTableVersion")
]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(GLOBAL_PATHS), JSON_VALUES), min_size=1, max_size=3))
def test_any_replica_value_is_a_table_or_a_describe_error(
    edits: list[tuple[tuple[Any, ...], Any]],
) -> None:
    document = copy.deepcopy(GLOBAL_IA)
    for path, value in edits:
        target: Any = document
        try:
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit replaced the parent
    try:
        table = table_from_describe(document)
    except DescribeError as error:
        assert str(error).startswith("Table.")
        return
    for change in (
        TableChange(table=Throughput(1000, 600)),
        TableChange(billing_mode=BillingMode.PAY_PER_REQUEST),
        TableChange(table_class=TableClass.STANDARD),
    ):
        plan(table, change, NOW, rules=RULES, prices=HOME, context=replicas_books())


def test_class_switch_of_an_on_demand_table_without_traffic_states_the_storage_side() -> None:
    logs = table_from_describe(
        {
            "Table": {
                "TableName": "logs",
                "TableSizeBytes": 100 * GIB,
                "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
            }
        }
    )
    to_ia = TableChange(table_class=TableClass.STANDARD_INFREQUENT_ACCESS)
    result = ok(plan(logs, to_ia, NOW, rules=RULES, prices=HOME))
    assert result.class_break_even is None
    message = warning(result, "class-break-even")
    assert f"storage saves ${100 * (STD_GB - IA_GB):,.2f}/month" in message  # $15.00
    assert "not known here" in message
    # with traffic measured, the on-demand request prices of each class
    usage = PlanContext(usage={None: Usage(10.0, 5.0)})
    measured = ok(plan(logs, to_ia, NOW, rules=RULES, prices=HOME, context=usage))
    be = measured.class_break_even
    assert be is not None
    premium = (
        10 * 3600 * (0.15625 - 0.125) / 1e6 + 5 * 3600 * (0.78125 - 0.625) / 1e6
    ) * HOURS_PER_MONTH
    assert be.throughput_premium == pytest.approx(premium)


def test_gsi_read_change_follows_each_replicas_gsi_override() -> None:
    table = table_from_describe(GLOBAL_IA)
    change = TableChange(indexes=(("by-customer", Throughput(300, 100)),))
    result = ok(plan(table, change, NOW, rules=RULES, prices=HOME, context=replicas_books()))
    message = warning(result, "replicas-read-capacity")
    assert message.startswith("order-history/by-customer: 200 → 300 RCU applies in ap-southeast-2")
    assert "eu-west-1 (50 RCU) keeps its own read capacity" in message
    regions = {r.region: r for r in result.regions}
    ap = regions["ap-southeast-2"]
    assert ap.cost_before is not None and ap.cost_after is not None
    assert ap.cost_after.per_hour - ap.cost_before.per_hour == pytest.approx(100 * IA_RCU)


def test_a_legacy_global_table_says_only_this_region_is_priced() -> None:
    """Version 2017.11.29 lists no Replicas in DescribeTable: the plan must not pass it off
    as a single-region table without a word."""
    document = doc(GlobalTableVersion="2017.11.29")
    del document["Table"]["Replicas"]
    table = table_from_describe(document)
    result = ok(plan(table, TableChange(table=Throughput(1000, 600)), NOW, rules=RULES,
                     prices=HOME))  # fmt: skip
    assert any("2017.11.29 (legacy)" in note for note in result.assumptions)
    current = ok(plan(table_from_describe(doc()), TableChange(table=Throughput(1000, 600)), NOW,
                      rules=RULES, prices=HOME))  # fmt: skip
    assert not any("legacy" in note for note in current.assumptions)
