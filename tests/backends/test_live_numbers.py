"""Live numbers on a moto account whose CloudWatch data is published as AWS publishes it.

``Consumed*CapacityUnits`` every minute, ``Read/WriteThrottleEvents`` only in minutes that
throttle, ``Provisioned*CapacityUnits`` every 5 minutes, each minute arriving a minute or more
after it ends (docs/aws-rules.md#cloudwatch-data-as-aws-writes-it).  ``now`` is driven by the
test (an adapter whose clock is set), and a minute is put into moto only once it would have
been published by then: no sleeps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from capcon.core.backends.aws.adapter import AwsAdapter
from capcon.core.backends.aws.session import AwsSession
from capcon.core.config.prices import load_price_book
from capcon.core.ports import align_down
from capcon.core.rules import RuleSettings
from capcon.core.services.feed import Feed
from capcon.core.services.metrics import LATE_MARGIN
from capcon.core.services.overview import Row, collect_rows
from capcon.tui.text import last_throttled_text, throttle_cell, throttled_text
from tests.support.aws import create_table

MINUTE = timedelta(minutes=1)
RULES = RuleSettings()
PRICES = load_price_book("us-east-1")
TABLE = "orders"
#: throttled writes per second in every throttling minute (the issue's 66/s)
THROTTLED = 66.0


class ClockedAdapter(AwsAdapter):
    """The AWS adapter with a clock the test sets."""

    clock: datetime

    def now(self) -> datetime:
        return self.clock


class Publisher:
    """Puts one table's CloudWatch minutes into moto the way AWS does, as time passes.

    ``throttling`` minutes (offsets from ``start``) have a ``WriteThrottleEvents`` datapoint;
    no other minute does.  Minute ``m`` arrives ``late[m]`` (default ``lateness``) after it
    ends; consumed capacity is published every minute, provisioned every 5 minutes.
    """

    def __init__(
        self,
        cw: Any,
        start: datetime,
        throttling: range,
        *,
        lateness: timedelta = MINUTE,
        late: dict[int, timedelta] | None = None,
        table: str = TABLE,
    ) -> None:
        self.cw = cw
        self.start = start
        self.throttling = throttling
        self.lateness = lateness
        self.late = late or {}
        self.table = table
        self.sent: set[int] = set()

    def minute(self, m: int) -> datetime:
        return self.start + m * MINUTE

    def until(self, now: datetime, minutes: int = 120) -> None:
        """Every minute that has arrived by ``now``."""
        for m in range(minutes):
            if m in self.sent:
                continue
            if self.minute(m) + MINUTE + self.late.get(m, self.lateness) <= now:
                self.sent.add(m)
                self.put(m)

    def put(self, m: int) -> None:
        at = self.minute(m) + timedelta(seconds=20)  # a sample inside the minute
        dims = [{"Name": "TableName", "Value": self.table}]

        def datum(name: str, value: float) -> dict[str, Any]:
            return {"MetricName": name, "Dimensions": dims, "Timestamp": at, "Value": value}

        data = [
            datum("ConsumedReadCapacityUnits", 30.0 * 60),
            # while throttling, writes run at capacity (100 WCU)
            datum("ConsumedWriteCapacityUnits", (100.0 if m in self.throttling else 80.0) * 60),
        ]
        if m in self.throttling:
            data.append(datum("WriteThrottleEvents", THROTTLED * 60))
        if m % 5 == 0:
            data.append(datum("ProvisionedReadCapacityUnits", 100.0))
            data.append(datum("ProvisionedWriteCapacityUnits", 100.0))
        self.cw.put_metric_data(Namespace="AWS/DynamoDB", MetricData=data)


@pytest.fixture
def adapter(url: str, raw: Callable[[str], Any]) -> Iterator[ClockedAdapter]:
    create_table(raw("dynamodb"), TABLE, read=100, write=100)
    yield ClockedAdapter(AwsSession(endpoint_url=url))


def start_minute() -> datetime:
    """Two hours ago, on the minute: CloudWatch (and moto) take datapoints from the past."""
    return align_down(datetime.now(UTC)) - timedelta(hours=2)


def row_of(rows: list[Row], name: str = TABLE) -> Row:
    return next(r for r in rows if r.name == name)


def test_a_fixed_table_stops_showing_throttles_within_two_minutes(
    adapter: ClockedAdapter, raw: Callable[[str], Any]
) -> None:
    """Throttling in minutes 0–29, fixed from minute 30 (the first minute with no throttle
    datapoint).  ``ls`` (a fresh read each time) and the console's feed (incremental) both
    show 66/s until the first clean minute is published, and 0 from two minutes after the fix
    on; the old mean of the newest throttle datapoints showed 66/s for 15 more minutes."""
    start = start_minute()
    fix = start + 30 * MINUTE
    publisher = Publisher(raw("cloudwatch"), start, range(30))
    feed = Feed(adapter, RULES, PRICES)
    adapter.clock = start + 20 * MINUTE
    feed.refresh()  # the inventory, once (the console reads it again only now and then)
    tables = adapter.describe_tables([TABLE])

    def ls_rows() -> list[Row]:
        """What ``capcon ls`` computes: a fresh read of the metrics (AAS left out: slow
        on moto, and not what is tested)."""
        return collect_rows(adapter, RULES, PRICES, tables=tables, streams=[], auto_scaling={})

    seen: list[tuple[datetime, float, float]] = []
    moments = [start + 20 * MINUTE, *(fix + timedelta(seconds=s) for s in range(-60, 300, 30))]
    moments.append(fix + 12 * MINUTE)
    for moment in moments:
        adapter.clock = moment
        publisher.until(adapter.clock)
        ls_row = row_of(ls_rows())
        feed_row = row_of(feed.refresh([TABLE], inventory=False).rows)
        seen.append((adapter.clock, ls_row.throttled_per_second, feed_row.throttled_per_second))
        for row in (ls_row, feed_row):
            if adapter.clock >= fix + 2 * MINUTE:
                # the minute after the fix has been published: a missing throttle datapoint
                # in a complete minute is a zero
                assert row.throttled_per_second == 0, seen[-1]
                assert not row.throttling
                assert row.throttle_minute is not None and row.throttle_minute >= fix
            else:
                # the last complete minute throttled: a minute not yet published is not
                # known, so it is never shown as a zero
                assert row.throttled_per_second == pytest.approx(THROTTLED), seen[-1]
                assert row.throttled_write_per_second == pytest.approx(THROTTLED)
                assert row.throttled_read_per_second == 0
                assert throttled_text(row) == "66.0 W"
            # when it last throttled: minute 29 (its datapoint arrives at minute 31)
            if adapter.clock >= start + 31 * MINUTE:
                assert row.last_write_throttled == start + 29 * MINUTE
            assert row.last_read_throttled is None
    # ten minutes after the fix: the rows say when it last throttled
    adapter.clock = fix + 10 * MINUTE + timedelta(seconds=15)
    publisher.until(adapter.clock)
    row = row_of(ls_rows())
    last = start + 29 * MINUTE
    assert row.last_throttled == last
    # minute 29 ended at the fix, 10 min 15 s before now
    assert last_throttled_text(row, adapter.clock) == f"{last:%H:%M} UTC, writes (10 min ago)"
    assert throttle_cell(row, adapter.clock) == "0 · 10m ago"
    feed_row = row_of(feed.refresh([TABLE], inventory=False).rows)
    assert throttle_cell(feed_row, adapter.clock) == "0 · 10m ago"


def test_an_idle_table_clears_once_its_minute_is_older_than_the_late_margin(
    adapter: ClockedAdapter, raw: Callable[[str], Any]
) -> None:
    """No consumed datapoint after the throttling (the traffic stopped): a minute is complete
    once it ended ``LATE_MARGIN`` before the metrics were asked for."""
    start = start_minute()
    publisher = Publisher(raw("cloudwatch"), start, range(10))
    publisher.until(start + 12 * MINUTE, minutes=10)  # nothing after minute 9
    adapter.clock = start + 10 * MINUTE + LATE_MARGIN + timedelta(seconds=59)
    row = row_of(collect_rows(adapter, RULES, PRICES))
    assert row.throttle_minute == start + 9 * MINUTE
    assert row.throttled_per_second == pytest.approx(THROTTLED)
    adapter.clock = start + 11 * MINUTE + LATE_MARGIN
    row = row_of(collect_rows(adapter, RULES, PRICES))
    assert row.throttle_minute == start + 10 * MINUTE
    assert row.throttled_per_second == 0
    assert row.last_write_throttled == start + 9 * MINUTE


def test_a_late_minute_is_backfilled_on_the_next_poll(
    adapter: ClockedAdapter, raw: Callable[[str], Any]
) -> None:
    """Minute 20 arrives 6 minutes late, past the service's re-ask margin, and minute 25
    arrives while the row is off screen: the poll after each has filled them in (the old
    service took a minute older than its margin as final and left it "no data" for good)."""
    start = start_minute()
    create_table(raw("dynamodb"), "aside", read=100, write=100)
    cw = raw("cloudwatch")
    late = {20: 6 * MINUTE, 25: 4 * MINUTE}
    main = Publisher(cw, start, range(0), late=late)
    aside = Publisher(cw, start, range(0), late=late, table="aside")
    feed = Feed(adapter, RULES, PRICES, spark_minutes=30)

    def sparks(name: str) -> dict[datetime, float | None]:
        spark = snapshot.sparks[name]
        return dict(zip(spark.minutes, spark.write, strict=True))

    for m in range(15, 40):
        adapter.clock = start + m * MINUTE + timedelta(seconds=30)
        main.until(adapter.clock)
        aside.until(adapter.clock)
        # "aside" is off screen from minute 22 to minute 33
        visible = [TABLE] if 22 <= m < 34 else [TABLE, "aside"]
        snapshot = feed.refresh(visible, hidden=m < 22 or m >= 34, inventory=m == 15)
        for name, publisher in ((TABLE, main), ("aside", aside)):
            if name not in visible:
                continue
            held = sparks(name)
            for n in publisher.sent:
                moment = start + n * MINUTE
                if moment in held and n + 1 < m - 1:  # published before the previous poll
                    assert held[moment] is not None, (m, name, n)
    # both late minutes are there, on screen and off
    for name in (TABLE, "aside"):
        held = sparks(name)
        assert held[start + 20 * MINUTE] == pytest.approx(80.0 * 60)
        assert held[start + 25 * MINUTE] == pytest.approx(80.0 * 60)
