"""The events AWS delivers to the scaler Lambda, built the way AWS builds them, read into
wake-ups (capcon.core.deploy.events)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from capcon.core.backends.sim.alarms import SimAlarms
from capcon.core.deploy.alarms import alarms_for
from capcon.core.deploy.events import parse_event
from capcon.core.deploy.spec import DeployError, DeploySpec, alarm_description
from capcon.core.ports import MetricSeries, Scalable

NOW = datetime(2026, 12, 2, 5, 7, 30, tzinfo=UTC)
TOPIC = "arn:aws:sns:us-east-1:123456789012:shop-AlarmTopic-1X2Y3Z"
ORDERS_W = Scalable("orders", "write")
BY_CUSTOMER_R = Scalable("orders", "read", "by-customer")
EVENTS = Scalable("events", "shards")
SPEC = DeploySpec("shop", "capcon", 70, (ORDERS_W, BY_CUSTOMER_R, EVENTS))


def sns(*messages: dict[str, Any], ids: tuple[str, ...] = ()) -> dict[str, Any]:
    """SNS's Lambda event: one record per message, the notification a JSON string."""
    records = []
    for i, message in enumerate(messages):
        mid = ids[i] if i < len(ids) else f"0f4c8a1e-5b1d-5c2e-9a3f-00000000000{i}"
        records.append(
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{TOPIC}:8c6b2a44-1d4e-4b6e-9a9e-2f5d3c1b0a99",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": mid,
                    "TopicArn": TOPIC,
                    "Subject": f'ALARM: "{message.get("AlarmName", "")}" in US East (N. Virginia)',
                    "Message": json.dumps(message),
                    "Timestamp": "2026-12-02T05:07:31.512Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/Simple.pem",
                    "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": {},
                },
            }
        )
    return {"Records": records}


def notification(
    name: str,
    description: str | None,
    *,
    new: str = "ALARM",
    old: str = "OK",
    trigger: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """CloudWatch's alarm notification (the SNS Message) for a single-metric alarm."""
    return {
        "AlarmName": name,
        "AlarmDescription": description,
        "AWSAccountId": "123456789012",
        "AlarmConfigurationUpdatedTimestamp": "2026-12-02T04:59:02.121+0000",
        "NewStateValue": new,
        "NewStateReason": "Threshold Crossed: 1 out of the last 1 datapoints [45000.0 "
        "(02/12/26 05:04:00)] was greater than the threshold (42000.0) (minimum 1 datapoint "
        "for OK -> ALARM transition).",
        "StateChangeTime": "2026-12-02T05:07:30.914+0000",
        "Region": "US East (N. Virginia)",
        "AlarmArn": f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}",
        "OldStateValue": old,
        "OKActions": [],
        "AlarmActions": [TOPIC],
        "InsufficientDataActions": [],
        "Trigger": trigger
        or {
            "MetricName": "ConsumedReadCapacityUnits",
            "Namespace": "AWS/DynamoDB",
            "StatisticType": "Statistic",
            "Statistic": "SUM",
            "Unit": None,
            "Dimensions": [
                {"value": "by-customer", "name": "GlobalSecondaryIndexName"},
                {"value": "orders", "name": "TableName"},
            ],
            "Period": 60,
            "EvaluationPeriods": 1,
            "DatapointsToAlarm": 1,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 42000.0,
            "TreatMissingData": "notBreaching",
            "EvaluateLowSampleCountPercentile": "",
        },
    }


