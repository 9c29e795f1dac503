"""Managing a deployed engine's stack (issue 17): ``core/backends/aws/stacks.py`` and
``capcon deploy apply | status | live | pause | delete``, ``capcon audit --stack`` on a moto
server.

What moto's CloudFormation does (moto 5.2): change sets are computed at once (``CREATE_COMPLETE``
on the first describe) and executed at once (no ``…_IN_PROGRESS`` to follow); a change set's
rows ignore parameter changes (a new ``CodeKey`` alone lists no row); a change set with the
same template and parameters ends ``FAILED`` "didn't contain changes" but still lists a row;
a stack created through a change set has no ``Outputs``; ``AWS::CloudWatch::Alarm`` is
skipped (the tests create the stack's alarms through PutMetricAlarm); there is no rollback;
a deleted stack still answers by its id (``DELETE_COMPLETE``), not by its name.
"""

from __future__ import annotations

import io
import sys
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from capcon.core.backends.aws.session import AwsSession
from capcon.core.backends.aws.stacks import (
    MAX_TEMPLATE_BODY,
    StackError,
    StackEvent,
    Stacks,
    capabilities,
    first_failure,
    owned_capacity,
    package_key,
    retained,
)
from capcon.core.backends.aws.statestore import DynamoAuditStore
from capcon.core.deploy.spec import alarm_description, alarm_name, alarm_prefix
from capcon.core.errors import NotFound
from capcon.core.ports import Scalable
from capcon.tui.cli import deploy_stack
from tests.support.aws import create_table, quick_aws
from tests.support.cli import Run, run
from tests.support.faultproxy import Deny, FaultProxy, Rewrite
from tests.support.hostile import leaks, squeeze, visible

#: moto warns on each template resource it skips (the alarms): said in the docstring above
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS")

STACK = "orders-engine"
BUCKET = "capcon-code"
NOW = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)


