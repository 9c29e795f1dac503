"""Teachable Kinesis on the detail screen (issue 19): reshard markers on a stream's charts,
its closed shards listed with their ids, closed time, readable-until and cost assumption, and
the per-minute shard limits drawn as they were (the limit line follows the shard count's
history, not today's count over the whole window)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

from capcon.core.model import HASH_KEY_SPACE, HashRange, Shard, Stream
from capcon.core.planning.requests import ShardChange
from capcon.core.services.audit import AuditLog, Origin
from capcon.core.services.scaler import Scaler
from capcon.tui.console.screens.detail import (
    RESHARD_MARK,
    ChartPanel,
    reshard_marks,
    shard_count_steps,
)
from tests.console.test_detail import NOW, SIZE, make_app, open_detail, panel_text
from tests.support.faulty import make_plan

HALF = HASH_KEY_SPACE // 2


def test_the_shard_count_steps_where_shards_opened_and_closed() -> None:
    start, end = NOW - timedelta(hours=3), NOW
    split = NOW - timedelta(hours=1)
    whole = HashRange(0, HASH_KEY_SPACE - 1)
    stream = Stream(
        "s",
        shards=(
            Shard("shardId-0", whole, ending_sequence="9"),
            Shard("shardId-1", HashRange(0, HALF - 1), parent_id="shardId-0"),
            Shard("shardId-2", HashRange(HALF, HASH_KEY_SPACE - 1), parent_id="shardId-0"),
        ),
    )
    times = {
        "shardId-0": (NOW - timedelta(days=1), split),
        "shardId-1": (split, None),
        "shardId-2": (split, None),
    }
    steps = shard_count_steps(stream, times, start, end)
    assert steps == ((start, 1.0), (split, 1.0), (split, 2.0), (end, 2.0))
    marks = reshard_marks(steps, start)
    assert [(m.at, m.text, m.symbol) for m in marks] == [(split, "1 → 2 shards", RESHARD_MARK)]
    # AWS says nothing of when: today's count over the whole window, no marks
    flat = shard_count_steps(stream, None, start, end)
    assert flat == ((start, 2.0), (end, 2.0)) and reshard_marks(flat, start) == ()


async def test_a_reshard_steps_the_limit_marks_the_charts_and_lists_closed_shards(
    tmp_path: Path,
) -> None:
    app, acc = make_app(tmp_path)
    log = AuditLog(tmp_path / "audit.jsonl")
    scaler = Scaler(acc, log, Origin("tester", "sim:demo"), wait=lambda s: acc.advance(int(s)))
    before = {s.shard_id for s in acc.describe_stream("payments").shards}
    assert scaler.apply(make_plan(acc, "payments", ShardChange(8))).outcome == "applied"
    resharded = acc.now()
    acc.advance(10 * 60)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot, "payments")
        data = screen.data
        assert data is not None
        bytes_chart, records_chart = data.charts[0], data.charts[1]
        limit = next(s for s in records_chart.series if s.label == "limit")
        values = [v for _, v in limit.points]
        assert values[0] == 4_000.0 and values[-1] == 8_000.0  # as it was, then as it is
        step = next(t for (t, v), (_, w) in itertools.pairwise(limit.points) if v != w)
        assert abs(step - resharded) < timedelta(minutes=2)
        mib = next(s for s in bytes_chart.series if s.label == "limit")
        assert mib.points[0][1] == 4.0 and mib.points[-1][1] == 8.0
        reshards = [m for m in records_chart.marks if m.source == "reshard"]
        assert [m.text for m in reshards] == ["4 → 8 shards"]
        plot = screen.query_one("#chart-records", ChartPanel).plot
        assert RESHARD_MARK in plot.plt.build()
        text = panel_text(screen)
        closed = sorted(before)
        assert f"Closed shards ({len(closed)})" in text
        for shard_id in closed:
            assert shard_id in text
        retention = acc.describe_stream("payments").retention_hours
        assert retention == 48  # payments keeps two days: readable until then
        until = resharded + timedelta(hours=retention)
        # one reshard closed them all: one line says when, and until when they are readable
        assert f"  {len(closed)} closed {until - timedelta(hours=retention):%H:%M} (" in text
        assert f"readable until {until:%d %b %H:%M} (in 47 h" in text
        assert ", ".join(closed) in text
        assert "assumed not billed" in text and "bill_closed_shards" in text
        # capcon's reshard is a recent change of the stream
        assert "capcon · shards 4 → 8 · applied" in text
        assert "8 open shards (4 closed)" in str(screen.query_one("#detail-title").render())


async def test_without_shard_times_the_limit_says_it_is_todays(tmp_path: Path) -> None:
    """AWS tells neither when shards opened nor closed: the line is today's count, labelled
    so, and no reshard is marked."""
    from tests.console.test_detail_dilution import app_for

    _, acc = make_app(tmp_path)
    acc.update_shard_count("payments", 8)
    acc.advance(10 * 60)
    app = app_for(acc, tmp_path, simulated=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot, "payments")
        assert screen.data is not None
        records = screen.data.charts[1]
        limit = next(s for s in records.series if s.role == "provisioned")
        assert limit.label == "limit (today's shards)"
        assert {v for _, v in limit.points} == {8_000.0}
        assert not [m for m in records.marks if m.source == "reshard"]
        assert "closed (AWS does not say when)" in panel_text(screen)
