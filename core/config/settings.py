"""The console's config file: ``$XDG_CONFIG_HOME/capcon/config.toml``.

A missing file means the defaults.  Anything wrong in an existing file (bad TOML, an unknown
key, a wrong type, a value out of range) is refused as a whole with one message naming the
file, the key, what was given and what is allowed: a console that guesses around a typo in
``production_profiles`` could drop the production safeguards without anyone noticing.

Example::

    theme = "projector"              # dark, light, projector, colorblind or a user theme
    refresh_seconds = 60             # AWS: rows on screen, 5 … 3600
    offscreen_refresh_minutes = 15   # AWS: rows off screen, 1 … 1440
    idle_after_minutes = 5           # no key/click/scroll this long = idle (0 = never)
    idle_refresh_seconds = 300       # AWS, idle: rows on screen, 5 … 3600
    idle_offscreen_refresh_minutes = 60   # AWS, idle: rows off screen, 1 … 1440
    sim_refresh_seconds = 1          # simulated account, 0.2 … 60
    production_profiles = ["prod", "*-production"]   # red frame + typed confirmation
    confirm_factor = 4               # changes ×4 or ÷4 or more need the name typed (≥ 1)
    read_only = false
    prices_file = "prices.toml"      # relative paths are relative to this file
    rules_file = "~/capcon/rules.toml"
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from capcon.core.config.schema import SettingsError, apply_overrides, read_toml
from capcon.core.polling import PollPolicy


@dataclass(frozen=True)
class Config:
    """Console settings; the defaults are what a missing config file means."""

    theme: str = "dark"
    """A theme name or alias; checked against the loaded themes by ``resolve_theme_name``."""
    refresh_seconds: float = 60.0
    """Seconds between polls of AWS for the rows on screen (CloudWatch requests cost
    money: not too often)."""
    offscreen_refresh_minutes: float | None = None
    """Minutes between fetches of the rows off screen (default 15, or ``refresh_seconds``
    if that is longer)."""
    idle_after_minutes: float = 5.0
    """No key press, click or scroll for this long makes the console idle (0: never)."""
    idle_refresh_seconds: float | None = None
    """While idle, seconds between polls for the rows on screen (default 300, or
    ``refresh_seconds`` if that is longer)."""
    idle_offscreen_refresh_minutes: float | None = None
    """While idle, minutes between fetches of the rows off screen (default 60, or the
    longer of the two intervals above)."""
    sim_refresh_seconds: float = 1.0
    """Seconds between polls of the simulated account."""
    production_profiles: tuple[str, ...] = ()
    """AWS profile names (shell wildcards allowed, case ignored) shown with the red frame
    and needing the resource name typed before any change."""
    confirm_factor: float = 4.0
    """Capacity changes by this factor or more (up or down) need the resource name typed."""
    read_only: bool = False
    prices_file: str | None = None
    rules_file: str | None = None

    def intervals(self) -> dict[str, float]:
        """The polling intervals in seconds, by config key; unset ones follow the set ones."""
        visible = self.refresh_seconds
        hidden = (
            self.offscreen_refresh_minutes * 60
            if self.offscreen_refresh_minutes is not None
            else max(900.0, visible)
        )
        idle_visible = (
            self.idle_refresh_seconds
            if self.idle_refresh_seconds is not None
            else max(300.0, visible)
        )
        idle_hidden = (
            self.idle_offscreen_refresh_minutes * 60
            if self.idle_offscreen_refresh_minutes is not None
            else max(3600.0, hidden, idle_visible)
        )
        return {
            "refresh_seconds": visible,
            "offscreen_refresh_minutes": hidden,
            "idle_refresh_seconds": idle_visible,
            "idle_offscreen_refresh_minutes": idle_hidden,
        }

    def polling(self) -> PollPolicy:
        """The console's AWS polling policy."""
        seconds = self.intervals()
        return PollPolicy(
            seconds["refresh_seconds"],
            seconds["offscreen_refresh_minutes"],
            self.idle_after_minutes * 60,
            seconds["idle_refresh_seconds"],
            seconds["idle_offscreen_refresh_minutes"],
        )


#: Allowed ranges (inclusive) of the numeric settings, and their unit for messages.
RANGES: dict[str, tuple[float, float, str]] = {
    "refresh_seconds": (5.0, 3600.0, " seconds"),
    "sim_refresh_seconds": (0.2, 60.0, " seconds"),
    "offscreen_refresh_minutes": (1.0, 1440.0, " minutes"),
    "idle_after_minutes": (0.0, 1440.0, " minutes (0: never idle)"),
    "idle_refresh_seconds": (5.0, 3600.0, " seconds"),
    "idle_offscreen_refresh_minutes": (1.0, 1440.0, " minutes"),
    "confirm_factor": (1.0, math.inf, ""),
}

FILE_KEYS: tuple[str, ...] = ("prices_file", "rules_file")


