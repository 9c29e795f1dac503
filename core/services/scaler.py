"""The core scaler: the one place where capacity changes happen.

:meth:`Scaler.apply` takes a :class:`~capcon.core.planning.planner.ScalePlan` the user confirmed and
either carries it out exactly or refuses:

1. a read-only scaler refuses every change before anything reaches the backend (not even a
   read) and writes no audit record: nothing was attempted, and a read-only session must be
   able to run where it may not write (a locked-down host, a read-only home);
2. the resource is read again: if it changed since the preview (capacity, status, shards),
   the plan is stale and refused with the difference, so the user previews again;
3. an *intent* record is written to the audit log and forced to disk; a log that cannot be
   written (a symbolic link, a directory, no permission, a read-only folder) refuses the
   change before anything is read or sent — the scaler checks it can open the log for append
   first, and a failure of the intent record itself is a refusal too;
4. the change is sent through the backend's :class:`~capcon.core.ports.Actuator` — a table
   update or ``UpdateShardCount`` as one call, a targeted reshard as split/merge steps one at
   a time (each waits for ``ACTIVE``; a re-run skips the steps already done, so it resumes);
5. the resource is followed from ``UPDATING`` to ``ACTIVE`` with progress callbacks — or,
   for a scaler made with ``follow=False`` (the deployed engine: a reshard can outlast a
   Lambda invocation), read once: the change is ``accepted`` once AWS took it, and stays
   open in the audit trail for a later reconcile to confirm;
6. an *outcome* record is written: applied, accepted, refused, or failed with the error.

The audit trail is any :class:`~capcon.core.services.audit.AuditSink`: the local JSON-lines
file, or a store (the deployed engine's DynamoDB table).

The same scaler serves both backends; ``wait(seconds)`` is how it lets time pass (a real
sleep against AWS, advancing the clock of the simulated account).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Literal

from capcon.core.errors import BackendError, CapconError, ResourceInUse, Throttled
from capcon.core.jsonable import to_jsonable
from capcon.core.model import HashRange, Index, Stream, Table, Throughput, WarmThroughput
from capcon.core.planning.autoscaling import (
    AutoScalingPlan,
    policy_for,
    state_fingerprint,
    target_for,
)
from capcon.core.planning.events import EventPlan, event_fingerprint
from capcon.core.planning.planner import ScalePlan, fingerprint
from capcon.core.planning.requests import ShardChange, dimension_word
from capcon.core.planning.reshard import ReshardPlan
from capcon.core.planning.schedules import EventRecord, parse_action_name
from capcon.core.ports import (
    Backend,
    ScalableTarget,
    ScalingPolicy,
    ScheduledAction,
    StateStore,
    TableChange,
    at_schedule,
    resource_id,
)
from capcon.core.rules import busy_message
from capcon.core.services.audit import (
    AuditError,
    AuditRecord,
    AuditSink,
    Origin,
    new_change_id,
)
from capcon.core.services.interrupts import Interrupted, critical, signal_name
from capcon.core.services.locks import ResourceBusy, ResourceLocks, locks_for

Outcome = Literal["applied", "accepted", "refused", "failed", "partial", "unknown", "interrupted"]
"""How a change ended: ``applied``; ``accepted`` (a scaler that does not follow changes,
``follow=False``: AWS took the request and the resource shows it, but it was not followed to
``ACTIVE``; the change stays open and the next reconcile confirms it); ``refused`` (by
capcon: stale, busy, a rule); ``failed`` (nothing changed: AWS rejected it, or the resource
was read back unchanged); ``partial`` (some steps of several were done); ``unknown`` (sent,
the result not confirmed: an answer lost, a timeout); ``interrupted`` (a signal ended the
command)."""

#: How often one mutation is sent at most after throttling answers (refused: nothing done).
THROTTLED_ATTEMPTS = 3
#: How often one mutation is sent at most when its answer is lost and the resource stays
#: unchanged (one resend: a late arrival of both is harmless, they set the same values).
LOST_ANSWER_ATTEMPTS = 2
#: How late a stream event's first reshard may be when the event is applied (the engine
#: sends a due step at its next tick, within a minute).
STREAM_STEP_GRACE = timedelta(minutes=1)
#: Failed reads in a row that end the wait for ``ACTIVE`` (the outcome is then unknown).
FOLLOW_READ_FAILURES = 3

#: Why a read-only scaler refuses (the same words for every kind of change).
READ_ONLY_REFUSAL = (
    "read-only session: capcon changes nothing in it and sent nothing (read-only comes from "
    "--read-only or read_only = true in config.toml)"
)


def audit_refusal(error: AuditError) -> str:
    """Why a change is refused when its audit record cannot be written."""
    return f"{error}; nothing was sent (capcon makes no change it cannot record)"


class ApplyTimeout(CapconError):
    """The resource did not return to ``ACTIVE`` in time (the change may still complete)."""


@dataclass(frozen=True, slots=True)
class Progress:
    """A step of an apply, for a progress bar or a log line."""

    message: str
    fraction: float
    status: str = ""


@dataclass(frozen=True, slots=True)
class ApplyResult:
    change_id: str
    """The audit log's id of the change; empty when nothing was recorded (read-only)."""
    outcome: Outcome
    before: Table | Stream | None
    after: Table | Stream | None
    error: str | None = None
    steps_done: int = 0
    steps_total: int = 1
    notes: tuple[str, ...] = field(default_factory=tuple)


def describe_difference(old: Table | Stream, new: Table | Stream) -> list[str]:
    """Human lines saying what changed between two reads of the same resource."""
    lines: list[str] = []
    if old.status != new.status:
        lines.append(f"status {old.status} → {new.status}")
    if isinstance(old, Table) and isinstance(new, Table):
        if old.billing_mode is not new.billing_mode:
            lines.append(f"mode {old.billing_mode.label} → {new.billing_mode.label}")
        if old.provisioned != new.provisioned:
            lines.append(f"capacity {old.provisioned} → {new.provisioned}")
        if old.table_class is not new.table_class:
            lines.append(f"table class {old.table_class.label} → {new.table_class.label}")
        if old.history.decreases_today != new.history.decreases_today:
            lines.append(
                f"decreases today {old.history.decreases_today} → {new.history.decreases_today}"
            )
        new_indexes = {i.name: i for i in new.indexes}
        for index in old.indexes:
            other = new_indexes.get(index.name)
            if other is None:
                lines.append(f"index {index.name} is gone")
            elif other.provisioned != index.provisioned or other.status != index.status:
                lines.append(
                    f"index {index.name}: {index.provisioned} {index.status} → "
                    f"{other.provisioned} {other.status}"
                )
    elif isinstance(old, Stream) and isinstance(new, Stream):
        if old.mode is not new.mode:
            lines.append(f"mode {old.mode.label} → {new.mode.label}")
        if old.open_shard_count != new.open_shard_count:
            lines.append(f"open shards {old.open_shard_count} → {new.open_shard_count}")
        elif [s.shard_id for s in old.open_shards] != [s.shard_id for s in new.open_shards]:
            lines.append("the open shards were split or merged")
    return lines or ["its state fingerprint differs"]