def code(text: str = "x = 1") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("capcon/__init__.py", (2026, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()


def template(*, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A small engine-like template: the state table (retained), a topic, a role, a function
    whose code is the CodeBucket/CodeKey parameters and whose DryRun is the parameter, a tick
    rule, a log group and an alarm (moto skips it)."""
    resources: dict[str, Any] = {
        "StateTable": {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
            },
        },
        "AlarmTopic": {"Type": "AWS::SNS::Topic"},
        "ScalerRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            },
        },
        "ScalerFunction": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Runtime": "python3.12",
                "Handler": "capcon.core.deploy.handler.handler",
                "Role": {"Fn::GetAtt": ["ScalerRole", "Arn"]},
                "Code": {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}},
                "Environment": {
                    "Variables": {
                        "CAPCON_DRY_RUN": {"Ref": "DryRun"},
                        "CAPCON_STATE_TABLE": {"Ref": "StateTable"},
                    }
                },
            },
        },
        "TickRule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "ScheduleExpression": "rate(30 minutes)",
                "Targets": [{"Id": "scaler", "Arn": {"Fn::GetAtt": ["ScalerFunction", "Arn"]}}],
            },
        },
        "ScalerLogGroup": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 30}},
        "Alarm0": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": f"{STACK}-table/orders:read-high",
                "Namespace": "AWS/DynamoDB",
                "MetricName": "ConsumedReadCapacityUnits",
                "Dimensions": [{"Name": "TableName", "Value": "orders"}],
                "Statistic": "Sum",
                "Period": 60,
                "EvaluationPeriods": 1,
                "Threshold": 100,
                "ComparisonOperator": "GreaterThanThreshold",
                "AlarmActions": [{"Ref": "AlarmTopic"}],
            },
        },
    }
    resources.update(extra or {})
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {
            "DryRun": {"Type": "String", "Default": "true", "AllowedValues": ["true", "false"]},
            "CodeBucket": {"Type": "String"},
            "CodeKey": {"Type": "String"},
        },
        "Resources": resources,
        "Outputs": {
            "StateTable": {"Value": {"Ref": "StateTable"}},
            "Topic": {"Value": {"Ref": "AlarmTopic"}},
        },
    }


@pytest.fixture
def stacks(url: str, raw: Callable[[str], Any]) -> Stacks:
    raw("s3").create_bucket(Bucket=BUCKET)
    polls: list[float] = []
    return Stacks(AwsSession(endpoint_url=url), wait=polls.append, poll_seconds=0.01)


def params(key: str, dry_run: str | None = "true") -> dict[str, str | None]:
    return {"CodeBucket": BUCKET, "CodeKey": key, "DryRun": dry_run}


def create(stacks: Stacks, data: bytes | None = None) -> str:
    upload = stacks.upload_package(BUCKET, STACK, data or code())
    change_set = stacks.create_change_set(
        STACK, template(), params(upload.key), bucket=BUCKET, now=NOW
    )
    followed = stacks.execute_change_set(change_set)
    assert followed.ok, followed
    return upload.key


def put_alarm(cloudwatch: Any, stack: str, key: str, *, enabled: bool) -> str:
    scalable = Scalable.parse(key)
    name = alarm_name(stack, scalable, "high")
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        AlarmDescription=alarm_description(stack, scalable, "reads above target"),
        Namespace="AWS/DynamoDB",
        MetricName="ConsumedReadCapacityUnits",
        Dimensions=[{"Name": "TableName", "Value": scalable.name}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=100.0,
        ComparisonOperator="GreaterThanThreshold",
        ActionsEnabled=enabled,
        AlarmActions=["arn:aws:sns:us-east-1:123456789012:topic"],
    )
    return name


# --------------------------------------------------------------------------------------------
# Pure parts
# --------------------------------------------------------------------------------------------


def test_package_key_is_the_content() -> None:
    key, digest = package_key(STACK, b"abc")
    assert key == f"capcon/{STACK}/{digest}.zip"
    assert digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert package_key(STACK, b"abd")[0] != key


def test_only_the_state_table_may_be_owned() -> None:
    assert owned_capacity(template()) == []
    owned = template(
        extra={
            "Orders": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
            "Clicks": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 1}},
            "Global": {"Type": "AWS::DynamoDB::GlobalTable", "Properties": {}},
        }
    )
    assert owned_capacity(owned) == [
        "Orders (AWS::DynamoDB::Table)",
        "Clicks (AWS::Kinesis::Stream)",
        "Global (AWS::DynamoDB::GlobalTable)",
    ]
    # a stream named like the state table is still a stream
    sneaky = {"Resources": {"StateTable": {"Type": "AWS::Kinesis::Stream"}}}
    assert owned_capacity(sneaky) == ["StateTable (AWS::Kinesis::Stream)"]


def test_capabilities_follow_the_template() -> None:
    assert capabilities({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}) == []
    assert capabilities(template()) == ["CAPABILITY_IAM"]
    named = template(
        extra={"Named": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "engine"}}}
    )
    assert capabilities(named) == ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]
    assert "CAPABILITY_AUTO_EXPAND" in capabilities({**template(), "Transform": "AWS::Serverless"})


def test_retained_reads_the_deletion_policy() -> None:
    assert retained(template(), "StateTable")
    assert not retained(template(), "AlarmTopic")
    assert not retained(template(), "Missing")


def event(logical: str, kind: str, status: str, reason: str = "") -> StackEvent:
    return StackEvent(f"{logical}-{status}", None, logical, kind, status, reason)


def test_first_failure_names_the_resource_that_failed_first() -> None:
    # newest first, as DescribeStackEvents lists them
    events = [
        event(STACK, "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE"),
        event(
            STACK,
            "AWS::CloudFormation::Stack",
            "ROLLBACK_IN_PROGRESS",
            "The following resource(s) failed to create: [Alarm3, TickRule].",
        ),
        event("TickRule", "AWS::Events::Rule", "CREATE_FAILED", "Resource creation cancelled"),
        event("Alarm3", "AWS::CloudWatch::Alarm", "CREATE_FAILED", "Period 30 is not valid"),
        event("AlarmTopic", "AWS::SNS::Topic", "CREATE_COMPLETE"),
    ]
    assert first_failure(events) == "Alarm3 (AWS::CloudWatch::Alarm): Period 30 is not valid"
    # events of the same second come in any order: a cancellation is never the cause
    swapped = [events[0], events[1], events[3], events[2], events[4]]
    assert first_failure(swapped) == "Alarm3 (AWS::CloudWatch::Alarm): Period 30 is not valid"
    assert first_failure([events[0]]) is None
    only_stack = [
        event(
            STACK,
            "AWS::CloudFormation::Stack",
            "UPDATE_ROLLBACK_IN_PROGRESS",
            "Parameter DryRun failed",
        )
    ]
    assert first_failure(only_stack) == f"{STACK}: Parameter DryRun failed"


# --------------------------------------------------------------------------------------------
# On moto
# --------------------------------------------------------------------------------------------


def test_upload_is_content_addressed(stacks: Stacks, raw: Callable[[str], Any]) -> None:
    first = stacks.upload_package(BUCKET, STACK, code())
    assert first.uploaded
    assert raw("s3").get_object(Bucket=BUCKET, Key=first.key)["Body"].read() == code()
    again = stacks.upload_package(BUCKET, STACK, code())
    assert (again.key, again.uploaded) == (first.key, False)
    changed = stacks.upload_package(BUCKET, STACK, code("x = 2"))
    assert changed.uploaded and changed.key != first.key


def test_a_missing_bucket_is_named(stacks: Stacks) -> None:
    with pytest.raises(NotFound, match="S3 bucket 'no-such-bucket' does not exist"):
        stacks.upload_package("no-such-bucket", STACK, code())


def test_create_then_update_through_change_sets(stacks: Stacks) -> None:
    key = stacks.upload_package(BUCKET, STACK, code()).key
    change_set = stacks.create_change_set(STACK, template(), params(key), bucket=BUCKET, now=NOW)
    assert (change_set.kind, change_set.status) == ("CREATE", "CREATE_COMPLETE")
    added = {(c.action, c.logical_id, c.resource_type) for c in change_set.changes}
    assert ("Add", "ScalerFunction", "AWS::Lambda::Function") in added
    assert ("Add", "StateTable", "AWS::DynamoDB::Table") in added
    assert stacks.describe(STACK).status == "REVIEW_IN_PROGRESS"

    followed = stacks.execute_change_set(change_set)
    assert (followed.status, followed.ok, followed.failure) == ("CREATE_COMPLETE", True, None)
    info = stacks.describe(STACK)
    assert info.parameters == {"DryRun": "true", "CodeBucket": BUCKET, "CodeKey": key}
    assert stacks.physical_id(info, "StateTable", output="StateTable")

    # the same template and code: nothing to change
    same = stacks.create_change_set(STACK, template(), params(key, None), bucket=BUCKET, now=NOW)
    assert same.kind == "UPDATE" and same.empty
    stacks.delete_change_set(same)

    # new code: a new key, DryRun kept as it is
    new_key = stacks.upload_package(BUCKET, STACK, code("x = 2")).key
    update = stacks.create_change_set(
        STACK, template(), params(new_key, None), bucket=BUCKET, now=NOW
    )
    assert update.ready and not update.empty
    assert stacks.execute_change_set(update).ok
    assert stacks.describe(STACK).parameters["CodeKey"] == new_key


def test_a_template_owning_capacity_is_refused_before_anything_is_sent(stacks: Stacks) -> None:
    owning = template(extra={"Orders": {"Type": "AWS::DynamoDB::Table", "Properties": {}}})
    with pytest.raises(StackError, match=r"creates Orders \(AWS::DynamoDB::Table\)"):
        stacks.create_change_set(STACK, owning, params("k"), bucket=BUCKET, now=NOW)
    assert stacks.find(STACK) is None


def test_a_deleted_create_change_set_leaves_no_stack(stacks: Stacks) -> None:
    key = stacks.upload_package(BUCKET, STACK, code()).key
    change_set = stacks.create_change_set(STACK, template(), params(key), bucket=BUCKET, now=NOW)
    stacks.delete_change_set(change_set)
    assert stacks.find(STACK) is None


def test_a_large_template_goes_through_s3(stacks: Stacks, raw: Callable[[str], Any]) -> None:
    topics = {
        f"Topic{i}": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "t" * 90}}
        for i in range(400)
    }
    big = template(extra=topics)
    key = stacks.upload_package(BUCKET, STACK, code()).key
    change_set = stacks.create_change_set(STACK, big, params(key), bucket=BUCKET, now=NOW)
    assert change_set.ready
    listed = raw("s3").list_objects_v2(Bucket=BUCKET, Prefix=f"capcon/{STACK}/template-")
    (stored,) = listed["Contents"]
    assert stored["Size"] > MAX_TEMPLATE_BODY


def test_parameters_flip_and_say_when_already_set(stacks: Stacks) -> None:
    key = create(stacks)
    info = stacks.describe(STACK)
    followed = stacks.set_parameters(info, {"DryRun": "false"})
    assert followed is not None and followed.ok
    after = stacks.describe(STACK)
    assert after.parameters == {"DryRun": "false", "CodeBucket": BUCKET, "CodeKey": key}
    assert stacks.set_parameters(after, {"DryRun": "false"}) is None
    with pytest.raises(StackError, match="no parameter Nope"):
        stacks.set_parameters(after, {"Nope": "1"})


def test_alarms_of_a_stack_and_their_actions(stacks: Stacks, raw: Callable[[str], Any]) -> None:
    cloudwatch = raw("cloudwatch")
    mine = put_alarm(cloudwatch, STACK, "table/orders:read", enabled=True)
    # another stack whose name starts with this one's prefix, and a stranger's alarm
    theirs = put_alarm(cloudwatch, f"{STACK}-eu", "table/orders:read", enabled=True)

    def owned(description: str) -> bool:
        return f"[capcon stack={STACK} " in description

    found = stacks.alarms(alarm_prefix(STACK), owned=owned)
    assert [(a.name, a.actions_enabled) for a in found] == [(mine, True)]
    stacks.set_alarm_actions([mine], False)
    described = cloudwatch.describe_alarms(AlarmNames=[mine, theirs])["MetricAlarms"]
    assert {a["AlarmName"]: a["ActionsEnabled"] for a in described} == {
        mine: False,
        theirs: True,
    }


def test_delete_follows_the_stack_out(stacks: Stacks, raw: Callable[[str], Any]) -> None:
    create(stacks)
    info = stacks.describe(STACK)
    table = stacks.physical_id(info, "StateTable", output="StateTable")
    followed = stacks.delete(info)
    assert (followed.status, followed.ok) == ("DELETE_COMPLETE", True)
    assert stacks.find(STACK) is None
    with pytest.raises(NotFound, match=f"no stack named '{STACK}' in us-east-1"):
        stacks.describe(STACK)
    assert table in raw("dynamodb").list_tables()["TableNames"]  # retained


# --------------------------------------------------------------------------------------------
# The CLI: capcon deploy apply | status | live | pause | delete, capcon audit --stack
# --------------------------------------------------------------------------------------------

TABLE = "orders"


@pytest.fixture
def account(url: str, raw: Callable[[str], Any]) -> str:
    """The moto server with the code bucket and one provisioned table."""
    raw("s3").create_bucket(Bucket=BUCKET)
    create_table(raw("dynamodb"), TABLE)
    return url


@pytest.fixture
def package() -> bytes:
    """The engine's code package, as ``deploy apply`` builds it."""
    return deploy_stack.package()


def cli(capsys: pytest.CaptureFixture[str], endpoint: str, *argv: str) -> Run:
    return run(capsys, *argv, "--endpoint-url", endpoint)


def apply(capsys: pytest.CaptureFixture[str], endpoint: str, *extra: str) -> Run:
    return cli(
        capsys,
        endpoint,
        "deploy", "apply", "--stack", STACK, "--policy", "capcon", "--tables", TABLE,
        "--bucket", BUCKET, *extra,
    )  # fmt: skip


def stack_parameters(raw: Callable[[str], Any]) -> dict[str, str]:
    (stack,) = raw("cloudformation").describe_stacks(StackName=STACK)["Stacks"]
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}


def no_stack(raw: Callable[[str], Any]) -> bool:
    names = [s["StackName"] for s in raw("cloudformation").describe_stacks()["Stacks"]]
    return STACK not in names


def test_apply_creates_the_stack_and_a_second_apply_changes_nothing(
    capsys: pytest.CaptureFixture[str],
    account: str,
    package: bytes,
    raw: Callable[[str], Any],
) -> None:
    first = apply(capsys, account, "--yes")
    assert first.code == 0, first.err
    key, _ = package_key(STACK, package)
    assert raw("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read() == package
    assert f"s3://{BUCKET}/{key}" in first.out and "uploaded" in first.out
    assert "Add" in first.out and "ScalerFunction" in first.out
    assert f"DRY RUN until `capcon deploy live --stack {STACK}`" in first.out
    assert stack_parameters(raw) == {"DryRun": "true", "CodeBucket": BUCKET, "CodeKey": key}
    assert "Traceback" not in first.err

    second = apply(capsys, account, "--yes")
    assert second.code == 0, second.err
    assert "already there (same code, not uploaded again)" in second.out
    assert "no changes" in second.out
    summaries = raw("cloudformation").list_change_sets(StackName=STACK)["Summaries"]
    assert [s["ExecutionStatus"] for s in summaries] == ["EXECUTE_COMPLETE"]


def test_apply_without_a_terminal_or_yes_leaves_nothing(
    capsys: pytest.CaptureFixture[str], account: str, package: bytes, raw: Callable[[str], Any]
) -> None:
    refused = apply(capsys, account)
    assert refused.code == 2
    assert "confirmation needed: run in a terminal, or add --yes" in refused.err
    assert no_stack(raw)


def test_a_no_at_the_prompt_leaves_nothing(
    capsys: pytest.CaptureFixture[str],
    account: str,
    package: bytes,
    raw: Callable[[str], Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str] = []
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)

    def answer(question: str) -> str:
        asked.append(question)
        return "n"

    monkeypatch.setattr("builtins.input", answer)
    refused = apply(capsys, account)
    assert refused.code == 1
    assert asked == [f"Execute this change set on stack {STACK}? [y/N] "]
    assert "not executed: the change set was deleted" in refused.out
    assert no_stack(raw)


def test_status_live_pause_and_delete(
    capsys: pytest.CaptureFixture[str],
    account: str,
    package: bytes,
    raw: Callable[[str], Any],
) -> None:
    assert apply(capsys, account, "--yes").code == 0
    cloudwatch = raw("cloudwatch")
    # moto's CloudFormation skips AWS::CloudWatch::Alarm: the stack's alarm made by hand
    name = put_alarm(cloudwatch, STACK, f"table/{TABLE}:write", enabled=False)
    stranger = put_alarm(cloudwatch, f"{STACK}-eu", f"table/{TABLE}:write", enabled=False)

    shown = cli(capsys, account, "deploy", "status", "--stack", STACK, "--json")
    assert shown.code == 0, shown.err
    document = shown.document()
    assert (document["stack"], document["status"], document["dry_run"]) == (
        STACK,
        "CREATE_COMPLETE",
        True,
    )
    assert [(a["name"], a["actions_enabled"]) for a in document["alarms"]] == [(name, False)]
    assert {s["logical_id"] for s in document["schedules"]} >= {"TickRule"}
    text = cli(capsys, account, "deploy", "status", "--stack", STACK)
    assert "DRY RUN (DryRun=true)" in text.out and name in text.out

    live = cli(capsys, account, "deploy", "live", "--stack", STACK)
    assert live.code == 0, live.err
    assert "DryRun set to false" in live.out and "alarm actions enabled on 1 alarm" in live.out
    assert stack_parameters(raw)["DryRun"] == "false"

    def enabled() -> dict[str, bool]:
        alarms = cloudwatch.describe_alarms(AlarmNames=[name, stranger])["MetricAlarms"]
        return {a["AlarmName"]: a["ActionsEnabled"] for a in alarms}

    assert enabled() == {name: True, stranger: False}
    again = cli(capsys, account, "deploy", "live", "--stack", STACK)
    assert "DryRun was already false" in again.out and "(1 already enabled)" in again.out

    paused = cli(capsys, account, "deploy", "pause", "--stack", STACK)
    assert paused.code == 0, paused.err
    assert "DryRun set to true" in paused.out and "alarm actions disabled on 1" in paused.out
    assert stack_parameters(raw)["DryRun"] == "true"
    assert enabled() == {name: False, stranger: False}

    # an update keeps what live/pause made of DryRun
    assert cli(capsys, account, "deploy", "live", "--stack", STACK).code == 0
    assert apply(capsys, account, "--yes").code == 0
    assert stack_parameters(raw)["DryRun"] == "false"

    gone = cli(capsys, account, "deploy", "delete", "--stack", STACK, "--yes")
    assert gone.code == 0, gone.err
    assert "the state table" in gone.out and "is retained" in gone.out
    assert "tables and streams are untouched" in gone.out
    assert no_stack(raw)
    assert TABLE in raw("dynamodb").list_tables()["TableNames"]


def test_audit_of_a_stack_reads_its_state_table(
    capsys: pytest.CaptureFixture[str],
    account: str,
    package: bytes,
    raw: Callable[[str], Any],
) -> None:
    assert apply(capsys, account, "--yes").code == 0
    resources = raw("cloudformation").describe_stack_resources(StackName=STACK)
    (table,) = [
        r["PhysicalResourceId"]
        for r in resources["StackResources"]
        if r.get("LogicalResourceId") == "StateTable"  # moto lists skipped ones without
    ]
    store = DynamoAuditStore(raw("dynamodb"), table)
    hostile = "red\x1b[31mrow"
    store.append(
        {
            "at": "2026-12-02T05:00:00+00:00",
            "change_id": "c-1",
            "phase": "intent",
            "origin": {"who": "[bold red]x[/]", "backend": "title\x1b]0;pwned\x07t"},
            "resource": hostile,
            "summary": "writes 100 → 200",
        }
    )
    shown = cli(capsys, account, "audit", "--stack", STACK)
    assert shown.code == 0, shown.err
    assert "c-1" in shown.out and "writes 100 → 200" in shown.out
    assert leaks(shown.out) == []
    assert visible(hostile) in squeeze(shown.out) and "[bold red]x[/]" in shown.out
    as_json = cli(capsys, account, "audit", "--stack", STACK, "--json")
    (record,) = as_json.document()
    assert record["change_id"] == "c-1" and record["resource"] == hostile
    status = cli(capsys, account, "deploy", "status", "--stack", STACK, "--json")
    assert status.code == 0, status.err
    assert [r["change_id"] for r in status.document()["audit"]] == ["c-1"]
    text = cli(capsys, account, "deploy", "status", "--stack", STACK)
    assert "c-1" in text.out and leaks(text.out) == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("deploy", "status", "--stack", "nope"), "no stack named 'nope' in us-east-1"),
        (("deploy", "live", "--stack", "nope"), "no stack named 'nope'"),
        (("audit", "--stack", "nope"), "no stack named 'nope'"),
        (("deploy", "delete", "--stack", "nope", "--yes"), "no stack named 'nope'"),
    ],
)
def test_a_missing_stack_is_a_message(
    capsys: pytest.CaptureFixture[str], account: str, argv: tuple[str, ...], message: str
) -> None:
    result = cli(capsys, account, *argv)
    assert result.code == 3
    assert message in result.err and "Traceback" not in result.err


