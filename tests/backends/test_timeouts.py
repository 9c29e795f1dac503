"""Timeouts sized for a control plane: an endpoint that never answers, or never lets a
connection be made, fails in seconds with a message naming the operation and the endpoint
(redacted); throttling still gets its retries; the call is named while it is in flight.

The mechanism is tested against local sockets with small timeouts (each test well under 3 s);
the defaults are checked by arithmetic against botocore's own back-off constants, and measured
end to end by ``bench/hung_endpoint.py``.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.retries.standard import ExponentialBackoff

from capcon.core.backends.aws import session as session_module
from capcon.core.backends.aws.adapter import AwsAdapter
from capcon.core.backends.aws.session import AwsSession, worst_case_seconds
from capcon.core.errors import EndpointUnreachable
from capcon.core.inflight import IN_FLIGHT

PASSWORD = "pa55-w0rd-in-url"


class Server:
    """A local HTTP endpoint: it counts the requests it reads and answers them from
    ``answers`` (raw HTTP responses, one per request, in order); ``None`` holds the
    connection open without a word (a hung endpoint)."""

    def __init__(self, answers: list[bytes | None]) -> None:
        self.answers = answers
        self.requests = 0
        self.got_request = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self._held.append(conn)
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        with contextlib.suppress(OSError):
            while True:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                while len(body) < length:
                    body += conn.recv(65536)
                index = self.requests
                self.requests += 1
                self.got_request.set()
                answer = self.answers[index] if index < len(self.answers) else None
                if answer is None:
                    self._stop.wait(10)  # hung: never a word
                    return
                conn.sendall(answer)

    def __enter__(self) -> Server:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        for conn in self._held:
            conn.close()
        self._listener.close()


def http(status: int, body: str, **headers: str) -> bytes:
    head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}"]
    head += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n" + body).encode()


THROTTLED = http(
    400,
    '{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"slow down"}',
    Content_Type="application/x-amz-json-1.0",
)
TABLES = http(200, '{"TableNames":["orders"]}', Content_Type="application/x-amz-json-1.0")


@contextlib.contextmanager
def black_hole() -> Iterator[int]:
    """A port whose connections are never made: backlog 0 and a queue kept full by
    connections nobody accepts, so the kernel drops each new SYN."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port: int = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.settimeout(0.3)
        try:
            probe.connect(("127.0.0.1", port))
        except TimeoutError:
            pass
        else:  # pragma: no cover - a kernel that queues beyond the backlog
            pytest.skip("this kernel accepts connections beyond a full backlog")
        finally:
            probe.close()
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def endpoint(port: int) -> str:
    return f"http://capcon:{PASSWORD}@127.0.0.1:{port}"


# --------------------------------------------------------------------------------------------
# The mechanism, with small timeouts
# --------------------------------------------------------------------------------------------


def test_a_hung_endpoint_fails_after_each_attempt_times_out_naming_operation_and_endpoint(
    aws_env: Path,
) -> None:
    with Server([None, None, None]) as server:
        session = AwsSession(endpoint_url=endpoint(server.port), max_attempts=2, read_timeout=0.4)
        session.dynamodb()  # made before the clock starts (a client takes a moment to make)
        started = time.monotonic()
        with pytest.raises(EndpointUnreachable) as raised:
            AwsAdapter(session).list_tables()
        took = time.monotonic() - started
    assert server.requests == 2  # both attempts reached it, none more
    assert 0.8 <= took < 8  # two reads given up after 0.4 s each (the defaults: 12 s)
    message = str(raised.value)
    assert message.startswith("dynamodb:ListTables: endpoint http://")
    assert f"127.0.0.1:{server.port}" in message
    assert PASSWORD not in message  # redacted
    assert re.search(r"\(gave up after \d s\)$", message)
    assert raised.value.maybe_sent  # a read timeout: the request may have been carried out


def test_a_black_holed_endpoint_fails_after_each_connect_times_out(aws_env: Path) -> None:
    with black_hole() as port:
        session = AwsSession(endpoint_url=endpoint(port), max_attempts=2, connect_timeout=0.4)
        session.dynamodb()
        started = time.monotonic()
        with pytest.raises(EndpointUnreachable) as raised:
            AwsAdapter(session).describe_table("orders")
        took = time.monotonic() - started
    assert 0.8 <= took < 5  # two connects given up after 0.4 s each (the defaults: 6 s)
    message = str(raised.value)
    assert message.startswith("dynamodb:DescribeTable on table orders: endpoint http://")
    assert PASSWORD not in message
    assert not raised.value.maybe_sent  # no connection: nothing was sent


def test_throttling_keeps_its_retries_and_mutations_are_sent_once(
    aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # botocore's back-off (up to 1 s, then 2 s) is the one thing not worth waiting for here
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda _self, _context: 0.0)
    with Server([THROTTLED, THROTTLED, TABLES]) as server:
        session = AwsSession(endpoint_url=endpoint(server.port), read_timeout=1)
        assert AwsAdapter(session).list_tables() == ["orders"]  # default: three attempts
        assert server.requests == 3
    with Server([None]) as server:
        session = AwsSession(endpoint_url=endpoint(server.port), read_timeout=0.3)
        once = session.dynamodb(max_attempts=1)
        with pytest.raises(Exception, match="Read timeout"):
            once.describe_table(TableName="orders")
        assert server.requests == 1


