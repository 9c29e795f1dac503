"""Read-only lives in the scaler: a read-only scaler refuses every change before any call
reaches the backend, and nothing but the scaler calls the backend's mutating methods (checked
in the source of ``core/`` and ``tui/``), so no caller can go around it."""

from __future__ import annotations

import ast
import inspect
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from capcon.core import ports
from capcon.core.backends.sim.account import IndexSpec, SimAccount, TableSpec
from capcon.core.backends.sim.tables import SimSettings
from capcon.core.backends.sim.traffic import Steady, StreamLoad
from capcon.core.config.prices import load_price_book
from capcon.core.model import Stream, Table, Throughput
from capcon.core.planning.autoscaling import AutoScalingPlan, plan_autoscaling
from capcon.core.planning.planner import PlanContext, ScalePlan, plan
from capcon.core.planning.requests import AutoScalingChange, ShardChange
from capcon.core.ports import Scalable, ScalableTarget, TableChange, resource_id
from capcon.core.rules import RuleSettings
from capcon.core.services.audit import AuditLog, Origin
from capcon.core.services.engine import AutoscaleEngine, run_rounds
from capcon.core.services.scaler import READ_ONLY_REFUSAL, Scaler

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RULES = RuleSettings()
PRICES = load_price_book("us-east-1")
ROOT = Path(__file__).resolve().parents[2]


def account() -> SimAccount:
    acc = SimAccount(START, settings=SimSettings(update_seconds=30, reshard_base_seconds=20))
    acc.add_table(
        TableSpec(
            "orders",
            Throughput(100, 1_000),
            reads=Steady(20),
            writes=Steady(30),
            indexes=[IndexSpec("by-day", Throughput(50, 50), Steady(5))],
        )
    )
    acc.add_stream("clicks", shards=4, load=StreamLoad(Steady(500), 500.0))
    acc.register_scalable_target(ScalableTarget(resource_id("orders"), ports.TABLE_READ, 10, 200))
    acc.advance(20 * 60)
    return acc


class Recorder:
    """A backend that records every call made through it (and passes it on)."""

    def __init__(self, inner: SimAccount) -> None:
        self.inner = inner
        self.calls: list[str] = []
        self.label = inner.label

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.inner, name)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return value(*args, **kwargs)

        return call


def read_only_scaler(acc: SimAccount, log: AuditLog) -> tuple[Scaler, Recorder]:
    backend = Recorder(acc)
    scaler = Scaler(
        backend,
        log,
        Origin("simulated", "sim:test"),
        wait=lambda s: acc.advance(int(s)),
        read_only=True,
        poll_seconds=5,
    )
    return scaler, backend


def scale_plan(acc: SimAccount, name: str, change: TableChange | ShardChange) -> ScalePlan:
    resource: Table | Stream = (
        acc.describe_table(name) if name in acc.tables else acc.describe_stream(name)
    )
    result = plan(resource, change, acc.now(), rules=RULES, prices=PRICES, context=PlanContext())
    assert isinstance(result, ScalePlan), result
    return result


def autoscaling_plan(acc: SimAccount, change: AutoScalingChange) -> AutoScalingPlan:
    rid = resource_id("orders")
    result = plan_autoscaling(
        acc.describe_table("orders"),
        change,
        tuple(t for t in acc.describe_scalable_targets() if t.resource_id == rid),
        tuple(p for p in acc.describe_scaling_policies() if p.resource_id == rid),
        acc.now(),
        rules=RULES,
        prices=PRICES,
    )
    assert isinstance(result, AutoScalingPlan), result
    return result


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "audit.jsonl")


CHANGES = {
    "table": lambda acc: scale_plan(acc, "orders", TableChange(table=Throughput(100, 400))),
    "gsi": lambda acc: scale_plan(
        acc, "orders", TableChange(indexes=(("by-day", Throughput(50, 150)),))
    ),
    "uniform-reshard": lambda acc: scale_plan(acc, "clicks", ShardChange(8)),
    "targeted-reshard": lambda acc: scale_plan(acc, "clicks", ShardChange(6, "targeted")),
}


@pytest.mark.parametrize("kind", sorted(CHANGES))
def test_read_only_scaler_refuses_every_scale_plan_before_any_call(
    kind: str, log: AuditLog
) -> None:
    acc = account()
    before_table, before_stream = acc.describe_table("orders"), acc.describe_stream("clicks")
    scaler, backend = read_only_scaler(acc, log)
    result = scaler.apply(CHANGES[kind](acc), previous=before_table)
    assert (result.outcome, result.error) == ("refused", READ_ONLY_REFUSAL)
    assert "read-only" in READ_ONLY_REFUSAL and "config.toml" in READ_ONLY_REFUSAL
    assert backend.calls == []  # not even a read
    assert not log.path.exists()  # nothing attempted, nothing recorded
    assert acc.describe_table("orders") == before_table
    assert acc.describe_stream("clicks") == before_stream


@pytest.mark.parametrize(
    "change",
    [
        AutoScalingChange("orders", None, "write", 10, 500, 70),  # register + put
        AutoScalingChange("orders", None, "read", enabled=False),  # deregister
    ],
    ids=["enable", "disable"],
)
def test_read_only_scaler_refuses_auto_scaling_changes_before_any_call(
    change: AutoScalingChange, log: AuditLog
) -> None:
    acc = account()
    targets = acc.describe_scalable_targets()
    scaler, backend = read_only_scaler(acc, log)
    result = scaler.apply_autoscaling(autoscaling_plan(acc, change))
    assert (result.outcome, result.error) == ("refused", READ_ONLY_REFUSAL)
    assert backend.calls == []
    assert not log.path.exists()
    assert acc.describe_scalable_targets() == targets
    assert acc.describe_scaling_policies() == []


