"""CloudWatch metric alarms in the simulated account: kept, evaluated every simulated minute on
the account's own metrics, and notifying through SNS in the shapes AWS uses.

Semantics (CloudWatch user guide, "Using Amazon CloudWatch alarms", "Configuring how
CloudWatch alarms treat missing data", "Using math expressions with CloudWatch alarms"):

* An alarm evaluates the newest ``evaluation_periods`` periods (1 minute each here) whose
  data is published; it goes to ``ALARM`` when at least ``datapoints_to_alarm`` of them
  breach, to ``OK`` otherwise.  A missing datapoint counts as ``treat_missing_data`` says:
  ``breaching`` / ``notBreaching``, ``ignore`` (the state is kept), ``missing``
  (``INSUFFICIENT_DATA`` when every period is missing).
* A new alarm starts in ``INSUFFICIENT_DATA``; ``PutMetricAlarm`` on an existing one keeps
  its state (PutMetricAlarm API reference).
* Actions run on a state *change* only (and on ``SetAlarmState`` when it changes the state):
  for each SNS topic in ``AlarmActions`` one notification, queued for whoever drains
  :meth:`SimAlarms.take_notifications` (the handler loop in tests, ``deploy invoke``).
* Metric math: only the expressions :mod:`capcon.core.deploy.alarms` writes are evaluated —
  numbers, query ids, ``+ - * /``, comparisons (``> >= < <= == !=``, 1 or 0), ``AND`` /
  ``OR``, ``IF(c, a, b)``, ``FILL(x, number)`` and ``EPOCH(x)`` (the datapoint's
  timestamp in seconds since 1970, where ``x`` has one; the user guide's "Metric math
  syntax and functions").  Anything else is refused when the alarm is put, with the forms
  allowed (:class:`MathError`).  Arithmetic on a missing value is missing, as CloudWatch
  drops the timestamp.

:func:`alarm_value` (one datapoint of an alarm, from its queries' values) is what the property
test of :mod:`capcon.core.deploy.alarms` evaluates too.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from capcon.core.errors import NotFound, ValidationFailed
from capcon.core.ports import (
    AlarmQuery,
    AlarmSpec,
    AlarmState,
    AlarmStatus,
    MetricQuery,
    MetricSeries,
)

#: The long names CloudWatch writes in a notification's ``Region`` (botocore's
#: ``partitions.json`` descriptions); another region is written as its code.
REGION_NAMES: dict[str, str] = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "Europe (Ireland)",
    "eu-west-2": "Europe (London)",
    "eu-central-1": "Europe (Frankfurt)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
    "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)",
}

#: The alarm periods the simulated account evaluates (its metrics are per minute).
PERIOD = 60


class MathError(ValueError):
    """A metric-math expression the simulated account does not evaluate."""


# --------------------------------------------------------------------------------------------
# Metric math (the subset capcon's alarms use)
# --------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>>=|<=|==|!=|&&|\|\||[-+*/(),<>]))"
)
_ALLOWED = (
    "numbers, query ids, + - * /, comparisons (> >= < <= == !=), AND/OR, IF(c, a, b), "
    "FILL(x, number) and EPOCH(x)"
)
Node = tuple[object, ...]
MAX_EXPRESSION = 1024


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        found = _TOKEN.match(text, pos)
        if found is None or found.end() == pos:
            raise MathError(
                f"metric math {text[:80]!r}: cannot read {text[pos : pos + 12]!r} "
                f"(the simulated account evaluates {_ALLOWED})"
            )
        kind = found.lastgroup or ""
        value = found.group(kind)
        if kind == "name" and value.upper() in ("AND", "OR"):
            kind, value = "op", "&&" if value.upper() == "AND" else "||"
        out.append((kind, value))
        pos = found.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        if len(text) > MAX_EXPRESSION:
            raise MathError(f"metric math longer than {MAX_EXPRESSION} characters")
        self.text = text
        self.tokens = _tokens(text)
        self.at = 0

    def fail(self, what: str) -> MathError:
        return MathError(
            f"metric math {self.text[:80]!r}: {what} (the simulated account evaluates {_ALLOWED})"
        )

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, op: str) -> bool:
        token = self.peek()
        if token is not None and token == ("op", op):
            self.at += 1
            return True
        return False

    def need(self, op: str) -> None:
        if not self.take(op):
            raise self.fail(f"expected {op!r}")

    def parse(self) -> Node:
        node = self.disjunction()
        if self.peek() is not None:
            raise self.fail(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return node

    def disjunction(self) -> Node:
        node = self.conjunction()
        while self.take("||"):
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.comparison()
        while self.take("&&"):
            node = ("and", node, self.comparison())
        return node

    def comparison(self) -> Node:
        node = self.sum()
        for op in (">=", "<=", "==", "!=", ">", "<"):
            if self.take(op):
                return ("cmp", op, node, self.sum())
        return node

    def sum(self) -> Node:
        node = self.product()
        while True:
            if self.take("+"):
                node = ("+", node, self.product())
            elif self.take("-"):
                node = ("-", node, self.product())
            else:
                return node

    def product(self) -> Node:
        node = self.unary()
        while True:
            if self.take("*"):
                node = ("*", node, self.unary())
            elif self.take("/"):
                node = ("/", node, self.unary())
            else:
                return node

    def unary(self) -> Node:
        if self.take("-"):
            return ("neg", self.unary())
        return self.primary()

    def primary(self) -> Node:
        token = self.peek()
        if token is None:
            raise self.fail("unexpected end")
        kind, value = token
        self.at += 1
        if kind == "num":
            return ("num", float(value))
        if kind == "op" and value == "(":
            node = self.disjunction()
            self.need(")")
            return node
        if kind == "name":
            if self.take("("):
                return self.function(value)
            return ("id", value)
        raise self.fail(f"unexpected {value!r}")

    def function(self, name: str) -> Node:
        args = [self.disjunction()]
        while self.take(","):
            args.append(self.disjunction())
        self.need(")")
        upper = name.upper()
        if upper == "IF" and len(args) == 3:
            return ("if", *args)
        if upper == "FILL" and len(args) == 2 and args[1][0] in ("num", "neg"):
            return ("fill", args[0], args[1])
        if upper == "EPOCH" and len(args) == 1:
            return ("epoch", args[0])
        raise self.fail(f"function {name}({len(args)} arguments) is not evaluated")


def parse_expression(text: str) -> Node:
    """The expression's tree; :class:`MathError` naming what is not evaluated."""
    return _Parser(text).parse()


