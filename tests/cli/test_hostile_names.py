"""Server text is data (issue 15): names and error messages an endpoint serves reach the
terminal as written, never as Rich markup and never as control codes.

A real account refuses names like ``audit[/]`` or ``red\\x1b[31mrow`` at creation, so the fault
proxy serves moto's tables and streams under hostile aliases (and hostile error answers).
Every command that prints them (``ls``, ``show``, ``plan``, ``audit``) must exit as it would
for a plain name, show the name's printable characters (markup brackets included), and write
no ESC, BEL, C1 or NUL.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.text import Text
from textual.content import Content

from capcon.core.config.paths import audit_path
from capcon.tui.cli.main import main
from capcon.tui.text import markup_safe, printable
from tests.support.aws import REGION, create_table
from tests.support.faultproxy import AwsError, FaultProxy
from tests.support.hostile import HOSTILE_NAMES, leaks, squeeze, visible


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def table_alias(i: int) -> str:
    return f"hx{i:03d}t"


#: The names also served as streams (a stream costs ``ls`` more requests than a table).
STREAMS = HOSTILE_NAMES[::3]


def stream_name(name: str) -> str:
    """The stream served next to the table ``name`` (a suffix keeps the hostile part first)."""
    return f"{name}.s"


@pytest.fixture(scope="module")
def proxy(moto_url: str) -> Iterator[FaultProxy]:
    """Moto behind the proxy, one table and one stream per hostile name."""
    requests.post(f"{moto_url}/moto-api/reset", timeout=10).raise_for_status()
    ddb = boto3.client("dynamodb", endpoint_url=moto_url, region_name=REGION)
    kinesis = boto3.client("kinesis", endpoint_url=moto_url, region_name=REGION)
    with FaultProxy(moto_url) as served:
        for i, name in enumerate(HOSTILE_NAMES):
            create_table(ddb, table_alias(i))
            served.alias(table_alias(i), name)
            if name in STREAMS:
                kinesis.create_stream(StreamName=f"hx{i:03d}s", ShardCount=1)
                served.alias(f"hx{i:03d}s", stream_name(name))
        yield served


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich tables wide enough that no name is wrapped (the check reads names whole)."""
    monkeypatch.setenv("COLUMNS", "3000")


def run(capsys: pytest.CaptureFixture[str], proxy: FaultProxy, *argv: str) -> Run:
    try:
        code = main(["--endpoint-url", proxy.url, *argv])
    except SystemExit as exit_:  # argparse refuses a flag or argument from inside parse_args
        code = exit_.code if isinstance(exit_.code, int) else 1
    out, err = capsys.readouterr()
    return Run(code, out, err)


def typable(name: str) -> bool:
    """Whether a user may type ``name`` as an argument: the CLI refuses control characters in
    names (exit 2, the name quoted with its escapes), as no AWS name holds one."""
    return printable(name) == name


def assert_clean(result: Run) -> None:
    assert "Traceback" not in result.text
    assert leaks(result.text) == [], result.text


def test_ls_shows_every_hostile_name_as_written(
    capsys: pytest.CaptureFixture[str], proxy: FaultProxy
) -> None:
    result = run(capsys, proxy, "ls")
    assert result.code == 0, result.err
    assert_clean(result)
    shown = squeeze(result.out)
    for name in HOSTILE_NAMES:
        assert visible(name) in shown, name
    for name in STREAMS:
        assert visible(stream_name(name)) in shown, name
    # markup is shown, not applied: the brackets are on screen
    assert "[boldred]x[/]" in shown
    assert "[@click=app.quit]x" in shown


#: One name of each kind for the commands on one resource (``ls`` and the console take all):
#: a CLI run costs about a second, and the suite stays fast.
SAMPLE = (
    "[@click=app.quit]x",
    "[/",
    "title\x1b]0;pwned\x07t",
    "csi\x9b31mc1",
)


