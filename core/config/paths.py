"""Where capcon keeps the user's files, as platformdirs finds them.

- config (``config.toml``, ``rules.toml``, ``prices.toml``, ``themes/``):
  ``$XDG_CONFIG_HOME/capcon``, by default ``~/.config/capcon``;
- state (the audit log, ``audit.jsonl``): ``$XDG_STATE_HOME/capcon``, by default
  ``~/.local/state/capcon``.

These are the XDG locations on Linux and on macOS too (where capcon has always used them:
platformdirs' macOS default, ``~/Library/Application Support``, would silently move an
existing config away); Windows gets its own per-user folders (``%LOCALAPPDATA%\\capcon``).
An XDG variable that is empty or not an absolute path is ignored, as the XDG Base Directory
spec asks ("If an implementation encounters a relative path in any of these variables it
should consider the path invalid and ignore it"): platformdirs does so since 4.11.8, the
version ``pyproject.toml`` requires.  Both directories follow the same rule; before, the
audit log took a relative ``XDG_STATE_HOME`` as given while the config ignored a relative
``XDG_CONFIG_HOME``.

platformdirs is pure Python and small (the modules it loads on Linux are about 115 KB of
source, imported in a few milliseconds, with nothing but the standard library), so the core
may import it here; nothing else in the core does.
"""

from __future__ import annotations

import sys
from pathlib import Path

from platformdirs import PlatformDirs
from platformdirs.api import PlatformDirsABC
from platformdirs.unix import Unix

APP_NAME = "capcon"


def _dirs() -> PlatformDirsABC:
    """The platform's directories for capcon, read from the environment now."""
    if sys.platform == "win32":
        return PlatformDirs(APP_NAME, appauthor=False)
    return Unix(APP_NAME)


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/capcon``, or ``~/.config/capcon``."""
    return _dirs().user_config_path


def config_path() -> Path:
    """The config file: ``config.toml`` in :func:`config_dir`."""
    return config_dir() / "config.toml"


def state_dir() -> Path:
    """``$XDG_STATE_HOME/capcon``, or ``~/.local/state/capcon``."""
    return _dirs().user_state_path


def audit_path() -> Path:
    """The audit log: ``audit.jsonl`` in :func:`state_dir`."""
    return state_dir() / "audit.jsonl"
