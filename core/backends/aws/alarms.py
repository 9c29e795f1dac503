"""CloudWatch metric alarms over boto3: the :class:`capcon.core.ports.Alarms` port.

``PutMetricAlarm`` from an :class:`~capcon.core.ports.AlarmSpec` (one metric, or ``Metrics``:
metric-data queries with ``MetricStat`` + ``Period``, ``Expression`` and ``ReturnData``, as
the template's ``AWS::CloudWatch::Alarm`` writes them), ``SetAlarmState``, ``DescribeAlarms``
by ``AlarmNamePrefix`` (every ``NextToken`` page) and ``Enable``/``DisableAlarmActions``
(at most 100 names a call: the API's limit).  Mutations are sent once (no retry of a call
whose answer was lost: PutMetricAlarm and SetAlarmState are idempotent, so the caller may
send again).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from capcon.core.backends.aws import answers
from capcon.core.backends.aws.actions import Action
from capcon.core.backends.aws.errors import calling
from capcon.core.errors import BackendError
from capcon.core.ports import AlarmSpec, AlarmState, AlarmStatus, MetricQuery

if TYPE_CHECKING:
    from types_boto3_cloudwatch.client import CloudWatchClient

#: The CloudWatch actions the alarms port sends (the engine role needs them).
ALARM_ACTIONS: tuple[str, ...] = (
    "cloudwatch:PutMetricAlarm",
    "cloudwatch:SetAlarmState",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:EnableAlarmActions",
    "cloudwatch:DisableAlarmActions",
)
#: ``EnableAlarmActions``/``DisableAlarmActions`` take at most 100 names.
ACTIONS_CHUNK = 100
#: ``DescribeAlarms`` pages: at most 100 a page.
DESCRIBE_PAGE = 100
MAX_PAGES = 1000
_STATES: tuple[AlarmState, ...] = ("OK", "ALARM", "INSUFFICIENT_DATA")


def _action(name: str) -> Action:
    # The alarm actions are listed in ALARM_ACTIONS, apart from the console's list.
    return cast(Action, name)


def _metric(query: MetricQuery) -> dict[str, Any]:
    return {
        "Namespace": query.namespace,
        "MetricName": query.metric,
        "Dimensions": [{"Name": n, "Value": v} for n, v in query.dimensions],
    }


def put_metric_alarm_request(alarm: AlarmSpec) -> dict[str, Any]:
    """The ``PutMetricAlarm`` parameters for ``alarm``."""
    request: dict[str, Any] = {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "ActionsEnabled": alarm.actions_enabled,
        "EvaluationPeriods": alarm.evaluation_periods,
        "DatapointsToAlarm": alarm.datapoints_to_alarm,
        "Threshold": float(alarm.threshold),
        "ComparisonOperator": alarm.comparison,
        "TreatMissingData": alarm.treat_missing_data,
    }
    if alarm.actions:
        request["AlarmActions"] = list(alarm.actions)
    if alarm.metric is not None:
        request.update(_metric(alarm.metric))
        request["Statistic"] = alarm.metric.stat
        request["Period"] = alarm.metric.period
        return request
    metrics: list[dict[str, Any]] = []
    for q in alarm.queries:
        item: dict[str, Any] = {"Id": q.id, "ReturnData": q.return_data}
        if q.label is not None:
            item["Label"] = q.label
        if q.metric is not None:
            item["MetricStat"] = {
                "Metric": _metric(q.metric),
                "Period": q.metric.period,
                "Stat": q.metric.stat,
            }
        else:
            # an expression's period is that of the metrics it reads (no Period of its own)
            item["Expression"] = q.expression
        metrics.append(item)
    request["Metrics"] = metrics
    return request


class AwsAlarms:
    """The Alarms port on one CloudWatch client (a boto3 ``cloudwatch`` client)."""

    def __init__(self, client: CloudWatchClient) -> None:
        self.client = answers.watch(client)

    def put_metric_alarm(self, alarm: AlarmSpec) -> None:
        request = put_metric_alarm_request(alarm)
        with calling(_action("cloudwatch:PutMetricAlarm"), f"alarm {alarm.name}"):
            self.client.put_metric_alarm(**request)

    def set_alarm_state(self, name: str, state: AlarmState, reason: str) -> None:
        if state not in _STATES:
            raise BackendError(f"alarm state {state!r}: allowed {', '.join(_STATES)}")
        with calling(_action("cloudwatch:SetAlarmState"), f"alarm {name}"):
            # StateReason: at most 1023 characters (SetAlarmState API reference)
            self.client.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason[:1023])

    def describe_alarms(self, prefix: str) -> list[AlarmStatus]:
        out: list[AlarmStatus] = []
        params: dict[str, Any] = {
            "AlarmNamePrefix": prefix,
            "AlarmTypes": ["MetricAlarm"],
            "MaxRecords": DESCRIBE_PAGE,
        }
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            with calling(_action("cloudwatch:DescribeAlarms"), f"alarms {prefix}*"):
                answer = self.client.describe_alarms(**params)
                for i, item in enumerate(answers.items(answer, "MetricAlarms", required=False)):
                    out.append(_status(answers.mapping(item, f"MetricAlarms[{i}]")))
            token = answer.get("NextToken")
            if not isinstance(token, str) or not token or token in seen:
                return out
            seen.add(token)
            params["NextToken"] = token
        raise BackendError(
            f"cloudwatch:DescribeAlarms kept returning NextToken ({MAX_PAGES} pages)"
        )

    def set_alarm_actions(self, names: Sequence[str], enabled: bool) -> None:
        name = "cloudwatch:EnableAlarmActions" if enabled else "cloudwatch:DisableAlarmActions"
        call = self.client.enable_alarm_actions if enabled else self.client.disable_alarm_actions
        for at in range(0, len(names), ACTIONS_CHUNK):
            chunk = list(names[at : at + ACTIONS_CHUNK])
            with calling(_action(name), f"{len(chunk)} alarms"):
                call(AlarmNames=chunk)


def _status(item: Mapping[str, Any]) -> AlarmStatus:
    name = item.get("AlarmName")
    state = item.get("StateValue")
    threshold = item.get("Threshold")
    return AlarmStatus(
        name=str(name) if isinstance(name, str) else "",
        state=state if state in _STATES else "INSUFFICIENT_DATA",
        threshold=float(threshold) if isinstance(threshold, int | float) else None,
        actions_enabled=bool(item.get("ActionsEnabled", True)),
        description=str(item.get("AlarmDescription") or ""),
    )
