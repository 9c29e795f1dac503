"""One session from flags and config: read-only holds from ``config.toml`` and from either
flag position, for ``scale``, ``aas --apply``, ``autoscale --apply``, the console and ``demo``;
the other session flags work before or after the command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from capcon.core.model import Throughput
from capcon.core.planning.planner import ScalePlan, plan
from capcon.core.ports import TableChange
from capcon.core.services.scaler import READ_ONLY_REFUSAL
from capcon.tui import bootstrap
from capcon.tui.bootstrap import Session, console_from_args, open_session
from capcon.tui.cli.main import main, parse_args
from capcon.tui.console.app import CapconApp
from capcon.tui.console.modals.scale import ScaleModal
from capcon.tui.console.testing import settle
from capcon.tui.errors import UsageError


@pytest.fixture(autouse=True)
def homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Empty XDG config and state folders (``config_dir()`` honours ``XDG_CONFIG_HOME``)."""
    for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        (tmp_path / name).mkdir()
        monkeypatch.setenv(name, str(tmp_path / name))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    return tmp_path


def audit_file(homes: Path) -> Path:
    return homes / "XDG_STATE_HOME" / "capcon" / "audit.jsonl"


def write_config(homes: Path, text: str) -> None:
    folder = homes / "XDG_CONFIG_HOME" / "capcon"
    folder.mkdir(exist_ok=True)
    (folder / "config.toml").write_text(text, encoding="utf-8")


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch) -> list[Session]:
    """Every session the commands open (to look at its backend afterwards)."""
    opened: list[Session] = []
    real = bootstrap.open_session

    def spy(*args: Any, **kwargs: Any) -> Session:
        session = real(*args, **kwargs)
        opened.append(session)
        return session

    monkeypatch.setattr(bootstrap, "open_session", spy)
    return opened


#: The commands that change things, each with what it would change on the demo account.
MUTATIONS: dict[str, list[str]] = {
    "scale": ["scale", "audit-log", "--wcu", "800", "--yes"],
    "aas": ["aas", "orders", "--writes", "--min", "100", "--max", "600", "--apply", "--yes"],
    "autoscale": ["autoscale", "--apply", "--minutes", "2", "--table", "audit-log"],
}
#: Where read-only comes from.
SOURCES = ("flag-before", "flag-after", "config")


def argv_for(command: list[str], source: str, homes: Path) -> list[str]:
    if source == "flag-before":
        return ["--sim", "--read-only", *command]
    if source == "flag-after":
        return ["--sim", *command, "--read-only"]
    write_config(homes, "read_only = true\n")
    return ["--sim", *command]


def state(session: Session) -> tuple[Any, ...]:
    """What the mutations would change: capacities and auto scaling."""
    backend = session.backend
    return (
        backend.describe_table("audit-log").provisioned,
        backend.describe_table("orders").provisioned,
        tuple(backend.describe_scalable_targets()),
        tuple(backend.describe_scaling_policies()),
    )


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("command", sorted(MUTATIONS))
def test_read_only_holds_for_every_mutating_command(
    command: str,
    source: str,
    homes: Path,
    sessions: list[Session],
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(argv_for(MUTATIONS[command], source, homes))
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert "read-only" in err and "Traceback" not in err
    assert out == ""
    assert not audit_file(homes).exists()  # nothing was attempted
    (session,) = sessions
    assert session.read_only
    assert session.scaler().read_only  # and its scaler would refuse, whoever called it
    fresh = open_session(parse_args(["--sim"]))
    assert state(session) == state(fresh)


@pytest.mark.parametrize("command", sorted(MUTATIONS))
def test_without_read_only_the_same_commands_do_change_things(
    command: str, homes: Path, sessions: list[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    """The control: the read-only test above fails if read-only stops holding."""
    write_config(homes, "read_only = false\n")
    code = main(["--sim", *MUTATIONS[command]])
    out, err = capsys.readouterr()
    assert code == 0, (out, err)
    outcomes = [r.get("outcome") for r in map(json.loads, audit_file(homes).open())]
    assert "applied" in outcomes
    (session,) = sessions
    assert not session.read_only
    assert state(session) != state(open_session(parse_args(["--sim"])))


def test_a_session_scaler_refuses_in_a_read_only_session(homes: Path) -> None:
    session = open_session(parse_args(["--sim", "--read-only", "ls"]))
    table = session.backend.describe_table("audit-log")
    result = plan(
        table,
        TableChange(table=Throughput(100, 800)),
        session.backend.now(),
        rules=session.books.rules,
        prices=session.books.prices,
    )
    assert isinstance(result, ScalePlan)
    applied = session.scaler().apply(result)
    assert (applied.outcome, applied.error) == ("refused", READ_ONLY_REFUSAL)
    assert session.backend.describe_table("audit-log") == table
    assert not audit_file(homes).exists()


# --------------------------------------------------------------------------------------------
# Flags before or after the command
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["demo"], False),
        (["--read-only", "demo"], True),  # the subcommand's absent flag does not undo it
        (["demo", "--read-only"], True),
        (["--read-only", "demo", "--read-only"], True),
        ([], False),
        (["--read-only"], True),
        (["--sim", "--read-only", "ls"], True),
        (["--sim", "ls", "--read-only"], True),
        (["--sim", "ls"], False),
    ],
)
def test_read_only_flag_in_either_position(argv: list[str], expected: bool) -> None:
    assert parse_args(argv).read_only is expected