def test_the_engine_with_a_read_only_scaler_changes_nothing(log: AuditLog) -> None:
    acc = account()  # orders writes: 1,000 WCU for 30 used, so the policy scales in
    scaler, backend = read_only_scaler(acc, log)
    engine = AutoscaleEngine(
        acc, "aas", 70.0, RULES, PRICES, [Scalable("orders", "write")], (1, 40_000),
        scaler, metric_delay_seconds=120, update_seconds=30,
    )  # fmt: skip
    seen = run_rounds(engine, 3, lambda s: acc.advance(int(s)), lambda _d: None)
    acting = [d for d in seen if d.decision.capacity is not None]
    assert acting, "the policy acted: the engine did try to apply"
    assert all(d.outcome == f"refused: {READ_ONLY_REFUSAL}" for d in acting)
    assert backend.calls == []
    assert acc.describe_table("orders").provisioned == Throughput(100, 1_000)
    assert not log.path.exists()


def test_the_read_only_switch_cannot_be_turned_off(log: AuditLog) -> None:
    scaler, _ = read_only_scaler(account(), log)
    with pytest.raises(AttributeError):
        scaler.read_only = False  # type: ignore[misc]
    assert scaler.read_only


# --------------------------------------------------------------------------------------------
# Static check: only the scaler calls the mutating port methods
# --------------------------------------------------------------------------------------------


def mutating_methods() -> frozenset[str]:
    """Every method of the Actuator port, and the AutoScaling port's writers (everything but
    ``describe_*``), read from :mod:`capcon.core.ports` so a new one is checked too."""
    actuator = {n for n, _ in inspect.getmembers(ports.Actuator, inspect.isfunction)}
    autoscaling = {
        n
        for n, _ in inspect.getmembers(ports.AutoScaling, inspect.isfunction)
        if not n.startswith("describe_")
    }
    return frozenset(n for n in actuator | autoscaling if not n.startswith("_"))


MUTATORS = mutating_methods()
#: The one module allowed to call them.
SCALER = "core/services/scaler.py"
#: Backends, not callers: the port implementations (and a wrapper) and the worlds they build.
IMPLEMENTATIONS = {
    "core/backends/aws/adapter.py": "calls the boto3 client methods of those names",
    "core/backends/sim/account.py": "its simulated auto scaling updates its own tables",
    "core/backends/sim/scenarios.py": "builds a scenario's auto scaling before any session",
    "core/backends/sim/experiment.py": "builds the experiment's table before any session",
    "core/backends/sim/rehearsal.py": "builds the rehearsal's own account before any session",
    "tui/lab/scheduled.py": "puts the scheduled lane's actions on its own simulated account",
    "tui/console/backend.py": "LockedBackend is a Backend: each port delegated under the lock",
}


def test_the_mutating_methods_are_the_ones_expected() -> None:
    assert {
        "update_table",
        "update_shard_count",
        "split_shard",
        "merge_shards",
        "update_stream_mode",
        "register_scalable_target",
        "deregister_scalable_target",
        "put_scaling_policy",
        "delete_scaling_policy",
    } <= MUTATORS
    assert not any(n.startswith("describe_") for n in MUTATORS)


def mutations_in(source: str) -> list[str]:
    """Every use of a mutating method in ``source``: an attribute (``x.update_table`` called
    or not) or its name as a string (``getattr(x, "update_table")``)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in MUTATORS:
            found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Constant) and node.value in MUTATORS:
            found.append(f"line {node.lineno}: {node.value!r}")
    return found


def source_files() -> list[Path]:
    files = sorted([*(ROOT / "core").rglob("*.py"), *(ROOT / "tui").rglob("*.py")])
    assert len(files) > 50, files
    allowed = {SCALER, *IMPLEMENTATIONS}
    return [f for f in files if f.relative_to(ROOT).as_posix() not in allowed]


@pytest.mark.parametrize("path", source_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_only_the_scaler_calls_mutating_port_methods(path: Path) -> None:
    assert mutations_in(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("allowed", [SCALER, *IMPLEMENTATIONS])
def test_the_allowed_modules_do_use_them(allowed: str) -> None:
    """The check looks at the right names, and the exemptions are still needed."""
    found = mutations_in((ROOT / allowed).read_text(encoding="utf-8"))
    assert len(found) >= (8 if allowed == SCALER else 1)


@pytest.mark.parametrize(
    "snippet",
    [
        "backend.update_table(name, change)",
        "self.backend.inner.split_shard('s', 'a', 1)",
        "f = backend.put_scaling_policy\nf(policy)",
        "getattr(backend, 'deregister_scalable_target')(rid, dim)",
        "def later():\n    app.backend.update_shard_count('s', 8)",
    ],
)
def test_the_static_check_can_fail(snippet: str) -> None:
    assert mutations_in(snippet) != []


@pytest.mark.parametrize(
    "snippet",
    ["backend.describe_table('t')", "scaler.apply(plan)", "scaler.apply_autoscaling(plan)"],
)
def test_the_static_check_allows_reads_and_the_scaler(snippet: str) -> None:
    assert mutations_in(snippet) == []
