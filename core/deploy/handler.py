"""The scaler Lambda: one event in, the engine's decisions out (one JSON line each).

:func:`handler` is the Lambda entry point (``capcon.core.deploy.handler.handler``): it builds
everything from the environment — the engine's settings (:func:`settings_from_environment`),
the AWS backend in ``AWS_REGION``, the state and audit stores on the DynamoDB table
``CAPCON_STATE_TABLE``, CloudWatch alarms — and calls :func:`run_event`, which ``capcon
deploy invoke`` and the tests call with their own backend and stores.

For each wake-up in the event (:func:`capcon.core.deploy.events.parse_event`):

1. the event id is claimed in the state store (``event#<id>``, written only if absent): a
   redelivered event is "already handled" and nothing else happens;
2. the engine re-observes the woken dimensions with one batched ``GetMetricData`` round (the
   alarm is only a wake-up) and runs the same policy code as ``capcon autoscale``, each
   policy's state loaded from and saved to the store; the due steps of planned events'
   stream schedules kept in the same store (``capcon event apply`` on a stream) are sent
   first (a tick runs every managed stream's);
3. unless in dry run, actions go through the core scaler in its non-waiting mode (stale
   check, rule book, decrease budget, audit records in the store);
4. after a change the dimension's alarms are re-put at the new capacity, blind to the minutes
   before the change (:func:`capcon.core.deploy.alarms.alarms_for` with ``since``; so are
   the alarms of the table's other dimension, which share its throughput history): they
   go back to OK at CloudWatch's next evaluation and fire again on the first minute the
   policy can act on.  An alarm that woke the handler and was not re-put (a hold) is set
   back to OK, so a breach that persists fires again.  A dry run changes
   nothing in the account (no scaling, no alarm is touched); it still records the events
   it handled and the policies' state in the store.

Every failure becomes a logged message and a result carrying it: no traceback reaches the
log.  This module imports nothing outside ``capcon.core``, the standard library and boto3
(through ``capcon.core.backends.aws``): it is packaged alone.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from capcon.core.deploy.alarms import (
    alarms_for,
    capacity_of,
    fresh_from,
    is_gated,
    stream_target,
)
from capcon.core.deploy.events import Wakeup, parse_event
from capcon.core.deploy.spec import EngineSettings, settings_from_environment
from capcon.core.errors import CapconError, StateConflict
from capcon.core.ports import Alarms, AuditStore, Backend, Scalable, StateStore
from capcon.core.pricing import PriceBook
from capcon.core.redact import redact_text
from capcon.core.rules import RuleSettings

if TYPE_CHECKING:
    from capcon.core.services.audit import AuditSink

#: How long a handled event's claim is kept (the state table's TTL attribute).
CLAIM_DAYS = 7
#: The most characters of one message in a result line.
MAX_MESSAGE = 1000


@dataclass(frozen=True, slots=True)
class HandlerResult:
    """What one event led to: a line per decision (or per ignored / already handled wake-up)
    and the errors met, each a message."""

    lines: tuple[dict[str, Any], ...] = ()
    errors: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "decisions": list(self.lines), "errors": list(self.errors)}


def _message(error: BaseException) -> str:
    """An error as one redacted line (never a traceback)."""
    text = str(error) if isinstance(error, CapconError) else f"{type(error).__name__}: {error}"
    text = redact_text(" ".join(text.split()))
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


@dataclass
class _Run:
    settings: EngineSettings
    backend: Backend
    state: StateStore
    audit: Any  # an AuditStore, or an AuditSink (deploy invoke: the local audit log)
    alarms: Alarms
    rules: RuleSettings
    prices: PriceBook
    origin_who: str
    metric_delay_seconds: int | None
    update_seconds: int | None
    reshard_history: Callable[[str], Sequence[datetime]] | None = None
    lines: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def line(self, wakeup: Wakeup, **values: Any) -> dict[str, Any]:
        out: dict[str, Any] = {
            "event": wakeup.event_id,
            "wakeup": wakeup.kind,
            "dry_run": self.settings.dry_run,
        }
        if wakeup.alarm is not None:
            out["alarm"] = wakeup.alarm
        for key, value in values.items():
            out[key] = redact_text(value) if isinstance(value, str) else value
        self.lines.append(out)
        return out

    def fail(self, wakeup: Wakeup | None, where: str, error: BaseException) -> None:
        message = f"{where}: {_message(error)}"
        self.errors.append(message)
        if wakeup is not None:
            self.line(wakeup, outcome="error", error=message)

    # --- one wake-up -------------------------------------------------------------------------

    def claim(self, wakeup: Wakeup, now: datetime) -> bool:
        """``True`` if this run is the first to handle ``wakeup``'s event."""
        expires = int((now + timedelta(days=CLAIM_DAYS)).timestamp())
        try:
            self.state.save(
                f"event#{wakeup.event_id}",
                {"at": now.isoformat(), "kind": wakeup.kind, "expires": expires},
                None,
            )
        except StateConflict:
            return False
        return True

    def handle(self, wakeup: Wakeup) -> None:
        if wakeup.kind == "ignored":
            self.line(wakeup, outcome="ignored", reason=wakeup.reason)
            return
        now = self.backend.now()
        if not self.claim(wakeup, now):
            self.line(wakeup, outcome="already handled", reason="event seen before: skipped")
            return
        scalables = [s for s in wakeup.scalables if s in set(self.settings.spec.managed)]
        decisions: Sequence[Any] = ()
        if scalables:
            engine = self.engine()
            decisions = engine.round(only=scalables)
        else:
            self.line(wakeup, outcome="held", reason=f"{wakeup.reason}: nothing managed to run")
        changed: list[tuple[Scalable, int, datetime]] = []
        for decided in decisions:
            outcome = str(decided.outcome)
            capacity = decided.decision.capacity
            self.line(
                wakeup,
                at=decided.at.isoformat(),
                scalable=decided.scalable.key,
                action=decided.decision.action,
                capacity=capacity,
                capacity_after=decided.capacity_after,
                outcome=outcome,
                reason=decided.decision.reason,
            )
            if outcome in ("applied", "accepted") and decided.capacity_after is not None:
                changed.append((decided.scalable, int(decided.capacity_after), decided.at))
        if self.settings.dry_run:
            return
        retuned: set[str] = set()
        for scalable, capacity, at in changed:
            retuned |= self.retune(wakeup, scalable, capacity, at)
        self.regate_siblings(wakeup, changed)
        if wakeup.alarm is not None and wakeup.alarm not in retuned:
            try:
                self.alarms.set_alarm_state(
                    wakeup.alarm, "OK", f"capcon handled {wakeup.event_id}: re-armed"
                )
            except CapconError as error:
                self.fail(wakeup, f"resetting alarm {wakeup.alarm!r}", error)

    def retune(self, wakeup: Wakeup, scalable: Scalable, capacity: int, at: datetime) -> set[str]:
        """Re-put ``scalable``'s alarms at ``capacity``; the names of those put blind to the
        minutes before ``at`` (:func:`~capcon.core.deploy.alarms.gated`).  Those need no
        ``SetAlarmState``: CloudWatch's next evaluation reads a minute that ends before the
        first whole minute after ``at`` (a minute is published only once it has ended),
        which the gate turns into a quiet value, so an alarm in ALARM goes to OK by itself
        and fires again on the first fresh minute that breaches.  Alarms that are not gated
        (``capcon`` reads every minute) are set to OK here, the waking one by the caller."""
        actions = (self.settings.topic_arn,) if self.settings.topic_arn else ()
        spec = self.settings.spec
        gated: set[str] = set()
        for alarm in alarms_for(spec, scalable, capacity, actions=actions, since=at):
            try:
                self.alarms.put_metric_alarm(alarm)
                if is_gated(alarm):
                    gated.add(alarm.name)
                elif alarm.name != wakeup.alarm:
                    self.alarms.set_alarm_state(
                        alarm.name, "OK", f"capcon re-tuned it for {capacity:,} after a change"
                    )
            except CapconError as error:
                self.fail(wakeup, f"re-tuning alarm {alarm.name!r}", error)
        return gated

    def regate_siblings(
        self, wakeup: Wakeup, changed: Sequence[tuple[Scalable, int, datetime]]
    ) -> None:
        """Re-put the alarms of the other dimension of each changed table or GSI, blind to
        the minutes before the change: reads and writes share one throughput history
        (``LastIncreaseDateTime`` / ``LastDecreaseDateTime``), so the policies of both
        count only datapoints since it, and an alarm of the unchanged dimension would wake
        the handler for holds until then.  Their thresholds stay (their capacity is read
        back); their state is left as it is.  Not for a policy that counts every datapoint
        (``capcon``): its alarms are not gated."""
        managed = set(self.settings.spec.managed)
        done = {scalable for scalable, _, _ in changed}
        siblings: dict[Scalable, datetime] = {}
        for scalable, _, at in changed:
            if scalable.kind == "stream":
                continue
            other = Scalable(
                scalable.name, "write" if scalable.dimension == "read" else "read", scalable.index
            )
            if other in managed and other not in done and fresh_from(self.settings.spec, other, at):
                siblings[other] = max(at, siblings.get(other, at))
        actions = (self.settings.topic_arn,) if self.settings.topic_arn else ()
        for other, at in siblings.items():
            try:
                table = self.backend.describe_table(other.name)
                capacity = capacity_of(other, [table], [])
                if capacity is None:
                    continue
                for alarm in alarms_for(
                    self.settings.spec, other, capacity, actions=actions, since=at
                ):
                    self.alarms.put_metric_alarm(alarm)
            except CapconError as error:
                self.fail(wakeup, f"re-gating the alarms of {other.key}", error)

    def engine(self) -> Any:
        from capcon.core.services.audit import Origin, StoreAudit
        from capcon.core.services.engine import DEFAULT_METRIC_DELAY, AutoscaleEngine
        from capcon.core.services.scaler import Scaler

        spec = self.settings.spec
        scaler = None
        if not self.settings.dry_run:
            origin = Origin(who=self.origin_who, backend=self.backend.label)
            sink = self.audit if hasattr(self.audit, "check_writable") else None
            scaler = Scaler(
                self.backend,
                sink if sink is not None else StoreAudit(self.audit),
                origin,
                wait=time.sleep,
                follow=False,
            )
        delay = self.metric_delay_seconds
        return AutoscaleEngine(
            self.backend,
            spec.policy,
            spec.target,
            self.rules,
            self.prices,
            managed=spec.managed,
            bounds=spec.bounds,
            scaler=scaler,
            shard_bounds=spec.shard_bounds,
            stream_check_every=timedelta(hours=spec.stream_check_hours),
            metric_delay_seconds=DEFAULT_METRIC_DELAY if delay is None else delay,
            update_seconds=self.update_seconds,
            state=self.state,
            schedules=self.state,  # planned events' stream schedules (capcon event apply)
            stream_target=stream_target(spec),
            reshard_history=self.reshard_history,
        )


