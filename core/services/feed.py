"""Live data for the console: rows and per-minute series, fetched incrementally.

The console shows, for every table, GSI and stream, a row (capacity, use, throttles, cost,
partitions, auto scaling) and sparklines of the last minutes.  On each refresh :class:`Feed`
asks the metrics service (:class:`capcon.core.services.metrics.MetricsService`, which holds
1-minute datapoints per metric and fetches only the minutes it lacks) to bring the rows'
metrics up to date, visible rows first, and reads the rows and sparklines from what it holds.
The service counts every ``GetMetricData`` request sent, so the console can show what polling
costs.

A part of the account that cannot be read (a service denied or failing) does not blank the
console: the rest is shown, the part keeps what an earlier refresh read (or is left out), and
:attr:`Snapshot.notices` names each failed action (see :mod:`.overview`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from capcon.core.model import Stream, Table, Throughput
from capcon.core.ports import Backend, MetricQuery
from capcon.core.pricing import PriceBook
from capcon.core.rules import RuleSettings
from capcon.core.services.metrics import HeldMetrics, MetricsService
from capcon.core.services.overview import (
    AutoScalingState,
    Notice,
    Reading,
    Row,
    UnknownAutoScaling,
    collect_rows,
    read_auto_scaling,
    read_streams,
    read_tables,
    stream_queries,
    table_queries,
)

MINUTE = timedelta(minutes=1)
#: How far back a row looks for its newest datapoints (``collect_rows``: 5 min + 10 late).
ROW_LOOKBACK = timedelta(minutes=15)
#: How late CloudWatch's newest minutes may be, at most, for a full sparkline.
LATE = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Sparks:
    """Per-minute series of one row, oldest first, for sparklines (``None`` = no data)."""

    minutes: tuple[datetime, ...]
    read: tuple[float | None, ...]
    write: tuple[float | None, ...]
    throttled: tuple[float | None, ...]
    read_capacity: float | None = None
    write_capacity: float | None = None
    read_throttled: tuple[float | None, ...] | None = None
    """Throttled reads per minute (``None``: as :attr:`throttled`)."""
    write_throttled: tuple[float | None, ...] | None = None
    """Throttled writes per minute (``None``: as :attr:`throttled`; a stream's throttled
    records limit both its bytes and its records)."""

    def throttles(self, which: str) -> tuple[float | None, ...]:
        """The throttles that mark the ``which`` ("read" or "write") sparkline: a table's
        write throttles never colour its reads."""
        own = self.read_throttled if which == "read" else self.write_throttled
        return self.throttled if own is None else own

    def utilisation(self, which: str) -> tuple[float | None, ...]:
        values = self.read if which == "read" else self.write
        cap = self.read_capacity if which == "read" else self.write_capacity
        if not cap:
            # On-demand serves instantly up to twice the recent peak: show use against that.
            peak = max((v for v in values if v is not None), default=0.0)
            cap = 2 * peak
            if not cap:
                return tuple(None if v is None else 0.0 for v in values)
        return tuple(None if v is None else v / cap for v in values)


@dataclass
class Snapshot:
    """One refresh: rows, their sparklines, and when it was taken."""

    at: datetime
    rows: list[Row]
    sparks: dict[str, Sparks]
    tables: dict[str, Table] = field(default_factory=dict)
    streams: dict[str, Stream] = field(default_factory=dict)
    data_until: datetime | None = None
    undescribed: int = 0
    """Resources listed but not read yet: the first screen comes before the whole account."""
    notices: tuple[Notice, ...] = ()
    """What this refresh could not read (a service denied or failing), and what is missing."""


class Feed:
    """Rows and sparklines for the console, refreshed incrementally through the ports."""

    def __init__(
        self,
        backend: Backend,
        rules: RuleSettings,
        prices: PriceBook,
        *,
        spark_minutes: int = 30,
        keep: timedelta | None = None,
        metrics: MetricsService | None = None,
    ) -> None:
        self.backend = backend
        self.rules = rules
        self.prices = prices
        self.spark_minutes = spark_minutes
        # Only what the list shows: the sparklines (they end at the newest published minute,
        # which CloudWatch publishes minutes late) and the rows' newest minutes.  Longer
        # windows are the detail screen's, asked for while it is open: 3 h of 5,000 series
        # held for the list would cost ≈ 100 MB.
        self.keep = keep or max(timedelta(minutes=spark_minutes) + LATE, ROW_LOOKBACK)
        #: the one GetMetricData caller (the console shares it with its detail screen)
        self.metrics = metrics if metrics is not None else MetricsService(backend)
        self.first_screen_rows = 60
        #: resources listed but not described yet (after a first-screen refresh)
        self.undescribed = 0
        self._tables: dict[str, Table] = {}
        self._streams: dict[str, Stream] = {}
        self._aas: Mapping[str, AutoScalingState] | None = None
        # the newest throttled minute seen per row and dimension, kept after it slides out of
        # the minutes held (so a row says when it last throttled however long ago)
        self._last_throttled: dict[tuple[str, str], datetime] = {}
        self._watching_since: datetime | None = None

    def _queries(
        self, tables: Sequence[Table], streams: Sequence[Stream]
    ) -> dict[str, list[MetricQuery]]:
        """Queries per row name (a table, ``TABLE/INDEX`` or a stream)."""
        out: dict[str, list[MetricQuery]] = {}
        for table in tables:
            out[table.name] = table_queries(table.name, None, "x")
            for index in table.indexes:
                out[f"{table.name}/{index.name}"] = table_queries(table.name, index.name, "x")
        for stream in streams:
            out[stream.name] = stream_queries(stream.name, "x")
        return out

    def refresh(
        self, visible: Sequence[str] = (), *, hidden: bool = True, inventory: bool = True
    ) -> Snapshot:
        """Read the inventory and bring metrics up to date, ``visible`` rows first.

        ``hidden`` False fetches metrics for the visible rows only (rows off screen keep the
        data they had): visibility-aware polling, which is what keeps an idle console on a
        large account cheap.  With no ``visible`` names and ``hidden`` False (the console's
        first poll), only the first :attr:`first_screen_rows` resources are described and
        fetched; the others are counted in :attr:`Snapshot.undescribed` until the next
        full refresh.

        ``inventory`` False re-describes only the visible resources and keeps the last
        description of the others (on AWS a full inventory is a DescribeTable per table and
        two calls per stream: the console does it only when it fetches off-screen rows).
        """
        backend = self.backend
        now = backend.now()
        first_screen = not visible and not hidden
        # Each part read on its own: one that fails keeps what an earlier refresh read, and
        # says so in a notice (credentials missing, or nothing answering at all, still fail).
        reading = Reading()
        if inventory or not (self._tables or self._streams):
            listed_tables = reading.attempt(
                "dynamodb:ListTables", "tables not shown", backend.list_tables
            )
            listed_streams = reading.attempt(
                "kinesis:ListStreams", "streams not shown", backend.list_streams
            )
            if not reading.anything_read and reading.first_error is not None:
                raise reading.first_error  # nothing of the account could be listed
            table_names, stream_names = listed_tables or [], listed_streams or []
            total = len(table_names) + len(stream_names)
            if first_screen:
                # What the list shows first (tables by name, then streams): on AWS a big
                # account takes many seconds to describe (Kinesis allows 20 stream
                # descriptions a second), and the first rows should not wait for it.
                n = self.first_screen_rows
                table_names = sorted(table_names)[:n]
                stream_names = sorted(stream_names)[: max(0, n - len(table_names))]
            if listed_tables is not None:
                self._tables = {t.name: t for t in read_tables(reading, self.backend, table_names)}
            if listed_streams is not None:
                self._streams = {
                    s.name: s for s in read_streams(reading, self.backend, stream_names)
                }
            self.undescribed = total - len(table_names) - len(stream_names)
        else:
            heads = {name.split("/", 1)[0] for name in visible}
            for table in read_tables(reading, self.backend, sorted(heads & set(self._tables))):
                self._tables[table.name] = table
            for stream in read_streams(reading, self.backend, sorted(heads & set(self._streams))):
                self._streams[stream.name] = stream
        tables = list(self._tables.values())
        streams = list(self._streams.values())
        per_row = self._queries(tables, streams)
        if first_screen:
            visible = list(per_row)[: self.first_screen_rows]
        first = [q for name in visible if name in per_row for q in per_row[name]]
        seen = set(visible)
        rest = [q for name, qs in per_row.items() if name not in seen for q in qs]
        wanted = first + rest if hidden else first
        metrics_failed = False
        if wanted:
            start = (now - self.keep).replace(second=0, microsecond=0)

            def fetch() -> bool:
                self.metrics.refresh(wanted, start, now)
                return True

            metrics_failed = (
                reading.attempt(
                    "cloudwatch:GetMetricData",
                    "no new metrics (use unknown where none is held)",
                    fetch,
                    counts=False,
                )
                is None
            )
        if inventory or self._aas is None:  # auto scaling is inventory too: refreshed with it
            aas_now = read_auto_scaling(reading, backend)
            # unreadable now but read before: the last known state stays (the notice says so)
            if not isinstance(aas_now, UnknownAutoScaling) or self._aas is None:
                self._aas = aas_now
        aas = self._aas
        held = self.metrics
        rows = collect_rows(
            backend,
            self.rules,
            self.prices,
            tables=tables,
            streams=streams,
            auto_scaling=aas,
            metrics=HeldMetrics(held),  # what the refresh just fetched: no more requests
            # the first refresh looks back over everything held for the last throttle; later
            # ones only over the row's minutes (what they see is remembered)
            throttle_lookback=self.keep if self._watching_since is None else ROW_LOOKBACK,
        )
        rows = [self._remember_throttles(row, now) for row in rows]
        if metrics_failed:  # a row with no datapoints held has unknown use, not zero
            rows = [
                row
                if row.data_until is not None
                else dataclasses.replace(
                    row,
                    usage=None,
                    stream_traffic=None,
                    utilisation=None,
                    metrics_known=False,
                    cost_per_hour=row.cost_per_hour if row.capacity is not None else None,
                )
                for row in rows
            ]
        newest = held.newest([q for qs in per_row.values() for q in qs])
        end = newest or now.replace(second=0, microsecond=0)
        minutes = tuple(end - MINUTE * i for i in range(self.spark_minutes - 1, -1, -1))
        sparks: dict[str, Sparks] = {}
        for row in rows:
            qs = per_row[row.name]
            if row.kind == "stream":
                b, r, t, *_ = (held.values(q, minutes) for q in qs)
                limit_b = (row.shards or 0) * self.rules.shard_write_bytes_per_second * 60
                limit_r = (row.shards or 0) * self.rules.shard_write_records_per_second * 60
                sparks[row.name] = Sparks(
                    minutes, b, r, t,
                    float(limit_b) if row.mode == "provisioned" else None,
                    float(limit_r) if row.mode == "provisioned" else None,
                )  # fmt: skip
            else:
                cr, cw, tr, tw = (held.values(q, minutes) for q in qs)
                throttled = tuple(
                    None if a is None and b is None else (a or 0.0) + (b or 0.0)
                    for a, b in zip(tr, tw, strict=True)
                )
                cap: Throughput | None = row.capacity
                sparks[row.name] = Sparks(
                    minutes, cr, cw, throttled,
                    cap.read * 60.0 if cap else None,
                    cap.write * 60.0 if cap else None,
                    tr, tw,
                )  # fmt: skip
        return Snapshot(
            now,
            rows,
            sparks,
            {t.name: t for t in tables},
            {s.name: s for s in streams},
            newest,
            self.undescribed,
            tuple(reading.notices),
        )

    def _remember_throttles(self, row: Row, now: datetime) -> Row:
        """``row`` with the newest throttled minutes this feed has seen for it (the minutes
        held reach back :attr:`keep` only) and since when it has been watching."""
        if not row.metrics_known:
            return row
        if self._watching_since is None:
            self._watching_since = row.throttles_since or now - self.keep
        last: dict[str, datetime | None] = {
            "read": row.last_read_throttled,
            "write": row.last_write_throttled,
        }
        for which, seen in list(last.items()):
            key = (row.name, which)
            kept = self._last_throttled.get(key)
            if seen is not None and (kept is None or seen > kept):
                self._last_throttled[key] = seen
            last[which] = self._last_throttled.get(key)
        if (
            last["read"] == row.last_read_throttled
            and last["write"] == row.last_write_throttled
            and row.throttles_since == self._watching_since
        ):
            return row
        return dataclasses.replace(
            row,
            last_read_throttled=last["read"],
            last_write_throttled=last["write"],
            throttles_since=self._watching_since,
        )
