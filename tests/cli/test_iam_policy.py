"""``capcon iam-policy``: least-privilege policies derived from the adapter's one list of AWS
actions; every operation capcon performs on a moto server is allowed to an operator, and the
viewer's policy holds no action that changes anything."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.client import BaseClient

from capcon.core.backends.aws.actions import ACTIONS, ALARM_ACTIONS, ALL_ACTIONS, STATE_ACTIONS
from capcon.core.backends.aws.iam import (
    MUTATING,
    RESOURCE_SCOPED,
    PolicyError,
    allowed_actions,
    policy,
)
from tests.support.aws import create_state_table, create_table
from tests.support.cli import run

#: botocore service names whose IAM prefix differs (none today; CloudWatch is "cloudwatch")
IAM_PREFIX = {"monitoring": "cloudwatch"}


def test_the_viewer_reads_everything_and_changes_nothing() -> None:
    viewer = allowed_actions(policy("viewer"))
    assert viewer.isdisjoint(MUTATING)
    changing = ("Update", "Split", "Merge", "Register", "Deregister", "Put", "Delete", "Set")
    assert [a for a in viewer if a.split(":")[1].startswith(changing)] == []
    assert viewer == {a for a in ACTIONS if a not in MUTATING} | {"pricing:GetProducts"}
    operator = allowed_actions(policy("operator"))
    assert set(ACTIONS) <= operator
    assert operator >= MUTATING
    assert "pricing:GetProducts" in operator  # capcon prices update
    # what AAS needs of its caller to set up target tracking on DynamoDB
    assert {"cloudwatch:PutMetricAlarm", "iam:CreateServiceLinkedRole"} <= operator


def test_named_tables_and_streams_scope_their_actions() -> None:
    document = policy(
        "operator", tables=["orders"], streams=["clicks"], region="eu-west-1",
        account="123456789012",
    )  # fmt: skip
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    assert by_sid["Tables"]["Resource"] == ["arn:aws:dynamodb:eu-west-1:123456789012:table/orders"]
    assert "dynamodb:UpdateTable" in by_sid["Tables"]["Action"]
    assert by_sid["Streams"]["Resource"] == ["arn:aws:kinesis:eu-west-1:123456789012:stream/clicks"]
    assert "kinesis:UpdateShardCount" in by_sid["Streams"]["Action"]
    assert "dynamodb:UpdateTable" not in by_sid["AccountWide"]["Action"]
    slr = by_sid["AutoScalingServiceLinkedRole"]
    assert slr["Condition"] == {
        "StringLike": {"iam:AWSServiceName": "dynamodb.application-autoscaling.amazonaws.com"}
    }


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"tables": ["a b"]}, "not a DynamoDB table name"),
        ({"tables": ["ab"]}, "not a DynamoDB table name"),
        ({"streams": ["x/y"]}, "not a Kinesis stream name"),
        ({"account": "12345"}, "12 digits"),
        ({"region": "moon-1"}, "not a region name"),
        ({"partition": "aws-xx"}, "allowed aws, aws-cn, aws-us-gov"),
    ],
)
def test_what_a_policy_cannot_be_scoped_to_is_named(kwargs: dict[str, Any], words: str) -> None:
    with pytest.raises(PolicyError, match=words):
        policy("viewer", **kwargs)


def test_the_command_prints_the_policy_and_refuses_bad_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = run(capsys, "iam-policy", "--role", "viewer", "--tables", "orders")
    assert result.code == 0
    assert result.document()["Version"] == "2012-10-17"
    bad = run(capsys, "iam-policy", "--role", "operator", "--tables", "x\x1b[31m")
    assert bad.code == 2 and "Traceback" not in bad.err and "\x1b" not in bad.err
    assert run(capsys, "iam-policy", "--role", "root").code == 2


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Every AWS operation any boto3 client sends while the test runs, as an IAM action."""
    seen: set[str] = set()
    original = getattr(BaseClient, "_make_api_call")  # noqa: B009 (botocore's private API)

    def record(self: BaseClient, operation: str, params: Any) -> Any:
        service = self.meta.service_model.service_name
        seen.add(f"{IAM_PREFIX.get(service, service)}:{operation}")
        return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", record)
    return seen


