"""What woke the deployed engine: the events AWS delivers to the scaler Lambda, read into
:class:`Wakeup`\\ s.

Accepted, in the shapes AWS documents (docs/aws-rules.md, "The deployed engine: events and
alarms"):

* **SNS → Lambda**: ``{"Records": [{"EventSource": "aws:sns", "Sns": {"MessageId", "Message",
  …}}, …]}`` where ``Message`` is a JSON *string*: CloudWatch's alarm notification
  (``AlarmName``, ``AlarmDescription``, ``NewStateValue``, ``OldStateValue``,
  ``StateChangeTime``, ``Region`` as the region's long name, ``AWSAccountId``, ``Trigger``
  with one metric — ``MetricName``, ``Namespace``, ``Dimensions`` as lower-case
  ``name``/``value`` — or ``Metrics``, metric-data queries with ``Id``, ``Expression``,
  ``MetricStat``, ``ReturnData``).
* **EventBridge rule with a constant ``Input``**: EventBridge delivers the input *instead of*
  the event: ``{"capcon": "tick"}`` or ``{"capcon": "stream-check"}`` (optionally with
  ``id`` and ``time``, as an input transformer or EventBridge Scheduler's context attributes
  can add).  EventBridge Scheduler delivers its configured ``Input`` as-is: the same shape.
* **EventBridge scheduled event** (a rule without ``Input``): ``{"detail-type": "Scheduled
  Event", "source": "aws.events", "id", "time", "resources": [rule ARN], "detail": {}}``: a
  tick, or a stream check when ``detail`` says ``{"capcon": "stream-check"}`` or the rule's
  name holds ``StreamCheck`` (the template's logical id).

Anything else is a :class:`DeployError` naming what was wrong and what is accepted.  Strings
from the event are data: they are never evaluated, and quoted (``repr``, shortened) in
messages.  Pure: no AWS call is made.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from capcon.core.deploy.spec import DeployError, DeploySpec, scalable_of_alarm
from capcon.core.ports import Scalable

WakeupKind = Literal["alarm", "tick", "stream-check", "ignored"]
TICK = "tick"
STREAM_CHECK = "stream-check"
#: The constant inputs the template's schedules send.
INPUTS: tuple[str, ...] = (TICK, STREAM_CHECK)
ACCEPTED = (
    "accepted: SNS records of CloudWatch alarm notifications (Records[].EventSource "
    '"aws:sns"), capcon\'s schedule input {"capcon": "tick"} or {"capcon": "stream-check"}, '
    'or an EventBridge "Scheduled Event" from "aws.events"'
)
#: How much of a hostile or huge value a message quotes.
QUOTE = 80
#: The most records one event may carry (SNS delivers one per invocation; a test may batch).
MAX_RECORDS = 100


@dataclass(frozen=True, slots=True)
class Wakeup:
    """One reason to run: which dimensions (``scalables``; empty with ``kind`` ``ignored``),
    why, the id that makes a redelivery recognisable (``event_id``), and the alarm to set
    back to OK afterwards (``alarm``)."""

    kind: WakeupKind
    scalables: tuple[Scalable, ...]
    reason: str
    event_id: str
    alarm: str | None = None
    at: datetime | None = None


def _quote(value: object) -> str:
    text = repr(value)
    return text if len(text) <= QUOTE else text[: QUOTE - 1] + "…"


def _fail(what: str) -> DeployError:
    return DeployError(f"{what}; {ACCEPTED}")


def _text(mapping: Mapping[str, object], key: str, where: str) -> str:
    value = mapping.get(key)
    if not isinstance(value, str) or not value:
        raise _fail(f"{where}: {key} must be a non-empty string, got {_quote(value)}")
    return value


def _time(value: object) -> datetime | None:
    """An ISO 8601 time (``Z``, ``+0000`` or ``+00:00``), in UTC; ``None`` if not one."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit() and ":" not in text[-5:]:
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


# --------------------------------------------------------------------------------------------
# Alarms
# --------------------------------------------------------------------------------------------

_DIMENSION_WORDS = {"Read": "read", "Write": "write"}


