"""Application Auto Scaling: traps, planned changes, and applying them on both backends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from capcon.core.backends.aws.adapter import AwsAdapter
from capcon.core.backends.aws.session import AwsSession
from capcon.core.backends.sim.account import SimAccount, TableSpec
from capcon.core.backends.sim.tables import SimSettings
from capcon.core.backends.sim.traffic import Steady
from capcon.core.config.prices import load_price_book
from capcon.core.model import BillingMode, Index, Table, Throughput
from capcon.core.planning.autoscaling import AutoScalingPlan, find_traps, plan_autoscaling
from capcon.core.planning.planner import Refusal, Usage
from capcon.core.planning.requests import AutoScalingChange
from capcon.core.ports import (
    TABLE_READ,
    TABLE_WRITE,
    WRITE_UTILIZATION,
    ScalableTarget,
    ScalingPolicy,
)
from capcon.core.rules import RuleSettings
from capcon.core.services.audit import AuditLog, Origin
from capcon.core.services.overview import auto_scaling_by_resource, collect_rows
from capcon.core.services.scaler import Scaler

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
RULES = RuleSettings()
PRICES = load_price_book("us-east-1")


def target(dim: str = TABLE_WRITE, lo: int = 5, hi: int = 100) -> ScalableTarget:
    return ScalableTarget("table/t", dim, lo, hi)


def policy(
    dim: str = TABLE_WRITE, value: float = 70.0, kind: str = "TargetTrackingScaling"
) -> ScalingPolicy:
    return ScalingPolicy("p", "table/t", dim, kind, value, WRITE_UTILIZATION)


TABLE = Table("t", provisioned=Throughput(50, 50))


# --- traps ----------------------------------------------------------------------------------


def test_registered_but_no_policy_is_a_trap() -> None:
    traps = find_traps(TABLE, None, (target(),), ())
    assert traps == ["writes: scalable target registered but no policy — nothing scales"]


def test_policy_on_only_one_dimension() -> None:
    traps = find_traps(TABLE, None, (target(),), (policy(),))
    assert traps == ["auto scaling covers only writes: reads stay fixed"]
    both = find_traps(TABLE, None, (target(), target(TABLE_READ)), (policy(), policy(TABLE_READ)))
    assert both == []


def test_step_scaling_and_target_out_of_range() -> None:
    traps = find_traps(TABLE, None, (target(),), (policy(kind="StepScaling"),))
    assert any("StepScaling" in t and "never acts" in t for t in traps)
    traps = find_traps(TABLE, None, (target(),), (policy(value=95),))
    assert any("outside the 20–90%" in t for t in traps)


def test_capacity_outside_min_max_and_on_demand_and_deleted() -> None:
    low = find_traps(TABLE, None, (target(lo=80, hi=100),), (policy(),))
    assert any("below min 80: registering moves it up" in t for t in low)
    high = find_traps(TABLE, None, (target(lo=5, hi=20),), (policy(),))
    assert any("above max 20: registering moves it down" in t for t in high)
    od = Table("t", billing_mode=BillingMode.PAY_PER_REQUEST)
    assert any("on-demand" in t for t in find_traps(od, None, (target(),), (policy(),)))
    gone = find_traps(None, None, (target(),), (policy(),))
    assert gone and "no longer exists" in gone[0]


# --- planning -------------------------------------------------------------------------------


def plan_for(
    change: AutoScalingChange, table: Table = TABLE, **kw: Any
) -> AutoScalingPlan | Refusal:
    return plan_autoscaling(
        table, change, kw.pop("targets", ()), kw.pop("policies", ()), NOW,
        rules=RULES, prices=PRICES, **kw,
    )  # fmt: skip


def test_plan_shows_capacity_now_at_traffic_cost_range_and_partitions_at_max() -> None:
    change = AutoScalingChange("t", None, "write", 10, 5_000, 50)
    result = plan_for(change, usage=Usage(10, 40))
    assert isinstance(result, AutoScalingPlan)
    assert result.current == 50
    assert result.capacity_after_registration == 50
    assert result.capacity_at_current_traffic == 80  # 40 / 50 %
    assert result.cost_at_min == pytest.approx(50 * 0.00013 + 10 * 0.00065)
    assert result.cost_at_max == pytest.approx(50 * 0.00013 + 5_000 * 0.00065)
    assert result.partitions_at_max.count > result.partitions_now.count
    assert "partitions-at-max" in {w.code for w in result.warnings}


def test_lowering_max_below_current_warns_about_the_decrease() -> None:
    result = plan_for(AutoScalingChange("t", None, "write", 5, 20, 70))
    assert isinstance(result, AutoScalingPlan)
    assert result.capacity_after_registration == 20
    assert "registration-decrease" in {w.code for w in result.warnings}


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (AutoScalingChange("t", None, "write", 0, 10, 70), "below 1"),
        (AutoScalingChange("t", None, "write", 50, 10, 70), "below min"),
        (AutoScalingChange("t", None, "write", 5, 50_000, 70), "quota"),
        (AutoScalingChange("t", None, "write", 5, 50, 95), "20–90%"),
        (AutoScalingChange("t", "nope", "write", 5, 50, 70), "no index"),
        (AutoScalingChange("t", None, "write", enabled=False), "not set up"),
    ],
)
def test_bad_changes_are_refused(change: AutoScalingChange, words: str) -> None:
    result = plan_for(change)
    assert isinstance(result, Refusal)
    assert words in " ".join(v.message for v in result.violations)


def test_on_demand_table_is_refused() -> None:
    od = Table("t", billing_mode=BillingMode.PAY_PER_REQUEST)
    result = plan_for(AutoScalingChange("t", None, "write", 5, 50, 70), od)
    assert isinstance(result, Refusal)
    assert "on-demand" in result.violations[0].message


def test_gsi_dimension() -> None:
    table = Table(
        "t", provisioned=Throughput(5, 5), indexes=(Index("g", provisioned=Throughput(7, 9)),)
    )
    result = plan_for(AutoScalingChange("t", "g", "read", 1, 100, 70), table)
    assert isinstance(result, AutoScalingPlan)
    assert result.change.resource_id == "table/t/index/g"
    assert result.change.scalable_dimension == "dynamodb:index:ReadCapacityUnits"
    assert result.current == 7


# --- the simulated account --------------------------------------------------------------------


def sim() -> SimAccount:
    acc = SimAccount(NOW, settings=SimSettings(update_seconds=30, metric_delay_seconds=60))
    acc.add_table(TableSpec("t", Throughput(50, 200), reads=Steady(5), writes=Steady(40)))
    acc.advance(600)
    return acc


def apply(acc: Any, change: AutoScalingChange, log: AuditLog, wait: Callable[[float], None]) -> Any:
    table = acc.describe_table(change.table)
    state = auto_scaling_by_resource(acc).get(change.resource_id)
    targets = state.targets if state else ()
    policies = state.policies if state else ()
    result = plan_autoscaling(
        table, change, targets, policies, acc.now(), rules=RULES, prices=PRICES
    )
    assert isinstance(result, AutoScalingPlan), result
    return Scaler(acc, log, Origin("test", "test"), wait=wait, poll_seconds=5).apply_autoscaling(
        result
    )


def test_sim_lowering_max_moves_capacity_down_with_an_audit_record(tmp_path: Path) -> None:
    acc = sim()
    log = AuditLog(tmp_path / "audit.jsonl")
    outcome = apply(
        acc, AutoScalingChange("t", None, "write", 5, 100, 70), log, lambda s: acc.advance(int(s))
    )
    assert outcome.outcome == "applied"
    table = acc.describe_table("t")
    assert table.provisioned == Throughput(50, 100)
    assert table.history.decreases_today == 1
    records = log.read()
    assert [r["phase"] for r in records] == ["intent", "outcome"]
    assert records[-1]["outcome"] == "applied"
    assert records[-1]["after"]["targets"][0]["max_capacity"] == 100


def test_sim_policy_change_changes_later_scaling(tmp_path: Path) -> None:
    acc = sim()
    log = AuditLog(tmp_path / "audit.jsonl")
    wait: Callable[[float], None] = lambda s: acc.advance(int(s))  # noqa: E731
    # At 70% the steady 40 writes/s on 200 WCU is far below target: auto scaling scales in.
    apply(acc, AutoScalingChange("t", None, "write", 5, 400, 70), log, wait)
    acc.advance(40 * 60)
    settled_70 = acc.describe_table("t").provisioned
    assert settled_70 is not None and settled_70.write == 58  # ceil(40 / 0.7)
    # A lower target (30%) changes what it aims for: 40 / 0.3 → 134.
    apply(acc, AutoScalingChange("t", None, "write", 5, 400, 30), log, wait)
    acc.advance(20 * 60)
    settled_30 = acc.describe_table("t").provisioned
    assert settled_30 is not None and settled_30.write == 134
    assert any(
        "Setting write capacity units to 134" in a.description
        for a in acc.describe_scaling_activities("table/t")
    )


def test_sim_switch_off_removes_target_and_policy(tmp_path: Path) -> None:
    acc = sim()
    log = AuditLog(tmp_path / "audit.jsonl")
    wait: Callable[[float], None] = lambda s: acc.advance(int(s))  # noqa: E731
    apply(acc, AutoScalingChange("t", None, "write", 5, 400, 70), log, wait)
    assert acc.describe_scalable_targets()
    apply(acc, AutoScalingChange("t", None, "write", enabled=False), log, wait)
    assert acc.describe_scalable_targets() == []
    assert acc.describe_scaling_policies() == []


def test_stale_autoscaling_plan_is_refused(tmp_path: Path) -> None:
    acc = sim()
    change = AutoScalingChange("t", None, "write", 5, 400, 70)
    result = plan_autoscaling(
        acc.describe_table("t"), change, (), (), acc.now(), rules=RULES, prices=PRICES
    )
    assert isinstance(result, AutoScalingPlan)
    acc.register_scalable_target(ScalableTarget("table/t", TABLE_WRITE, 1, 1000))  # someone else
    log = AuditLog(tmp_path / "audit.jsonl")
    outcome = Scaler(acc, log, Origin("t", "t"), wait=lambda s: None).apply_autoscaling(result)
    assert outcome.outcome == "refused"
    assert "changed since the preview" in (outcome.error or "")
    assert acc.describe_scaling_policies() == []


# --- a moto server, with plain boto3 calls as field note A made them ------------------------
# (docs/field-notes.md#a-nightly-bulk-load)


def create_table(ddb: Any, name: str) -> None:
    ddb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 10},
    )


def test_moto_boto3_targets_show_up_with_the_no_policy_trap(
    url: str, raw: Callable[[str], Any]
) -> None:
    ddb, aas = raw("dynamodb"), raw("application-autoscaling")
    create_table(ddb, "recs")
    create_table(ddb, "users")
    for table in ("recs", "users"):
        for dim in (TABLE_READ, TABLE_WRITE):
            aas.register_scalable_target(
                ServiceNamespace="dynamodb", ResourceId=f"table/{table}",
                ScalableDimension=dim, MinCapacity=5, MaxCapacity=500,
            )  # fmt: skip
    # Field note A (docs/field-notes.md#the-no-policy-trap): a policy for recs only; users is
    # registered with no policy.
    for dim, metric in (
        (TABLE_READ, "DynamoDBReadCapacityUtilization"),
        (TABLE_WRITE, WRITE_UTILIZATION),
    ):
        aas.put_scaling_policy(
            PolicyName=f"recs-{metric}", ServiceNamespace="dynamodb", ResourceId="table/recs",
            ScalableDimension=dim, PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 70.0,
                "PredefinedMetricSpecification": {"PredefinedMetricType": metric},
            },
        )  # fmt: skip
    adapter = AwsAdapter(AwsSession(endpoint_url=url))
    rows = {r.name: r for r in collect_rows(adapter, RULES, PRICES)}
    assert rows["recs"].auto_scaling.marker == "AAS"
    assert rows["recs"].auto_scaling.traps == ()
    assert rows["users"].auto_scaling.marker == "AAS!"
    assert "no policy" in rows["users"].auto_scaling.traps[0]


def test_moto_changes_through_capcon_are_visible_to_boto3(
    url: str, raw: Callable[[str], Any], tmp_path: Path
) -> None:
    ddb, aas = raw("dynamodb"), raw("application-autoscaling")
    create_table(ddb, "recs")
    adapter = AwsAdapter(AwsSession(endpoint_url=url))
    log = AuditLog(tmp_path / "audit.jsonl")
    outcome = apply(
        adapter, AutoScalingChange("recs", None, "write", 5, 300, 60), log, lambda s: None
    )
    assert outcome.outcome == "applied", outcome.error
    targets = aas.describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"]
    assert [(t["ResourceId"], t["MinCapacity"], t["MaxCapacity"]) for t in targets] == [
        ("table/recs", 5, 300)
    ]
    policies = aas.describe_scaling_policies(ServiceNamespace="dynamodb")["ScalingPolicies"]
    config = policies[0]["TargetTrackingScalingPolicyConfiguration"]
    assert config["TargetValue"] == 60.0
    assert config["PredefinedMetricSpecification"]["PredefinedMetricType"] == WRITE_UTILIZATION
    assert [r["phase"] for r in log.read()] == ["intent", "outcome"]
