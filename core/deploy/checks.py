"""capcon's own checks of a stack's template: what AWS refuses or mishandles that cfn-lint's
schema checks and moto's CloudFormation let through.

Each message names the resource, the value and what AWS allows (sources in docs/aws-rules.md,
"The deployed engine: template, IAM and checks"):

- Application Auto Scaling: ``StepScaling`` is not supported for DynamoDB (AAS API reference,
  ``PolicyType``); target tracking on a customized metric-math specification is not supported
  for DynamoDB (AAS user guide, metric math, limitations).
- CloudWatch alarms: metric math needs exactly one query with ``ReturnData`` true (omitted
  counts as true, the API's default); a period is 10, 20, 30 or a multiple of 60 seconds;
  ``EvaluationPeriods`` × ``Period`` at most one day (86,400 s) when the period is under an
  hour, seven days otherwise (PutMetricAlarm API reference); an alarm of the stack must
  notify the stack's topic (or it wakes nothing).
- Lambda: timeout at most 900 s; the scaler runs one at a time (reserved concurrency 1) with
  no asynchronous retries (an ``AWS::Lambda::EventInvokeConfig`` with
  ``MaximumRetryAttempts`` 0: Lambda's default is 2); environment at most 4 KB.
- IAM: a role statement granting a table or stream action on ``"*"`` (or every table or
  stream) gives it on every table of the account.

Values given by an intrinsic function (``Ref``, ``Fn::…``) cannot be judged here and are
left alone.  Malformed input gets messages, never an exception.  Pure: no AWS call is made.
"""

from __future__ import annotations

import re
from typing import Any

from capcon.core.backends.aws.iam import RESOURCE_SCOPED
from capcon.core.deploy.spec import MAX_ENVIRONMENT_BYTES

#: Periods CloudWatch alarms accept below a minute (high-resolution metrics).
SHORT_PERIODS = (10, 20, 30)
#: EvaluationPeriods × Period: at most a day for periods under an hour, a week otherwise.
MAX_ALARM_SPAN_SECONDS = 86_400
MAX_ALARM_SPAN_LONG_SECONDS = 604_800
LAMBDA_MAX_TIMEOUT = 900
#: Lambda's retries of an asynchronous invocation when nothing else is configured.
LAMBDA_DEFAULT_RETRIES = 2
#: Bytes counted for an environment value given by an intrinsic function (a table name, an
#: ARN): the longest it can resolve to, roughly.
UNKNOWN_VALUE_BYTES = 400
#: The stack's topic (see :mod:`capcon.core.deploy.template`).
TOPIC = "AlarmTopic"

_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
_SCOPED_SERVICES = {action.split(":")[0] for action in RESOURCE_SCOPED}


