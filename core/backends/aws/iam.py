"""Least-privilege IAM policies for the people and programs that use capcon, derived from the
one list of AWS operations the adapter makes (:mod:`capcon.core.backends.aws.actions`).

Roles:

- ``viewer``: the read-only console and CLI (``ls``, ``show``, ``plan``, the console): every
  action that reads, none that changes anything.
- ``operator``: a person who scales: the viewer's actions, every capacity change the adapter
  can send, and what Application Auto Scaling needs of its caller to set up target tracking
  on DynamoDB (CloudWatch alarms it creates, and its service-linked role the first time).
- ``engine``: the deployed engine's Lambda (``capcon deploy``): reads and capacity changes of
  the named tables and streams only (never every table), its own state table, its stack's
  alarms (``STACK-*``), its own log group, and the account-wide reads the engine observes with.
  Both people roles also get ``pricing:GetProducts`` for ``capcon prices update``.

Resource scoping follows the Service Authorization Reference: DynamoDB table actions take a
table ARN (an ``UpdateTable`` of a GSI is authorised on its table), Kinesis stream actions a
stream ARN; listing, account limits, ``GetMetricData``, Application Auto Scaling and STS have
no resource-level permissions and take ``"*"``.  Pure: no AWS call is made.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from capcon.core.backends.aws.actions import (
    ACTIONS,
    ALARM_ACTIONS,
    PRICE_ACTIONS,
    STATE_ACTIONS,
    Action,
)

Role = Literal["viewer", "operator", "engine"]
ROLES: tuple[Role, ...] = ("viewer", "operator", "engine")

#: The actions that change something in the account.
MUTATING: frozenset[Action] = frozenset(
    {
        "dynamodb:UpdateTable",
        "kinesis:UpdateShardCount",
        "kinesis:SplitShard",
        "kinesis:MergeShards",
        "kinesis:UpdateStreamMode",
        "application-autoscaling:RegisterScalableTarget",
        "application-autoscaling:DeregisterScalableTarget",
        "application-autoscaling:PutScalingPolicy",
        "application-autoscaling:DeleteScalingPolicy",
        "application-autoscaling:PutScheduledAction",
        "application-autoscaling:DeleteScheduledAction",
    }
)
#: Actions authorised on a table's ARN.
TABLE_SCOPED: frozenset[Action] = frozenset(
    {"dynamodb:DescribeTable", "dynamodb:DescribeTableReplicaAutoScaling", "dynamodb:UpdateTable"}
)
#: Actions authorised on a stream's ARN.
STREAM_SCOPED: frozenset[Action] = frozenset(
    {
        "kinesis:DescribeStreamSummary",
        "kinesis:ListShards",
        "kinesis:ListStreamConsumers",
        "kinesis:UpdateShardCount",
        "kinesis:SplitShard",
        "kinesis:MergeShards",
        "kinesis:UpdateStreamMode",
    }
)
#: What Application Auto Scaling needs of the caller who sets up DynamoDB target tracking:
#: the alarms it creates and deletes on the caller's behalf (AAS user guide, "Permissions
#: required for API actions on target services and CloudWatch").
AAS_ALARMS = ("cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms")
#: DynamoDB auto scaling's service-linked role, created by the first RegisterScalableTarget.
AAS_SERVICE = "dynamodb.application-autoscaling.amazonaws.com"

#: What the engine never does: switch a stream's mode (the operator's choice), and set up or
#: remove AAS (a stack's native AAS targets are CloudFormation's, made with the deployer's
#: rights).
ENGINE_EXCLUDED: frozenset[Action] = frozenset(
    {
        "kinesis:UpdateStreamMode",
        "application-autoscaling:RegisterScalableTarget",
        "application-autoscaling:DeregisterScalableTarget",
        "application-autoscaling:PutScalingPolicy",
        "application-autoscaling:DeleteScalingPolicy",
        "application-autoscaling:PutScheduledAction",
        "application-autoscaling:DeleteScheduledAction",
    }
)
#: The engine's actions on its stack's alarms (authorised on the alarm's ARN); it also lists
#: them with ``DescribeAlarms``, granted account-wide (read-only).
ENGINE_ALARM_SCOPED: frozenset[Action] = frozenset(ALARM_ACTIONS) - {"cloudwatch:DescribeAlarms"}
#: What the Lambda runtime needs to write the function's logs into its log group.
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
#: Every action that is authorised on a table's or a stream's ARN: a role statement giving one
#: of these on ``"*"`` gives it on every table or stream of the account.
RESOURCE_SCOPED: frozenset[str] = TABLE_SCOPED | STREAM_SCOPED | frozenset(STATE_ACTIONS)

#: CloudFormation's pseudo parameters, accepted in place of a region, account and partition
#: (the template wraps each resource holding one in ``Fn::Sub``).
PSEUDO_REGION = "${AWS::Region}"
PSEUDO_ACCOUNT = "${AWS::AccountId}"
PSEUDO_PARTITION = "${AWS::Partition}"
#: CloudFormation's stack-name rule (as in :mod:`capcon.core.deploy.spec`).
STACK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")

TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
STREAM_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")
ACCOUNT = re.compile(r"\d{12}")
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
PARTITIONS = ("aws", "aws-cn", "aws-us-gov")


class PolicyError(ValueError):
    """A name, account, region or partition the policy cannot be scoped to."""


def _check(
    tables: Sequence[str], streams: Sequence[str], region: str, account: str, partition: str
) -> None:
    for name in tables:
        if not TABLE_NAME.fullmatch(name):
            raise PolicyError(
                f"table name {name!r} is not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)"
            )
    for name in streams:
        if not STREAM_NAME.fullmatch(name):
            raise PolicyError(
                f"stream name {name!r} is not a Kinesis stream name (1-128 of A-Z a-z 0-9 _ . -)"
            )
    if account not in ("*", PSEUDO_ACCOUNT) and not ACCOUNT.fullmatch(account):
        raise PolicyError(f"account {account!r} must be 12 digits (or * for any)")
    if region not in ("*", PSEUDO_REGION) and not REGION.fullmatch(region):
        raise PolicyError(f"region {region!r} is not a region name such as us-east-1 (or *)")
    if partition not in PARTITIONS and partition != PSEUDO_PARTITION:
        raise PolicyError(f"partition {partition!r}: allowed {', '.join(PARTITIONS)}")


def actions_of(role: Role) -> tuple[Action, ...]:
    """The adapter's actions a ``role`` is allowed, in the order of :data:`ACTIONS` (the
    engine's state-store, alarm and log actions come on top, scoped to its own resources)."""
    if role == "viewer":
        return tuple(a for a in ACTIONS if a not in MUTATING)
    if role == "engine":
        return tuple(a for a in ACTIONS if a not in ENGINE_EXCLUDED)
    return ACTIONS