class Scaler:
    """Applies confirmed plans through a backend, with an audit trail.

    The only caller of the backend's mutating methods (a test checks the source).  A
    ``read_only`` scaler refuses every change; the switch is fixed when it is made.
    """

    def __init__(
        self,
        backend: Backend,
        audit: AuditSink,
        origin: Origin,
        *,
        wait: Callable[[float], None],
        read_only: bool = False,
        poll_seconds: float = 5.0,
        timeout_seconds: float = 1_800.0,
        settle_seconds: float = 30.0,
        follow: bool = True,
        locks: ResourceLocks | None = None,
    ) -> None:
        """``audit``: any :class:`~capcon.core.services.audit.AuditSink` (the local file, or
        a store).  ``follow=False``: a single-call change (``UpdateTable``,
        ``UpdateShardCount``) is not followed to ``ACTIVE``; once one read shows AWS took it,
        its outcome is ``accepted`` (a reshard can outlast a Lambda invocation).  ``locks``:
        by default beside the audit log, or in a private temporary folder for a sink that is
        not a file (:func:`~capcon.core.services.locks.locks_for`)."""
        self.backend = backend
        self.audit = audit
        self.origin = origin
        self.wait = wait
        self._read_only = read_only
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds
        self.settle_seconds = settle_seconds
        self.follow = follow
        self.locks = locks if locks is not None else locks_for(audit, origin)

    @property
    def read_only(self) -> bool:
        """Whether this scaler refuses every change (set when it is made, never after)."""
        return self._read_only

    @staticmethod
    def _refuse_read_only() -> ApplyResult:
        return ApplyResult("", "refused", None, None, READ_ONLY_REFUSAL)

    @staticmethod
    def _refuse_unaudited(error: AuditError, before: Table | Stream | None) -> ApplyResult:
        return ApplyResult("", "refused", before, None, audit_refusal(error))

    def _check_audit(self) -> ApplyResult | None:
        """A refusal when the audit log cannot be opened for append, else ``None``."""
        try:
            self.audit.check_writable()
        except AuditError as error:
            return self._refuse_unaudited(error, None)
        return None

    # --------------------------------------------------------------------------------------

    def _read(self, plan: ScalePlan) -> Table | Stream:
        if plan.kind == "table":
            return self.backend.describe_table(plan.resource)
        return self.backend.describe_stream(plan.resource)

    def _record(
        self,
        change_id: str,
        phase: Literal["intent", "progress", "outcome"],
        plan: ScalePlan | AutoScalingPlan | _Subject,
        **values: Any,
    ) -> None:
        record = AuditRecord(
            change_id=change_id,
            phase=phase,
            at=self.backend.now(),
            origin=self.origin,
            resource=plan.resource,
            kind=plan.kind,
            summary=plan.summary,
            **values,
        )
        with critical():  # a signal waits for the whole line
            self.audit.write(record)

    def apply(
        self,
        plan: ScalePlan,
        *,
        progress: Callable[[Progress], None] | None = None,
        previous: Table | Stream | None = None,
    ) -> ApplyResult:
        """Carry out ``plan`` or refuse; leaves one intent and one outcome record (except a
        read-only refusal, which happens before anything is read, sent or written).

        Refusals and failures are returned (``outcome`` and ``error``), not raised, so every
        caller handles them the same way.  ``previous`` is the state the plan was made from,
        when the caller has it, to show what changed.  ``KeyboardInterrupt`` and
        :class:`~capcon.core.services.interrupts.Interrupted` are recorded (``interrupted``)
        and raised again.
        """
        if self._read_only:
            return self._refuse_read_only()
        if (unaudited := self._check_audit()) is not None:
            return unaudited
        report = progress or (lambda _p: None)
        change_id = new_change_id()
        try:
            lock = self.locks.acquire(plan.kind, plan.resource, change_id)
        except ResourceBusy as busy:
            return self._refuse_busy(change_id, plan, busy)
        with lock:
            return self._apply_locked(plan, change_id, report, previous)

    def _refuse_busy(
        self, change_id: str, plan: ScalePlan | AutoScalingPlan, busy: ResourceBusy
    ) -> ApplyResult:
        try:
            self._record(change_id, "intent", plan, details={"plan": to_jsonable(plan.change)})
            self._record(change_id, "outcome", plan, outcome="refused", error=str(busy))
        except AuditError as error:
            return self._refuse_unaudited(error, None)
        return ApplyResult(change_id, "refused", None, None, str(busy))

    def _apply_locked(
        self,
        plan: ScalePlan,
        change_id: str,
        report: Callable[[Progress], None],
        previous: Table | Stream | None,
    ) -> ApplyResult:
        try:
            current = self._read(plan)
        except CapconError as error:
            # the resource cannot even be read (deleted, access denied, endpoint down)
            message = f"{plan.resource} could not be read again before applying: {error}"
            try:
                self._record(change_id, "intent", plan, details={"plan": to_jsonable(plan.change)})
                self._record(change_id, "outcome", plan, outcome="failed", error=message)
            except AuditError as audit_error:
                return self._refuse_unaudited(audit_error, None)
            return ApplyResult(change_id, "failed", None, None, message)
        intent = {
            "before": resource_state(current),
            "details": {
                "plan": to_jsonable(plan.change),
                "warnings": [w.message for w in plan.warnings],
                "expect": _expected(plan, current),
            },
        }
        stage = _Stage()
        try:
            try:
                self._record(change_id, "intent", plan, **intent)
            except AuditError as error:
                return self._refuse_unaudited(error, current)
            stage.recorded = True
            if fingerprint(current) != plan.fingerprint:
                what = describe_difference(previous, current) if previous else ["state changed"]
                refusal = (
                    f"{plan.resource} changed since the preview ({'; '.join(what)}): "
                    "preview the change again"
                )
                return self._close(change_id, plan, "refused", current, current, refusal)
            try:
                if isinstance(plan.change, TableChange):
                    after = self._apply_table(plan, plan.change, current, report, stage)
                elif isinstance(plan.change, ShardChange) and plan.change.strategy == "uniform":
                    after = self._apply_uniform(plan, plan.change, current, report, stage)
                else:
                    after = self._apply_targeted(plan, change_id, report, stage)
            except CapconError as error:
                return self._close_failure(change_id, plan, current, stage, error)
        except (KeyboardInterrupt, Interrupted) as interrupt:
            if stage.recorded:
                self._close_interrupted(change_id, plan, current, stage, interrupt)
            raise
        if stage.accepted:
            report(Progress(f"{plan.resource}: AWS accepted the change", 1.0, after.status))
        else:
            report(Progress(f"{plan.resource} is ACTIVE: change applied", 1.0, after.status))
        return self._close(
            change_id, plan, "accepted" if stage.accepted else "applied", current, after, None,
            stage.steps_done, stage.steps_total,
        )  # fmt: skip

    def _close(
        self,
        change_id: str,
        plan: ScalePlan,
        outcome: Outcome,
        before: Table | Stream | None,
        after: Table | Stream | None,
        error: str | None,
        steps_done: int = 0,
        steps_total: int = 1,
    ) -> ApplyResult:
        """Write the outcome record and return the result; an outcome that cannot be written
        is said in the result's notes (the intent stays open and is reconciled later)."""
        notes: tuple[str, ...] = ()
        try:
            self._record(
                change_id, "outcome", plan,
                before=resource_state(before), after=resource_state(after),
                outcome=outcome, error=error,
                details={"steps": [steps_done, steps_total]} if steps_total > 1 else {},
            )  # fmt: skip
        except AuditError as audit_error:
            notes = (
                f"the outcome could not be written to the audit log ({audit_error}); its "
                "intent stays open and the next capcon command reconciles it",
            )
        return ApplyResult(change_id, outcome, before, after, error, steps_done, steps_total, notes)

    def _close_failure(
        self,
        change_id: str,
        plan: ScalePlan,
        current: Table | Stream,
        stage: _Stage,
        error: CapconError,
    ) -> ApplyResult:
        """The outcome of a change that raised: *unknown* when it was (or may have been)
        sent and its result is not confirmed, *partial* when some reshard steps were done,
        *failed* only when the resource is verified unchanged (or AWS rejected the request)."""
        after = self._safe_read(plan)
        message = str(error)
        if stage.steps_done and stage.steps_done < stage.steps_total:
            outcome: Outcome = "partial"
            message += (
                f" ({stage.steps_done} of {stage.steps_total} steps done; applying the same "
                "plan again resumes after them)"
            )
        elif isinstance(error, OutcomeUnknown | ApplyTimeout) or stage.sent:
            outcome = "unknown"
        elif after is not None and fingerprint(after) != fingerprint(current):
            outcome = "unknown"
            changed = "; ".join(describe_difference(current, after))
            message += f" ({plan.resource} has changed meanwhile: {changed})"
        else:
            outcome = "failed"
            message = _in_words(error, plan)
        return self._close(
            change_id, plan, outcome, current, after, message,
            stage.steps_done, stage.steps_total,
        )  # fmt: skip

    def _close_interrupted(
        self,
        change_id: str,
        plan: ScalePlan | AutoScalingPlan | _Subject,
        current: Table | Stream | None,
        stage: _Stage,
        interrupt: BaseException,
    ) -> None:
        """The ``interrupted`` outcome (best effort: the process is ending)."""
        sent = {"no": "nothing was sent", "maybe": "the request was being sent",
                "yes": "the request had been sent"}[stage.sent_word]  # fmt: skip
        words = (
            f"interrupted by {signal_name(interrupt)}: {sent}"
            + ("" if stage.sent_word == "no" else "; the change may complete on its own")
            + "; the next capcon command reconciles it"
        )
        with suppress(AuditError, OSError):  # else the intent stays open: reconciled later
            self._record(
                change_id, "outcome", plan,
                before=resource_state(current), outcome="interrupted", error=words,
                details={"sent": stage.sent_word, "signal": signal_name(interrupt),
                         "steps": [stage.steps_done, stage.steps_total]},
            )  # fmt: skip

    def apply_autoscaling(
        self,
        plan: AutoScalingPlan,
        *,
        progress: Callable[[Progress], None] | None = None,
    ) -> ApplyResult:
        """Register/deregister the target and put/delete its policy, as planned; audited as
        :meth:`apply` is (one intent, one outcome, interruptions recorded)."""
        if self._read_only:
            return self._refuse_read_only()
        if (unaudited := self._check_audit()) is not None:
            return unaudited
        report = progress or (lambda _p: None)
        change_id = new_change_id()
        try:
            lock = self.locks.acquire(plan.kind, plan.resource, change_id)
        except ResourceBusy as busy:
            return self._refuse_busy(change_id, plan, busy)
        with lock:
            return self._apply_autoscaling_locked(plan, change_id, report)

    def _apply_autoscaling_locked(
        self, plan: AutoScalingPlan, change_id: str, report: Callable[[Progress], None]
    ) -> ApplyResult:
        change = plan.change
        try:
            table = self.backend.describe_table(plan.resource)
            targets, policies = self._aas_state(change.resource_id)
        except CapconError as error:
            message = f"{plan.resource} could not be read again before applying: {error}"
            try:
                self._record(change_id, "intent", plan, details={"change": to_jsonable(change)})
                self._record(change_id, "outcome", plan, outcome="failed", error=message)
            except AuditError as audit_error:
                return self._refuse_unaudited(audit_error, None)
            return ApplyResult(change_id, "failed", None, None, message)
        warnings = [w.message for w in plan.warnings]
        intent = {
            "before": {
                "table": resource_state(table),
                "targets": to_jsonable(targets),
                "policies": to_jsonable(policies),
            },
            "details": {
                "change": to_jsonable(change),
                "warnings": warnings,
                "expect": {
                    "resource_id": change.resource_id,
                    "dimension": change.scalable_dimension,
                    "enabled": change.enabled,
                    "policy": plan.policy_name,
                },
            },
        }
        stage = _Stage()
        try:
            try:
                self._record(change_id, "intent", plan, **intent)
            except AuditError as error:
                return self._refuse_unaudited(error, table)
            stage.recorded = True
            if state_fingerprint(table, targets, policies) != plan.fingerprint:
                refusal = (
                    f"{plan.resource} or its auto scaling changed since the preview: preview again"
                )
                self._write_outcome(change_id, plan, outcome="refused", error=refusal)
                return ApplyResult(change_id, "refused", table, None, refusal)
            try:
                # Application Auto Scaling's calls set absolute values (a resend would be
                # harmless), but they are sent once all the same: a lost answer leaves the
                # outcome unknown until the next command reconciles it.
                stage.run(self._aas_calls(plan, policies, targets), report)
                after = self._follow_table(plan.resource, report)
                targets_after, policies_after = self._aas_state(change.resource_id)
            except CapconError as error:
                message = _in_words(error, plan)
                outcome: Outcome
                if stage.steps_done == stage.steps_total:
                    outcome = "unknown"  # every call was answered; reading back failed
                elif isinstance(error, BackendError) and error.maybe_sent:
                    outcome = "unknown"
                elif stage.steps_done:
                    outcome = "partial"
                else:
                    outcome = "failed"
                if outcome != "failed":
                    message += (
                        f" ({stage.steps_done} of {stage.steps_total} calls answered; what is "
                        "in place now is not confirmed: capcon aas shows it)"
                    )
                notes = self._write_outcome(change_id, plan, outcome=outcome, error=message)
                return ApplyResult(change_id, outcome, table, None, message, notes=notes)
        except (KeyboardInterrupt, Interrupted) as interrupt:
            if stage.recorded:
                self._close_interrupted(change_id, plan, table, stage, interrupt)
            raise
        notes = self._write_outcome(
            change_id, plan, outcome="applied",
            after={"table": resource_state(after), "targets": to_jsonable(targets_after),
                   "policies": to_jsonable(policies_after)},
        )  # fmt: skip
        report(Progress(f"auto scaling of {change.label} updated", 1.0, after.status))
        return ApplyResult(change_id, "applied", table, after, notes=notes)

    def _write_outcome(
        self, change_id: str, plan: ScalePlan | AutoScalingPlan | _Subject, **values: Any
    ) -> tuple[str, ...]:
        """Write an outcome record; the notes say so when it could not be written."""
        try:
            self._record(change_id, "outcome", plan, **values)
        except AuditError as audit_error:
            return (
                f"the outcome could not be written to the audit log ({audit_error}); its "
                "intent stays open and the next capcon command reconciles it",
            )
        return ()

    def _aas_calls(
        self,
        plan: AutoScalingPlan,
        policies: tuple[Any, ...],
        targets: tuple[Any, ...],
    ) -> list[tuple[str, float, Callable[[], None]]]:
        """The Application Auto Scaling calls ``plan`` makes, in order, each with its
        progress message."""
        change = plan.change
        if change.enabled:
            target, policy = target_for(plan), policy_for(plan)
            return [
                (f"registering {change.label}", 0.1,
                 lambda: self.backend.register_scalable_target(target)),
                (f"putting target-tracking policy {plan.policy_name}", 0.3,
                 lambda: self.backend.put_scaling_policy(policy)),
            ]  # fmt: skip
        calls: list[tuple[str, float, Callable[[], None]]] = []
        for policy in policies:
            if policy.dimension == change.scalable_dimension:
                calls.append(
                    (f"deleting policy {policy.name}", 0.2,
                     partial(self.backend.delete_scaling_policy, policy.name,
                             policy.resource_id, policy.dimension))
                )  # fmt: skip
        if any(t.dimension == change.scalable_dimension for t in targets):
            calls.append(
                (f"deregistering {change.label}", 0.4,
                 partial(self.backend.deregister_scalable_target, change.resource_id,
                         change.scalable_dimension))
            )  # fmt: skip
        return calls

    def _aas_state(self, rid: str) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        targets = tuple(t for t in self.backend.describe_scalable_targets() if t.resource_id == rid)
        policies = tuple(
            p for p in self.backend.describe_scaling_policies() if p.resource_id == rid
        )
        return targets, policies

    def _follow_table(self, name: str, report: Callable[[Progress], None]) -> Table:
        waited = 0.0
        while True:
            table = self.backend.describe_table(name)
            busy = table.status != "ACTIVE" or any(_index_busy(i) for i in table.indexes)
            if not busy or waited >= self.timeout_seconds:
                return table
            report(Progress(f"{name} is {table.status}…", 0.5, table.status))
            self.wait(self.poll_seconds)
            waited += self.poll_seconds

    def _safe_read(self, plan: ScalePlan) -> Table | Stream | None:
        try:
            return self._read(plan)
        except CapconError:
            return None

    # --------------------------------------------------------------------------------------

    def _follow(
        self, plan: ScalePlan, report: Callable[[Progress], None], base: float, span: float
    ) -> Table | Stream:
        """Poll until the resource (and every GSI) is ACTIVE again.

        A read that fails is tried again at the next poll; :data:`FOLLOW_READ_FAILURES` in a
        row end the wait (the change was sent: its outcome is then *unknown*)."""
        waited = 0.0
        failures = 0
        while True:
            try:
                state = self._read(plan)
            except CapconError as error:
                failures += 1
                if failures >= FOLLOW_READ_FAILURES:
                    raise OutcomeUnknown(
                        f"{plan.resource} could not be read {failures} times in a row while "
                        f"following the change ({error}); the change was sent and may complete"
                    ) from error
                report(Progress(f"reading {plan.resource} failed ({error}); trying again", base))
            else:
                failures = 0
                busy = state.status != "ACTIVE" or (
                    isinstance(state, Table) and any(_index_busy(i) for i in state.indexes)
                )
                if not busy:
                    return state
                fraction = base + span * min(0.9, waited / max(self.timeout_seconds / 20, 1.0))
                report(Progress(f"{plan.resource} is {state.status}…", fraction, state.status))
            if waited >= self.timeout_seconds:
                raise ApplyTimeout(
                    f"{plan.resource} is still not ACTIVE after {waited:.0f} s; the change "
                    "may still complete: check it with capcon show"
                )
            self.wait(self.poll_seconds)
            waited += self.poll_seconds

    def _after_send(
        self,
        plan: ScalePlan,
        before: Table | Stream,
        report: Callable[[Progress], None],
        stage: _Stage,
    ) -> Table | Stream:
        """After a single-call change was sent and taken: follow it to ``ACTIVE``, or, for a
        scaler that does not follow (``follow=False``), read the resource once: ``ACTIVE``
        and changed is applied; anything else (``UPDATING``, or not showing yet) is
        ``accepted`` — AWS answered the request, nothing is sent again, and the change stays
        open in the audit trail for the next reconcile to confirm.  A read that fails leaves
        the outcome unknown."""
        if self.follow:
            return self._follow(plan, report, 0.1, 0.9)
        try:
            after = self._read(plan)
        except CapconError as error:
            raise OutcomeUnknown(
                f"{plan.resource}: AWS took the request, but reading it back failed ({error}); "
                "the change may still complete"
            ) from error
        busy = after.status != "ACTIVE" or (
            isinstance(after, Table) and any(_index_busy(i) for i in after.indexes)
        )
        stage.accepted = busy or fingerprint(after) == fingerprint(before)
        return after

    def _send(
        self,
        plan: ScalePlan,
        what: str,
        send: Callable[[], object],
        base: Table | Stream,
        report: Callable[[Progress], None],
        stage: _Stage,
    ) -> None:
        """Send one mutation, never blindly twice.

        The backend sends it once (no transport retry).  A throttled request was refused by
        the service and is sent again after a pause (:data:`THROTTLED_ATTEMPTS` in all).
        When the answer was lost (a timeout, a reset, a server error: ``maybe_sent``) the
        request may still be on its way: the resource is read every poll for up to
        ``settle_seconds``; a change means the request was received (follow it); still
        unchanged, it is sent again (:data:`LOST_ANSWER_ATTEMPTS` in all), and after the last
        the outcome is *unknown* (probably not applied; the next command reconciles it).  A
        read that fails leaves the outcome unknown too."""
        throttled = lost = 0
        while True:
            stage.sent_word = "maybe"
            try:
                send()
            except Throttled as error:
                stage.sent_word = "no"
                throttled += 1
                if throttled >= THROTTLED_ATTEMPTS:
                    raise
                report(Progress(f"{what} throttled ({error}); sending again shortly", 0.05))
                self.wait(self.poll_seconds * throttled)
                continue
            except BackendError as error:
                if not error.maybe_sent:
                    stage.sent_word = "no"
                    raise
                lost += 1
                if self._landed(plan, what, base, error, report):
                    stage.sent_word = "yes"
                    return
                if lost >= LOST_ANSWER_ATTEMPTS:
                    raise OutcomeUnknown(
                        f"{what}: no answer to {lost} attempts and {plan.resource} still "
                        f"unchanged after each (last error: {error}); probably not applied"
                    ) from error
                stage.sent_word = "no"
                report(
                    Progress(
                        f"{what}: the answer was lost and {plan.resource} is unchanged: "
                        "sending it again",
                        0.05,
                    )
                )
                continue
            stage.sent_word = "yes"
            return

    def _landed(
        self,
        plan: ScalePlan,
        what: str,
        base: Table | Stream,
        error: BackendError,
        report: Callable[[Progress], None],
    ) -> bool:
        """After a lost answer: whether the resource changed within ``settle_seconds`` (the
        request was received), read once a poll.  A read that fails is :class:`OutcomeUnknown`."""
        waited = 0.0
        # a request that timed out may still arrive: give it settle_seconds; one that was
        # reset or answered 5xx has ended, one read tells
        settle = self.settle_seconds if error.in_flight else self.poll_seconds
        report(Progress(f"{what}: no answer ({error}); reading {plan.resource} first", 0.05))
        while True:
            self.wait(self.poll_seconds)
            waited += self.poll_seconds
            try:
                now = self._read(plan)
            except CapconError as read_error:
                raise OutcomeUnknown(
                    f"{what} was sent but its answer was lost ({error}); reading "
                    f"{plan.resource} to find out failed too ({read_error}): the change may "
                    "have been applied"
                ) from error
            if fingerprint(now) != fingerprint(base) or _extras(now) != _extras(base):
                report(Progress(f"{what}: the answer was lost but {plan.resource} changed", 0.1))
                return True
            if waited >= settle:
                return False

    def _apply_table(
        self,
        plan: ScalePlan,
        change: TableChange,
        current: Table | Stream,
        report: Callable[[Progress], None],
        stage: _Stage,
    ) -> Table | Stream:
        report(Progress(f"sending UpdateTable for {plan.resource}", 0.05))
        self._send(
            plan, f"UpdateTable for {plan.resource}",
            lambda: self.backend.update_table(plan.resource, change), current, report, stage,
        )  # fmt: skip
        after = self._after_send(plan, current, report, stage)
        stage.steps_done = 1
        return after

    def _apply_uniform(
        self,
        plan: ScalePlan,
        change: ShardChange,
        current: Table | Stream,
        report: Callable[[Progress], None],
        stage: _Stage,
    ) -> Table | Stream:
        what = f"UpdateShardCount({change.target}) for {plan.resource}"
        report(Progress(f"sending {what}", 0.05))
        self._send(
            plan, what, lambda: self.backend.update_shard_count(plan.resource, change.target),
            current, report, stage,
        )  # fmt: skip
        after = self._after_send(plan, current, report, stage)
        stage.steps_done = 1
        return after

    def _apply_targeted(
        self,
        plan: ScalePlan,
        change_id: str,
        report: Callable[[Progress], None],
        stage: _Stage,
    ) -> Table | Stream:
        """Split/merge one step at a time; steps already done (found by range) are skipped."""
        assert plan.stream is not None
        reshard: ReshardPlan = plan.stream.reshard
        stage.steps_total = total = len(reshard.steps)
        labels: dict[str, str] = {}
        stream: Table | Stream | None = None
        for number, step in enumerate(reshard.steps, 1):
            stream = self._read(plan)
            assert isinstance(stream, Stream)
            by_range = {s.hash_range: s.shard_id for s in stream.open_shards}
            if all(r in by_range for r in step.creates):
                # already done (a resumed run): learn the ids and move on
                labels.update(
                    zip(step.created_labels, (by_range[r] for r in step.creates), strict=True)
                )
                stage.steps_done += 1
                continue
            ids = [labels.get(label, label) for label in step.closes]
            report(Progress(f"step {number}/{total}: {step.describe()}", (number - 1) / total))
            stage.sent = False
            send: Callable[[], object]
            if step.kind == "split":
                assert step.new_starting_hash_key is not None
                send = partial(
                    self.backend.split_shard, plan.resource, ids[0], step.new_starting_hash_key
                )
            else:
                send = partial(self.backend.merge_shards, plan.resource, ids[0], ids[1])
            self._send(
                plan, f"step {number}/{total} ({step.describe()})", send, stream, report, stage
            )
            stream = self._follow(plan, report, (number - 1) / total, 1 / total)
            assert isinstance(stream, Stream)
            by_range = {s.hash_range: s.shard_id for s in stream.open_shards}
            labels.update(_created_ids(step.creates, step.created_labels, by_range))
            stage.steps_done += 1
            self._record(
                change_id, "progress", plan,
                details={"step": number, "of": total, "done": step.describe()},
            )  # fmt: skip
        if stream is None:
            stream = self._read(plan)
        return stream

    # --- planned events (capcon event) -----------------------------------------------------

    def apply_event(
        self,
        plan: EventPlan,
        *,
        progress: Callable[[Progress], None] | None = None,
        schedules: StateStore | None = None,
    ) -> ApplyResult:
        """Schedule the event ``plan`` describes, as planned: the scalable targets registered
        for it (a table without auto scaling), then its scheduled actions (raise and
        restore), then the pre-warming (an on-demand table); for a stream, its
        :class:`~capcon.core.planning.schedules.StreamSchedule` saved in ``schedules`` (the
        state store the engine that executes it reads).

        Audited as :meth:`apply` is: refused in a read-only session or without a usable audit
        trail before anything is read; then the resource and the scaled part's auto scaling
        are read again, the intent is forced to disk, and the plan is refused when that state
        moved since the preview (:func:`~capcon.core.planning.events.event_fingerprint`) or
        when its first action's time has passed; the calls are sent once each, the actions
        read back, and the outcome recorded: applied, refused, failed (nothing was taken),
        partial (some calls were), unknown (an answer lost, or the read-back failed);
        interruptions are recorded and raised again."""
        if self._read_only:
            return self._refuse_read_only()
        if (unaudited := self._check_audit()) is not None:
            return unaudited
        if plan.kind == "stream" and plan.reshards and schedules is None:
            return ApplyResult(
                "", "refused", None, None,
                "a stream event is executed by capcon's engine from a state store, and none "
                "was given: nothing was sent",
            )  # fmt: skip
        report = progress or (lambda _p: None)
        change_id = new_change_id()
        subject = _Subject(plan.request.resource, "event", event_summary(plan))
        details = {"event": _event_json(plan)}
        try:
            lock = self.locks.acquire(plan.kind, plan.request.resource, change_id)
        except ResourceBusy as busy:
            return self._refuse_subject(change_id, subject, details, str(busy))
        with lock:
            return self._apply_event_locked(plan, subject, change_id, report, schedules)

    def _closed_before_sending(
        self,
        change_id: str,
        subject: _Subject,
        details: dict[str, Any],
        outcome: Literal["refused", "failed"],
        message: str,
    ) -> ApplyResult:
        """An intent and its outcome, nothing sent (the audit trail of a change that ended
        before its first call)."""
        try:
            self._record(change_id, "intent", subject, details=details)
            self._record(change_id, "outcome", subject, outcome=outcome, error=message)
        except AuditError as audit_error:
            return self._refuse_unaudited(audit_error, None)
        return ApplyResult(change_id, outcome, None, None, message)

    def _refuse_subject(
        self, change_id: str, subject: _Subject, details: dict[str, Any], reason: str
    ) -> ApplyResult:
        """An intent and a ``refused`` outcome (a busy resource)."""
        return self._closed_before_sending(change_id, subject, details, "refused", reason)

    def _unreadable(
        self, change_id: str, subject: _Subject, details: dict[str, Any], error: CapconError
    ) -> ApplyResult:
        """The resource could not be read before the change: an intent and ``failed``."""
        message = f"{subject.resource} could not be read again before applying: {error}"
        return self._closed_before_sending(change_id, subject, details, "failed", message)

    def _apply_event_locked(
        self,
        plan: EventPlan,
        subject: _Subject,
        change_id: str,
        report: Callable[[Progress], None],
        schedules: StateStore | None,
    ) -> ApplyResult:
        request = plan.request
        try:
            state = read_event_state(self.backend, request.resource, request.index, plan.kind)
        except CapconError as error:
            return self._unreadable(change_id, subject, {"event": _event_json(plan)}, error)
        now = self.backend.now()
        intent = {
            "before": state.to_json(),
            "details": {
                "on": plan.kind,
                "event": _event_json(plan),
                "warnings": [w.message for w in plan.warnings],
                "expect": _event_expect(plan),
            },
        }
        stage = _Stage()
        try:
            try:
                self._record(change_id, "intent", subject, **intent)
            except AuditError as error:
                return self._refuse_unaudited(error, state.resource)
            stage.recorded = True
            refusal = _event_refusal(plan, state, now)
            if refusal is not None:
                notes = self._write_outcome(change_id, subject, outcome="refused", error=refusal)
                return ApplyResult(change_id, "refused", state.resource, None, refusal, notes=notes)
            calls = self._event_calls(plan, schedules, now)
            try:
                stage.run(calls, report)
                after, missing = self._event_read_back(plan, schedules, report)
            except CapconError as error:
                return self._event_failure(change_id, subject, plan, state, stage, error)
        except (KeyboardInterrupt, Interrupted) as interrupt:
            if stage.recorded:
                self._close_interrupted(change_id, subject, state.resource, stage, interrupt)
            raise
        outcome: Outcome = "unknown" if missing else "applied"
        error_text = (
            f"every call was answered, but reading back did not find {', '.join(missing)}: "
            f"`capcon event ls` shows what is in place; `capcon event cancel {plan.event_id}` "
            "removes it"
            if missing
            else None
        )
        notes = self._write_outcome(
            change_id, subject, outcome=outcome, error=error_text,
            after={"resource": resource_state(after), "missing": missing},
            details={"steps": [stage.steps_done, stage.steps_total]},
        )  # fmt: skip
        report(Progress(f"{subject.summary}: scheduled", 1.0, after.status))
        return ApplyResult(
            change_id, outcome, state.resource, after, error_text,
            stage.steps_done, stage.steps_total, notes,
        )  # fmt: skip

    def _event_calls(
        self, plan: EventPlan, schedules: StateStore | None, now: datetime
    ) -> list[tuple[str, float, Callable[[], object]]]:
        """The calls an event makes, in order, each with its progress message: targets
        registered, scheduled actions put, pre-warming sent, a stream's schedule saved."""
        calls: list[tuple[str, float, Callable[[], object]]] = []
        request = plan.request
        for target in plan.registers:
            calls.append(
                (f"registering a scheduled-only target for {target.resource_id} "
                 f"{dimension_word(target.dimension)} (min {target.min_capacity:,}, "
                 f"max {target.max_capacity:,})", 0.1,
                 partial(self.backend.register_scalable_target, target))
            )  # fmt: skip
        for action in plan.actions:
            calls.append(
                (f"putting scheduled action {action.name} ({action.schedule}: "
                 f"{_bounds(action)})", 0.3,
                 partial(self.backend.put_scheduled_action, action))
            )  # fmt: skip
        if plan.warm is not None:
            change = (
                TableChange(index_warm=((request.index, plan.warm),))
                if request.index
                else TableChange(warm=plan.warm)
            )
            calls.append(
                (f"pre-warming {plan.label} to {plan.warm.read_units_per_second:,} reads and "
                 f"{plan.warm.write_units_per_second:,} writes a second", 0.6,
                 partial(self.backend.update_table, request.resource, change))
            )  # fmt: skip
        if plan.kind == "stream" and plan.reshards and schedules is not None:
            from capcon.core.planning.schedules import StreamSchedule
            from capcon.core.services.schedules import save_schedule

            schedule = StreamSchedule(
                event_id=plan.event_id,
                stream=request.resource,
                start=request.start,
                end=request.end,
                steps=plan.reshards,
                created=now,
            )
            calls.append(
                (f"saving the stream schedule of event {plan.event_id} "
                 f"({len(plan.reshards)} reshards)", 0.5,
                 partial(save_schedule, schedules, schedule))
            )  # fmt: skip
        return calls

    def _event_read_back(
        self,
        plan: EventPlan,
        schedules: StateStore | None,
        report: Callable[[Progress], None],
    ) -> tuple[Table | Stream, list[str]]:
        """The resource after the calls (followed to ``ACTIVE`` after a pre-warm) and what
        the plan put that cannot be found: scheduled actions by name, a stream schedule."""
        request = plan.request
        missing: list[str] = []
        for rid in sorted({a.resource_id for a in plan.actions}):
            found = {
                (a.name, a.dimension, a.schedule, a.min_capacity, a.max_capacity)
                for a in self.backend.describe_scheduled_actions(rid)
            }
            missing += [
                a.name
                for a in plan.actions
                if a.resource_id == rid
                and (a.name, a.dimension, a.schedule, a.min_capacity, a.max_capacity) not in found
            ]
        if plan.kind == "stream" and plan.reshards and schedules is not None:
            from capcon.core.services.schedules import load_schedules

            if not any(s.event_id == plan.event_id for s in load_schedules(schedules)):
                missing.append(f"the stream schedule of event {plan.event_id}")
            return self.backend.describe_stream(request.resource), missing
        if plan.kind == "stream":
            return self.backend.describe_stream(request.resource), missing
        if plan.warm is not None:
            return self._follow_table(request.resource, report), missing
        return self.backend.describe_table(request.resource), missing

    def _event_failure(
        self,
        change_id: str,
        subject: _Subject,
        plan: EventPlan,
        state: EventState,
        stage: _Stage,
        error: CapconError,
    ) -> ApplyResult:
        """The outcome of an event whose calls raised: failed (nothing taken), partial (some
        calls were), unknown (the last call's answer was lost, or every call was answered
        and reading back failed)."""
        message = _in_words(error, subject)
        outcome = _calls_outcome(stage, error)
        if outcome != "failed":
            message += (
                f" ({stage.steps_done} of {stage.steps_total} calls answered; what is in place "
                f"is not confirmed: `capcon event ls` shows it, `capcon event cancel "
                f"{plan.event_id}` removes it)"
            )
        notes = self._write_outcome(
            change_id, subject, outcome=outcome, error=message,
            details={"steps": [stage.steps_done, stage.steps_total]},
        )  # fmt: skip
        return ApplyResult(
            change_id, outcome, state.resource, None, message,
            stage.steps_done, stage.steps_total, notes,
        )  # fmt: skip

    def cancel_event(
        self,
        record: EventRecord,
        *,
        progress: Callable[[Progress], None] | None = None,
        schedules: StateStore | None = None,
    ) -> ApplyResult:
        """Cancel a capcon event (:class:`~capcon.core.planning.schedules.EventRecord` from
        :func:`~capcon.core.planning.schedules.list_events`), audited as :meth:`apply_event`.

        A table's event is read again from Application Auto Scaling (its actions by name).
        Not started (or over): its scheduled actions are deleted, and a target capcon
        registered for it is deregistered when nothing else uses it (no scaling policy, no
        other scheduled action on it; capcon's scheduled-only restore sets min = max).
        Running (the raise has run, the restore not yet): deleting the restore would leave
        the capacity raised for good, so the event is *ended now* instead: the restore is
        put again for the next whole minute and the raise deleted; the target stays until
        the restore has run (cancel again then to remove it).  A stream's event: its
        schedule is cancelled in ``schedules``
        (:func:`~capcon.core.services.schedules.cancel_schedule`; the engine skips it)."""
        if self._read_only:
            return self._refuse_read_only()
        if (unaudited := self._check_audit()) is not None:
            return unaudited
        if record.kind == "stream" and schedules is None:
            return ApplyResult(
                "", "refused", None, None,
                "a stream event lives in a state store, and none was given: nothing was sent",
            )  # fmt: skip
        report = progress or (lambda _p: None)
        change_id = new_change_id()
        subject = _Subject(
            record.resource, "event", f"cancel event {record.event_id} on {_record_label(record)}"
        )
        details = {"event_id": record.event_id, "cancel": True}
        try:
            lock = self.locks.acquire(record.kind, record.resource, change_id)
        except ResourceBusy as busy:
            return self._refuse_subject(change_id, subject, details, str(busy))
        with lock:
            if record.kind == "stream":
                assert schedules is not None
                return self._cancel_stream_locked(record, subject, change_id, report, schedules)
            return self._cancel_table_locked(record, subject, change_id, report)

    def _cancel_table_locked(
        self,
        record: EventRecord,
        subject: _Subject,
        change_id: str,
        report: Callable[[Progress], None],
    ) -> ApplyResult:
        rids = sorted({a.resource_id for a in record.actions} or {_record_rid(record)})
        try:
            mine: list[ScheduledAction] = []
            others: list[ScheduledAction] = []
            for rid in rids:
                for action in self.backend.describe_scheduled_actions(rid):
                    parsed = parse_action_name(action.name)
                    if parsed is not None and parsed[0] == record.event_id:
                        mine.append(action)
                    else:
                        others.append(action)
            targets = [t for t in self.backend.describe_scalable_targets() if t.resource_id in rids]
            policies = [
                p for p in self.backend.describe_scaling_policies() if p.resource_id in rids
            ]
        except CapconError as error:
            return self._unreadable(change_id, subject, {"event_id": record.event_id}, error)
        now = self.backend.now()
        running = _running(mine, now)
        calls: list[tuple[str, float, Callable[[], object]]] = []
        expect: dict[str, Any]
        if running:
            end_now = _next_minute(now)
            restores = [a for a in mine if _phase(a) == "restore"]
            for action in mine:
                if _phase(action) != "restore":
                    calls.append(
                        (f"deleting {action.name} (it has run)", 0.2,
                         partial(self.backend.delete_scheduled_action, action.name,
                                 action.resource_id, action.dimension))
                    )  # fmt: skip
            moved = [replace(a, schedule=at_schedule(end_now), created=None) for a in restores]
            for action in moved:
                calls.append(
                    (f"bringing {action.name} forward to {action.schedule} ({_bounds(action)})",
                     0.5, partial(self.backend.put_scheduled_action, action))
                )  # fmt: skip
            expect = {
                "event_id": record.event_id,
                "resource_ids": rids,
                "present": [[a.name, a.schedule] for a in moved],
                "absent": [a.name for a in mine if _phase(a) != "restore"],
            }
            ending = f"the event was running: it ends at {end_now:%Y-%m-%d %H:%M} UTC"
        else:
            for action in mine:
                calls.append(
                    (f"deleting {action.name}", 0.3,
                     partial(self.backend.delete_scheduled_action, action.name,
                             action.resource_id, action.dimension))
                )  # fmt: skip
            unused = _unused_targets(mine, others, targets, policies)
            for target in unused:
                calls.append(
                    (f"deregistering the scheduled-only target {target.resource_id} "
                     f"{dimension_word(target.dimension)} (nothing else uses it)", 0.7,
                     partial(self.backend.deregister_scalable_target, target.resource_id,
                             target.dimension))
                )  # fmt: skip
            expect = {
                "event_id": record.event_id,
                "resource_ids": rids,
                "present": [],
                "absent": [a.name for a in mine],
                "deregistered": [[t.resource_id, t.dimension] for t in unused],
            }
            ending = ""
        intent = {
            "before": {
                "scheduled": to_jsonable(mine),
                "targets": to_jsonable(targets),
                "policies": to_jsonable(policies),
            },
            "details": {
                "on": record.kind,
                "event_id": record.event_id,
                "cancel": True,
                "expect": expect,
            },
        }
        stage = _Stage()
        try:
            try:
                self._record(change_id, "intent", subject, **intent)
            except AuditError as error:
                return self._refuse_unaudited(error, None)
            stage.recorded = True
            if not mine:
                refusal = (
                    f"event {record.event_id} has no scheduled action left on "
                    f"{', '.join(rids)} (cancelled already, or removed by someone else): "
                    "nothing to cancel"
                )
                notes = self._write_outcome(change_id, subject, outcome="refused", error=refusal)
                return ApplyResult(change_id, "refused", None, None, refusal, notes=notes)
            try:
                stage.run(calls, report)
                left = [
                    (a.name, a.schedule)
                    for rid in rids
                    for a in self.backend.describe_scheduled_actions(rid)
                ]
            except CapconError as error:
                message = _in_words(error, subject)
                outcome = _calls_outcome(stage, error)
                if outcome != "failed":
                    message += (
                        f" ({stage.steps_done} of {stage.steps_total} calls answered: "
                        "`capcon event ls` shows what is left; cancelling again finishes it)"
                    )
                notes = self._write_outcome(
                    change_id, subject, outcome=outcome, error=message,
                    details={"steps": [stage.steps_done, stage.steps_total]},
                )  # fmt: skip
                return ApplyResult(
                    change_id, outcome, None, None, message,
                    stage.steps_done, stage.steps_total, notes,
                )  # fmt: skip
        except (KeyboardInterrupt, Interrupted) as interrupt:
            if stage.recorded:
                self._close_interrupted(change_id, subject, None, stage, interrupt)
            raise
        names = {name for name, _ in left}
        wrong = [n for n in expect["absent"] if n in names]
        wrong += [n for n, at in expect["present"] if (n, at) not in left]
        outcome = "unknown" if wrong else "applied"
        error_text = (
            f"every call was answered, but reading back found {', '.join(wrong)} not as "
            "asked: `capcon event ls` shows it"
            if wrong
            else None
        )
        notes = self._write_outcome(
            change_id, subject, outcome=outcome, error=error_text,
            after={"scheduled": [list(pair) for pair in left]},
            details={"steps": [stage.steps_done, stage.steps_total]},
        )  # fmt: skip
        report(Progress(f"event {record.event_id} cancelled", 1.0))
        notes = ((ending,) if ending else ()) + notes
        return ApplyResult(
            change_id, outcome, None, None, error_text,
            stage.steps_done, stage.steps_total, notes,
        )  # fmt: skip

    def _cancel_stream_locked(
        self,
        record: EventRecord,
        subject: _Subject,
        change_id: str,
        report: Callable[[Progress], None],
        schedules: StateStore,
    ) -> ApplyResult:
        from capcon.core.services.schedules import cancel_schedule, load_schedules

        now = self.backend.now()
        stage = _Stage()
        try:
            try:
                self._record(
                    change_id, "intent", subject,
                    before={"schedule": to_jsonable(record.schedule)},
                    details={"on": "stream", "event_id": record.event_id, "cancel": True,
                             "expect": {"event_id": record.event_id, "cancelled": True}},
                )  # fmt: skip
            except AuditError as error:
                return self._refuse_unaudited(error, None)
            stage.recorded = True
            try:
                report(Progress(f"cancelling the stream schedule of event {record.event_id}", 0.3))
                stage.sent_word = "maybe"
                cancel_schedule(schedules, record.event_id, now)
                stage.sent_word = "yes"
                stage.steps_done = 1
                kept = [s for s in load_schedules(schedules) if s.event_id == record.event_id]
            except (CapconError, ValueError, KeyError) as error:
                text = (
                    str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
                )
                outcome: Outcome = "unknown" if stage.steps_done else "failed"
                notes = self._write_outcome(change_id, subject, outcome=outcome, error=text)
                return ApplyResult(change_id, outcome, None, None, text, notes=notes)
        except (KeyboardInterrupt, Interrupted) as interrupt:
            if stage.recorded:
                self._close_interrupted(change_id, subject, None, stage, interrupt)
            raise
        still = [s for s in kept if not s.cancelled]
        outcome = "unknown" if still else "applied"
        error_text = (
            "the schedule was cancelled but still reads as active: `capcon event ls` shows it"
            if still
            else None
        )
        notes = self._write_outcome(
            change_id, subject, outcome=outcome, error=error_text,
            after={"schedule": to_jsonable(kept[0]) if kept else None},
        )  # fmt: skip
        report(Progress(f"event {record.event_id} cancelled", 1.0))
        if record.status == "running":
            notes = (
                "the event was running: the reshards already sent stay (the stream keeps "
                "those shards) and its policy takes over from here",
                *notes,
            )
        return ApplyResult(change_id, outcome, None, None, error_text, 1, 1, notes)