def test_the_caller_identity_gets_one_attempt(aws_env: Path) -> None:
    with Server([None, None]) as server:
        session = AwsSession(endpoint_url=endpoint(server.port), read_timeout=0.3)
        assert session.identity() == "unknown"
        assert server.requests == 1


def test_a_slow_call_is_in_flight_until_it_ends(aws_env: Path) -> None:
    with Server([None, None]) as server:
        session = AwsSession(endpoint_url=endpoint(server.port), max_attempts=1, read_timeout=1)
        adapter = AwsAdapter(session)
        failed: list[BaseException] = []

        def call() -> None:
            try:
                adapter.describe_table("orders")
            except EndpointUnreachable as error:
                failed.append(error)

        worker = threading.Thread(target=call)
        worker.start()
        assert server.got_request.wait(30)  # set when the request arrives (a loaded machine)
        mine = [c for c in IN_FLIGHT.calls() if c.thread == worker.ident]
        assert [c.what() for c in mine] == ["dynamodb:DescribeTable on table orders"]
        assert IN_FLIGHT.waiting(slow_seconds=0) is not None
        worker.join()
    assert failed and not [c for c in IN_FLIGHT.calls() if c.thread == worker.ident]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"max_attempts": 0}, "max_attempts must be a whole number of attempts ≥ 1, got 0"),
        ({"metrics_max_attempts": 2.5}, "metrics_max_attempts must be a whole number"),
        ({"read_timeout": float("nan")}, "read_timeout must be a number of seconds in (0, 3600]"),
        ({"connect_timeout": 0}, "connect_timeout must be a number of seconds"),
        ({"metrics_read_timeout": 10**9}, "metrics_read_timeout must be a number of seconds"),
    ],
)
def test_bad_timeouts_are_refused_naming_them(
    aws_env: Path, kwargs: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ValueError) as raised:
        AwsSession(endpoint_url="http://127.0.0.1:9", **kwargs)
    assert expected in str(raised.value)


# --------------------------------------------------------------------------------------------
# The defaults
# --------------------------------------------------------------------------------------------


def test_the_back_off_constants_are_botocores() -> None:
    """The worst case below is only as true as these: a botocore that backs off longer must
    fail this test, not the promise."""
    constants = vars(ExponentialBackoff)  # private to botocore, hence read this way
    assert constants["_MAX_BACKOFF"] == session_module.BACKOFF_CAP_SECONDS
    scales = constants["_DEFAULT_BACKOFF_CONFIG"]
    assert scales["throttling_base_scale"] == session_module.THROTTLING_BACKOFF_BASE_SECONDS
    assert scales["non_throttling_base_scale"] <= scales["throttling_base_scale"]


def test_default_worst_cases_fit_in_30_seconds() -> None:
    s = session_module
    control = worst_case_seconds(s.MAX_ATTEMPTS, s.CONNECT_TIMEOUT, s.READ_TIMEOUT)
    metrics = worst_case_seconds(s.METRICS_MAX_ATTEMPTS, s.CONNECT_TIMEOUT, s.METRICS_READ_TIMEOUT)
    assert control == 3 * (3 + 6) + 1 + 2 == 30
    assert metrics == 2 * (3 + 10) + 1 == 27
    assert max(control, metrics) <= 30
    # a hung endpoint (answers never start) and a black-holed one (connections never made)
    assert s.MAX_ATTEMPTS * s.READ_TIMEOUT == 18
    assert s.MAX_ATTEMPTS * s.CONNECT_TIMEOUT == 9
    # capcon ls reads the caller's identity first (one short attempt), then lists tables
    assert s.IDENTITY_MAX_ATTEMPTS * s.IDENTITY_READ_TIMEOUT + s.MAX_ATTEMPTS * s.READ_TIMEOUT == 21
    # throttling still gets two retries
    assert s.MAX_ATTEMPTS >= 3


def test_session_clients_carry_the_defaults(aws_env: Path) -> None:
    session = AwsSession(endpoint_url="http://127.0.0.1:9")
    for client in (session.dynamodb(), session.kinesis(), session.autoscaling()):
        config: Any = client.meta.config
        assert config.retries == {"mode": "standard", "total_max_attempts": 3}
        assert (config.connect_timeout, config.read_timeout) == (3.0, 6.0)
    identity: Any = session.sts(max_attempts=1).meta.config  # what identity() uses
    assert identity.retries == {"mode": "standard", "total_max_attempts": 1}
    assert (identity.connect_timeout, identity.read_timeout) == (3.0, 3.0)
    metrics: Any = session.cloudwatch().meta.config
    assert metrics.retries == {"mode": "standard", "total_max_attempts": 2}
    assert (metrics.connect_timeout, metrics.read_timeout) == (3.0, 10.0)
    once: Any = session.dynamodb(max_attempts=1).meta.config
    assert once.retries == {"mode": "standard", "total_max_attempts": 1}
    assert once.read_timeout == 6.0