def test_a_missing_bucket_is_a_message_and_nothing_is_created(
    capsys: pytest.CaptureFixture[str], account: str, package: bytes, raw: Callable[[str], Any]
) -> None:
    result = cli(
        capsys,
        account,
        "deploy", "apply", "--stack", STACK, "--policy", "capcon", "--tables", TABLE,
        "--bucket", "no-such-bucket", "--yes",
    )  # fmt: skip
    assert result.code == 3
    assert "S3 bucket 'no-such-bucket' does not exist" in result.err
    assert no_stack(raw)


@pytest.mark.parametrize("command", ["apply", "live", "pause", "delete"])
def test_read_only_refuses_every_change(
    capsys: pytest.CaptureFixture[str], account: str, command: str
) -> None:
    argv = ["deploy", command, "--stack", STACK, "--read-only"]
    if command == "apply":
        argv += ["--policy", "capcon", "--tables", TABLE, "--bucket", BUCKET]
    result = cli(capsys, account, *argv)
    assert result.code == 2
    assert "this session is read-only" in result.err


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("1-bad", "a letter, then letters, digits or hyphens"),
        ("bad_name", "a letter, then letters, digits or hyphens"),
        ("bad\x1b[2J", "without control characters"),
    ],
)
def test_a_bad_stack_name_is_refused(
    capsys: pytest.CaptureFixture[str], account: str, name: str, message: str
) -> None:
    for argv in (("deploy", "status", "--stack", name), ("audit", "--stack", name)):
        result = cli(capsys, account, *argv)
        assert result.code == 2
        assert message in result.err
        assert "\x1b" not in result.err


