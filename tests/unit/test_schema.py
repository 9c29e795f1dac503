"""The one settings schema: each key declared once, one engine for every file's values."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from capcon.core.config.settings import Config
from capcon.core.polling import PollPolicy
from capcon.core.pricing import REQUIRED_PRICE_FIELDS, PriceBook
from capcon.core.rules import RuleSettings
from capcon.core.schema import (
    SettingsError,
    allowed_text,
    apply_overrides,
    follow,
    order_violation,
    rules_of,
    setting,
    validate,
)

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Pace:
    fast: float = setting(10.0, "The fast pace.", positive=True, unit="seconds")
    slow: float | None = setting(
        None, "The slow pace.", low=1, high=60, unit="minutes", at_least=("fast",)
    )
    slowest: float = setting(
        300.0, "Slowest.", positive=True, unit="seconds", at_least=("fast", "slow")
    )


def test_every_config_key_has_help_and_the_readme_example_lists_every_key() -> None:
    rules = rules_of(Config)
    assert all(rule.help for rule in rules.values()), [k for k, r in rules.items() if not r.help]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration and themes", 1)[1]
    example = re.search(r"```toml\n(.*?)```", section, re.S)
    assert example is not None
    assert set(tomllib.loads(example.group(1))) == set(rules)


def test_the_polling_keys_feed_every_poll_policy_field() -> None:
    fed = {rule.sets for rule in rules_of(Config).values() if rule.sets}
    assert fed == set(rules_of(PollPolicy))


def test_allowed_text_says_type_range_and_unit() -> None:
    rules = rules_of(Pace)
    assert allowed_text(float, rules["fast"]) == "a positive number of seconds"
    assert allowed_text(float, rules["slow"]) == "a number between 1 and 60 minutes"
    assert allowed_text(int, rules_of(RuleSettings)["max_shards_per_stream"]) == (
        "a positive whole number of at most 100000"
    )
    assert allowed_text(timedelta, rules_of(RuleSettings)["decrease_gap"]) == (
        "a number of seconds between 0 and 86400 seconds"
    )


def test_unset_keys_follow_the_keys_they_must_be_at_least_in_their_own_units() -> None:
    # slow is unset: it has no default number, so it is left out (and not compared)
    assert follow(Pace, {}) == {"fast": 10.0, "slowest": 300.0}
    assert follow(Pace, {"fast": 600.0}) == {"fast": 600.0, "slowest": 600.0}
    assert follow(PollPolicy, {"visible_seconds": 1200}) == {
        "visible_seconds": 1200,
        "hidden_seconds": 1200.0,
        "idle_after_seconds": 300.0,
        "idle_visible_seconds": 1200.0,
        "idle_hidden_seconds": 3600.0,
    }


def test_order_is_compared_in_seconds() -> None:
    assert order_violation(Pace, {"fast": 90.0, "slow": 1.0, "slowest": 300.0}) == (
        "slow",
        "fast",
    )
    assert order_violation(Pace, {"fast": 60.0, "slow": 1.0, "slowest": 60.0}) is None
    assert order_violation(Pace, {"fast": 60.0, "slow": None, "slowest": 60.0}) is None
    assert order_violation(Pace, {"fast": 60.0, "slow": None, "slowest": 30.0}) == (
        "slowest",
        "fast",
    )


def test_validate_checks_values_and_order_of_an_object_built_in_code() -> None:
    validate(Pace(fast=30.0, slow=2.0, slowest=120.0))
    with pytest.raises(SettingsError, match=r"slow must be a number between 1 and 60 minutes"):
        validate(Pace(slow=0.5))
    with pytest.raises(SettingsError, match=r"slowest \(30 seconds\) must be at least slow"):
        validate(Pace(slow=2.0, slowest=30.0))


def test_every_float_is_finite_now_rule_files_included() -> None:
    with pytest.raises(SettingsError, match=r"shard_scale_up_factor must be .*got nan"):
        apply_overrides(RuleSettings(), {"shard_scale_up_factor": float("nan")}, "rules.toml")
    with pytest.raises(
        SettingsError, match="max_shards_per_stream: expected a positive whole number"
    ):
        apply_overrides(RuleSettings(), {"max_shards_per_stream": 1.5}, "rules.toml")


def test_a_toml_date_time_keeps_its_day_and_unknown_keys_list_what_is_allowed() -> None:
    zeros: dict[str, Any] = dict.fromkeys(REQUIRED_PRICE_FIELDS, 0.0)
    book = PriceBook(region="r", as_of=date.min, source="s", **zeros)
    moved = apply_overrides(book, {"as_of": datetime(2026, 1, 2, 3, 4)}, "p.toml")
    assert moved.as_of == date(2026, 1, 2)
    assert type(moved.as_of) is date
    with pytest.raises(SettingsError, match=r"^p.toml: unknown setting 'colour' \(allowed: "):
        apply_overrides(book, {"colour": 1}, "p.toml")