class OutcomeUnknown(CapconError):
    """A change was (or may have been) sent and its result could not be confirmed."""


@dataclass(slots=True)
class _Stage:
    """How far an apply got, for its outcome: was the request sent, how many steps done."""

    recorded: bool = False
    sent_word: Literal["no", "maybe", "yes"] = "no"
    accepted: bool = False  # taken by AWS, not followed to ACTIVE (``follow=False``)
    steps_done: int = 0
    steps_total: int = 1

    @property
    def sent(self) -> bool:
        """Whether the current request was (or may have been) received by the service."""
        return self.sent_word != "no"

    @sent.setter
    def sent(self, value: bool) -> None:
        self.sent_word = "yes" if value else "no"

    def run(
        self,
        calls: Sequence[tuple[str, float, Callable[[], object]]],
        report: Callable[[Progress], None],
    ) -> None:
        """Send each call once, in order, reporting its progress and counting what was
        answered (``sent_word`` "maybe" while one is in flight: its outcome then is unknown)."""
        self.steps_total = len(calls)
        for message, fraction, call in calls:
            report(Progress(message, fraction))
            self.sent_word = "maybe"
            call()
            self.sent_word = "yes"
            self.steps_done += 1


def _in_words(error: CapconError, plan: ScalePlan | AutoScalingPlan | _Subject) -> str:
    """A failure's message; a busy resource (``ResourceInUseException``) said in words."""
    if isinstance(error, ResourceInUse):
        return (
            f"{plan.resource} is being changed by someone else right now (AWS answered "
            f"ResourceInUseException: it is not ACTIVE): nothing was changed; wait until it is "
            f"ACTIVE and preview again — {error}"
        )
    return str(error)


