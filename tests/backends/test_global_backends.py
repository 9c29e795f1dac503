"""Global tables and table classes through the backends: the AWS adapter (moto where it models
the call, botocore's Stubber with AWS's own response shapes where it does not) and the
simulated account, and a class switch applied by the scaler with its audit record."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from capcon.core.backends.aws.adapter import AwsAdapter
from capcon.core.backends.aws.errors import MalformedAnswer
from capcon.core.backends.aws.session import AwsSession
from capcon.core.backends.sim.account import SimAccount, TableSpec
from capcon.core.backends.sim.scenarios import build_scenario
from capcon.core.backends.sim.tables import SimSettings
from capcon.core.backends.sim.traffic import Steady
from capcon.core.config.prices import load_price_book
from capcon.core.errors import AccessDenied, LimitExceeded
from capcon.core.model import (
    Replica,
    ReplicaScaling,
    ScalingRange,
    TableClass,
    Throughput,
)
from capcon.core.planning.planner import PlanContext, ScalePlan, plan
from capcon.core.ports import ReplicaAutoScaling, TableChange
from capcon.core.rules import RuleSettings
from capcon.core.services.audit import AuditLog, Origin
from capcon.core.services.inspect import known_class_switches
from capcon.core.services.scaler import Scaler
from tests.backends.test_aws_adapter import closed_port, count_calls
from tests.support.aws import create_table
from tests.unit.test_global_tables import GLOBAL_IA

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def adapter(url: str) -> AwsAdapter:
    return AwsAdapter(AwsSession(endpoint_url=url))


@pytest.fixture
def offline(aws_env: Path) -> AwsAdapter:
    return AwsAdapter(AwsSession(endpoint_url=f"http://127.0.0.1:{closed_port()}", max_attempts=1))


# --------------------------------------------------------------------------------------------
# The AWS adapter
# --------------------------------------------------------------------------------------------


def test_class_switch_is_sent_as_table_class_on_moto(
    adapter: AwsAdapter, raw: Callable[[str], Any]
) -> None:
    """moto accepts ``TableClass`` (and ignores it): the request carries it, nothing else."""
    create_table(raw("dynamodb"), "history")
    sent = count_calls(adapter.dynamodb_once, "before-parameter-build.dynamodb.UpdateTable")
    adapter.update_table("history", TableChange(table_class=TableClass.STANDARD_INFREQUENT_ACCESS))
    assert sent == [{"TableName": "history", "TableClass": "STANDARD_INFREQUENT_ACCESS"}]
    assert AwsAdapter.table_request("t", TableChange(table_class=TableClass.STANDARD)) == {
        "TableName": "t",
        "TableClass": "STANDARD",
    }


def test_describe_of_a_global_table_through_boto3(offline: AwsAdapter) -> None:
    """The Stubber validates the answer against botocore's DescribeTable shape, so the
    fixture's ``Replicas`` are AWS's own fields."""
    answer = copy.deepcopy(GLOBAL_IA)
    for key in ("CreationDateTime",):
        answer["Table"][key] = datetime(2024, 5, 14, 8, 1, 12, tzinfo=UTC)
    answer["Table"]["ProvisionedThroughput"]["LastIncreaseDateTime"] = datetime(
        2026, 11, 30, 12, tzinfo=UTC
    )
    answer["Table"]["TableClassSummary"]["LastUpdateDateTime"] = datetime(
        2026, 11, 20, 10, tzinfo=UTC
    )
    # botocore's model says PositiveLongObject; AWS prints 0, the Stubber refuses it
    del answer["Table"]["ProvisionedThroughput"]["NumberOfDecreasesToday"]
    del answer["Table"]["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"][
        "NumberOfDecreasesToday"
    ]
    summary = answer["Table"]["Replicas"][0]["ReplicaTableClassSummary"]
    summary["LastUpdateDateTime"] = datetime(2024, 5, 14, 8, 30, tzinfo=UTC)
    with Stubber(offline.dynamodb) as stub:
        stub.add_response("describe_table", answer, {"TableName": "order-history"})
        table = offline.describe_table("order-history")
        stub.assert_no_pending_responses()
    assert table.table_class is TableClass.STANDARD_INFREQUENT_ACCESS
    assert [r.region for r in table.replicas] == ["eu-west-1", "ap-southeast-2"]
    assert table.replicas[0].read_override == 400


REPLICA_AUTO_SCALING: dict[str, Any] = {
    "TableAutoScalingDescription": {
        "TableName": "order-history",
        "TableStatus": "ACTIVE",
        "Replicas": [
            {
                "RegionName": "eu-west-1",
                "ReplicaProvisionedWriteCapacityAutoScalingSettings": {
                    "MinimumUnits": 100,
                    "MaximumUnits": 4000,
                    "AutoScalingDisabled": False,
                    "ScalingPolicies": [
                        {
                            "PolicyName": "write",
                            "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 70.0},
                        }
                    ],
                },
                "ReplicaStatus": "ACTIVE",
            },
            {"RegionName": "ap-southeast-2", "ReplicaStatus": "ACTIVE"},
        ],
    }
}


def test_replica_auto_scaling_through_boto3(offline: AwsAdapter) -> None:
    assert isinstance(offline, ReplicaAutoScaling)
    with Stubber(offline.dynamodb) as stub:
        stub.add_response(
            "describe_table_replica_auto_scaling",
            REPLICA_AUTO_SCALING,
            {"TableName": "order-history"},
        )
        eu, ap = offline.describe_table_replica_auto_scaling("order-history")
    assert eu.write_scaled and eu.write == ScalingRange(100, 4000, 70.0, False)
    assert not ap.write_scaled


def test_replica_auto_scaling_errors_are_typed(offline: AwsAdapter) -> None:
    with Stubber(offline.dynamodb) as stub:
        stub.add_client_error(
            "describe_table_replica_auto_scaling",
            service_error_code="AccessDeniedException",
            service_message="no",
            http_status_code=400,
        )
        with pytest.raises(AccessDenied):
            offline.describe_table_replica_auto_scaling("t")
    bad = copy.deepcopy(REPLICA_AUTO_SCALING)
    bad["TableAutoScalingDescription"]["Replicas"][0].pop("RegionName")
    with Stubber(offline.dynamodb) as stub:
        stub.add_response("describe_table_replica_auto_scaling", bad, {"TableName": "t"})
        with pytest.raises(MalformedAnswer, match="RegionName is missing"):
            offline.describe_table_replica_auto_scaling("t")


def test_replica_auto_scaling_on_moto_is_none(
    adapter: AwsAdapter, raw: Callable[[str], Any]
) -> None:
    """moto 5.2.5 does not implement the call: no replica is auto scaled, nothing fails."""
    create_table(raw("dynamodb"), "solo")
    assert adapter.describe_table_replica_auto_scaling("solo") == ()


# --------------------------------------------------------------------------------------------
# The simulated account
# --------------------------------------------------------------------------------------------


def sim(**settings: Any) -> SimAccount:
    account = SimAccount(T0, settings=SimSettings(metric_delay_seconds=0, **settings))
    account.add_table(
        TableSpec(
            "history",
            Throughput(100, 20),
            reads=Steady(5),
            writes=Steady(2),
            size_bytes=200 * 2**30,
            replicas=(Replica("eu-west-1"),),
            replica_scaling=(ReplicaScaling("eu-west-1", write=ScalingRange(5, 50, 70.0)),),
        )
    )
    return account


def test_sim_applies_a_class_switch_after_the_update_time() -> None:
    account = sim(update_seconds=60)
    table = account.update_table(
        "history", TableChange(table_class=TableClass.STANDARD_INFREQUENT_ACCESS)
    )
    assert table.status == "UPDATING" and table.table_class is TableClass.STANDARD
    account.advance(61)
    table = account.describe_table("history")
    assert table.status == "ACTIVE"
    assert table.table_class is TableClass.STANDARD_INFREQUENT_ACCESS
    assert table.table_class_updated == T0
    assert table.replicas == (Replica("eu-west-1"),)
    assert account.describe_table_replica_auto_scaling("history")[0].write_scaled


def test_sim_refuses_a_third_class_switch_in_thirty_days() -> None:
    account = sim(update_seconds=60)
    account.update_table("history", TableChange(table_class=TableClass.STANDARD_INFREQUENT_ACCESS))
    account.advance(86_400, resolution=60)
    account.update_table("history", TableChange(table_class=TableClass.STANDARD))
    account.advance(86_400, resolution=60)
    with pytest.raises(LimitExceeded, match="2 table class updates in the trailing"):
        account.update_table(
            "history", TableChange(table_class=TableClass.STANDARD_INFREQUENT_ACCESS)
        )
    assert account.describe_table("history").table_class is TableClass.STANDARD


def test_scaler_applies_a_class_switch_and_the_audit_log_counts_it(tmp_path: Path) -> None:
    account = sim(update_seconds=30)
    audit = AuditLog(tmp_path / "audit.jsonl")
    table = account.describe_table("history")
    prices = load_price_book("us-east-1")
    change = TableChange(table_class=TableClass.STANDARD_INFREQUENT_ACCESS)
    result = plan(table, change, account.now(), rules=RuleSettings(), prices=prices)
    assert isinstance(result, ScalePlan)
    scaler = Scaler(
        account, audit, Origin("someone", "simulated"), wait=lambda s: account.advance(int(s))
    )
    applied = scaler.apply(result)
    assert applied.outcome == "applied", applied.error
    assert applied.after is not None
    assert applied.after.table_class is TableClass.STANDARD_INFREQUENT_ACCESS  # type: ignore[union-attr]
    outcome = [r for r in audit.read() if r.get("phase") == "outcome"][-1]
    assert outcome["before"]["table_class"] == "STANDARD"
    assert outcome["after"]["table_class"] == "STANDARD_INFREQUENT_ACCESS"
    intent = [r for r in audit.read() if r.get("phase") == "intent"][-1]
    assert intent["details"]["expect"] == {"table_class": "STANDARD_INFREQUENT_ACCESS"}
    (known,) = known_class_switches(audit, "history")
    # the next plan knows of it even though AWS (here the sim) would report only the last
    again = plan(
        account.describe_table("history"),
        TableChange(table_class=TableClass.STANDARD),
        account.now() + timedelta(days=1),
        rules=RuleSettings(),
        prices=prices,
        context=PlanContext(class_switch_history=(known,)),
    )
    assert isinstance(again, ScalePlan)
    assert again.class_budget is not None and again.class_budget.used == 1


def test_demo_has_a_global_standard_ia_table_and_keeps_the_others() -> None:
    account = build_scenario("demo", T0)
    tables = [account.describe_table(name) for name in account.list_tables()]
    global_tables = [t for t in tables if t.is_global]
    assert len(global_tables) == 1
    (table,) = global_tables
    assert table.table_class is TableClass.STANDARD_INFREQUENT_ACCESS
    assert len(table.replicas) == 2 and all(r.is_active for r in table.replicas)
    others = [t for t in tables if t is not table]
    assert all(t.table_class is TableClass.STANDARD and not t.replicas for t in others)
    assert {t.name for t in others} >= {
        "checkout", "leaderboard", "recommendations", "user-events", "sessions", "orders",
        "audit-log", "inventory",
    }  # fmt: skip
