"""The console's feed remembers when each row last throttled, after the minutes it holds
have moved past it (docs/aws-rules.md#cloudwatch-data-as-aws-writes-it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from capcon.core.backends.sim.account import SimAccount, TableSpec
from capcon.core.backends.sim.tables import SimSettings
from capcon.core.backends.sim.traffic import Spike, Steady
from capcon.core.config.prices import load_price_book
from capcon.core.model import Throughput
from capcon.core.rules import RuleSettings
from capcon.core.services.feed import Feed

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def test_the_feed_remembers_the_last_throttle_past_what_it_holds() -> None:
    account = SimAccount(T0, settings=SimSettings(metric_delay_seconds=60))
    # 400 writes/s on 100 WCU for 10 minutes from 00:00 (the burst bucket runs dry within
    # the first two minutes), then 50/s
    writes = Spike(base=50, peak=400, at_s=0, duration_s=600, ramp_s=0)
    account.add_table(TableSpec("spiky", Throughput(100, 100), reads=Steady(10), writes=writes))
    feed = Feed(account, RuleSettings(), load_price_book("us-east-1"))
    rows = []
    for _ in range(20):  # a poll every 5 minutes for 100 minutes
        account.advance(300)
        row = next(r for r in feed.refresh().rows if r.name == "spiky")
        rows.append(row)
    # throttling while the spike lasted, never after it
    assert rows[0].throttling and rows[0].throttled_write_per_second > 0
    assert all(not r.throttling for r in rows[3:])
    # the last throttled minute is 00:09, however far the held minutes have moved on
    assert feed.keep < account.now() - T0 - 10 * MINUTE
    assert all(r.last_write_throttled == T0 + 9 * MINUTE for r in rows[2:])
    assert all(r.last_read_throttled is None for r in rows)
    assert rows[-1].throttles_since is not None and rows[-1].throttles_since < T0
