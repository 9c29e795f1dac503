"""``capcon deploy template`` against moto: the tables and streams are read through the
session, the template is created on moto's CloudFormation and each resource is described
back through its own API.  moto's CloudFormation reports CREATE_COMPLETE while silently
skipping some types (alarms, AAS targets and policies, ``AWS::SNS::Subscription``,
``AWS::Lambda::EventInvokeConfig``) and some properties (a function's ``LoggingConfig``, a
table's ``TimeToLiveSpecification``): those are created here through their own APIs from the
template's properties and described back."""

from __future__ import annotations

import ast
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from capcon.core.deploy.checks import check_template
from capcon.core.deploy.spec import scalable_of_alarm
from tests.support.aws import create_table
from tests.support.cli import run

STACK = "prod-engine"
ACCOUNT = "123456789012"
REGION = "us-east-1"


def _resolve(value: Any, refs: dict[str, str]) -> Any:
    """``{"Ref": X}`` replaced by what the stack created for X (an alarm's topic)."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return refs[value["Ref"]]
    if isinstance(value, list):
        return [_resolve(v, refs) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, refs) for k, v in value.items()}
    return value


def _document(value: object) -> Any:
    """An IAM policy document as IAM returns it: an object, or a JSON string; moto 5.2's
    CloudFormation stores a role's inline policy as the Python ``repr`` of the dict."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return ast.literal_eval(value)