def run_event(
    event: object,
    settings: EngineSettings,
    backend: Backend,
    *,
    state: StateStore,
    audit: AuditStore | AuditSink,
    alarms: Alarms,
    event_id: str | None = None,
    rules: RuleSettings | None = None,
    prices: PriceBook | None = None,
    who: str = "capcon deploy",
    metric_delay_seconds: int | None = None,
    update_seconds: int | None = None,
    reshard_history: Callable[[str], Sequence[datetime]] | None = None,
) -> HandlerResult:
    """Handle one Lambda event (see the module docstring); ``event_id`` replaces the ids the
    event carries (one per wake-up: ``ID``, ``ID#2``, …).  Never raises for a bad event or a
    failing call: every error is a message in the result."""
    run = _Run(
        settings,
        backend,
        state,
        audit,
        alarms,
        rules or RuleSettings(),
        prices or _default_prices(backend),
        who,
        metric_delay_seconds,
        update_seconds,
        reshard_history,
    )
    try:
        wakeups = parse_event(event, settings.spec, now=backend.now())
    except CapconError as error:
        run.fail(None, "event", error)
        return HandlerResult(tuple(run.lines), tuple(run.errors))
    except Exception as error:
        run.fail(None, "event", error)
        return HandlerResult(tuple(run.lines), tuple(run.errors))
    for number, wakeup in enumerate(wakeups, start=1):
        if event_id is not None:
            from dataclasses import replace

            wakeup = replace(wakeup, event_id=event_id if number == 1 else f"{event_id}#{number}")
        try:
            run.handle(wakeup)
        except Exception as error:
            run.fail(wakeup, f"handling {wakeup.kind}", error)
    return HandlerResult(tuple(run.lines), tuple(run.errors))


