"""Every change has one intent and one outcome, whatever happens: lost answers, throttling,
rejections, reads that fail, timeouts, signals, a busy resource; and a change left open is
reconciled by the next command.  On the simulated account, behind a wrapper that injects the
faults a network and AWS produce (the moto + fault-proxy versions are in
tests/backends/test_scaler_faults.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capcon.core.backends.sim.account import SimAccount
from capcon.core.errors import (
    EndpointUnreachable,
    NotFound,
    ResourceInUse,
    Throttled,
    ValidationFailed,
)
from capcon.core.model import Throughput
from capcon.core.planning.requests import ShardChange
from capcon.core.ports import Backend, TableChange
from capcon.core.services.audit import AuditLog, AuditLogError, Origin
from capcon.core.services.interrupts import Interrupted, critical, interruptible
from capcon.core.services.locks import ResourceBusy, ResourceLocks
from capcon.core.services.reconcile import Reconciler, open_changes
from capcon.core.services.scaler import FOLLOW_READ_FAILURES, LOST_ANSWER_ATTEMPTS, Scaler
from tests.support.faulty import (
    ORIGIN,
    READ_FAULTS,
    SEND_FAULTS,
    Fault,
    Faulty,
    account,
    lost,
    lost_after,
    lost_before,
    make,
    make_plan,
    raising,
    run_schedule,
)


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "state" / "capcon" / "audit.jsonl")


def records(log: AuditLog) -> list[dict[str, Any]]:
    return log.read()


def one_intent_one_outcome(log: AuditLog) -> dict[str, Any]:
    """The log holds exactly one intent and one outcome, of one change; the outcome."""
    rows = [r for r in records(log) if r["phase"] in ("intent", "outcome")]
    assert [r["phase"] for r in rows] == ["intent", "outcome"], rows
    assert rows[0]["change_id"] == rows[1]["change_id"]
    return rows[1]


# --------------------------------------------------------------------------------------------
# never resent blindly
# --------------------------------------------------------------------------------------------


def test_a_lost_answer_to_an_applied_update_is_read_back_not_resent(log: AuditLog) -> None:
    acc = account()
    faulty = Faulty(acc)
    faulty.faults["update_table"] = [lost_after()]
    plan = make_plan(acc, "orders", TableChange(table=Throughput(100, 400)))
    result = make(faulty, log).apply(plan)
    assert result.outcome == "applied", result.error
    assert faulty.calls["update_table"] == 1  # the read showed the change: not sent again
    assert acc.describe_table("orders").provisioned == Throughput(100, 400)
    outcome = one_intent_one_outcome(log)
    assert outcome["outcome"] == "applied"
    assert outcome["before"]["capacity"] == {"read": 100, "write": 100}


def test_a_lost_request_is_resent_only_after_reading_the_resource_unchanged(
    log: AuditLog,
) -> None:
    acc = account()
    faulty = Faulty(acc)
    faulty.faults["update_table"] = [lost_before()]
    reads_before = faulty.calls["describe_table"]
    plan = make_plan(acc, "orders", TableChange(table=Throughput(100, 400)))
    result = make(faulty, log).apply(plan)
    assert result.outcome == "applied"
    assert faulty.calls["update_table"] == 2
    assert faulty.calls["describe_table"] - reads_before >= 3  # before, after the loss, follow
    assert one_intent_one_outcome(log)["outcome"] == "applied"


def test_answers_lost_every_time_end_unknown_after_a_bounded_number_of_sends(
    log: AuditLog,
) -> None:
    acc = account()
    faulty = Faulty(acc)
    faulty.faults["update_table"] = [lost_before() for _ in range(10)]
    plan = make_plan(acc, "orders", TableChange(table=Throughput(100, 400)))
    result = make(faulty, log).apply(plan)
    assert faulty.calls["update_table"] == LOST_ANSWER_ATTEMPTS
    assert result.outcome == "unknown"  # unchanged each time, but no answer ever came
    assert "probably not applied" in (result.error or "")
    assert acc.describe_table("orders").provisioned == Throughput(100, 100)
    assert one_intent_one_outcome(log)["outcome"] == "unknown"
    acc.advance(60)
    (found,) = Reconciler(cast(Backend, faulty), log, ORIGIN).run()
    assert (found.verdict, found.left_as) == ("failed", "unknown")


def test_a_request_landing_late_after_a_read_timeout_is_not_sent_again(log: AuditLog) -> None:
    """The read timed out and the change lands 20 s later (a slow control plane): the
    scaler keeps reading for ``settle_seconds`` and does not resend."""
    acc = account()
    faulty = Faulty(acc)
    plan = make_plan(acc, "orders", TableChange(table=Throughput(100, 400)))
    pending: list[Callable[[], Any]] = []

    def late(call: Callable[[], Any]) -> Any:
        pending.append(call)
        raise lost("read timeout", in_flight=True)

    faulty.faults["update_table"] = [late]
    waited = 0

    def wait(seconds: float) -> None:
        nonlocal waited
        waited += int(seconds)
        if pending and waited >= 20:
            pending.pop()()  # the request reaches the service now
        acc.advance(int(seconds))

    scaler = Scaler(cast(Backend, faulty), log, ORIGIN, wait=wait, poll_seconds=5)
    result = scaler.apply(plan)
    assert result.outcome == "applied"
    assert faulty.calls["update_table"] == 1
    assert acc.describe_table("orders").provisioned == Throughput(100, 400)


def test_a_lost_answer_and_a_failed_read_leave_the_outcome_unknown(log: AuditLog) -> None:
    acc = account()
    faulty = Faulty(acc)
    plan = make_plan(acc, "orders", TableChange(table=Throughput(100, 400)))
    faulty.faults["update_table"] = [lost_after()]
    # the re-read before sending succeeds; the one after the lost answer fails
    faulty.faults["describe_table"] = [None, raising(EndpointUnreachable("down"))]
    result = make(faulty, log).apply(plan)
    assert result.outcome == "unknown"
    assert faulty.calls["update_table"] == 1
    assert "may have been applied" in (result.error or "")
    assert one_intent_one_outcome(log)["outcome"] == "unknown"


def test_throttled_sends_were_refused_by_the_service_and_are_sent_again(log: AuditLog) -> None:
    acc = account()
    faulty = Faulty(acc)
    faulty.faults["update_table"] = [raising(Throttled("slow down")), None]
    plan = make_plan(acc, "orders", TableChange(table=Throughput(100, 400)))
    result = make(faulty, log).apply(plan)
    assert result.outcome == "applied"
    assert faulty.calls["update_table"] == 2


def test_a_rejected_request_is_failed_and_sent_once(log: AuditLog) -> None:
    acc = account()
    faulty = Faulty(acc)
    faulty.faults["update_table"] = [raising(ValidationFailed("AWS says no"))]
    plan = make_plan(acc, "orders", TableChange(table=Throughput(100, 400)))
    result = make(faulty, log).apply(plan)
    assert (result.outcome, faulty.calls["update_table"]) == ("failed", 1)
    assert one_intent_one_outcome(log)["error"] == "AWS says no"


def test_a_busy_table_is_said_in_words(log: AuditLog) -> None:
    acc = account()
    faulty = Faulty(acc)
    faulty.faults["update_table"] = [raising(ResourceInUse("ResourceInUseException: busy"))]
    plan = make_plan(acc, "orders", TableChange(table=Throughput(100, 400)))
    result = make(faulty, log).apply(plan)
    assert result.outcome == "failed"
    assert "being changed by someone else" in (result.error or "")
    assert "nothing was changed" in (result.error or "")


def test_a_read_failing_while_following_is_tried_again(log: AuditLog) -> None:
    acc = account()
    faulty = Faulty(acc)
    plan = make_plan(acc, "orders", TableChange(table=Throughput(100, 400)))
    faulty.faults["describe_table"] = [None, raising(EndpointUnreachable("blip"))]
    result = make(faulty, log).apply(plan)
    assert result.outcome == "applied"
    assert result.after is not None and result.after.status == "ACTIVE"


def test_reads_failing_in_a_row_after_the_send_leave_the_outcome_unknown(log: AuditLog) -> None:
    acc = account()
    faulty = Faulty(acc)
    plan = make_plan(acc, "orders", TableChange(table=Throughput(100, 400)))
    down = raising(EndpointUnreachable("down"))
    faulty.faults["describe_table"] = [None] + [down] * (FOLLOW_READ_FAILURES + 2)
    result = make(faulty, log).apply(plan)
    assert result.outcome == "unknown"
    assert faulty.calls["update_table"] == 1
    assert "may complete" in (result.error or "")
    assert one_intent_one_outcome(log)["outcome"] == "unknown"


def test_a_change_still_updating_at_the_timeout_is_unknown_not_failed(log: AuditLog) -> None:
    acc = account()
    faulty = Faulty(acc)
    plan = make_plan(acc, "orders", TableChange(table=Throughput(100, 400)))
    result = make(faulty, log, timeout_seconds=10).apply(plan)  # the update takes 30 s
    assert result.outcome == "unknown"
    assert "may still complete" in (result.error or "")


def test_a_failed_step_after_others_is_partial(log: AuditLog) -> None:
    acc = account()
    faulty = Faulty(acc)
    plan = make_plan(acc, "clicks", ShardChange(6, strategy="targeted"))
    assert plan.stream is not None and len(plan.stream.reshard.steps) >= 2
    faulty.faults["split_shard"] = [None, raising(ValidationFailed("no more"))]
    result = make(faulty, log).apply(plan)
    assert result.outcome == "partial"
    assert result.steps_done == 1
    assert "resumes" in (result.error or "")


def test_an_outcome_that_cannot_be_written_is_said_and_reconciled_later(
    log: AuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    acc = account()
    faulty = Faulty(acc)
    plan = make_plan(acc, "orders", TableChange(table=Throughput(100, 400)))
    scaler = make(faulty, log)
    original = log.write

    def write(record: Any) -> None:
        if record.phase == "outcome":
            raise AuditLogError(log.path, "disk full")
        original(record)

    monkeypatch.setattr(log, "write", write)
    result = scaler.apply(plan)
    assert result.outcome == "applied"
    assert any("could not be written" in note for note in result.notes)
    monkeypatch.setattr(log, "write", original)
    (found,) = Reconciler(cast(Backend, faulty), log, ORIGIN).run()
    assert (found.verdict, found.left_as) == ("applied", "no outcome")
    assert [r["phase"] for r in records(log)] == ["intent", "reconciled"]


# --------------------------------------------------------------------------------------------
# signals
# --------------------------------------------------------------------------------------------


def test_ctrl_c_while_sending_records_interrupted_and_goes_on(log: AuditLog) -> None:
    acc = account()
    faulty = Faulty(acc)
    faulty.faults["update_table"] = [raising(KeyboardInterrupt())]
    plan = make_plan(acc, "orders", TableChange(table=Throughput(100, 400)))
    with pytest.raises(KeyboardInterrupt):
        make(faulty, log).apply(plan)
    outcome = one_intent_one_outcome(log)
    assert outcome["outcome"] == "interrupted"
    assert outcome["details"]["sent"] == "maybe"
    assert outcome["details"]["signal"] == "SIGINT"
    assert "reconciles" in outcome["error"]


def test_sigterm_while_following_records_interrupted_with_the_request_sent(
    log: AuditLog,
) -> None:
    """A real SIGTERM to this process, inside ``interruptible`` as the CLI runs an apply."""
    acc = account()
    faulty = Faulty(acc)
    plan = make_plan(acc, "orders", TableChange(table=Throughput(100, 400)))
    waits = 0

    def wait(seconds: float) -> None:
        nonlocal waits
        waits += 1
        if waits == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        acc.advance(int(seconds))

    scaler = Scaler(cast(Backend, faulty), log, ORIGIN, wait=wait, poll_seconds=5)
    with pytest.raises(Interrupted), interruptible():
        scaler.apply(plan)
    outcome = one_intent_one_outcome(log)
    assert (outcome["outcome"], outcome["details"]["sent"]) == ("interrupted", "yes")
    assert outcome["details"]["signal"] == "SIGTERM"
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # put back


def test_a_signal_during_a_record_waits_for_the_record_to_end() -> None:
    order: list[str] = []
    with pytest.raises(Interrupted), interruptible():
        with critical():
            os.kill(os.getpid(), signal.SIGTERM)
            order.append("still writing")
        order.append("after")  # never reached: raised at the end of the block
    assert order == ["still writing"]


# --------------------------------------------------------------------------------------------
# one change at a time per resource
# --------------------------------------------------------------------------------------------

HOLD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from capcon.core.services.locks import ResourceLocks
    lock = ResourceLocks(Path(sys.argv[1]), sys.argv[2]).acquire("table", "orders", "other-1")
    print("held", flush=True)
    sys.stdin.readline()
    """
)