class ConfigError(ValueError):
    """The config file cannot be used; the message names the file, key, value and the rule."""


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/capcon``, or ``~/.config/capcon``.

    A relative ``XDG_CONFIG_HOME`` is ignored, as the XDG spec asks.
    """
    base = os.environ.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "capcon"


def config_path() -> Path:
    """The config file: ``config.toml`` in :func:`config_dir`."""
    return config_dir() / "config.toml"


def _number(value: float) -> str:
    return f"{value:g}"


def _profiles(value: object, source: str) -> tuple[str, ...]:
    wanted = 'a list of profile names, e.g. ["prod", "*-production"]'
    if not isinstance(value, list):
        raise ConfigError(f"{source}: production_profiles: expected {wanted}, got {value!r}")
    names: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(
                f"{source}: production_profiles: every entry must be a non-empty profile name,"
                f" got {item!r} (expected {wanted})"
            )
        if item.strip() not in names:
            names.append(item.strip())
    return tuple(names)


def _allowed_range(key: str) -> str:
    low, high, unit = RANGES[key]
    if math.isfinite(high):
        return f"a number between {_number(low)} and {_number(high)}{unit}"
    return f"a number of at least {_number(low)}{unit}"


def _checked_number(key: str, value: object, source: str) -> float:
    """``value`` as a float within :data:`RANGES`, or :class:`ConfigError` saying the range.

    Checked here rather than by ``apply_overrides`` so that every refusal (a string, a
    boolean, a negative, ``nan``) states the allowed range.
    """
    low, high, _ = RANGES[key]
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        if math.isfinite(number) and low <= number <= high:
            return number
    raise ConfigError(f"{source}: {key} must be {_allowed_range(key)}, got {value!r}")


def _resolve_file(value: str | None, key: str, base: Path, source: str) -> str | None:
    """``value`` as an absolute path (``~`` expanded, relative to the config file's folder)."""
    if value is None:
        return None
    if not value.strip():
        raise ConfigError(f"{source}: {key} must be the path of a TOML file, got {value!r}")
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = base / path
    if not path.is_file():
        raise ConfigError(f"{source}: {key}: {path} does not exist (from {value!r})")
    return str(path)


#: Intervals that must not be shorter than others: (slower, faster), by config key.
_SLOWER_THAN: tuple[tuple[str, str], ...] = (
    ("offscreen_refresh_minutes", "refresh_seconds"),
    ("idle_refresh_seconds", "refresh_seconds"),
    ("idle_offscreen_refresh_minutes", "offscreen_refresh_minutes"),
    ("idle_offscreen_refresh_minutes", "idle_refresh_seconds"),
)


def _check_polling(config: Config, given: set[str], source: str) -> None:
    """Idle and off-screen polling may not be faster than the pace they slow down from."""
    seconds = config.intervals()

    def said(key: str) -> str:
        value = seconds[key]
        shown = f"{value / 60:g} minutes" if key.endswith("_minutes") else f"{value:g} seconds"
        return f"{key} ({shown}{'' if key in given else ', the default'})"

    for slower, faster in _SLOWER_THAN:
        if seconds[slower] < seconds[faster]:
            raise ConfigError(
                f"{source}: {said(slower)} must be at least {said(faster)}: it is the slower"
                " pace, set it longer or leave it out"
            )


def load_config(path: Path | None = None) -> Config:
    """The config in ``path`` (default :func:`config_path`); defaults when it does not exist.

    Raises :class:`ConfigError` for anything wrong in an existing file; nothing is half
    applied.
    """
    path = path if path is not None else config_path()
    source = str(path)
    if not path.exists():
        return Config()
    try:
        data = read_toml(path)
    except SettingsError as error:
        raise ConfigError(str(error)) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: not valid TOML (the file is not UTF-8 text)") from None
    overrides = dict(data)
    # apply_overrides checks types of scalar fields only: the list is checked here.
    profiles = (
        _profiles(overrides.pop("production_profiles"), source)
        if ("production_profiles" in overrides)
        else ()
    )
    for key in RANGES:
        if key in overrides:
            overrides[key] = _checked_number(key, overrides[key], source)
    try:
        config = apply_overrides(Config(), overrides, source)
    except SettingsError as error:
        raise ConfigError(str(error)) from None
    if not config.theme.strip():
        raise ConfigError(
            f"{source}: theme must be a theme name (dark, light, projector, colorblind or a"
            f" user theme), got {config.theme!r}"
        )
    _check_polling(config, set(overrides), source)
    base = path.resolve().parent
    return dataclasses.replace(
        config,
        production_profiles=profiles,
        prices_file=_resolve_file(config.prices_file, "prices_file", base, source),
        rules_file=_resolve_file(config.rules_file, "rules_file", base, source),
    )


def effective_profile(profile: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The AWS profile boto3 will use: ``profile``, else ``$AWS_PROFILE``, else ``default``.

    Pass this (not only the ``--profile`` flag) to :func:`is_production` for the AWS
    backend: someone who runs ``AWS_PROFILE=prod capcon`` must get the production frame
    too.  ``AWS_DEFAULT_PROFILE`` is the older name boto3 still reads.
    """
    if profile and profile.strip():
        return profile.strip()
    env = os.environ if environ is None else environ
    return env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE") or "default"


def is_production(config: Config, profile: str | None) -> bool:
    """Whether ``profile`` is marked production in ``config``.

    Entries are shell-style patterns (``prod``, ``*-prod``, ``prod-*``) matched without
    regard to case: for a safeguard a false alarm is cheap and a miss is not.  ``None``
    means no AWS profile at all (the simulated account) and is never production; for AWS
    pass :func:`effective_profile` so ``$AWS_PROFILE`` and ``default`` are covered.
    """
    if profile is None or not profile.strip():
        return False
    name = profile.strip().lower()
    return any(fnmatchcase(name, pattern.lower()) for pattern in config.production_profiles)
