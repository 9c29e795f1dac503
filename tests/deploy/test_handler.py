"""The deployed engine's handler and its alarms: AwsAlarms on moto, the simulated account's
alarms, and the handler run on documented event shapes."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from capcon.core.backends.aws.adapter import AwsAdapter
from capcon.core.backends.aws.alarms import AwsAlarms, put_metric_alarm_request
from capcon.core.backends.aws.session import AwsSession
from capcon.core.backends.sim.account import SimAccount, TableSpec
from capcon.core.backends.sim.traffic import Bell, Steady
from capcon.core.backends.sim.traffic.keys import StreamLoad
from capcon.core.config.prices import load_price_book
from capcon.core.deploy.alarms import alarms_for, stream_target
from capcon.core.deploy.events import parse_event
from capcon.core.deploy.handler import HandlerResult, handler, run_event
from capcon.core.deploy.spec import (
    DeploySpec,
    EngineSettings,
    alarm_description,
    spec_environment,
)
from capcon.core.deploy.template import alarm_properties
from capcon.core.model import Throughput
from capcon.core.ports import Scalable
from capcon.core.rules import RuleSettings
from capcon.core.services.audit import Origin, StoreAudit
from capcon.core.services.engine import AutoscaleEngine
from capcon.core.services.scaler import Scaler
from capcon.core.services.state import MemoryStateStore
from tests.deploy.test_events import notification, sns
from tests.support.aws import create_state_table, create_table
from tests.support.cli import run as cli

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
    assert [m["Id"] for m in stored["Metrics"]] == ["m1", "m2", "e1"]
    assert [m["ReturnData"] for m in stored["Metrics"]] == [False, False, True]
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


# --------------------------------------------------------------------------------------------
# The handler
# --------------------------------------------------------------------------------------------


class ListAudit:
    """An AuditStore in memory (the deployed engine's is the state table)."""

    def __init__(self) -> None:
        self.items: list[dict[str, object]] = []

    def append(self, record: dict[str, object]) -> None:
        self.items.append(record)

    def read(self, limit: int | None = None) -> list[dict[str, object]]:
        return self.items[-limit:] if limit else list(self.items)


PRICES = load_price_book("us-east-1")
ORDERS_W = Scalable("orders", "write")
ORDERS_R = Scalable("orders", "read")
EVENTS = Scalable("events", "shards")


def _world(*, stream: bool = True) -> SimAccount:
    """A table whose writes rise from 40/s to 400/s over 50 minutes (reads steady), and a
    2-shard stream whose records rise from 500/s to 6,000/s (400 B each)."""
    account = SimAccount(T0)
    rise = Bell(base=40, peak=400, steady_s=300, rise_s=3000, fall_s=600)
    account.add_table(TableSpec("orders", Throughput(100, 100), reads=Steady(10), writes=rise))
    if stream:
        records = Bell(base=500, peak=6000, steady_s=300, rise_s=3000, fall_s=600)
        account.add_stream("events", shards=2, load=StreamLoad(records, record_bytes=400))
    return account


def _sim_run(
    account: SimAccount,
    event: object,
    settings: EngineSettings,
    state: MemoryStateStore,
    audit: ListAudit,
) -> HandlerResult:
    return run_event(
        event,
        settings,
        account,
        state=state,
        audit=audit,
        alarms=account.alarms,
        prices=PRICES,
        metric_delay_seconds=account.settings.metric_delay_seconds,
        update_seconds=account.settings.update_seconds,
        reshard_history=account.controls.reshard_history,
    )


def _put_alarms(account: SimAccount, spec: DeploySpec) -> None:
    for scalable in spec.managed:
        capacity = 2 if scalable.kind == "stream" else 100
        for alarm in alarms_for(spec, scalable, capacity, actions=(TOPIC,)):
            account.alarms.put_metric_alarm(alarm)


Action = tuple[str, str, str, int | None]


@pytest.mark.parametrize("policy", ["h1", "h2"])
def test_the_alarm_and_tick_driven_handler_decides_as_the_engine_does(policy: str) -> None:
    """Two identical simulated accounts for an hour of rising traffic: on one, capcon
    autoscale's engine runs every minute; on the other, only the stack's alarms (through
    SNS events in AWS's shape) and a 30-minute tick wake the handler.

    "The same decisions" means: the same list of changes — minute, dimension, action and
    capacity requested — for the table's writes (h1/h2) and the stream's shards (kinesis);
    the handler runs on a fraction of the minutes.  (capcon's trend-aware scale-outs are
    not in this comparison: on a rising trend capcon acts before its alarm, at the tick.)"""
    managed = (ORDERS_R, ORDERS_W, EVENTS)
    spec = DeploySpec("shop", policy, 70, managed, tick_minutes=30)
    minutes = 60

    engine_world = _world()
    engine = AutoscaleEngine(
        engine_world,
        policy,
        70,
        RuleSettings(),
        PRICES,
        managed=managed,
        bounds=spec.bounds,
        scaler=Scaler(
            engine_world,
            StoreAudit(ListAudit()),
            Origin("test", "sim"),
            wait=lambda _: None,
            follow=False,
        ),
        metric_delay_seconds=engine_world.settings.metric_delay_seconds,
        update_seconds=engine_world.settings.update_seconds,
        state=MemoryStateStore(),
        stream_target=stream_target(spec),
        stream_check_every=timedelta(hours=spec.stream_check_hours),
        reshard_history=engine_world.controls.reshard_history,
    )
    by_engine: list[Action] = []
    for _ in range(minutes):
        engine_world.advance(60)
        for d in engine.round():
            if d.acted:
                by_engine.append(
                    (d.at.isoformat(), d.scalable.key, d.decision.action, d.capacity_after)
                )

    world = _world()
    _put_alarms(world, spec)
    settings = EngineSettings(spec, dry_run=False, topic_arn=TOPIC)
    state, audit = MemoryStateStore(), ListAudit()
    by_handler: list[Action] = []
    invocations = 0
    stale_wakeups: list[str] = []
    for minute in range(1, minutes + 1):
        world.advance(60)
        events: list[object] = list(world.alarms.take_notifications())
        if minute % spec.tick_minutes == 0:
            events.append({"capcon": "tick"})
        for event in events:
            invocations += 1
            result = _sim_run(world, event, settings, state, audit)
            assert result.ok, result.errors
            by_handler += [
                (line["at"], line["scalable"], line["action"], line["capacity_after"])
                for line in result.lines
                if line.get("outcome") in ("applied", "accepted")
            ]
            stale_wakeups += [
                f"{line['at']} {line['alarm']}"
                for line in result.lines
                if line["wakeup"] == "alarm"
                and str(line.get("reason", "")).startswith("no datapoints since the last change")
            ]
    kinds = {key for _, key, _, _ in by_engine}
    assert kinds == {ORDERS_W.key, EVENTS.key}  # both scaled out, more than once
    assert len(by_engine) > 6
    assert by_handler == by_engine
    assert invocations < minutes  # woken when it matters, not every minute
    # re-tuned alarms ignore the minutes before a change (theirs or their table's other
    # dimension's): no alarm wakes the handler only to hold for fresh data
    assert stale_wakeups == []
    # the last change left the dimension's alarm re-tuned to the capacity it asked for
    final = {key: cap for _, key, _, cap in by_handler}
    capacity = final[ORDERS_W.key]
    assert capacity is not None
    (high,) = alarms_for(spec, ORDERS_W, capacity)
    assert world.alarms.spec(high.name) is not None
    assert world.alarms.spec(high.name).threshold == high.threshold  # type: ignore[union-attr]


def test_a_redelivered_event_is_handled_once_and_a_dry_run_changes_nothing() -> None:
    spec = DeploySpec("shop", "h1", 70, (ORDERS_R, ORDERS_W), tick_minutes=30)
    world = _world(stream=False)
    _put_alarms(world, spec)
    for _ in range(15):
        world.advance(60)
    (event,) = world.alarms.take_notifications()  # writes above 70 % of 100: ALARM
    name = f"shop-{ORDERS_W.key}-high"
    assert world.alarms.state(name) == "ALARM"

    dry = EngineSettings(spec, dry_run=True, topic_arn=TOPIC)
    state, audit = MemoryStateStore(), ListAudit()
    result = _sim_run(world, event, dry, state, audit)
    assert result.ok, result.errors
    (line,) = result.lines
    assert (line["action"], line["outcome"], line["dry_run"]) == ("scale-out", "dry-run", True)
    assert world.describe_table("orders").provisioned == Throughput(100, 100)
    assert world.alarms.state(name) == "ALARM"  # not touched in a dry run
    assert world.alarms.spec(name).threshold == 100 * 0.7 * 60  # type: ignore[union-attr]
    assert audit.items == []

    live = EngineSettings(spec, dry_run=False, topic_arn=TOPIC)
    again = _sim_run(world, event, live, state, audit)  # the same event: already claimed
    assert [x["outcome"] for x in again.lines] == ["already handled"]
    assert world.describe_table("orders").provisioned == Throughput(100, 100)

    fresh = MemoryStateStore()
    done = _sim_run(world, event, live, fresh, audit)
    assert done.ok, done.errors
    (line,) = done.lines
    assert line["outcome"] in ("applied", "accepted") and line["capacity_after"] > 100
    new = line["capacity_after"]
    assert world.alarms.spec(name).threshold == new * 0.7 * 60  # type: ignore[union-attr]
    assert world.alarms.spec(name).actions == (TOPIC,)  # type: ignore[union-attr]
    # both of the table's alarms now ignore the minutes before the change (its reads and
    # writes share one throughput history); the reads' threshold and state are unchanged
    since = int(datetime.fromisoformat(line["at"]).timestamp())
    reads = f"shop-{ORDERS_R.key}-high"
    for alarm_name in (name, reads):
        gate = [q for q in world.alarms.spec(alarm_name).queries if q.return_data]  # type: ignore[union-attr]
        assert [q.expression for q in gate] == [f"IF(EPOCH(m1) >= {since}, m1, 0)"]
    assert world.alarms.spec(reads).threshold == 100 * 0.7 * 60  # type: ignore[union-attr]
    assert world.alarms.state(reads) == "OK"
    world.advance(60)  # the update lands (accepted, not followed to ACTIVE)
    assert world.describe_table("orders").provisioned == Throughput(100, new)
    # re-armed without SetAlarmState: the next evaluation reads a minute before the change
    assert world.alarms.state(name) == "OK"
    assert world.alarms.take_notifications() == []
    phases = [item["phase"] for item in audit.items]
    assert phases[0] == "intent" and len(phases) == 2
    redelivered = _sim_run(world, event, live, fresh, audit)
    assert [x["outcome"] for x in redelivered.lines] == ["already handled"]
    assert len(audit.items) == 2
    assert world.describe_table("orders").provisioned == Throughput(100, new)


def test_every_failure_is_a_message_in_the_result() -> None:
    spec = DeploySpec("shop", "h1", 70, (ORDERS_W,))
    world = _world(stream=False)
    settings = EngineSettings(spec, dry_run=False)
    bad = _sim_run(world, {"Records": "nope"}, settings, MemoryStateStore(), ListAudit())
    assert not bad.ok and "Records must be a non-empty list" in bad.errors[0]
    assert "Traceback" not in bad.errors[0]

    class Broken(MemoryStateStore):
        def save(self, key: str, data: dict[str, object], expected: int | None) -> int:
            raise OSError("disk on fire")

    broken = _sim_run(world, {"capcon": "tick"}, settings, Broken(), ListAudit())
    assert not broken.ok and "OSError: disk on fire" in broken.errors[0]
    assert broken.lines[0]["outcome"] == "error"

    class Leaky(MemoryStateStore):
        def save(self, key: str, data: dict[str, object], expected: int | None) -> int:
            raise OSError("cannot reach https://admin:hunter2@state.example/?X-Amz-Signature=ab")

    leaky = _sim_run(world, {"capcon": "tick"}, settings, Leaky(), ListAudit())
    assert "state.example" in leaky.errors[0]
    assert "hunter2" not in json.dumps(leaky.to_json()) and "=ab" not in leaky.errors[0]


def test_an_invocation_id_replaces_the_events_own() -> None:
    spec = DeploySpec("shop", "h1", 70, (ORDERS_W,))
    world = _world(stream=False)
    state = MemoryStateStore()
    settings = EngineSettings(spec, dry_run=True)
    for _ in range(2):
        result = run_event(
            {"capcon": "tick"},
            settings,
            world,
            state=state,
            audit=ListAudit(),
            alarms=world.alarms,
            prices=PRICES,
            event_id="req-1",
        )
        world.advance(120)  # another minute: the input's own id would differ
    assert [x["outcome"] for x in result.lines] == ["already handled"]
    assert state.load("event#req-1") is not None


# --------------------------------------------------------------------------------------------
# The handler against moto, with a pinned clock
# --------------------------------------------------------------------------------------------

PINNED = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)


