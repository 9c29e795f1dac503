"""Trust: the CLI against a moto server behind the fault proxy, as an attacker and a flaky
network would try it (issue 15).

Run: ``.venv/bin/python bench/trust.py [--full] [--json]`` (< 2 minutes).  In one process it
starts moto and ``tests/support/faultproxy.py`` in front of it, then runs ``capcon``'s
``main()`` (stdout and stderr captured) through three matrices:

- **faults**: 500, throttling, a reset connection (before and after moto answered), an HTML
  page with status 200, access denied, an answer slower than the read timeout — each on the
  operation ``ls``, ``show`` and ``plan`` need first (ListTables, DescribeTable); exit code
  and time taken per run.  ``ls`` runs with the product's own timeouts and retries (the time
  a user waits), ``show``, ``plan`` and the slow answer with a 2 s read timeout and 2
  attempts ("quick"), unless ``--full``: then everything has the product's limits (how long
  a hung endpoint takes to fail).
- **hostile names**: every name of ``tests/support/hostile.py`` served as a table (and some
  as streams) through the proxy's aliases, through ``ls``, ``show``, ``plan`` and ``audit``
  (audit records holding the names), plus hostile AWS error answers.
- **secrets**: ``--endpoint-url http://user:SECRETPW@127.0.0.1:PORT`` through every command
  (``ls``, ``show``, ``plan``, ``scale``, ``aas``, ``audit``, with and without ``--json``,
  and an unreachable endpoint); all output and the audit log searched for the password.

Figures: inputs tried per area, tracebacks, control characters leaked (ESC, BEL, C1, NUL …
in what a terminal would receive), secrets shown, and per fault the exit code and seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.support: the fault proxy and the hostile names

SECRET = "SECRETPW"
TABLE, STREAM = "orders", "clicks"


@dataclass
class Run:
    argv: list[str]
    code: int | None
    out: str
    err: str
    seconds: float
    traceback: bool


@dataclass
class Area:
    name: str
    runs: list[Run] = field(default_factory=list)
    leaked: int = 0
    secrets: int = 0

    @property
    def tracebacks(self) -> int:
        return sum(r.traceback for r in self.runs)


def isolate() -> Path:
    """Fake credentials, empty config and state folders, nothing that reaches AWS."""
    home = Path(tempfile.mkdtemp(prefix="capcon-trust-"))
    for name in list(os.environ):
        if name.startswith("AWS_"):
            del os.environ[name]
    (home / "credentials").write_text("")
    (home / "config").write_text("")
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_EC2_METADATA_DISABLED="true",
        XDG_CONFIG_HOME=str(home / "config-home"),
        XDG_STATE_HOME=str(home / "state"),
        COLUMNS="400",
    )
    logging.getLogger("werkzeug").disabled = True
    logging.getLogger("botocore").setLevel(logging.CRITICAL)
    return home


def capcon(endpoint: str, argv: Sequence[str]) -> Run:
    """``capcon --endpoint-url ENDPOINT argv…`` in this process, its output captured."""
    from capcon.tui.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    start = time.monotonic()
    crashed = False
    code: int | None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["--endpoint-url", endpoint, *argv])
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        except BaseException:
            crashed = True
            code = None
            traceback.print_exc(file=err)
    seconds = time.monotonic() - start
    text = err.getvalue()
    return Run(list(argv), code, out.getvalue(), text, seconds, crashed or "Traceback" in text)


@contextlib.contextmanager
def moto() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def faults(proxy: Any, full: bool) -> tuple[Area, list[dict[str, Any]]]:
    from tests.support.aws import quick_aws
    from tests.support.faultproxy import Delay, Deny, Garbage, Reset, ServerError, Throttle

    area = Area("faults")
    rows: list[dict[str, Any]] = []
    cases: list[tuple[str, Any]] = [
        ("HTTP 500", ServerError()),
        ("throttled", Throttle()),
        ("reset before", Reset()),
        ("reset after", Reset(after_forward=True)),
        ("HTML 200", Garbage()),
        ("access denied", Deny()),
        ("slow (60 s)", Delay(60.0)),
    ]
    commands = {
        "ls": (["ls"], "ListTables"),
        "show": (["show", TABLE], "DescribeTable"),
        "plan": (["plan", TABLE, "--rcu", "10"], "DescribeTable"),
    }
    for label, action in cases:
        for command, (argv, operation) in commands.items():
            proxy.clear()
            proxy.reset_counts()
            proxy.add_rule(operation=operation, action=action)
            # the product's own limits where the time is the figure (ls, and everything with
            # --full); two attempts of 2 s elsewhere, so the whole matrix stays under 2 minutes
            quick = not full and (command != "ls" or isinstance(action, Delay))
            limits = (
                quick_aws(read_timeout=2.0, connect_timeout=2.0, max_attempts=2)
                if quick
                else contextlib.nullcontext()
            )
            with limits:
                run = capcon(proxy.url, argv)
            proxy.clear()
            area.runs.append(run)
            area.leaked += len(leaks(run.out + run.err))
            rows.append(
                {
                    "fault": label,
                    "command": command,
                    "limits": "quick" if quick else "product",
                    "operation": operation,
                    "exit": run.code,
                    "seconds": round(run.seconds, 2),
                    "sent": proxy.sent(operation),
                    "named": f"dynamodb:{operation}" in run.err,
                    "traceback": run.traceback,
                    "message": (run.err.strip().splitlines() or [""])[-1][:160],
                }
            )
    return area, rows


def hostile(proxy: Any, moto_url: str) -> Area:
    import boto3

    from tests.support.aws import REGION, create_table
    from tests.support.faultproxy import AwsError
    from tests.support.hostile import HOSTILE_NAMES

    area = Area("hostile names")
    ddb = boto3.client("dynamodb", endpoint_url=moto_url, region_name=REGION)
    kinesis = boto3.client("kinesis", endpoint_url=moto_url, region_name=REGION)
    streams = HOSTILE_NAMES[::3]
    for i, name in enumerate(HOSTILE_NAMES):
        create_table(ddb, f"hx{i:03d}t")
        proxy.alias(f"hx{i:03d}t", name)
        if name in streams:
            kinesis.create_stream(StreamName=f"hx{i:03d}s", ShardCount=1)
            proxy.alias(f"hx{i:03d}s", f"{name}.s")
    write_audit(HOSTILE_NAMES)
    argvs: list[list[str]] = [["ls"], ["audit", "--limit", "200"]]
    for i, name in enumerate(HOSTILE_NAMES):
        argvs.append(["show", name])
        if i % 2 == 0:
            argvs.append(["plan", name, "--rcu", "10"])
    for name in streams:
        argvs.append(["show", f"{name}.s"])
    for argv in argvs:
        run = capcon(proxy.url, argv)
        area.runs.append(run)
        area.leaked += len(leaks(run.out + run.err))
    for answer in (
        AwsError("ValidationException", " ".join(HOSTILE_NAMES[:10])),
        AwsError("[bold]Evil\x1b[2J\x07Exception", "\x9b31m"),
    ):
        proxy.add_rule(operation="DescribeTable", action=answer)
        run = capcon(proxy.url, ["show", "bell\x07bell"])
        proxy.clear()
        area.runs.append(run)
        area.leaked += len(leaks(run.out + run.err))
    return area


def write_audit(names: Sequence[str]) -> None:
    from capcon.core.config.paths import audit_path

    path = audit_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as out:
        for i, name in enumerate(names):
            record = {
                "at": "2026-11-23T01:30:00+00:00",
                "change_id": f"h{i}",
                "phase": "outcome",
                "origin": {"who": name, "backend": f"aws:{name}"},
                "resource": name,
                "summary": f"{name}: read 5 → 10",
                "outcome": "failed",
                "error": f"AccessDenied: {name}",
            }
            out.write(json.dumps(record) + "\n")


def secrets(moto_url: str) -> Area:
    from capcon.core.config.paths import audit_path

    area = Area("secrets")
    url = moto_url.replace("http://", f"http://user:{SECRET}@", 1)
    dead = f"http://user:{SECRET}@127.0.0.1:1"
    argvs = [
        ["ls"],
        ["ls", "--json"],
        ["show", TABLE],
        ["show", TABLE, "--json"],
        ["show", STREAM],
        ["plan", TABLE, "--rcu", "10"],
        ["plan", TABLE, "--rcu", "10", "--json"],
        ["scale", TABLE, "--rcu", "6", "--yes"],
        ["scale", TABLE, "--rcu", "7", "--yes", "--json"],
        ["aas", TABLE, "--reads", "--min", "5", "--max", "50", "--target", "70"],
        ["audit"],
        ["audit", "--json"],
    ]
    for argv in argvs:
        run = capcon(url, argv)
        area.runs.append(run)
        area.leaked += len(leaks(run.out + run.err))
        area.secrets += (run.out + run.err).count(SECRET)
    from tests.support.aws import quick_aws

    with quick_aws(read_timeout=2.0, connect_timeout=1.0, max_attempts=1):
        for argv in (["ls"], ["show", TABLE]):
            run = capcon(dead, argv)
            area.runs.append(run)
            area.secrets += (run.out + run.err).count(SECRET)
    log = audit_path()
    if log.exists():
        area.secrets += log.read_text(errors="replace").count(SECRET)
    return area


def leaks(text: str) -> list[str]:
    from tests.support.hostile import leaks as found

    return found(text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--full", action="store_true", help="slow answers with real limits")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    isolate()
    import boto3

    from tests.support.aws import REGION, create_table, warm_up
    from tests.support.faultproxy import FaultProxy

    started = time.monotonic()
    with moto() as moto_url, FaultProxy(moto_url) as proxy:
        warm_up(moto_url)
        create_table(boto3.client("dynamodb", endpoint_url=moto_url, region_name=REGION), TABLE)
        boto3.client("kinesis", endpoint_url=moto_url, region_name=REGION).create_stream(
            StreamName=STREAM, ShardCount=1
        )
        fault_area, fault_rows = faults(proxy, args.full)
        secret_area = secrets(moto_url)
        hostile_area = hostile(proxy, moto_url)
    areas = [fault_area, hostile_area, secret_area]
    total = time.monotonic() - started
    if args.json:
        print(
            json.dumps(
                {
                    "areas": {
                        a.name: {
                            "inputs": len(a.runs),
                            "tracebacks": a.tracebacks,
                            "control_characters_leaked": a.leaked,
                            "secrets_shown": a.secrets,
                        }
                        for a in areas
                    },
                    "faults": fault_rows,
                    "seconds": round(total, 1),
                },
                indent=2,
            )
        )
        return 0
    print(f"{'area':<15} {'inputs':>6} {'tracebacks':>10} {'ctl leaked':>10} {'secrets':>8}")
    for a in areas:
        print(f"{a.name:<15} {len(a.runs):>6} {a.tracebacks:>10} {a.leaked:>10} {a.secrets:>8}")
    print()
    print(f"{'fault':<14} {'cmd':<5} {'limits':<7} {'exit':>4} {'s':>6} {'sent':>4}  message")
    for row in fault_rows:
        print(
            f"{row['fault']:<14} {row['command']:<5} {row['limits']:<7} {row['exit']!s:>4} "
            f"{row['seconds']:>6.2f} {row['sent']:>4}  {row['message'][:100]}"
        )
    print(f"\n{sum(len(a.runs) for a in areas)} runs in {total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
