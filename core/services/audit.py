"""The audit log: who changed what, when, from what to what, and how it ended.

JSON lines in the user's state directory (``$XDG_STATE_HOME/capcon/audit.jsonl``, by default
``~/.local/state/capcon/audit.jsonl``), created with mode 0600.  The scaler writes an
*intent* record and forces it to disk **before** it sends a change, and an *outcome* record
after, so a crash between the two still leaves a trace of what was attempted.  Records hold
only what the scaler puts in them: never credentials (endpoint URLs lose any user info).
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from capcon.core.config.paths import audit_path
from capcon.core.jsonable import to_jsonable

Phase = Literal["intent", "progress", "outcome"]


def redact_endpoint(url: str | None) -> str | None:
    """An endpoint URL without any ``user:password@`` part."""
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


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
    """Append-only JSON lines, each flushed and fsynced before :meth:`write` returns."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or audit_path()

    def write(self, record: AuditRecord) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        line = (record.to_json() + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The newest ``limit`` records (all when ``None``), oldest first; bad lines skipped."""
        if not self.path.exists():
            return []
        records: list[dict[str, Any]] = []
        with self.path.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    value = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(value, dict):
                    records.append(value)
        return records if limit is None else records[-limit:]
