"""The deploy spec: scalable keys, the Lambda's environment and the alarm marks round-trip,
and bad values are refused with what is allowed."""

from __future__ import annotations

import pytest

from capcon.core.deploy.spec import (
    ENV_DRY_RUN,
    ENV_MANAGED,
    ENV_TARGET,
    MAX_ALARM_DESCRIPTION,
    MAX_ALARM_NAME,
    DeployError,
    DeploySpec,
    alarm_description,
    alarm_name,
    scalable_of_alarm,
    settings_from_environment,
    spec_environment,
)
from capcon.core.ports import Scalable

KEYS = ["table/a.b-c:read", "table/x/index/y_z:write", "stream/s-1:shards"]


@pytest.mark.parametrize("key", KEYS)
def test_keys_round_trip(key: str) -> None:
    assert Scalable.parse(key).key == key


@pytest.mark.parametrize(
    "key",
    ["table/a", "stream/a:read", "table/a:shards", "foo:read", "table//index/x:read", "", ":"],
)
def test_bad_keys_name_the_forms(key: str) -> None:
    with pytest.raises(ValueError, match="stream/NAME:shards"):
        Scalable.parse(key)


def spec(**kw: object) -> DeploySpec:
    base: dict[str, object] = {
        "stack": "orders-engine",
        "policy": "h2",
        "target": 70.0,
        "managed": tuple(Scalable.parse(k) for k in KEYS),
    }
    base.update(kw)
    return DeploySpec(**base)  # type: ignore[arg-type]


def test_environment_round_trips_and_is_a_dry_run_by_default() -> None:
    env = spec_environment(spec())
    settings = settings_from_environment(env)
    assert settings.spec == spec()
    assert settings.dry_run is True
    env[ENV_DRY_RUN] = "false"
    assert settings_from_environment(env).dry_run is False


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        (ENV_TARGET, "seventy", "expected a percentage"),
        (ENV_TARGET, "95", "outside 20–90"),
        (ENV_MANAGED, "table/a:reads", "not a scalable dimension"),
        (ENV_DRY_RUN, "maybe", "expected true or false"),
    ],
)
def test_bad_environment_is_named(name: str, value: str, says: str) -> None:
    env = spec_environment(spec())
    env[name] = value
    with pytest.raises(DeployError, match=says):
        settings_from_environment(env)


def test_problems_name_value_and_rule() -> None:
    problems = spec(stack="9bad", policy="oracle", bounds=(5, 2)).problems()
    assert any("9bad" in p for p in problems)
    assert any("oracle" in p and "h1" in p for p in problems)
    assert any("5–2" in p for p in problems)
    assert spec().problems() == []


def test_alarm_mark_survives_long_names_and_text() -> None:
    long = Scalable("t" * 255, "write", "i" * 255)
    text = alarm_description("st", long, "x" * 5000)
    assert len(text) <= MAX_ALARM_DESCRIPTION
    assert scalable_of_alarm(text) == ("st", long)
    name = alarm_name("st", long, "high")
    assert len(name) <= MAX_ALARM_NAME and name.startswith("st-")
    assert alarm_name("st", long, "high") != alarm_name(
        "st", Scalable("t" * 255, "read", "i" * 255), "high"
    )
    assert scalable_of_alarm("an alarm somebody else wrote") is None
    assert scalable_of_alarm("[capcon stack=st scalable=table/a:nope]") is None