class PinnedAdapter(AwsAdapter):
    """The AWS adapter with its clock pinned (moto's metrics are put at fixed times)."""

    def now(self) -> datetime:
        return PINNED


def test_the_handler_on_moto_acts_once_retunes_and_rearms(
    url: str, raw: Callable[[str], Any]
) -> None:
    create_table(raw("dynamodb"), "orders", read=10, write=100)
    cloudwatch = raw("cloudwatch")
    dims = [{"Name": "TableName", "Value": "orders"}]
    for age in range(3, 15):  # writes at 90/s for the last minutes: 90 % of 100 WCU
        cloudwatch.put_metric_data(
            Namespace="AWS/DynamoDB",
            MetricData=[
                {
                    "MetricName": "ConsumedWriteCapacityUnits",
                    "Dimensions": dims,
                    "Timestamp": PINNED - timedelta(minutes=age),
                    "Value": 90 * 60,
                }
            ],
        )
    backend = PinnedAdapter(AwsSession(endpoint_url=url))
    alarms = AwsAlarms(cloudwatch)
    spec = DeploySpec("shop", "h1", 70, (ORDERS_R, ORDERS_W))
    for scalable, capacity in ((ORDERS_R, 10), (ORDERS_W, 100)):
        for alarm in alarms_for(spec, scalable, capacity, actions=(TOPIC,)):
            alarms.put_metric_alarm(alarm)
    (high,) = alarms_for(spec, ORDERS_W, 100)
    alarms.set_alarm_state(high.name, "ALARM", "Threshold Crossed")
    trigger = {
        "MetricName": "ConsumedWriteCapacityUnits",
        "Namespace": "AWS/DynamoDB",
        "StatisticType": "Statistic",
        "Statistic": "SUM",
        "Unit": None,
        "Dimensions": [{"value": "orders", "name": "TableName"}],
        "Period": 60,
        "EvaluationPeriods": 1,
        "DatapointsToAlarm": 1,
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": high.threshold,
        "TreatMissingData": "notBreaching",
        "EvaluateLowSampleCountPercentile": "",
    }
    event = sns(notification(high.name, high.description, trigger=trigger), ids=("mid-1",))
    state, audit = MemoryStateStore(), ListAudit()

    def run(dry_run: bool, store: MemoryStateStore, what: object = event) -> HandlerResult:
        return run_event(
            json.loads(json.dumps(what)),  # as Lambda hands it over: plain JSON
            EngineSettings(spec, dry_run=dry_run, topic_arn=TOPIC),
            backend,
            state=store,
            audit=audit,
            alarms=alarms,
            prices=PRICES,
        )

    def described() -> dict[str, Any]:
        return {a.name: a for a in alarms.describe_alarms("shop-")}

    dry = run(True, state)
    assert dry.ok, dry.errors
    (line,) = dry.lines
    assert (line["scalable"], line["action"], line["outcome"]) == (
        ORDERS_W.key,
        "scale-out",
        "dry-run",
    )
    table = raw("dynamodb").describe_table(TableName="orders")["Table"]
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 100
    assert described()[high.name].state == "ALARM"
    assert described()[high.name].threshold == high.threshold
    assert audit.items == []

    live = run(False, MemoryStateStore())
    assert live.ok, live.errors
    (line,) = live.lines
    assert line["outcome"] in ("applied", "accepted")
    new = line["capacity_after"]
    assert new == 129  # ceil(90 / 0.7)
    table = raw("dynamodb").describe_table(TableName="orders")["Table"]
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == new
    after = described()[high.name]
    assert after.threshold == new * 0.7 * 60
    # re-put blind to the minutes before the change (CloudWatch moves it to OK by itself)
    (stored,) = raw("cloudwatch").describe_alarms(AlarmNames=[high.name])["MetricAlarms"]
    (watched,) = [q for q in stored["Metrics"] if q["ReturnData"]]
    assert watched["Expression"].startswith("IF(EPOCH(m1) >= ")
    assert described()[f"shop-{ORDERS_R.key}-high"].threshold == 10 * 0.7 * 60  # untouched
    assert [item["phase"] for item in audit.items] == ["intent", "outcome"]

    again = run(False, state)  # the dry run claimed mid-1: a redelivery does nothing
    assert [x["outcome"] for x in again.lines] == ["already handled"]
    assert len(audit.items) == 2

    tick = {
        "version": "0",
        "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-12-02T05:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/shop-TickRule-1AB2C3"],
        "detail": {},
    }
    ticked = run(True, state, tick)
    assert ticked.ok, ticked.errors
    assert sorted(x["scalable"] for x in ticked.lines) == [ORDERS_R.key, ORDERS_W.key]


