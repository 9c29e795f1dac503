"""Recent changes to a resource, from capcon's own audit log and from Application Auto
Scaling's scaling activities, in one shape the console shows on rows, charts and panels.

CONTRACT (session 25, issue 19): signatures fixed by the lead; the ``oncall`` helper
implements them (and tests them); the ``detail`` helper uses them.  The row name is the
overview's :attr:`capcon.core.services.overview.Row.name`: ``TABLE``, ``TABLE/INDEX`` or
``STREAM``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from capcon.core.ports import ScalingActivity

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


def changes_from_audit(records: Iterable[Mapping[str, Any]]) -> list[RecentChange]:
    """capcon's changes from audit records (:meth:`AuditLog.read` dicts): one per change id,
    intent and outcome joined; malformed records are skipped, never raised on."""
    raise NotImplementedError


def changes_from_activities(activities: Iterable[ScalingActivity]) -> list[RecentChange]:
    """Auto scaling's changes: one per activity, its row from the AAS resource id."""
    raise NotImplementedError


def recent_for(
    changes: Iterable[RecentChange], row: str, now: datetime, window: timedelta = RECENT
) -> list[RecentChange]:
    """The changes of ``row`` that started within ``window`` before ``now`` (none in the
    future), newest first."""
    raise NotImplementedError


def change_mark(change: RecentChange, now: datetime) -> str:
    """A short mark for a row cell: source glyph and age, e.g. ``✎ 4m`` (capcon) or
    ``⇅ 2h`` (auto scaling); at most 6 cells."""
    raise NotImplementedError
