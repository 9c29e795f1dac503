"""The CLI end to end on a moto server: a change left open (the process killed before its
outcome) is reconciled by the next command that opens the backend, said on stderr, recorded
once; a read-only session says it and writes nothing; the outcome words and exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from capcon.core.config.paths import audit_path
from capcon.tui.cli.output import EXIT_OK, EXIT_REFUSED, EXIT_UNKNOWN, outcome_exit
from tests.support.aws import create_table
from tests.support.cli import run


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def drop_outcome(path: Path) -> None:
    """What a SIGKILL between the send and the outcome leaves: the intent alone."""
    kept = [line for line in path.read_text().splitlines() if '"phase": "outcome"' not in line]
    path.write_text("\n".join(kept) + "\n")


@pytest.fixture
def scaled(url: str, raw: Callable[[str], Any], capsys: pytest.CaptureFixture[str]) -> Path:
    create_table(raw("dynamodb"), "orders", 10, 10)
    result = run(capsys, "--endpoint-url", url, "scale", "orders", "--wcu", "12", "--yes")
    assert result.code == EXIT_OK, result.err
    assert "applied: orders" in result.out
    log = audit_path()
    drop_outcome(log)
    assert [r["phase"] for r in lines(log)] == ["intent"]
    return log


def test_the_next_command_reconciles_a_change_left_open_once(
    url: str, scaled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = run(capsys, "--endpoint-url", url, "ls")
    assert first.code == EXIT_OK
    assert "left as no outcome: reconciled as applied" in first.err
    records = lines(scaled)
    assert [r["phase"] for r in records] == ["intent", "reconciled"]
    assert records[1]["outcome"] == "applied"
    assert records[1]["after"]["capacity"]["write"] == 12
    again = run(capsys, "--endpoint-url", url, "ls")
    assert "reconciled" not in again.err
    shown = run(capsys, "audit")
    assert "reconciled" in shown.out


def test_a_read_only_session_reports_a_change_left_open_and_writes_nothing(
    url: str, scaled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(capsys, "--endpoint-url", url, "--read-only", "ls")
    assert "read-only: not recorded" in result.err
    assert [r["phase"] for r in lines(scaled)] == ["intent"]


def test_changes_left_open_on_another_account_are_not_touched(
    url: str, scaled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(capsys, "--endpoint-url", url, "--region", "eu-west-1", "ls")
    assert "reconciled" not in result.err
    assert [r["phase"] for r in lines(scaled)] == ["intent"]


@pytest.mark.parametrize(
    ("outcome", "code"),
    [
        ("applied", EXIT_OK),
        ("accepted", EXIT_OK),
        ("refused", EXIT_REFUSED),
        ("failed", EXIT_REFUSED),
        ("interrupted", EXIT_REFUSED),
        ("unknown", EXIT_UNKNOWN),
        ("partial", EXIT_UNKNOWN),
    ],
)
def test_outcome_exit_codes(outcome: str, code: int) -> None:
    assert outcome_exit(outcome) == code


async def test_the_console_says_what_reconciling_found(url: str, scaled: Path) -> None:
    from capcon.tui.bootstrap import console_from_args
    from capcon.tui.cli.main import parse_args

    app = console_from_args(parse_args(["--endpoint-url", url]))
    app.options.poll = False
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        messages = [str(n.message) for n in app._notifications]
    assert any("reconciled as applied" in m for m in messages), messages
    assert [r["phase"] for r in lines(scaled)] == ["intent", "reconciled"]