# --------------------------------------------------------------------------------------------
# capcon deploy invoke
# --------------------------------------------------------------------------------------------


def _template(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    path = tmp_path / "shop.json"
    made = cli(
        capsys,
        "--sim=demo",
        "deploy",
        "template",
        "--stack",
        "shop",
        "--policy",
        "h1",
        "--tables",
        "orders",
        "--streams",
        "clickstream",
        "--out",
        str(path),
    )
    assert made.code == 0, made.err
    return path


def test_deploy_invoke_runs_the_handler_on_the_templates_settings(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    template = _template(capsys, tmp_path)
    event = tmp_path / "tick.json"
    event.write_text(json.dumps({"capcon": "tick", "id": "exec-1"}))
    state = tmp_path / "state.json"
    args = ("--sim=demo", "deploy", "invoke", "--template", str(template), "--event", str(event))

    dry = cli(capsys, *args, "--state", str(state), "--json")
    assert dry.code == 0, dry.err
    doc = json.loads(dry.out)
    keys = sorted(line["scalable"] for line in doc["decisions"])
    assert keys == sorted(
        [
            "table/orders:read",
            "table/orders:write",
            "table/orders/index/by-customer:read",
            "table/orders/index/by-customer:write",
            "table/orders/index/by-status:read",
            "table/orders/index/by-status:write",
            "stream/clickstream:shards",
        ]
    )
    assert all(line["dry_run"] for line in doc["decisions"])  # the template's DryRun default
    assert {line["outcome"] for line in doc["decisions"]} <= {"dry-run", "held"}

    again = cli(capsys, *args, "--state", str(state), "--apply")
    assert again.code == 0, again.err
    assert "already handled" in again.out  # exec-1 was claimed in the state file

    other = tmp_path / "other.json"
    fresh = cli(capsys, *args, "--state", str(other), "--apply")
    assert fresh.code == 0, fresh.err
    assert "applying (audited)" in fresh.out and "table/orders:read" in fresh.out


@pytest.mark.parametrize(
    ("which", "content", "words"),
    [
        ("event", None, "cannot read the event"),
        ("event", "{not json", "the event is not JSON"),
        ("event", '{"Records": [{"EventSource": "aws:sqs"}]}', "accepted:"),
        ("template", '{"Resources": {}}', "no Resources.ScalerFunction"),
        ("template", "[1, 2]", "a CloudFormation template is a JSON object"),
    ],
)
def test_deploy_invoke_refuses_a_bad_file_by_name(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    which: str,
    content: str | None,
    words: str,
) -> None:
    template = _template(capsys, tmp_path)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"capcon": "tick"}))
    bad = tmp_path / "bad\x1b[31m.json"
    if content is not None:
        bad.write_text(content)
    files = {"template": template, "event": event, which: bad}
    state = tmp_path / "state.json"
    result = cli(
        capsys,
        "--sim=demo",
        "deploy",
        "invoke",
        "--template",
        str(files["template"]),
        "--event",
        str(files["event"]),
        "--state",
        str(state),
        "--apply",
    )
    assert result.code == 2
    assert words in result.err and "bad[31m.json" in result.err
    assert "\x1b" not in result.err and "Traceback" not in result.err
    assert not state.exists()  # nothing ran


