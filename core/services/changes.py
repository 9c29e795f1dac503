"""Recent changes to a resource, from capcon's own audit log and from Application Auto
Scaling's scaling activities, in one shape the console shows on rows, charts and panels.

CONTRACT (session 25, issue 19): signatures fixed by the lead; the ``oncall`` helper
implements them (and tests them); the ``detail`` helper uses them.  The row name is the
overview's :attr:`capcon.core.services.overview.Row.name`: ``TABLE``, ``TABLE/INDEX`` or
``STREAM``.

A change of capcon's that sets the table and GSIs at once (one ``UpdateTable``) is one
change id but a change of several rows: it gives one :class:`RecentChange` per row it
touches, each saying what it did to that row.  Auto scaling's activities that changed
nothing (AWS's *not scaled* ones, ``No change to ...``) are not changes and are left out.

:class:`PendingChange` is what the console asked for and has not seen land yet
(``CapconApp.pending``): the capacity shown at once, marked pending, until the resource is
``ACTIVE`` at it or the apply failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from capcon.core.model import Throughput
from capcon.core.planning.requests import ShardChange
from capcon.core.ports import ScalingActivity, TableChange, parse_resource_id
from capcon.core.redact import redact_optional
from capcon.core.services.audit import Origin

ChangeSource = Literal["capcon", "aas"]

#: How far back a change counts as "recent" on a row.
RECENT = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class RecentChange:
    """One change: capcon's (an audit change id with its intent and outcome) or auto
    scaling's (one scaling activity)."""

    at: datetime
    """When it started: the intent record's time, or the activity's start."""
    source: ChangeSource
    row: str
    """The overview row it belongs to: ``TABLE``, ``TABLE/INDEX`` or ``STREAM``."""
    what: str
    """One line, e.g. ``WCU 100 → 400`` or the activity's description (raw text from the
    audit log or AWS: escape it before a terminal)."""
    outcome: str
    """capcon: ``applied`` / ``refused`` / ``failed`` / ``unknown`` / ``pending`` (intent
    without outcome yet); AAS: the activity status (``Successful``, ``InProgress``, ...)."""
    ended: datetime | None = None


#: capcon's outcome words as a row shows them (the audit log's other words say the same
#: things: ``accepted`` is sent but not followed to ACTIVE yet; ``partial``, ``interrupted``
#: and any word a newer capcon writes are not known to have landed).
_OUTCOMES: dict[str, str] = {
    "applied": "applied",
    "refused": "refused",
    "failed": "failed",
    "unknown": "unknown",
    "accepted": "pending",
    "partial": "unknown",
    "interrupted": "unknown",
}

#: Glyphs of :func:`change_mark`: capcon's own change, auto scaling's.
CAPCON_GLYPH = "✎"
AAS_GLYPH = "⇅"


@dataclass(frozen=True, slots=True)
class PendingChange:
    """A change the console has sent (or is sending) and not yet seen land: the row shows
    :attr:`asked` at once, marked pending, until the resource is ``ACTIVE`` at it (or the
    apply ended without it)."""

    row: str
    """The overview row: ``TABLE``, ``TABLE/INDEX`` or ``STREAM``."""
    asked: Throughput | int
    """The capacity asked for: a table's or GSI's RCU/WCU, or a stream's open shard count."""
    at: datetime
    """When the apply started (the backend's clock)."""
    change_id: str | None = None
    """The audit change id, once the scaler has given one (``None`` until then)."""

    def reached(self, capacity: Throughput | None, shards: int | None, status: str) -> bool:
        """Whether a row read now (its capacity or open shards, and its status) shows this
        change landed: ``ACTIVE`` at the capacity asked for."""
        if status != "ACTIVE":
            return False
        if isinstance(self.asked, Throughput):
            return capacity == self.asked
        return shards == self.asked