def test_a_resource_locked_by_another_process_is_refused_before_anything_is_sent(
    log: AuditLog,
) -> None:
    acc = account()
    faulty = Faulty(acc)
    scaler = make(faulty, log)
    scope = scaler.locks.scope
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(log.path.parent / "locks"), scope],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        plan = make_plan(acc, "orders", TableChange(table=Throughput(100, 400)))
        result = scaler.apply(plan)
        assert result.outcome == "refused"
        assert "another capcon process is changing orders" in (result.error or "")
        assert f"pid {holder.pid}" in (result.error or "")
        assert faulty.calls["update_table"] == 0
        assert one_intent_one_outcome(log)["outcome"] == "refused"
        other = make_plan(acc, "clicks", ShardChange(8))  # another resource is free
        assert scaler.apply(other).outcome == "applied"
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    # the holder is gone: the kernel released its lock
    assert scaler.apply(plan).outcome == "applied"


def test_the_second_of_two_changes_from_one_preview_is_refused_as_stale(log: AuditLog) -> None:
    acc = account()
    first = make_plan(acc, "orders", TableChange(table=Throughput(100, 400)))
    second = make_plan(acc, "orders", TableChange(table=Throughput(100, 300)))
    assert make(Faulty(acc), log).apply(first).outcome == "applied"
    result = make(Faulty(acc), log).apply(second)
    assert result.outcome == "refused"
    assert "changed since the preview" in (result.error or "")
    befores = [r["before"]["capacity"] for r in records(log) if r["phase"] == "intent"]
    assert befores == [{"read": 100, "write": 100}, {"read": 100, "write": 400}]