@pytest.mark.parametrize("flag", ["--region", "--profile", "--endpoint-url", "--prices", "--rules"])
def test_session_flags_before_or_after_the_command(flag: str) -> None:
    attribute = flag.lstrip("-").replace("-", "_")
    before = parse_args([flag, "x", "ls"])
    after = parse_args(["ls", flag, "x"])
    absent = parse_args(["ls"])
    assert str(getattr(before, attribute)) == str(getattr(after, attribute)) == "x"
    assert getattr(absent, attribute) is None
    assert str(getattr(parse_args([flag, "x", "ls", flag, "y"]), attribute)) == "y"


def test_sim_before_or_after_the_command() -> None:
    assert parse_args(["--sim", "ls"]).sim == "demo"
    assert parse_args(["ls", "--sim"]).sim == "demo"
    assert parse_args(["ls", "--sim", "empty"]).sim == "empty"
    assert parse_args(["ls"]).sim is None


def test_demo_takes_the_scenario_from_sim_unless_given() -> None:
    assert bootstrap.scenario(parse_args(["demo"])) == "demo"
    assert bootstrap.scenario(parse_args(["--sim", "empty", "demo"])) == "empty"
    assert bootstrap.scenario(parse_args(["demo", "--scenario", "fleet:2,1"])) == "fleet:2,1"
    assert bootstrap.scenario(parse_args(["ls"])) is None


@pytest.mark.parametrize("argv", [["--sim", "ls", "--sort", "size"], ["--sim", "ls", "--bogus"]])
def test_bad_flags_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse_args(argv)
    assert exit_.value.code == 2
    assert "capcon: error:" in capsys.readouterr().err


