"""``capcon demo --serve`` and ``capcon lab --serve``: the same app in a class's browsers.

textual-serve runs a web server; each browser that opens its page gets its own process of
the command it was given, drawn in the page by xterm.js over a websocket.  So the command is
this very command line without the serving flags (``--serve``, ``--port``, ``--host``), run
by the same Python: every student sees the demo (or the lab) exactly as the trainer's
terminal would, with its own simulated account and clock.

The server listens on 127.0.0.1 unless told otherwise: to reach a classroom, the trainer
chooses to listen on the network (``--host 0.0.0.0``) and says so.
"""

from __future__ import annotations

import shlex
import socket
import sys
from collections.abc import Sequence

from capcon.tui.errors import UsageError
from capcon.tui.text import printable

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
#: the serving flags, and whether each takes a value
SERVE_FLAGS = {"--serve": False, "--port": True, "--host": True}


def app_argv(argv: Sequence[str]) -> list[str]:
    """``argv`` (capcon's arguments) without the serving flags, in either form
    (``--port 8000`` or ``--port=8000``)."""
    out: list[str] = []
    skip = False
    for token in argv:
        if skip:
            skip = False
            continue
        name, eq, _ = token.partition("=")
        if name in SERVE_FLAGS:
            skip = SERVE_FLAGS[name] and not eq
            continue
        out.append(token)
    return out


def serve_command(argv: Sequence[str], python: str = sys.executable) -> str:
    """The shell command textual-serve runs for each browser: capcon with ``argv`` less the
    serving flags, by ``python`` (quoted: textual-serve hands it to a shell)."""
    return shlex.join([python, "-m", "capcon.tui.cli.main", *app_argv(argv)])


def check_address(host: str, port: int) -> None:
    """Refuse, with a message, an address the server could not listen on (a port in use, a
    host that is not this machine's) before anything is printed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as error:
        raise UsageError(
            f"cannot serve on {printable(host)}:{port}: {printable(error.strerror or str(error))}"
            " (choose another --port, or a --host of this machine)"
        ) from None


def serve(argv: Sequence[str], host: str, port: int, title: str) -> int:
    """Serve ``capcon argv`` (less the serving flags) on ``host:port`` until Ctrl+C."""
    from textual_serve.server import Server

    check_address(host, port)
    command = serve_command(argv)
    try:
        Server(command, host=host, port=port, title=title).serve()
    except OSError as error:  # taken between the check and the server's own bind
        raise UsageError(f"cannot serve on {printable(host)}:{port}: {error}") from None
    return 0
