"""The rule book's numbers from a file: defaults, with a TOML file's overrides."""

from __future__ import annotations

from pathlib import Path

from capcon.core.config.schema import apply_overrides, read_toml
from capcon.core.rules.settings import RuleSettings


def load_rule_settings(path: Path | None) -> RuleSettings:
    """Defaults, with the overrides of a TOML file when one is given."""
    base = RuleSettings()
    if path is None:
        return base
    return apply_overrides(base, read_toml(path), str(path))