def test_a_bad_config_file_is_refused_by_every_session(
    homes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config(homes, 'read_only = "yes"\n')
    assert main(["--sim", "ls"]) == 2
    err = capsys.readouterr().err
    assert "config.toml" in err and "read_only" in err and "'yes'" in err


def test_config_names_the_rule_book_for_the_cli_too(
    homes: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "strict.toml"
    rules.write_text("shard_write_records_per_second = 10\n", encoding="utf-8")
    write_config(homes, f'rules_file = "{rules}"\n')
    session = open_session(parse_args(["--sim", "ls"]))
    assert session.books.rules.shard_write_records_per_second == 10
    with pytest.raises(UsageError, match=r"none\.toml"):  # the flag wins over the config
        open_session(parse_args(["--sim", "ls", "--rules", str(tmp_path / "none.toml")]))


# --------------------------------------------------------------------------------------------
# The console and demo
# --------------------------------------------------------------------------------------------

CONSOLES: dict[str, tuple[list[str], str]] = {
    "demo-flag-before": (["--read-only", "demo"], ""),
    "demo-flag-after": (["demo", "--read-only"], ""),
    "demo-config": (["demo"], "read_only = true\n"),
    "console-flag-before": (["--read-only", "--sim"], ""),
    "console-flag-after": (["--sim", "--read-only"], ""),
    "console-config": (["--sim"], "read_only = true\n"),
}


def console(argv: list[str], config: str, homes: Path) -> CapconApp:
    if config:
        write_config(homes, config)
    app = console_from_args(parse_args(argv))
    app.options.poll = False  # the test polls when it wants to
    return app


async def press_scale(app: CapconApp, pilot: Any) -> None:
    app.action_refresh()
    await settle(app, pilot)
    assert app.snapshot is not None, app.last_error
    app.jump_to("audit-log")
    await pilot.press("c")
    await settle(app, pilot)


@pytest.mark.parametrize("case", sorted(CONSOLES))
async def test_read_only_console_offers_no_scale_and_its_scaler_refuses(
    case: str, homes: Path
) -> None:
    argv, config = CONSOLES[case]
    app = console(argv, config, homes)
    assert app.options.read_only
    async with app.run_test(size=(160, 50)) as pilot:
        main_screen = app.screen
        await press_scale(app, pilot)
        assert app.screen is main_screen  # `c` opened nothing
        assert not any(isinstance(s, ScaleModal) for s in app.screen_stack)
        offered = [a.binding.action for a in app.screen.active_bindings.values() if a.binding.show]
        assert "filter" in offered and "scale" not in offered and "autoscaling" not in offered

        # and were a plan to reach it anyway, the console's scaler refuses it
        table = app.backend.describe_table("audit-log")
        result = plan(
            table,
            TableChange(table=Throughput(100, 800)),
            app.backend.now(),
            rules=app.rules,
            prices=app.prices,
        )
        assert isinstance(result, ScalePlan)
        app.apply_plan(result, table)
        await settle(app, pilot)
        assert any(READ_ONLY_REFUSAL in str(n.message) for n in app._notifications)
        assert app.backend.describe_table("audit-log").provisioned == table.provisioned
    assert not audit_file(homes).exists()


async def test_writable_demo_does_open_the_scale_dialog(homes: Path) -> None:
    """The control: pressing `c` in the same way opens the dialog when writable."""
    app = console(["demo"], "", homes)
    assert not app.options.read_only
    async with app.run_test(size=(160, 50)) as pilot:
        await press_scale(app, pilot)
        assert isinstance(app.screen, ScaleModal)


def test_run_console_builds_the_app_from_the_session(
    homes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[CapconApp] = []
    monkeypatch.setattr(CapconApp, "run", lambda self, **_: ran.append(self))
    write_config(homes, "read_only = true\n")
    assert main(["demo", "--scenario", "empty", "--speed", "30"]) == 0
    (app,) = ran
    assert app.options.read_only and app.options.sim_speed == 30
    assert app.origin.backend == "sim:empty"


def answering(monkeypatch: pytest.MonkeyPatch, answer: str) -> list[str]:
    """A terminal that answers every question with ``answer``; returns the questions."""
    asked: list[str] = []

    def fake_input(prompt: str = "") -> str:
        asked.append(prompt)
        return answer

    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", fake_input)
    return asked


def test_scale_takes_the_confirm_factor_from_config_unless_given(
    homes: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """audit-log 1,000 → 2,500 WCU is ×2.5: below the default 4, above a configured 2."""
    asked = answering(monkeypatch, "n")
    argv = ["--sim", "scale", "audit-log", "--wcu", "2500"]
    assert main(argv) == 1
    assert asked == ["Apply this change? [y/N] "]
    write_config(homes, "confirm_factor = 2\n")
    assert main(argv) == 1
    assert "Type the resource name (audit-log)" in asked[-1]
    assert main([*argv, "--confirm-factor", "3"]) == 1  # the flag wins over the config
    assert asked[-1] == "Apply this change? [y/N] "
    capsys.readouterr()


def test_scale_on_a_production_profile_asks_for_the_name_as_the_console_does(
    homes: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import capcon.tui.cli.scale as scale_command

    asked = answering(monkeypatch, "audit-log")
    monkeypatch.setattr(scale_command, "is_production", lambda config, profile: True)
    assert main(["--sim", "scale", "audit-log", "--wcu", "1100"]) == 0
    assert asked == ["Production profile. Type the resource name (audit-log) to apply: "]
    outcomes = [r.get("outcome") for r in map(json.loads, audit_file(homes).open())]
    assert outcomes[-1] == "applied"
    capsys.readouterr()


# --- the audit file (issue 15) --------------------------------------------------------------


def link_audit_file(homes: Path) -> Path:
    """``capcon/audit.jsonl`` as a symbolic link to a file elsewhere; returns the target."""
    target = homes / "elsewhere.jsonl"
    target.write_text("precious\n", encoding="utf-8")
    audit_file(homes).parent.mkdir(parents=True)
    audit_file(homes).symlink_to(target)
    return target


@pytest.mark.parametrize("command", sorted(MUTATIONS))
def test_a_symlinked_audit_log_refuses_every_change_before_sending(
    command: str, homes: Path, sessions: list[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    target = link_audit_file(homes)
    code = main(["--sim", *MUTATIONS[command]])
    out, err = capsys.readouterr()
    assert code == 1, (out, err)
    assert str(audit_file(homes)) in err and "symbolic link" in err
    assert "Traceback" not in err and "sending" not in out
    assert target.read_text(encoding="utf-8") == "precious\n"
    assert audit_file(homes).is_symlink()
    (session,) = sessions
    fresh = open_session(parse_args(["--sim"]))
    assert state(session) == state(fresh)


def test_an_audit_log_readable_by_others_is_set_to_0600_and_said_once(
    homes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    audit_file(homes).parent.mkdir(parents=True)
    audit_file(homes).write_text("", encoding="utf-8")
    audit_file(homes).chmod(0o644)
    assert main(["--sim", *MUTATIONS["scale"]]) == 0
    out, err = capsys.readouterr()
    assert audit_file(homes).stat().st_mode & 0o777 == 0o600
    assert err.count("0644") == 1 and str(audit_file(homes)) in err
    assert "applied" in out


def test_capcon_audit_never_follows_a_symlink(
    homes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit"]) == 0  # a missing log reads as empty
    assert "no changes recorded yet" in capsys.readouterr().out
    link_audit_file(homes)
    code = main(["audit", "--json"])
    out, err = capsys.readouterr()
    assert code != 0 and "precious" not in out
    assert "symbolic link" in err and "Traceback" not in err
