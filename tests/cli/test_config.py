"""The console config file: defaults, every refusal with a clear message, production profiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from capcon.core.config.settings import (
    Config,
    ConfigError,
    config_dir,
    config_path,
    effective_profile,
    is_production,
    load_config,
)
from capcon.core.polling import PollPolicy


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_config_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config_dir() == tmp_path / "capcon"
    assert config_path() == tmp_path / "capcon" / "config.toml"


@pytest.mark.parametrize("value", ["", "relative/dir"])
def test_config_dir_defaults_to_dot_config(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", value)  # empty or relative: ignored (XDG spec)
    assert config_dir() == Path.home() / ".config" / "capcon"


def test_missing_file_means_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert load_config() == Config()
    assert load_config(tmp_path / "nowhere.toml") == Config()
    defaults = Config()
    assert defaults.theme == "dark"
    assert defaults.refresh_seconds == 60.0
    assert defaults.sim_refresh_seconds == 1.0
    assert defaults.production_profiles == ()
    assert defaults.confirm_factor == 4.0
    assert defaults.read_only is False
    assert defaults.prices_file is None and defaults.rules_file is None


def test_empty_file_means_defaults(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "# nothing yet\n")) == Config()


def test_default_location_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "capcon").mkdir()
    (tmp_path / "capcon" / "config.toml").write_text('theme = "light"\n', encoding="utf-8")
    assert load_config().theme == "light"


def test_full_file_loads(tmp_path: Path) -> None:
    (tmp_path / "prices.toml").write_text("", encoding="utf-8")
    rules = tmp_path / "elsewhere" / "rules.toml"
    rules.parent.mkdir()
    rules.write_text("", encoding="utf-8")
    path = write(
        tmp_path,
        f"""
        theme = "projector"
        refresh_seconds = 30
        sim_refresh_seconds = 0.5
        production_profiles = ["prod", "payments-prod", "prod"]
        confirm_factor = 2.5
        read_only = true
        prices_file = "prices.toml"
        rules_file = "{rules}"
        """,
    )
    config = load_config(path)
    assert config == Config(
        theme="projector",
        refresh_seconds=30.0,
        sim_refresh_seconds=0.5,
        production_profiles=("prod", "payments-prod"),
        confirm_factor=2.5,
        read_only=True,
        prices_file=str(tmp_path.resolve() / "prices.toml"),
        rules_file=str(rules),
    )
    assert isinstance(config.refresh_seconds, float)


def test_range_edges_are_allowed(tmp_path: Path) -> None:
    low = load_config(
        write(tmp_path, "refresh_seconds = 5\nsim_refresh_seconds = 0.2\nconfirm_factor = 1\n")
    )
    assert (low.refresh_seconds, low.sim_refresh_seconds, low.confirm_factor) == (5, 0.2, 1)
    high = load_config(write(tmp_path, "refresh_seconds = 3600\nsim_refresh_seconds = 60\n"))
    assert (high.refresh_seconds, high.sim_refresh_seconds) == (3600, 60)


def test_polling_policy_defaults_and_unset_intervals_follow_the_set_ones(tmp_path: Path) -> None:
    assert Config().polling() == PollPolicy(60, 900, 300, 300, 3600)
    slow = load_config(write(tmp_path, "refresh_seconds = 1200\n")).polling()
    assert slow == PollPolicy(1200, 1200, 300, 1200, 3600)
    never_idle = load_config(write(tmp_path, "idle_after_minutes = 0\n")).polling()
    assert never_idle.idle_after_seconds == 0
    assert not never_idle.is_idle(now=10**6, last_input=0)
    custom = load_config(
        write(
            tmp_path,
            "refresh_seconds = 30\noffscreen_refresh_minutes = 5\nidle_after_minutes = 2\n"
            "idle_refresh_seconds = 600\nidle_offscreen_refresh_minutes = 120\n",
        )
    ).polling()
    assert custom == PollPolicy(30, 300, 120, 600, 7200)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("refresh_seconds = 1", ["refresh_seconds", "between 5 and 3600 seconds", "got 1"]),
        ("refresh_seconds = 7200.5", ["refresh_seconds", "between 5 and 3600 seconds", "7200.5"]),
        ("refresh_seconds = -10", ["refresh_seconds", "between 5 and 3600 seconds", "-10"]),
        ("refresh_seconds = nan", ["refresh_seconds", "between 5 and 3600", "nan"]),
        (
            'refresh_seconds = "fast"',
            ["refresh_seconds", "a number between 5 and 3600 seconds", "'fast'"],
        ),
        (
            "refresh_seconds = true",
            ["refresh_seconds", "a number between 5 and 3600 seconds", "True"],
        ),
        ("sim_refresh_seconds = 0.1", ["sim_refresh_seconds", "between 0.2 and 60 seconds", "0.1"]),
        ("sim_refresh_seconds = 61", ["sim_refresh_seconds", "between 0.2 and 60 seconds", "61"]),
        (
            "offscreen_refresh_minutes = 0.5",
            ["offscreen_refresh_minutes", "between 1 and 1440 minutes", "0.5"],
        ),
        ("idle_after_minutes = -1", ["idle_after_minutes", "0: never idle", "-1"]),
        ("idle_refresh_seconds = 4000", ["idle_refresh_seconds", "between 5 and 3600", "4000"]),
        (
            "idle_refresh_seconds = 30",
            ["idle_refresh_seconds (30 seconds)", "at least refresh_seconds (60 seconds, the"],
        ),
        (
            "refresh_seconds = 120\noffscreen_refresh_minutes = 1",
            ["offscreen_refresh_minutes (1 minutes)", "at least refresh_seconds (120 seconds)"],
        ),
        (
            "offscreen_refresh_minutes = 90\nidle_offscreen_refresh_minutes = 30",
            ["idle_offscreen_refresh_minutes (30 minutes)", "offscreen_refresh_minutes (90"],
        ),
        ("confirm_factor = 0.5", ["confirm_factor", "at least 1", "0.5"]),
        ('confirm_factor = "4x"', ["confirm_factor", "a number of at least 1", "'4x'"]),
        ("confirm_factor = inf", ["confirm_factor", "at least 1", "inf"]),
        ('read_only = "yes"', ["read_only", "true or false", "'yes'"]),
        ("theme = 3", ["theme", "expected a theme name", "3"]),
        ('theme = "  "', ["theme", "theme name", "'  '"]),
        (
            'theme = "dark"\ncolour = "red"',
            ["unknown setting 'colour'", "allowed:", "refresh_seconds"],
        ),
        ("[theme]\nname = 'dark'", ["theme", "expected a theme name", "{'name': 'dark'}"]),
        (
            'production_profiles = "prod"',
            ["production_profiles", "a list of profile names", "'prod'"],
        ),
        ("production_profiles = [1]", ["production_profiles", "non-empty profile name", "got 1"]),
        ('production_profiles = [""]', ["production_profiles", "non-empty profile name", "''"]),
        ('prices_file = "missing.toml"', ["prices_file", "missing.toml", "does not exist"]),
        ('rules_file = ""', ["rules_file", "path of a TOML file", "''"]),
        ("refresh_seconds = ", ["not valid TOML", "line 1"]),
        ('theme = "dark"\nrefresh_seconds = 60s', ["not valid TOML", "line 2"]),
    ],
)
def test_bad_values_are_refused_naming_file_key_value_and_what_is_allowed(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    path = write(tmp_path, text + "\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    for part in expected:
        assert part in message, message


def test_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"theme = '\xff'\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


def test_a_directory_in_place_of_the_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "config.toml").mkdir()
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(tmp_path / "config.toml")


def test_config_is_frozen() -> None:
    with pytest.raises(AttributeError):
        Config().theme = "light"  # type: ignore[misc]


# --- production profiles -----------------------------------------------------------------


def test_is_production_matches_names_patterns_and_ignores_case() -> None:
    config = Config(production_profiles=("prod", "*-production", "live-?"))
    assert is_production(config, "prod")
    assert is_production(config, "PROD")
    assert is_production(config, "payments-production")
    assert is_production(config, "live-1")
    assert not is_production(config, "staging")
    assert not is_production(config, "prod-eu")  # no wildcard, no match
    assert not is_production(config, "live-12")
    assert not is_production(config, None)  # the simulated account has no profile
    assert not is_production(Config(), "prod")


def test_effective_profile_follows_boto3(monkeypatch: pytest.MonkeyPatch) -> None:
    assert effective_profile("prod", {"AWS_PROFILE": "dev"}) == "prod"
    assert effective_profile(None, {"AWS_PROFILE": "dev"}) == "dev"
    assert effective_profile(None, {"AWS_DEFAULT_PROFILE": "old"}) == "old"
    assert effective_profile(None, {}) == "default"
    monkeypatch.setenv("AWS_PROFILE", "from-env")
    assert effective_profile(None) == "from-env"
    # the red frame follows AWS_PROFILE, and "default" can be marked production too
    assert is_production(Config(production_profiles=("from-env",)), effective_profile(None))
    assert is_production(Config(production_profiles=("default",)), effective_profile(None, {}))
