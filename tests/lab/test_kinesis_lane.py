"""The lab's kinesis lane: field note C's Kinesis policy (core/policies/kinesis.py) on a
simulated stream carrying the lab's traffic pattern — up fast on the push signal, down only
at the 36 h check (docs/field-notes.md#the-36-h-scale-down)."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest
from textual.widgets import DataTable, Static

from capcon.core.backends.sim.experiment import START
from capcon.tui.cli.main import main
from capcon.tui.lab.app import DecisionLog, LabApp
from capcon.tui.lab.stream import START_SHARDS, StreamExperiment


def test_the_stream_scales_up_on_the_push_signal_and_catches_up() -> None:
    run = StreamExperiment("top-heavy", 70.0)
    run.advance(3 * 3600)
    outs = [(at, d) for at, _r, _d, d in run.decisions if d.action == "scale-out"]
    assert outs and run.open_shards > START_SHARDS
    # the jump comes at 15 min: the first scale-out within minutes of it, not ten
    assert outs[0][0] - START <= timedelta(minutes=15 + 5)
    # never more than double per action (UpdateShardCount's limit)
    shards = [START_SHARDS] + [d.capacity or 0 for _at, d in outs]
    assert all(0 < b <= 2 * a for a, b in pairwise(shards))
    accepted, refused, shard_hours = run.totals()
    assert refused > 0  # the jump outran one shard
    assert accepted / (accepted + refused) > 0.9
    minutes = run.minutes()
    assert all(demand - served < 1e-9 for _t, demand, served, _s in minutes[-60:])  # caught up
    assert shard_hours == pytest.approx(sum(s for *_x, s in minutes) / 60)


def test_the_stream_scales_down_only_at_the_36_h_check_by_halving() -> None:
    run = StreamExperiment("top-heavy", 70.0)
    run.advance(3 * 3600)
    peak = run.open_shards
    due = run.next_scale_down_check()
    assert due == START + timedelta(minutes=1) + timedelta(hours=36)
    run.advance(round((due - run.now()).total_seconds()) - 60)
    assert run.open_shards == peak and run.scale_downs == 0  # quiet for a day: still waits
    run.advance(5 * 60)
    assert run.scale_downs == 1
    assert run.open_shards == -(-peak // 2)
    assert run.next_scale_down_check() == due + timedelta(hours=36)


async def test_the_kinesis_lane_runs_beside_the_table_lanes_with_its_countdown() -> None:
    app = LabApp("top-heavy", 70.0, ("aas", "kinesis"), autoplay=False)
    async with app.run_test(size=(160, 50)) as pilot:
        app.advance(3 * 3600)
        await pilot.pause()
        kinesis = app.lanes[1]
        assert kinesis.stream is not None
        title = str(app.query_one("#lane-1 .lane-title", Static).render())
        assert "shard-h\n4 shards, 3 closed · scale-down check in" in title
        assert "scale-down check in 33 h" in title
        # shards are not WCU: the stream keeps its own y-scale beside the shared one
        assert kinesis.axis_top < 20 < app.lanes[0].axis_top
        table = app.query_one("#results", DataTable)
        row = table.get_row("kinesis")
        assert str(row[-1]).endswith("shards") and "shard-h" in str(row[3])
        log = app.query(DecisionLog)[1]
        outs = [line.plain for line in log.entries if "scale-out" in line.plain]
        assert outs and "shards" in outs[0]
        # one line per change of words, not one per minute of the countdown
        holds = [
            line.plain
            for line in log.entries
            if " hold: " in line.plain and "next scale-down check" in line.plain
        ]
        assert len(holds) <= 3


def test_capcon_lab_takes_the_kinesis_lane(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[tuple[str, ...]] = []
    monkeypatch.setattr(LabApp, "run", lambda self: ran.append(self.policy_names))
    assert main(["lab", "--pattern", "top-heavy", "--policies", "h2,kinesis"]) == 0
    assert ran == [("h2", "kinesis")]


async def test_below_60_percent_the_kinesis_lane_says_it_runs_at_60() -> None:
    """The kinesis policy scales back to 60 % of the new count: a lower lab target would
    make its rule impossible, so the lane runs at 60 % and says so."""
    app = LabApp("bell", 40.0, ("h2", "kinesis"), autoplay=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        stream = app.lanes[1].stream
        assert stream is not None and stream.target == 60.0
        assert "kinesis (at 60%)" in str(app.query_one("#lane-1 .lane-title", Static).render())
