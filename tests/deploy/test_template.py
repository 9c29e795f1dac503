"""``capcon deploy template``: the stack's CloudFormation template for every policy mix (tables
with GSIs, streams, native AAS), cfn-lint clean, and capcon's own checks of what cfn-lint and
moto miss, each firing on a broken template and silent on a good one."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from cfnlint.api import lint  # type: ignore[import-untyped]

from capcon.core.deploy.alarms import alarms_for
from capcon.core.deploy.checks import check_template
from capcon.core.deploy.spec import (
    ENV_DRY_RUN,
    ENV_MANAGED,
    ENV_STATE_TABLE,
    ENV_TOPIC_ARN,
    DeployError,
    DeploySpec,
    settings_from_environment,
)
from capcon.core.deploy.template import (
    HANDLER,
    RUNTIME,
    alarm_properties,
    build_template,
    managed_dimensions,
)
from capcon.core.model import BillingMode, HashRange, Index, Shard, Stream, StreamMode, Table
from capcon.core.model import Throughput as T
from capcon.core.ports import Scalable

ORDERS = Table("orders", provisioned=T(100, 50), indexes=(Index("by-user", provisioned=T(20, 10)),))
CARTS = Table(
    "carts",
    provisioned=T(40, 40),
    indexes=(Index("by_sku", provisioned=T(5, 5)), Index("by_day", provisioned=T(6, 7))),
)
ON_DEMAND = Table("sessions", billing_mode=BillingMode.PAY_PER_REQUEST)
CLICKS = Stream(
    "clicks",
    shards=(
        Shard("shardId-0", HashRange(0, 2**127 - 1)),
        Shard("shardId-1", HashRange(2**127, 2**128 - 1)),
    ),
)
LOGS = Stream("logs", mode=StreamMode.ON_DEMAND)
TABLES = (ORDERS, CARTS, ON_DEMAND)
STREAMS = (CLICKS, LOGS)


def make(
    policy: str,
    tables: tuple[Table, ...] = TABLES,
    streams: tuple[Stream, ...] = STREAMS,
    native: tuple[str, ...] = (),
    stack: str = "prod-scaler",
) -> tuple[DeploySpec, dict[str, Any]]:
    if policy == "aas":
        native = tuple(t.name for t in tables if not t.is_on_demand)
    managed, notes = managed_dimensions(tables, streams, native)
    spec = DeploySpec(stack, policy, 70.0, managed, native_aas=native, notes=notes)
    return spec, build_template(spec, tables=tables, streams=streams)


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_managed_dimensions_cover_tables_gsis_and_streams_and_say_why_not() -> None:
    no_capacity = Table("building", indexes=(Index("new", status="CREATING"),), provisioned=T(1, 1))
    managed, notes = managed_dimensions(
        (ORDERS, CARTS, ON_DEMAND, no_capacity), STREAMS, native_aas=("carts",)
    )
    assert [s.key for s in managed] == [
        "table/orders:read",
        "table/orders:write",
        "table/orders/index/by-user:read",
        "table/orders/index/by-user:write",
        "table/building:read",
        "table/building:write",
        "stream/clicks:shards",
    ]
    text = "\n".join(notes)
    assert "sessions is on-demand" in text and "stream logs is on-demand" in text
    assert "carts: Application Auto Scaling" in text
    assert "building/new (CREATING)" in text


@pytest.mark.parametrize("policy", ["h1", "h2", "capcon"])
def test_lambda_policies_get_the_scaler_its_alarms_and_schedules(policy: str) -> None:
    spec, template = make(policy)
    resources = template["Resources"]
    fn = resources["ScalerFunction"]["Properties"]
    assert fn["Runtime"] == RUNTIME and fn["Handler"] == HANDLER
    assert fn["ReservedConcurrentExecutions"] == 1 and fn["Timeout"] < 900
    assert fn["Code"] == {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}}
    env = fn["Environment"]["Variables"]
    assert env[ENV_DRY_RUN] == {"Ref": "DryRun"}
    assert env[ENV_STATE_TABLE] == {"Ref": "StateTable"}
    assert env[ENV_TOPIC_ARN] == {"Ref": "AlarmTopic"}
    # what the handler reads back is the spec
    literal = {k: v for k, v in env.items() if isinstance(v, str)}
    assert settings_from_environment(literal).spec.managed == spec.managed
    config = of_type(template, "AWS::Lambda::EventInvokeConfig")
    (invoke,) = config.values()
    assert invoke["Properties"]["MaximumRetryAttempts"] == 0
    assert 60 <= invoke["Properties"]["MaximumEventAgeInSeconds"] <= 21_600
    assert fn["LoggingConfig"]["LogGroup"] == {"Ref": "ScalerLogGroup"}
    assert resources["ScalerLogGroup"]["Properties"]["RetentionInDays"] == spec.log_retention_days

    alarms = of_type(template, "AWS::CloudWatch::Alarm")
    assert sorted(alarms) == sorted(f"Alarm{n}" for n in range(1, len(alarms) + 1))
    # exactly alarms_for's alarms (helper-owned thresholds) at the capacity read now, in
    # order, converted by alarm_properties, notifying the stack's topic
    capacities = {
        "table/orders:read": 100, "table/orders:write": 50,
        "table/orders/index/by-user:read": 20, "table/orders/index/by-user:write": 10,
        "table/carts:read": 40, "table/carts:write": 40,
        "table/carts/index/by_sku:read": 5, "table/carts/index/by_sku:write": 5,
        "table/carts/index/by_day:read": 6, "table/carts/index/by_day:write": 7,
        "stream/clicks:shards": 2,
    }  # fmt: skip
    assert [s.key for s in spec.managed] == list(capacities)
    expected = [
        {**alarm_properties(a), "AlarmActions": [{"Ref": "AlarmTopic"}]}
        for s in spec.managed
        for a in alarms_for(spec, s, capacities[s.key], actions=("topic",))
    ]
    assert [alarms[f"Alarm{n}"]["Properties"] for n in range(1, len(alarms) + 1)] == expected
    for alarm in alarms.values():
        props = alarm["Properties"]
        assert props["AlarmName"].startswith("prod-scaler-")
        if "Metrics" in props:
            assert sum(q["ReturnData"] for q in props["Metrics"]) == 1
            assert {q["MetricStat"]["Period"] for q in props["Metrics"] if "MetricStat" in q} == {
                60
            }
        else:
            assert props["Period"] == 60
    by_name = {a["Properties"]["AlarmName"]: a["Properties"] for a in alarms.values()}
    gsi_read = by_name["prod-scaler-table/carts/index/by_day:read-high"]
    if policy == "capcon":  # metric math on consumed + throttled
        stat = gsi_read["Metrics"][0]["MetricStat"]
        assert {"Name": "GlobalSecondaryIndexName", "Value": "by_day"} in stat["Metric"][
            "Dimensions"
        ]
    else:
        assert gsi_read["MetricName"] == "ConsumedReadCapacityUnits"

    tick = resources["TickRule"]["Properties"]
    assert tick["ScheduleExpression"] == f"rate({spec.tick_minutes} minutes)"
    assert json.loads(tick["Targets"][0]["Input"]) == {"capcon": "tick"}
    check = resources["StreamCheckRule"]["Properties"]
    assert check["ScheduleExpression"] == "rate(36 hours)"
    assert json.loads(check["Targets"][0]["Input"]) == {"capcon": "stream-check"}
    principals = {
        p["Properties"]["Principal"] for p in of_type(template, "AWS::Lambda::Permission").values()
    }
    assert principals == {"sns.amazonaws.com", "events.amazonaws.com"}
    assert of_type(template, "AWS::ApplicationAutoScaling::ScalableTarget") == {}
    assert check_template(template) == []


def test_the_stack_never_owns_the_tables_or_streams_it_scales() -> None:
    _, template = make("capcon")
    assert list(of_type(template, "AWS::DynamoDB::Table")) == ["StateTable"]
    assert of_type(template, "AWS::Kinesis::Stream") == {}
    state = template["Resources"]["StateTable"]
    assert state["DeletionPolicy"] == state["UpdateReplacePolicy"] == "Retain"
    props = state["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert [k["AttributeName"] for k in props["KeySchema"]] == ["pk", "sk"]
    assert template["Parameters"]["DryRun"]["Default"] == "true"
    assert set(template["Outputs"]) == {"StateTable", "Topic", "Function", "LogGroup"}


def test_the_role_names_only_the_listed_resources_this_stacks_alarms_and_its_own_parts() -> None:
    _, template = make("h2", tables=(ORDERS,), streams=(CLICKS,))
    role = template["Resources"]["ScalerRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "lambda.amazonaws.com"
    }
    (document,) = [p["PolicyDocument"] for p in role["Policies"]]
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    assert by_sid["Tables"]["Resource"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders"}
    ]
    assert "dynamodb:UpdateTable" in by_sid["Tables"]["Action"]
    assert by_sid["Streams"]["Resource"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/clicks"}
    ]
    assert "kinesis:UpdateStreamMode" not in by_sid["Streams"]["Action"]
    assert by_sid["StackAlarms"]["Resource"] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:"
            "alarm:prod-scaler-*"
        }
    ]
    assert "cloudwatch:PutMetricAlarm" in by_sid["StackAlarms"]["Action"]
    assert by_sid["StateTable"]["Resource"] == [{"Fn::Sub": "${StateTable.Arn}"}]
    assert set(by_sid["StateTable"]["Action"]) == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
    }
    assert by_sid["Logs"]["Resource"] == [{"Fn::Sub": "${ScalerLogGroup.Arn}"}]
    wide = set(by_sid["AccountWide"]["Action"])
    assert "cloudwatch:GetMetricData" in wide and "dynamodb:UpdateTable" not in wide


def test_native_aas_tables_get_target_tracking_on_the_table_and_each_gsi() -> None:
    spec, template = make("h1", native=("carts",))
    targets = of_type(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    policies = of_type(template, "AWS::ApplicationAutoScaling::ScalingPolicy")
    assert sorted(
        (t["Properties"]["ResourceId"], t["Properties"]["ScalableDimension"])
        for t in targets.values()
    ) == sorted(
        (rid, f"dynamodb:{kind}:{dim}CapacityUnits")
        for rid, kind in (
            ("table/carts", "table"),
            ("table/carts/index/by_sku", "index"),
            ("table/carts/index/by_day", "index"),
        )
        for dim in ("Read", "Write")
    )
    for policy in policies.values():
        props = policy["Properties"]
        assert props["PolicyType"] == "TargetTrackingScaling"
        config = props["TargetTrackingScalingPolicyConfiguration"]
        assert config["TargetValue"] == 70.0
        assert config["PredefinedMetricSpecification"]["PredefinedMetricType"] in (
            "DynamoDBReadCapacityUtilization",
            "DynamoDBWriteCapacityUtilization",
        )
        assert props["ScalingTargetId"]["Ref"] in targets
    # carts is not the Lambda's: no alarm, no environment key, no role statement for it
    assert "carts" not in spec.tables
    alarm_names = [
        a["Properties"]["AlarmName"] for a in of_type(template, "AWS::CloudWatch::Alarm").values()
    ]
    assert not any("carts" in n for n in alarm_names)
    env = template["Resources"]["ScalerFunction"]["Properties"]["Environment"]["Variables"]
    assert "carts" not in env[ENV_MANAGED]
    assert check_template(template) == []


def test_policy_aas_makes_every_table_native_and_keeps_the_stack_valid() -> None:
    spec, template = make("aas", streams=())
    assert spec.managed == ()
    assert len(of_type(template, "AWS::ApplicationAutoScaling::ScalingPolicy")) == 10
    assert of_type(template, "AWS::CloudWatch::Alarm") == {}
    assert of_type(template, "AWS::Events::Rule") == {}  # nothing ever invokes the Lambda
    assert check_template(template) == []
    with_stream = make("aas")[1]
    assert "StreamCheckRule" in with_stream["Resources"]
    assert len(of_type(with_stream, "AWS::CloudWatch::Alarm")) == 3
    # aas with tables given to the Lambda is refused
    managed, _ = managed_dimensions((ORDERS,), ())
    with pytest.raises(DeployError, match="native AAS"):
        build_template(DeploySpec("s", "aas", 70, managed), tables=(ORDERS,), streams=())


def test_templates_are_cfn_lint_clean() -> None:
    # every resource type capcon writes: alarms (metric math and single), rules, AAS
    templates = [make("capcon", native=("carts",))[1], make("aas", streams=())[1]]
    for template in templates:
        matches = lint(json.dumps(template), regions=["us-east-1"])
        assert [f"{m.rule.id} {m.message}" for m in matches] == []


def test_cfn_lint_is_really_run() -> None:
    """The lint above would notice a deprecated runtime (so an empty list means clean)."""
    template = make("h1", tables=(ORDERS,), streams=())[1]
    template["Resources"]["ScalerFunction"]["Properties"]["Runtime"] = "python3.8"
    assert any(m.rule.id == "W2531" for m in lint(json.dumps(template), regions=["us-east-1"]))


def test_an_environment_over_4kb_is_refused_with_split_the_stack() -> None:
    tables = tuple(Table(f"t{'x' * 60}{n:03d}", provisioned=T(5, 5)) for n in range(40))
    managed, _ = managed_dimensions(tables, ())
    with pytest.raises(DeployError, match="split"):
        build_template(DeploySpec("big", "h1", 70, managed), tables=tables, streams=())
    fits = tables[:10]
    managed, _ = managed_dimensions(fits, ())
    assert build_template(DeploySpec("big", "h1", 70, managed), tables=fits, streams=())


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        (DeploySpec("1bad", "h1", 70, (Scalable("orders", "read"),)), "stack name"),
        (DeploySpec("s", "h1", 70, (Scalable("nope", "read"),)), "table/nope:read"),
        (
            DeploySpec("s", "h1", 70, (Scalable("orders", "read"),), log_retention_days=8),
            "CloudWatch Logs allows",
        ),
        (DeploySpec("s", "h1", 70, (), native_aas=("nope",)), "was not read"),
        (DeploySpec("s", "h1", 70, (), native_aas=("sessions",)), "on-demand"),
        (DeploySpec("s", "h1", 70, (Scalable("a b", "read"),)), "not a DynamoDB table name"),
    ],
)
def test_what_cannot_be_built_is_named(spec: DeploySpec, words: str) -> None:
    tables = (*TABLES, Table("a b", provisioned=T(1, 1)))
    with pytest.raises(DeployError, match=words):
        build_template(spec, tables=tables, streams=STREAMS)


def test_a_stack_without_streams_has_no_stream_check() -> None:
    _, template = make("h2", streams=())
    assert "TickRule" in template["Resources"]
    assert "StreamCheckRule" not in template["Resources"]
    assert of_type(template, "AWS::Events::Rule").keys() == {"TickRule"}


def test_the_refs_values_count_against_the_4kb() -> None:
    """An environment whose literal variables fit is still refused when the state table's
    name, the topic's ARN and DryRun cannot fit beside them."""
    from capcon.core.deploy.spec import environment_size, spec_environment
    from capcon.core.deploy.template import REF_VALUE_BYTES

    reserve = sum(len(k) + v for k, v in REF_VALUE_BYTES.items())
    for n in range(1, 200):
        tables = tuple(Table(f"table-{i:04d}-{'y' * 40}", provisioned=T(5, 5)) for i in range(n))
        managed, _ = managed_dimensions(tables, ())
        spec = DeploySpec("s", "h1", 70, managed)
        size = environment_size(spec_environment(spec))
        if size + reserve > 4096:
            break
    assert size <= 4096 < size + reserve
    with pytest.raises(DeployError, match="split"):
        build_template(spec, tables=tables, streams=())


