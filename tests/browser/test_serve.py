"""``capcon demo --serve`` and ``capcon lab --serve`` in a real headless Chromium.

The served command runs in a subprocess on a free local port; Chromium (the system's, from
Debian's ``chromium`` package: nothing is downloaded) opens the page, textual-serve starts the
app for it and streams the terminal over a websocket to xterm.js.  The test waits for the
page's first byte, reads the app's own words in the websocket's frames, saves a PNG screenshot
under the test's temporary folder and checks that it shows a drawn terminal (many colours, not
a blank or an error page).

Chromium missing: skipped on a developer's machine with the reason; in CI (``CI`` set), where
``.ci/run`` installs it, a failure.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, WebSocket, sync_playwright

from capcon.tui.serve import app_argv, serve_command

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Generous: the first page of a served app starts a Python process (≈ 3 s here).
TIMEOUT_S = 60


def chromium() -> str:
    """The system's Chromium; skipped without it, except in CI, where it must be there."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        reason = "no chromium on PATH (apt-get install -y chromium; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(f"CI: {reason}")
        pytest.skip(reason)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def isolated_env(tmp_path: Path) -> dict[str, str]:
    """The served app's environment: its config, audit log and caches under ``tmp_path``."""
    env = dict(os.environ)
    for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        folder = tmp_path / name.lower()
        folder.mkdir()
        env[name] = str(folder)
    return env


def start_server(
    args: list[str], env: dict[str, str], log: Path
) -> tuple[subprocess.Popen[bytes], str]:
    """``capcon <args> --serve`` on a free port; returns the process and its URL once it
    answers."""
    port = free_port()
    command = [sys.executable, "-m", "capcon.tui.cli.main", *args, "--serve", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited {process.returncode}: {log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return process, url
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)  # polling a server's start-up, not timing an assertion
    process.terminate()
    raise AssertionError(f"no answer from {url} in {TIMEOUT_S} s: {log.read_text()}")


@pytest.fixture
def served(isolated_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., str]]:
    """A function that serves ``capcon <args>``; every server is stopped at the end."""
    processes: list[subprocess.Popen[bytes]] = []

    def serve(*args: str) -> str:
        process, url = start_server(list(args), isolated_env, tmp_path / f"{args[0]}.log")
        processes.append(process)
        return url

    yield serve
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


COUNT_COLOURS = """
async (data) => {
    const image = new Image();
    image.src = "data:image/png;base64," + data;
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext("2d");
    context.drawImage(image, 0, 0);
    const pixels = context.getImageData(0, 0, image.width, image.height).data;
    const seen = new Set();
    for (let i = 0; i < pixels.length; i += 4 * 7) {
        seen.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
    }
    return seen.size;
}
"""


def open_in_chromium(url: str, marker: str, png: Path, profile: Path) -> tuple[str, int]:
    """Open ``url``; wait for the app's first byte and for ``marker`` in the terminal stream;
    save a screenshot of the page to ``png``.  Returns the text received and how many colours
    the terminal shows."""
    received: list[str] = []

    def listen(ws: WebSocket) -> None:
        ws.on(
            "framereceived",
            lambda payload: received.append(
                payload if isinstance(payload, str) else payload.decode("utf-8", "replace")
            ),
        )

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),  # a fresh --user-data-dir
            executable_path=chromium(),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1600, "height": 1000},
        )
        try:
            page: Page = context.new_page()
            page.on("websocket", listen)
            page.goto(url, wait_until="domcontentloaded", timeout=TIMEOUT_S * 1000)
            # textual-serve marks the page when the app's first output arrives
            page.wait_for_selector("body.-first-byte", timeout=TIMEOUT_S * 1000)
            deadline = time.monotonic() + TIMEOUT_S
            while marker not in "".join(received) and time.monotonic() < deadline:
                page.wait_for_timeout(200)
            page.wait_for_timeout(1500)  # the fade-in (0.3 s) and a few frames drawn
            page.screenshot(path=str(png))
            # the terminal alone (the intro dialog is gone after the first byte): an app that
            # drew nothing leaves it one colour
            shot = page.locator("#terminal").screenshot()
            colours = int(page.evaluate(COUNT_COLOURS, base64.b64encode(shot).decode()))
        finally:
            context.close()
    return "".join(received), colours


def test_the_serving_flags_are_left_out_of_the_served_command() -> None:
    assert app_argv(["demo", "--serve", "--port", "9000", "--host=0.0.0.0", "--speed", "5"]) == [
        "demo",
        "--speed",
        "5",
    ]
    assert app_argv(["--sim", "lab", "--port=1", "--serve", "--pattern", "bell"]) == [
        "--sim",
        "lab",
        "--pattern",
        "bell",
    ]
    command = serve_command(["lab", "--pattern", "top heavy", "--serve"], python="/x/python")
    assert command == "/x/python -m capcon.tui.cli.main lab --pattern 'top heavy'"


@pytest.mark.parametrize(
    ("args", "marker"),
    [
        (("demo",), "sim:demo"),
        (("lab", "--policies", "aas,capcon"), "capcon lab"),
    ],
    ids=["demo", "lab"],
)
def test_served_app_is_drawn_in_headless_chromium(
    served: Callable[..., str], tmp_path: Path, args: tuple[str, ...], marker: str
) -> None:
    chromium()
    url = served(*args)
    png = tmp_path / f"{args[0]}.png"
    text, colours = open_in_chromium(url, marker, png, tmp_path / "chromium-profile")
    # the app itself drew into the page: its own words came over the websocket …
    assert marker in text, text[-2000:]
    # … and drew it: the page's screenshot is saved, and the terminal shows the list,
    # charts and footer in many colours (a terminal the app drew nothing in has one)
    assert png.stat().st_size > 10_000
    assert colours >= 20, colours


def test_a_port_in_use_is_refused_with_a_message_and_exit_2(
    isolated_env: dict[str, str],
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "capcon.tui.cli.main", "demo", "--serve", "--port", str(port)],
            env=isolated_env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
    assert result.returncode == 2, result.stderr
    assert f"cannot serve on 127.0.0.1:{port}: Address already in use" in result.stderr
    assert "Traceback" not in result.stderr