def test_deploy_invoke_escapes_what_the_event_says(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    template = _template(capsys, tmp_path)
    event = tmp_path / "alarm.json"
    hostile = "\x1b]0;owned\x07[bold]x[/] \u202e"
    theirs = alarm_description("warehouse", ORDERS_W, "\x1b[2Jnot ours")
    event.write_text(
        json.dumps(sns(notification(hostile, "a user's alarm"), notification(hostile, theirs)))
    )
    result = cli(
        capsys,
        "--sim=demo",
        "deploy",
        "invoke",
        "--template",
        str(template),
        "--event",
        str(event),
        "--state",
        str(tmp_path / "s.json"),
    )
    assert result.code == 0, result.err
    assert "table/orders/index/by-customer:read" in result.out  # a user's alarm on the GSI
    assert "ignored" in result.out and "warehouse" in result.out  # another stack's
    assert "\x1b" not in result.out and "\x07" not in result.out and "\u202e" not in result.out


# --------------------------------------------------------------------------------------------
# The Lambda entry point
# --------------------------------------------------------------------------------------------


class Context:
    aws_request_id = "5f0e8c7a-0000-4000-8000-000000000001"
    function_name = "shop-ScalerFunction-1ABC"


def test_the_lambda_entry_point_logs_a_message_not_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("CAPCON_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CAPCON_STACK", "shop")
    answer = handler({"capcon": "tick"}, Context())
    assert answer["ok"] is False
    (error,) = answer["errors"]
    assert "CAPCON_TARGET" in error and "Traceback" not in error
    logged = capsys.readouterr().out.splitlines()
    assert [json.loads(line) for line in logged] == [{"error": error}]


def test_the_lambda_entry_point_runs_from_its_environment_on_moto(
    url: str,
    raw: Callable[[str], Any],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("capcon.core.backends.aws.statestore")  # the engine's part of issue 17
    create_table(raw("dynamodb"), "orders", read=10, write=100)
    create_state_table(raw("dynamodb"), "shop-state")
    spec = DeploySpec("shop", "h1", 70, (ORDERS_R, ORDERS_W))
    for name, value in spec_environment(spec).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CAPCON_DRY_RUN", "true")
    monkeypatch.setenv("CAPCON_STATE_TABLE", "shop-state")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)  # boto3 sends every client there
    event = {"capcon": "tick", "id": "exec-7"}
    answer = handler(event, Context())
    assert answer["ok"], answer["errors"]
    assert sorted(d["scalable"] for d in answer["decisions"]) == [ORDERS_R.key, ORDERS_W.key]
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert logged == answer["decisions"]
    again = handler(event, Context())  # the claim is in the state table now
    assert [d["outcome"] for d in again["decisions"]] == ["already handled"]


def test_put_metric_alarm_sends_what_the_template_declares() -> None:
    """The handler's re-tuned alarms and the template's are the same alarms: PutMetricAlarm's
    parameters equal the template's AWS::CloudWatch::Alarm properties."""
    for policy in ("h1", "h2", "capcon"):
        spec = DeploySpec("shop", policy, 65, (ORDERS_W, EVENTS))
        for scalable, capacity in ((ORDERS_W, 123), (Scalable("o", "read", "g"), 7), (EVENTS, 3)):
            for alarm in alarms_for(spec, scalable, capacity, actions=(TOPIC,)):
                assert put_metric_alarm_request(alarm) == alarm_properties(alarm)


def test_deploy_invoke_against_an_endpoint(
    url: str, raw: Callable[[str], Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """On moto (``--endpoint-url``): the template of the tables there, an SNS-wrapped alarm
    notification, a dry run: the decision is shown and neither capacity nor alarm changes."""
    create_table(raw("dynamodb"), "orders", read=10, write=100)
    template = tmp_path / "t.json"
    where = ("--endpoint-url", url)
    made = cli(capsys, *where, "deploy", "template", "--stack", "shop", "--policy", "capcon",
               "--tables", "orders", "--out", str(template))  # fmt: skip
    assert made.code == 0, made.err
    spec = DeploySpec("shop", "capcon", 70, (ORDERS_R, ORDERS_W))
    (high,) = alarms_for(spec, ORDERS_W, 100)
    event = tmp_path / "e.json"
    event.write_text(json.dumps(sns(notification(high.name, high.description))))
    result = cli(capsys, *where, "deploy", "invoke", "--template", str(template),
                 "--event", str(event), "--state", str(tmp_path / "s.json"), "--json")  # fmt: skip
    assert result.code == 0, result.err
    (line,) = json.loads(result.out)["decisions"]
    assert line["scalable"] == ORDERS_W.key and line["dry_run"] is True
    assert line["alarm"] == high.name
    table = raw("dynamodb").describe_table(TableName="orders")["Table"]
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 100