def test_every_operation_capcon_performs_on_moto_is_in_the_operator_policy(
    url: str,
    raw: Callable[[str], Any],
    capsys: pytest.CaptureFixture[str],
    recorded: set[str],
) -> None:
    create_table(raw("dynamodb"), "orders", 10, 10)
    raw("kinesis").create_stream(StreamName="clicks", ShardCount=2)
    recorded.clear()  # only what capcon itself sends from here on
    for argv in (
        ("ls",),
        ("show", "orders"),
        ("show", "clicks"),
        ("scale", "orders", "--wcu", "12", "--yes"),
        ("scale", "clicks", "--shards", "4", "--yes"),
    ):
        result = run(capsys, "--endpoint-url", url, *argv)
        assert result.code == 0, (argv, result.err)
    assert {"dynamodb:UpdateTable", "kinesis:UpdateShardCount"} <= recorded
    operator = allowed_actions(policy("operator", tables=["orders"], streams=["clicks"]))
    assert recorded - operator == set()
    viewer = allowed_actions(policy("viewer"))
    assert recorded - viewer == {"dynamodb:UpdateTable", "kinesis:UpdateShardCount"}


def test_the_engine_gets_its_tables_streams_state_alarms_and_logs_and_nothing_wide() -> None:
    document = policy(
        "engine", tables=["orders"], streams=["clicks"], region="eu-west-1",
        account="123456789012", stack="prod",
    )  # fmt: skip
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    arn = "arn:aws:{}:eu-west-1:123456789012:{}"
    assert by_sid["Tables"]["Resource"] == [arn.format("dynamodb", "table/orders")]
    assert by_sid["Streams"]["Resource"] == [arn.format("kinesis", "stream/clicks")]
    assert by_sid["StateTable"]["Resource"] == [arn.format("dynamodb", "table/prod-StateTable-*")]
    assert set(by_sid["StateTable"]["Action"]) == set(STATE_ACTIONS)
    assert by_sid["StackAlarms"]["Resource"] == [arn.format("cloudwatch", "alarm:prod-*")]
    assert by_sid["Logs"]["Resource"] == [arn.format("logs", "log-group:/capcon/prod/scaler:*")]
    engine = allowed_actions(document)
    assert set(ALARM_ACTIONS) <= engine and {"dynamodb:UpdateTable", "kinesis:SplitShard"} <= engine
    # never: switch a stream's mode, set up AAS, read prices
    assert engine.isdisjoint(
        {"kinesis:UpdateStreamMode", "application-autoscaling:RegisterScalableTarget",
         "application-autoscaling:PutScalingPolicy", "pricing:GetProducts"}
    )  # fmt: skip
    # no table, stream or state action on "*"
    for statement in document["Statement"]:
        if statement["Resource"] == "*":
            assert RESOURCE_SCOPED.isdisjoint(statement["Action"]), statement
    assert engine - {"logs:CreateLogStream", "logs:PutLogEvents"} <= set(ALL_ACTIONS)


def test_the_engine_without_tables_gets_no_table_statement_and_needs_a_stack() -> None:
    by_sid = {s["Sid"] for s in policy("engine", streams=["clicks"], stack="s")["Statement"]}
    assert "Tables" not in by_sid and "Streams" in by_sid
    for stack in (None, "1x", "a_b"):
        with pytest.raises(PolicyError, match="needs --stack"):
            policy("engine", tables=["orders"], stack=stack)


