"""The words and numbers both UIs show for a row of the overview and a record of the audit
log, written once: ``capcon ls`` and ``capcon audit`` print them, the console's list and
audit screen paint them.  Plain strings; each UI adds its own styles (and escapes them with
:func:`markup_safe`, the one way text from outside is made safe for a terminal).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from capcon.core.model import StreamWarmThroughput
from capcon.core.rules import fmt_duration
from capcon.core.services.overview import Row


def capacity_text(row: Row, *, compact: bool = False) -> str:
    """``500 / 300`` (read / write units), ``on-demand`` or ``4 shards``; ``compact`` for a
    narrow column: ``500/300``, ``4 sh``."""
    if row.kind == "stream":
        return f"{row.shards} {'sh' if compact else 'shards'}"
    gap = "/" if compact else " / "
    if row.capacity is None:
        limit = row.on_demand_max
        if limit is None:
            return "on-demand"

        def most(units: int) -> str:
            return f"{units:,}" if units else "-"

        # on-demand with a maximum (OnDemandThroughput): the ceiling requests throttle at
        return f"max {most(limit.read)}{gap}{most(limit.write)}"
    return f"{row.capacity.read:,}{gap}{row.capacity.write:,}"


def use_text(row: Row) -> str:
    """What a row consumes per second: ``261 / 114`` units, or a stream's MiB/s and rec/s
    (``?`` when metrics could not be read)."""
    if not row.metrics_known:
        return "?"
    if row.kind == "stream" and row.stream_traffic is not None:
        t = row.stream_traffic
        return f"{t.bytes_in_per_second / 2**20:.2f} MiB/s, {t.records_in_per_second:,.0f} rec/s"
    if row.usage is None:
        return ""
    return f"{row.usage.read:,.0f} / {row.usage.write:,.0f}"


def warm_text(warm: StreamWarmThroughput) -> str:
    """A stream's warm throughput: ``target 200 MiB/s · current 80 MiB/s`` (``?``: not
    reported)."""

    def mib(value: int | None) -> str:
        return "?" if value is None else f"{value:,} MiB/s"

    return f"target {mib(warm.target_mibps)} · current {mib(warm.current_mibps)}"


def util_text(row: Row) -> str:
    if not row.metrics_known:
        return "?"
    return "" if row.utilisation is None else f"{row.utilisation:.0%}"


def throttled_sides(row: Row) -> str:
    """Which requests throttled in the last complete minute: ``R``, ``W`` or ``R+W`` (a
    stream's throttled records: ``""``)."""
    if row.kind == "stream":
        return ""
    sides = [
        s
        for s, v in (("R", row.throttled_read_per_second), ("W", row.throttled_write_per_second))
        if v > 0
    ]
    return "+".join(sides)


def throttled_text(row: Row) -> str:
    """Throttled per second in the last complete minute, marked read or write
    (``66.0 W``)."""
    if not row.metrics_known:
        return "?"
    if not row.throttling:
        return "0"
    return f"{row.throttled_per_second:,.1f} {throttled_sides(row)}".rstrip()


def _ago(moment: datetime, now: datetime, *, compact: bool) -> str:
    seconds = max(0.0, (now - moment).total_seconds())
    if not compact:
        return "just now" if seconds < 60 else f"{fmt_duration(seconds, step=60)} ago"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m ago"
    return f"{minutes // 60}h ago" if minutes < 48 * 60 else f"{minutes // 1440}d ago"


def last_throttled_text(row: Row, now: datetime, *, compact: bool = False) -> str:
    """When the row last throttled, from the end of that minute: ``19:38 UTC (12 min ago)``,
    ``12m ago`` (``compact``), ``none since 18:41`` (``""`` compact), ``?`` unknown."""
    if not row.metrics_known:
        return "?"
    last = row.last_throttled
    if last is None:
        if compact or row.throttles_since is None:
            return ""
        return f"none since {row.throttles_since:%H:%M} UTC"
    ended = last + timedelta(minutes=1)
    if compact:
        return _ago(ended, now, compact=True)
    sides = [
        s
        for s, t in (("reads", row.last_read_throttled), ("writes", row.last_write_throttled))
        if t == last
    ]
    where = f", {' and '.join(sides)}" if sides and row.kind != "stream" else ""
    return f"{last:%H:%M} UTC{where} ({_ago(ended, now, compact=False)})"


def throttle_cell(row: Row, now: datetime) -> str:
    """The list's throttled/s cell: the rate and side while throttling (``66.0 W``), else
    ``0`` and when it last throttled (``0 · 12m ago``)."""
    text = throttled_text(row)
    if row.throttling or text == "?":
        return text
    last = last_throttled_text(row, now, compact=True)
    return f"0 · {last}" if last else text


def partitions_text(row: Row) -> str:
    return "" if row.partitions is None else f"~{row.partitions.count}"


def cost_text(row: Row) -> str:
    return "" if row.cost_per_hour is None else f"{row.cost_per_hour:.3f}"


#: The audit log's columns, as both UIs head them.
AUDIT_COLUMNS: tuple[str, ...] = (
    "at",
    "change",
    "phase",
    "who",
    "backend",
    "resource",
    "summary",
    "outcome",
)


def audit_cells(record: Mapping[str, Any]) -> tuple[str, ...]:
    """One audit record as the text of :data:`AUDIT_COLUMNS` (whatever the file holds: a
    missing or odd field becomes empty text, never an error)."""
    origin = record.get("origin")
    if not isinstance(origin, Mapping):
        origin = {}
    outcome = str(record.get("outcome") or "")
    if record.get("error"):
        outcome += f": {record['error']}"
    details = record.get("details")
    if record.get("phase") == "reconciled" and isinstance(details, Mapping):
        # what a later command found for a change left open
        outcome = f"reconciled as {outcome} (left as {details.get('left_as', '?')})"
        if details.get("found"):
            outcome += f": {details['found']}"
    return (
        str(record.get("at", ""))[:19].replace("T", " "),
        str(record.get("change_id", "")),
        str(record.get("phase", "")),
        str(origin.get("who", "")),
        str(origin.get("backend", "")),
        str(record.get("resource", "")),
        str(record.get("summary", "")),
        outcome,
    )


# --------------------------------------------------------------------------------------------
# Text from outside (AWS, files, the audit log, the user) made safe for a terminal: the CLI and
# the console both escape through these two.
# --------------------------------------------------------------------------------------------

#: C0 and C1 control characters and DEL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_WHITESPACE = frozenset("\t\n\r\v\f")


#: Lone surrogates: how Python carries argv or file-name bytes that are not UTF-8; no stream
#: can write them, so they are shown as their escape (``\\udcff``).
_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` without control characters (line breaks and tabs become spaces) and with each
    lone surrogate written as its escape."""
    text = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return _CONTROL.sub(lambda m: " " if m.group() in _WHITESPACE else "", text)


def markup_safe(text: str) -> str:
    """``text`` as literal content for a markup string (a notification's message), for Rich
    and for Textual's markup alike.

    Every ``[`` is escaped, not only those that look like a whole tag (``rich.markup.escape``
    leaves ``[/`` alone, which Textual reads as a broken closing tag and raises on).  In both
    parsers ``\\[`` is a literal ``[`` and other backslashes are literal, except that Rich
    halves a run of them before a tag and a trailing one would escape the markup that follows:
    a backslash of the text next to a ``[`` or at the end is followed by a zero-width space.
    """
    safe = _BACKSLASH_BRACKET.sub("\\\u200b[", printable(text)).replace("[", "\\[")
    return safe + "\u200b" if safe.endswith("\\") else safe


_BACKSLASH_BRACKET = re.compile(r"\\\[")
