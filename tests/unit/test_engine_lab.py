"""The auto-scaling engine (capcon autoscale) and the trainer lab (capcon lab)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import DataTable, RichLog

from capcon.core.backends.sim.account import SimAccount, TableSpec
from capcon.core.backends.sim.experiment import LAB_HOURS
from capcon.core.backends.sim.traffic import Steady
from capcon.core.config.prices import load_price_book
from capcon.core.model import Throughput
from capcon.core.ports import Scalable
from capcon.core.rules import RuleSettings
from capcon.core.services.audit import AuditLog, Origin
from capcon.core.services.engine import AutoscaleEngine, EngineDecision, run_rounds
from capcon.core.services.scaler import Scaler
from capcon.tui.cli.main import main, parse_args
from capcon.tui.lab.app import LabApp

START = datetime(2026, 2, 2, 8, 0, tzinfo=UTC)
RULES = RuleSettings()
PRICES = load_price_book("us-east-1")


def over_provisioned() -> SimAccount:
    acc = SimAccount(START)
    acc.add_table(TableSpec("big", Throughput(10, 1_000), reads=Steady(2), writes=Steady(30)))
    acc.advance(20 * 60)
    return acc


def engine(acc: SimAccount, scaler: Scaler | None) -> AutoscaleEngine:
    return AutoscaleEngine(
        acc, "aas", 70.0, RULES, PRICES, [Scalable("big", "write")], (1, 40_000),
        scaler, metric_delay_seconds=120, update_seconds=60,
    )  # fmt: skip


def test_dry_run_explains_and_changes_nothing() -> None:
    acc = over_provisioned()
    seen: list[EngineDecision] = []
    run_rounds(engine(acc, None), 3, lambda s: acc.advance(int(s)), seen.append)
    assert len(seen) == 3
    acting = [d for d in seen if d.decision.capacity is not None]
    assert acting and all(d.outcome == "dry-run" for d in acting)
    assert "AlarmLow" in acting[0].decision.reason
    assert "dry run" in acting[0].line
    assert acc.describe_table("big").provisioned == Throughput(10, 1_000)


def test_apply_goes_through_the_scaler_and_the_audit_log(tmp_path: Path) -> None:
    acc = over_provisioned()
    log = AuditLog(tmp_path / "audit.jsonl")
    scaler = Scaler(acc, log, Origin("engine", "sim"), wait=lambda s: acc.advance(int(s)))
    seen: list[EngineDecision] = []
    run_rounds(engine(acc, scaler), 2, lambda s: acc.advance(int(s)), seen.append)
    applied = [d for d in seen if d.outcome == "applied"]
    assert len(applied) == 1
    assert acc.describe_table("big").provisioned == Throughput(10, 43)  # ceil(30 / 0.7)
    assert [r["phase"] for r in log.read()] == ["intent", "outcome"]


def test_unknown_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown policy"):
        AutoscaleEngine(
            over_provisioned(), "magic", 70, RULES, PRICES, [Scalable("big", "write")], (1, 10)
        )


def test_autoscale_cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert main(["--sim", "autoscale", "--minutes", "2", "--table", "audit-log", "--verbose"]) == 0
    out = capsys.readouterr().out
    assert "dry run: nothing is changed" in out
    assert "audit-log writes" in out
    assert main(["--sim", "autoscale", "--table", "nope"]) == 2
    assert "no table nope" in capsys.readouterr().err
    assert main(["--sim", "autoscale", "--target", "95"]) == 2
    assert main(["--sim", "autoscale", "--policy", "magic"]) == 2
    assert "unknown policy" in capsys.readouterr().err
    assert main(["--sim", "--read-only", "autoscale", "--apply"]) == 2


async def test_lab_steps_and_fills_the_results() -> None:
    app = LabApp("bell", 70, ("aas-legacy", "h2", "capcon"), speed=60, autoplay=False)
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.query_one("#results", DataTable)
        assert table.row_count == 3
        for _ in range(40):  # 40 simulated minutes, one step each
            app.action_step()
        await pilot.pause()
        clock = app.lanes[0].account
        assert (clock.now() - clock.epoch).total_seconds() == 40 * 60
        assert all(lane.account.now() == clock.now() for lane in app.lanes)
        success = str(table.get_cell("capcon", "success"))
        assert success.endswith("%") and float(success[:-1]) > 0
        assert float(str(table.get_cell("h2", "WCU-hours")).replace(",", "")) > 0
        # by minute 40 the bell is rising: every policy has scaled out at least once
        assert all(lane.ups >= 1 for lane in app.lanes)
        logs = list(app.query(RichLog))
        assert len(logs) == 3 and all(log.lines for log in logs)
        await pilot.press("space")
        assert app.playing
        await pilot.press("space")
        assert not app.playing
        await pilot.press("r")
        assert (app.lanes[0].account.now() - app.lanes[0].account.epoch).total_seconds() == 0


async def test_lab_stops_at_the_minutes_its_lanes_keep() -> None:
    """The totals add up every minute since the start; a lane keeps them for LAB_HOURS,
    so the session stops there (and says so) rather than count only the newest."""

    app = LabApp("bell", 70, ("h2", "capcon"), speed=60, autoplay=False)
    async with app.run_test(size=(160, 50)) as pilot:
        assert app.limit_seconds == LAB_HOURS * 3600
        app.limit_seconds = 150
        app.playing = True
        app.advance(60)
        assert app.playing  # 60 of 150 s
        for _ in range(3):
            app.advance(60)
        await pilot.pause()
        clock = app.lanes[0].account
        assert (clock.now() - clock.epoch).total_seconds() == 150
        assert not app.playing
        assert any("simulated days at most" in str(n.message) for n in app._notifications)


async def test_lab_prices_its_lanes_with_the_sessions_price_book() -> None:
    """The lab's cost column uses the book it is given (config or ``--prices``)."""
    default = load_price_book("us-east-1")
    dear = dataclasses.replace(default, wcu_hour=default.wcu_hour * 4)
    apps = [
        LabApp("bell", 70, ("h2", "capcon"), speed=60, autoplay=False, prices=book)
        for book in (default, dear)
    ]
    costs = []
    for app in apps:
        async with app.run_test(size=(160, 50)) as pilot:
            for _ in range(10):
                app.action_step()
            await pilot.pause()
            lane = app.lanes[0]
            assert lane.figures["unit_hours"] > 0
            costs.append(lane.figures["cost"])
    assert costs[1] == pytest.approx(4 * costs[0])
    assert parse_args(["lab", "--prices", "p.toml"]).prices == Path("p.toml")


def test_lab_refuses_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lab", "--policies", "capcon"]) == 2
    assert "2 to 4 policies" in capsys.readouterr().err
    assert main(["lab", "--policies", "aas,magic"]) == 2
    assert main(["lab", "--target", "10"]) == 2
