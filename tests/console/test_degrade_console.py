"""Degrade, don't blank, in the console: Kinesis denied leaves the tables on screen, with a
notice naming the denied action; auto scaling denied shows "?" (unknown), not nothing.

A proxy in front of the moto server answers AccessDenied, as AWS does, for the operations
a test names, and forwards everything else.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from capcon.tui.bootstrap import console_from_args
from capcon.tui.cli.main import parse_args
from capcon.tui.console.testing import settle, status_bar
from capcon.tui.console.widgets.resource_list import ResourceList


@pytest.fixture
def denying(url: str) -> Iterator[tuple[str, set[str]]]:
    """A proxy URL and the set of target prefixes or operations it denies."""
    denied: set[str] = set()
    upstream = urlsplit(url)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            prefix, _, op = (self.headers.get("x-amz-target") or "").rpartition(".")
            if op in denied or prefix in denied:
                status, kind = 400, "application/x-amz-json-1.1"
                data = json.dumps(
                    {"__type": "AccessDeniedException", "message": f"not authorized: {op}"}
                ).encode()
            else:
                conn = http.client.HTTPConnection(upstream.hostname or "", upstream.port)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request("POST", self.path, body=body, headers=headers)
                answer = conn.getresponse()
                status, data = answer.status, answer.read()
                kind = answer.getheader("content-type") or "application/json"
                conn.close()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", denied
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def account(raw: Callable[[str], Any]) -> None:
    raw("dynamodb").create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 100, "WriteCapacityUnits": 50},
    )
    raw("kinesis").create_stream(StreamName="clicks", ShardCount=1)


def warnings(app: Any) -> list[str]:
    return [str(n.message) for n in app._notifications if n.severity == "warning"]


async def test_kinesis_and_auto_scaling_denied_leave_the_tables_on_screen(
    account: None, denying: tuple[str, set[str]]
) -> None:
    endpoint, denied = denying
    denied |= {"Kinesis_20131202", "DescribeScalableTargets"}
    app = console_from_args(parse_args(["--endpoint-url", endpoint]))
    app.options.poll = False  # the test polls when it wants to
    async with app.run_test(size=(160, 50)) as pilot:
        app.action_refresh()
        await settle(app, pilot)
        assert app.snapshot is not None, app.last_error
        assert app.last_error is None  # not a failed poll: a partial one
        listed = app.query_one(ResourceList)
        assert listed.row_keys == ["orders"]
        assert str(listed.get_cell("orders", "aas")) == "?"  # unknown, not "none"
        assert str(listed.get_cell("orders", "util")).strip() == "0%"  # CloudWatch was read
        said = "\n".join(warnings(app))
        assert "kinesis:ListStreams: access denied — streams not shown" in said
        assert "application-autoscaling:DescribeScalableTargets: access denied" in said
        bar = status_bar(app)
        assert "partial:" in bar and "(+1)" in bar

        denied.clear()  # permissions fixed: everything back, the notice gone
        app.action_refresh()
        await settle(app, pilot)
        assert set(listed.row_keys) == {"orders", "clicks"}
        assert str(listed.get_cell("orders", "aas")) == ""
        assert "partial:" not in status_bar(app)


async def test_cloudwatch_denied_shows_unknown_use_and_keeps_the_rows(
    account: None, denying: tuple[str, set[str]]
) -> None:
    endpoint, denied = denying
    denied.add("GetMetricData")
    app = console_from_args(parse_args(["--endpoint-url", endpoint]))
    app.options.poll = False
    async with app.run_test(size=(160, 50)) as pilot:
        app.action_refresh()
        await settle(app, pilot)
        listed = app.query_one(ResourceList)
        assert set(listed.row_keys) == {"orders", "clicks"}
        assert str(listed.get_cell("orders", "util")).strip() == "?"  # unknown, never 0
        assert str(listed.get_cell("orders", "thr")).strip() == "?"
        assert "cloudwatch:GetMetricData: access denied" in "\n".join(warnings(app))