def expression_ids(node: Node) -> set[str]:
    """The query ids an expression reads."""
    if node[0] == "id":
        return {str(node[1])}
    out: set[str] = set()
    for part in node[1:]:
        if isinstance(part, tuple):
            out |= expression_ids(part)
    return out


def _compare(op: str, a: float, b: float) -> bool:
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == "==":
        return a == b
    return a != b


def evaluate(
    node: Node, values: Mapping[str, float | None], stamp: float | None = None
) -> float | None:
    """The expression's value at one timestamp (``None``: no datapoint there); ``stamp``:
    that timestamp in seconds since 1970, what ``EPOCH`` returns (``None``: unknown, and
    ``EPOCH`` is missing)."""
    head = node[0]
    if head == "num":
        return float(node[1])  # type: ignore[arg-type]
    if head == "id":
        return values.get(str(node[1]))
    if head == "neg":
        inner = evaluate(node[1], values, stamp)  # type: ignore[arg-type]
        return None if inner is None else -inner
    if head == "fill":
        inner = evaluate(node[1], values, stamp)  # type: ignore[arg-type]
        return inner if inner is not None else evaluate(node[2], values, stamp)  # type: ignore[arg-type]
    if head == "epoch":
        inner = evaluate(node[1], values, stamp)  # type: ignore[arg-type]
        return None if inner is None else stamp
    if head == "if":
        cond = evaluate(node[1], values, stamp)  # type: ignore[arg-type]
        if cond is None:
            return None
        return evaluate(node[2] if cond != 0 else node[3], values, stamp)  # type: ignore[arg-type]
    if head == "cmp":
        a = evaluate(node[2], values, stamp)  # type: ignore[arg-type]
        b = evaluate(node[3], values, stamp)  # type: ignore[arg-type]
        if a is None or b is None:
            return None
        return 1.0 if _compare(str(node[1]), a, b) else 0.0
    a = evaluate(node[1], values, stamp)  # type: ignore[arg-type]
    b = evaluate(node[2], values, stamp)  # type: ignore[arg-type]
    if a is None or b is None:
        return None
    if head == "and":
        return 1.0 if a != 0 and b != 0 else 0.0
    if head == "or":
        return 1.0 if a != 0 or b != 0 else 0.0
    if head == "+":
        return a + b
    if head == "-":
        return a - b
    if head == "*":
        return a * b
    if b == 0:
        return None  # CloudWatch leaves a division by zero out of the result
    return a / b


