"""The simulated account behind a wrapper that injects the faults a network and AWS produce
(lost answers before or after the service acted, throttling, rejections, reads that fail),
and one apply run under a schedule of them with every promise checked.  Used by
tests/unit/test_outcomes.py and bench/apply_faults.py."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from capcon.core.backends.sim.account import IndexSpec, SimAccount, TableSpec
from capcon.core.backends.sim.tables import SimSettings
from capcon.core.backends.sim.traffic import Steady, StreamLoad
from capcon.core.config.prices import load_price_book
from capcon.core.errors import (
    BackendError,
    EndpointUnreachable,
    ResourceInUse,
    Throttled,
    ValidationFailed,
)
from capcon.core.model import Stream, Table, Throughput
from capcon.core.planning.planner import PlanContext, ScalePlan, plan
from capcon.core.planning.requests import ShardChange
from capcon.core.ports import Backend, TableChange
from capcon.core.rules import RuleSettings
from capcon.core.services.audit import AuditLog, Origin
from capcon.core.services.reconcile import Reconciler
from capcon.core.services.scaler import Scaler

ORIGIN = Origin("someone", "aws:test/us-east-1", region="us-east-1")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PRICES = load_price_book("us-east-1")


def account() -> SimAccount:
    """One table with a GSI (a 30 s update) and one 4-shard stream."""
    acc = SimAccount(START, settings=SimSettings(update_seconds=30, reshard_base_seconds=20))
    acc.add_table(
        TableSpec(
            "orders",
            Throughput(100, 100),
            reads=Steady(20),
            writes=Steady(30),
            indexes=[IndexSpec("by-day", Throughput(50, 50), Steady(5))],
        )
    )
    acc.add_stream("clicks", shards=4, load=StreamLoad(Steady(500), 500.0))
    acc.advance(120)
    return acc


def make_plan(acc: SimAccount, name: str, change: TableChange | ShardChange) -> ScalePlan:
    resource: Table | Stream = (
        acc.describe_table(name) if name in acc.tables else acc.describe_stream(name)
    )
    result = plan(
        resource, change, acc.now(), rules=RuleSettings(), prices=PRICES, context=PlanContext()
    )
    assert isinstance(result, ScalePlan), result
    return result


def lost(error: str = "connection reset", *, in_flight: bool = False) -> BackendError:
    """An error whose request may have been carried out (a lost answer); ``in_flight``: a
    read timeout (the request may still arrive)."""
    failure = EndpointUnreachable(f"dynamodb:UpdateTable: {error}")
    failure.maybe_sent = True
    failure.in_flight = in_flight
    return failure


Fault = Callable[[Callable[[], Any]], Any]


def lost_after() -> Fault:
    """The service carried the request out, and its answer was lost."""

    def fault(call: Callable[[], Any]) -> Any:
        call()
        raise lost()

    return fault


def lost_before() -> Fault:
    """The request never arrived, and the client cannot tell (same error)."""

    def fault(_call: Callable[[], Any]) -> Any:
        raise lost()

    return fault


def raising(error: BaseException) -> Fault:
    def fault(_call: Callable[[], Any]) -> Any:
        raise error

    return fault


class Faulty:
    """The simulated account with scripted faults: ``faults[method]`` is a list consumed one
    per call (``None`` = a normal call); every call is counted."""

    def __init__(self, inner: SimAccount) -> None:
        self.inner = inner
        self.faults: dict[str, list[Fault | None]] = {}
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if not callable(attribute) or name in ("now", "advance"):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            script = self.faults.get(name)
            fault = script.pop(0) if script else None
            if fault is None:
                return attribute(*args, **kwargs)
            return fault(lambda: attribute(*args, **kwargs))

        return call


def make(faulty: Faulty, log: AuditLog, **kwargs: Any) -> Scaler:
    return Scaler(
        cast(Backend, faulty),
        log,
        ORIGIN,
        wait=lambda s: faulty.inner.advance(int(s)),
        poll_seconds=5,
        **kwargs,
    )


SEND_FAULTS: dict[str, Callable[[], Fault | None]] = {
    "ok": lambda: None,
    "lost-after": lost_after,
    "lost-before": lost_before,
    "throttled": lambda: raising(Throttled("slow down")),
    "rejected": lambda: raising(ValidationFailed("no")),
    "busy": lambda: raising(ResourceInUse("busy")),
}
READ_FAULTS: dict[str, Callable[[], Fault | None]] = {
    "ok": lambda: None,
    "down": lambda: raising(EndpointUnreachable("down")),
}


@dataclass(frozen=True)
class Run:
    """One apply under a schedule of faults, and every promise it broke (none, we hope)."""

    outcome: str
    carried_out: int
    """How many times the service carried the request out."""
    broken: tuple[str, ...]


def run_schedule(sends: list[str], reads: list[str], folder: Path) -> Run:
    """Apply 100 → 400 WCU on the simulated account with ``sends`` faults on UpdateTable
    (then normal answers) and ``reads`` faults on the DescribeTable calls after the first;
    check: it returns (never raises), one intent and one outcome agreeing with the result,
    the service carried the request out at most once, applied/failed match what is there,
    and reconciling an unknown finds the truth."""
    log = AuditLog(folder / "audit.jsonl")
    acc = account()
    faulty = Faulty(acc)
    carried = 0

    def counted(fault: Fault | None) -> Fault:
        def run(call: Callable[[], Any]) -> Any:
            def inner() -> Any:
                nonlocal carried
                carried += 1
                return call()

            return (fault or (lambda c: c()))(inner)

        return run

    send_script: list[Fault | None] = [counted(SEND_FAULTS[name]()) for name in sends]
    faulty.faults["update_table"] = send_script + [counted(None) for _ in range(10)]
    read_script: list[Fault | None] = [None]
    faulty.faults["describe_table"] = read_script + [READ_FAULTS[name]() for name in reads]
    the_plan = make_plan(acc, "orders", TableChange(table=Throughput(100, 400)))
    broken: list[str] = []
    try:
        result = make(faulty, log).apply(the_plan)
    except Exception as error:
        return Run("raised", carried, (f"apply raised {type(error).__name__}: {error}",))
    rows = [r for r in log.read() if r["phase"] in ("intent", "outcome")]
    if [r["phase"] for r in rows] != ["intent", "outcome"]:
        broken.append(f"records {[r['phase'] for r in rows]} (want one intent, one outcome)")
    elif rows[1]["outcome"] != result.outcome:
        broken.append(f"recorded {rows[1]['outcome']} but returned {result.outcome}")
    if carried > 1:
        broken.append(f"the service carried the request out {carried} times")
    acc.advance(120)
    now = acc.describe_table("orders").provisioned
    target, before = Throughput(100, 400), Throughput(100, 100)
    if result.outcome == "applied" and now != target:
        broken.append(f"applied but the table has {now}")
    if result.outcome == "failed" and now != before:
        broken.append(f"failed but the table has {now}")
    if result.outcome not in ("applied", "failed", "unknown"):
        broken.append(f"outcome {result.outcome}")
    found = Reconciler(cast(Backend, acc), log, ORIGIN).run()
    if result.outcome == "unknown":
        truth = "applied" if now == target else "failed"
        if [item.verdict for item in found] != [truth]:
            broken.append(f"reconciled {[i.verdict for i in found]}, the truth is {truth}")
    elif found:
        broken.append("a settled change was reconciled again")
    return Run(result.outcome, carried, tuple(broken))
