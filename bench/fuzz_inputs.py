"""Hostile inputs against every input path, in-process: flags, ``--now``, config.toml, rule
files, price files, theme files, describe files and audit lines.

Each area generates ``--per-area`` inputs (default 600) from a seeded random source: valid
documents with one value replaced by a hostile one (NaN, ±inf, 0, negative, 2**63, 1e308,
year 1 or 9999, a lone surrogate, Rich markup, control characters, a huge string, 100,000-deep
nesting, the wrong type), a key dropped or added, or raw bytes cut, flipped or made non-UTF-8;
argv is drawn from the parser's real options.  Every input runs the way a user would meet it
(``capcon.tui.cli.main.main`` on the simulated account or a described file, the config and
theme loaders, ``AuditLog.read_checked``), and the table shows per area: inputs tried,
tracebacks (any exception out of ``main``, an exit code outside 0–3, or bad input answered
with no message), and how many distinct messages the user got.

    .venv/bin/python bench/fuzz_inputs.py [--per-area N] [--seed S] [--area NAME …]

Exit status 1 if any traceback was found (each is printed, with the input that caused it).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import random
import re
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

SCRATCH = Path(tempfile.mkdtemp(prefix="capcon-fuzz-"))
os.environ["XDG_CONFIG_HOME"] = str(SCRATCH / "config")
os.environ["XDG_STATE_HOME"] = str(SCRATCH / "state")
os.environ.setdefault("COLUMNS", "120")
for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)

from capcon.core.services.audit import AuditLog  # noqa: E402
from capcon.core.services.inspect import known_reshards  # noqa: E402
from capcon.tui.cli.main import build_parser, main  # noqa: E402
from capcon.tui.console.theming import resolve_theme_name, theme_from_file, user_themes  # noqa: E402
from capcon.tui.text import markup_safe  # noqa: E402

#: Exit codes the CLI documents (tui/cli/main.py).
EXIT_CODES = {0, 1, 2, 3}
SIM = "--sim=fleet:1,1"  # a small simulated account: table-0, stream-0 (fast to build)

# --------------------------------------------------------------------------------------------
# Hostile values
# --------------------------------------------------------------------------------------------

HUGE_TEXT = "x" * 100_000
DEEP_LIST: Any = []
for _ in range(200):
    DEEP_LIST = [DEEP_LIST]

#: Values for JSON and TOML documents (deep nesting is added as raw text, see _deep_text).
HOSTILE_VALUES: list[Any] = [
    math.nan,
    math.inf,
    -math.inf,
    0,
    -1,
    -0.0,
    0.5,
    2**31,
    2**63,
    2**63 - 1,
    -(2**63),
    2**64,
    2**128,
    10**400,
    1e308,
    -1e308,
    5e-324,
    True,
    False,
    None,
    "",
    " ",
    "[/]",
    "[bold red]x[/]",
    "[@click=app.quit]x[/]",
    "\x1b]0;title\x07\x1b[31m",
    "\x00",
    "\ud800",
    "\u202e",
    "é" * 3,
    HUGE_TEXT,
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-23:59",
    "1970-01-01T00:00:00Z",
    "2026-13-45T99:99:99",
    "nan",
    "inf",
    "-1",
    str(2**128),
    "1e5",
    [],
    {},
    [1, 2, 3],
    {"a": {"b": {"c": 1}}},
    DEEP_LIST,
]

#: Strings for flag values.
HOSTILE_ARGS: list[str] = [
    "",
    " ",
    "0",
    "-1",
    "1",
    "5",
    "1.5",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e308",
    "1e999",
    str(2**31),
    str(2**63),
    str(2**64),
    "9" * 50,
    "9" * 5000,
    "0x10",
    "1_000",
    "[/]",
    "[bold]x",
    "\x1b[31mred",
    "a\x00b",
    "\udcff",
    "é",
    "table-0",
    "stream-0",
    "table-0/index",
    "table-0/",
    "/",
    "-",
    "--",
    "9999-12-31T23:59:59",
    "0001-01-01T00:00:00",
    "2026-01-01T00:00:00+00:00",
    "253402300799",
    "-62135596800",
    "fleet:1,1",
    "fleet:99999999,99999999",
    "fleet:-1,2",
    "empty",
    "demo",
    "bell",
    "spike:base=1e308,peak=nan,at=1h,duration=10m",
    "aas,capcon",
    "h1",
    "x" * 2000,
]


def _deep_text(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


# --------------------------------------------------------------------------------------------
# Mutations of documents
# --------------------------------------------------------------------------------------------


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from _paths(value, (*prefix, i))


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy: Any = dict(doc) if isinstance(doc, dict) else list(doc)
    copy[head] = _set(copy[head], rest, value)
    return copy


def _drop(doc: Any, path: tuple[Any, ...]) -> Any:
    if len(path) == 1:
        copy: Any = dict(doc) if isinstance(doc, dict) else list(doc)
        del copy[path[0]]
        return copy
    head = path[0]
    copy = dict(doc) if isinstance(doc, dict) else list(doc)
    copy[head] = _drop(copy[head], path[1:])
    return copy


def mutate(rng: random.Random, doc: Any) -> Any:
    """``doc`` with one to three changes: a value made hostile, a key dropped or added."""
    for _ in range(rng.randint(1, 3)):
        paths = list(_paths(doc))
        path = rng.choice(paths)
        roll = rng.random()
        if roll < 0.7 or not path:
            doc = _set(doc, path, rng.choice(HOSTILE_VALUES))
        elif roll < 0.85:
            doc = _drop(doc, path)
        else:
            parent_path = path[:-1]
            parent: Any = doc
            for key in parent_path:
                parent = parent[key]
            if isinstance(parent, dict):
                extra = dict(parent)
                extra[rng.choice(["x", "Extra", "[/]"])] = rng.choice(HOSTILE_VALUES)
                doc = _set(doc, parent_path, extra)
    return doc


def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    """``data`` cut, with bytes flipped, non-UTF-8 bytes or deep nesting inserted."""
    roll = rng.random()
    if not data:
        return b"\xff"
    at = rng.randrange(len(data))
    if roll < 0.25:
        return data[:at]
    if roll < 0.5:
        return data[:at] + bytes([rng.randrange(256)]) + data[at + 1 :]
    if roll < 0.7:
        return data[:at] + rng.choice([b"\xff\xfe", b"\xc3", b"\xed\xa0\x80", b"\x00"]) + data[at:]
    if roll < 0.85:
        depth = rng.choice([50, 1000, 100_000])
        return data[:at] + _deep_text(depth).encode() + data[at:]
    return data + data[:at]


# --------------------------------------------------------------------------------------------
# TOML, written by hand (the standard library only reads it)
# --------------------------------------------------------------------------------------------


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # TOML basic strings take JSON's escapes
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items())
            + "}"
        )
    return '""'  # None: TOML has no null; an empty string stands in


def toml_document(doc: Any) -> str:
    if not isinstance(doc, dict):
        return f"value = {toml_value(doc)}\n"
    lines = []
    tables = []
    for key, value in doc.items():
        if isinstance(value, dict) and key == "regions":
            tables.append((key, value))
        else:
            lines.append(f"{json.dumps(str(key))} = {toml_value(value)}")
    for key, value in tables:
        for name, table in value.items():
            if isinstance(table, dict):
                lines.append(f"[{key}.{json.dumps(str(name))}]")
                lines += [f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in table.items()]
            else:
                lines.append(f"[{key}]\n{json.dumps(str(name))} = {toml_value(table)}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Running one input
# --------------------------------------------------------------------------------------------


class Hang(Exception):
    """An input ran longer than the alarm allowed."""


@contextlib.contextmanager
def alarm(seconds: int) -> Iterator[None]:
    def ring(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Area:
    name: str
    tried: int = 0
    tracebacks: list[str] = field(default_factory=list)
    messages: set[str] = field(default_factory=set)


def _message_key(text: str) -> str:
    """A message with numbers, quoted values and paths blurred, so "distinct" counts kinds."""
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", text)
    text = re.sub(r"/[\w./-]+", "PATH", text)
    return re.sub(r"\d[\d,._]*", "N", text)[:160]


def run_cli(area: Area, argv: list[str], label: str) -> None:
    """``main(argv)``: any exception, an exit code outside 0–3, or exit 2 without a message
    is a traceback."""
    area.tried += 1
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), alarm(20):
            code: object = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    except BaseException as error:  # the whole point: nothing may escape
        area.tracebacks.append(
            f"{label}: {argv!r:.300}\n" + "".join(traceback.format_exception(error))[-1500:]
        )
        return
    message = err.getvalue().strip()
    if code not in EXIT_CODES or "Traceback" in message or (code == 2 and not message):
        area.tracebacks.append(f"{label}: {argv!r:.300}: exit {code!r}, stderr {message[-500:]!r}")
        return
    if message:
        area.messages.add(_message_key(message.splitlines()[-1]))


def run_call(area: Area, call: Callable[[], str | None], label: str) -> None:
    """``call()`` must return (a message or nothing), never raise."""
    area.tried += 1
    try:
        with alarm(20):
            message = call()
    except BaseException as error:
        area.tracebacks.append(f"{label}\n" + "".join(traceback.format_exception(error))[-1500:])
        return
    if message:
        area.messages.add(_message_key(message.splitlines()[0]))


# --------------------------------------------------------------------------------------------
# The areas
# --------------------------------------------------------------------------------------------

TABLE_DOC: dict[str, Any] = {
    "Table": {
        "TableName": "orders",
        "TableStatus": "ACTIVE",
        "TableArn": "arn:aws:dynamodb:us-east-1:123456789012:table/orders",
        "CreationDateTime": "2024-01-01T00:00:00Z",
        "TableSizeBytes": 123456789,
        "ItemCount": 1000,
        "BillingModeSummary": {"BillingMode": "PROVISIONED"},
        "ProvisionedThroughput": {
            "ReadCapacityUnits": 100,
            "WriteCapacityUnits": 50,
            "NumberOfDecreasesToday": 1,
            "LastDecreaseDateTime": "2026-01-01T00:00:00Z",
            "LastIncreaseDateTime": 1767225600,
        },
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by-customer",
                "IndexStatus": "ACTIVE",
                "ProvisionedThroughput": {"ReadCapacityUnits": 10, "WriteCapacityUnits": 10},
                "IndexSizeBytes": 1000,
                "ItemCount": 10,
            }
        ],
        "WarmThroughput": {"ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 4000},
        "OnDemandThroughput": {"MaxReadRequestUnits": -1, "MaxWriteRequestUnits": -1},
    }
}
HALF = 2**127


def _stream_doc() -> dict[str, Any]:
    return {
        "summary": {
            "StreamDescriptionSummary": {
                "StreamName": "clicks",
                "StreamStatus": "ACTIVE",
                "StreamARN": "arn:aws:kinesis:us-east-1:123456789012:stream/clicks",
                "StreamModeDetails": {"StreamMode": "PROVISIONED"},
                "RetentionPeriodHours": 24,
                "StreamCreationTimestamp": "2024-01-01T00:00:00Z",
                "OpenShardCount": 2,
                "ConsumerCount": 0,
            }
        },
        "shards": {
            "Shards": [
                {
                    "ShardId": "shardId-000000000000",
                    "HashKeyRange": {"StartingHashKey": "0", "EndingHashKey": str(HALF - 1)},
                    "SequenceNumberRange": {"StartingSequenceNumber": "1"},
                },
                {
                    "ShardId": "shardId-000000000001",
                    "HashKeyRange": {
                        "StartingHashKey": str(HALF),
                        "EndingHashKey": str(2**128 - 1),
                    },
                    "SequenceNumberRange": {"StartingSequenceNumber": "2"},
                },
            ]
        },
    }


STREAM_DOC = _stream_doc()
NOW = ["--now", "2026-06-01T12:00:00+00:00"]


def _write(name: str, data: bytes | str) -> Path:
    path = SCRATCH / name
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    path.write_bytes(data)
    return path


def _json_bytes(doc: Any) -> bytes:
    try:
        text = json.dumps(doc)
    except (ValueError, RecursionError):
        text = "{}"
    return text.encode("utf-8", "surrogatepass")


def _plan_argv(path: Path, stream: bool, rng: random.Random) -> list[str]:
    change = (
        [
            "--shards",
            rng.choice(["1", "3", "4", "8"]),
            "--strategy",
            rng.choice(["uniform", "targeted"]),
        ]
        if stream
        else ["--rcu", rng.choice(["1", "150", "50000"]), "--wcu", "60"]
    )
    return ["plan", "--describe", str(path), *change, *NOW, *rng.choice([[], ["--json"]])]


def area_describe(rng: random.Random, n: int) -> Area:
    area = Area("describe")
    for i in range(n):
        stream = rng.random() < 0.5
        base = STREAM_DOC if stream else TABLE_DOC
        data = _json_bytes(mutate(rng, base))
        if rng.random() < 0.25:
            data = mutate_bytes(rng, data)
        path = _write(f"describe-{i % 4}.json", data)
        run_cli(area, _plan_argv(path, stream, rng), "describe")
    return area


def area_now(rng: random.Random, n: int) -> Area:
    area = Area("--now")
    table = _write("now-table.json", _json_bytes(TABLE_DOC))
    stream = _write("now-stream.json", _json_bytes(STREAM_DOC))
    edges = [
        "0001-01-01T00:00:00",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59",
        "9999-12-31T23:59:59-14:00",
        "1970-01-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
        "2999-12-31T23:59:59Z",
        "3000-01-01T00:00:00Z",
        "2026-02-29T00:00:00Z",
        "2024-02-29T23:59:60Z",
    ]
    for _ in range(n):
        roll = rng.random()
        if roll < 0.4:
            value = rng.choice(edges)
        elif roll < 0.7:
            value = str(rng.choice([-1, 0, 1, 2**31, 2**63, 1e18, -1e18, 32503680000, 1e308]))
        elif roll < 0.85:
            year = rng.choice([1, 2, 1969, 1970, 2000, 2026, 2999, 3000, 9998, 9999])
            value = f"{year:04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T00:00:00"
        else:
            value = rng.choice(HOSTILE_ARGS)
        path, change = (
            (stream, ["--shards", "4"]) if rng.random() < 0.5 else (table, ["--wcu", "10"])
        )
        run_cli(area, ["plan", "--describe", str(path), *change, "--now", value], "--now")
    return area


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [
        a
        for a in parser._actions
        if not isinstance(a, argparse._HelpAction | argparse._SubParsersAction)
    ]


def area_flags(rng: random.Random, n: int) -> Area:
    """argv from the parser's real options with hostile values; commands that open a screen
    (no command, demo, lab) are only parsed, the rest run on a small simulated account."""
    area = Area("flags")
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    commands: dict[str, argparse.ArgumentParser] = dict(sub.choices)
    screens = {"demo", "lab"}
    describe = _write("flags-table.json", _json_bytes(TABLE_DOC))
    for _ in range(n):
        command = rng.choice(sorted(commands))
        argv = [command]
        for action in _options(commands[command]):
            if rng.random() > 0.35 and action.required is False:
                continue
            flag = action.option_strings[0] if action.option_strings else None
            if action.nargs == 0:
                argv.append(flag or "")
                continue
            if action.choices and rng.random() < 0.6:
                value = str(rng.choice(list(action.choices)))
            else:
                value = rng.choice(HOSTILE_ARGS)
            argv += [f"{flag}={value}"] if flag else [value]
        if command == "plan" and rng.random() < 0.5:
            argv = [a for a in argv if not a.startswith("--describe")] + [
                "--describe",
                str(describe),
            ]
        if command in ("autoscale", "plan", "scale", "aas", "ls", "show") and not any(
            a.startswith("--sim") for a in argv
        ):
            argv.append(SIM)  # never AWS
        if any(a.startswith("--sim") for a in argv):
            argv = [
                a
                for a in argv
                if not a.startswith("--endpoint-url") and not a.startswith("--profile")
            ]
        if command == "sim":
            argv = [a for a in argv if not a.startswith("--grid")]
        if command in screens:
            area.tried += 1
            try:
                with (
                    contextlib.redirect_stderr(io.StringIO()),
                    contextlib.redirect_stdout(io.StringIO()),
                ):
                    build_parser().parse_args(argv)
            except SystemExit as exit_:
                if exit_.code not in EXIT_CODES:
                    area.tracebacks.append(f"parse {argv!r:.300}: exit {exit_.code!r}")
            except BaseException:
                area.tracebacks.append(f"parse {argv!r:.300}\n{traceback.format_exc()[-1500:]}")
            continue
        run_cli(area, argv, "flags")
    return area


CONFIG_DOC: dict[str, Any] = {
    "theme": "dark",
    "refresh_seconds": 30,
    "offscreen_refresh_minutes": 15,
    "idle_after_minutes": 10,
    "idle_refresh_seconds": 300,
    "idle_offscreen_refresh_minutes": 60,
    "sim_refresh_seconds": 1,
    "production_profiles": ["prod", "*-production"],
    "confirm_factor": 4.0,
    "read_only": False,
}


def area_config(rng: random.Random, n: int) -> Area:
    area = Area("config.toml")
    config = SCRATCH / "config" / "capcon" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    describe = _write("config-table.json", _json_bytes(TABLE_DOC))
    from capcon.core.config.settings import ConfigError, load_config

    for _ in range(n):
        text = toml_document(mutate(rng, CONFIG_DOC)).encode("utf-8", "surrogatepass")
        if rng.random() < 0.2:
            text = mutate_bytes(rng, text)
        config.write_bytes(text)
        run_cli(area, ["plan", "--describe", str(describe), "--wcu", "10", *NOW], "config")

        def theme() -> str | None:
            try:
                chosen = load_config(config)
            except ConfigError as error:
                return markup_safe(str(error))
            name, warning = resolve_theme_name(chosen.theme, ["capcon-dark", "capcon-light"])
            return markup_safe(warning) if warning else name

        run_call(area, theme, f"config theme: {text[:200]!r}")
    config.unlink(missing_ok=True)
    return area


def _rules_doc() -> dict[str, Any]:
    from capcon.core.rules import RuleSettings
    from capcon.core.schema import rules_of

    base = RuleSettings()
    doc: dict[str, Any] = {}
    for key in rules_of(RuleSettings):
        value = getattr(base, key)
        doc[key] = value.total_seconds() if hasattr(value, "total_seconds") else value
    return doc


def area_rules(rng: random.Random, n: int) -> Area:
    area = Area("rules")
    base = _rules_doc()
    table = _write("rules-table.json", _json_bytes(TABLE_DOC))
    stream = _write("rules-stream.json", _json_bytes(STREAM_DOC))
    for i in range(n):
        doc = {k: v for k, v in base.items() if rng.random() < 0.3}
        text = toml_document(mutate(rng, doc or {"min_capacity_units": 1})).encode(
            "utf-8", "surrogatepass"
        )
        if rng.random() < 0.2:
            text = mutate_bytes(rng, text)
        rules = _write(f"rules-{i % 3}.toml", text)
        which = rng.random() < 0.5
        argv = [*_plan_argv(stream if which else table, which, rng), "--rules", str(rules)]
        run_cli(area, argv, "rules")
    return area


PRICES_DOC: dict[str, Any] = {
    "as_of": "2026-01-01",
    "source": "my bill",
    "currency": "USD",
    "bill_closed_shards": False,
    "regions": {
        "us-east-1": {
            "wcu_hour": 0.00065,
            "rcu_hour": 0.00013,
            "shard_hour": 0.015,
            "storage_gb_month": 0.25,
            "on_demand_write_per_million": 0.625,
        }
    },
}


def area_prices(rng: random.Random, n: int) -> Area:
    area = Area("prices")
    table = _write("prices-table.json", _json_bytes(TABLE_DOC))
    stream = _write("prices-stream.json", _json_bytes(STREAM_DOC))
    for i in range(n):
        text = toml_document(mutate(rng, PRICES_DOC)).encode("utf-8", "surrogatepass")
        text = text.replace(b'"as_of" = "2026-01-01"', b'"as_of" = 2026-01-01')
        if rng.random() < 0.2:
            text = mutate_bytes(rng, text)
        prices = _write(f"prices-{i % 3}.toml", text)
        which = rng.random() < 0.5
        argv = [*_plan_argv(stream if which else table, which, rng), "--prices", str(prices)]
        run_cli(area, argv, "prices")
    return area


THEME_DOC: dict[str, Any] = {
    "name": "mine",
    "dark": True,
    "primary": "#1E90FF",
    "secondary": "#5F9EA0",
    "foreground": "#EAEAEA",
    "background": "#0F1419",
    "variables": {"consumed": "#4AA3FF", "throttle": "rgb(255, 0, 0)"},
}


def area_theme(rng: random.Random, n: int) -> Area:
    area = Area("theme")
    folder = SCRATCH / "themes"
    folder.mkdir(exist_ok=True)
    from rich.text import Text

    for i in range(n):
        doc = mutate(rng, THEME_DOC)
        if not isinstance(doc, dict):
            doc = {"value": doc}
        lines = [
            f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in doc.items() if k != "variables"
        ]
        if isinstance(doc.get("variables"), dict):
            lines.append("[variables]")
            lines += [
                f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in doc["variables"].items()
            ]
        text = "\n".join(lines).encode("utf-8", "surrogatepass")
        if rng.random() < 0.2:
            text = mutate_bytes(rng, text)
        path = folder / f"t{i % 3}.toml"
        path.write_bytes(text)

        def load(path: Path = path) -> str | None:
            try:
                theme_from_file(path)
            except ValueError as error:  # ThemeError
                message = str(error)
            else:
                message = ""
            _, notes = user_themes(folder)
            for note in notes:  # what the console notifies: must parse as markup
                Text.from_markup(markup_safe(note))
            return message

        run_call(area, load, f"theme {text[:200]!r}")
    return area


AUDIT_RECORD: dict[str, Any] = {
    "change_id": "abc123def456",
    "phase": "outcome",
    "at": "2026-06-01T11:00:00+00:00",
    "origin": {"who": "arn:aws:iam::1:user/eve", "backend": "sim:fleet:1,1", "profile": None},
    "resource": "stream-0",
    "kind": "stream",
    "summary": "stream-0: 1 → 2 open shards",
    "before": {"open_shards": 1},
    "after": {"open_shards": 2},
    "outcome": "applied",
    "error": None,
    "details": {},
}


def area_audit(rng: random.Random, n: int) -> Area:
    """Audit logs with hostile lines, read by ``capcon audit`` (table and JSON), by the
    reshard history that stream planning on AWS reads, and by ``plan`` on a stream."""
    area = Area("audit lines")
    log_path = SCRATCH / "state" / "capcon" / "audit.jsonl"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    from datetime import UTC, datetime

    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    good = _json_bytes(AUDIT_RECORD)
    done = 0
    while done < n:
        lines = []
        for _ in range(rng.randint(1, 6)):
            roll = rng.random()
            if roll < 0.2:
                lines.append(good)
            elif roll < 0.75:
                lines.append(_json_bytes(mutate(rng, AUDIT_RECORD)))
            elif roll < 0.9:
                lines.append(mutate_bytes(rng, good).replace(b"\n", b" "))
            else:
                lines.append(_json_bytes(rng.choice(HOSTILE_VALUES)))
        log_path.write_bytes(b"\n".join(lines) + b"\n")
        run_cli(area, ["audit", *rng.choice([[], ["--json"], ["--limit", "2"]])], "audit")
        run_call(
            area,
            lambda: str(len(known_reshards(AuditLog(log_path), "stream-0", now))),
            f"known_reshards {lines!r:.300}",
        )
        run_cli(area, ["plan", "stream-0", "--shards", "2", SIM], "plan on the log")
        done += 3
    log_path.unlink(missing_ok=True)
    return area


AREAS: dict[str, Callable[[random.Random, int], Area]] = {
    "flags": area_flags,
    "now": area_now,
    "config": area_config,
    "rules": area_rules,
    "prices": area_prices,
    "theme": area_theme,
    "describe": area_describe,
    "audit": area_audit,
}


def main_(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--per-area", type=int, default=600)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--area", action="append", choices=sorted(AREAS))
    args = parser.parse_args(argv)
    results = []
    started = time.perf_counter()
    for name in args.area or list(AREAS):
        rng = random.Random(f"{args.seed}:{name}")
        t0 = time.perf_counter()
        area = AREAS[name](rng, args.per_area)
        results.append((area, time.perf_counter() - t0))
    total = time.perf_counter() - started
    print(f"{'area':<14}{'inputs':>8}{'tracebacks':>12}{'messages':>10}{'seconds':>9}")
    for area, seconds in results:
        print(
            f"{area.name:<14}{area.tried:>8}{len(area.tracebacks):>12}"
            f"{len(area.messages):>10}{seconds:>9.1f}"
        )
    tried = sum(a.tried for a, _ in results)
    crashes = sum(len(a.tracebacks) for a, _ in results)
    print(f"{'total':<14}{tried:>8}{crashes:>12}{'':>10}{total:>9.1f}")
    for area, _ in results:
        for found in area.tracebacks[:5]:
            print(f"\n--- {area.name} ---\n{found}", file=sys.stderr)
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main_())