def _metric_scalables(metric: Mapping[str, object]) -> list[Scalable]:
    """The dimensions a metric names (``MetricName``/``Namespace``/``Dimensions`` with
    lower-case ``name``/``value``, as alarm notifications write them)."""
    name = metric.get("MetricName")
    raw = metric.get("Dimensions")
    if not isinstance(name, str) or not isinstance(raw, list):
        return []
    dims: dict[str, str] = {}
    for item in raw:
        if not isinstance(item, Mapping):
            continue
        key = item.get("name", item.get("Name"))
        value = item.get("value", item.get("Value"))
        if isinstance(key, str) and isinstance(value, str):
            dims[key] = value
    if "StreamName" in dims:
        return [Scalable(dims["StreamName"], "shards")]
    table = dims.get("TableName")
    if not table:
        return []
    index = dims.get("GlobalSecondaryIndexName") or None
    for word, dimension in _DIMENSION_WORDS.items():
        if word in name:
            return [Scalable(table, "read" if dimension == "read" else "write", index)]
    return []


def _trigger_scalables(trigger: object) -> list[Scalable]:
    if not isinstance(trigger, Mapping):
        return []
    found = _metric_scalables(trigger)
    queries = trigger.get("Metrics")
    if isinstance(queries, list):
        for query in queries:
            if not isinstance(query, Mapping):
                continue
            stat = query.get("MetricStat")
            if isinstance(stat, Mapping) and isinstance(stat.get("Metric"), Mapping):
                found += _metric_scalables(stat["Metric"])
    return list(dict.fromkeys(found))


def _alarm_wakeup(
    message: Mapping[str, object], event_id: str, where: str, spec: DeploySpec | None
) -> Wakeup:
    name = _text(message, "AlarmName", where)
    state = message.get("NewStateValue")
    if state not in ("ALARM", "OK", "INSUFFICIENT_DATA"):
        raise _fail(
            f"{where}: NewStateValue must be ALARM, OK or INSUFFICIENT_DATA, got {_quote(state)}"
        )
    at = _time(message.get("StateChangeTime"))
    shown = _quote(name)
    if state != "ALARM":
        return Wakeup(
            "ignored",
            (),
            f"alarm {shown} went to {state}: nothing to do",
            event_id,
            at=at,
        )
    description = message.get("AlarmDescription")
    marked = scalable_of_alarm(description if isinstance(description, str) else None)
    if marked is not None:
        stack, scalable = marked
        if spec is not None and stack != spec.stack:
            return Wakeup(
                "ignored",
                (),
                f"alarm {shown} belongs to stack {_quote(stack)}, not {spec.stack}",
                event_id,
                at=at,
            )
        candidates = [scalable]
    else:
        candidates = _trigger_scalables(message.get("Trigger"))
        if not candidates:
            return Wakeup(
                "ignored",
                (),
                f"alarm {shown} names no table, index or stream capcon can scale",
                event_id,
                at=at,
            )
    if spec is not None:
        managed = set(spec.managed)
        candidates = [s for s in candidates if s in managed]
        if not candidates:
            return Wakeup(
                "ignored",
                (),
                f"alarm {shown} watches nothing stack {spec.stack} manages",
                event_id,
                at=at,
            )
    keys = ", ".join(s.key for s in candidates)
    return Wakeup(
        "alarm",
        tuple(candidates),
        f"alarm {shown} went {message.get('OldStateValue', '?')} → ALARM on {keys}",
        event_id,
        alarm=name,
        at=at,
    )


def _sns_record(record: object, at: int, spec: DeploySpec | None) -> Wakeup:
    where = f"Records[{at}]"
    if not isinstance(record, Mapping):
        raise _fail(f"{where} must be an object, got {_quote(record)}")
    source = record.get("EventSource", record.get("eventSource"))
    if source != "aws:sns":
        raise _fail(f'{where}: EventSource must be "aws:sns", got {_quote(source)}')
    sns = record.get("Sns")
    if not isinstance(sns, Mapping):
        raise _fail(f"{where}: Sns must be an object, got {_quote(sns)}")
    message_id = _text(sns, "MessageId", f"{where}.Sns")
    raw = sns.get("Message")
    if not isinstance(raw, str):
        raise _fail(f"{where}.Sns.Message must be a JSON string, got {_quote(raw)}")
    try:
        message = json.loads(raw)
    except (ValueError, RecursionError):
        raise _fail(
            f"{where}.Sns.Message is not JSON (a CloudWatch alarm notification is): {_quote(raw)}"
        ) from None
    if not isinstance(message, Mapping):
        raise _fail(f"{where}.Sns.Message must be a JSON object, got {_quote(message)}")
    return _alarm_wakeup(message, f"sns:{message_id}", f"{where}.Sns.Message", spec)