def _expected(plan: ScalePlan, current: Table | Stream) -> dict[str, Any]:
    """What the resource looks like once ``plan`` is applied, in :func:`_state`'s keys (only
    the keys the change sets), for reconciling an intent left open."""
    change = plan.change
    if isinstance(change, TableChange):
        expect: dict[str, Any] = {}
        if change.billing_mode is not None:
            expect["mode"] = change.billing_mode.value
        if change.table is not None:
            expect["capacity"] = to_jsonable(change.table)
        if change.indexes:
            expect["indexes"] = {name: to_jsonable(t) for name, t in change.indexes}
        if change.warm is not None:
            expect["warm"] = _warm_state(change.warm)
        if change.index_warm:
            expect["index_warm"] = {name: _warm_state(w) for name, w in change.index_warm}
        if change.on_demand_max is not None:
            expect["on_demand_max"] = to_jsonable(_limit(change.on_demand_max))
        if change.index_on_demand_max:
            expect["index_on_demand_max"] = {
                name: to_jsonable(_limit(t)) for name, t in change.index_on_demand_max
            }
        if change.table_class is not None:
            expect["table_class"] = change.table_class.value
        return expect
    if isinstance(change, ShardChange):
        return {"open_shards": change.target}
    return {}


def _created_ids(
    ranges: tuple[HashRange, ...], labels: tuple[str, ...], by_range: dict[HashRange, str]
) -> dict[str, str]:
    found: dict[str, str] = {}
    for rng, label in zip(ranges, labels, strict=True):
        if rng not in by_range:
            raise BackendError(
                f"after the step, no open shard covers {rng.start}…{rng.end}: the stream was "
                "changed by someone else; preview the reshard again"
            )
        found[label] = by_range[rng]
    return found