def engine_log_group(stack: str) -> str:
    """The name of the log group the engine of ``stack`` writes to (the template's
    ``ScalerLogGroup``)."""
    return f"/capcon/{stack}/scaler"


def engine_state_table_pattern(stack: str) -> str:
    """The name CloudFormation gives ``stack``'s ``StateTable`` (``STACK-StateTable-SUFFIX``),
    as a pattern: for a policy written before the stack exists."""
    return f"{stack}-StateTable-*"


def policy(
    role: Role,
    *,
    tables: Sequence[str] = (),
    streams: Sequence[str] = (),
    region: str = "*",
    account: str = "*",
    partition: str = "aws",
    stack: str | None = None,
    state_table: str | None = None,
    log_group: str | None = None,
) -> dict[str, Any]:
    """The IAM policy document for ``role``, scoped to ``tables`` and ``streams`` (for a
    person, every table or stream of the account and region when none are named).

    ``engine`` needs ``stack`` (its alarms are ``STACK-*``) and scopes to the named tables and
    streams only; ``state_table`` and ``log_group`` are their ARNs (default: the names the
    stack's template gives them, see :func:`engine_state_table_pattern` and
    :func:`engine_log_group`).  The template passes the pseudo parameters
    (:data:`PSEUDO_REGION` …) and ``${StateTable.Arn}``-style references."""
    _check(tables, streams, region, account, partition)
    if role == "engine":
        if stack is None or not STACK_NAME.fullmatch(stack):
            raise PolicyError(
                f"stack name {stack!r}: the engine's policy needs --stack (a letter, then "
                "letters, digits or hyphens, at most 128)"
            )
        return _engine_policy(
            tables, streams, region, account, partition, stack, state_table, log_group
        )
    table_arns = [
        f"arn:{partition}:dynamodb:{region}:{account}:table/{name}" for name in tables or ["*"]
    ]
    stream_arns = [
        f"arn:{partition}:kinesis:{region}:{account}:stream/{name}" for name in streams or ["*"]
    ]
    allowed = actions_of(role)
    statements: list[dict[str, Any]] = []

    def add(sid: str, actions: Sequence[str], resources: list[str] | str) -> None:
        if actions:
            statements.append(
                {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources}
            )

    add("Tables", [a for a in allowed if a in TABLE_SCOPED], table_arns)
    add("Streams", [a for a in allowed if a in STREAM_SCOPED], stream_arns)
    add(
        "AccountWide",
        [a for a in allowed if a not in TABLE_SCOPED and a not in STREAM_SCOPED],
        "*",
    )
    add("Prices", PRICE_ACTIONS, "*")
    if role == "operator":
        add("AutoScalingAlarms", AAS_ALARMS, "*")
        statements.append(
            {
                "Sid": "AutoScalingServiceLinkedRole",
                "Effect": "Allow",
                "Action": "iam:CreateServiceLinkedRole",
                "Resource": f"arn:{partition}:iam::{account}:role/aws-service-role/"
                f"{AAS_SERVICE}/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable",
                "Condition": {"StringLike": {"iam:AWSServiceName": AAS_SERVICE}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def _engine_policy(
    tables: Sequence[str],
    streams: Sequence[str],
    region: str,
    account: str,
    partition: str,
    stack: str,
    state_table: str | None,
    log_group: str | None,
) -> dict[str, Any]:
    def arn(service: str, resource: str) -> str:
        return f"arn:{partition}:{service}:{region}:{account}:{resource}"

    allowed = actions_of("engine")
    state_arn = state_table or arn("dynamodb", f"table/{engine_state_table_pattern(stack)}")
    logs_arn = log_group or arn("logs", f"log-group:{engine_log_group(stack)}:*")
    statements: list[dict[str, Any]] = []

    def add(sid: str, actions: Sequence[str], resources: list[str] | str) -> None:
        if actions and resources:
            statements.append(
                {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources}
            )

    add(
        "Tables",
        [a for a in allowed if a in TABLE_SCOPED],
        [arn("dynamodb", f"table/{name}") for name in tables],
    )
    add(
        "Streams",
        [a for a in allowed if a in STREAM_SCOPED],
        [arn("kinesis", f"stream/{name}") for name in streams],
    )
    add(
        "AccountWide",
        [
            a
            for a in (*allowed, "cloudwatch:DescribeAlarms")
            if a not in TABLE_SCOPED and a not in STREAM_SCOPED
        ],
        "*",
    )
    add("StateTable", STATE_ACTIONS, [state_arn])
    add("StackAlarms", sorted(ENGINE_ALARM_SCOPED), [arn("cloudwatch", f"alarm:{stack}-*")])
    add("Logs", LOG_ACTIONS, [logs_arn])
    return {"Version": "2012-10-17", "Statement": statements}


def allowed_actions(document: dict[str, Any]) -> set[str]:
    """Every action a policy document allows (``Action`` as a string or a list)."""
    found: set[str] = set()
    for statement in document["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        action = statement["Action"]
        found.update([action] if isinstance(action, str) else action)
    return found
