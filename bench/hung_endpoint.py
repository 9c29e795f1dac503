"""How long ``capcon ls`` takes to fail against an endpoint that never answers.

Two local servers stand in for a broken control plane:

- **hung**: accepts the TCP connection, reads the request, never answers (a wedged proxy, a
  server stuck in a GC pause): each attempt costs the read timeout;
- **black-holed**: the connection is never made (packets dropped by a firewall): a listening
  socket whose accept queue is kept full, so the kernel drops every new SYN; each attempt
  costs the connect timeout.

``capcon ls --endpoint-url http://user:secret@127.0.0.1:PORT`` runs as a child process with
the real defaults (fake credentials, a private config directory); the figure is the wall time
from start to exit, and the message it printed (which must name the endpoint, redacted, and
the operation, and never the password).

Run: ``.venv/bin/python bench/hung_endpoint.py [--runs N] [--only hung|black-holed]`` —
prints a table and writes ``bench/results/hung_endpoint.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

from _common import CAPCON, child_env, print_table, spread, summary, write_result

PASSWORD = "s3cr3t-bench"
#: Past this the child is killed: the old defaults took 100-200 s.
LIMIT_SECONDS = 300.0


@contextlib.contextmanager
def hung_server() -> Iterator[int]:
    """A port that accepts connections, reads what is sent and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)  # kept open, never answered

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


@contextlib.contextmanager
def black_hole() -> Iterator[int]:
    """A port whose connections never complete: backlog 0, its queue filled by connections
    nobody accepts, so Linux drops each new SYN (the client's connect just waits)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers: list[socket.socket] = []
    try:
        for _ in range(4):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        time.sleep(0.2)
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.settimeout(1.0)
        try:
            probe.connect(("127.0.0.1", port))
        except TimeoutError:
            pass  # the black hole works
        else:
            raise SystemExit("could not make a black-holed port on this machine")
        finally:
            probe.close()
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def run_ls(port: int) -> tuple[float, int, str]:
    """Seconds ``capcon ls`` took to exit, its exit code and what it printed on stderr."""
    endpoint = f"http://bench:{PASSWORD}@127.0.0.1:{port}"
    started = time.monotonic()
    done = subprocess.run(
        [CAPCON, "ls", "--endpoint-url", endpoint],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=LIMIT_SECONDS,
        check=False,
    )
    return time.monotonic() - started, done.returncode, (done.stderr or done.stdout).strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--only", choices=("hung", "black-holed"))
    args = parser.parse_args()
    servers = {"hung": hung_server, "black-holed": black_hole}
    results: dict[str, object] = {}
    rows: list[tuple[str, str]] = []
    for name, server in servers.items():
        if args.only and name != args.only:
            continue
        times: list[float] = []
        message = ""
        code = 0
        for _ in range(args.runs):
            with server() as port:
                seconds, code, message = run_ls(port)
            times.append(seconds)
            print(f"{name}: {seconds:.1f} s, exit {code}\n  {message}")
            if PASSWORD in message:
                raise SystemExit(f"{name}: the password was shown: {message}")
        stats = summary(times)
        results[name] = {"seconds": stats, "exit": code, "message": message}
        rows.append((f"{name}: s until capcon ls fails", spread(stats, "{:.1f}")))
    print_table("hung endpoint", rows)
    write_result("hung_endpoint.json", results)


if __name__ == "__main__":
    main()