# --------------------------------------------------------------------------------------------
# One alarm, one datapoint
# --------------------------------------------------------------------------------------------


def check_alarm(alarm: AlarmSpec) -> None:
    """:class:`ValidationFailed` naming what ``PutMetricAlarm`` (or the simulated account)
    would refuse in ``alarm``."""
    where = f"alarm {alarm.name!r}"
    if (alarm.metric is None) == (not alarm.queries):
        raise ValidationFailed(f"{where}: give either one metric or metric-math queries, not both")
    if not 1 <= alarm.datapoints_to_alarm <= alarm.evaluation_periods:
        raise ValidationFailed(
            f"{where}: DatapointsToAlarm {alarm.datapoints_to_alarm} must be 1 … "
            f"EvaluationPeriods {alarm.evaluation_periods}"
        )
    if not math.isfinite(alarm.threshold):
        raise ValidationFailed(f"{where}: the threshold must be a finite number")
    if alarm.metric is not None:
        if alarm.metric.period != PERIOD:
            raise ValidationFailed(f"{where}: the simulated account evaluates 60-second periods")
        return
    ids = [q.id for q in alarm.queries]
    if len(set(ids)) != len(ids):
        raise ValidationFailed(f"{where}: query ids must be unique ({', '.join(ids)})")
    returning = [q for q in alarm.queries if q.return_data]
    if len(returning) != 1:
        raise ValidationFailed(
            f"{where}: exactly one query must return data (ReturnData), not {len(returning)}"
        )
    for q in alarm.queries:
        if (q.metric is None) == (q.expression is None):
            raise ValidationFailed(f"{where}: query {q.id!r} needs a metric or an expression")
        if q.metric is not None and q.metric.period != PERIOD:
            raise ValidationFailed(f"{where}: the simulated account evaluates 60-second periods")
        if q.expression is not None:
            try:
                tree = parse_expression(q.expression)
            except MathError as error:
                raise ValidationFailed(f"{where}: {error}") from None
            unknown = expression_ids(tree) - set(ids)
            if unknown:
                raise ValidationFailed(
                    f"{where}: query {q.id!r} reads unknown ids {', '.join(sorted(unknown))}"
                )


def alarm_metrics(alarm: AlarmSpec) -> list[tuple[str, MetricQuery]]:
    """The metrics an alarm reads, each with the id its expressions use."""
    if alarm.metric is not None:
        return [(alarm.metric.id, alarm.metric)]
    return [(q.id, q.metric) for q in alarm.queries if q.metric is not None]


def alarm_value(
    alarm: AlarmSpec, metrics: Mapping[str, float | None], at: datetime | None = None
) -> float | None:
    """The alarm's datapoint for one period, from its metrics' values by query id
    (``None``: missing); ``at``: the period's start (what ``EPOCH`` reads)."""
    if alarm.metric is not None:
        return metrics.get(alarm.metric.id)
    values: dict[str, float | None] = {k: v for k, v in metrics.items()}
    pending: dict[str, AlarmQuery] = {q.id: q for q in alarm.queries if q.expression}
    # expressions may read other expressions: evaluate in dependency order
    for _ in range(len(pending) + 1):
        for qid, query in list(pending.items()):
            tree = parse_expression(query.expression or "")
            if expression_ids(tree) & set(pending) - {qid}:
                continue
            values[qid] = evaluate(tree, values, None if at is None else at.timestamp())
            del pending[qid]
    if pending:
        raise MathError(f"alarm {alarm.name!r}: expressions {', '.join(pending)} read each other")
    returned = next(q for q in alarm.queries if q.return_data)
    return values.get(returned.id)