def test_the_engine_command_needs_its_stack(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "iam-policy", "--role", "engine", "--stack", "prod", "--tables", "orders")
    assert result.code == 0, result.err
    sids = [s["Sid"] for s in result.document()["Statement"]]
    assert {"Tables", "StateTable", "StackAlarms", "Logs"} <= set(sids)
    assert run(capsys, "iam-policy", "--role", "engine").code == 2
    wrong = run(capsys, "iam-policy", "--role", "viewer", "--stack", "prod")
    assert wrong.code == 2 and "--role engine only" in wrong.err


def test_deploy_template_only_reads_what_the_viewer_may(
    url: str,
    raw: Callable[[str], Any],
    capsys: pytest.CaptureFixture[str],
    recorded: set[str],
) -> None:
    create_table(raw("dynamodb"), "orders", 10, 10)
    raw("kinesis").create_stream(StreamName="clicks", ShardCount=2)
    recorded.clear()
    result = run(
        capsys, "--endpoint-url", url, "deploy", "template", "--stack", "prod",
        "--policy", "h2", "--tables", "orders", "--streams", "clicks",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "dynamodb:DescribeTable" in recorded
    viewer = allowed_actions(policy("viewer", tables=["orders"], streams=["clicks"]))
    assert recorded - viewer == set()


def test_every_operation_the_deployed_engine_performs_on_moto_is_in_the_engine_policy(
    url: str,
    raw: Callable[[str], Any],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    recorded: set[str],
) -> None:
    """The Lambda entry point, live, on an alarm notification that scales a table out (state
    claimed and saved, intent and outcome audited, alarms re-tuned and re-armed) and on a
    tick over a table and a stream: every operation it sends is in the engine role."""
    from datetime import UTC, datetime, timedelta

    from capcon.core.deploy.alarms import alarms_for
    from capcon.core.deploy.handler import handler
    from capcon.core.deploy.spec import DeploySpec, spec_environment
    from capcon.core.ports import Scalable
    from tests.deploy.test_events import notification, sns

    create_table(raw("dynamodb"), "orders", 10, 100)
    raw("kinesis").create_stream(StreamName="clicks", ShardCount=2)
    create_state_table(raw("dynamodb"), "shop-StateTable-X1")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    for minutes in range(1, 6):  # 90 % of the 100 WCU: h1 scales out
        raw("cloudwatch").put_metric_data(
            Namespace="AWS/DynamoDB",
            MetricData=[
                {
                    "MetricName": "ConsumedWriteCapacityUnits",
                    "Dimensions": [{"Name": "TableName", "Value": "orders"}],
                    "Timestamp": now - timedelta(minutes=minutes),
                    "Value": 90 * 60,
                }
            ],
        )
    writes = Scalable("orders", "write")
    managed = (Scalable("orders", "read"), writes, Scalable("clicks", "shards"))
    spec = DeploySpec("shop", "h1", 70, managed)
    for name, value in spec_environment(spec).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CAPCON_DRY_RUN", "false")
    monkeypatch.setenv("CAPCON_STATE_TABLE", "shop-StateTable-X1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    (high,) = alarms_for(spec, writes, 100)
    raw("cloudwatch").put_metric_alarm(
        AlarmName=high.name, MetricName="ConsumedWriteCapacityUnits", Namespace="AWS/DynamoDB",
        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=high.threshold,
        ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip
    recorded.clear()  # only what the engine sends from here on

    class Context:
        aws_request_id = "req-1"

    woken = handler(sns(notification(high.name, high.description)), Context())
    assert woken["ok"], woken["errors"]
    [decided] = woken["decisions"]
    assert decided["outcome"] in ("accepted", "applied"), decided
    ticked = handler({"capcon": "tick", "id": "tick-1"}, Context())
    assert ticked["ok"], ticked["errors"]
    capsys.readouterr()
    assert {
        "dynamodb:UpdateTable", "cloudwatch:GetMetricData", "cloudwatch:PutMetricAlarm",
        "dynamodb:PutItem", "dynamodb:GetItem",
    } <= recorded  # fmt: skip
    engine = allowed_actions(policy("engine", tables=["orders"], streams=["clicks"], stack="shop"))
    assert recorded - engine == set()
