"""One change at a time per resource, across capcon processes.

Two ``capcon scale`` runs on one table at once used to both print "applied", their audit
records showing the same "before": one change silently overwrote the other.  The scaler now
holds a :class:`ResourceLock` from the re-read before sending until the outcome is written; a
second process (or a second console) asking for the same resource is refused at once with who
holds it, and when it is free again the scaler's re-read finds the first change and refuses
the second plan as stale.

The lock is an advisory ``flock`` on a small file per resource (``locks/`` beside the audit
log, mode 0600); the kernel releases it when its process ends, however it ends, so a crash
never leaves a resource locked.  The file holds the holder's pid, change id and start time,
for the refusal message only.

A scaler whose audit trail is not a file (:class:`~capcon.core.services.audit.StoreAudit`:
the deployed engine's DynamoDB table, ``capcon deploy invoke``) keeps its locks in a private
folder of the temporary directory instead (:func:`locks_for`; ``/tmp`` in a Lambda): they
still keep two capcon processes on one machine apart.  Across machines nothing is locked:
the deployed Lambda runs with reserved concurrency 1, so one invocation at a time, and the
scaler's re-read before sending refuses a plan someone else made stale.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from capcon.core.errors import CapconError
from capcon.core.services.audit import AuditLog, AuditSink, Origin

try:  # POSIX; elsewhere changes are not locked across processes (said in the docs)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class ResourceBusy(CapconError):
    """Another capcon process is changing the same resource."""


def lock_key(scope: str, kind: str, resource: str) -> str:
    """A file name for the lock of ``resource`` (any text) within ``scope`` (the account,
    region and endpoint): a digest, so names need no escaping."""
    digest = hashlib.sha256(json.dumps([scope, kind, resource]).encode("utf-8")).hexdigest()
    return f"{kind}-{digest[:32]}.lock"


@dataclass(frozen=True, slots=True)
class Holder:
    pid: int | None
    change_id: str
    since: str


class ResourceLock:
    """A held lock on one resource; release it with ``with`` or :meth:`release`."""

    def __init__(self, fd: int | None, path: Path) -> None:
        self._fd = fd
        self.path = path

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def __enter__(self) -> ResourceLock:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.release()


def _holder(fd: int) -> Holder | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        raw = os.read(fd, 4096)
        value = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(value, dict):
        return None
    pid = value.get("pid")
    return Holder(
        pid if isinstance(pid, int) else None,
        str(value.get("change_id", "?"))[:40],
        str(value.get("since", "?"))[:40],
    )


class ResourceLocks:
    """The lock files of one audit log's host (``folder``); ``scope`` separates accounts."""

    def __init__(self, folder: Path, scope: str, *, private: bool = False) -> None:
        self.folder = folder
        self.scope = scope
        self.private = private
        """The folder lies in a shared place (the temporary directory): it is used only if
        it is a real folder of this user that nobody else may enter."""

    @staticmethod
    def _scope(origin: Origin) -> str:
        return "\n".join((origin.backend, origin.region or "", origin.endpoint or ""))

    @classmethod
    def in_temp(cls, origin: Origin) -> ResourceLocks:
        """The locks of changes sent to ``origin`` in a private folder of the temporary
        directory (``capcon-locks-UID``, mode 0700)."""
        uid = os.getuid() if hasattr(os, "getuid") else 0
        folder = Path(tempfile.gettempdir()) / f"capcon-locks-{uid}"
        return cls(folder, cls._scope(origin), private=True)

    def _check_private(self) -> None:
        info = os.lstat(self.folder)
        mine = not hasattr(os, "getuid") or info.st_uid == os.getuid()
        if not stat.S_ISDIR(info.st_mode) or not mine or stat.S_IMODE(info.st_mode) & 0o077:
            raise ResourceBusy(
                f"the lock folder {self.folder} is not a private folder of this user (a "
                "symbolic link, someone else's, or open to others): nothing was sent; "
                "remove it and try again"
            )

    @classmethod
    def beside(cls, audit: AuditLog, origin: Origin) -> ResourceLocks:
        """The locks of changes sent to ``origin`` (its backend, region and endpoint),
        in ``locks/`` beside ``audit``: what the scaler and reconciling share."""
        return cls(audit.path.parent / "locks", cls._scope(origin))

    def acquire(self, kind: str, resource: str, change_id: str) -> ResourceLock:
        """The lock on ``resource``, or :class:`ResourceBusy` at once if another process
        holds it.  A lock folder that cannot be used is a :class:`ResourceBusy` too (the
        change is refused rather than made unprotected)."""
        path = self.folder / lock_key(self.scope, kind, resource)
        if fcntl is None:  # pragma: no cover - Windows
            return ResourceLock(None, path)
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            if self.private:
                self._check_private()
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as error:
            raise ResourceBusy(
                f"the lock for {resource} ({path}) cannot be opened: "
                f"{error.strerror or type(error).__name__}; nothing was sent"
            ) from error
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            holder = _holder(fd)
            os.close(fd)
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise ResourceBusy(
                    f"the lock for {resource} cannot be taken: {error.strerror}; nothing was sent"
                ) from error
            who = (
                f" (pid {holder.pid}, change {holder.change_id}, since {holder.since})"
                if holder
                else ""
            )
            raise ResourceBusy(
                f"another capcon process is changing {resource}{who}: nothing was sent; wait "
                "for it to finish (capcon audit shows its outcome) and preview again"
            ) from None
        info = {
            "pid": os.getpid(),
            "change_id": change_id,
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
        except OSError:
            pass  # the holder's details are for messages only
        return ResourceLock(fd, path)


def locks_for(audit: AuditSink, origin: Origin) -> ResourceLocks:
    """The locks a scaler writing to ``audit`` uses: beside the audit log when it is the
    local file, else in a private temporary folder (see the module docstring)."""
    if isinstance(audit, AuditLog):
        return ResourceLocks.beside(audit, origin)
    return ResourceLocks.in_temp(origin)