def pending_for(resource: str, kind: str, change: object, at: datetime) -> list[PendingChange]:
    """The rows a table or stream change will set, each with the capacity it asks for: a
    :class:`~capcon.core.ports.TableChange` gives its table row (when it sets the table's
    capacity) and one per GSI it sets; a :class:`~capcon.core.planning.requests.ShardChange`
    its stream.  A change that sets no capacity (a class switch, a pre-warm) gives none."""
    if kind == "stream" and isinstance(change, ShardChange):
        return [PendingChange(resource, change.target, at)]
    if not isinstance(change, TableChange):
        return []
    found = [PendingChange(resource, change.table, at)] if change.table is not None else []
    found += [PendingChange(f"{resource}/{index}", asked, at) for index, asked in change.indexes]
    return found


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _when(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _capacity(value: object) -> tuple[int, int] | None:
    """``(read, write)`` from an audit ``{"read": n, "write": n}``, or ``None``."""
    if not isinstance(value, Mapping):
        return None
    read, write = value.get("read"), value.get("write")
    if type(read) is not int or type(write) is not int:
        return None
    return read, write


def _capacity_words(before: tuple[int, int] | None, after: tuple[int, int]) -> str:
    """``WCU 100 → 400`` (the dimensions that changed; both when nothing is known before)."""
    if before is None:
        return f"RCU {after[0]:,} / WCU {after[1]:,}"
    words = [
        f"{unit} {old:,} → {new:,}"
        for unit, old, new in (("RCU", before[0], after[0]), ("WCU", before[1], after[1]))
        if old != new
    ]
    return ", ".join(words) or f"RCU {after[0]:,} / WCU {after[1]:,} (unchanged)"


def _after_colon(summary: str, resource: str) -> str:
    """A summary without its leading ``NAME: `` (the row says the name)."""
    head, sep, rest = summary.partition(": ")
    if sep and (
        head == resource or head.startswith(resource + "/") or head.startswith(resource + " ")
    ):
        return rest
    return summary


def _rows_of(intent: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The rows one change touches and what it did to each: ``[(row, what)]``."""
    resource = intent["resource"]
    kind = intent.get("kind")
    summary = _text(intent.get("summary")) or ""
    details = intent.get("details")
    details = details if isinstance(details, Mapping) else {}
    before = intent.get("before")
    before = before if isinstance(before, Mapping) else {}
    plan = details.get("plan")
    if kind == "table" and isinstance(plan, Mapping):
        found: list[tuple[str, str]] = []
        after = _capacity(plan.get("table"))
        if after is not None:
            found.append((resource, _capacity_words(_capacity(before.get("capacity")), after)))
        indexes = plan.get("indexes")
        old_indexes = before.get("indexes")
        old_indexes = old_indexes if isinstance(old_indexes, Mapping) else {}
        if isinstance(indexes, list):
            for pair in indexes:
                if not (isinstance(pair, list) and len(pair) == 2 and _text(pair[0])):
                    continue
                asked = _capacity(pair[1])
                if asked is not None:
                    was = _capacity(old_indexes.get(pair[0]))
                    found.append((f"{resource}/{pair[0]}", _capacity_words(was, asked)))
        if found:
            return found
        return [(resource, _after_colon(summary, resource))]
    if kind == "stream" and isinstance(plan, Mapping):
        target = plan.get("target")
        if type(target) is int:
            was = before.get("open_shards")
            if type(was) is int:
                return [(resource, f"shards {was:,} → {target:,}")]
            return [(resource, f"shards → {target:,}")]
    if kind == "autoscaling":
        change = details.get("change")
        index = _text(change.get("index")) if isinstance(change, Mapping) else None
        row = f"{resource}/{index}" if index else resource
        return [(row, _after_colon(summary, resource))]
    if kind == "event":
        event = details.get("event")
        request = event.get("request") if isinstance(event, Mapping) else None
        index = _text(request.get("index")) if isinstance(request, Mapping) else None
        row = f"{resource}/{index}" if index else resource
        return [(row, _after_colon(summary, resource))]
    return [(resource, _after_colon(summary, resource))]


def changes_from_audit(records: Iterable[Mapping[str, Any]]) -> list[RecentChange]:
    """capcon's changes from audit records (:meth:`AuditLog.read` dicts): one per change id,
    intent and outcome joined; malformed records are skipped, never raised on.

    A change that sets several rows at once (a table and its GSIs) gives one per row.  The
    last outcome or ``reconciled`` record says how a change ended; an intent without one is
    ``pending``.  Outcome records without an intent are skipped (nothing says what was
    asked).  In the order of the intents (oldest first)."""
    intents: dict[str, Mapping[str, Any]] = {}
    ends: dict[str, tuple[str, datetime]] = {}
    for record in records:
        if not isinstance(record, Mapping):
            continue
        change_id = _text(record.get("change_id"))
        at = _when(record.get("at"))
        if change_id is None or at is None or _text(record.get("resource")) is None:
            continue
        phase = record.get("phase")
        if phase == "intent":
            intents.setdefault(change_id, record)
        elif phase in ("outcome", "reconciled"):
            word = _text(record.get("outcome")) or "unknown"
            ends[change_id] = (_OUTCOMES.get(word, "unknown"), at)
    found: list[RecentChange] = []
    for change_id, intent in intents.items():
        at = _when(intent.get("at"))
        assert at is not None
        outcome, ended = ends.get(change_id, ("pending", None))
        if outcome == "pending":
            ended = None
        try:
            rows = _rows_of(intent)
        except (AttributeError, TypeError, KeyError, ValueError):  # a field of another shape
            rows = [(intent["resource"], _text(intent.get("summary")) or "")]
        found += [RecentChange(at, "capcon", row, what, outcome, ended) for row, what in rows]
    return found


def same_account(record: Mapping[str, Any], origin: Origin) -> bool:
    """Whether an audit record was written for ``origin``'s account: the same backend,
    region and endpoint (the audit log is one per user, across accounts)."""
    theirs = record.get("origin")
    if not isinstance(theirs, Mapping):
        return False
    return (
        theirs.get("backend") == origin.backend
        and theirs.get("region") == origin.region
        and theirs.get("endpoint") == redact_optional(origin.endpoint)
    )


def shown_on_rows(change: RecentChange) -> bool:
    """Whether a row marks the change: not a change of capcon's that was refused or failed
    (nothing was changed)."""
    return not (change.source == "capcon" and change.outcome in ("refused", "failed"))


def _activity_row(resource_id: str) -> str | None:
    """The overview row of an AAS ``ResourceId`` (``None``: not a table, GSI or stream)."""
    try:
        table, index = parse_resource_id(resource_id)
    except ValueError:
        head, sep, name = resource_id.partition("/")
        return name if sep and head == "stream" and name and "/" not in name else None
    return f"{table}/{index}" if index else table


def changed_nothing(activity: ScalingActivity) -> bool:
    """An activity that says auto scaling did not scale (AWS's ``NotScaledReasons``; the
    simulated account's ``No change to ...``)."""
    return activity.description.startswith("No change") or any(
        key.startswith("NotScaledReason") for key in activity.details
    )


def changes_from_activities(activities: Iterable[ScalingActivity]) -> list[RecentChange]:
    """Auto scaling's changes: one per activity, its row from the AAS resource id.

    Activities that scaled nothing (:func:`changed_nothing`) and activities of a resource id
    that is no table, GSI or stream are left out."""
    found: list[RecentChange] = []
    for activity in activities:
        if not isinstance(activity, ScalingActivity) or changed_nothing(activity):
            continue
        row = _activity_row(activity.resource_id)
        if row is None:
            continue
        found.append(
            RecentChange(
                activity.start,
                "aas",
                row,
                activity.description or activity.cause,
                activity.status,
                activity.end,
            )
        )
    return found


def recent_for(
    changes: Iterable[RecentChange], row: str, now: datetime, window: timedelta = RECENT
) -> list[RecentChange]:
    """The changes of ``row`` that started within ``window`` before ``now`` (none in the
    future), newest first."""
    start = now - window
    found = [c for c in changes if c.row == row and start <= c.at <= now]
    found.sort(key=lambda c: c.at, reverse=True)
    return found


def age_text(seconds: float) -> str:
    """An age in at most 3 cells: ``now``, ``4m``, ``2h``, ``3d``."""
    if seconds < 60:
        return "now"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}h"
    return f"{min(hours // 24, 99)}d"


def change_mark(change: RecentChange, now: datetime) -> str:
    """A short mark for a row cell: source glyph and age, e.g. ``✎ 4m`` (capcon) or
    ``⇅ 2h`` (auto scaling); at most 6 cells."""
    glyph = CAPCON_GLYPH if change.source == "capcon" else AAS_GLYPH
    seconds = max(0.0, (now - change.at).total_seconds())
    return f"{glyph} {age_text(seconds)}"
