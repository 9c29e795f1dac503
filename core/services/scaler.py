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
5. the resource is followed from ``UPDATING`` to ``ACTIVE`` with progress callbacks;
6. an *outcome* record is written: applied, refused, or failed with the error.

The same scaler serves both backends; ``wait(seconds)`` is how it lets time pass (a real
sleep against AWS, advancing the clock of the simulated account).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from capcon.core.errors import BackendError, CapconError
from capcon.core.jsonable import to_jsonable
from capcon.core.model import HashRange, Stream, Table
from capcon.core.planning.autoscaling import (
    AutoScalingPlan,
    policy_for,
    state_fingerprint,
    target_for,
)
from capcon.core.planning.planner import ScalePlan, fingerprint
from capcon.core.planning.requests import ShardChange
from capcon.core.planning.reshard import ReshardPlan
from capcon.core.ports import Backend, TableChange
from capcon.core.services.audit import (
    AuditLog,
    AuditLogError,
    AuditRecord,
    Origin,
    new_change_id,
)

Outcome = Literal["applied", "refused", "failed"]

#: Why a read-only scaler refuses (the same words for every kind of change).
READ_ONLY_REFUSAL = (
    "read-only session: capcon changes nothing in it and sent nothing (read-only comes from "
    "--read-only or read_only = true in config.toml)"
)