def test_locks_are_per_resource_and_scope(tmp_path: Path) -> None:
    locks = ResourceLocks(tmp_path, "acct-a")
    with locks.acquire("table", "orders", "c1"):
        with pytest.raises(ResourceBusy, match="c1"):
            ResourceLocks(tmp_path, "acct-a").acquire("table", "orders", "c2")
        ResourceLocks(tmp_path, "acct-b").acquire("table", "orders", "c3").release()
        locks.acquire("table", "orders[/]\x1b]0;x\x07", "c4").release()
    locks.acquire("table", "orders", "c5").release()


# --------------------------------------------------------------------------------------------
# reconciling what was left open
# --------------------------------------------------------------------------------------------


def left_open(
    acc: SimAccount, log: AuditLog, fault: Fault, *, while_following: bool = False
) -> None:
    """An apply whose outcome record was never written (the process was killed mid-change:
    while following the update, or as it was about to write the outcome)."""
    faulty = Faulty(acc)
    faulty.faults["update_table"] = [fault]
    plan = make_plan(acc, "orders", TableChange(table=Throughput(100, 400)))
    original = log.write

    def write(record: Any) -> None:
        if record.phase == "outcome":
            raise SystemExit("killed")  # what a SIGKILL leaves: no outcome
        original(record)

    def wait(seconds: float) -> None:
        if while_following:
            raise SystemExit("killed")
        acc.advance(int(seconds))

    log.write = write  # type: ignore[method-assign]
    try:
        with pytest.raises(SystemExit):
            Scaler(cast(Backend, faulty), log, ORIGIN, wait=wait, poll_seconds=5).apply(plan)
    finally:
        log.write = original  # type: ignore[method-assign]


