"""A fault-injecting HTTP proxy in front of the moto server: AWS as it behaves on a bad day.

capcon talks to it as to any endpoint (``--endpoint-url proxy.url``); every request is
forwarded to moto unless a rule says otherwise.  A rule matches requests by service and
operation and answers them with a fault::

    from tests.support.faultproxy import FaultProxy, Reset, Throttle

    with FaultProxy(moto_url) as proxy:
        proxy.add_rule(operation="UpdateTable", action=Reset(after_forward=True), times=1)
        ...  # run capcon against proxy.url
        assert proxy.sent("UpdateTable") == 1

Requests are recognised the way AWS routes them: JSON protocols by ``X-Amz-Target``
(``DynamoDB_20120810.UpdateTable``, ``Kinesis_20131202.ListShards``,
``AnyScaleFrontendService.RegisterScalableTarget``), CloudWatch's RPC v2 CBOR by its path
(``/service/GraniteServiceVersion20100801/operation/GetMetricData``), query protocols (STS) by
``Action=`` in the form body; the service is the one named in the SigV4 credential scope
(``dynamodb``, ``kinesis``, ``monitoring`` for CloudWatch, ``sts``,
``application-autoscaling``), with the target prefix as a fallback.

Rules (:meth:`FaultProxy.add_rule`)
    ``add_rule(operation=None, service=None, action=..., times=None, skip=0, when=None)``:
    ``operation`` and ``service`` (``None``: any), ``when`` a predicate over the
    :class:`Request` for anything finer (a table name in the body).  The first matching live
    rule answers.  ``skip`` lets the first N matching requests through untouched; ``times``
    applies the action N times and then the rule stops (``None``: forever).  ``rule.applied``
    counts what it did; :meth:`FaultProxy.clear` removes every rule (the fault "stops").

Actions (each a small frozen dataclass)
    :class:`ServerError` HTTP 500 with an AWS-shaped body (``InternalServerError``);
    :class:`Throttle` the service's real throttling answer (DynamoDB
    ``com.amazonaws.dynamodb.v20120810#ThrottlingException``, Kinesis
    ``LimitExceededException``, query protocols' XML ``<ErrorResponse>`` with ``Throttling``,
    CloudWatch ``Throttling``); :class:`Deny` ``AccessDeniedException`` / ``AccessDenied``;
    :class:`AwsError` any code, message and status in the protocol's shape;
    :class:`Delay` wait, then forward (or answer with ``then``), the wait cut short when the
    proxy stops or :meth:`FaultProxy.release` is called, so a test never waits it out;
    :class:`Reset` close the connection without an answer, before forwarding or after it
    (``after_forward=True``: moto carried the request out, the client never hears);
    :class:`Garbage` a 200 with an HTML page (or any body);
    :class:`Rewrite` forward, then pass the JSON answer (or the raw text) through a function.

Counting
    :meth:`FaultProxy.sent` is how many requests for an operation capcon sent (each retry
    counts), :meth:`FaultProxy.forwarded` how many of them reached moto (a faulted one did not,
    except ``Reset(after_forward=True)`` and ``Rewrite``); :attr:`FaultProxy.log` holds every
    request seen, in order, with the action applied to it.

The proxy is a plain threaded HTTP/1.1 server on 127.0.0.1 and a free port; it needs no test
framework (``bench/trust.py`` uses it too).
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import struct
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "Action",
    "AwsError",
    "Delay",
    "Deny",
    "FaultProxy",
    "Garbage",
    "Request",
    "Reset",
    "Rewrite",
    "Rule",
    "Seen",
    "ServerError",
    "Throttle",
]

#: X-Amz-Target / CBOR path prefixes and the SigV4 service names they belong to.
TARGET_SERVICES = {
    "DynamoDB_20120810": "dynamodb",
    "DynamoDBStreams_20120810": "dynamodb",
    "Kinesis_20131202": "kinesis",
    "AnyScaleFrontendService": "application-autoscaling",
    "GraniteServiceVersion20100801": "monitoring",
}
#: SigV4 names some users know by another one.
SERVICE_ALIASES = {"cloudwatch": "monitoring", "autoscaling": "application-autoscaling"}

_SCOPE = re.compile(r"Credential=[^/,\s]*/\d{8}/[^/,\s]+/([^/,\s]+)/aws4_request")
_CBOR_PATH = re.compile(r"^/service/([^/]+)/operation/([^/?]+)")
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}
)


# --------------------------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One request as the proxy saw it."""

    method: str
    path: str
    headers: dict[str, str]
    """Header names in lower case."""
    body: bytes
    service: str
    """The SigV4 service name: ``dynamodb``, ``kinesis``, ``monitoring``, ``sts``,
    ``application-autoscaling`` (``""`` when the request names none)."""
    operation: str
    """``UpdateTable``, ``GetMetricData``, ``GetCallerIdentity`` (``""`` when unknown)."""
    protocol: str
    """``json``, ``cbor`` or ``query``: the shape an error answer must take."""

    def json(self) -> Any:
        """The body as JSON (``None`` if it is not JSON)."""
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None