def test_access_denied_is_a_message_and_the_change_set_is_not_left(
    capsys: pytest.CaptureFixture[str],
    account: str,
    package: bytes,
    raw: Callable[[str], Any],
) -> None:
    with FaultProxy(account) as proxy, quick_aws(read_timeout=5.0, max_attempts=1):
        proxy.add_rule(operation="ExecuteChangeSet", action=Deny())
        result = apply(capsys, proxy.url, "--yes")
        assert proxy.sent("DeleteChangeSet") == 1
    assert result.code == 3
    assert "access denied" in result.err and "cloudformation:ExecuteChangeSet" in result.err
    assert "Traceback" not in result.err
    assert no_stack(raw)


def test_following_a_stack_is_bounded_in_time(
    stacks: Stacks, raw: Callable[[str], Any], url: str
) -> None:
    create(stacks)
    stack_id = stacks.describe(STACK).stack_id
    ticks = iter(range(0, 10_000, 10))
    waits: list[float] = []
    with FaultProxy(url) as proxy:
        proxy.add_rule(
            operation="DescribeStacks",
            action=Rewrite(text=lambda body: body.replace("CREATE_COMPLETE", "UPDATE_IN_PROGRESS")),
        )
        slow = Stacks(
            AwsSession(endpoint_url=proxy.url),
            wait=waits.append,
            clock=lambda: float(next(ticks)),
            poll_seconds=5.0,
            timeout_seconds=60.0,
        )
        with pytest.raises(StackError, match="still UPDATE_IN_PROGRESS after 60 s"):
            slow.follow(stack_id, after=None)
    assert waits and len(waits) <= 7 and set(waits) == {5.0}