def _setup(raw: Callable[[str], Any]) -> None:
    ddb = raw("dynamodb")
    ddb.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": "user", "AttributeType": "S"},
        ],
        ProvisionedThroughput={"ReadCapacityUnits": 40, "WriteCapacityUnits": 20},
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_user",
                "KeySchema": [{"AttributeName": "user", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 8, "WriteCapacityUnits": 4},
            }
        ],
    )
    create_table(ddb, "carts", 10, 10)
    ddb.create_table(
        TableName="sessions",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    raw("kinesis").create_stream(StreamName="clicks", ShardCount=2)


def _template(capsys: pytest.CaptureFixture[str], url: str, tmp_path: Path) -> dict[str, Any]:
    out = tmp_path / "stack.json"
    result = run(
        capsys, "--endpoint-url", url, "deploy", "template", "--stack", STACK,
        "--policy", "capcon", "--tables", "orders,carts,sessions", "--streams", "clicks",
        "--native-aas", "carts", "--out", str(out),
    )  # fmt: skip
    assert result.code == 0, result.err
    assert result.out == ""
    assert "sessions is on-demand: nothing to scale" in result.err
    template: dict[str, Any] = json.loads(out.read_text())
    assert check_template(template) == []
    return template


def test_the_template_created_on_moto_and_each_resource_described_back(
    url: str,
    raw: Callable[[str], Any],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    _setup(raw)
    template = _template(capsys, url, tmp_path)
    resources = template["Resources"]
    # the capacity read now is in the alarms' thresholds: the GSI's 8 RCU at 70 % a minute
    gsi = next(
        r["Properties"] for r in resources.values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and r["Properties"]["AlarmName"] == f"{STACK}-table/orders/index/by_user:read-high"
    )  # fmt: skip
    assert gsi["Threshold"] == pytest.approx(8 * 0.7 * 60)

    s3 = raw("s3")
    s3.create_bucket(Bucket="capcon-code")
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as zf:
        zf.writestr("capcon/__init__.py", "")
    s3.put_object(Bucket="capcon-code", Key="engine.zip", Body=package.getvalue())
    cfn = raw("cloudformation")
    cfn.create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(template),
        Parameters=[
            {"ParameterKey": "CodeBucket", "ParameterValue": "capcon-code"},
            {"ParameterKey": "CodeKey", "ParameterValue": "engine.zip"},
        ],
        Capabilities=["CAPABILITY_IAM"],
    )
    (stack,) = cfn.describe_stacks(StackName=STACK)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert set(outputs) == {"StateTable", "Topic", "Function", "LogGroup"}
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=STACK)["StackResources"]
        if "LogicalResourceId" in r and "PhysicalResourceId" in r
    }

    # the state table: the key schema the state store uses, on demand, TTL, PITR
    ddb = raw("dynamodb")
    table = ddb.describe_table(TableName=outputs["StateTable"])["Table"]
    assert outputs["StateTable"].startswith(f"{STACK}-StateTable-")  # the iam-policy pattern
    assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == [
        ("pk", "HASH"),
        ("sk", "RANGE"),
    ]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    # moto's CloudFormation ignores TimeToLiveSpecification: set it from the template
    state_props = resources["StateTable"]["Properties"]
    ddb.update_time_to_live(
        TableName=outputs["StateTable"],
        TimeToLiveSpecification=state_props["TimeToLiveSpecification"],
    )
    ttl = ddb.describe_time_to_live(TableName=outputs["StateTable"])["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    ddb.update_continuous_backups(
        TableName=outputs["StateTable"],
        PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": state_props["PointInTimeRecoverySpecification"][
                "PointInTimeRecoveryEnabled"
            ]
        },
    )
    backups = ddb.describe_continuous_backups(TableName=outputs["StateTable"])
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
    # the stack owns no table it scales
    assert sorted(ddb.list_tables()["TableNames"]) == sorted(
        ["orders", "carts", "sessions", outputs["StateTable"]]
    )

    # the function: runtime, handler, reserved concurrency 1, the environment resolved
    lam = raw("lambda")
    function = lam.get_function(FunctionName=outputs["Function"])
    config = function["Configuration"]
    assert config["Runtime"] == resources["ScalerFunction"]["Properties"]["Runtime"]
    assert config["Handler"] == "capcon.core.deploy.handler.handler"
    assert function["Concurrency"] == {"ReservedConcurrentExecutions": 1}
    env = config["Environment"]["Variables"]
    assert env["CAPCON_DRY_RUN"] == "true"
    assert env["CAPCON_STATE_TABLE"] == outputs["StateTable"]
    assert env["CAPCON_TOPIC_ARN"] == outputs["Topic"]
    assert env["CAPCON_MANAGED"].split(",") == [
        "table/orders:read",
        "table/orders:write",
        "table/orders/index/by_user:read",
        "table/orders/index/by_user:write",
        "stream/clicks:shards",
    ]
    assert env["CAPCON_NATIVE_AAS"] == "carts"
    # moto skips the EventInvokeConfig and the LoggingConfig: put them through the API
    invoke = resources["ScalerInvokeConfig"]["Properties"]
    lam.put_function_event_invoke_config(
        FunctionName=outputs["Function"],
        MaximumRetryAttempts=invoke["MaximumRetryAttempts"],
        MaximumEventAgeInSeconds=invoke["MaximumEventAgeInSeconds"],
    )
    got = lam.get_function_event_invoke_config(FunctionName=outputs["Function"])
    assert got["MaximumRetryAttempts"] == 0
    assert got["MaximumEventAgeInSeconds"] == invoke["MaximumEventAgeInSeconds"]

    # the log group, with its retention; the function logs there
    logs = raw("logs")
    (group,) = logs.describe_log_groups(logGroupNamePrefix=outputs["LogGroup"])["logGroups"]
    assert group["retentionInDays"] == 30
    logging = _resolve(
        resources["ScalerFunction"]["Properties"]["LoggingConfig"],
        {"ScalerLogGroup": outputs["LogGroup"]},
    )
    assert logging["LogGroup"] == group["logGroupName"]

    # the role: trusted by Lambda, its policy's ARNs resolved to this account and region
    iam = raw("iam")
    role = iam.get_role(RoleName=physical["ScalerRole"])["Role"]
    assert config["Role"] == role["Arn"]
    trust = _document(role["AssumeRolePolicyDocument"])
    assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    document = _document(
        iam.get_role_policy(RoleName=physical["ScalerRole"], PolicyName="capcon-engine")[
            "PolicyDocument"
        ]
    )
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    arn = f"arn:aws:{{}}:{REGION}:{ACCOUNT}:{{}}"
    assert by_sid["Tables"]["Resource"] == [arn.format("dynamodb", "table/orders")]
    assert by_sid["Streams"]["Resource"] == [arn.format("kinesis", "stream/clicks")]
    assert by_sid["StackAlarms"]["Resource"] == [arn.format("cloudwatch", f"alarm:{STACK}-*")]
    assert by_sid["StateTable"]["Resource"] == [table["TableArn"]]

    # the schedules: tick and stream check, each targeting the function with its input
    events = raw("events")
    for logical, expression, event in (
        ("TickRule", "rate(30 minutes)", {"capcon": "tick"}),
        ("StreamCheckRule", "rate(36 hours)", {"capcon": "stream-check"}),
    ):
        rule = events.describe_rule(Name=physical[logical])
        assert rule["ScheduleExpression"] == expression and rule["State"] == "ENABLED"
        (target,) = events.list_targets_by_rule(Rule=physical[logical])["Targets"]
        assert target["Arn"] == config["FunctionArn"]
        assert json.loads(target["Input"]) == event

    # the topic and its subscription (moto skips AWS::SNS::Subscription)
    sns = raw("sns")
    assert sns.get_topic_attributes(TopicArn=outputs["Topic"])["Attributes"]
    subscription = _resolve(
        resources["AlarmSubscription"]["Properties"], {"AlarmTopic": outputs["Topic"]}
    )
    assert subscription["Endpoint"] == {"Fn::GetAtt": ["ScalerFunction", "Arn"]}
    sns.subscribe(
        TopicArn=subscription["TopicArn"],
        Protocol=subscription["Protocol"],
        Endpoint=config["FunctionArn"],
    )
    (sub,) = sns.list_subscriptions_by_topic(TopicArn=outputs["Topic"])["Subscriptions"]
    assert (sub["Protocol"], sub["Endpoint"]) == ("lambda", config["FunctionArn"])

    # the alarms (moto skips them): PutMetricAlarm from the template's properties
    cloudwatch = raw("cloudwatch")
    alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    # every managed dimension has its alarms, each marked with the dimension it watches
    marked = {scalable_of_alarm(p["AlarmDescription"]) for p in alarms}
    assert {m[1].key for m in marked if m} == set(env["CAPCON_MANAGED"].split(","))
    assert {m[0] for m in marked if m} == {STACK} and None not in marked
    for props in alarms:
        cloudwatch.put_metric_alarm(**_resolve(props, {"AlarmTopic": outputs["Topic"]}))
    described = cloudwatch.describe_alarms(AlarmNamePrefix=f"{STACK}-")["MetricAlarms"]
    assert sorted(a["AlarmName"] for a in described) == sorted(p["AlarmName"] for p in alarms)
    by_name = {p["AlarmName"]: p for p in alarms}
    for alarm in described:
        assert alarm["AlarmActions"] == [outputs["Topic"]]
        wanted = by_name[alarm["AlarmName"]]
        for key in ("EvaluationPeriods", "DatapointsToAlarm", "ComparisonOperator"):
            assert alarm[key] == wanted[key]
        assert alarm["Threshold"] == pytest.approx(wanted["Threshold"])
        if "Metrics" in wanted:  # capcon's tables: metric math over consumed + throttled
            assert alarm["Metrics"] == wanted["Metrics"]
            assert sum(m["ReturnData"] for m in alarm["Metrics"]) == 1
        else:
            assert (alarm["Namespace"], alarm["MetricName"], alarm["Period"]) == (
                wanted["Namespace"],
                wanted["MetricName"],
                60,
            )

    # native AAS on carts (moto skips AAS): registered from the template's properties
    aas = raw("application-autoscaling")
    targets = {
        name: r["Properties"]
        for name, r in resources.items()
        if r["Type"] == "AWS::ApplicationAutoScaling::ScalableTarget"
    }
    for props in targets.values():
        aas.register_scalable_target(**props)
    for r in resources.values():
        if r["Type"] != "AWS::ApplicationAutoScaling::ScalingPolicy":
            continue
        props = dict(r["Properties"])
        target = targets[props.pop("ScalingTargetId")["Ref"]]
        aas.put_scaling_policy(
            **props,
            ServiceNamespace=target["ServiceNamespace"],
            ResourceId=target["ResourceId"],
            ScalableDimension=target["ScalableDimension"],
        )
    registered = aas.describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"]
    assert {(t["ResourceId"], t["ScalableDimension"]) for t in registered} == {
        ("table/carts", "dynamodb:table:ReadCapacityUnits"),
        ("table/carts", "dynamodb:table:WriteCapacityUnits"),
    }
    policies = aas.describe_scaling_policies(ServiceNamespace="dynamodb")["ScalingPolicies"]
    assert {p["PolicyType"] for p in policies} == {"TargetTrackingScaling"} and len(policies) == 2


