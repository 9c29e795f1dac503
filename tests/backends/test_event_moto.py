"""``capcon event`` on a moto server (which stores Application Auto Scaling scheduled actions
without running them): ``apply`` for a table with auto scaling and one without creates the
scheduled actions with the right times and capacities (and the scheduled-only target for the
one without), ``ls`` lists them, ``cancel`` removes them; every operation sent is in the
operator's IAM policy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.client import BaseClient

from capcon.core.backends.aws.iam import allowed_actions, policy
from tests.support.aws import create_table
from tests.support.cli import Run, run

NAMESPACE = "dynamodb"
WRITES = "dynamodb:table:WriteCapacityUnits"
#: botocore service names whose IAM prefix differs
IAM_PREFIX = {"monitoring": "cloudwatch"}


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Every AWS operation a boto3 client sends while the test runs, as an IAM action."""
    seen: set[str] = set()
    original = getattr(BaseClient, "_make_api_call")  # noqa: B009 (botocore's private API)

    def record(self: BaseClient, operation: str, params: Any) -> Any:
        service = self.meta.service_model.service_name
        seen.add(f"{IAM_PREFIX.get(service, service)}:{operation}")
        return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", record)
    return seen


def at(moment: datetime) -> str:
    return f"at({moment.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat()})"


def actions(aas: Any, table: str) -> dict[str, dict[str, Any]]:
    found = aas.describe_scheduled_actions(ServiceNamespace=NAMESPACE, ResourceId=f"table/{table}")[
        "ScheduledActions"
    ]
    return {a["ScheduledActionName"]: a for a in found}


def targets(aas: Any, table: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = aas.describe_scalable_targets(
        ServiceNamespace=NAMESPACE, ResourceIds=[f"table/{table}"]
    )["ScalableTargets"]
    return found


def bounds(action: dict[str, Any]) -> tuple[int, int]:
    target = action["ScalableTargetAction"]
    return target["MinCapacity"], target["MaxCapacity"]


def test_apply_ls_and_cancel_create_list_and_remove_the_scheduled_actions(
    url: str,
    raw: Callable[[str], Any],
    capsys: pytest.CaptureFixture[str],
    recorded: set[str],
) -> None:
    ddb, aas = raw("dynamodb"), raw("application-autoscaling")
    create_table(ddb, "orders", 10, 10)  # auto scaling 5–50 on writes
    create_table(ddb, "sessions", 10, 8)  # no auto scaling
    aas.register_scalable_target(
        ServiceNamespace=NAMESPACE, ResourceId="table/orders", ScalableDimension=WRITES,
        MinCapacity=5, MaxCapacity=50,
    )  # fmt: skip
    aas.put_scaling_policy(
        PolicyName="orders-writes", ServiceNamespace=NAMESPACE, ResourceId="table/orders",
        ScalableDimension=WRITES, PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 70.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "DynamoDBWriteCapacityUtilization"
            },
        },
    )  # fmt: skip
    recorded.clear()  # only what capcon sends from here on
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start, end = now + timedelta(hours=3), now + timedelta(hours=5)
    when = ("--start", start.isoformat(), "--end", end.isoformat())

    def capcon(*argv: str) -> Run:
        result = run(capsys, "--endpoint-url", url, "event", *argv)
        assert result.code == 0, (argv, result.err)
        return result

    with_aas = capcon("apply", "orders", *when, "--wcu", "200", "--yes", "--json").document()
    without = capcon("apply", "sessions", *when, "--wcu", "80", "--yes", "--json").document()
    assert (with_aas["outcome"], without["outcome"]) == ("applied", "applied")
    first, second = with_aas["event_id"], without["event_id"]
    assert first != second

    # the table with auto scaling: min raised to the peak (max lifted to it), then put back
    found = actions(aas, "orders")
    assert set(found) == {
        f"capcon-event-{first}-raise-write",
        f"capcon-event-{first}-restore-write",
    }
    raise_, restore = (found[f"capcon-event-{first}-{p}-write"] for p in ("raise", "restore"))
    assert bounds(raise_) == (200, 200) and bounds(restore) == (5, 50)
    assert restore["Schedule"] == at(end)
    raise_at = datetime.fromisoformat(raise_["Schedule"][3:-1]).replace(tzinfo=UTC)
    assert start - timedelta(minutes=30) <= raise_at < start  # sent ahead, ready at the start
    assert [(t["MinCapacity"], t["MaxCapacity"]) for t in targets(aas, "orders")] == [(5, 50)]

    # the table without: a scheduled-only target at today's capacity, min = max each way
    found = actions(aas, "sessions")
    raise_, restore = (found[f"capcon-event-{second}-{p}-write"] for p in ("raise", "restore"))
    assert bounds(raise_) == (80, 80) and bounds(restore) == (8, 8)
    assert restore["Schedule"] == at(end)
    assert [(t["MinCapacity"], t["MaxCapacity"]) for t in targets(aas, "sessions")] == [(8, 8)]
    capacity = ddb.describe_table(TableName="sessions")["Table"]["ProvisionedThroughput"]
    assert capacity["WriteCapacityUnits"] == 8  # nothing changes before the event

    listed = capcon("ls", "--json").document()["events"]
    by_id = {r["event_id"]: r for r in listed if r["source"] == "capcon"}
    assert set(by_id) == {first, second}
    assert by_id[first]["resource"] == "orders" and by_id[first]["status"] == "upcoming"
    assert by_id[second]["auto_scaling"] == f"scheduled-only (event {second})"
    assert by_id[first]["auto_scaling"] != f"scheduled-only (event {first})"

    assert capcon("cancel", first, "--yes", "--json").document()["outcome"] == "applied"
    assert capcon("cancel", second, "--yes", "--json").document()["outcome"] == "applied"
    assert actions(aas, "orders") == {} and actions(aas, "sessions") == {}
    assert targets(aas, "sessions") == []  # the target registered for the event is gone
    assert [(t["MinCapacity"], t["MaxCapacity"]) for t in targets(aas, "orders")] == [(5, 50)]
    assert capcon("ls", "--json").document()["events"] == []

    assert {
        "application-autoscaling:PutScheduledAction",
        "application-autoscaling:DeleteScheduledAction",
        "application-autoscaling:RegisterScalableTarget",
        "application-autoscaling:DeregisterScalableTarget",
    } <= recorded
    operator = allowed_actions(policy("operator", tables=["orders", "sessions"]))
    assert recorded - operator == set()


def test_an_event_left_open_is_reconciled_by_the_next_command(
    url: str, raw: Callable[[str], Any], capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from capcon.core.config.paths import audit_path

    create_table(raw("dynamodb"), "sessions", 10, 8)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    when = ("--start", (now + timedelta(hours=3)).isoformat(),
            "--end", (now + timedelta(hours=5)).isoformat())  # fmt: skip
    applied = run(capsys, "--endpoint-url", url, "event", "apply", "sessions", *when,
                  "--wcu", "80", "--yes")  # fmt: skip
    assert applied.code == 0, applied.err
    log = audit_path()
    kept = [line for line in log.read_text().splitlines() if '"phase": "outcome"' not in line]
    log.write_text("\n".join(kept) + "\n")  # killed before its outcome was written
    listed = run(capsys, "--endpoint-url", url, "event", "ls")
    assert listed.code == 0, listed.err
    assert "reconciled as applied" in listed.err
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["phase"], r["kind"]) for r in records] == [
        ("intent", "event"),
        ("reconciled", "event"),
    ]
    assert records[-1]["outcome"] == "applied"
