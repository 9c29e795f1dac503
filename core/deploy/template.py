"""The CloudFormation template of a deployed engine (``capcon deploy template``).

A stack holds, for the dimensions its Lambda scales (``spec.managed``):

- ``ScalerFunction``: the scaler Lambda (:data:`RUNTIME`, boto3 from the runtime, the code
  package from the ``CodeBucket``/``CodeKey`` parameters), reserved concurrency 1 so two
  wake-ups never act at once, no asynchronous retries and a bounded event age
  (``ScalerInvokeConfig``): an alarm that could not be handled is not replayed later (the
  next tick or alarm re-observes anyway).  Its environment is the spec
  (:func:`capcon.core.deploy.spec.spec_environment`) plus ``DryRun`` and the refs of the state
  table and the topic; it is refused over Lambda's 4 KB (split the stack).
- ``ScalerLogGroup``: its log group with a retention, wired through the function's
  ``LoggingConfig`` (the group's name is ``/capcon/STACK/scaler``, so the role's log rights
  name it before the function exists and the function's own name stays CloudFormation's).
- ``AlarmTopic``: the SNS topic every alarm notifies, subscribed by the function, and the
  ``AWS::Lambda::Permission``\\ s for SNS and EventBridge.
- ``Alarm1``…: for each managed dimension, the alarms of
  :func:`capcon.core.deploy.alarms.alarms_for` at its current capacity, converted by
  :func:`alarm_properties` (the one conversion; the handler's ``PutMetricAlarm`` uses it too).
- ``TickRule`` (every ``spec.tick_minutes``) and, with streams, ``StreamCheckRule`` (every
  ``spec.stream_check_hours``): EventBridge schedules with the inputs the handler reads.
- ``StateTable``: the engine's state and audit trail (on-demand, TTL on ``expires``,
  point-in-time recovery), kept when the stack is deleted (``DeletionPolicy: Retain``) so the
  audit trail survives it.
- ``ScalerRole``: the function's role, from :func:`capcon.core.backends.aws.iam.policy`
  (``engine``), limited to the listed tables and streams, its state table, its stack's alarms
  and its log group.

Tables in ``spec.native_aas`` get AAS target tracking instead (``ScalableTarget<n>`` and
``ScalingPolicy<n>`` on the table and each GSI, reads and writes); policy ``aas`` makes every
table native.  With no dimension left for the Lambda the stack keeps the function, topic,
table, role and log group (its outputs and parameters stay the same for ``deploy`` and
``invoke``) but has no alarm and no schedule: nothing ever invokes it.

The stack references tables and streams by name; it never owns them (no
``AWS::DynamoDB::Table`` or ``AWS::Kinesis::Stream`` for them).  Pure: no AWS call is made.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

from capcon.core.backends.aws.iam import (
    PSEUDO_ACCOUNT,
    PSEUDO_PARTITION,
    PSEUDO_REGION,
    PolicyError,
    engine_log_group,
    policy,
)
from capcon.core.deploy.alarms import alarms_for, capacity_of
from capcon.core.deploy.spec import (
    ENV_DRY_RUN,
    ENV_STATE_TABLE,
    ENV_TOPIC_ARN,
    MAX_ENVIRONMENT_BYTES,
    STATE_PARTITION_KEY,
    STATE_SORT_KEY,
    STATE_TTL_ATTRIBUTE,
    DeployError,
    DeploySpec,
    environment_size,
    spec_environment,
)
from capcon.core.model import Stream, Table
from capcon.core.ports import AlarmSpec, Scalable, resource_id

#: The newest Python runtime Lambda offers that cfn-lint 1.58 (the lock) knows without a
#: deprecation date before 2029 (its ``LmbdRuntimeLifecycle`` table: python3.14 has no
#: successor).
RUNTIME = "python3.14"
HANDLER = "capcon.core.deploy.handler.handler"
#: The handler re-observes with a few batched ``GetMetricData`` calls and sends at most one
#: change per dimension without waiting for ACTIVE: two minutes is ample and well under
#: Lambda's 900 s.
TIMEOUT_SECONDS = 120
MEMORY_MB = 256
ARCHITECTURE = "arm64"
#: An event (alarm notification, schedule) older than this is dropped, not run late; the
#: next alarm or tick re-observes.  Lambda allows 60–21,600 s.
MAX_EVENT_AGE_SECONDS = 600
#: Lambda's limit on one invocation.
LAMBDA_MAX_TIMEOUT = 900
#: The values CloudWatch Logs accepts for ``RetentionInDays``.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip
#: The longest values the template's ``Ref`` variables can take, counted against the 4 KB
#: (``true``/``false``; a table name; an SNS topic ARN in the longest partition).
REF_VALUE_BYTES = {ENV_DRY_RUN: 5, ENV_STATE_TABLE: 255, ENV_TOPIC_ARN: 400}

#: IAM's limit on the inline policies of one role, in characters without white space.
MAX_ROLE_POLICY_CHARS = 10_240

#: What the handler's schedules send (the handler's ``parse_event`` reads ``capcon``).
TICK_INPUT = {"capcon": "tick"}
STREAM_CHECK_INPUT = {"capcon": "stream-check"}

#: Placeholder for the topic's ARN in the alarms of a template (``{"Ref": "AlarmTopic"}``).
TOPIC_REF = "${AlarmTopic}"

FUNCTION = "ScalerFunction"
ROLE = "ScalerRole"
TOPIC = "AlarmTopic"
STATE_TABLE = "StateTable"
LOG_GROUP = "ScalerLogGroup"
TICK_RULE = "TickRule"
STREAM_CHECK_RULE = "StreamCheckRule"
INVOKE_CONFIG = "ScalerInvokeConfig"
#: A resource of its own: a ``Subscription`` inside the topic would make the topic depend on
#: the function, whose environment names the topic (a cycle).
SUBSCRIPTION = "AlarmSubscription"

_READ_METRIC = "DynamoDBReadCapacityUtilization"
_WRITE_METRIC = "DynamoDBWriteCapacityUtilization"


# --------------------------------------------------------------------------------------------
# What a stack manages
# --------------------------------------------------------------------------------------------


def managed_dimensions(
    tables: Sequence[Table], streams: Sequence[Stream], native_aas: Collection[str] = ()
) -> tuple[tuple[Scalable, ...], tuple[str, ...]]:
    """The dimensions a stack's Lambda scales (a provisioned table's and each of its GSIs'
    reads and writes; a provisioned stream's shards) and a note for each table, index or
    stream it leaves alone, saying why (on demand: nothing to scale; ``native_aas``: AAS
    target tracking instead; no provisioned capacity reported)."""
    native = set(native_aas)
    out: list[Scalable] = []
    notes: list[str] = []
    for table in tables:
        if table.is_on_demand:
            notes.append(f"table {table.name} is on-demand: nothing to scale")
            continue
        if table.name in native:
            notes.append(
                f"table {table.name}: Application Auto Scaling target tracking (native), "
                "not the Lambda"
            )
            continue
        if table.provisioned is None:
            notes.append(f"table {table.name}: no provisioned capacity reported, left alone")
            continue
        out += [Scalable(table.name, "read"), Scalable(table.name, "write")]
        for index in table.indexes:
            if index.provisioned is None:
                notes.append(
                    f"index {table.name}/{index.name} ({index.status}): no provisioned "
                    "capacity reported, left alone"
                )
                continue
            out += [
                Scalable(table.name, "read", index.name),
                Scalable(table.name, "write", index.name),
            ]
    for stream in streams:
        if stream.is_on_demand:
            notes.append(f"stream {stream.name} is on-demand: nothing to scale")
            continue
        out.append(Scalable(stream.name, "shards"))
    return tuple(out), tuple(notes)


# --------------------------------------------------------------------------------------------
# Alarms
# --------------------------------------------------------------------------------------------


def alarm_properties(alarm: AlarmSpec) -> dict[str, Any]:
    """``alarm`` as ``AWS::CloudWatch::Alarm`` properties, which are also ``PutMetricAlarm``'s
    parameters: the one conversion is the AWS adapter's
    (:func:`capcon.core.backends.aws.alarms.put_metric_alarm_request`, which the handler's
    ``PutMetricAlarm`` sends), so the template and the handler cannot drift apart.  One metric
    (``Namespace``, ``MetricName``, ``Dimensions``, ``Statistic``, ``Period``) or metric math
    (``Metrics``: ``MetricStat``/``Expression``/``Label``/``ReturnData``).
    :class:`DeployError` for an alarm with neither or both."""
    if (alarm.metric is None) == (not alarm.queries):
        raise DeployError(
            f"alarm {alarm.name!r}: give either one metric or metric-math queries (not "
            f"{'both' if alarm.metric is not None else 'neither'})"
        )
    # looked up here: the template is made without loading the AWS SDK
    from capcon.core.backends.aws.alarms import put_metric_alarm_request

    return put_metric_alarm_request(alarm)


# --------------------------------------------------------------------------------------------
# The template
# --------------------------------------------------------------------------------------------


def _ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def _arn(name: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [name, "Arn"]}


def _sub(value: Any) -> Any:
    """Each string holding a ``${…}`` wrapped in ``Fn::Sub``, through lists and dicts."""
    if isinstance(value, str):
        return {"Fn::Sub": value} if "${" in value else value
    if isinstance(value, list):
        return [_sub(v) for v in value]
    if isinstance(value, dict):
        return {k: _sub(v) for k, v in value.items()}
    return value


def _rate(value: int, unit: str) -> str:
    """An EventBridge rate expression (the unit is singular for 1: ``rate(1 minute)``)."""
    return f"rate({value} {unit if value == 1 else unit + 's'})"


def _role_policy(spec: DeploySpec) -> dict[str, Any]:
    try:
        document = _engine_document(spec)
    except PolicyError as error:
        raise DeployError(f"the engine role cannot be scoped: {error}") from None
    _check_role_size(spec, document)
    statements = []
    for statement in document["Statement"]:
        resource = statement["Resource"]
        statements.append({**statement, "Resource": _sub(resource)})
    return {**document, "Statement": statements}


def _engine_document(spec: DeploySpec) -> dict[str, Any]:
    return policy(
        "engine",
        tables=spec.tables,
        streams=spec.streams,
        region=PSEUDO_REGION,
        account=PSEUDO_ACCOUNT,
        partition=PSEUDO_PARTITION,
        stack=spec.stack,
        state_table=f"${{{STATE_TABLE}.Arn}}",
        log_group=f"${{{LOG_GROUP}.Arn}}",
    )


def _check_role_size(spec: DeploySpec, document: dict[str, Any]) -> None:
    """IAM counts a role's inline policies without white space, after CloudFormation resolves
    them: the pseudo parameters are counted at their longest (``aws-us-gov``, a 14-letter
    region, 12 digits) and a resource reference as a 256-character ARN."""
    text = json.dumps(document, separators=(",", ":"))
    for placeholder, longest in (
        (PSEUDO_PARTITION, "aws-us-gov"),
        (PSEUDO_REGION, "ap-southeast-5"),
        (PSEUDO_ACCOUNT, "123456789012"),
    ):
        text = text.replace(placeholder, longest)
    size = len(text) + text.count(".Arn}") * 256
    if size > MAX_ROLE_POLICY_CHARS:
        raise DeployError(
            f"stack {spec.stack}: the engine role's policy would take about {size:,} "
            f"characters and IAM allows {MAX_ROLE_POLICY_CHARS:,} for a role's inline "
            "policies: split the tables and streams over several stacks"
        )


def _check_environment(spec: DeploySpec, variables: dict[str, str]) -> None:
    size = environment_size(variables) + sum(len(k) + v for k, v in REF_VALUE_BYTES.items())
    if size > MAX_ENVIRONMENT_BYTES:
        raise DeployError(
            f"stack {spec.stack}: the Lambda's environment would take about {size:,} bytes "
            f"({len(spec.managed)} dimensions) and Lambda allows {MAX_ENVIRONMENT_BYTES:,}: "
            "split the tables and streams over several stacks"
        )


def _native_dimensions(table: Table) -> list[tuple[str | None, str, str]]:
    """``(index, dimension, ScalableDimension)`` for the table and each provisioned GSI."""
    out: list[tuple[str | None, str, str]] = [
        (None, "read", "dynamodb:table:ReadCapacityUnits"),
        (None, "write", "dynamodb:table:WriteCapacityUnits"),
    ]
    for index in table.indexes:
        if index.provisioned is not None:
            out += [
                (index.name, "read", "dynamodb:index:ReadCapacityUnits"),
                (index.name, "write", "dynamodb:index:WriteCapacityUnits"),
            ]
    return out


def _native_resources(spec: DeploySpec, tables: Sequence[Table]) -> dict[str, Any]:
    by_name = {t.name: t for t in tables}
    resources: dict[str, Any] = {}
    n = 0
    for name in spec.native_aas:
        table = by_name.get(name)
        if table is None:
            known = ", ".join(sorted(by_name)) or "none"
            raise DeployError(f"native AAS table {name!r} was not read (tables read: {known})")
        if table.is_on_demand:
            raise DeployError(
                f"native AAS table {name!r} is on-demand: AAS scales only provisioned capacity"
            )
        for index, dimension, scalable_dimension in _native_dimensions(table):
            n += 1
            target = f"ScalableTarget{n}"
            resources[target] = {
                "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
                "Properties": {
                    "ServiceNamespace": "dynamodb",
                    "ResourceId": resource_id(name, index),
                    "ScalableDimension": scalable_dimension,
                    "MinCapacity": spec.bounds[0],
                    "MaxCapacity": spec.bounds[1],
                },
            }
            key = Scalable(name, "read" if dimension == "read" else "write", index).key
            resources[f"ScalingPolicy{n}"] = {
                "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
                "Properties": {
                    "PolicyName": f"{spec.stack}-{key}"[:256],
                    "PolicyType": "TargetTrackingScaling",
                    "ScalingTargetId": _ref(target),
                    "TargetTrackingScalingPolicyConfiguration": {
                        "TargetValue": spec.target,
                        "PredefinedMetricSpecification": {
                            "PredefinedMetricType": _READ_METRIC
                            if dimension == "read"
                            else _WRITE_METRIC
                        },
                    },
                },
            }
    return resources


def _alarm_resources(
    spec: DeploySpec, tables: Sequence[Table], streams: Sequence[Stream]
) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for scalable in spec.managed:
        capacity = capacity_of(scalable, tables, streams)
        if capacity is None:
            raise DeployError(
                f"{scalable.key}: its capacity was not read (a provisioned table, index or "
                "stream of those given is needed)"
            )
        for alarm in alarms_for(spec, scalable, capacity, actions=(TOPIC_REF,)):
            props = alarm_properties(alarm)
            props["AlarmActions"] = [
                _ref(TOPIC) if a == TOPIC_REF else a for a in props.get("AlarmActions", [])
            ]
            resources[f"Alarm{len(resources) + 1}"] = {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": props,
            }
    return resources


def build_template(
    spec: DeploySpec, *, tables: Sequence[Table], streams: Sequence[Stream]
) -> dict[str, Any]:
    """The CloudFormation template (a JSON-able dict) of ``spec``'s stack; ``tables`` and
    ``streams`` as read now give each dimension's capacity (the alarms' first thresholds)
    and the native AAS tables' GSIs.  :class:`DeployError` naming what is wrong: a spec that
    breaks its rules, a dimension whose capacity was not read, an environment over Lambda's
    4 KB, a log retention CloudWatch Logs does not offer, policy ``aas`` with tables given to
    the Lambda."""
    problems = spec.problems()
    if problems:
        raise DeployError("; ".join(problems))
    if spec.policy == "aas" and spec.tables:
        raise DeployError(
            "policy aas runs as Application Auto Scaling target tracking: give the tables "
            f"as native AAS tables, not to the Lambda ({', '.join(spec.tables)})"
        )
    if spec.log_retention_days not in LOG_RETENTION_DAYS:
        raise DeployError(
            f"log retention {spec.log_retention_days} days: CloudWatch Logs allows "
            f"{', '.join(map(str, LOG_RETENTION_DAYS))}"
        )
    variables = spec_environment(spec)
    _check_environment(spec, variables)
    environment: dict[str, Any] = {
        **variables,
        ENV_DRY_RUN: _ref("DryRun"),
        ENV_STATE_TABLE: _ref(STATE_TABLE),
        ENV_TOPIC_ARN: _ref(TOPIC),
    }
    resources: dict[str, Any] = {
        STATE_TABLE: {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [
                    {"AttributeName": STATE_PARTITION_KEY, "AttributeType": "S"},
                    {"AttributeName": STATE_SORT_KEY, "AttributeType": "S"},
                ],
                "KeySchema": [
                    {"AttributeName": STATE_PARTITION_KEY, "KeyType": "HASH"},
                    {"AttributeName": STATE_SORT_KEY, "KeyType": "RANGE"},
                ],
                "TimeToLiveSpecification": {
                    "AttributeName": STATE_TTL_ATTRIBUTE,
                    "Enabled": True,
                },
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            },
        },
        LOG_GROUP: {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "LogGroupName": engine_log_group(spec.stack),
                "RetentionInDays": spec.log_retention_days,
            },
        },
        TOPIC: {
            "Type": "AWS::SNS::Topic",
            "Properties": {
                "DisplayName": f"capcon {spec.stack} alarms"[:100],
            },
        },
        SUBSCRIPTION: {
            "Type": "AWS::SNS::Subscription",
            "Properties": {
                "TopicArn": _ref(TOPIC),
                "Protocol": "lambda",
                "Endpoint": _arn(FUNCTION),
            },
        },
        ROLE: {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": f"capcon engine of stack {spec.stack}",
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "Policies": [{"PolicyName": "capcon-engine", "PolicyDocument": _role_policy(spec)}],
            },
        },
        FUNCTION: {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Description": f"capcon engine of stack {spec.stack} (policy {spec.policy})",
                "Runtime": RUNTIME,
                "Architectures": [ARCHITECTURE],
                "Handler": HANDLER,
                "Code": {"S3Bucket": _ref("CodeBucket"), "S3Key": _ref("CodeKey")},
                "Role": _arn(ROLE),
                "Timeout": TIMEOUT_SECONDS,
                "MemorySize": MEMORY_MB,
                "ReservedConcurrentExecutions": 1,
                "Environment": {"Variables": environment},
                "LoggingConfig": {"LogGroup": _ref(LOG_GROUP), "LogFormat": "Text"},
            },
        },
        INVOKE_CONFIG: {
            "Type": "AWS::Lambda::EventInvokeConfig",
            "Properties": {
                "FunctionName": _ref(FUNCTION),
                "Qualifier": "$LATEST",
                "MaximumRetryAttempts": 0,
                "MaximumEventAgeInSeconds": MAX_EVENT_AGE_SECONDS,
            },
        },
        "TopicPermission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": _arn(FUNCTION),
                "Principal": "sns.amazonaws.com",
                "SourceArn": _ref(TOPIC),
            },
        },
    }
    if spec.managed:
        schedules = [(TICK_RULE, _rate(spec.tick_minutes, "minute"), TICK_INPUT, "tick")]
        if spec.streams:
            schedules.append(
                (
                    STREAM_CHECK_RULE,
                    _rate(spec.stream_check_hours, "hour"),
                    STREAM_CHECK_INPUT,
                    "stream scale-down check",
                )
            )
        for rule, expression, event, what in schedules:
            resources[rule] = {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "Description": f"capcon {spec.stack}: {what}",
                    "ScheduleExpression": expression,
                    "State": "ENABLED",
                    "Targets": [
                        {"Id": "scaler", "Arn": _arn(FUNCTION), "Input": json.dumps(event)}
                    ],
                },
            }
            resources[f"{rule}Permission"] = {
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "Action": "lambda:InvokeFunction",
                    "FunctionName": _arn(FUNCTION),
                    "Principal": "events.amazonaws.com",
                    "SourceArn": _arn(rule),
                },
            }
    resources.update(_alarm_resources(spec, tables, streams))
    resources.update(_native_resources(spec, tables))
    what = f"{len(spec.managed)} dimension(s) in the Lambda"
    if spec.native_aas:
        what += f", {len(spec.native_aas)} table(s) on AAS target tracking"
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": (
            f"capcon auto-scaling engine, stack {spec.stack}: policy {spec.policy} at "
            f"{spec.target:g}% ({what}); a dry run until DryRun=false (capcon deploy live)"
        )[:1024],
        "Metadata": {"capcon": {"stack": spec.stack, "notes": list(spec.notes)}},
        "Parameters": {
            "DryRun": {
                "Type": "String",
                "AllowedValues": ["true", "false"],
                "Default": "true",
                "Description": "true: the engine decides and records but changes nothing",
            },
            "CodeBucket": {
                "Type": "String",
                "MinLength": 3,
                "Description": "S3 bucket of the code package (capcon deploy apply uploads it)",
            },
            "CodeKey": {
                "Type": "String",
                "MinLength": 1,
                "Description": "S3 key of the code package",
            },
        },
        "Resources": resources,
        "Outputs": {
            "StateTable": {"Description": "state and audit table", "Value": _ref(STATE_TABLE)},
            "Topic": {"Description": "the alarms' SNS topic", "Value": _ref(TOPIC)},
            "Function": {"Description": "the scaler Lambda", "Value": _ref(FUNCTION)},
            "LogGroup": {"Description": "the scaler's log group", "Value": _ref(LOG_GROUP)},
        },
    }
