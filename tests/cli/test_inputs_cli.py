"""No traceback for any input on the command line or in the console: every flag of the real
parser with hostile values, ``--now`` at the edges of the calendar, an audit log with lines that
are not records (``capcon audit``, the console's audit screen), a theme file whose message looks
like markup."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.text import Text
from textual.widgets import DataTable, Static

from capcon.tui.bootstrap import build_console, open_session
from capcon.tui.cli.main import build_parser, main, parse_args
from capcon.tui.console.screens.audit import AuditScreen
from capcon.tui.console.testing import demo_console, plain, settle

#: The exit codes tui/cli/main.py documents.
EXIT_CODES = {0, 1, 2, 3}
SIM = "--sim=fleet:1,1"  # a small simulated account (table-0, stream-0): never AWS

HOSTILE_ARGS = [
    "", " ", "0", "-1", "1", "1.5", "nan", "inf", "-inf", "1e308", "1e999", str(2**63),
    "9" * 5000, "[/]", "\x1b[31m", "a\x00b", "\udcff", "table-0", "stream-0", "table-0/x",
    "0001-01-01T00:00:00", "9999-12-31T23:59:59", "253402300799", "fleet:-1,2",
    "fleet:99999999,1", "empty", "bell", "aas", "70", "3", "x" * 2000,
]  # fmt: skip

TABLE: dict[str, Any] = {
    "Table": {
        "TableName": "orders",
        "ProvisionedThroughput": {"ReadCapacityUnits": 100, "WriteCapacityUnits": 50},
    }
}


def _commands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


COMMANDS = _commands()
#: Commands that open a screen: only parsed here (their checks run before the screen opens
#: and are covered by the parser and bootstrap tests).
SCREENS = {"demo", "lab"}
#: Commands that read AWS whatever the session flags (``prices update``: the Price List API):
#: only parsed here, never run (tests/backends/test_pricelist.py stubs the API).
SCREENS |= {"prices"}


@st.composite
def argvs(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from(sorted(COMMANDS)))
    argv = [command]
    for action in COMMANDS[command]._actions:
        if isinstance(action, argparse._HelpAction) or not draw(st.booleans()):
            continue
        flag = action.option_strings[0] if action.option_strings else None
        if action.nargs == 0:
            argv.append(str(flag))
            continue
        pool = [*map(str, action.choices or ()), *HOSTILE_ARGS]
        value = draw(st.sampled_from(pool) | st.text(max_size=12))
        argv += [f"{flag}={value}"] if flag else [value]
    if command in {"ls", "show", "plan", "scale", "aas", "autoscale"}:
        argv = [a for a in argv if not a.startswith(("--sim", "--endpoint-url", "--profile"))]
        argv.append(SIM)
    return argv


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(argv=argvs())
def test_any_flags_exit_with_a_documented_code_and_a_message(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    if argv[0] in SCREENS:
        try:
            parse_args(argv)
        except SystemExit as exit_:
            assert exit_.code in EXIT_CODES
        capsys.readouterr()
        return
    try:
        code: object = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err
    assert code in EXIT_CODES, (argv, code, err)
    assert "Traceback" not in err
    if code == 2:
        assert err.strip(), argv  # bad input always says what was wrong


@pytest.mark.parametrize(
    ("flag", "value", "expected"),
    [
        ("--rcu", str(2**63), "too large: expected a whole number from 0 to 1,000,000,000,000"),
        ("--shards", "1000000000", "too large"),
        ("--consumed-rcu", "1e400", "expected a finite number"),
        ("--previous-partitions", "-3", "-3 is negative"),
        ("--now", "9999-12-31T23:59:59", "is out of range (a time from 1970-01-01"),
        ("--now", "0001-01-01T00:00:00", "is out of range"),
        ("--now", "253402300799", "is out of range"),  # epoch seconds of 9999-12-31
        ("--now", "1e300", "epoch seconds from 0 to"),
    ],
)
def test_flags_out_of_range_are_usage_errors_naming_the_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str, expected: str
) -> None:
    describe = tmp_path / "t.json"
    describe.write_text(json.dumps(TABLE))
    change = [] if flag in ("--rcu", "--shards") else ["--rcu", "10"]
    with pytest.raises(SystemExit) as caught:
        main(["plan", "--describe", str(describe), *change, f"{flag}={value}"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert flag in err and expected in err, err


def test_sim_hours_beyond_a_week_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """--hours 1e300 was an OverflowError; 1e7 ran for hours."""
    argv = ["sim", "--pattern", "bell", "--target", "70", "--policy", "aas", "--hours", "1e300"]
    assert main(argv) == 2
    assert "at most 168" in capsys.readouterr().err


def test_a_theme_named_like_markup_in_config_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config" / "capcon" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('theme = "[/]"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert main(["ls", SIM]) == 2
    assert "theme must be a theme name" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# The audit log: capcon audit and the console's screen
# --------------------------------------------------------------------------------------------

RECORD: dict[str, Any] = {
    "change_id": "c1",
    "phase": "outcome",
    "at": "2026-06-01T11:00:00+00:00",
    "origin": {"who": "me", "backend": "sim:demo"},
    "resource": "orders",
    "kind": "table",
    "summary": "orders: 5 → 10 WCU",
    "outcome": "applied",
}


def bad_log(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps(RECORD).encode(),
        b'{"change_id": "\xff\xfe"}',  # line 2: not UTF-8
        json.dumps({**RECORD, "origin": "aws"}).encode(),  # line 3: origin not an object
        b"[" * 100_000 + b"]" * 100_000,  # line 4: deep nesting
        json.dumps({**RECORD, "change_id": "c2", "phase": "reconciled"}).encode(),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.mark.parametrize("as_json", [False, True])
def test_capcon_audit_skips_bad_lines_and_says_which(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    as_json: bool,
) -> None:
    bad_log(tmp_path / "state" / "capcon" / "audit.jsonl")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["audit", *(["--json"] if as_json else [])]) == 0
    out, err = capsys.readouterr()
    assert "3 audit lines skipped (line 2): not UTF-8 text; (line 3): not a capcon record" in err
    assert "(line 4): nested more than 32 levels deep" in err
    if as_json:
        assert [r["change_id"] for r in json.loads(out)] == ["c1", "c2"]
    else:
        assert "c1" in out and "c2" in out and "reconciled" in out


async def test_console_audit_screen_shows_good_records_and_names_the_skipped(
    tmp_path: Path,
) -> None:
    app, _ = demo_console(bad_log(tmp_path / "audit.jsonl"))
    async with app.run_test(size=(200, 40)) as pilot:
        app.action_audit()
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        assert screen.query_one(DataTable).row_count == 2
        title = plain(screen.query_one("#audit-title", Static))
        assert "3 audit lines skipped (line 2)" in title
        assert any("audit lines skipped" in str(n.message) for n in app._notifications)


async def test_console_shows_a_theme_file_message_with_markup_as_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user theme whose value is "[/]" made the console's notification raise MarkupError."""
    themes = tmp_path / "config" / "capcon" / "themes"
    themes.mkdir(parents=True)
    (themes / "bad.toml").write_text(
        'name = "bad"\nprimary = "[/]"\nforeground = "#fff"\nbackground = "#000"\n'
    )
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    app = build_console(open_session(parse_args([SIM])))
    app.options = app.options.__class__(**{**app.options.__dict__, "poll": False})
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        messages = [Text.from_markup(str(n.message)).plain for n in app._notifications]
        assert any("primary = '[/]' is not a colour" in m for m in messages), messages


def test_lab_lanes_named_twice_are_refused_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """``--policies aas,aas`` printed a DuplicateKey traceback from the results table and
    exited 0; the lab never opens for it now."""
    assert main(["lab", "--policies", "aas,h1,aas"]) == 2
    err = capsys.readouterr().err
    assert "--policies names aas more than once" in err and "Traceback" not in err
