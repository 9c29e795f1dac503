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
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from capcon.core.errors import CapconError
from capcon.core.jsonable import to_jsonable
from capcon.core.redact import redact_optional
from capcon.core.schema import json_depth

if TYPE_CHECKING:
    from capcon.core.ports import AuditStore

Phase = Literal["intent", "progress", "outcome", "reconciled"]
"""``reconciled``: what a later command found for a change left open (see
:mod:`capcon.core.services.reconcile`)."""

#: The only mode the audit log keeps (owner read/write).
AUDIT_MODE = 0o600


class AuditError(CapconError):
    """An audit record cannot be written (or the audit trail cannot be used): the scaler
    refuses any change it cannot record."""


class AuditLogError(AuditError):
    """The audit log cannot be opened (a symbolic link, a directory, no permission, …)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"the audit log {path} cannot be used: {reason}")
        self.path = path
        self.reason = reason


def os_reason(error: OSError) -> str:
    """Why opening a file of capcon's (the audit log, a state file) failed, in words (never a
    traceback)."""
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
        return json.dumps(self.to_object(), ensure_ascii=False, sort_keys=True)

    def to_object(self) -> dict[str, Any]:
        """The record as a JSON object: exactly what :meth:`to_json` writes on one line."""
        record = asdict(self)
        record["origin"]["endpoint"] = redact_endpoint(self.origin.endpoint)
        value = to_jsonable(record)
        assert isinstance(value, dict)
        return value


def new_change_id() -> str:
    return uuid.uuid4().hex[:12]


@runtime_checkable
class AuditSink(Protocol):
    """Where the scaler's audit records go: what it needs of an audit trail.

    :class:`AuditLog` (the local JSON-lines file) and :class:`StoreAudit` (any
    :class:`~capcon.core.ports.AuditStore`, e.g. the deployed engine's DynamoDB table) are
    sinks.  ``check_writable`` raises :class:`AuditError` when a record could not be
    written; ``write`` makes the record durable before it returns (the intent before the call
    depends on it) or raises :class:`AuditError`; ``take_notices`` hands over what the sink
    fixed on its own; ``read`` gives the newest ``limit`` records, oldest first.
    """

    def check_writable(self) -> None: ...

    def write(self, record: AuditRecord) -> None: ...

    def take_notices(self) -> list[str]: ...

    def read(self, limit: int | None = None) -> list[dict[str, Any]]: ...


class StoreAudit:
    """An :class:`AuditSink` over any :class:`~capcon.core.ports.AuditStore`: each record is
    appended as a JSON object with the same fields as a line of the JSON-lines file
    (:meth:`AuditRecord.to_object`).  A store that fails raises :class:`AuditError` (the
    scaler then refuses the change).  ``read`` keeps only what is a record
    (:func:`record_problem`), as the file's reader does."""

    def __init__(self, store: AuditStore, *, label: str = "the audit store") -> None:
        self.store = store
        self.label = label
        self.notices: list[str] = []

    def check_writable(self) -> None:
        """Nothing to open: a store is checked by its first write (the intent), which comes
        before anything is sent."""

    def write(self, record: AuditRecord) -> None:
        try:
            self.store.append(record.to_object())
        except CapconError as error:
            raise AuditError(f"{self.label} cannot be written: {error}") from error

    def take_notices(self) -> list[str]:
        taken, self.notices = self.notices, []
        return taken

    def read(self, limit: int | None = None) -> list[dict[str, Any]]:
        try:
            found = self.store.read(limit)
        except CapconError as error:
            raise AuditError(f"{self.label} cannot be read: {error}") from error
        records = [r for r in found if record_problem(r) is None]
        skipped = len(found) - len(records)
        if skipped:
            self.notices.append(
                f"{skipped} item{'s' if skipped != 1 else ''} of {self.label} skipped: "
                f"{NOT_A_RECORD}"
            )
        return records


class AuditLog:
    """Append-only JSON lines, each flushed and fsynced before :meth:`write` returns.

    ``notices`` collects what the log fixed on its own (a mode set back to 0600), each said
    once; :meth:`take_notices` hands them to the caller to show and forgets them.
    """

    def __init__(self, path: Path) -> None:
        # The default place (``config.paths.audit_path``, through platformdirs) is chosen by
        # the front end: the engine's Lambda package holds no platformdirs.
        self.path = path
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
            raise AuditLogError(self.path, os_reason(error)) from error
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
            raise AuditLogError(self.path, os_reason(error)) from error
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
            raise AuditLogError(self.path, os_reason(error)) from error
        finally:
            os.close(fd)

    def read(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The newest ``limit`` records (all when ``None``), oldest first; lines that are not
        capcon records are skipped (:meth:`read_checked` says which and why).

        A missing log reads as empty; a symbolic link is not followed (:class:`AuditLogError`).
        """
        return self.read_checked(limit).records

    def read_checked(self, limit: int | None = None) -> AuditReading:
        """The newest ``limit`` records, and every line skipped with its number and why.

        A line is a record only if it is UTF-8, JSON no deeper than :data:`MAX_RECORD_DEPTH`,
        and an object with the fields every record has, of the right types
        (:func:`record_problem`); phases and outcomes are any strings, so records of newer
        kinds still read.  Whatever a line holds, it is skipped with a reason, never raised.
        """
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            return AuditReading([], ())
        except OSError as error:
            raise AuditLogError(self.path, os_reason(error)) from error
        records: list[dict[str, Any]] = []
        skipped: list[SkippedLine] = []
        try:
            with os.fdopen(fd, "rb") as handle:
                for number, raw in enumerate(handle, 1):
                    if not raw.strip():
                        continue
                    record, problem = parse_record_line(raw)
                    if record is None:
                        skipped.append(SkippedLine(number, problem))
                    else:
                        records.append(record)
        except OSError as error:  # a directory at the path fails here, on the first read
            raise AuditLogError(self.path, os_reason(error)) from error
        kept = records if limit is None else records[-limit:] if limit > 0 else []
        return AuditReading(kept, tuple(skipped))


#: The longest line read as a record (records are a few kilobytes).
MAX_RECORD_BYTES = 1_000_000
#: The deepest nesting a record may have (``before``/``after`` hold a resource's JSON).
MAX_RECORD_DEPTH = 32

#: The fields every record has and the JSON types they take (``None``: also null).
_REQUIRED: dict[str, type] = {
    "change_id": str,
    "phase": str,
    "at": str,
    "origin": dict,
    "resource": str,
}
_OPTIONAL: dict[str, type] = {
    "kind": str,
    "summary": str,
    "outcome": str,
    "error": str,
    "details": dict,
}
_ORIGIN_REQUIRED = ("who", "backend")
_ORIGIN_OPTIONAL = ("profile", "region", "endpoint")

#: Why a line was skipped, as the user reads it.
NOT_UTF8 = "not UTF-8 text"
NOT_JSON = "not JSON"
TOO_DEEP = f"nested more than {MAX_RECORD_DEPTH} levels deep"
TOO_LONG = f"longer than {MAX_RECORD_BYTES:,} bytes"
NOT_A_RECORD = "not a capcon record"


@dataclass(frozen=True, slots=True)
class SkippedLine:
    """A line of the audit log that is not a record: its number (from 1) and why."""

    number: int
    reason: str


@dataclass(frozen=True, slots=True)
class AuditReading:
    """What :meth:`AuditLog.read_checked` found: the records and the lines skipped."""

    records: list[dict[str, Any]]
    skipped: tuple[SkippedLine, ...]

    def notice(self) -> str | None:
        """One sentence for the user about the lines skipped (``None`` if none was):
        ``2 audit lines skipped (lines 14, 90): not a capcon record``."""
        if not self.skipped:
            return None
        by_reason: dict[str, list[int]] = {}
        for line in self.skipped:
            by_reason.setdefault(line.reason, []).append(line.number)
        parts = []
        for reason, numbers in by_reason.items():
            shown = ", ".join(str(n) for n in numbers[:10])
            more = f" and {len(numbers) - 10} more" if len(numbers) > 10 else ""
            word = "line" if len(numbers) == 1 else "lines"
            parts.append(f"({word} {shown}{more}): {reason}")
        count = len(self.skipped)
        return f"{count} audit line{'s' if count != 1 else ''} skipped " + "; ".join(parts)


def parse_record_line(raw: bytes) -> tuple[dict[str, Any] | None, str]:
    """The record on one line of the log, or ``None`` and why it is not one."""
    if len(raw) > MAX_RECORD_BYTES:
        return None, TOO_LONG
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, NOT_UTF8
    if json_depth(text, MAX_RECORD_DEPTH + 1) > MAX_RECORD_DEPTH:
        return None, TOO_DEEP
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # JSONDecodeError; an int past the digit limit
        return None, NOT_JSON
    problem = record_problem(value)
    if problem is not None:
        return None, f"{NOT_A_RECORD} ({problem})"
    assert isinstance(value, dict)
    return value, ""


def record_problem(value: object) -> str | None:
    """What makes ``value`` (a parsed line) not an audit record, or ``None`` if it is one.

    Required fields must be there with their types; optional ones may be null; unknown
    fields, phases and outcomes are accepted (newer capcon versions add them).  Every
    string must be valid Unicode (JSON's ``\\ud800`` makes lone surrogates, which no
    terminal can print) and ``at`` an ISO 8601 time.
    """
    if not isinstance(value, dict):
        return f"a JSON {_json_type(value)}, not an object"
    for key, kind in _REQUIRED.items():
        if not isinstance(value.get(key), kind):
            return f"{key} is {_json_type(value.get(key))}, not {_json_name(kind)}"
    for key, kind in _OPTIONAL.items():
        if value.get(key) is not None and not isinstance(value[key], kind):
            return f"{key} is {_json_type(value[key])}, not {_json_name(kind)} or null"
    origin = value["origin"]
    for key in _ORIGIN_REQUIRED:
        if not isinstance(origin.get(key), str):
            return f"origin.{key} is {_json_type(origin.get(key))}, not a string"
    for key in _ORIGIN_OPTIONAL:
        if origin.get(key) is not None and not isinstance(origin[key], str):
            return f"origin.{key} is {_json_type(origin[key])}, not a string or null"
    try:
        datetime.fromisoformat(value["at"])
    except ValueError:
        return "at is not an ISO 8601 time"
    if not _valid_text(value):
        return "a string is not valid Unicode"
    return None


def _valid_text(value: object) -> bool:
    """Whether every string (and key) in ``value`` encodes as UTF-8, found without
    recursion."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


def _json_type(value: object) -> str:
    if value is None:
        return "missing or null"
    return _json_name(type(value))


def _json_name(kind: type) -> str:
    names = {str: "a string", dict: "an object", list: "a list", bool: "true or false"}
    return names.get(kind, "a number" if kind in (int, float) else kind.__name__)