def test_a_metric_math_alarm_of_the_stack_wakes_its_dimension() -> None:
    """The capcon alarm, put into the simulated CloudWatch and driven to ALARM: its SNS
    event names the dimension (from the description's mark) and the alarm to reset."""
    cloudwatch = SimAlarms("us-east-1", "123456789012", lambda: NOW)
    (alarm,) = alarms_for(SPEC, ORDERS_W, 100, actions=(TOPIC,))
    cloudwatch.put_metric_alarm(alarm)
    minute = NOW.replace(second=0) - timedelta(minutes=3)

    def fetch(queries: Any, start: datetime, end: datetime) -> list[MetricSeries]:
        return [
            MetricSeries(q.id, (minute,), (9000.0 if "Consumed" in q.metric else 30.0,))
            for q in queries
        ]

    cloudwatch.evaluate(minute + timedelta(minutes=1), fetch)
    (event,) = cloudwatch.take_notifications()
    message = json.loads(event["Records"][0]["Sns"]["Message"])  # type: ignore[index]
    assert message["Trigger"]["Metrics"][0]["MetricStat"]["Metric"]["Dimensions"] == [
        {"value": "orders", "name": "TableName"}
    ]
    assert message["Region"] == "US East (N. Virginia)"
    (wakeup,) = parse_event(json.loads(json.dumps(event)), SPEC, now=NOW)
    assert wakeup.kind == "alarm"
    assert wakeup.scalables == (ORDERS_W,)
    assert wakeup.alarm == alarm.name
    assert wakeup.event_id == "sns:" + event["Records"][0]["Sns"]["MessageId"]  # type: ignore[index]


def test_an_unmarked_alarm_is_matched_by_its_dimensions() -> None:
    """A user's own alarm (no capcon mark) on a managed GSI wakes that GSI's reads."""
    (wakeup,) = parse_event(sns(notification("orders-gsi-hot", "my own alarm")), SPEC)
    assert (wakeup.kind, wakeup.scalables) == ("alarm", (BY_CUSTOMER_R,))
    assert wakeup.at == datetime(2026, 12, 2, 5, 7, 30, 914000, tzinfo=UTC)


