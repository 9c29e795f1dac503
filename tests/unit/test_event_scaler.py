"""``Scaler.apply_event`` and ``Scaler.cancel_event`` on the simulated account, with event
plans built by hand (independent of the planner): what is sent, in which order, the audit
trail (intent forced before anything is sent, one outcome after), the stale and late checks,
read-only, failures part-way, interruptions, and cancelling before and during an event."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from capcon.core.backends.sim.account import SimAccount, TableSpec
from capcon.core.backends.sim.traffic import Steady
from capcon.core.errors import BackendError
from capcon.core.model import Throughput
from capcon.core.planning.events import EventPlan, EventRequest, event_fingerprint, event_id
from capcon.core.planning.schedules import EventRecord, action_name
from capcon.core.ports import (
    TABLE_WRITE,
    ScalableTarget,
    ScalingPolicy,
    ScheduledAction,
    at_schedule,
    resource_id,
)
from capcon.core.services.audit import AuditLog, Origin
from capcon.core.services.scaler import READ_ONLY_REFUSAL, Scaler, read_event_state

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
RID = resource_id("orders")


def account() -> SimAccount:
    acc = SimAccount(NOW)
    acc.add_table(TableSpec("orders", Throughput(50, 100), reads=Steady(5), writes=Steady(40)))
    return acc


def scaler(acc: Any, tmp_path: Path, *, read_only: bool = False) -> tuple[Scaler, AuditLog]:
    log = AuditLog(tmp_path / "audit.jsonl")
    made = Scaler(
        acc, log, Origin("test", "sim:test"), wait=lambda s: None, read_only=read_only,
        poll_seconds=0,
    )  # fmt: skip
    return made, log


def plan_for(
    acc: SimAccount,
    *,
    start: datetime,
    end: datetime,
    peak: int = 400,
    scheduled_only: bool = True,
) -> EventPlan:
    """An event raising orders' writes to ``peak`` from ``start`` to ``end``, as the planner
    would describe it: a scheduled-only target (no auto scaling) or AAS min/max raised."""
    table = acc.describe_table("orders")
    assert table.provisioned is not None
    current = table.provisioned.write
    state = read_event_state(acc, "orders", None, "table")
    ident = event_id("orders", None, start, end)
    send = start - timedelta(minutes=5)
    registers: tuple[ScalableTarget, ...] = ()
    if scheduled_only:
        registers = (ScalableTarget(RID, TABLE_WRITE, current, current),)
        raise_bounds, restore_bounds = (peak, peak), (current, current)
    else:
        target = state.targets[0]
        raise_bounds = (peak, max(target.max_capacity, peak))
        restore_bounds = (target.min_capacity, target.max_capacity)
    actions = (
        ScheduledAction(action_name(ident, "raise", "write"), RID, TABLE_WRITE,
                        at_schedule(send), *raise_bounds),
        ScheduledAction(action_name(ident, "restore", "write"), RID, TABLE_WRITE,
                        at_schedule(end), *restore_bounds),
    )  # fmt: skip
    return EventPlan(
        event_id=ident,
        request=EventRequest("orders", start, end, write=peak),
        kind="table",
        label="orders",
        made_at=acc.now(),
        fingerprint=state.fingerprint,
        how="aas-scheduled-target" if scheduled_only else "aas-scheduled",
        before={"write": current},
        peak={"write": peak},
        after={"write": current},
        timeline=(),
        send_at=send,
        return_at=end,
        registers=registers,
        actions=actions,
        warm=None,
        reshards=(),
        costs=(),
        partitions_before=1,
        partitions_after=1,
        per_partition_after_return=None,
        return_allowed=True,
        return_note="",
        warnings=(),
        assumptions=(),
        price_book="test",
    )


def record_of(plan: EventPlan, status: str = "upcoming") -> EventRecord:
    return EventRecord(
        event_id=plan.event_id, resource="orders", index=None, kind="table", source="capcon",
        start=plan.send_at, end=plan.return_at, status=status,  # type: ignore[arg-type]
        peak=dict(plan.peak), summary="", actions=plan.actions,
    )  # fmt: skip


def records(log: AuditLog) -> list[dict[str, Any]]:
    return log.read()


def test_an_event_on_a_table_without_auto_scaling_registers_then_schedules_and_audits(
    tmp_path: Path,
) -> None:
    acc = account()
    plan = plan_for(acc, start=NOW + timedelta(hours=2), end=NOW + timedelta(hours=4))
    sent: list[str] = []
    real_register, real_put = acc.register_scalable_target, acc.put_scheduled_action
    made, log = scaler(acc, tmp_path)

    def register(target: ScalableTarget) -> None:
        assert [r["phase"] for r in records(log)] == ["intent"]  # on disk before the send
        sent.append("register")
        real_register(target)

    def put(action: ScheduledAction) -> None:
        sent.append(action.name.rsplit("-", 2)[1])
        real_put(action)

    acc.register_scalable_target = register  # type: ignore[method-assign]
    acc.put_scheduled_action = put  # type: ignore[method-assign]
    result = made.apply_event(plan)
    assert result.outcome == "applied", result.error
    assert sent == ["register", "raise", "restore"]
    assert acc.targets[(RID, TABLE_WRITE)] == ScalableTarget(RID, TABLE_WRITE, 100, 100)
    put_actions = {a.name: a for a in acc.describe_scheduled_actions(RID)}
    raise_, restore = plan.actions
    assert put_actions[raise_.name].at == NOW + timedelta(hours=2) - timedelta(minutes=5)
    assert (put_actions[raise_.name].min_capacity, put_actions[raise_.name].max_capacity) == (
        400,
        400,
    )
    assert put_actions[restore.name].at == NOW + timedelta(hours=4)
    assert (put_actions[restore.name].min_capacity, put_actions[restore.name].max_capacity) == (
        100,
        100,
    )
    logged = records(log)
    assert [r["phase"] for r in logged] == ["intent", "outcome"]
    assert logged[0]["kind"] == "event" and logged[0]["resource"] == "orders"
    assert logged[0]["details"]["expect"]["present"] == [[a.name, a.schedule] for a in plan.actions]
    assert logged[1]["outcome"] == "applied" and logged[1]["change_id"] == result.change_id


def test_a_plan_whose_state_moved_is_refused_and_nothing_is_sent(tmp_path: Path) -> None:
    acc = account()
    plan = plan_for(acc, start=NOW + timedelta(hours=2), end=NOW + timedelta(hours=4))
    # someone puts another scheduled action on the table after the preview
    acc.register_scalable_target(ScalableTarget(RID, TABLE_WRITE, 100, 100))
    made, log = scaler(acc, tmp_path)
    result = made.apply_event(plan)
    assert result.outcome == "refused"
    assert result.error is not None and "changed since the preview" in result.error
    assert acc.describe_scheduled_actions() == []
    assert [r.get("outcome") for r in records(log)] == [None, "refused"]


def test_a_plan_whose_first_change_is_due_already_is_refused(tmp_path: Path) -> None:
    acc = account()
    plan = plan_for(acc, start=NOW + timedelta(minutes=10), end=NOW + timedelta(hours=1))
    acc.advance(6 * 60)  # the raise was due at start - 5 min
    plan = replace(plan, fingerprint=read_event_state(acc, "orders", None, "table").fingerprint)
    made, _log = scaler(acc, tmp_path)
    result = made.apply_event(plan)
    assert result.outcome == "refused"
    assert result.error is not None and "out of date" in result.error
    assert acc.describe_scheduled_actions() == [] and acc.targets == {}


def test_a_read_only_scaler_refuses_an_event_before_reading_or_writing(tmp_path: Path) -> None:
    acc = account()
    plan = plan_for(acc, start=NOW + timedelta(hours=2), end=NOW + timedelta(hours=4))
    made, _log = scaler(acc, tmp_path, read_only=True)
    result = made.apply_event(plan)
    assert (result.outcome, result.error, result.change_id) == ("refused", READ_ONLY_REFUSAL, "")
    assert not (tmp_path / "audit.jsonl").exists()
    cancelled = made.cancel_event(record_of(plan))
    assert cancelled.outcome == "refused" and cancelled.error == READ_ONLY_REFUSAL


def test_a_call_refused_part_way_leaves_a_partial_outcome_naming_the_cancel(
    tmp_path: Path,
) -> None:
    acc = account()
    plan = plan_for(acc, start=NOW + timedelta(hours=2), end=NOW + timedelta(hours=4))
    real_put = acc.put_scheduled_action

    def put(action: ScheduledAction) -> None:
        if "restore" in action.name:
            raise BackendError("AccessDenied: not allowed")
        real_put(action)

    acc.put_scheduled_action = put  # type: ignore[method-assign]
    made, log = scaler(acc, tmp_path)
    result = made.apply_event(plan)
    assert result.outcome == "partial"
    assert (result.steps_done, result.steps_total) == (2, 3)
    assert result.error is not None and f"capcon event cancel {plan.event_id}" in result.error
    assert records(log)[-1]["outcome"] == "partial"


def test_nothing_taken_is_a_failure_and_a_lost_answer_is_unknown(tmp_path: Path) -> None:
    acc = account()
    plan = plan_for(acc, start=NOW + timedelta(hours=2), end=NOW + timedelta(hours=4))

    def refuse(target: ScalableTarget) -> None:
        raise BackendError("ValidationException: no")

    acc.register_scalable_target = refuse  # type: ignore[method-assign]
    made, _log = scaler(acc, tmp_path)
    assert made.apply_event(plan).outcome == "failed"

    def lost(target: ScalableTarget) -> None:
        error = BackendError("read timeout")
        error.maybe_sent = True
        raise error

    acc.register_scalable_target = lost  # type: ignore[method-assign]
    assert made.apply_event(plan).outcome == "unknown"


def test_an_interrupt_during_the_calls_is_recorded_and_raised_again(tmp_path: Path) -> None:
    acc = account()
    plan = plan_for(acc, start=NOW + timedelta(hours=2), end=NOW + timedelta(hours=4))

    def interrupt(action: ScheduledAction) -> None:
        raise KeyboardInterrupt

    acc.put_scheduled_action = interrupt  # type: ignore[method-assign]
    made, log = scaler(acc, tmp_path)
    with pytest.raises(KeyboardInterrupt):
        made.apply_event(plan)
    last = records(log)[-1]
    assert last["phase"] == "outcome" and last["outcome"] == "interrupted"
    assert last["details"]["sent"] == "maybe"


def test_cancelling_an_upcoming_event_deletes_its_actions_and_its_scheduled_only_target(
    tmp_path: Path,
) -> None:
    acc = account()
    plan = plan_for(acc, start=NOW + timedelta(hours=2), end=NOW + timedelta(hours=4))
    made, log = scaler(acc, tmp_path)
    assert made.apply_event(plan).outcome == "applied"
    result = made.cancel_event(record_of(plan))
    assert result.outcome == "applied", result.error
    assert acc.describe_scheduled_actions() == []
    assert acc.targets == {}  # the target registered for the event is gone
    assert records(log)[-1]["outcome"] == "applied"
    again = made.cancel_event(record_of(plan))
    assert again.outcome == "refused" and "nothing to cancel" in (again.error or "")


def test_cancelling_keeps_a_target_that_auto_scaling_uses(tmp_path: Path) -> None:
    acc = account()
    acc.register_scalable_target(ScalableTarget(RID, TABLE_WRITE, 50, 200))
    acc.put_scaling_policy(ScalingPolicy("orders-w", RID, TABLE_WRITE, target_value=70.0))
    plan = plan_for(
        acc, start=NOW + timedelta(hours=2), end=NOW + timedelta(hours=4), scheduled_only=False
    )
    assert (plan.actions[0].min_capacity, plan.actions[0].max_capacity) == (400, 400)
    assert (plan.actions[1].min_capacity, plan.actions[1].max_capacity) == (50, 200)
    made, _log = scaler(acc, tmp_path)
    assert made.apply_event(plan).outcome == "applied"
    assert made.cancel_event(record_of(plan)).outcome == "applied"
    assert acc.describe_scheduled_actions() == []
    assert acc.targets[(RID, TABLE_WRITE)] == ScalableTarget(RID, TABLE_WRITE, 50, 200)


def test_cancelling_a_running_event_brings_its_restore_forward(tmp_path: Path) -> None:
    acc = account()
    plan = plan_for(acc, start=NOW + timedelta(minutes=30), end=NOW + timedelta(hours=4))
    made, _log = scaler(acc, tmp_path)
    assert made.apply_event(plan).outcome == "applied"
    acc.advance(40 * 60)  # the raise (25 min) has come, the restore (4 h) has not
    result = made.cancel_event(record_of(plan, "running"))
    assert result.outcome == "applied", result.error
    left = acc.describe_scheduled_actions(RID)
    assert [a.name for a in left] == [plan.actions[1].name]
    restore = left[0]
    assert restore.at is not None
    assert acc.now() + timedelta(minutes=1) <= restore.at <= acc.now() + timedelta(minutes=3)
    assert (restore.min_capacity, restore.max_capacity) == (100, 100)
    assert (RID, TABLE_WRITE) in acc.targets  # needed until the restore has run
    assert any("ends at" in note for note in result.notes)


def test_the_fingerprint_ignores_other_parts_auto_scaling() -> None:
    acc = account()
    before = read_event_state(acc, "orders", None, "table")
    other = ScalableTarget(
        resource_id("orders", "by-day"), "dynamodb:index:ReadCapacityUnits", 1, 5
    )
    assert event_fingerprint(before.resource, None, (*before.targets, other)) == (
        event_fingerprint(before.resource, None, before.targets)
    )
    mine = ScalableTarget(RID, TABLE_WRITE, 1, 5)
    assert event_fingerprint(before.resource, None, (mine,)) != before.fingerprint


def test_an_event_left_open_is_reconciled_from_its_scheduled_actions(tmp_path: Path) -> None:
    from capcon.core.services.reconcile import Reconciler

    acc = account()
    plan = plan_for(acc, start=NOW + timedelta(hours=2), end=NOW + timedelta(hours=4))
    made, log = scaler(acc, tmp_path)
    assert made.apply_event(plan).outcome == "applied"
    path = tmp_path / "audit.jsonl"
    kept = [line for line in path.read_text().splitlines() if '"phase": "outcome"' not in line]
    path.write_text("\n".join(kept) + "\n")  # the process died before its outcome
    found = Reconciler(acc, log, made.origin).run()
    assert [(r.kind, r.verdict) for r in found] == [("event", "applied")]
    acc.delete_scheduled_action(plan.actions[1].name, RID, TABLE_WRITE)
    path.write_text("\n".join(kept) + "\n")
    assert [r.verdict for r in Reconciler(acc, log, made.origin).run()] == ["unknown"]
    for action in plan.actions[:1]:
        acc.delete_scheduled_action(action.name, RID, TABLE_WRITE)
    path.write_text("\n".join(kept) + "\n")
    assert [r.verdict for r in Reconciler(acc, log, made.origin).run()] == ["failed"]


def test_a_target_pinned_by_its_owner_keeps_its_policy_and_registration(tmp_path: Path) -> None:
    """A target whose min = max (its owner pins it) with a policy: the event restores min =
    max too, but the target is auto scaling's, not capcon's: it stays registered."""
    acc = account()
    acc.register_scalable_target(ScalableTarget(RID, TABLE_WRITE, 100, 100))
    acc.put_scaling_policy(ScalingPolicy("orders-w", RID, TABLE_WRITE, target_value=70.0))
    plan = plan_for(
        acc, start=NOW + timedelta(hours=2), end=NOW + timedelta(hours=4), scheduled_only=False
    )
    assert (plan.actions[1].min_capacity, plan.actions[1].max_capacity) == (100, 100)
    made, _log = scaler(acc, tmp_path)
    assert made.apply_event(plan).outcome == "applied"
    assert made.cancel_event(record_of(plan)).outcome == "applied"
    assert acc.targets[(RID, TABLE_WRITE)] == ScalableTarget(RID, TABLE_WRITE, 100, 100)
    assert len(acc.describe_scaling_policies()) == 1