def resource_state(resource: Table | Stream | None) -> Any:
    """A compact JSON summary of a resource for the audit log."""
    if resource is None:
        return None
    if isinstance(resource, Table):
        return {
            "status": resource.status,
            "mode": resource.billing_mode.value,
            "capacity": to_jsonable(resource.provisioned),
            "indexes": {i.name: to_jsonable(i.provisioned) for i in resource.indexes},
            "warm": _warm_state(resource.warm),
            "index_warm": {i.name: _warm_state(i.warm) for i in resource.indexes},
            "on_demand_max": to_jsonable(_limit(resource.on_demand_max)),
            "index_on_demand_max": {
                i.name: to_jsonable(_limit(i.on_demand_max)) for i in resource.indexes
            },
            "table_class": resource.table_class.value,
        }
    return {
        "status": resource.status,
        "mode": resource.mode.value,
        "open_shards": resource.open_shard_count,
    }


def _index_busy(index: Index) -> bool:
    """A GSI still changing; one CREATING whose backfill has begun takes updates and may stay
    so for hours, so it is not waited for (docs/aws-rules.md#gsi-states)."""
    return (
        index.status != "ACTIVE" and busy_message("", index.status, index.backfilling) is not None
    )


def _warm_state(warm: WarmThroughput | None) -> dict[str, int] | None:
    """Warm throughput in the audit's words: read and write units per second."""
    if warm is None:
        return None
    return {"read": warm.read_units_per_second, "write": warm.write_units_per_second}