# --------------------------------------------------------------------------------------------
# Schedules
# --------------------------------------------------------------------------------------------


def _schedule_wakeup(
    kind: str, event_id: str, at: datetime | None, why: str, spec: DeploySpec | None
) -> Wakeup:
    if kind == STREAM_CHECK:
        scalables = tuple(s for s in spec.managed if s.kind == "stream") if spec else ()
        return Wakeup(
            "stream-check", scalables, f"stream scale-down check ({why})", event_id, at=at
        )
    scalables = tuple(spec.managed) if spec else ()
    return Wakeup("tick", scalables, f"tick ({why})", event_id, at=at)


def _digest(event: Mapping[str, object], at: datetime) -> str:
    body = json.dumps(event, sort_keys=True, default=str)
    return hashlib.sha256(f"{body}\n{at.isoformat()}".encode()).hexdigest()[:32]


def _capcon_input(
    event: Mapping[str, object], now: datetime | None, spec: DeploySpec | None
) -> Wakeup:
    kind = event.get("capcon")
    if kind not in INPUTS:
        raise _fail(f"capcon must be {' or '.join(map(repr, INPUTS))}, got {_quote(kind)}")
    given = event.get("id")
    at = _time(event.get("time")) if "time" in event else None
    if "time" in event and at is None:
        raise _fail(f"time must be an ISO 8601 time, got {_quote(event.get('time'))}")
    if isinstance(given, str) and given:
        event_id = f"input:{given}"
    else:
        # A constant input carries no id: the schedule's minute makes one (a redelivery in
        # the same minute is recognised; the template turns async retries off).
        when = at or now or datetime.now(UTC)
        event_id = f"input:{_digest(event, when.replace(second=0, microsecond=0))}"
    return _schedule_wakeup(str(kind), event_id, at or now, "schedule input", spec)


def _scheduled_event(event: Mapping[str, object], spec: DeploySpec | None) -> Wakeup:
    source = event.get("source")
    if source != "aws.events":
        raise _fail(f'a Scheduled Event must come from "aws.events", not {_quote(source)}')
    event_id = _text(event, "id", "the Scheduled Event")
    at = _time(event.get("time"))
    if at is None:
        raise _fail(f"the Scheduled Event's time is not a time: {_quote(event.get('time'))}")
    detail = event.get("detail")
    kind = TICK
    if isinstance(detail, Mapping) and detail.get("capcon") in INPUTS:
        kind = str(detail["capcon"])
    else:
        resources = event.get("resources")
        rules = [r for r in resources if isinstance(r, str)] if isinstance(resources, list) else []
        if any("StreamCheck" in r.rpartition("/")[2] for r in rules):
            kind = STREAM_CHECK
    return _schedule_wakeup(kind, f"events:{event_id}", at, "EventBridge schedule", spec)


# --------------------------------------------------------------------------------------------
# The entry point
# --------------------------------------------------------------------------------------------


def parse_event(
    event: object, spec: DeploySpec | None = None, *, now: datetime | None = None
) -> list[Wakeup]:
    """The wake-ups in one Lambda event (one per SNS record; one for a schedule).

    With ``spec``, alarms of another stack or on dimensions it does not manage are
    ``ignored`` wake-ups, a tick names every managed dimension and a stream check every
    managed stream; ``now`` dates a schedule input that carries no time.  A
    :class:`DeployError` names what is wrong with anything else."""
    if not isinstance(event, Mapping):
        raise _fail(f"the event must be a JSON object, got {_quote(event)}")
    if "Records" in event:
        records = event["Records"]
        if not isinstance(records, Sequence) or isinstance(records, str | bytes) or not records:
            raise _fail(f"Records must be a non-empty list, got {_quote(records)}")
        if len(records) > MAX_RECORDS:
            raise _fail(f"{len(records)} records in one event (at most {MAX_RECORDS})")
        return [_sns_record(record, i, spec) for i, record in enumerate(records)]
    if "capcon" in event:
        return [_capcon_input(event, now, spec)]
    if "detail-type" in event:
        if event.get("detail-type") != "Scheduled Event":
            raise _fail(
                f"EventBridge detail-type {_quote(event.get('detail-type'))} is not handled"
            )
        return [_scheduled_event(event, spec)]
    keys = ", ".join(_quote(k) for k in list(event)[:6]) or "none"
    raise _fail(f"an event with keys {keys} is none of these")
