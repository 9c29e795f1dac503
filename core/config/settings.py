"""The console's config file: ``$XDG_CONFIG_HOME/capcon/config.toml`` (:mod:`.paths`).

A missing file means the defaults.  Anything wrong in an existing file (bad TOML, an unknown
key, a wrong type, a value out of range) is refused as a whole with one message naming the
file, the key, what was given and what is allowed: a console that guesses around a typo in
``production_profiles`` could drop the production safeguards without anyone noticing.

Each key is declared once, as a field of :class:`Config` with its default, range, unit and
help (:mod:`capcon.core.schema`); the README's example lists every key (a test checks).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from capcon.core.config.paths import config_dir, config_path
from capcon.core.config.schema import read_toml
from capcon.core.polling import PollPolicy
from capcon.core.schema import (
    UNIT_SECONDS,
    SettingsError,
    apply_overrides,
    follow,
    order_violation,
    rules_of,
    setting,
    shown,
)

__all__ = [
    "Config",
    "ConfigError",
    "config_dir",
    "config_path",
    "effective_profile",
    "is_production",
    "load_config",
]

_POLICY = PollPolicy()


@dataclass(frozen=True)
class Config:
    """Console settings; the defaults are what a missing config file means.

    The polling keys set the fields of :class:`~capcon.core.polling.PollPolicy` (``sets``),
    whose declarations say which pace may not be faster than which and what an unset key
    follows.
    """

    theme: str = setting(
        "dark",
        "A theme name or alias; checked against the loaded themes by resolve_theme_name.",
        nonblank="a theme name (dark, light, projector, colorblind or a user theme)",
        pattern=r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}",
        allowed="a theme name: letters, digits, '-' or '_', at most 64 (dark, light,"
        " projector, colorblind or a user theme)",
    )
    refresh_seconds: float = setting(
        _POLICY.visible_seconds,
        "Seconds between polls of AWS for the rows on screen (CloudWatch requests cost"
        " money: not too often).",
        low=5.0,
        high=3600.0,
        unit="seconds",
        sets="visible_seconds",
    )
    offscreen_refresh_minutes: float | None = setting(
        None,
        "Minutes between fetches of the rows off screen (default 15, or refresh_seconds if"
        " that is longer).",
        low=1.0,
        high=1440.0,
        unit="minutes",
        sets="hidden_seconds",
    )
    idle_after_minutes: float = setting(
        _POLICY.idle_after_seconds / 60,
        "No key press, click or scroll for this long makes the console idle (0: never).",
        low=0.0,
        high=1440.0,
        unit="minutes",
        note="(0: never idle)",
        sets="idle_after_seconds",
    )
    idle_refresh_seconds: float | None = setting(
        None,
        "While idle, seconds between polls for the rows on screen (default 300, or"
        " refresh_seconds if that is longer).",
        low=5.0,
        high=3600.0,
        unit="seconds",
        sets="idle_visible_seconds",
    )
    idle_offscreen_refresh_minutes: float | None = setting(
        None,
        "While idle, minutes between fetches of the rows off screen (default 60, or the"
        " longer of the two intervals above).",
        low=1.0,
        high=1440.0,
        unit="minutes",
        sets="idle_hidden_seconds",
    )
    sort: str = setting(
        "trouble",
        "The sort the console's list starts with (s cycles them): trouble puts the rows"
        " throttling first, then those nearest to their capacity.",
        pattern=r"trouble|name|util|throttles|cost",
        allowed="one of trouble, name, util, throttles, cost",
    )
    sim_refresh_seconds: float = setting(
        1.0, "Seconds between polls of the simulated account.", low=0.2, high=60.0, unit="seconds"
    )
    production_profiles: tuple[str, ...] = setting(
        (),
        "AWS profile names (shell wildcards allowed, case ignored) shown with the red frame"
        " and needing the resource name typed before any change.",
        allowed='a list of profile names, e.g. ["prod", "*-production"]',
        nonblank="a non-empty profile name",
    )
    confirm_factor: float = setting(
        4.0,
        "Capacity changes by this factor or more (up or down) need the resource name typed.",
        low=1.0,
    )
    read_only: bool = setting(False, "Offer no action that changes anything.")
    prices_file: str | None = setting(
        None,
        "A price file over capcon's defaults (relative paths: from this file's folder).",
        nonblank="the path of a TOML file",
        path=True,
    )
    rules_file: str | None = setting(
        None,
        "A rule file over AWS's documented limits (relative paths: from this file's folder).",
        nonblank="the path of a TOML file",
        path=True,
    )
    screenshot_dir: str | None = setting(
        None,
        "The folder p / F12 saves console and lab screenshots to, made if missing (relative"
        " paths: from this file's folder); default: screenshots in capcon's state folder.",
        nonblank="the path of a folder",
    )

    def _policy_seconds(self) -> dict[str, float]:
        """The polling keys that are set, as :class:`PollPolicy` fields in seconds."""
        seconds: dict[str, float] = {}
        for key, rule in rules_of(Config).items():
            value = getattr(self, key)
            if rule.sets is not None and value is not None:
                seconds[rule.sets] = value * UNIT_SECONDS.get(rule.unit, 1.0)
        return seconds

    def polling(self) -> PollPolicy:
        """The console's AWS polling policy; unset intervals follow the set ones."""
        return PollPolicy(**follow(PollPolicy, self._policy_seconds()))


class ConfigError(SettingsError):
    """The config file cannot be used; the message names the file, key, value and the rule."""


def check_polling(config: Config, given: set[str], source: str) -> None:
    """Idle and off-screen polling may not be faster than the pace they slow down from
    (the order :class:`PollPolicy` declares), said in the config file's keys and units."""
    seconds = follow(PollPolicy, config._policy_seconds())
    broken = order_violation(PollPolicy, seconds)
    if broken is None:
        return
    key_of = {rule.sets: key for key, rule in rules_of(Config).items() if rule.sets}

    def said(field: str) -> str:
        key = key_of[field]
        value = seconds[field] / UNIT_SECONDS.get(rules_of(Config)[key].unit, 1.0)
        default = "" if key in given else ", the default"
        return f"{key} ({shown(Config, key, value)}{default})"

    slower, faster = broken
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
    config = apply_overrides(
        Config(), data, source, base_dir=path.resolve().parent, error=ConfigError
    )
    check_polling(config, set(data), source)
    return config


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
