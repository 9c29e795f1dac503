"""A password in ``--endpoint-url`` reaches the connection and nothing else: not stdout, not
stderr, not the audit log, not the console's status bar or notifications (issue 15)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from capcon.core.config.paths import audit_path
from capcon.tui.bootstrap import console_from_args
from capcon.tui.cli.main import main, parse_args
from capcon.tui.console.testing import settle, status_bar

PASSWORD = "s3cr3t-PASSWORD"
TABLE = "orders"


@dataclass
class Run:
    code: int
    out: str
    err: str


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return Run(code, out, err)


def with_password(url: str) -> str:
    return url.replace("http://", f"http://user:{PASSWORD}@", 1)


@pytest.fixture
def secret_url(url: str, raw: Callable[[str], Any]) -> str:
    """The moto server behind a URL with a password, and a provisioned table on it."""
    raw("dynamodb").create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    return with_password(url)


def test_no_command_shows_the_password(capsys: pytest.CaptureFixture[str], secret_url: str) -> None:
    flags = ["--endpoint-url", secret_url]
    runs = {
        "ls": run(capsys, *flags, "ls"),
        "ls --json": run(capsys, *flags, "ls", "--json"),
        "show": run(capsys, *flags, "show", TABLE),
        "plan": run(capsys, *flags, "plan", TABLE, "--wcu", "10"),
        "scale": run(capsys, *flags, "scale", TABLE, "--wcu", "10", "--yes"),
        "audit": run(capsys, *flags, "audit"),
        "audit --json": run(capsys, *flags, "audit", "--json"),
    }
    for name, result in runs.items():
        assert result.code == 0, (name, result)
        assert PASSWORD not in result.out, name
        assert PASSWORD not in result.err, name
    # the commands did name the endpoint (redacted): the check above looked at real output
    assert "***@127.0.0.1" in runs["ls"].out
    assert "***@127.0.0.1" in runs["show"].out
    records = [json.loads(line) for line in audit_path().read_text().splitlines()]
    assert records, "scale wrote no audit record"
    assert PASSWORD not in audit_path().read_text()
    assert all("***@127.0.0.1" in r["origin"]["backend"] for r in records)


def test_an_unreachable_endpoint_is_named_without_its_password(
    capsys: pytest.CaptureFixture[str], aws_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # port 1 refuses at once; no retries
    dead = f"http://user:{PASSWORD}@127.0.0.1:1"
    commands = (["ls"], ["ls", "--json"], ["show", TABLE], ["scale", TABLE, "--wcu", "10", "--yes"])
    for argv in commands:
        result = run(capsys, "--endpoint-url", dead, *argv)
        assert result.code != 0, argv
        assert "unreachable" in result.err, (argv, result.err)
        assert "***@127.0.0.1:1" in result.err, (argv, result.err)
        assert PASSWORD not in result.out + result.err, argv
    assert not audit_path().exists() or PASSWORD not in audit_path().read_text()


async def test_the_console_shows_no_password(secret_url: str) -> None:
    app = console_from_args(parse_args(["--endpoint-url", secret_url]))
    app.options.poll = False  # the test polls when it wants to
    async with app.run_test(size=(160, 50)) as pilot:
        app.action_refresh()
        await settle(app, pilot)
        assert app.snapshot is not None, app.last_error
        assert PASSWORD not in repr(app.origin)  # what the audit records get, both fields
        bar = status_bar(app)
        assert "***@127.0.0.1" in bar
        assert PASSWORD not in bar
        assert not any(PASSWORD in str(n.message) for n in app._notifications)


async def test_the_console_on_a_dead_endpoint_shows_no_password(
    aws_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    app = console_from_args(parse_args(["--endpoint-url", f"http://user:{PASSWORD}@127.0.0.1:1"]))
    app.options.poll = False
    async with app.run_test(size=(160, 50)) as pilot:
        app.action_refresh()
        await settle(app, pilot)
        assert app.last_error, "the refresh should have failed"
        assert PASSWORD not in str(app.last_error)
        assert PASSWORD not in status_bar(app)
        messages = [str(n.message) for n in app._notifications]
        assert not any(PASSWORD in m for m in messages), messages


@pytest.mark.parametrize(
    "endpoint",
    [
        f"http://[::1]x:{PASSWORD}",
        f"http://user:{PASSWORD}@[::1",
        f"http://user:{PASSWORD}@host:notaport",
        f"ftp://user:{PASSWORD}@host",
        f"user:{PASSWORD}@127.0.0.1:5000",
    ],
)
@pytest.mark.parametrize("command", [["ls"], []])
def test_a_malformed_endpoint_is_a_usage_error_without_its_password(
    capsys: pytest.CaptureFixture[str], aws_env: Any, endpoint: str, command: list[str]
) -> None:
    """No traceback (botocore raises ValueError on these), and the URL is not echoed."""
    result = run(capsys, "--endpoint-url", endpoint, *command)
    assert result.code == 2, result
    assert result.err.startswith("capcon: error: --endpoint-url"), result.err
    assert PASSWORD not in result.out + result.err