def _limit(limit: Throughput | None) -> Throughput | None:
    """An on-demand maximum as the model reports it: none in both dimensions is ``None``."""
    return None if limit is None or limit == Throughput(0, 0) else limit


def _extras(resource: Table | Stream) -> tuple[object, ...]:
    """What a pre-warm or an on-demand maximum changes, which the plan's fingerprint leaves
    out: after a lost answer, a change here means the request arrived."""
    if not isinstance(resource, Table):
        return ()
    return (
        _warm_state(resource.warm),
        _limit(resource.on_demand_max),
        tuple((i.name, _warm_state(i.warm), _limit(i.on_demand_max)) for i in resource.indexes),
    )


# --------------------------------------------------------------------------------------------
# Planned events
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Subject:
    """What an audit record names when the change is not a :class:`ScalePlan` (an event)."""

    resource: str
    kind: str
    summary: str


@dataclass(frozen=True, slots=True)
class EventState:
    """The state an event is planned on and checked against: the resource, and the auto
    scaling of the part it scales (the table, or GSI ``index``): targets, policies and
    scheduled actions (empty for a stream)."""

    resource: Table | Stream
    index: str | None = None
    targets: tuple[ScalableTarget, ...] = ()
    policies: tuple[ScalingPolicy, ...] = ()
    scheduled: tuple[ScheduledAction, ...] = ()

    @property
    def fingerprint(self) -> str:
        """:func:`~capcon.core.planning.events.event_fingerprint` of this state."""
        return event_fingerprint(
            self.resource, self.index, self.targets, self.policies, self.scheduled
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "resource": resource_state(self.resource),
            "targets": to_jsonable(self.targets),
            "policies": to_jsonable(self.policies),
            "scheduled": to_jsonable(self.scheduled),
        }