def breaches(alarm: AlarmSpec, value: float) -> bool:
    """Whether ``value`` is on the alarm side of the threshold."""
    op = {
        "GreaterThanOrEqualToThreshold": ">=",
        "GreaterThanThreshold": ">",
        "LessThanThreshold": "<",
        "LessThanOrEqualToThreshold": "<=",
    }[alarm.comparison]
    return _compare(op, value, alarm.threshold)


def next_state(
    alarm: AlarmSpec, current: AlarmState, datapoints: Sequence[float | None]
) -> AlarmState:
    """The state after an evaluation of the newest ``evaluation_periods`` datapoints (oldest
    first, ``None`` for a missing one)."""
    window = list(datapoints[-alarm.evaluation_periods :])
    treat = alarm.treat_missing_data
    present = [v for v in window if v is not None]
    if not present:
        if treat == "breaching":
            return "ALARM" if len(window) >= alarm.datapoints_to_alarm else current
        if treat == "notBreaching":
            return "OK"
        if treat == "ignore":
            return current
        return "INSUFFICIENT_DATA"
    breaching = sum(1 for v in present if breaches(alarm, v))
    if treat == "breaching":
        breaching += len(window) - len(present)
    return "ALARM" if breaching >= alarm.datapoints_to_alarm else "OK"


# --------------------------------------------------------------------------------------------
# The account's alarms
# --------------------------------------------------------------------------------------------

Fetch = Callable[[Sequence[MetricQuery], datetime, datetime], list[MetricSeries]]


@dataclass
class _Alarm:
    spec: AlarmSpec
    state: AlarmState = "INSUFFICIENT_DATA"
    reason: str = "Unchecked: Initial alarm creation"
    updated: datetime | None = None
    configured: datetime | None = None
    last_value: float | None = None


