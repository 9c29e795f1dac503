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

from capcon.core.schema import SettingsError, apply_overrides

__all__ = ["SettingsError", "apply_overrides", "read_toml"]


def read_toml(path: Path | Traversable) -> dict[str, Any]:
    """The parsed TOML file, or :class:`SettingsError` saying why it could not be read.

    ``path`` may be a file shipped with the package (``importlib.resources.files(…)``).
    """
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError(f"{path}: no such file") from None
    except OSError as error:
        raise SettingsError(f"{path}: cannot be read ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{path}: not valid TOML ({error})") from None
    except UnicodeDecodeError:
        raise SettingsError(f"{path}: not valid TOML (the file is not UTF-8 text)") from None