def read_event_state(
    backend: Backend, name: str, index: str | None, kind: Literal["table", "stream"]
) -> EventState:
    """Read what an event on ``name`` (GSI ``index``) is planned on: the front ends read it
    to plan (:func:`~capcon.core.planning.events.plan_event` takes its parts) and
    :meth:`Scaler.apply_event` reads it again for the stale check."""
    if kind == "stream":
        return EventState(backend.describe_stream(name))
    table = backend.describe_table(name)
    rid = resource_id(name, index)
    return EventState(
        table,
        index,
        tuple(t for t in backend.describe_scalable_targets() if t.resource_id == rid),
        tuple(p for p in backend.describe_scaling_policies() if p.resource_id == rid),
        tuple(a for a in backend.describe_scheduled_actions(rid) if a.resource_id == rid),
    )


def event_summary(plan: EventPlan) -> str:
    """One line naming an event, for the audit log and the front ends."""
    return f"event {plan.event_id}: {plan.label}"


def _event_json(plan: EventPlan) -> dict[str, Any]:
    """What the audit log keeps of an event plan: the request and every call it makes."""
    return {
        "event_id": plan.event_id,
        "how": plan.how,
        "request": to_jsonable(plan.request),
        "before": dict(plan.before),
        "peak": dict(plan.peak),
        "after": dict(plan.after),
        "send_at": to_jsonable(plan.send_at),
        "return_at": to_jsonable(plan.return_at),
        "registers": to_jsonable(plan.registers),
        "actions": to_jsonable(plan.actions),
        "warm": _warm_state(plan.warm),
        "reshards": to_jsonable(plan.reshards),
        "price_book": plan.price_book,
    }


