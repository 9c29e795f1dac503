"""The deployed engine's handler and its alarms: AwsAlarms on moto, the simulated account's
alarms, and the handler run on documented event shapes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from capcon.core.backends.aws.alarms import AwsAlarms
from capcon.core.backends.sim.account import SimAccount, TableSpec
from capcon.core.backends.sim.traffic import Steady
from capcon.core.deploy.alarms import alarms_for
from capcon.core.deploy.events import parse_event
from capcon.core.deploy.spec import DeploySpec
from capcon.core.model import Throughput
from capcon.core.ports import Scalable

TOPIC = "arn:aws:sns:us-east-1:123456789012:shop-AlarmTopic-1X2Y3Z"
T0 = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)


# --------------------------------------------------------------------------------------------
# AwsAlarms on moto
# --------------------------------------------------------------------------------------------


def _count(client: Any, operation: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        seen.append(params)

    client.meta.events.register(f"provide-client-params.cloudwatch.{operation}", record)
    return seen


def test_aws_alarms_put_describe_set_and_toggle_on_moto(raw: Callable[[str], Any]) -> None:
    client = raw("cloudwatch")
    alarms = AwsAlarms(client)
    spec = DeploySpec("shop", "capcon", 70, (Scalable("orders", "write"),))
    managed = [Scalable(f"t{i:03}", "read") for i in range(104)] + [Scalable("s", "shards")]
    put = []
    for scalable in managed:
        for alarm in alarms_for(spec, scalable, 40, actions=(TOPIC,)):
            alarms.put_metric_alarm(alarm)
            put.append(alarm)
    # another stack's alarm is not described under this prefix
    other = DeploySpec("shopfront", "h1", 70, (Scalable("x", "read"),))
    alarms.put_metric_alarm(alarms_for(other, Scalable("x", "read"), 5)[0])

    described = alarms.describe_alarms("shop-")
    assert sorted(a.name for a in described) == sorted(a.name for a in put)
    by_name = {a.name: a for a in described}
    first = put[0]
    assert by_name[first.name].threshold == first.threshold
    assert by_name[first.name].description == first.description
    # the metric-math alarm reads back as CloudWatch stored it
    stored = client.describe_alarms(AlarmNames=[first.name])["MetricAlarms"][0]
    assert [m["Id"] for m in stored["Metrics"]] == ["m1", "m2", "e1", "e2"]
    assert [m["ReturnData"] for m in stored["Metrics"]] == [False, False, False, True]
    assert stored["Metrics"][0]["MetricStat"]["Metric"]["Dimensions"] == [
        {"Name": "TableName", "Value": "t000"}
    ]
    stream = client.describe_alarms(AlarmNamePrefix="shop-stream/s:shards-bytes")["MetricAlarms"]
    assert stream[0]["MetricName"] == "IncomingBytes" and stream[0]["Statistic"] == "Sum"

    alarms.set_alarm_state(first.name, "ALARM", "test")
    assert {a.name: a.state for a in alarms.describe_alarms("shop-")}[first.name] == "ALARM"
    alarms.set_alarm_state(first.name, "OK", "handled")
    assert {a.name: a.state for a in alarms.describe_alarms("shop-")}[first.name] == "OK"

    sent = _count(client, "DisableAlarmActions")
    alarms.set_alarm_actions([a.name for a in put], False)
    assert [len(p["AlarmNames"]) for p in sent] == [100, len(put) - 100]
    assert not any(a.actions_enabled for a in alarms.describe_alarms("shop-"))
    alarms.set_alarm_actions([a.name for a in put], True)
    assert all(a.actions_enabled for a in alarms.describe_alarms("shop-"))


def test_aws_alarms_follow_describe_pages() -> None:
    """moto answers DescribeAlarms in one page: the paging is checked with botocore's
    Stubber (AWS pages at 100)."""
    import boto3
    from botocore.stub import Stubber

    client = boto3.client(
        "cloudwatch",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )

    def page(names: list[str], token: str | None) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "MetricAlarms": [
                {"AlarmName": n, "StateValue": "OK", "Threshold": 1.0, "ActionsEnabled": True}
                for n in names
            ]
        }
        if token:
            answer["NextToken"] = token
        return answer

    with Stubber(client) as stub:
        base = {"AlarmNamePrefix": "shop-", "AlarmTypes": ["MetricAlarm"], "MaxRecords": 100}
        stub.add_response("describe_alarms", page(["shop-a", "shop-b"], "t1"), base)
        stub.add_response("describe_alarms", page(["shop-c"], None), {**base, "NextToken": "t1"})
        got = AwsAlarms(client).describe_alarms("shop-")
        stub.assert_no_pending_responses()
    assert [a.name for a in got] == ["shop-a", "shop-b", "shop-c"]


# --------------------------------------------------------------------------------------------
# The simulated account's alarms
# --------------------------------------------------------------------------------------------


def test_the_simulated_account_fires_an_alarm_on_its_own_metrics() -> None:
    """h1's alarm on a table whose writes sit above 70 % of its capacity goes to ALARM at
    the first minute boundary where that minute is published, and SNS delivers one event in
    AWS's shape; setting the alarm back to OK makes a persisting breach fire again."""
    account = SimAccount(T0)
    account.add_table(
        TableSpec("orders", Throughput(100, 100), reads=Steady(10), writes=Steady(90))
    )
    spec = DeploySpec("shop", "h1", 70, (Scalable("orders", "write"),))
    for alarm in alarms_for(spec, Scalable("orders", "write"), 100, actions=(TOPIC,)):
        account.alarms.put_metric_alarm(alarm)
    name = "shop-table/orders:write-high"
    assert account.alarms.state(name) == "INSUFFICIENT_DATA"
    account.advance(60)
    assert account.alarms.take_notifications() == []  # nothing published yet
    for _ in range(3):
        account.advance(60)
    events = account.alarms.take_notifications()
    assert len(events) == 1
    (wakeup,) = parse_event(events[0], spec)
    assert (wakeup.kind, wakeup.alarm) == ("alarm", name)
    assert wakeup.scalables == (Scalable("orders", "write"),)
    assert account.alarms.state(name) == "ALARM"
    account.advance(60)
    assert account.alarms.take_notifications() == []  # still in ALARM: no new action
    account.alarms.set_alarm_state(name, "OK", "handled")
    account.advance(60)
    assert len(account.alarms.take_notifications()) == 1
    assert account.now() == T0 + timedelta(minutes=6)
