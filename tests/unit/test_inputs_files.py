"""No traceback for any file: rule, price, config and theme files, describe files and audit
lines are refused (or skipped) with a message naming what was wrong and what is allowed.

Each regression test below reproduces a crash the issue reported (ZeroDivisionError,
OverflowError, RecursionError, TypeError, UnicodeDecodeError, MarkupError); the property tests
generalise them over hostile values in every field.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.text import Text

from capcon.core.backends.aws.describe import (
    DescribeError,
    document_from_json,
    parse_time,
    resource_from_document,
)
from capcon.core.config.prices import load_price_book
from capcon.core.config.rules import load_rule_settings
from capcon.core.config.schema import read_toml
from capcon.core.config.settings import Config, ConfigError, check_polling, load_config
from capcon.core.model import Stream, Throughput
from capcon.core.planning.planner import plan
from capcon.core.planning.requests import ShardChange
from capcon.core.ports import TableChange
from capcon.core.pricing import GLOBAL_KEYS, PRICE_FIELDS
from capcon.core.rules import RuleSettings
from capcon.core.schema import SettingsError, apply_overrides, rules_of, shown_value
from capcon.core.services.audit import AuditLog
from capcon.core.services.inspect import known_reshards
from capcon.tui.console.theming import ThemeError, theme_from_mapping, user_themes
from capcon.tui.text import markup_safe

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
PRICES = load_price_book("us-east-1")
FEW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Values a TOML or JSON file can hold that no setting should take, and a few it may.
HOSTILE = (
    st.sampled_from(
        [
            math.nan,
            math.inf,
            -math.inf,
            0,
            0.0,
            -1,
            2**63,
            10**400,
            1e308,
            5e-324,
            True,
            "",
            "[/]",
            "\x1b[31m",
            "x" * 2_000,
            "\ud800",
            date(1, 1, 1),
            date(9999, 12, 31),
            datetime(9999, 12, 31, 23, 59),
            [],
            {},
            [[[[1]]]],
        ]
    )
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
)


def deep(levels: int) -> Any:
    value: Any = []
    for _ in range(levels):
        value = [value]
    return value


# --------------------------------------------------------------------------------------------
# Rule, price and config files
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("read_units_per_partition", 0),  # was ZeroDivisionError in the partition estimate
        ("write_units_per_partition", 0),
        ("bytes_per_partition", 0),
        ("reshards_per_window", 0),  # was IndexError in the reshard quota
        ("switches_to_on_demand_per_window", 0),
        ("stream_mode_switches_per_window", 0),
        ("decrease_gap", 2**63),  # was OverflowError in timedelta arithmetic
        ("reshard_window", 1e308),
        ("switch_window", math.inf),
        ("table_max_read_units", 2**63),
        ("shard_scale_up_factor", math.nan),
    ],
)
def test_rule_files_refuse_zero_huge_and_nan_naming_key_and_range(
    tmp_path: Path, key: str, value: float
) -> None:
    path = tmp_path / "rules.toml"
    shown = {math.inf: "inf", 2**63: str(2**63)}.get(value, repr(value)).replace("nan", "nan")
    path.write_text(f"{key} = {shown}\n", encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_rule_settings(path)
    message = str(caught.value)
    assert str(path) in message and key in message
    assert "positive" in message or "between" in message or "at most" in message, message


def test_every_rule_default_is_inside_its_own_declared_range() -> None:
    """A default outside its range would make the defaults themselves unloadable."""
    base = RuleSettings()
    for key in rules_of(RuleSettings):
        value = getattr(base, key)
        number = value.total_seconds() if isinstance(value, timedelta) else value
        apply_overrides(base, {key: number}, "defaults")


@FEW
@given(st.dictionaries(st.sampled_from(list(rules_of(RuleSettings))), HOSTILE, max_size=4))
def test_any_rule_file_values_load_or_are_refused_and_then_plan(overrides: dict[str, Any]) -> None:
    try:
        rules = apply_overrides(RuleSettings(), overrides, "rules.toml")
    except SettingsError as error:
        assert "rules.toml" in str(error)
        return
    table = resource_from_document(json.loads(TABLE_JSON))
    stream = resource_from_document(json.loads(STREAM_JSON))
    plan(table, TableChange(table=Throughput(300, 150)), NOW, rules=rules, prices=PRICES)
    plan(stream, ShardChange(3, "targeted"), NOW, rules=rules, prices=PRICES)


@FEW
@given(
    st.dictionaries(
        st.sampled_from([*PRICE_FIELDS, *GLOBAL_KEYS, "x"]),
        HOSTILE,
        max_size=4,
    )
)
def test_any_price_values_load_or_are_refused(tmp_path_factory: Any, table: dict[str, Any]) -> None:
    try:
        apply_overrides(PRICES, table, "prices.toml")
    except SettingsError as error:
        assert "prices.toml" in str(error)


def test_a_price_of_10_to_the_400_is_refused_not_an_overflow(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(f"[regions.us-east-1]\nwcu_hour = {10**400}\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="wcu_hour must be"):
        load_price_book("us-east-1", path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"x = " + b"[" * 100_000 + b"]" * 100_000, "nested"),  # was RecursionError
        (b"a = [" + b"[" * 20 + b"]" * 20 + b"]", "nested more than 16"),
        (b'source = "\xff\xfe"', "not UTF-8"),
        (b"as_of = 9999-12-31", "as_of must be a date (YYYY-MM-DD) from 1970-01-01"),
        (b"as_of = 0001-01-01", "as_of must be"),
        (b'source = "\\u001b]0;x\\u0007"', "without control characters"),
        (b"x" * 1_000_001, "too large"),
    ],
)
def test_price_files_refuse_deep_nesting_bytes_and_dates(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "prices.toml"
    path.write_bytes(content)
    with pytest.raises(SettingsError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        load_price_book("us-east-1", path)


def test_config_theme_must_be_a_theme_name(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('theme = "[/]"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "theme must be a theme name" in str(caught.value) and "'[/]'" in str(caught.value)
    path.write_text('theme = " capcon-light "\n', encoding="utf-8")
    assert load_config(path).theme == " capcon-light "  # spaces around are still fine


@FEW
@given(st.dictionaries(st.sampled_from([*rules_of(Config), "x"]), HOSTILE, max_size=4))
def test_any_config_values_load_or_are_refused(values: dict[str, Any]) -> None:
    try:
        config = apply_overrides(Config(), values, "config.toml")
        check_polling(config, set(values), "config.toml")  # as load_config does
    except SettingsError as error:
        message = str(error)
        assert message.startswith("config.toml: ")
        assert len(message) < 2_000  # values are quoted cut short, never a megabyte
        return
    config.polling()


@FEW
@given(st.binary(max_size=300))
def test_any_bytes_as_a_settings_file_read_or_refused(tmp_path_factory: Any, data: bytes) -> None:
    path = tmp_path_factory.mktemp("toml") / "any.toml"
    path.write_bytes(data)
    try:
        read_toml(path)
    except SettingsError as error:
        assert str(path) in str(error)


def test_messages_quote_values_cut_short() -> None:
    assert shown_value(deep(100_000)).startswith("[[[")  # was RecursionError in repr
    assert len(shown_value("x" * 1_000_000)) < 80
    assert len(shown_value(10**4000)) < 80  # past Python's int-to-text digit limit


# --------------------------------------------------------------------------------------------
# Describe files
# --------------------------------------------------------------------------------------------

TABLE_JSON = json.dumps(
    {
        "Table": {
            "TableName": "orders",
            "TableArn": "arn:aws:dynamodb:us-east-1:1:table/orders",
            "CreationDateTime": 1700000000,
            "ProvisionedThroughput": {
                "ReadCapacityUnits": 100,
                "WriteCapacityUnits": 50,
                "NumberOfDecreasesToday": 1,
                "LastDecreaseDateTime": "2026-06-01T08:00:00Z",
            },
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "by-day",
                    "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
                }
            ],
        }
    }
)
HALF = 2**127
STREAM_JSON = json.dumps(
    {
        "summary": {"StreamDescriptionSummary": {"StreamName": "clicks", "OpenShardCount": 2}},
        "shards": {
            "Shards": [
                {
                    "ShardId": "shardId-0",
                    "HashKeyRange": {"StartingHashKey": "0", "EndingHashKey": str(HALF - 1)},
                },
                {
                    "ShardId": "shardId-1",
                    "HashKeyRange": {
                        "StartingHashKey": str(HALF),
                        "EndingHashKey": str(2**128 - 1),
                    },
                },
            ]
        },
    }
)


def _replace(text: str, old: str, new: str) -> dict[str, Any]:
    assert old in text
    value: dict[str, Any] = json.loads(text.replace(old, new))
    return value


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            _replace(TABLE_JSON, '"2026-06-01T08:00:00Z"', '"9999-12-31T23:59:59Z"'),
            "LastDecreaseDateTime: '9999-12-31T23:59:59Z' is out of range (a time from 1970-01-01",
        ),
        (_replace(TABLE_JSON, "1700000000", "1e18"), "CreationDateTime: 1e+18 is not a timestamp"),
        (_replace(TABLE_JSON, "1700000000", "-62135596800"), "CreationDateTime"),
        (_replace(TABLE_JSON, '"ReadCapacityUnits": 100', f'"ReadCapacityUnits": {2**63}'),
         "ReadCapacityUnits: expected a whole number ≥ 0 and at most 9,223,372,036,854,775,807"),
        (_replace(STREAM_JSON, '"OpenShardCount": 2', f'"RetentionPeriodHours": {2**63}'),
         "RetentionPeriodHours: expected a whole number ≥ 0 and at most 8,760"),
        (_replace(STREAM_JSON, f'"{HALF}"', f'"{HALF + 5}"'), "gap: keys"),
        (_replace(STREAM_JSON, f'"{HALF}"', f'"{HALF - 5}"'), "overlap"),
        (_replace(STREAM_JSON, '"shardId-1"', '"shardId-0"'), "listed twice"),
        (_replace(TABLE_JSON, '"orders"', '"\\ud800"'), "not valid Unicode"),
    ],
)  # fmt: skip
def test_describe_documents_refused_with_the_field_and_what_is_allowed(
    document: dict[str, Any], expected: str
) -> None:
    with pytest.raises(DescribeError) as caught:
        resource_from_document(document)
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested more than 32"),  # was RecursionError
        (b'{"a": "' + b"[" * 100 + b'"}', None),  # brackets inside a string do not nest
        (b'{"Table": {"TableName": "\xff"}}', "not UTF-8 text"),
        (b"{", "not valid JSON"),
    ],
)
def test_describe_bytes_checked_before_parsing(data: bytes, expected: str | None) -> None:
    if expected is None:
        assert document_from_json(data) == {"a": "[" * 100}
        return
    with pytest.raises(DescribeError, match=expected):
        document_from_json(data)


@pytest.mark.parametrize(
    "value",
    ["0001-01-01T00:00:00", "9999-12-31T23:59:59", "9999-12-31T23:59:59-14:00", 253402300799,
     -1, 1e300, "nan", math.inf, datetime(9999, 1, 1)],
)  # fmt: skip
def test_times_outside_1970_to_2999_are_refused(value: object) -> None:
    with pytest.raises(DescribeError, match="--now"):
        parse_time(value, "--now")


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            found += _paths(value, (*prefix, i))
    return found


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy: Any = dict(doc) if isinstance(doc, dict) else list(doc)
    copy[path[0]] = _set(copy[path[0]], path[1:], value)
    return copy


@st.composite
def mutated(draw: st.DrawFn, text: str) -> Any:
    doc = json.loads(text)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(doc)))
        value = draw(HOSTILE | st.just(deep(50)))
        if isinstance(value, date):
            value = value.isoformat()
        doc = _set(doc, path, value)
    return doc


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(mutated(TABLE_JSON), mutated(STREAM_JSON)))
def test_any_mutated_describe_document_is_refused_or_planned(document: Any) -> None:
    """Whatever a field holds: a DescribeError naming it, or a resource the planner plans."""
    try:
        data = json.dumps(document).encode("utf-8", "surrogatepass")
        resource = resource_from_document(document_from_json(data))
    except DescribeError as error:
        assert str(error)
        return
    except (ValueError, RecursionError):  # json.dumps of NaN is fine; of deep lists, not ours
        return
    if isinstance(resource, Stream):
        plan(resource, ShardChange(4, "targeted"), NOW, rules=RuleSettings(), prices=PRICES)
    else:
        plan(resource, TableChange(billing_mode=None), NOW, rules=RuleSettings(), prices=PRICES)


# --------------------------------------------------------------------------------------------
# Theme files
# --------------------------------------------------------------------------------------------

THEME: dict[str, Any] = {
    "name": "mine",
    "primary": "#1E90FF",
    "foreground": "#EAEAEA",
    "background": "#0F1419",
    "variables": {"throttle": "#FF0000"},
}


@FEW
@given(st.dictionaries(st.sampled_from([*THEME, "dark", "accent", "x"]), HOSTILE, max_size=4))
def test_any_theme_values_make_a_theme_or_one_message(changes: dict[str, Any]) -> None:
    try:
        theme_from_mapping({**THEME, **changes}, "mine.toml")
    except ThemeError as error:
        message = str(error)
        assert message.startswith("mine.toml: ") and len(message) < 3_000
        Text.from_markup(markup_safe(message))  # what the console notifies parses


def test_user_theme_messages_with_markup_are_text(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(
        'name = "x"\nprimary = "[/]"\nforeground = "#fff"\nbackground = "#000"\n'
    )
    (tmp_path / "deep.toml").write_bytes(b"name = " + b"[" * 100_000 + b"]" * 100_000)
    themes, messages = user_themes(tmp_path)
    assert themes == [] and len(messages) == 2
    assert any("'[/]' is not a colour" in m for m in messages)
    assert any("nested" in m for m in messages)


# --------------------------------------------------------------------------------------------
# Audit lines
# --------------------------------------------------------------------------------------------

RECORD: dict[str, Any] = {
    "change_id": "c1",
    "phase": "outcome",
    "at": "2026-06-01T11:00:00+00:00",
    "origin": {"who": "me", "backend": "aws:default/us-east-1", "endpoint": None},
    "resource": "clicks",
    "kind": "stream",
    "summary": "clicks: 2 → 4 open shards",
    "outcome": "applied",
    "details": {},
}


def _log(tmp_path: Path, lines: list[bytes]) -> AuditLog:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return AuditLog(path)


def _line(**changes: Any) -> bytes:
    return json.dumps({**RECORD, **changes}).encode()


def test_bad_audit_lines_are_skipped_with_their_numbers(tmp_path: Path) -> None:
    log = _log(
        tmp_path,
        [
            _line(),
            b'{"change_id": "\xff"}',  # not UTF-8
            _line(origin="aws"),  # origin not an object
            b"[" * 100_000 + b"]" * 100_000,  # deep nesting
            _line(phase="reconciled", outcome="unknown", new_field=[1]),  # newer kinds: kept
            _line(resource=5),  # wrong type
            b"",  # blank lines are not records and not errors
            _line(at="yesterday"),
            b"5",
        ],
    )
    reading = log.read_checked()
    assert [r["phase"] for r in reading.records] == ["outcome", "reconciled"]
    assert [(s.number, s.reason.split(" (")[0]) for s in reading.skipped] == [
        (2, "not UTF-8 text"),
        (3, "not a capcon record"),
        (4, "nested more than 32 levels deep"),
        (6, "not a capcon record"),
        (8, "not a capcon record"),
        (9, "not a capcon record"),
    ]
    notice = reading.notice()
    assert notice is not None and notice.startswith("6 audit lines skipped (line 2): not UTF-8")
    assert "origin is a string, not an object" in notice
    assert log.read(1) == reading.records[-1:]


def test_reshard_history_survives_a_time_without_offset(tmp_path: Path) -> None:
    """Stream planning on AWS reads this; a naive time made it raise TypeError."""
    log = _log(tmp_path, [_line(at="2026-06-01T10:00:00"), _line(at="2026-06-01T11:00:00Z")])
    assert len(known_reshards(log, "clicks", NOW)) == 2


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@FEW
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=60),
            st.dictionaries(st.sampled_from([*RECORD, "x"]), JSONISH | HOSTILE, max_size=3).map(
                lambda changes: json.dumps({**RECORD, **changes}, default=str).encode(
                    "utf-8", "surrogatepass"
                )
            ),
        ),
        max_size=6,
    )
)
def test_any_audit_lines_read_skipped_and_counted(
    tmp_path_factory: Any, lines: list[bytes]
) -> None:
    lines = [line.replace(b"\n", b" ") for line in lines]
    log = _log(tmp_path_factory.mktemp("audit"), lines)
    reading = log.read_checked()
    content = [i for i, line in enumerate(lines, 1) if line.strip()]
    assert len(reading.records) + len(reading.skipped) == len(content)
    assert {s.number for s in reading.skipped} <= set(content)
    for record in reading.records:
        json.dumps(record).encode("utf-8")  # every record can be printed
    known_reshards(log, "clicks", NOW)
    if reading.skipped:
        notice = reading.notice()
        assert notice is not None and f"{len(reading.skipped)} audit line" in notice


def test_a_faster_idle_pace_than_the_visible_one_is_refused_naming_both_keys() -> None:
    """Found by the property test above (which called ``apply_overrides`` without the check
    ``load_config`` makes): an idle refresh of 5 s, faster than the visible refresh it slows
    down from, is refused with both keys named."""
    values = {"offscreen_refresh_minutes": 1, "idle_refresh_seconds": 5}
    config = apply_overrides(Config(), values, "config.toml")
    with pytest.raises(ConfigError, match="idle_refresh_seconds"):
        check_polling(config, set(values), "config.toml")
