"""The audit log: who changed what, when, from what to what, and how it ended.

JSON lines in the user's state directory (``$XDG_STATE_HOME/capcon/audit.jsonl``, by default
``~/.local/state/capcon/audit.jsonl``), created with mode 0600 in a folder made 0700.  The file
is opened with ``O_NOFOLLOW``: a symbolic link at the audit path is refused, never followed or
written through, and an existing file with another mode is set back to 0600 (the fix is kept
in :attr:`AuditLog.notices` for the caller to show).  A log that cannot be opened for append
raises :class:`AuditLogError`; the scaler checks that before it sends anything.

The scaler writes an *intent* record and forces it to disk **before** it sends a change, and
an *outcome* record after, so a crash between the two still leaves a trace of what was
attempted.  Records hold only what the scaler puts in them: never credentials (endpoint URLs
lose any user info).
"""

from __future__ import annotations

import errno
import json
import os
import stat
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from capcon.core.config.paths import audit_path
from capcon.core.errors import CapconError
from capcon.core.jsonable import to_jsonable
from capcon.core.redact import redact_optional

Phase = Literal["intent", "progress", "outcome", "reconciled"]
"""``reconciled``: what a later command found for a change left open (see
:mod:`capcon.core.services.reconcile`)."""

#: The only mode the audit log keeps (owner read/write).
AUDIT_MODE = 0o600


class AuditLogError(CapconError):
    """The audit log cannot be opened (a symbolic link, a directory, no permission, …)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"the audit log {path} cannot be used: {reason}")
        self.path = path
        self.reason = reason


def _reason(error: OSError) -> str:
    """Why opening the audit log failed, in words (never a traceback)."""
    if error.errno == errno.ELOOP:
        return "it is a symbolic link, which capcon never follows (remove it or replace it)"
    if error.errno == errno.EISDIR:
        return "it is a directory"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if error.errno == errno.EROFS:
        return "its folder is on a read-only file system"
    return error.strerror or type(error).__name__


def redact_endpoint(url: str | None) -> str | None:
    """An endpoint URL as the audit log keeps it: :func:`capcon.core.redact.redact_optional`
    (no user info, no secret query values; the one redaction capcon has)."""
    return redact_optional(url)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a change is sent: the backend and the identity behind it."""

    who: str
    backend: str
    profile: str | None = None
    region: str | None = None
    endpoint: str | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One line of the audit log."""

    change_id: str
    phase: Phase
    at: datetime
    origin: Origin
    resource: str
    kind: str
    summary: str
    before: Any = None
    after: Any = None
    outcome: str | None = None
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        record = asdict(self)
        record["origin"]["endpoint"] = redact_endpoint(self.origin.endpoint)
        return json.dumps(to_jsonable(record), ensure_ascii=False, sort_keys=True)


def new_change_id() -> str:
    return uuid.uuid4().hex[:12]


class AuditLog:
    """Append-only JSON lines, each flushed and fsynced before :meth:`write` returns.

    ``notices`` collects what the log fixed on its own (a mode set back to 0600), each said
    once; :meth:`take_notices` hands them to the caller to show and forgets them.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or audit_path()
        self.notices: list[str] = []

    def take_notices(self) -> list[str]:
        """The notices not yet shown, oldest first; the list is emptied."""
        taken, self.notices = self.notices, []
        return taken

    def _open_append(self) -> int:
        """A descriptor open for append on the regular file at :attr:`path` (mode 0600)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(
                self.path,
                os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                AUDIT_MODE,
            )
        except OSError as error:
            raise AuditLogError(self.path, _reason(error)) from error
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise AuditLogError(self.path, "it is not a regular file")
            mode = stat.S_IMODE(info.st_mode)
            if mode != AUDIT_MODE:
                os.fchmod(fd, AUDIT_MODE)
                self.notices.append(
                    f"the audit log {self.path} had mode {mode:04o}; "
                    f"capcon set it to {AUDIT_MODE:04o} (only you can read it)"
                )
        except OSError as error:
            os.close(fd)
            raise AuditLogError(self.path, _reason(error)) from error
        except AuditLogError:
            os.close(fd)
            raise
        return fd

    def check_writable(self) -> None:
        """Raise :class:`AuditLogError` unless the log can be opened for append (it is
        created, and its mode fixed, as :meth:`write` would)."""
        os.close(self._open_append())

    def write(self, record: AuditRecord) -> None:
        line = (record.to_json() + "\n").encode("utf-8")
        fd = self._open_append()
        try:
            os.write(fd, line)
            os.fsync(fd)
        except OSError as error:
            raise AuditLogError(self.path, _reason(error)) from error
        finally:
            os.close(fd)

    def read(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The newest ``limit`` records (all when ``None``), oldest first; bad lines skipped.

        A missing log reads as empty; a symbolic link is not followed (:class:`AuditLogError`).
        """
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            return []
        except OSError as error:
            raise AuditLogError(self.path, _reason(error)) from error
        records: list[dict[str, Any]] = []
        try:
            with os.fdopen(fd, encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    try:
                        value = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    if isinstance(value, dict):
                        records.append(value)
        except OSError as error:  # a directory at the path fails here, on the first read
            raise AuditLogError(self.path, _reason(error)) from error
        return records if limit is None else records[-limit:]
