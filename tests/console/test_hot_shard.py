"""The detail screen and the scale dialog read shard loads from one function
(:func:`capcon.core.services.inspect.shard_loads_from`), on demand: accepted + throttled
records.  A shard that accepts fewer records than its neighbour but is refused many more is
the hot one in both views."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from capcon.core.ports import MetricQuery, MetricSeries, RequestCounter
from capcon.core.services.inspect import hottest_shard
from capcon.tui.console.modals.scale import ScaleModal
from capcon.tui.console.screens.detail import DetailScreen
from capcon.tui.console.testing import DEMO_NOW, demo_console, settle

#: Records per second accepted and refused (throttled) by two of clickstream's shards.
ACCEPTED = {0: 900.0, 1: 700.0}
REFUSED = {0: 0.0, 1: 400.0}
OTHERS = 100.0


async def test_detail_and_scale_dialog_name_the_same_hot_shard(tmp_path: Path) -> None:
    app, account = demo_console(tmp_path / "audit.jsonl", now=DEMO_NOW)
    shard_ids = [s.shard_id for s in account.describe_stream("clickstream").open_shards]
    real = account.get_metric_data

    def crafted(
        queries: Sequence[MetricQuery],
        start: datetime,
        end: datetime,
        *,
        sent: RequestCounter | None = None,
    ) -> list[MetricSeries]:
        """The real metrics, but clickstream's per-shard ones as above (5 newest minutes)."""
        if sent is not None:
            sent(len(queries))  # one request, whatever answers it
        minutes = tuple(account.now() - timedelta(minutes=m) for m in range(7, 2, -1))
        out: list[MetricSeries] = []
        passed: list[MetricQuery] = []
        for q in queries:
            shard = dict(q.dimensions).get("ShardId")
            if shard is None:
                passed.append(q)
                continue
            n = shard_ids.index(shard)
            per_second = {
                "IncomingRecords": ACCEPTED.get(n, OTHERS),
                "WriteProvisionedThroughputExceeded": REFUSED.get(n, 0.0),
                "IncomingBytes": 100.0 * ACCEPTED.get(n, OTHERS),
            }[q.metric]
            out.append(MetricSeries(q.id, minutes, (per_second * 60,) * len(minutes)))
        return out + (real(passed, start, end) if passed else [])

    account.get_metric_data = crafted  # type: ignore[method-assign]
    async with app.run_test(size=(160, 50)) as pilot:
        app.action_refresh()
        await settle(app, pilot)
        app.jump_to("clickstream")

        app.action_detail()
        await settle(app, pilot)
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        assert detail.data is not None and detail.data.shards is not None
        in_detail = hottest_shard(detail.data.shards)
        assert in_detail is not None
        detail.action_back()
        await settle(app, pilot)

        app.action_scale()
        await settle(app, pilot)
        modal: Any = app.screen
        assert isinstance(modal, ScaleModal)
        traffic = modal.context.stream_traffic
        assert traffic is not None
        in_dialog = max(traffic.shard_loads, key=lambda s: traffic.shard_loads[s])

    # the shard refused most, not the one that accepted most
    assert in_detail.shard_id == in_dialog == shard_ids[1]
    assert in_detail.load == traffic.shard_loads[in_dialog] == (700 + 400) / 1_000
    assert in_detail.hot
