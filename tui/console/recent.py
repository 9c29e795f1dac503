"""The recent changes the list marks on its rows: capcon's audit log and Application Auto
Scaling's activities, read by the poll worker, sparingly.

- The audit log is a local file: it is read again only when its size or time changed (after
  an apply of this console, or of another capcon process), never on every poll.
- Auto scaling's activities are one ``DescribeScalingActivities`` for the whole DynamoDB
  namespace (one request per 50 activities; AWS keeps six weeks of them), read only when
  some row has a scalable target, and on AWS at most every :data:`AWS_ACTIVITIES_SECONDS`:
  one paginated read every two minutes, whatever the polling pace.  The API is free of
  charge (it is rate limited: this stays far below its limit).  The simulated account costs
  nothing and is read with every poll.

On the simulated account only the changes made while this console is open count: the audit
log also holds the changes of earlier demos, made on worlds that are gone.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from capcon.core.errors import CapconError
from capcon.core.ports import Backend
from capcon.core.services.audit import AuditError, AuditLog, Origin
from capcon.core.services.changes import (
    RECENT,
    RecentChange,
    changes_from_activities,
    changes_from_audit,
    same_account,
)
from capcon.core.services.overview import Row

#: Real seconds between two reads of auto scaling's activities on AWS.
AWS_ACTIVITIES_SECONDS = 120.0
#: The newest audit records read (a log grows forever; a day's changes are far fewer).
AUDIT_RECORDS = 5_000


@dataclass(frozen=True, slots=True)
class ChangesRead:
    """What one look found: every recent change (``None``: nothing new since the last look)
    and what could not be read (``None``: everything was)."""

    changes: tuple[RecentChange, ...] | None
    error: str | None = None


class RecentWatch:
    """Reads the recent changes for the poll worker and the refresh after an apply (one
    look at a time)."""

    def __init__(
        self,
        audit: AuditLog,
        origin: Origin,
        *,
        simulated: bool,
        clock: Callable[[], float],
        activities_seconds: float = AWS_ACTIVITIES_SECONDS,
    ) -> None:
        self.audit = audit
        self.origin = origin
        self.simulated = simulated
        self.clock = clock
        self.activities_seconds = 0.0 if simulated else activities_seconds
        self._audit_seen: tuple[int, int] | None = None
        self._audit_changes: tuple[RecentChange, ...] = ()
        self._activities: tuple[RecentChange, ...] = ()
        self._activities_at: float | None = None
        #: on the simulated account, the change ids in the log when the console opened
        self._before: frozenset[str] | None = None
        #: how many reads of each kind were made (for tests and the cost said above)
        self.audit_reads = 0
        self.activity_reads = 0
        self._lock = threading.Lock()

    def force_audit(self) -> None:
        """Read the audit log at the next look, whatever its size and time say."""
        self._audit_seen = None

    def look(self, backend: Backend, rows: Sequence[Row], now: datetime) -> ChangesRead:
        """Read what is due; ``now`` is the backend's time (the window's end)."""
        with self._lock:
            return self._look(backend, rows, now)

    def _look(self, backend: Backend, rows: Sequence[Row], now: datetime) -> ChangesRead:
        errors: list[str] = []
        changed = False
        try:
            changed |= self._read_audit()
        except AuditError as error:
            errors.append(f"audit log not read: {error}")
        if any(r.auto_scaling.registered for r in rows) and self._activities_due():
            self._activities_at = self.clock()
            try:
                activities = backend.describe_scaling_activities(None)
            except CapconError as error:
                errors.append(f"auto scaling activities not read: {error}")
            else:
                self.activity_reads += 1
                start = now - RECENT
                found = tuple(c for c in changes_from_activities(activities) if c.at >= start)
                changed |= found != self._activities
                self._activities = found
        problem = "; ".join(errors) or None
        if not changed:
            return ChangesRead(None, problem)
        return ChangesRead(self._audit_changes + self._activities, problem)

    def _activities_due(self) -> bool:
        at = self._activities_at
        return at is None or self.clock() - at >= self.activities_seconds

    def _read_audit(self) -> bool:
        """Read the log again if it changed since the last read; whether the changes did."""
        try:
            info = os.stat(self.audit.path)
            seen = (info.st_size, info.st_mtime_ns)
        except FileNotFoundError:
            seen = (0, 0)
        except OSError as error:
            raise AuditError(str(error)) from error
        if seen == self._audit_seen:
            return False
        self._audit_seen = seen
        records = self.audit.read(AUDIT_RECORDS) if seen != (0, 0) else []
        self.audit_reads += 1
        mine = [r for r in records if same_account(r, self.origin)]
        if self.simulated:
            if self._before is None:
                self._before = frozenset(str(r.get("change_id")) for r in mine)
            mine = [r for r in mine if str(r.get("change_id")) not in self._before]
        found = tuple(changes_from_audit(mine))
        changed = found != self._audit_changes
        self._audit_changes = found
        return changed
