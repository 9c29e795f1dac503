"""Where the user's files are: platformdirs, the XDG locations on Linux, and one rule for a
relative XDG variable (ignored, as the spec says) for the config and the audit log alike."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from capcon.core.config.paths import audit_path, config_dir, config_path, state_dir
from capcon.tui.bootstrap import open_audit

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the XDG layout")


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    return tmp_path


def test_defaults_are_the_readme_locations(home: Path) -> None:
    assert config_path() == home / ".config" / "capcon" / "config.toml"
    assert audit_path() == home / ".local" / "state" / "capcon" / "audit.jsonl"


def test_absolute_xdg_values_are_used(
    home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert config_dir() == tmp_path / "cfg" / "capcon"
    assert state_dir() == tmp_path / "state" / "capcon"
    assert audit_path() == tmp_path / "state" / "capcon" / "audit.jsonl"


@pytest.mark.parametrize("value", ["", "relative/dir", "~/state"])
def test_empty_or_relative_xdg_values_are_ignored_for_both(
    home: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """The XDG spec: a relative path is invalid and must be ignored.  The audit log once
    took a relative ``XDG_STATE_HOME`` as given (a log beside wherever capcon ran)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", value)
    monkeypatch.setenv("XDG_STATE_HOME", value)
    assert config_dir() == home / ".config" / "capcon"
    assert state_dir() == home / ".local" / "state" / "capcon"


def test_the_audit_log_is_kept_in_the_state_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert open_audit().path == tmp_path / "capcon" / "audit.jsonl"
    monkeypatch.setenv("XDG_STATE_HOME", "relative")
    assert open_audit().path.is_absolute()