def _resources(template: object) -> tuple[dict[str, dict[str, Any]], list[str]]:
    if not isinstance(template, dict):
        return {}, [f"the template is a {type(template).__name__}, not a JSON object"]
    resources = template.get("Resources")
    if not isinstance(resources, dict):
        return {}, ["the template has no Resources object"]
    out: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for name, resource in resources.items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            problems.append(f"resource {name}: not an object with a Type")
            continue
        props = resource.get("Properties", {})
        out[str(name)] = {
            "Type": resource["Type"],
            "Properties": props if isinstance(props, dict) else {},
        }
    return out, problems


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value: object) -> float | None:
    """A literal number (JSON number or numeric string); ``None`` for anything else."""
    if _is_number(value):
        return float(value)  # type: ignore[arg-type]
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _truthy(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _refers_to(value: object, name: str) -> bool:
    """``value`` is ``{"Ref": name}``, ``{"Fn::GetAtt": [name, …]}`` or a ``Fn::Sub`` of it."""
    if not isinstance(value, dict):
        return False
    if value.get("Ref") == name:
        return True
    att = value.get("Fn::GetAtt")
    if isinstance(att, list) and att and att[0] == name:
        return True
    if isinstance(att, str) and att.split(".")[0] == name:
        return True
    sub = value.get("Fn::Sub")
    return isinstance(sub, str) and sub.strip() in (f"${{{name}}}", f"${{{name}.Arn}}")


# --------------------------------------------------------------------------------------------
# Application Auto Scaling
# --------------------------------------------------------------------------------------------


def _dynamodb_target(props: dict[str, Any], resources: dict[str, dict[str, Any]]) -> bool:
    """A scaling policy whose target is a DynamoDB table or index."""
    if props.get("ServiceNamespace") == "dynamodb":
        return True
    dimension = props.get("ScalableDimension")
    if isinstance(dimension, str) and dimension.startswith("dynamodb:"):
        return True
    target = props.get("ScalingTargetId")
    for name, resource in resources.items():
        if resource["Type"] == "AWS::ApplicationAutoScaling::ScalableTarget" and _refers_to(
            target, name
        ):
            return bool(resource["Properties"].get("ServiceNamespace") == "dynamodb")
    return False


def _scaling_policies(resources: dict[str, dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for name, resource in resources.items():
        if resource["Type"] != "AWS::ApplicationAutoScaling::ScalingPolicy":
            continue
        props = resource["Properties"]
        if not _dynamodb_target(props, resources):
            continue
        kind = props.get("PolicyType")
        if kind == "StepScaling":
            out.append(
                f"{name}: PolicyType StepScaling on a DynamoDB target: Application Auto "
                "Scaling supports only TargetTrackingScaling (and scheduled actions) for "
                "DynamoDB"
            )
        config = props.get("TargetTrackingScalingPolicyConfiguration")
        custom = config.get("CustomizedMetricSpecification") if isinstance(config, dict) else None
        if isinstance(custom, dict) and "Metrics" in custom:
            out.append(
                f"{name}: target tracking on metric math (CustomizedMetricSpecification."
                "Metrics) on a DynamoDB target: metric math is not supported for DynamoDB; "
                "use a PredefinedMetricSpecification (DynamoDBRead/WriteCapacityUtilization)"
            )
    return out


# --------------------------------------------------------------------------------------------
# CloudWatch alarms
# --------------------------------------------------------------------------------------------


def _period_problem(name: str, where: str, period: object) -> str | None:
    value = _number(period)
    if value is None:
        return None
    if value in SHORT_PERIODS or (value >= 60 and value % 60 == 0):
        return None
    return (
        f"{name}: {where} {period!r} s: CloudWatch alarms accept 10, 20, 30 or a multiple "
        "of 60 seconds"
    )


def _alarm(name: str, props: dict[str, Any], topic: str | None) -> list[str]:
    out: list[str] = []
    metrics = props.get("Metrics")
    periods: list[float] = []
    if "Period" in props:
        problem = _period_problem(name, "Period", props["Period"])
        if problem:
            out.append(problem)
        if (value := _number(props["Period"])) is not None:
            periods.append(value)
    if isinstance(metrics, list):
        returning = []
        for i, query in enumerate(metrics):
            if not isinstance(query, dict):
                out.append(f"{name}: Metrics[{i}] is not an object")
                continue
            label = f"Metrics[{i}] ({query.get('Id', '?')})"
            flag = _truthy(query.get("ReturnData", True))
            if flag is None or flag:
                returning.append(label)
            stat = query.get("MetricStat")
            for where, period in (
                (
                    f"{label}.MetricStat.Period",
                    stat.get("Period") if isinstance(stat, dict) else None,
                ),
                (f"{label}.Period", query.get("Period")),
            ):
                if period is None:
                    continue
                problem = _period_problem(name, where, period)
                if problem:
                    out.append(problem)
                if (value := _number(period)) is not None:
                    periods.append(value)
        if len(returning) != 1:
            out.append(
                f"{name}: {len(returning)} metric-math queries return data "
                f"({', '.join(returning) or 'none'}): an alarm needs exactly one with "
                "ReturnData true (omitted counts as true) and every other false"
            )
    evaluations = _number(props.get("EvaluationPeriods"))
    if evaluations is not None and periods:
        period = max(periods)
        span = evaluations * period
        limit = MAX_ALARM_SPAN_SECONDS if period < 3600 else MAX_ALARM_SPAN_LONG_SECONDS
        if span > limit:
            out.append(
                f"{name}: EvaluationPeriods {evaluations:g} × Period {period:g} s = "
                f"{span:,.0f} s: CloudWatch evaluates at most one day ({MAX_ALARM_SPAN_SECONDS:,} "
                f"s) with periods under an hour, seven days ({MAX_ALARM_SPAN_LONG_SECONDS:,} s) "
                "otherwise"
            )
    if topic is not None:
        actions = props.get("AlarmActions")
        if not isinstance(actions, list) or not any(_refers_to(a, topic) for a in actions):
            out.append(
                f"{name}: AlarmActions {actions!r} do not notify the stack's topic {topic}: "
                "the alarm would wake nothing"
            )
    return out


# --------------------------------------------------------------------------------------------
# Lambda
# --------------------------------------------------------------------------------------------


def _environment_bytes(variables: dict[Any, Any]) -> int:
    size = 0
    for key, value in variables.items():
        size += len(str(key).encode())
        size += len(value.encode()) if isinstance(value, str) else UNKNOWN_VALUE_BYTES
    return size


def _functions(resources: dict[str, dict[str, Any]]) -> list[str]:
    out: list[str] = []
    configs = {
        name: r["Properties"]
        for name, r in resources.items()
        if r["Type"] == "AWS::Lambda::EventInvokeConfig"
    }
    for name, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        props = resource["Properties"]
        timeout = _number(props.get("Timeout", 3))
        if timeout is not None and timeout > LAMBDA_MAX_TIMEOUT:
            out.append(
                f"{name}: Timeout {props.get('Timeout')!r} s: Lambda allows at most "
                f"{LAMBDA_MAX_TIMEOUT} s"
            )
        reserved = props.get("ReservedConcurrentExecutions")
        if not isinstance(reserved, dict) and _number(reserved) != 1:
            out.append(
                f"{name}: ReservedConcurrentExecutions {reserved!r}: the scaler must run one "
                "invocation at a time (1), or two wake-ups could change the same capacity"
            )
        env = props.get("Environment")
        variables = env.get("Variables") if isinstance(env, dict) else None
        if isinstance(variables, dict):
            size = _environment_bytes(variables)
            if size > MAX_ENVIRONMENT_BYTES:
                out.append(
                    f"{name}: environment of about {size:,} bytes: Lambda allows "
                    f"{MAX_ENVIRONMENT_BYTES:,} (split the stack)"
                )
        mine = [c for c in configs.values() if _refers_to(c.get("FunctionName"), name)]
        if not mine:
            out.append(
                f"{name}: no AWS::Lambda::EventInvokeConfig: Lambda retries a failed "
                f"asynchronous invocation {LAMBDA_DEFAULT_RETRIES} times; the scaler needs "
                "MaximumRetryAttempts 0"
            )
        for config in mine:
            retries = config.get("MaximumRetryAttempts", LAMBDA_DEFAULT_RETRIES)
            if not isinstance(retries, dict) and _number(retries) != 0:
                out.append(
                    f"{name}: MaximumRetryAttempts {retries!r}: the scaler needs 0 (Lambda "
                    "allows 0-2; a retried wake-up acts on an old observation)"
                )
    return out


# --------------------------------------------------------------------------------------------
# IAM
# --------------------------------------------------------------------------------------------


def _scoped_actions(actions: object) -> list[str]:
    listed = [actions] if isinstance(actions, str) else actions
    if not isinstance(listed, list):
        return []
    out = []
    for action in listed:
        if not isinstance(action, str):
            continue
        service, _, operation = action.partition(":")
        if action == "*" or (
            service.lower() in _SCOPED_SERVICES and ("*" in operation or action in RESOURCE_SCOPED)
        ):
            out.append(action)
    return out


def _every_resource(resource: object) -> list[str]:
    """The resources of a statement that mean every table or stream."""
    listed = [resource] if not isinstance(resource, list) else resource
    out = []
    for item in listed:
        text = item.get("Fn::Sub") if isinstance(item, dict) else item
        if not isinstance(text, str):
            continue
        parts = _PLACEHOLDER.sub("x", text).split(":", 5)
        if text == "*" or (len(parts) == 6 and parts[5] in ("*", "table/*", "stream/*")):
            out.append(text)
    return out


def _roles(resources: dict[str, dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for name, resource in resources.items():
        if resource["Type"] not in (
            "AWS::IAM::Role",
            "AWS::IAM::Policy",
            "AWS::IAM::ManagedPolicy",
        ):
            continue
        props = resource["Properties"]
        documents: list[object] = []
        if resource["Type"] == "AWS::IAM::Role":
            policies = props.get("Policies")
            for item in policies if isinstance(policies, list) else []:
                if isinstance(item, dict):
                    documents.append(item.get("PolicyDocument"))
        else:
            documents.append(props.get("PolicyDocument"))
        for document in documents:
            statements = document.get("Statement") if isinstance(document, dict) else None
            if isinstance(statements, dict):
                statements = [statements]
            for statement in statements if isinstance(statements, list) else []:
                if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
                    continue
                actions = _scoped_actions(statement.get("Action"))
                wide = _every_resource(statement.get("Resource"))
                if actions and wide:
                    sid = statement.get("Sid", "?")
                    out.append(
                        f"{name}: statement {sid} allows {', '.join(sorted(actions))} on "
                        f"{', '.join(wide)}: table and stream actions must name the stack's "
                        "tables, streams and state table by ARN"
                    )
    return out


def check_template(template: object) -> list[str]:
    """What is wrong with ``template`` (empty when nothing is), each message naming the
    resource, the value and what AWS allows."""
    resources, problems = _resources(template)
    topic = TOPIC if resources.get(TOPIC, {}).get("Type") == "AWS::SNS::Topic" else None
    problems += _scaling_policies(resources)
    for name, resource in resources.items():
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            problems += _alarm(name, resource["Properties"], topic)
    problems += _functions(resources)
    problems += _roles(resources)
    return problems
