"""Helpers shared by the benchmarks: statistics, results files, child processes, tmux, /proc.

Not a benchmark itself (``run_all.py`` runs the ``bench_*.py`` files).
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
PYTHON = sys.executable
CAPCON = str(Path(sys.executable).with_name("capcon"))
CLK_TCK = os.sysconf("SC_CLK_TCK")
PYCACHE = str(Path(tempfile.gettempdir()) / "capcon-bench-pycache")
PAGE = os.sysconf("SC_PAGE_SIZE")


_SCRATCH: dict[str, Path] = {}


def _scratch(name: str) -> Path:
    """A temporary directory for this process, removed when it exits."""
    if name not in _SCRATCH:
        path = Path(tempfile.mkdtemp(prefix=f"capcon-bench-{name}-"))
        atexit.register(shutil.rmtree, path, ignore_errors=True)
        _SCRATCH[name] = path
    return _SCRATCH[name]


def summary(values: Sequence[float]) -> dict[str, Any]:
    """Median, min, max and the runs behind them."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "runs": len(values),
        "values": list(values),
    }


def spread(s: dict[str, Any], fmt: str = "{:.2f}") -> str:
    """``median (min…max)`` of a :func:`summary`."""
    return (
        f"{fmt.format(s['median'])} ({fmt.format(s['min'])}…{fmt.format(s['max'])}, n={s['runs']})"
    )


def write_result(name: str, data: object) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / name
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a child console: a private, empty config directory (so a user's
    ``config.toml`` or themes never change a figure), fake AWS credentials, no colour
    surprises."""
    env = dict(os.environ)
    config = _scratch("config")
    env["XDG_CONFIG_HOME"] = str(config)
    env["XDG_STATE_HOME"] = str(config / "state")
    env["XDG_DATA_HOME"] = str(config / "data")
    env["AWS_ACCESS_KEY_ID"] = "testing"
    env["AWS_SECRET_ACCESS_KEY"] = "testing"
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env.pop("AWS_PROFILE", None)
    env.pop("TEXTUAL", None)
    # Byte-code cached like an installed wheel's (this machine sets PYTHONDONTWRITEBYTECODE,
    # which would recompile capcon on every start), kept outside the work tree.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = PYCACHE
    if extra:
        env.update(extra)
    return env


# --- /proc -----------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (its threads included), in seconds."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state): utime is field 14, stime field 15
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def status_mb(pid: int | str, key: str) -> float:
    """A ``kB`` line of /proc/<pid>/status (``VmRSS``, ``VmHWM``) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(key)


def rss_mb() -> float:
    """Resident set size of this process now."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * PAGE / 2**20


# --- tmux ------------------------------------------------------------------------------------


def have_tmux() -> bool:
    return shutil.which("tmux") is not None


class Tmux:
    """One detached tmux session for one command, on a private tmux server (its own socket,
    so nothing of the user's is touched).

    The pane's shell waits for a key, then ``exec``-s the command: :meth:`start` returns the
    moment the key was sent, so tmux's own start-up is not counted, and the pane's pid is the
    command's.
    """

    _count = 0

    def __init__(self, command: str, *, width: int = 160, height: int = 50, env: dict[str, str]):
        Tmux._count += 1
        self.socket = f"capcon-bench-{os.getpid()}-{Tmux._count}"
        self.name = "bench"
        self.env = env
        self._tmux(
            "new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height),
            f"read _ && exec {command}",
        )  # fmt: skip
        self.pid = int(self._tmux("display-message", "-p", "-t", self.name, "#{pane_pid}"))

    def start(self) -> tuple[float, float]:
        """Let the command run; (monotonic, epoch) time of the go."""
        go = time.monotonic(), time.time()
        self._tmux("send-keys", "-t", self.name, "Enter")
        return go

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    def send(self, keys: str) -> None:
        """Type ``keys`` literally into the pane."""
        self._tmux("send-keys", "-t", self.name, "-l", keys)

    def capture(self) -> str:
        try:
            return self._tmux("capture-pane", "-p", "-t", self.name)
        except subprocess.CalledProcessError:
            return ""

    def alive(self) -> bool:
        return Path(f"/proc/{self.pid}").exists()

    def wait_for(self, needle: str, timeout: float, every: float = 0.02) -> float | None:
        """Seconds (monotonic clock) at which ``needle`` first shows on the pane."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if needle in self.capture():
                return time.monotonic()
            if not self.alive():
                return None
            time.sleep(every)
        return None

    def close(self) -> None:
        subprocess.run(
            ["tmux", "-L", self.socket, "kill-server"],
            env=self.env,
            capture_output=True,
            check=False,
        )
        end = time.monotonic() + 5
        while self.alive() and time.monotonic() < end:
            time.sleep(0.05)


def print_table(title: str, rows: Sequence[tuple[str, str]], width: int = 64) -> None:
    print(f"\n{title}")
    for label, value in rows:
        print(f"  {label:<{width}} {value}")


# --- moto ------------------------------------------------------------------------------------

MOTO_CHILD = """
import logging, sys
logging.getLogger("werkzeug").disabled = True
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
print(f"http://{host}:{port}", flush=True)
sys.stdin.read()
server.stop()
"""


class MotoServer:
    """A ``ThreadedMotoServer`` in a child process (so it does not share this process's GIL
    with the client being measured), logging nothing; stopped by closing its stdin."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [PYTHON, "-c", MOTO_CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=child_env(),
            text=True,
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http://"):
            self.close()
            raise RuntimeError("the moto server did not start")

    def close(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def fake_aws_environment() -> None:
    """Fake credentials for this process, and no way to read real ones (like tests/conftest)."""
    home = _scratch("aws")
    (home / "credentials").write_text("")
    (home / "config").write_text("")
    for name in list(os.environ):
        if name.startswith("AWS_"):
            del os.environ[name]
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
            "AWS_CONFIG_FILE": str(home / "config"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )


def load_average() -> list[float]:
    """The 1, 5 and 15-minute load averages (a busy machine widens every spread)."""
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
