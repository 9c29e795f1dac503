"""The AWS operations capcon calls, named as IAM actions (``service:Operation``).

The one list of what capcon sends to AWS: the base for a least-privilege IAM policy.
Every call in :mod:`capcon.core.backends.aws` is made inside
:func:`capcon.core.backends.aws.errors.calling`, which takes an :data:`Action` (so the type
checker refuses a name missing here).  :data:`ACTIONS` are the adapter's (a test checks that
each request sent is the action named around it and that every one listed is used); the
deployed engine's state store and alarms add :data:`STATE_ACTIONS` and :data:`ALARM_ACTIONS`,
and ``capcon prices update`` :data:`PRICE_ACTIONS`.
"""

from __future__ import annotations

from typing import Literal, get_args

AdapterAction = Literal[
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
    "application-autoscaling:DescribeScheduledActions",
    "application-autoscaling:PutScheduledAction",
    "application-autoscaling:DeleteScheduledAction",
    # who is calling, for the audit log
    "sts:GetCallerIdentity",
]

#: The deployed engine's state store on its state table (version-conditional ``PutItem``).
StateAction = Literal["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]
#: The deployed engine's handler on its stack's alarms (re-tune, reset to OK, pause, live).
AlarmAction = Literal[
    "cloudwatch:PutMetricAlarm",
    "cloudwatch:SetAlarmState",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:EnableAlarmActions",
    "cloudwatch:DisableAlarmActions",
]
#: ``capcon prices update`` (the AWS Price List API).
PriceAction = Literal["pricing:GetProducts"]
#: ``capcon deploy apply | status | live | pause | delete`` on a stack (a deployer's, with
#: the :data:`AlarmAction`\ s on the stack's alarms; HeadObject is authorised by GetObject).
StackAction = Literal[
    "s3:GetObject",
    "s3:PutObject",
    "cloudformation:DescribeStacks",
    "cloudformation:DescribeStackEvents",
    "cloudformation:DescribeStackResources",
    "cloudformation:GetTemplate",
    "cloudformation:CreateChangeSet",
    "cloudformation:DescribeChangeSet",
    "cloudformation:ExecuteChangeSet",
    "cloudformation:DeleteChangeSet",
    "cloudformation:UpdateStack",
    "cloudformation:DeleteStack",
    "events:DescribeRule",
    "scheduler:GetSchedule",
]

Action = Literal[AdapterAction, StateAction, AlarmAction, PriceAction, StackAction]

#: Every action of the adapter (:data:`AdapterAction`), in the order above.
ACTIONS: tuple[AdapterAction, ...] = get_args(AdapterAction)
STATE_ACTIONS: tuple[StateAction, ...] = get_args(StateAction)
ALARM_ACTIONS: tuple[AlarmAction, ...] = get_args(AlarmAction)
PRICE_ACTIONS: tuple[PriceAction, ...] = get_args(PriceAction)
STACK_ACTIONS: tuple[StackAction, ...] = get_args(StackAction)
#: Every :data:`Action`.
ALL_ACTIONS: tuple[Action, ...] = get_args(Action)