@dataclass
class SimAlarms:
    """The simulated account's CloudWatch alarms (the :class:`~capcon.core.ports.Alarms`
    port), evaluated by :meth:`evaluate` at each simulated minute."""

    region: str
    account_id: str
    clock: Callable[[], datetime]
    alarms: dict[str, _Alarm] = field(default_factory=dict)
    outbox: list[dict[str, object]] = field(default_factory=list)
    #: every evaluation (time, alarm, value, state): for tests and the lab
    evaluations: list[tuple[datetime, str, float | None, AlarmState]] = field(default_factory=list)

    # --- the port ----------------------------------------------------------------------------

    def put_metric_alarm(self, alarm: AlarmSpec) -> None:
        check_alarm(alarm)
        held = self.alarms.get(alarm.name)
        now = self.clock()
        if held is None:
            self.alarms[alarm.name] = _Alarm(alarm, updated=now, configured=now)
        else:
            held.spec = alarm
            held.configured = now

    def set_alarm_state(self, name: str, state: AlarmState, reason: str) -> None:
        held = self.alarms.get(name)
        if held is None:
            raise NotFound(f"alarm {name!r} does not exist")
        self._move(held, state, reason, None)

    def describe_alarms(self, prefix: str) -> list[AlarmStatus]:
        return [
            AlarmStatus(
                a.spec.name, a.state, a.spec.threshold, a.spec.actions_enabled, a.spec.description
            )
            for name, a in sorted(self.alarms.items())
            if name.startswith(prefix)
        ]

    def set_alarm_actions(self, names: Sequence[str], enabled: bool) -> None:
        for name in names:
            held = self.alarms.get(name)
            if held is not None:  # AWS ignores names that are not alarms
                held.spec = replace(held.spec, actions_enabled=enabled)

    # --- evaluation ----------------------------------------------------------------------------

    def spec(self, name: str) -> AlarmSpec | None:
        held = self.alarms.get(name)
        return None if held is None else held.spec

    def state(self, name: str) -> AlarmState | None:
        held = self.alarms.get(name)
        return None if held is None else held.state

    def evaluate(self, end: datetime, fetch: Fetch) -> None:
        """Evaluate every alarm on the periods published by ``end`` (the end of the newest
        published minute), moving states and queueing notifications."""
        for held in list(self.alarms.values()):
            spec = held.spec
            periods = spec.evaluation_periods
            start = end - timedelta(minutes=periods)
            metrics = alarm_metrics(spec)
            series = fetch([q for _, q in metrics], start, end)
            by_time: dict[datetime, dict[str, float | None]] = {}
            for (qid, _), answer in zip(metrics, series, strict=True):
                for stamp, value in zip(answer.timestamps, answer.values, strict=True):
                    by_time.setdefault(stamp, {})[qid] = value
            points: list[float | None] = []
            stamps = [start + timedelta(minutes=i) for i in range(periods)]
            for stamp in stamps:
                row = by_time.get(stamp)
                points.append(None if row is None else alarm_value(spec, row, stamp))
            new = next_state(spec, held.state, points)
            newest = points[-1] if points else None
            self.evaluations.append((self.clock(), spec.name, newest, new))
            held.last_value = newest
            if new != held.state:
                self._move(held, new, self._reason(spec, new, points, stamps), newest)

    def _reason(
        self,
        spec: AlarmSpec,
        state: AlarmState,
        points: Sequence[float | None],
        stamps: Sequence[datetime],
    ) -> str:
        shown = [
            f"{v} ({t:%d/%m/%y %H:%M:%S})"
            for v, t in zip(points, stamps, strict=True)
            if v is not None
        ]
        if not shown:
            return (
                f"Threshold Crossed: no datapoints were received for {len(points)} period"
                f"{'s' if len(points) != 1 else ''} and {len(points)} missing datapoint"
                f"{'s were' if len(points) != 1 else ' was'} treated as "
                f"[{'Breaching' if state == 'ALARM' else 'NonBreaching'}]."
            )
        word = {
            "GreaterThanOrEqualToThreshold": "greater than or equal to",
            "GreaterThanThreshold": "greater than",
            "LessThanThreshold": "less than",
            "LessThanOrEqualToThreshold": "less than or equal to",
        }[spec.comparison]
        if state != "ALARM":
            word = "not " + word
        n = len(shown)
        return (
            f"Threshold Crossed: {n} out of the last {len(points)} datapoint"
            f"{'s' if len(points) != 1 else ''} [{', '.join(reversed(shown))}] "
            f"{'was' if n == 1 else 'were'} {word} the threshold ({spec.threshold}) "
            f"(minimum {spec.datapoints_to_alarm} datapoint"
            f"{'s' if spec.datapoints_to_alarm != 1 else ''} for "
            f"{'OK -> ALARM' if state == 'ALARM' else 'ALARM -> OK'} transition)."
        )

    def _move(self, held: _Alarm, state: AlarmState, reason: str, value: float | None) -> None:
        old = held.state
        held.state = state
        held.reason = reason
        held.updated = self.clock()
        if state == old or state != "ALARM" or not held.spec.actions_enabled:
            return
        for action in held.spec.actions:
            if action.startswith("arn:") and ":sns:" in action:
                self.outbox.append(self._sns_event(held, old, action))

    def take_notifications(self) -> list[dict[str, object]]:
        """The Lambda events SNS delivered since the last call (one record each, as SNS
        invokes a subscribed function), oldest first."""
        out, self.outbox = self.outbox, []
        return out

    # --- the shapes AWS sends ------------------------------------------------------------------

    def notification(self, held: _Alarm, old: AlarmState) -> dict[str, object]:
        """The alarm notification CloudWatch publishes to SNS (the ``Message``, as JSON)."""
        spec = held.spec
        now = held.updated or self.clock()
        trigger: dict[str, object]
        common: dict[str, object] = {
            "Period": PERIOD,
            "EvaluationPeriods": spec.evaluation_periods,
            "DatapointsToAlarm": spec.datapoints_to_alarm,
            "ComparisonOperator": spec.comparison,
            "Threshold": spec.threshold,
            "TreatMissingData": spec.treat_missing_data,
            "EvaluateLowSampleCountPercentile": "",
        }
        if spec.metric is not None:
            m = spec.metric
            trigger = {
                "MetricName": m.metric,
                "Namespace": m.namespace,
                "StatisticType": "Statistic",
                "Statistic": m.stat.upper(),
                "Unit": None,
                "Dimensions": [{"value": v, "name": n} for n, v in m.dimensions],
                **common,
            }
        else:
            queries: list[dict[str, object]] = []
            for q in spec.queries:
                item: dict[str, object] = {"Id": q.id}
                if q.expression is not None:
                    item["Expression"] = q.expression
                if q.label is not None:
                    item["Label"] = q.label
                if q.metric is not None:
                    item["MetricStat"] = {
                        "Metric": {
                            "Dimensions": [{"value": v, "name": n} for n, v in q.metric.dimensions],
                            "MetricName": q.metric.metric,
                            "Namespace": q.metric.namespace,
                        },
                        "Period": q.metric.period,
                        "Stat": q.metric.stat,
                    }
                item["ReturnData"] = q.return_data
                queries.append(item)
            trigger = {"Metrics": queries, **common}
        configured = held.configured or now
        return {
            "AlarmName": spec.name,
            "AlarmDescription": spec.description or None,
            "AWSAccountId": self.account_id,
            "AlarmConfigurationUpdatedTimestamp": _cw_time(configured),
            "NewStateValue": held.state,
            "NewStateReason": held.reason,
            "StateChangeTime": _cw_time(now),
            "Region": REGION_NAMES.get(self.region, self.region),
            "AlarmArn": f"arn:aws:cloudwatch:{self.region}:{self.account_id}:alarm:{spec.name}",
            "OldStateValue": old,
            "OKActions": [],
            "AlarmActions": list(spec.actions),
            "InsufficientDataActions": [],
            "Trigger": trigger,
        }

    def _sns_event(self, held: _Alarm, old: AlarmState, topic: str) -> dict[str, object]:
        message = json.dumps(self.notification(held, old), ensure_ascii=False)
        now = held.updated or self.clock()
        seed = f"{topic}\n{held.spec.name}\n{now.isoformat()}\n{len(self.outbox)}"
        message_id = str(uuid.UUID(hashlib.sha256(seed.encode()).hexdigest()[:32]))
        region_name = REGION_NAMES.get(self.region, self.region)
        subject = f'ALARM: "{held.spec.name}" in {region_name}'
        return {
            "Records": [
                {
                    "EventSource": "aws:sns",
                    "EventVersion": "1.0",
                    "EventSubscriptionArn": f"{topic}:{message_id}",
                    "Sns": {
                        "Type": "Notification",
                        "MessageId": message_id,
                        "TopicArn": topic,
                        # SNS subjects are at most 100 characters
                        "Subject": subject[:100],
                        "Message": message,
                        "Timestamp": f"{now:%Y-%m-%dT%H:%M:%S}.000Z",
                        "SignatureVersion": "1",
                        "Signature": "SIMULATED",
                        "SigningCertUrl": f"https://sns.{self.region}.amazonaws.com/SimpleNotificationService-simulated.pem",
                        "UnsubscribeUrl": f"https://sns.{self.region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic}:{message_id}",
                        "MessageAttributes": {},
                    },
                }
            ]
        }


def _cw_time(at: datetime) -> str:
    """CloudWatch's timestamp in notifications: ``2026-12-02T04:13:00.000+0000``."""
    return f"{at:%Y-%m-%dT%H:%M:%S}.{at.microsecond // 1000:03d}+0000"