def identify(method: str, path: str, headers: dict[str, str], body: bytes) -> Request:
    """Service, operation and protocol of a request, the way AWS routes it."""
    scope = _SCOPE.search(headers.get("authorization", ""))
    service = scope.group(1) if scope else ""
    target = headers.get("x-amz-target", "")
    cbor = _CBOR_PATH.match(urlsplit(path).path)
    if target and "." in target:
        prefix, operation = target.rsplit(".", 1)
        protocol = "json"
        service = service or TARGET_SERVICES.get(prefix, "")
    elif cbor:
        operation, protocol = cbor.group(2), "cbor"
        service = service or TARGET_SERVICES.get(cbor.group(1), "")
    else:
        protocol = "query"
        form = parse_qs(body.decode("utf-8", "replace")) if body else {}
        query = parse_qs(urlsplit(path).query)
        operation = (form.get("Action") or query.get("Action") or [""])[0]
    return Request(method, path, headers, body, service, operation, protocol)


# --------------------------------------------------------------------------------------------
# Answers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """An HTTP answer the proxy writes back."""

    status: int
    headers: dict[str, str]
    body: bytes


def _cbor_text(value: str) -> bytes:
    data = value.encode("utf-8")
    return _cbor_head(3, len(data)) + data


def _cbor_head(major: int, length: int) -> bytes:
    if length < 24:
        return bytes([major << 5 | length])
    if length < 0x100:
        return bytes([major << 5 | 24, length])
    if length < 0x10000:
        return bytes([major << 5 | 25]) + struct.pack(">H", length)
    return bytes([major << 5 | 26]) + struct.pack(">I", length)


