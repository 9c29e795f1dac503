"""After Apply: an acknowledgement at once, the asked capacity on the row marked pending,
only the changed resource read while the change is followed, then 15 minutes live."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from capcon.core.backends.sim.account import SimAccount
from capcon.core.backends.sim.scenarios import build_scenario
from capcon.core.config.prices import load_price_book
from capcon.core.model import Table, Throughput
from capcon.core.planning.planner import ScalePlan, plan
from capcon.core.polling import LIVE_AFTER_CHANGE_SECONDS, PollPolicy
from capcon.core.ports import MetricQuery, TableChange
from capcon.core.rules import RuleSettings
from capcon.core.services.audit import AuditLog, Origin
from capcon.core.services.inspect import live_context
from capcon.tui.console.app import CapconApp, ConsoleOptions
from capcon.tui.console.testing import DEMO_NOW, demo_console, settle, status_bar
from capcon.tui.console.widgets.resource_list import ResourceList

SIZE = (160, 50)


async def started(app: CapconApp, pilot: Any) -> None:
    app.action_refresh()
    await settle(app, pilot)
    assert app.snapshot is not None, app.last_error


def table_plan(
    app: CapconApp, account: SimAccount, name: str, write: int
) -> tuple[ScalePlan, Table]:
    table = account.describe_table(name)
    assert table.provisioned is not None
    context = live_context(
        app.backend, table, app.rules, app.prices, app.audit, app.controls, metrics=app.metrics
    )
    change = TableChange(table=Throughput(table.provisioned.read, write))
    made = plan(table, change, account.now(), rules=app.rules, prices=app.prices, context=context)
    assert isinstance(made, ScalePlan), made
    return made, table


def cell(app: CapconApp, name: str, column: str) -> str:
    return app.query_one(ResourceList).get_cell(name, column).plain


class Counting:
    """The account behind the console, every call recorded while ``recording``."""

    def __init__(self, inner: SimAccount) -> None:
        self._inner = inner
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.recording = False

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.recording:
                self.calls.append((name, args))
            return attr(*args, **kwargs)

        return call


async def test_apply_is_acknowledged_at_once_and_the_row_shows_the_asked_capacity(
    tmp_path: Path,
) -> None:
    seen: list[tuple[str, str, str, list[str]]] = []
    app, account = demo_console(tmp_path / "audit.jsonl")
    original = account.update_table

    def update_table(name: str, change: TableChange) -> Table:
        # in the apply worker, before AWS answers: what the user sees then
        def look() -> tuple[str, str, str, list[str]]:
            notes = [str(n.message) for n in app._notifications]
            return cell(app, name, "capacity"), cell(app, name, "status"), status_bar(app), notes

        if name == "audit-log":  # (the account's own auto scaling calls it too)
            seen.append(app.call_from_thread(look))
        return original(name, change)

    account.update_table = update_table  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        assert cell(app, "audit-log", "capacity") == "100/1,000"
        made, table = table_plan(app, account, "audit-log", 800)
        app.apply_plan(made, table)
        # at once, before the worker has even started
        assert cell(app, "audit-log", "capacity") == "100/800*"
        assert cell(app, "audit-log", "status") == "pending"
        assert "applying audit-log: 100 RCU / 1,000 WCU → 100 RCU / 800 WCU" in status_bar(app)
        await settle(app, pilot)
        ((capacity, status, bar, notes),) = seen
        assert (capacity, status) == ("100/800*", "pending")
        assert "applying audit-log" in bar
        assert any(n.startswith("sending: audit-log") for n in notes)
        # landed: the real capacity, no mark, no "applying"
        assert cell(app, "audit-log", "capacity") == "100/800"
        assert cell(app, "audit-log", "status") == "ACTIVE"
        assert "applying" not in status_bar(app)
        assert app.pending == {}


async def test_following_a_change_reads_only_the_changed_resource(tmp_path: Path) -> None:
    app, account = demo_console(tmp_path / "audit.jsonl")
    counting = Counting(account)
    app.backend._backend = counting
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        made, table = table_plan(app, account, "orders", 150)
        counting.recording = True
        app.apply_plan(made, table)
        await settle(app, pilot)
        counting.recording = False
        assert account.describe_table("orders").provisioned == Throughput(
            table.provisioned.read if table.provisioned else 0, 150
        )
        names = [name for name, _args in counting.calls]
        assert "update_table" in names
        # the follow: several reads of the changed table, its metrics, nothing else
        described = [
            arg
            for name, args in counting.calls
            if name in ("describe_table", "describe_tables")
            for arg in (args[0] if name == "describe_tables" else [args[0]])
        ]
        assert len(described) >= 3 and set(described) == {"orders"}, described
        assert not {"list_tables", "list_streams", "describe_stream", "describe_streams"} & set(
            names
        ), names
        queries: list[MetricQuery] = [
            q for name, args in counting.calls if name == "get_metric_data" for q in args[0]
        ]
        assert queries, "the changed row's metrics were not read"
        assert {dict(q.dimensions)["TableName"] for q in queries} == {"orders"}
        assert cell(app, "orders", "capacity").endswith("/150")


def aws_console(tmp_path: Path, clock: list[float]) -> tuple[CapconApp, SimAccount]:
    """The demo account behind a console that polls as on AWS (no simulation controls), on
    a fake clock; the scaler's waits move the account's clock."""
    account = build_scenario("demo", DEMO_NOW)

    def wait(seconds: float) -> None:  # the scaler's wait: both clocks move
        account.advance(int(seconds))
        clock[0] += seconds

    app = CapconApp(
        account,
        Origin("me", "aws:test", region="us-east-1"),
        RuleSettings(),
        load_price_book("us-east-1"),
        AuditLog(tmp_path / "audit.jsonl"),
        ConsoleOptions(poll=False, polling=PollPolicy()),
        wait=wait,
    )
    app.clock = lambda: clock[0]
    return app, account


async def test_the_console_stays_live_for_15_minutes_after_a_change(tmp_path: Path) -> None:
    clock = [0.0]
    app, account = aws_console(tmp_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        app._last_input = 0.0
        clock[0] = 1000.0
        assert app.idle  # 5 minutes without a key
        app._paint_status()
        assert "idle" in status_bar(app)
        made, table = table_plan(app, account, "audit-log", 800)
        app.apply_plan(made, table)
        assert not app.idle  # at once
        await settle(app, pilot)
        done = clock[0]
        assert done >= 1000.0 + 30  # the apply waited for ACTIVE: live counts from its end
        clock[0] = done + LIVE_AFTER_CHANGE_SECONDS - 1
        assert not app.idle
        step = app._poll_step()
        assert not step.idle and step.delay == app.options.polling.visible_seconds
        app._paint_status()
        assert "idle" not in status_bar(app)
        clock[0] = done + LIVE_AFTER_CHANGE_SECONDS + 1
        assert app.idle  # nobody touched a key meanwhile: idle again
        assert app._poll_step().delay == app.options.polling.idle_visible_seconds


def test_the_policy_is_never_idle_while_kept_live() -> None:
    policy = PollPolicy()
    assert policy.is_idle(now=1000, last_input=0)
    assert not policy.is_idle(now=1000, last_input=0, live_until=1001)
    assert policy.is_idle(now=1001, last_input=0, live_until=1001)
    assert policy.step(now=1000, last_input=0, last_hidden=0, live_until=1500).idle is False
    assert policy.step(now=1000, last_input=0, last_hidden=0, live_until=900).idle is True