@pytest.mark.parametrize(
    ("fault", "verdict"),
    [(None, "applied"), (raising(ValidationFailed("no")), "failed")],
)
def test_an_intent_left_open_is_reconciled_once_by_what_is_there(
    log: AuditLog, fault: Fault | None, verdict: str
) -> None:
    acc = account()
    left_open(acc, log, fault or (lambda call: call()))
    assert len(open_changes(records(log), ORIGIN)) == 1
    acc.advance(120)
    (found,) = Reconciler(cast(Backend, acc), log, ORIGIN).run()
    assert found.verdict == verdict
    last = records(log)[-1]
    assert (last["phase"], last["outcome"]) == ("reconciled", verdict)
    assert last["after"]["capacity"] == (
        {"read": 100, "write": 400} if verdict == "applied" else {"read": 100, "write": 100}
    )
    assert Reconciler(cast(Backend, acc), log, ORIGIN).run() == []  # settled now


def test_reconcile_leaves_open_what_is_still_updating_unreadable_or_locked(
    log: AuditLog,
) -> None:
    acc = account()
    left_open(acc, log, lambda call: call(), while_following=True)
    reconciler = Reconciler(cast(Backend, acc), log, ORIGIN)
    (still,) = reconciler.run()  # the 30 s update has not finished
    assert still.verdict is None and "UPDATING" in still.message
    acc.advance(120)
    with reconciler.locks.acquire("table", "orders", "someone-else"):
        (locked,) = reconciler.run()
    assert locked.verdict is None and "being changed" in locked.message
    faulty = Faulty(acc)
    faulty.faults["describe_table"] = [raising(EndpointUnreachable("down"))]
    (unreadable,) = Reconciler(cast(Backend, faulty), log, ORIGIN).run()
    assert unreadable.verdict is None and "could not be read" in unreadable.message
    assert all(r["phase"] != "reconciled" for r in records(log))
    (done,) = reconciler.run()
    assert done.verdict == "applied"