def test_a_rolled_back_apply_says_so(
    capsys: pytest.CaptureFixture[str],
    account: str,
    package: bytes,
) -> None:
    with FaultProxy(account) as proxy, quick_aws(read_timeout=5.0, max_attempts=1):
        # the two reads before the change set is executed see the truth, the rest a rollback
        proxy.add_rule(
            operation="DescribeStacks",
            skip=2,
            action=Rewrite(text=lambda body: body.replace("CREATE_COMPLETE", "ROLLBACK_COMPLETE")),
        )
        result = apply(capsys, proxy.url, "--yes")
    assert result.code == 1, result.err
    assert f"FAILED: stack {STACK} ended ROLLBACK_COMPLETE" in result.out
    assert "rolled the stack back" in result.out


def test_apply_refuses_a_template_owning_capacity_before_uploading(
    capsys: pytest.CaptureFixture[str],
    account: str,
    package: bytes,
    raw: Callable[[str], Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """capcon's template never owns a table; a template that does (an edited one, a future
    bug) is refused before the code is uploaded or a change set made."""
    owning = template(extra={"Orders": {"Type": "AWS::DynamoDB::Table", "Properties": {}}})
    monkeypatch.setattr(deploy_stack, "build_template", lambda args, session: owning)
    result = apply(capsys, account, "--yes")
    assert result.code == 1
    assert "creates Orders (AWS::DynamoDB::Table)" in result.err
    assert "nothing was sent" in result.out
    assert raw("s3").list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    assert no_stack(raw)


def test_invoke_keeps_state_in_the_deployed_stacks_table(
    capsys: pytest.CaptureFixture[str],
    account: str,
    raw: Callable[[str], Any],
    tmp_path: Any,
) -> None:
    """``deploy invoke`` without ``--state`` continues where the deployed engine is: the event
    it handles is claimed in the stack's own state table, so the deployed Lambda would not
    handle it again (and a second invoke says so); without the stack it is a local file."""
    template = tmp_path / "t.json"
    made = cli(capsys, account, "deploy", "template", "--stack", STACK, "--policy", "capcon",
               "--tables", TABLE, "--out", str(template))  # fmt: skip
    assert made.code == 0, made.err
    event = tmp_path / "tick.json"
    event.write_text('{"capcon": "tick", "id": "tick-1"}', encoding="utf-8")
    invoke = ("deploy", "invoke", "--template", str(template), "--event", str(event))
    local = cli(capsys, account, *invoke)
    assert local.code == 0, local.err
    assert "state: local file" in local.out

    assert apply(capsys, account, "--yes").code == 0
    stacks = Stacks(AwsSession(region="us-east-1", endpoint_url=account))
    table = deploy_stack.state_table(stacks, stacks.describe(STACK))
    assert table is not None
    first = cli(capsys, account, *invoke)
    assert first.code == 0, first.err
    assert f"state: the stack's table {table}" in first.out
    items = raw("dynamodb").scan(TableName=table)["Items"]
    assert any(i["pk"]["S"] == "event" for i in items)
    again = cli(capsys, account, *invoke)
    assert "already handled" in again.out
    # what it decides with --apply is in the stack's audit, as the deployed Lambda's would be
    assert "(state and audit)" in first.out
