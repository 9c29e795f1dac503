"""The state-store port (:class:`capcon.core.ports.StateStore`) kept in memory or in a file.

The engine keeps each policy's memory (cooldown clocks, the scale-down schedule) under
``policy#<scalable key>`` so that a later process, or a later Lambda invocation, decides as
an uninterrupted one would.  Every save is *version-conditional*: it writes only if the
stored version is still the one the caller loaded (``None``: only if nothing is stored), and
raises :class:`~capcon.core.errors.StateConflict` otherwise, changing nothing.

:class:`MemoryStateStore`
    A dictionary: tests, and one process's run.
:class:`FileStateStore`
    One JSON file (``capcon autoscale --state FILE``)::

        {"format": 1, "states": {"policy#table/orders:write": {"version": 3, "data": {…}}}}

    written whole on each save: to a temporary file in the same folder, flushed and fsynced,
    mode 0600, then renamed over the old one, so a crash leaves the old file or the new one,
    never half of either.  A save reads the file, checks the version and writes it under an
    exclusive ``flock`` on a lock file beside it (``FILE.lock``), so two processes sharing the
    file cannot both win the same version.  A symbolic link at the path is refused, never
    followed.  A file that is not such a document is a :class:`StateFileError` naming the file
    and what is wrong; it is never overwritten.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from capcon.core.errors import CapconError, StateConflict
from capcon.core.ports import VersionedState
from capcon.core.schema import json_depth
from capcon.core.services.audit import os_reason as _reason

try:  # POSIX; elsewhere two processes sharing one state file are not serialised
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: The format of the state file (its ``format`` key).
STATE_FORMAT = 1
#: The only mode a state file has (owner read/write).
STATE_MODE = 0o600
#: The biggest state file read (states are a few hundred bytes each).
MAX_STATE_BYTES = 16_000_000
#: The deepest nesting a state file may have.
MAX_STATE_DEPTH = 32


class StateFileError(CapconError):
    """A state file that cannot be read or written, or is not a capcon state file."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"the state file {path} cannot be used: {reason}")
        self.path = path
        self.reason = reason


def _conflict(key: str, expected: int | None, stored: int | None) -> StateConflict:
    want = "nothing stored" if expected is None else f"version {expected}"
    have = "nothing stored" if stored is None else f"version {stored}"
    return StateConflict(
        f"the state {key} was saved by someone else meanwhile (expected {want}, found {have}): "
        "nothing was written"
    )


def _check_save(key: str, data: object, expected_version: int | None) -> None:
    if not isinstance(key, str) or not key:
        raise ValueError("a state key is a non-empty string")
    if not isinstance(data, dict):
        raise ValueError(f"the state {key} must be a JSON object, not {type(data).__name__}")
    if expected_version is not None and (
        isinstance(expected_version, bool)
        or not isinstance(expected_version, int)
        or expected_version < 1
    ):
        raise ValueError(f"expected_version {expected_version!r}: a version is None or ≥ 1")


def _json_copy(key: str, data: dict[str, object]) -> dict[str, object]:
    """``data`` as JSON reads it back (a deep copy; ``ValueError`` if it is not JSON-able)."""
    try:
        text = json.dumps(data, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"the state {key} is not JSON: {error}") from None
    value = json.loads(text)
    assert isinstance(value, dict)
    return value


class MemoryStateStore:
    """The state-store port in a dictionary (one process)."""

    def __init__(self) -> None:
        self._states: dict[str, VersionedState] = {}

    def load(self, key: str) -> VersionedState | None:
        found = self._states.get(key)
        if found is None:
            return None
        return VersionedState(found.version, copy.deepcopy(found.data))

    def save(self, key: str, data: dict[str, object], expected_version: int | None) -> int:
        _check_save(key, data, expected_version)
        stored = self._states.get(key)
        current = None if stored is None else stored.version
        if current != expected_version:
            raise _conflict(key, expected_version, current)
        version = 1 if current is None else current + 1
        self._states[key] = VersionedState(version, _json_copy(key, data))
        return version

    def keys(self) -> list[str]:
        return sorted(self._states)


class FileStateStore:
    """The state-store port in one JSON file (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    # --- reading ---------------------------------------------------------------------------

    def _read(self) -> dict[str, VersionedState]:
        """Every state in the file (empty when there is no file)."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            return {}
        except OSError as error:
            raise StateFileError(self.path, _reason(error)) from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise StateFileError(self.path, "it is not a regular file")
            if info.st_size > MAX_STATE_BYTES:
                raise StateFileError(
                    self.path, f"it is larger than {MAX_STATE_BYTES:,} bytes: not a state file"
                )
            with os.fdopen(fd, "rb") as handle:
                fd = -1
                raw = handle.read(MAX_STATE_BYTES + 1)
        except OSError as error:
            raise StateFileError(self.path, _reason(error)) from None
        finally:
            if fd >= 0:
                os.close(fd)
        return self._parse(raw)

    def _parse(self, raw: bytes) -> dict[str, VersionedState]:
        expected = (
            'a JSON object {"format": 1, "states": {KEY: {"version": N, "data": {…}}}} '
            "as capcon writes it"
        )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise StateFileError(self.path, f"it is not UTF-8 text (expected {expected})") from None
        if json_depth(text, MAX_STATE_DEPTH + 1) > MAX_STATE_DEPTH:
            raise StateFileError(self.path, f"it is nested more than {MAX_STATE_DEPTH} deep")
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            raise StateFileError(self.path, f"it is not JSON (expected {expected})") from None
        if not isinstance(document, dict) or not isinstance(document.get("states"), dict):
            raise StateFileError(self.path, f"it is not a capcon state file (expected {expected})")
        if document.get("format") != STATE_FORMAT:
            raise StateFileError(
                self.path,
                f"its format is {document.get('format')!r}; this capcon reads format "
                f"{STATE_FORMAT}",
            )
        states: dict[str, VersionedState] = {}
        for key, entry in document["states"].items():
            version = entry.get("version") if isinstance(entry, dict) else None
            data = entry.get("data") if isinstance(entry, dict) else None
            if (
                isinstance(version, bool)
                or not isinstance(version, int)
                or version < 1
                or not isinstance(data, dict)
            ):
                shown = json.dumps(key, ensure_ascii=True)[:80]
                raise StateFileError(
                    self.path,
                    f"the state {shown} is not "
                    '{"version": N ≥ 1, "data": {…}} (fix or remove it)',
                )
            states[key] = VersionedState(version, data)
        return states

    def load(self, key: str) -> VersionedState | None:
        return self._read().get(key)

    def check(self) -> None:
        """Raise :class:`StateFileError` unless the file is absent or a state file."""
        self._read()

    def keys(self) -> list[str]:
        return sorted(self._read())

    # --- writing ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(
                lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, STATE_MODE
            )
        except OSError as error:
            raise StateFileError(self.path, f"its lock {lock_path}: {_reason(error)}") from None
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the flock

    def save(self, key: str, data: dict[str, object], expected_version: int | None) -> int:
        _check_save(key, data, expected_version)
        fresh = _json_copy(key, data)
        with self._locked():
            states = self._read()
            stored = states.get(key)
            current = None if stored is None else stored.version
            if current != expected_version:
                raise _conflict(key, expected_version, current)
            version = 1 if current is None else current + 1
            states[key] = VersionedState(version, fresh)
            self._write(states)
        return version

    def _write(self, states: dict[str, VersionedState]) -> None:
        document = {
            "format": STATE_FORMAT,
            "states": {
                key: {"version": state.version, "data": state.data}
                for key, state in sorted(states.items())
            },
        }
        text = json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1) + "\n"
        folder = self.path.parent
        try:
            handle, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        except OSError as error:
            raise StateFileError(self.path, _reason(error)) from None
        try:
            with os.fdopen(handle, "wb") as out:
                os.fchmod(out.fileno(), STATE_MODE)
                out.write(text.encode("utf-8"))
                out.flush()
                os.fsync(out.fileno())
            if self.path.is_symlink():
                raise StateFileError(
                    self.path,
                    "it is a symbolic link, which capcon never follows (remove it or replace it)",
                )
            os.replace(temp, self.path)
            with contextlib.suppress(OSError):  # the rename itself made durable
                dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
        except OSError as error:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise StateFileError(self.path, _reason(error)) from None
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