def test_reconcile_reads_only_its_own_account_and_says_when_a_table_is_gone(
    log: AuditLog,
) -> None:
    acc = account()
    left_open(acc, log, lambda call: call())
    other = Origin("someone", "aws:other/eu-west-1", region="eu-west-1")
    assert Reconciler(cast(Backend, acc), log, other).run() == []
    faulty = Faulty(acc)
    faulty.faults["describe_table"] = [raising(NotFound("gone"))]
    (gone,) = Reconciler(cast(Backend, faulty), log, ORIGIN).run()
    assert gone.verdict == "unknown" and "no longer exists" in gone.message


def test_a_read_only_reconcile_writes_nothing(log: AuditLog) -> None:
    acc = account()
    left_open(acc, log, lambda call: call())
    acc.advance(120)
    (found,) = Reconciler(cast(Backend, acc), log, ORIGIN).run(write=False)
    assert found.verdict == "applied"
    assert [r["phase"] for r in records(log)] == ["intent"]


# --------------------------------------------------------------------------------------------
# any schedule of faults: the promises hold
# --------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    sends=st.lists(st.sampled_from(sorted(SEND_FAULTS)), max_size=4),
    reads=st.lists(st.sampled_from(sorted(READ_FAULTS)), max_size=8),
)
def test_under_any_schedule_of_faults_one_intent_one_true_outcome(
    tmp_path_factory: pytest.TempPathFactory, sends: list[str], reads: list[str]
) -> None:
    run = run_schedule(sends, reads, tmp_path_factory.mktemp("audit"))
    assert run.broken == (), run
