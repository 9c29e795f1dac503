"""The AWS operations capcon calls, named as IAM actions (``service:Operation``).

The one list of what the adapter sends to AWS: the base for a least-privilege IAM policy.
Every call in :mod:`capcon.core.backends.aws` is made inside
:func:`capcon.core.backends.aws.errors.calling`, which takes an :data:`Action` (so the type
checker refuses a name missing here), and a test checks that each request sent is the action
named around it and that every action listed is used.
"""

from __future__ import annotations

from typing import Literal, get_args

Action = Literal[
    # inventory and limits
    "dynamodb:ListTables",
    "dynamodb:DescribeTable",
    "dynamodb:DescribeLimits",
    "dynamodb:DescribeTableReplicaAutoScaling",
    "kinesis:ListStreams",
    "kinesis:DescribeStreamSummary",
    "kinesis:ListShards",
    "kinesis:DescribeLimits",
    "kinesis:ListStreamConsumers",
    "kinesis:DescribeAccountSettings",
    # metrics
    "cloudwatch:GetMetricData",
    # capacity changes
    "dynamodb:UpdateTable",
    "kinesis:UpdateShardCount",
    "kinesis:SplitShard",
    "kinesis:MergeShards",
    "kinesis:UpdateStreamMode",
    # Application Auto Scaling (DynamoDB's namespace only)
    "application-autoscaling:DescribeScalableTargets",
    "application-autoscaling:DescribeScalingPolicies",
    "application-autoscaling:DescribeScalingActivities",
    "application-autoscaling:RegisterScalableTarget",
    "application-autoscaling:DeregisterScalableTarget",
    "application-autoscaling:PutScalingPolicy",
    "application-autoscaling:DeleteScalingPolicy",
    # who is calling, for the audit log
    "sts:GetCallerIdentity",
]

#: Every :data:`Action`, in the order above.
ACTIONS: tuple[Action, ...] = get_args(Action)