def cbor_map(values: dict[str, str]) -> bytes:
    """A CBOR map of text to text (all an RPC v2 error body needs)."""
    out = _cbor_head(5, len(values))
    for key, value in values.items():
        out += _cbor_text(key) + _cbor_text(value)
    return out


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def error_reply(request: Request, code: str, message: str, status: int) -> Reply:
    """An AWS error answer in the shape of ``request``'s protocol."""
    request_id = "fa017000-0000-4000-8000-000000000000"
    if request.protocol == "query":
        fault = "Receiver" if status >= 500 else "Sender"
        body = (
            '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            f"<Error><Type>{fault}</Type><Code>{_xml_text(code)}</Code>"
            f"<Message>{_xml_text(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        return Reply(status, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body)
    short = code.rsplit("#", 1)[-1]
    if request.protocol == "cbor":
        headers = {
            "Content-Type": "application/cbor",
            "smithy-protocol": "rpc-v2-cbor",
            "x-amzn-RequestId": request_id,
            # CloudWatch answers in the query protocol's words too
            "x-amzn-query-error": f"{short};{'Receiver' if status >= 500 else 'Sender'}",
        }
        return Reply(status, headers, cbor_map({"__type": code, "message": message}))
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": request_id}
    return Reply(status, headers, json.dumps({"__type": code, "message": message}).encode())


class Action:
    """What a rule does with a request it matches (see the subclasses)."""

    def reply(self, request: Request, proxy: FaultProxy) -> Reply | None:
        """The answer (``None``: close the connection without one)."""
        raise NotImplementedError

    @property
    def name(self) -> str:
        return type(self).__name__


@dataclass(frozen=True)
class AwsError(Action):
    """An AWS error answer: ``code`` (``__type`` / ``<Code>``), ``message``, HTTP ``status``."""

    code: str
    message: str = "injected by the fault proxy"
    status: int = 400

    def reply(self, request: Request, proxy: FaultProxy) -> Reply | None:
        return error_reply(request, self.code, self.message, self.status)


@dataclass(frozen=True)
class ServerError(Action):
    """HTTP 500 (or another 5xx) with an AWS-shaped ``InternalServerError`` body."""

    status: int = 500
    message: str = "Internal server error (injected)"

    def reply(self, request: Request, proxy: FaultProxy) -> Reply | None:
        code = {
            "dynamodb": "com.amazonaws.dynamodb.v20120810#InternalServerError",
            "kinesis": "InternalFailure",
            "sts": "InternalFailure",
            "monitoring": "InternalServiceFault",
        }.get(request.service, "InternalServerException")
        return error_reply(request, code, self.message, self.status)


#: Each service's own throttling error code.
THROTTLE_CODES = {
    "dynamodb": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
    "kinesis": "LimitExceededException",
    "monitoring": "Throttling",
    "sts": "Throttling",
    "application-autoscaling": "ThrottlingException",
}


@dataclass(frozen=True)
class Throttle(Action):
    """The service's real throttling answer (HTTP 400, the code of :data:`THROTTLE_CODES`)."""

    message: str = "Rate exceeded"

    def reply(self, request: Request, proxy: FaultProxy) -> Reply | None:
        code = THROTTLE_CODES.get(request.service, "ThrottlingException")
        return error_reply(request, code, self.message, 400)


@dataclass(frozen=True)
class Deny(Action):
    """Access denied, worded as IAM words it (HTTP 400 for JSON protocols, 403 for query)."""

    message: str = (
        "User: arn:aws:iam::123456789012:user/test is not authorized to perform: {action}"
    )

    def reply(self, request: Request, proxy: FaultProxy) -> Reply | None:
        message = self.message.replace("{action}", f"{request.service}:{request.operation}")
        if request.protocol == "query":
            return error_reply(request, "AccessDenied", message, 403)
        return error_reply(request, "AccessDeniedException", message, 400)


@dataclass(frozen=True)
class Garbage(Action):
    """A 200 whose body is not the service's answer (an HTML page from a captive portal)."""

    body: bytes = (
        b"<!DOCTYPE html><html><head><title>Sign in</title></head>"
        b"<body><h1>Please sign in to the network</h1></body></html>"
    )
    content_type: str = "text/html; charset=utf-8"
    status: int = 200

    def reply(self, request: Request, proxy: FaultProxy) -> Reply | None:
        return Reply(self.status, {"Content-Type": self.content_type}, self.body)


@dataclass(frozen=True)
class Reset(Action):
    """Close the connection without answering (a TCP reset); ``after_forward``: only after
    moto carried the request out, so the change is made and the client never hears."""

    after_forward: bool = False

    def reply(self, request: Request, proxy: FaultProxy) -> Reply | None:
        if self.after_forward:
            proxy.forward(request)
        return None


@dataclass(frozen=True)
class Delay(Action):
    """Wait ``seconds`` (cut short by :meth:`FaultProxy.release` or the proxy stopping), then
    forward, or answer with ``then``.  Past the client's read timeout the client gives up,
    and moto may still carry the request out after it did."""

    seconds: float
    then: Action | None = None

    def reply(self, request: Request, proxy: FaultProxy) -> Reply | None:
        proxy.wait(self.seconds)
        if proxy.stopping:
            return None
        if self.then is not None:
            return self.then.reply(request, proxy)
        return proxy.forward(request)


@dataclass(frozen=True)
class Rewrite(Action):
    """Forward, then change the answer: ``json`` maps the parsed JSON body to a new one
    (JSON protocols), ``text`` maps the body as text (any protocol; XML for STS).  An answer
    that is not JSON is left as it is by ``json``."""

    json: Callable[[Any], Any] | None = None
    text: Callable[[str], str] | None = None

    def reply(self, request: Request, proxy: FaultProxy) -> Reply | None:
        answer = proxy.forward(request)
        body = answer.body
        if self.json is not None:
            try:
                document = json.loads(body or b"null")
            except ValueError:
                document = None
            else:
                body = json.dumps(self.json(document)).encode()
        if self.text is not None:
            body = self.text(body.decode("utf-8", "surrogateescape")).encode(
                "utf-8", "surrogateescape"
            )
        return Reply(answer.status, answer.headers, body)


# --------------------------------------------------------------------------------------------
# Rules and the proxy
# --------------------------------------------------------------------------------------------


@dataclass
class Rule:
    """A fault for the requests it matches (see :meth:`FaultProxy.add_rule`)."""

    action: Action
    operation: str | None = None
    service: str | None = None
    times: int | None = None
    skip: int = 0
    when: Callable[[Request], bool] | None = None
    matched: int = 0
    """Requests matched so far (skipped ones included)."""
    applied: int = 0
    """Requests the action was applied to."""

    def take(self, request: Request) -> bool:
        """Whether this rule answers ``request`` (counting it if so)."""
        if self.operation is not None and request.operation != self.operation:
            return False
        if self.service is not None and request.service != self.service:
            return False
        if self.times is not None and self.applied >= self.times:
            return False
        if self.when is not None and not self.when(request):
            return False
        self.matched += 1
        if self.matched <= self.skip:
            return False
        self.applied += 1
        return True


@dataclass(frozen=True)
class Seen:
    """One request in :attr:`FaultProxy.log`."""

    service: str
    operation: str
    action: str
    """The action's class name, or ``"forward"``."""


@dataclass
class _Counts:
    sent: Counter[tuple[str, str]] = field(default_factory=Counter)
    forwarded: Counter[tuple[str, str]] = field(default_factory=Counter)


class FaultProxy:
    """A threaded HTTP proxy to ``upstream`` (the moto server's URL) with fault rules.

    Use as a context manager (or :meth:`start` / :meth:`stop`); :attr:`url` is its address.
    """

    def __init__(self, upstream: str, *, host: str = "127.0.0.1", port: int = 0) -> None:
        parts = urlsplit(upstream)
        if not parts.hostname:
            raise ValueError(f"upstream {upstream!r} is not a URL with a host")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._aliases: dict[str, str] = {}
        self._counts = _Counts()
        self.log: list[Seen] = []
        self._stopping = threading.Event()
        self._release = threading.Event()
        self._server = _Server((host, port), _Handler)
        self._server.proxy = self
        self._thread: threading.Thread | None = None

    # -- life ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; pending delays end at once (their connections closed unanswered)."""
        self._stopping.set()
        self._release.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    # -- rules ---------------------------------------------------------------------------

    def add_rule(
        self,
        *,
        action: Action,
        operation: str | None = None,
        service: str | None = None,
        times: int | None = None,
        skip: int = 0,
        when: Callable[[Request], bool] | None = None,
    ) -> Rule:
        """Answer matching requests with ``action`` (see the module's docstring)."""
        if service is not None:
            service = SERVICE_ALIASES.get(service, service)
        rule = Rule(action, operation, service, times, skip, when)
        with self._lock:
            self._rules.append(rule)
        return rule

    def alias(self, real: str, shown: str) -> None:
        """Serve the resource moto knows as ``real`` under the name ``shown`` (a name moto would
        refuse at creation): ``real`` becomes ``shown`` in every JSON answer's strings (ARNs
        and messages included) and ``shown`` becomes ``real`` in every JSON request's."""
        with self._lock:
            self._aliases[real] = shown

    def clear(self) -> None:
        """Remove every rule and end pending delays: from now on every request is forwarded."""
        with self._lock:
            self._rules.clear()
        self.release()

    def release(self) -> None:
        """End every pending :class:`Delay` now (later delays wait again)."""
        self._release.set()
        with self._lock:
            if not self._stopping.is_set():
                self._release = threading.Event()

    def wait(self, seconds: float) -> None:
        """Sleep up to ``seconds``, less if released or stopped."""
        with self._lock:
            release = self._release
        release.wait(seconds)

    # -- counting ------------------------------------------------------------------------

    def sent(self, operation: str, service: str | None = None) -> int:
        """Requests for ``operation`` (of ``service``, or any) that reached the proxy."""
        return self._count(self._counts.sent, operation, service)

    def forwarded(self, operation: str, service: str | None = None) -> int:
        """Requests for ``operation`` that reached moto."""
        return self._count(self._counts.forwarded, operation, service)

    def _count(self, counter: Counter[tuple[str, str]], operation: str, service: str | None) -> int:
        if service is not None:
            service = SERVICE_ALIASES.get(service, service)
        with self._lock:
            return sum(
                n for (s, op), n in counter.items() if op == operation and service in (None, s)
            )

    def reset_counts(self) -> None:
        with self._lock:
            self._counts = _Counts()
            self.log.clear()

    # -- the work (called by the handler threads) --------------------------------------

    def rule_for(self, request: Request) -> Action | None:
        with self._lock:
            self._counts.sent[(request.service, request.operation)] += 1
            action = next((r.action for r in self._rules if r.take(request)), None)
            self.log.append(
                Seen(
                    request.service, request.operation, "forward" if action is None else action.name
                )
            )
            return action

    def forward(self, request: Request) -> Reply:
        """``request`` sent to moto (names served under an alias given back their real one);
        its answer (real names replaced by their alias)."""
        with self._lock:
            self._counts.forwarded[(request.service, request.operation)] += 1
            aliases = dict(self._aliases)
        if aliases and request.protocol == "json":
            back = {shown: real for real, shown in aliases.items()}
            request = replace(request, body=_renamed(request.body, back))
        answer = self._send(request)
        if aliases and request.protocol == "json":
            answer = replace(answer, body=_renamed(answer.body, aliases))
        return answer

    def _send(self, request: Request) -> Reply:
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=30)
        try:
            headers = {k: v for k, v in request.headers.items() if k not in _HOP_BY_HOP}
            headers["content-length"] = str(len(request.body))
            conn.request(request.method, request.path, body=request.body, headers=headers)
            answer = conn.getresponse()
            body = answer.read()
            out = {k: v for k, v in answer.getheaders() if k.lower() not in _HOP_BY_HOP}
            return Reply(answer.status, out, body)
        finally:
            conn.close()


def _renamed(body: bytes, names: dict[str, str]) -> bytes:
    """A JSON body with every ``names`` key replaced by its value inside every string (the
    longest first, so a name containing another is replaced whole); not JSON: as it was."""
    try:
        document = json.loads(body)
    except ValueError:
        return body
    order = sorted(names, key=len, reverse=True)

    def rename(value: Any) -> Any:
        if isinstance(value, str):
            for old in order:
                value = value.replace(old, names[old])
            return value
        if isinstance(value, list):
            return [rename(v) for v in value]
        if isinstance(value, dict):
            return {rename(k): rename(v) for k, v in value.items()}
        return value

    return json.dumps(rename(document)).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    proxy: FaultProxy

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (its read timeout) is normal here: say nothing."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read the proxy's counts, not its log."""

    def _handle(self) -> None:
        proxy = self.server.proxy
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = identify(self.command, self.path, headers, body)
        action = proxy.rule_for(request)
        try:
            reply = proxy.forward(request) if action is None else action.reply(request, proxy)
        except OSError:
            reply = error_reply(request, "ServiceUnavailable", "upstream unreachable", 503)
        if reply is None:
            self._reset()
            return
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def _reset(self) -> None:
        """Close with a TCP reset, nothing answered."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle
