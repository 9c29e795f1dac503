"""Settings files: TOML read with one kind of message, checked by the one schema.

The schema itself — declarations and the engine that checks values against them — is
:mod:`capcon.core.schema`, at the bottom of the core's layers so that any part of the core may
declare settings (:class:`~capcon.core.polling.PollPolicy` does); this module adds what only
files need.  ``SettingsError`` and ``apply_overrides`` are re-exported for the loaders.
"""

from __future__ import annotations

import tomllib
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from capcon.core.schema import SettingsError, apply_overrides, nesting_depth

__all__ = ["MAX_DEPTH", "MAX_FILE_BYTES", "SettingsError", "apply_overrides", "read_toml"]

#: The deepest nesting of tables and arrays a settings file may have.  capcon's own files
#: need three levels (``[regions.us-east-1]`` and its keys); the limit keeps a hostile file
#: from exhausting the stack of the parser or of the messages about it.
MAX_DEPTH = 16

#: The largest settings file read: capcon's are a few kilobytes.
MAX_FILE_BYTES = 1_000_000


def read_toml(path: Path | Traversable) -> dict[str, Any]:
    """The parsed TOML file, or :class:`SettingsError` saying why it could not be read.

    ``path`` may be a file shipped with the package (``importlib.resources.files(…)``).
    A file larger than :data:`MAX_FILE_BYTES`, not UTF-8, or nested deeper than
    :data:`MAX_DEPTH` is refused with a message, never a traceback.
    """
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise SettingsError(f"{path}: no such file") from None
    except OSError as error:
        raise SettingsError(f"{path}: cannot be read ({error.strerror})") from None
    except UnicodeEncodeError:  # a lone surrogate the file system cannot encode
        raise SettingsError(f"{path!r}: cannot be read (the name is not UTF-8 text)") from None
    except ValueError:  # a NUL byte in the name: no file can have it
        raise SettingsError(f"{path!r}: cannot be read (a file name has no NUL byte)") from None
    if len(raw) > MAX_FILE_BYTES:
        raise SettingsError(
            f"{path}: too large (a settings file is at most {MAX_FILE_BYTES:,} bytes)"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SettingsError(
            f"{path}: not valid TOML (the file is not UTF-8 text: byte {error.start})"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{path}: not valid TOML ({error})") from None
    except RecursionError:
        raise SettingsError(
            f"{path}: nested more than {MAX_DEPTH} levels deep (at most {MAX_DEPTH} levels of"
            " tables and arrays)"
        ) from None
    if nesting_depth(data, MAX_DEPTH + 1) > MAX_DEPTH:
        raise SettingsError(
            f"{path}: nested more than {MAX_DEPTH} levels deep (at most {MAX_DEPTH} levels of"
            " tables and arrays)"
        )
    return data
