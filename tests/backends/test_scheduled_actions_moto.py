"""AAS scheduled actions through the AWS adapter: put / describe / delete on a moto server,
paging (a Stubber: moto answers every action on one page), and answers of the wrong shape
(a local server answering what each test says): an error naming the field, never a
traceback, never a made-up action.

moto (measured here, 5.x) stores scheduled actions and never runs them; it also accepts a
put on a target that is not registered, does not delete a target's actions when it is
deregistered and answers a delete of an unknown action without an error — AWS does all three
(docs/aws-rules.md#scheduled-actions), so nothing here relies on them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber
from hypothesis import given, settings
from hypothesis import strategies as st

from capcon.core.backends.aws.adapter import AwsAdapter, scheduled_action_from_aws
from capcon.core.backends.aws.describe import DescribeError
from capcon.core.backends.aws.errors import MalformedAnswer
from capcon.core.backends.aws.session import AwsSession
from capcon.core.ports import (
    INDEX_WRITE,
    TABLE_READ,
    TABLE_WRITE,
    ScalableTarget,
    ScheduledAction,
    at_schedule,
)
from tests.support.aws import create_table
from tests.support.cli import run

RID = "table/orders"
WHEN = datetime(2027, 1, 15, 18, 0, tzinfo=UTC)


@pytest.fixture
def adapter(url: str) -> AwsAdapter:
    return AwsAdapter(AwsSession(endpoint_url=url))


def registered(adapter: AwsAdapter, raw: Callable[[str], Any], *dims: str) -> None:
    create_table(raw("dynamodb"), "orders")
    create_table(raw("dynamodb"), "other")
    for dim in dims:
        rid = f"{RID}/index/by-day" if dim.startswith("dynamodb:index") else RID
        adapter.register_scalable_target(ScalableTarget(rid, dim, 5, 100))


def test_put_describe_delete_round_trip(adapter: AwsAdapter, raw: Callable[[str], Any]) -> None:
    registered(adapter, raw, TABLE_WRITE, TABLE_READ, INDEX_WRITE)
    adapter.register_scalable_target(ScalableTarget("table/other", TABLE_WRITE, 1, 10))
    raise_ = ScheduledAction(
        "capcon-event-0a1b2c3d-raise-write", RID, TABLE_WRITE, at_schedule(WHEN), 500, 800
    )
    only_min = ScheduledAction("reads-up", RID, TABLE_READ, at_schedule(WHEN), 50, None)
    paris = ScheduledAction(
        "gsi-nightly", f"{RID}/index/by-day", INDEX_WRITE, "cron(0 22 * * ? *)", None, 40,
        timezone="Europe/Paris", start=WHEN, end=datetime(2027, 6, 1, tzinfo=UTC),
    )  # fmt: skip
    elsewhere = ScheduledAction("other-up", "table/other", TABLE_WRITE, at_schedule(WHEN), 2, 2)
    for action in (raise_, only_min, paris, elsewhere):
        adapter.put_scheduled_action(action)

    listed = {a.name: a for a in adapter.describe_scheduled_actions()}
    assert set(listed) == {raise_.name, only_min.name, paris.name, elsewhere.name}
    got = listed[raise_.name]
    assert (got.resource_id, got.dimension, got.schedule) == (RID, TABLE_WRITE, at_schedule(WHEN))
    assert (got.min_capacity, got.max_capacity, got.timezone) == (500, 800, None)
    assert got.at == WHEN and got.created is not None and got.created.tzinfo is not None
    assert (listed["reads-up"].min_capacity, listed["reads-up"].max_capacity) == (50, None)
    cron = listed["gsi-nightly"]
    assert (cron.timezone, cron.min_capacity, cron.max_capacity, cron.at) == (
        "Europe/Paris", None, 40, None
    )  # fmt: skip
    assert cron.start == WHEN and cron.end == datetime(2027, 6, 1, tzinfo=UTC)

    # the ResourceId filter: the GSI is its own resource, and other tables are left out
    assert {a.name for a in adapter.describe_scheduled_actions(RID)} == {raise_.name, "reads-up"}
    assert [a.name for a in adapter.describe_scheduled_actions("table/other")] == ["other-up"]

    # put again under the same name: replaced, not added
    later = at_schedule(WHEN.replace(hour=17))
    adapter.put_scheduled_action(ScheduledAction(raise_.name, RID, TABLE_WRITE, later, 600, 900))
    (again,) = [a for a in adapter.describe_scheduled_actions(RID) if a.name == raise_.name]
    assert (again.at, again.min_capacity, again.max_capacity) == (WHEN.replace(hour=17), 600, 900)

    adapter.delete_scheduled_action(raise_.name, RID, TABLE_WRITE)
    assert {a.name for a in adapter.describe_scheduled_actions(RID)} == {"reads-up"}
    assert len(adapter.describe_scheduled_actions()) == 3


def test_ls_and_show_say_scheduled_only_instead_of_the_no_policy_trap(
    url: str, adapter: AwsAdapter, raw: Callable[[str], Any], capsys: pytest.CaptureFixture[str]
) -> None:
    registered(adapter, raw, TABLE_WRITE)
    trap = "writes: scalable target registered but no policy"
    before = run(capsys, "--endpoint-url", url, "ls")
    assert before.code == 0 and f"orders: {trap}" in before.out
    for phase in ("raise", "restore"):
        adapter.put_scheduled_action(ScheduledAction(
            f"capcon-event-0a1b2c3d-{phase}-write", RID, TABLE_WRITE, at_schedule(WHEN), 9, 9
        ))  # fmt: skip
    after = run(capsys, "--endpoint-url", url, "ls")
    assert after.code == 0 and trap not in after.out
    assert "orders: writes: scheduled-only (event 0a1b2c3d)" in after.out
    (row,) = [r for r in run(capsys, "--endpoint-url", url, "ls", "--json").document()
              if r["name"] == "orders"]  # fmt: skip
    assert row["auto_scaling"]["traps"] == []
    assert row["auto_scaling"]["notes"] == ["writes: scheduled-only (event 0a1b2c3d)"]
    shown = run(capsys, "--endpoint-url", url, "show", "orders")
    assert shown.code == 0 and trap not in shown.out
    assert "· writes: scheduled-only (event 0a1b2c3d)" in shown.out


def test_every_page_is_read_and_a_repeated_page_ends_the_listing(aws_env: Path) -> None:
    offline = AwsAdapter(AwsSession(endpoint_url="http://127.0.0.1:9", max_attempts=1))

    def item(name: str) -> dict[str, Any]:
        return {
            "ScheduledActionName": name,
            "ScheduledActionARN": f"arn:aws:autoscaling:us-east-1:1:scheduledAction:{name}",
            "ServiceNamespace": "dynamodb",
            "Schedule": "at(2027-01-15T18:00:00)",
            "ResourceId": RID,
            "ScalableDimension": TABLE_WRITE,
            "ScalableTargetAction": {"MinCapacity": 5},
            "CreationTime": datetime(2026, 12, 1, tzinfo=UTC),
        }

    ask = {"ServiceNamespace": "dynamodb", "ResourceId": RID}
    with Stubber(offline.autoscaling) as stub:
        stub.add_response(
            "describe_scheduled_actions",
            {"ScheduledActions": [item("a"), item("b")], "NextToken": "p2"},
            ask,
        )
        stub.add_response(
            "describe_scheduled_actions",
            {"ScheduledActions": [item("c")], "NextToken": "p3"},
            ask | {"NextToken": "p2"},
        )
        # a server that hands the same token back (moto's AAS does for targets): stop there
        stub.add_response("describe_scheduled_actions",
                          {"ScheduledActions": [item("c")], "NextToken": "p3"},
                          ask | {"NextToken": "p3"})  # fmt: skip
        found = offline.describe_scheduled_actions(RID)
        stub.assert_no_pending_responses()
    assert [a.name for a in found] == ["a", "b", "c"]


# --- answers of the wrong shape ---------------------------------------------------------------

GOOD: dict[str, Any] = {
    "ScheduledActionName": "capcon-event-0a1b2c3d-raise-write",
    "ServiceNamespace": "dynamodb",
    "Schedule": "at(2027-01-15T18:00:00)",
    "ResourceId": RID,
    "ScalableDimension": TABLE_WRITE,
    "ScalableTargetAction": {"MinCapacity": 500, "MaxCapacity": 800},
    "CreationTime": datetime(2026, 12, 1, tzinfo=UTC),
}


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"ScheduledActionName": None}, "ScheduledActionName is missing"),
        ({"ScheduledActionName": 7}, "ScheduledActionName: expected a string, got 7"),
        ({"ScheduledActionName": "  "}, "ScheduledActionName is empty"),
        ({"ResourceId": None}, "ResourceId is missing"),
        ({"ScalableDimension": ["x"]}, "ScalableDimension: expected a string"),
        ({"Schedule": ""}, "Schedule is empty"),
        ({"ScalableTargetAction": []}, "ScalableTargetAction: expected an object"),
        ({"ScalableTargetAction": "min=5"}, "ScalableTargetAction: expected an object"),
        ({"ScalableTargetAction": {"MinCapacity": "5"}}, "MinCapacity: expected a whole number"),
        ({"ScalableTargetAction": {"MaxCapacity": -1}}, "MaxCapacity: expected a whole number"),
        ({"ScalableTargetAction": {"MinCapacity": True}}, "MinCapacity: expected a whole number"),
        ({"ScalableTargetAction": {"MinCapacity": 1.5}}, "MinCapacity: expected a whole number"),
        ({"Timezone": 5}, "Timezone: expected a string, got 5"),
        ({"StartTime": "yesterday"}, "StartTime: expected a time, got 'yesterday'"),
        ({"CreationTime": "x" * 500}, "CreationTime: expected a time, got 'xxxx"),
    ],
)
def test_a_bad_element_names_the_field(change: dict[str, Any], words: str) -> None:
    doc = {k: v for k, v in (GOOD | change).items() if v is not None}
    with pytest.raises(DescribeError, match=words) as caught:
        scheduled_action_from_aws(doc, "ScheduledActions[3]")
    assert "ScheduledActions[3]" in str(caught.value)
    assert len(str(caught.value)) < 200  # a huge value is not quoted whole


def test_a_good_element_with_no_bounds_and_a_naive_time_is_read() -> None:
    doc = GOOD | {"CreationTime": datetime(2026, 12, 1), "Timezone": ""}
    del doc["ScalableTargetAction"]
    action = scheduled_action_from_aws(doc)
    assert (action.min_capacity, action.max_capacity, action.timezone) == (None, None, None)
    assert action.created == datetime(2026, 12, 1, tzinfo=UTC)


class Server:
    """A local endpoint answering every request with one JSON body (HTTP 200)."""

    def __init__(self) -> None:
        self.body: bytes = b"{}"


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, Server]]:
    state = Server()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(state.body)))
            self.end_headers()
            self.wfile.write(state.body)

        def log_message(self, *_: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    finally:
        httpd.shutdown()
        httpd.server_close()


WIRE = {k: v for k, v in GOOD.items() if k != "CreationTime"} | {"CreationTime": 1.7e9}


@pytest.mark.parametrize(
    ("element", "words"),
    [
        ({"ScalableTargetAction": {"MinCapacity": "lots"}}, "MinCapacity: expected integer"),
        ({"ScheduledActionName": None}, "ScheduledActionName is missing"),
        ({"ScalableDimension": ""}, "ScalableDimension is empty"),
        ({"StartTime": "not a time"}, "StartTime: expected a timestamp, got 'not a time'"),
        ({"EndTime": "2027-13-45T99:00:00Z"}, "EndTime: expected a timestamp"),
    ],
)
def test_a_bad_answer_is_an_error_naming_the_operation_and_the_field(
    aws_env: Path, server: tuple[str, Server], element: dict[str, Any], words: str
) -> None:
    endpoint, state = server
    doc = {k: v for k, v in (WIRE | element).items() if v is not None}
    state.body = json.dumps({"ScheduledActions": [WIRE, doc]}).encode()
    adapter = AwsAdapter(AwsSession(endpoint_url=endpoint, max_attempts=1))
    with pytest.raises(MalformedAnswer, match=words) as caught:
        adapter.describe_scheduled_actions(RID)
    assert "DescribeScheduledActions" in str(caught.value)
    assert "table/orders" in str(caught.value)


def test_a_list_that_is_not_a_list_is_an_error(aws_env: Path, server: tuple[str, Server]) -> None:
    endpoint, state = server
    state.body = json.dumps({"ScheduledActions": {"a": 1}}).encode()
    adapter = AwsAdapter(AwsSession(endpoint_url=endpoint, max_attempts=1))
    with pytest.raises(MalformedAnswer, match="ScheduledActions"):
        adapter.describe_scheduled_actions()
    state.body = b"{}"  # no ScheduledActions at all: none
    assert adapter.describe_scheduled_actions() == []


# --- any element: an action or an error naming it, never anything else -----------------------

JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | st.datetimes(timezones=st.none() | st.timezones()),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
KEYS = st.sampled_from([*GOOD, "StartTime", "EndTime", "Timezone"])


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(KEYS, JSONISH, max_size=5), st.booleans())
def test_any_element_is_an_action_or_a_describe_error(change: dict[str, Any], whole: bool) -> None:
    """Mutations of a good element (or an arbitrary value in its place)."""
    doc: object = GOOD | change if whole else change
    try:
        action = scheduled_action_from_aws(doc, "ScheduledActions[0]")
    except DescribeError as error:
        assert "ScheduledActions[0]" in str(error) and len(str(error)) < 300
        return
    assert action.name.strip() and action.schedule.strip()
    for bound in (action.min_capacity, action.max_capacity):
        assert bound is None or (isinstance(bound, int) and bound >= 0)
    for moment in (action.start, action.end, action.created):
        assert moment is None or moment.tzinfo is not None
    action.at  # noqa: B018 (a time zone or a year out of range must not raise)