def _event_expect(plan: EventPlan) -> dict[str, Any]:
    """What an applied event leaves, for reconciling an intent left open."""
    expect: dict[str, Any] = {
        "event_id": plan.event_id,
        "resource_ids": sorted({a.resource_id for a in plan.actions}),
        "present": [[a.name, a.schedule] for a in plan.actions],
        "absent": [],
    }
    if plan.warm is not None:
        key = "index_warm" if plan.request.index else "warm"
        warm = _warm_state(plan.warm)
        expect["table"] = {key: {plan.request.index: warm} if plan.request.index else warm}
    if plan.reshards:
        expect["schedule"] = plan.event_id
    return expect


def _event_refusal(plan: EventPlan, state: EventState, now: datetime) -> str | None:
    """Why an event plan may not be applied now, or ``None``: its state moved since the
    preview, or the time of one of its changes has passed (an ``at(...)`` action in the past
    would not run when planned; a stream's first reshard more than a minute late would not be
    ready at the start)."""
    if state.fingerprint != plan.fingerprint:
        return (
            f"{plan.request.resource} changed since the preview of event {plan.event_id} "
            f"({_moved(plan, state)}): preview the event again"
        )
    late = [a.name for a in plan.actions if a.at is not None and a.at <= now]
    late += [
        f"the reshard to {s.shards} shards"
        for s in plan.reshards
        if s.phase == "raise" and s.at + STREAM_STEP_GRACE < now
    ]
    if late:
        return (
            f"the preview of event {plan.event_id} is out of date: {late[0]} was due at "
            f"{plan.send_at:%Y-%m-%d %H:%M:%S} UTC and it is now {now:%H:%M:%S} UTC, so the "
            "raise would come late: preview the event again"
        )
    return None


def _moved(plan: EventPlan, state: EventState) -> str:
    """What moved since an event's preview, in words, as far as the plan tells."""
    now = _capacities(state)
    changed = [
        f"{key} {plan.before[key]:,} → {now[key]:,}"
        for key in sorted(plan.before)
        if key in now and now[key] != plan.before[key]
    ]
    if state.resource.status != "ACTIVE":
        changed.append(f"status {state.resource.status}")
    return "; ".join(changed) or "its auto scaling targets, policies or scheduled actions"


def _capacities(state: EventState) -> dict[str, int]:
    """The capacity of the part an event scales, in :attr:`EventPlan.before`'s keys."""
    resource = state.resource
    if isinstance(resource, Stream):
        return {"shards": resource.open_shard_count}
    capacity = resource.index(state.index).provisioned if state.index else resource.provisioned
    return {} if capacity is None else {"read": capacity.read, "write": capacity.write}


def _bounds(action: ScheduledAction) -> str:
    def word(value: int | None) -> str:
        return "unchanged" if value is None else f"{value:,}"

    return f"min {word(action.min_capacity)}, max {word(action.max_capacity)}"


def _phase(action: ScheduledAction) -> str | None:
    parsed = parse_action_name(action.name)
    return parsed[1] if parsed is not None else None


def _running(actions: list[ScheduledAction], now: datetime) -> bool:
    """An event is running when one of its raise actions has come and one of its restore
    actions has not."""
    raised = any(_phase(a) == "raise" and a.at is not None and a.at <= now for a in actions)
    pending = any(_phase(a) == "restore" and a.at is not None and a.at > now for a in actions)
    return raised and pending


def _next_minute(now: datetime) -> datetime:
    """The first whole minute at least a minute after ``now`` (AAS runs an ``at(...)``
    action within its minute)."""
    moment = now.replace(second=0, microsecond=0) + timedelta(minutes=2)
    return moment if moment - now >= timedelta(minutes=1) else moment + timedelta(minutes=1)


def _unused_targets(
    mine: list[ScheduledAction],
    others: list[ScheduledAction],
    targets: list[ScalableTarget],
    policies: list[ScalingPolicy],
) -> list[ScalableTarget]:
    """The targets capcon registered for an event (its restore sets min = max: a
    scheduled-only target) that nothing else uses once the event's actions are gone: no
    scaling policy and no other scheduled action on the same resource and dimension."""
    found: list[ScalableTarget] = []
    for target in targets:
        key = (target.resource_id, target.dimension)
        restores = [
            a for a in mine if (a.resource_id, a.dimension) == key and _phase(a) == "restore"
        ]
        if not restores or any(a.min_capacity != a.max_capacity for a in restores):
            continue
        if any((p.resource_id, p.dimension) == key for p in policies):
            continue
        if any((a.resource_id, a.dimension) == key for a in others):
            continue
        found.append(target)
    return found


def _calls_outcome(stage: _Stage, error: CapconError) -> Outcome:
    """How a run of calls sent once each ended when one raised: ``unknown`` when every
    call was answered (the read-back failed) or the last one's answer was lost, ``partial``
    when some were taken, ``failed`` when none was."""
    if stage.steps_done == stage.steps_total or (
        isinstance(error, BackendError) and error.maybe_sent
    ):
        return "unknown"
    return "partial" if stage.steps_done else "failed"


def _record_rid(record: EventRecord) -> str:
    return resource_id(record.resource, record.index)


def _record_label(record: EventRecord) -> str:
    return f"{record.resource}/{record.index}" if record.index else record.resource