def test_the_command_reads_names_and_refuses_what_does_not_exist(
    url: str, raw: Callable[[str], Any], capsys: pytest.CaptureFixture[str]
) -> None:
    _setup(raw)
    base = ("--endpoint-url", url, "deploy", "template", "--stack", STACK, "--policy", "h1")
    missing = run(capsys, *base, "--tables", "orders,nope\x1b[2J")
    assert missing.code == 2 and missing.out == ""
    assert "no table named nope" in missing.err and "orders, sessions" in missing.err
    assert "\x1b" not in missing.err
    stream = run(capsys, *base, "--streams", "gone")
    assert stream.code == 2 and "no stream named gone (the account has: clicks)" in stream.err
    only_on_demand = run(capsys, *base, "--tables", "sessions")
    assert only_on_demand.code == 2 and "nothing to manage" in only_on_demand.err
    native_outside = run(capsys, *base, "--tables", "orders", "--native-aas", "carts")
    assert native_outside.code == 2 and "also give them in --tables" in native_outside.err
    printed = run(capsys, *base, "--tables", "orders", "--tick-minutes", "5")
    assert printed.code == 0, printed.err
    document = printed.document()
    rule = document["Resources"]["TickRule"]["Properties"]
    assert rule["ScheduleExpression"] == "rate(5 minutes)"
    # nothing was changed: no alarm, no stack, capacity as it was
    assert raw("cloudwatch").describe_alarms()["MetricAlarms"] == []
    assert raw("cloudformation").describe_stacks()["Stacks"] == []
    assert (
        raw("dynamodb").describe_table(TableName="orders")["Table"]["ProvisionedThroughput"][
            "ReadCapacityUnits"
        ]
        == 40
    )


def test_a_template_failing_the_checks_is_refused_and_not_printed(
    url: str,
    raw: Callable[[str], Any],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from capcon.tui.cli import deploy_template

    _setup(raw)
    monkeypatch.setattr(deploy_template, "check_template", lambda t: ["Alarm1: Period 45 s"])
    result = run(
        capsys, "--endpoint-url", url, "deploy", "template", "--stack", STACK,
        "--policy", "h1", "--tables", "orders",
    )  # fmt: skip
    assert result.code == 1 and result.out == ""
    assert "fails capcon's checks: Alarm1: Period 45 s" in result.err