@pytest.mark.parametrize("name", SAMPLE, ids=range(len(SAMPLE)))
def test_show_prints_a_hostile_name_as_written(
    capsys: pytest.CaptureFixture[str], proxy: FaultProxy, name: str
) -> None:
    results = [run(capsys, proxy, "show", name)]
    if name in STREAMS:
        results.append(run(capsys, proxy, "show", stream_name(name)))
    for result in results:
        assert_clean(result)
        if not typable(name):
            assert result.code == 2, result.text
            assert "without control characters" in result.err
        elif "/" in name:
            # TABLE/INDEX: a name with a slash reads as a GSI; said plainly, exit 2
            assert result.code == 2, result.text
            assert "no table or stream called" in result.err
            assert visible(name) in squeeze(result.err)
        else:
            assert result.code == 0, result.err
            assert visible(name) in squeeze(result.out)


@pytest.mark.parametrize("name", SAMPLE[::2], ids=range(len(SAMPLE[::2])))
def test_plan_prints_a_hostile_name_as_written(
    capsys: pytest.CaptureFixture[str], proxy: FaultProxy, name: str
) -> None:
    result = run(capsys, proxy, "plan", name, "--rcu", "10")
    assert_clean(result)
    if not typable(name):
        assert result.code == 2, result.text
        return
    assert result.code == 0, result.err
    assert visible(name) in squeeze(result.out)


def test_audit_shows_hostile_records_as_written(
    capsys: pytest.CaptureFixture[str], proxy: FaultProxy
) -> None:
    path = audit_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    records = [
        {
            "at": "2026-11-23T01:30:00+00:00",
            "change_id": f"c{i}",
            "phase": "outcome",
            "origin": {"who": name, "backend": f"aws:{name}"},
            "resource": name,
            "summary": f"{name}: read 5 → 10",
            "outcome": "failed",
            "error": f"AccessDenied: {name}",
        }
        for i, name in enumerate(HOSTILE_NAMES)
    ]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as out:
        out.writelines(json.dumps(r) + "\n" for r in records)
    result = run(capsys, proxy, "audit", "--limit", "100")
    assert result.code == 0, result.err
    assert_clean(result)
    shown = squeeze(result.out)
    for name in HOSTILE_NAMES:
        if len(name) < 100:  # the summary column may cut a long name short
            assert visible(f"{name}: read 5 → 10") in shown, name


@pytest.mark.parametrize(
    "answer",
    [
        AwsError("ValidationException", " ".join(HOSTILE_NAMES[:-2])),
        AwsError("[bold]Evil\x1b[2J\x07Exception", "x"),
        AwsError("com.amazonaws.dynamodb.v20120810#InternalServerError", "\x9b31m", status=500),
    ],
    ids=["message", "code", "server-error"],
)
def test_a_hostile_error_answer_is_printed_as_written(
    capsys: pytest.CaptureFixture[str], proxy: FaultProxy, answer: AwsError
) -> None:
    proxy.add_rule(action=answer)  # every request: nothing of the account can be read
    try:
        result = run(capsys, proxy, "ls")
    finally:
        proxy.clear()
    assert result.code == 3, result.text
    assert_clean(result)
    assert "dynamodb:ListTables" in result.err
    assert visible(answer.message) in squeeze(result.err)


def test_leaks_finds_what_a_terminal_acts_on() -> None:
    """The checks above read the terminal output; this keeps :func:`leaks` honest."""
    assert leaks("a\x1b[31mb\x07c\x9bd\x00e") == ["\x1b", "\x07", "\x9b", "\x00"]
    assert leaks("plain [b]markup[/] and\ttabs\nand lines") == []
    assert visible("a\x1b[31mb") == "a[31mb"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("[]/\\@=ab \x1b\x07\x9b"), max_size=30))
def test_markup_safe_text_reads_back_as_written_in_rich_and_textual(text: str) -> None:
    """The one escaping path holds for both markup parsers, inside markup of our own."""
    safe = markup_safe(text)
    expected = f"{printable(text)} tail"
    markup = f"[b]{safe}[/b] tail"
    assert Text.from_markup(markup).plain.replace("\u200b", "") == expected
    assert Content.from_markup(markup).plain.replace("\u200b", "") == expected