def _default_prices(backend: Backend) -> PriceBook:
    from capcon.core.config.prices import load_price_book

    region = getattr(getattr(backend, "session", None), "region", None) or os.environ.get(
        "AWS_REGION", "us-east-1"
    )
    return load_price_book(str(region))


def log_lines(result: HandlerResult, write: Callable[[str], object] | None = None) -> None:
    """Each decision and each error as one JSON line (non-ASCII and control characters
    escaped), as CloudWatch Logs keeps a Lambda's output."""
    out = write or (lambda text: print(text, file=sys.stdout, flush=True))
    for line in result.lines:
        out(json.dumps(line, ensure_ascii=True, sort_keys=True, default=str))
    for error in result.errors:
        out(json.dumps({"error": error}, ensure_ascii=True))


def handler(event: object, context: object) -> dict[str, Any]:
    """The Lambda entry point: settings, backend and stores from the environment."""
    try:
        env: Mapping[str, str] = os.environ
        settings = settings_from_environment(env)
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        if not settings.state_table:
            raise CapconError("the environment lacks CAPCON_STATE_TABLE (set by the template)")
        from capcon.core.backends.aws.adapter import AwsAdapter
        from capcon.core.backends.aws.alarms import AwsAlarms
        from capcon.core.backends.aws.session import AwsSession
        from capcon.core.backends.aws.statestore import DynamoAuditStore, DynamoStateStore

        session = AwsSession(region=region)
        backend = AwsAdapter(session)
        dynamodb = session.dynamodb()
        name = env.get("AWS_LAMBDA_FUNCTION_NAME", "capcon-engine")
        request = getattr(context, "aws_request_id", None)
        result = run_event(
            event,
            settings,
            backend,
            state=DynamoStateStore(dynamodb, settings.state_table),
            audit=DynamoAuditStore(dynamodb, settings.state_table),
            alarms=AwsAlarms(session.cloudwatch()),
            who=f"lambda:{name}" + (f" ({request})" if isinstance(request, str) else ""),
        )
    except Exception as error:
        result = HandlerResult(errors=(f"setup: {_message(error)}",))
    log_lines(result)
    return result.to_json()