def test_metrics_trigger_without_a_mark_is_matched_by_its_queries() -> None:
    trigger = {
        "Period": 60,
        "EvaluationPeriods": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "Threshold": 1.0,
        "TreatMissingData": "missing",
        "EvaluateLowSampleCountPercentile": "",
        "Metrics": [
            {"Expression": "m1 / 60", "Id": "e1", "Label": "per second", "ReturnData": True},
            {
                "Id": "m1",
                "MetricStat": {
                    "Metric": {
                        "Dimensions": [{"value": "events", "name": "StreamName"}],
                        "MetricName": "IncomingBytes",
                        "Namespace": "AWS/Kinesis",
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
                "ReturnData": False,
            },
        ],
    }
    (wakeup,) = parse_event(sns(notification("events-hot", None, trigger=trigger)), SPEC)
    assert wakeup.scalables == (EVENTS,)


def test_alarms_of_another_stack_and_other_tables_are_ignored() -> None:
    other = alarm_description("warehouse", ORDERS_W, "not ours")
    unmanaged = notification("x", None)
    unmanaged["Trigger"]["Dimensions"] = [{"value": "payments", "name": "TableName"}]
    wakeups = parse_event(sns(notification("warehouse-a", other), unmanaged), SPEC)
    assert [w.kind for w in wakeups] == ["ignored", "ignored"]
    assert "warehouse" in wakeups[0].reason and "shop" in wakeups[0].reason
    assert all(w.scalables == () and w.alarm is None for w in wakeups)


@pytest.mark.parametrize(("new", "old"), [("OK", "ALARM"), ("INSUFFICIENT_DATA", "OK")])
def test_transitions_out_of_alarm_ask_for_nothing(new: str, old: str) -> None:
    mark = alarm_description("shop", ORDERS_W, "requests high")
    (wakeup,) = parse_event(sns(notification("shop-a", mark, new=new, old=old)), SPEC)
    assert (wakeup.kind, wakeup.scalables, wakeup.alarm) == ("ignored", (), None)
    assert new in wakeup.reason


def test_a_batch_gives_one_wakeup_per_record_with_its_own_id() -> None:
    mark = alarm_description("shop", EVENTS, "bytes high")
    event = sns(
        notification("shop-events-bytes", mark),
        notification("shop-events-records", mark),
        notification("orders-gsi-hot", None),
        ids=("a-1", "a-2", "a-3"),
    )
    wakeups = parse_event(event, SPEC)
    assert [w.event_id for w in wakeups] == ["sns:a-1", "sns:a-2", "sns:a-3"]
    assert [w.scalables for w in wakeups] == [(EVENTS,), (EVENTS,), (BY_CUSTOMER_R,)]
    assert [w.alarm for w in wakeups] == [
        "shop-events-bytes",
        "shop-events-records",
        "orders-gsi-hot",
    ]


def test_scheduled_events_and_inputs() -> None:
    scheduled = {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-12-02T05:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/shop-TickRule-1AB2C3"],
        "detail": {},
    }
    (tick,) = parse_event(scheduled, SPEC)
    assert (tick.kind, tick.event_id) == ("tick", "events:53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa")
    assert tick.scalables == SPEC.managed
    check = dict(scheduled, resources=["arn:aws:events:::rule/shop-StreamCheckRule-9Z"])
    (stream,) = parse_event(check, SPEC)
    assert (stream.kind, stream.scalables) == ("stream-check", (EVENTS,))

    (a,) = parse_event({"capcon": "tick"}, SPEC, now=NOW)
    (b,) = parse_event({"capcon": "tick"}, SPEC, now=NOW + timedelta(seconds=20))
    (c,) = parse_event({"capcon": "tick"}, SPEC, now=NOW + timedelta(minutes=1))
    assert a.event_id == b.event_id != c.event_id  # a redelivery in the minute is recognised
    (d,) = parse_event({"capcon": "stream-check"}, SPEC, now=NOW)
    assert d.kind == "stream-check" and d.event_id != a.event_id
    (e,) = parse_event(
        {"capcon": "tick", "id": "exec-42", "time": "2026-12-02T05:00:00Z"}, SPEC, now=NOW
    )
    assert e.event_id == "input:exec-42" and e.at == datetime(2026, 12, 2, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("event", "words"),
    [
        ("tick", "must be a JSON object"),
        ({}, "none of these"),
        ({"Records": []}, "non-empty list"),
        ({"Records": [{"EventSource": "aws:sqs", "body": "{}"}]}, '"aws:sns"'),
        (
            {"Records": [{"EventSource": "aws:sns", "Sns": {"MessageId": "m", "Message": "{"}}]},
            "Records[0].Sns.Message is not JSON",
        ),
        (
            {"Records": [{"EventSource": "aws:sns", "Sns": {"MessageId": "m", "Message": "[]"}}]},
            "must be a JSON object",
        ),
        (
            {
                "Records": [
                    {"EventSource": "aws:sns", "Sns": {"MessageId": "m", "Message": '{"A": 1}'}}
                ]
            },
            "AlarmName",
        ),
        ({"capcon": "scale-everything"}, "capcon must be 'tick' or 'stream-check'"),
        ({"capcon": "tick", "time": "yesterday"}, "ISO 8601"),
        ({"detail-type": "EC2 Instance State-change Notification"}, "is not handled"),
        ({"detail-type": "Scheduled Event", "source": "evil.events", "id": "x"}, "aws.events"),
    ],
)
def test_anything_else_is_refused_by_name(event: object, words: str) -> None:
    with pytest.raises(DeployError) as caught:
        parse_event(event, SPEC, now=NOW)
    assert words in str(caught.value)
    assert "accepted:" in str(caught.value)


def test_hostile_strings_stay_data() -> None:
    name = "[bold red]x[/]\x1b[2J\u202e" + "A" * 5000
    message = notification(name, "$(rm -rf /) {__import__('os')}")
    (wakeup,) = parse_event(sns(message), SPEC)
    assert wakeup.alarm == name  # kept as given, for SetAlarmState
    assert len(wakeup.reason) < 400 and "\x1b" not in wakeup.reason  # quoted with repr
    with pytest.raises(DeployError) as caught:
        parse_event({"capcon": "\x1b[31m" + "B" * 10_000}, SPEC)
    assert len(str(caught.value)) < 600 and "\x1b" not in str(caught.value)