def audit_refusal(error: AuditLogError) -> str:
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
        audit: AuditLog,
        origin: Origin,
        *,
        wait: Callable[[float], None],
        read_only: bool = False,
        poll_seconds: float = 5.0,
        timeout_seconds: float = 1_800.0,
    ) -> None:
        self.backend = backend
        self.audit = audit
        self.origin = origin
        self.wait = wait
        self._read_only = read_only
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds

    @property
    def read_only(self) -> bool:
        """Whether this scaler refuses every change (set when it is made, never after)."""
        return self._read_only

    @staticmethod
    def _refuse_read_only() -> ApplyResult:
        return ApplyResult("", "refused", None, None, READ_ONLY_REFUSAL)

    @staticmethod
    def _refuse_unaudited(error: AuditLogError, before: Table | Stream | None) -> ApplyResult:
        return ApplyResult("", "refused", before, None, audit_refusal(error))

    def _check_audit(self) -> ApplyResult | None:
        """A refusal when the audit log cannot be opened for append, else ``None``."""
        try:
            self.audit.check_writable()
        except AuditLogError as error:
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
        plan: ScalePlan | AutoScalingPlan,
        **values: Any,
    ) -> None:
        self.audit.write(
            AuditRecord(
                change_id=change_id,
                phase=phase,
                at=self.backend.now(),
                origin=self.origin,
                resource=plan.resource,
                kind=plan.kind,
                summary=plan.summary,
                **values,
            )
        )

    def apply(
        self,
        plan: ScalePlan,
        *,
        progress: Callable[[Progress], None] | None = None,
        previous: Table | Stream | None = None,
    ) -> ApplyResult:
        """Carry out ``plan`` or refuse; leaves an intent and an outcome record (except a
        read-only refusal, which happens before anything is read, sent or written).

        Refusals and failures are returned (``outcome`` and ``error``), not raised, so every
        caller handles them the same way.  ``previous`` is the state the plan was made from,
        when the caller has it, to show what changed.
        """
        if self._read_only:
            return self._refuse_read_only()
        if (unaudited := self._check_audit()) is not None:
            return unaudited
        report = progress or (lambda _p: None)
        change_id = new_change_id()
        try:
            current = self._read(plan)
        except CapconError as error:
            # the resource cannot even be read (deleted, access denied, endpoint down)
            message = f"{plan.resource} could not be read again before applying: {error}"
            try:
                self._record(change_id, "intent", plan, details={"plan": to_jsonable(plan.change)})
            except AuditLogError as audit_error:
                return self._refuse_unaudited(audit_error, None)
            self._record(change_id, "outcome", plan, outcome="failed", error=message)
            return ApplyResult(change_id, "failed", None, None, message)
        intent = {
            "before": _state(current),
            "details": {
                "plan": to_jsonable(plan.change),
                "warnings": [w.message for w in plan.warnings],
            },
        }
        try:
            self._record(change_id, "intent", plan, **intent)
        except AuditLogError as error:
            return self._refuse_unaudited(error, current)
        if fingerprint(current) != plan.fingerprint:
            what = describe_difference(previous, current) if previous else ["state changed"]
            refusal = (
                f"{plan.resource} changed since the preview ({'; '.join(what)}): "
                "preview the change again"
            )
            self._record(
                change_id, "outcome", plan, before=_state(current), outcome="refused", error=refusal
            )
            return ApplyResult(change_id, "refused", current, None, refusal)
        try:
            if isinstance(plan.change, TableChange):
                steps_done, steps_total = self._apply_table(plan, plan.change, report)
            elif isinstance(plan.change, ShardChange) and plan.change.strategy == "uniform":
                steps_done, steps_total = self._apply_uniform(plan, plan.change, report)
            else:
                steps_done, steps_total = self._apply_targeted(plan, change_id, report)
        except CapconError as error:
            after = self._safe_read(plan)
            message = str(error)
            self._record(
                change_id, "outcome", plan,
                before=_state(current), after=_state(after), outcome="failed", error=message,
            )  # fmt: skip
            return ApplyResult(change_id, "failed", current, after, message)
        after = self._read(plan)
        self._record(
            change_id,
            "outcome",
            plan,
            before=_state(current),
            after=_state(after),
            outcome="applied",
        )
        report(Progress(f"{plan.resource} is ACTIVE: change applied", 1.0, after.status))
        return ApplyResult(change_id, "applied", current, after, None, steps_done, steps_total)

    def apply_autoscaling(
        self,
        plan: AutoScalingPlan,
        *,
        progress: Callable[[Progress], None] | None = None,
    ) -> ApplyResult:
        """Register/deregister the target and put/delete its policy, as planned; audited."""
        if self._read_only:
            return self._refuse_read_only()
        if (unaudited := self._check_audit()) is not None:
            return unaudited
        report = progress or (lambda _p: None)
        change = plan.change
        change_id = new_change_id()
        table = self.backend.describe_table(plan.resource)
        targets, policies = self._aas_state(change.resource_id)
        warnings = [w.message for w in plan.warnings]
        intent = {
            "before": {
                "table": _state(table),
                "targets": to_jsonable(targets),
                "policies": to_jsonable(policies),
            },
            "details": {"change": to_jsonable(change), "warnings": warnings},
        }
        try:
            self._record(change_id, "intent", plan, **intent)
        except AuditLogError as error:
            return self._refuse_unaudited(error, table)
        if state_fingerprint(table, targets, policies) != plan.fingerprint:
            refusal = (
                f"{plan.resource} or its auto scaling changed since the preview: preview again"
            )
            self._record(change_id, "outcome", plan, outcome="refused", error=refusal)
            return ApplyResult(change_id, "refused", table, None, refusal)
        try:
            if change.enabled:
                report(Progress(f"registering {change.label}", 0.1))
                self.backend.register_scalable_target(target_for(plan))
                report(Progress(f"putting target-tracking policy {plan.policy_name}", 0.3))
                self.backend.put_scaling_policy(policy_for(plan))
            else:
                for policy in policies:
                    if policy.dimension == change.scalable_dimension:
                        self.backend.delete_scaling_policy(
                            policy.name, policy.resource_id, policy.dimension
                        )
                if any(t.dimension == change.scalable_dimension for t in targets):
                    self.backend.deregister_scalable_target(
                        change.resource_id, change.scalable_dimension
                    )
            after = self._follow_table(plan.resource, report)
        except CapconError as error:
            message = str(error)
            self._record(change_id, "outcome", plan, outcome="failed", error=message)
            return ApplyResult(change_id, "failed", table, None, message)
        targets_after, policies_after = self._aas_state(change.resource_id)
        self._record(
            change_id, "outcome", plan, outcome="applied",
            after={"table": _state(after), "targets": to_jsonable(targets_after),
                   "policies": to_jsonable(policies_after)},
        )  # fmt: skip
        report(Progress(f"auto scaling of {change.label} updated", 1.0, after.status))
        return ApplyResult(change_id, "applied", table, after)

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
            busy = table.status != "ACTIVE" or any(i.status != "ACTIVE" for i in table.indexes)
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
        """Poll until the resource (and every GSI) is ACTIVE again."""
        waited = 0.0
        while True:
            state = self._read(plan)
            busy = state.status != "ACTIVE" or (
                isinstance(state, Table) and any(i.status != "ACTIVE" for i in state.indexes)
            )
            if not busy:
                return state
            if waited >= self.timeout_seconds:
                raise ApplyTimeout(
                    f"{plan.resource} is still {state.status} after {waited:.0f} s; the change "
                    "may still complete: check it with capcon show"
                )
            fraction = base + span * min(0.9, waited / max(self.timeout_seconds / 20, 1.0))
            report(Progress(f"{plan.resource} is {state.status}…", fraction, state.status))
            self.wait(self.poll_seconds)
            waited += self.poll_seconds

    def _apply_table(
        self, plan: ScalePlan, change: TableChange, report: Callable[[Progress], None]
    ) -> tuple[int, int]:
        report(Progress(f"sending UpdateTable for {plan.resource}", 0.05))
        self.backend.update_table(plan.resource, change)
        self._follow(plan, report, 0.1, 0.9)
        return 1, 1

    def _apply_uniform(
        self, plan: ScalePlan, change: ShardChange, report: Callable[[Progress], None]
    ) -> tuple[int, int]:
        report(Progress(f"sending UpdateShardCount({change.target}) for {plan.resource}", 0.05))
        self.backend.update_shard_count(plan.resource, change.target)
        self._follow(plan, report, 0.1, 0.9)
        return 1, 1

    def _apply_targeted(
        self, plan: ScalePlan, change_id: str, report: Callable[[Progress], None]
    ) -> tuple[int, int]:
        """Split/merge one step at a time; steps already done (found by range) are skipped."""
        assert plan.stream is not None
        reshard: ReshardPlan = plan.stream.reshard
        total = len(reshard.steps)
        labels: dict[str, str] = {}
        done = 0
        for number, step in enumerate(reshard.steps, 1):
            stream = self._read(plan)
            assert isinstance(stream, Stream)
            by_range = {s.hash_range: s.shard_id for s in stream.open_shards}
            if all(r in by_range for r in step.creates):
                # already done (a resumed run): learn the ids and move on
                labels.update(
                    zip(step.created_labels, (by_range[r] for r in step.creates), strict=True)
                )
                done += 1
                continue
            ids = [labels.get(label, label) for label in step.closes]
            report(Progress(f"step {number}/{total}: {step.describe()}", (number - 1) / total))
            if step.kind == "split":
                assert step.new_starting_hash_key is not None
                self.backend.split_shard(plan.resource, ids[0], step.new_starting_hash_key)
            else:
                self.backend.merge_shards(plan.resource, ids[0], ids[1])
            stream = self._follow(plan, report, (number - 1) / total, 1 / total)
            assert isinstance(stream, Stream)
            by_range = {s.hash_range: s.shard_id for s in stream.open_shards}
            labels.update(_created_ids(step.creates, step.created_labels, by_range))
            done += 1
            self._record(
                change_id, "progress", plan,
                details={"step": number, "of": total, "done": step.describe()},
            )  # fmt: skip
        return done, total


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


def _state(resource: Table | Stream | None) -> Any:
    """A compact JSON summary of a resource for the audit log."""
    if resource is None:
        return None
    if isinstance(resource, Table):
        return {
            "status": resource.status,
            "mode": resource.billing_mode.value,
            "capacity": to_jsonable(resource.provisioned),
            "indexes": {i.name: to_jsonable(i.provisioned) for i in resource.indexes},
        }
    return {
        "status": resource.status,
        "mode": resource.mode.value,
        "open_shards": resource.open_shard_count,
    }