def test_a_role_policy_over_iams_10240_characters_is_refused() -> None:
    """A safety net: Lambda's 4 KB environment binds first for tables and streams alike."""
    from capcon.core.backends.aws.iam import policy
    from capcon.core.deploy.template import _check_role_size

    spec = DeploySpec("s", "h1", 70, (Scalable("t", "read"),))
    names = [f"t{n:03d}-{'z' * 60}" for n in range(140)]
    fits = policy("engine", tables=names[:60], stack="s", region="${AWS::Region}")
    _check_role_size(spec, fits)
    with pytest.raises(DeployError, match="10,240"):
        _check_role_size(spec, policy("engine", tables=names, stack="s"))


def test_sim_tables_and_streams_make_a_checked_template(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from datetime import UTC, datetime

    from capcon.core.backends.sim.scenarios import build_scenario
    from tests.support.cli import run

    account = build_scenario("demo", datetime.now(UTC).replace(second=0, microsecond=0))
    tables = account.describe_tables(account.list_tables())
    streams = account.describe_streams(account.list_streams())
    from capcon.core.services.overview import auto_scaling_by_resource

    aas = {rid.split("/")[1] for rid in auto_scaling_by_resource(account)}
    provisioned = [t.name for t in tables if not t.is_on_demand and t.name not in aas][:3]
    stream = [s.name for s in streams if not s.is_on_demand][:1]
    result = run(
        capsys, "--sim", "deploy", "template", "--stack", "demo", "--policy", "h2",
        "--tables", ",".join(provisioned), "--streams", ",".join(stream),
    )  # fmt: skip
    assert result.code == 0, result.err
    template = result.document()
    assert check_template(template) == []
    env = template["Resources"]["ScalerFunction"]["Properties"]["Environment"]["Variables"]
    assert {Scalable.parse(k).name for k in env[ENV_MANAGED].split(",")} == {*provisioned, *stream}


def test_a_one_minute_tick_is_spelt_as_eventbridge_wants() -> None:
    managed, _ = managed_dimensions((ORDERS,), ())
    spec = DeploySpec("s", "h1", 70, managed, tick_minutes=1)
    template = build_template(spec, tables=(ORDERS,), streams=())
    assert template["Resources"]["TickRule"]["Properties"]["ScheduleExpression"] == "rate(1 minute)"


def test_alarm_properties_are_put_metric_alarm_parameters() -> None:
    """The one conversion: botocore's own validator accepts it as PutMetricAlarm's input."""
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("cloudwatch")
    shape = model.operation_model("PutMetricAlarm").input_shape
    assert shape is not None
    managed, _ = managed_dimensions((ORDERS,), (CLICKS,))
    for policy in ("h1", "capcon"):
        spec = DeploySpec("s", policy, 33.3, managed)
        for scalable in managed:
            for alarm in alarms_for(spec, scalable, 10, actions=("arn:aws:sns:us-east-1:1:t",)):
                props = alarm_properties(alarm)
                report = ParamValidator().validate(props, shape)
                assert not report.has_errors(), report.generate_report()
                assert props["Threshold"] == alarm.threshold  # exactly, fractions kept
                assert props["AlarmName"] == alarm.name
                assert props["AlarmActions"] == list(alarm.actions)


# --------------------------------------------------------------------------------------------
# capcon's checks: each fires on a broken template, none on a good one
# --------------------------------------------------------------------------------------------


def _first(template: dict[str, Any], kind: str) -> dict[str, Any]:
    props: dict[str, Any] = next(iter(of_type(template, kind).values()))["Properties"]
    return props


def _math_alarm(template: dict[str, Any]) -> dict[str, Any]:
    return next(
        a["Properties"] for a in of_type(template, "AWS::CloudWatch::Alarm").values()
        if "Metrics" in a["Properties"]
    )  # fmt: skip


def _step_scaling(t: dict[str, Any]) -> None:
    props = _first(t, "AWS::ApplicationAutoScaling::ScalingPolicy")
    props["PolicyType"] = "StepScaling"


def _metric_math_tracking(t: dict[str, Any]) -> None:
    config = _first(t, "AWS::ApplicationAutoScaling::ScalingPolicy")[
        "TargetTrackingScalingPolicyConfiguration"
    ]
    del config["PredefinedMetricSpecification"]
    config["CustomizedMetricSpecification"] = {"Metrics": [{"Id": "e1", "Expression": "m1*2"}]}


def _two_return_data(t: dict[str, Any]) -> None:
    _math_alarm(t)["Metrics"][0]["ReturnData"] = True


def _no_return_data(t: dict[str, Any]) -> None:
    for query in _math_alarm(t)["Metrics"]:
        query["ReturnData"] = False


def _omitted_return_data(t: dict[str, Any]) -> None:
    del _math_alarm(t)["Metrics"][0]["ReturnData"]  # the API's default is true


def _bad_period(t: dict[str, Any]) -> None:
    _math_alarm(t)["Metrics"][0]["MetricStat"]["Period"] = 45


def _bad_single_period(t: dict[str, Any]) -> None:
    next(
        a["Properties"] for a in of_type(t, "AWS::CloudWatch::Alarm").values()
        if "Period" in a["Properties"]
    )["Period"] = 90  # fmt: skip


def _over_a_day(t: dict[str, Any]) -> None:
    alarm = _math_alarm(t)
    alarm["EvaluationPeriods"] = alarm["DatapointsToAlarm"] = 1441  # × 60 s


def _over_a_week(t: dict[str, Any]) -> None:
    alarm = _math_alarm(t)
    for query in alarm["Metrics"]:
        if "MetricStat" in query:
            query["MetricStat"]["Period"] = 3600
    alarm["EvaluationPeriods"] = alarm["DatapointsToAlarm"] = 169  # × 1 h


def test_an_hourly_alarm_may_look_back_a_week(good: dict[str, Any]) -> None:
    template = copy.deepcopy(good)
    _over_a_week(template)
    alarm = _math_alarm(template)
    alarm["EvaluationPeriods"] = alarm["DatapointsToAlarm"] = 168
    assert check_template(template) == []


def _timeout(t: dict[str, Any]) -> None:
    t["Resources"]["ScalerFunction"]["Properties"]["Timeout"] = 901


def _concurrency(t: dict[str, Any]) -> None:
    t["Resources"]["ScalerFunction"]["Properties"]["ReservedConcurrentExecutions"] = 2


def _no_concurrency(t: dict[str, Any]) -> None:
    del t["Resources"]["ScalerFunction"]["Properties"]["ReservedConcurrentExecutions"]


def _retries(t: dict[str, Any]) -> None:
    _first(t, "AWS::Lambda::EventInvokeConfig")["MaximumRetryAttempts"] = 2


def _no_invoke_config(t: dict[str, Any]) -> None:
    for name in list(of_type(t, "AWS::Lambda::EventInvokeConfig")):
        del t["Resources"][name]


def _big_environment(t: dict[str, Any]) -> None:
    env = t["Resources"]["ScalerFunction"]["Properties"]["Environment"]["Variables"]
    env["PADDING"] = "x" * 4000


def _alarm_without_topic(t: dict[str, Any]) -> None:
    _math_alarm(t)["AlarmActions"] = ["arn:aws:sns:us-east-1:123456789012:other"]


def _star_table_action(t: dict[str, Any]) -> None:
    document = t["Resources"]["ScalerRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    document["Statement"][0]["Resource"] = "*"


def _every_table(t: dict[str, Any]) -> None:
    document = t["Resources"]["ScalerRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    document["Statement"].append(
        {"Sid": "Wild", "Effect": "Allow", "Action": "dynamodb:*",
         "Resource": {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:*:table/*"}}
    )  # fmt: skip


BREAKS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "step scaling": (_step_scaling, "StepScaling on a DynamoDB target"),
    "metric-math target tracking": (_metric_math_tracking, "metric math is not supported"),
    "two ReturnData": (_two_return_data, "2 metric-math queries return data"),
    "no ReturnData": (_no_return_data, "0 metric-math queries return data"),
    "omitted ReturnData": (_omitted_return_data, "2 metric-math queries return data"),
    "period 45": (_bad_period, "Period 45 s: CloudWatch alarms accept 10, 20, 30"),
    "period 90": (_bad_single_period, "Period 90 s"),
    "over a day": (_over_a_day, "1441 × Period 60 s = 86,460 s"),
    "over a week": (_over_a_week, "169 × Period 3600 s = 608,400 s"),
    "timeout": (_timeout, "Timeout 901 s: Lambda allows at most 900"),
    "concurrency 2": (_concurrency, "ReservedConcurrentExecutions 2"),
    "no reserved concurrency": (_no_concurrency, "ReservedConcurrentExecutions None"),
    "retries": (_retries, "MaximumRetryAttempts 2"),
    "no invoke config": (_no_invoke_config, "no AWS::Lambda::EventInvokeConfig"),
    "environment": (_big_environment, "Lambda allows 4,096"),
    "alarm without topic": (_alarm_without_topic, "do not notify the stack's topic"),
    "table action on *": (_star_table_action, "dynamodb:UpdateTable"),
    "every table": (_every_table, "statement Wild allows dynamodb:*"),
}


@pytest.fixture(scope="module")
def good() -> dict[str, Any]:
    template = make("capcon", native=("carts",))[1]
    assert check_template(template) == []
    return template


@pytest.mark.parametrize("case", sorted(BREAKS))
def test_each_check_fires_on_a_broken_template(good: dict[str, Any], case: str) -> None:
    breaker, words = BREAKS[case]
    template = copy.deepcopy(good)
    breaker(template)
    problems = check_template(template)
    assert len(problems) == 1, problems
    assert words in problems[0]


@pytest.mark.parametrize(
    "junk",
    [None, [], "text", {"Resources": []}, {"Resources": {"x": {"Type": 3}}},
     {"Resources": {"a": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Metrics": [1]}}}},
     {"Resources": {"f": {"Type": "AWS::Lambda::Function", "Properties": []}}}],
)  # fmt: skip
def test_malformed_templates_get_messages_not_exceptions(junk: Any) -> None:
    problems = check_template(junk)
    assert problems and all(isinstance(p, str) and p for p in problems)


def test_what_cfn_lint_refuses_is_left_to_it_without_an_exception() -> None:
    role = {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyDocument": 1}, 2]}}
    assert check_template({"Resources": {"r": role}}) == []


def test_a_table_aas_already_scales_is_refused_unless_native(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The engine and an AAS policy on the same dimension would undo each other's changes:
    the template is refused, naming the way out; as --native-aas the table is AAS's."""
    from datetime import UTC, datetime

    from capcon.core.backends.sim.scenarios import build_scenario
    from capcon.core.services.overview import auto_scaling_by_resource
    from tests.support.cli import run

    account = build_scenario("demo", datetime.now(UTC).replace(second=0, microsecond=0))
    managed = sorted(
        rid.split("/")[1] for rid, state in auto_scaling_by_resource(account).items()
        if state.policies
    )  # fmt: skip
    assert managed, "the demo has a table with an AAS policy"
    name = managed[0]
    argv = ("--sim", "deploy", "template", "--stack", "demo", "--policy", "h1", "--tables", name)
    refused = run(capsys, *argv)
    assert refused.code == 2 and refused.out == ""
    assert "Application Auto Scaling policy" in refused.err
    assert f"--native-aas {name}" in refused.err
    native = run(capsys, *argv, "--native-aas", name)
    assert native.code == 0, native.err
    kinds = {r["Type"] for r in native.document()["Resources"].values()}
    assert "AWS::ApplicationAutoScaling::ScalingPolicy" in kinds
