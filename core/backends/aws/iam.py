"""Least-privilege IAM policies for the people and programs that use capcon, derived from the
one list of AWS operations the adapter makes (:mod:`capcon.core.backends.aws.actions`).

Roles:

- ``viewer``: the read-only console and CLI (``ls``, ``show``, ``plan``, the console): every
  action that reads, none that changes anything.
- ``operator``: a person who scales: the viewer's actions, every capacity change the adapter
  can send, and what Application Auto Scaling needs of its caller to set up target tracking
  on DynamoDB (CloudWatch alarms it creates, and its service-linked role the first time).

Resource scoping follows the Service Authorization Reference: DynamoDB table actions take a
table ARN (an ``UpdateTable`` of a GSI is authorised on its table), Kinesis stream actions a
stream ARN; listing, account limits, ``GetMetricData``, Application Auto Scaling and STS have
no resource-level permissions and take ``"*"``.  Pure: no AWS call is made.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from capcon.core.backends.aws.actions import ACTIONS, Action

Role = Literal["viewer", "operator"]
ROLES: tuple[Role, ...] = ("viewer", "operator")

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
    if account != "*" and not ACCOUNT.fullmatch(account):
        raise PolicyError(f"account {account!r} must be 12 digits (or * for any)")
    if region != "*" and not REGION.fullmatch(region):
        raise PolicyError(f"region {region!r} is not a region name such as us-east-1 (or *)")
    if partition not in PARTITIONS:
        raise PolicyError(f"partition {partition!r}: allowed {', '.join(PARTITIONS)}")


def actions_of(role: Role) -> tuple[Action, ...]:
    """The adapter's actions a ``role`` is allowed, in the order of :data:`ACTIONS`."""
    if role == "viewer":
        return tuple(a for a in ACTIONS if a not in MUTATING)
    return ACTIONS


def policy(
    role: Role,
    *,
    tables: Sequence[str] = (),
    streams: Sequence[str] = (),
    region: str = "*",
    account: str = "*",
    partition: str = "aws",
) -> dict[str, Any]:
    """The IAM policy document for ``role``, scoped to ``tables`` and ``streams`` (every
    table or stream of the account and region when none are named)."""
    _check(tables, streams, region, account, partition)
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


def allowed_actions(document: dict[str, Any]) -> set[str]:
    """Every action a policy document allows (``Action`` as a string or a list)."""
    found: set[str] = set()
    for statement in document["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        action = statement["Action"]
        found.update([action] if isinstance(action, str) else action)
    return found
