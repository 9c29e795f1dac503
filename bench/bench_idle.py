"""Idle cost of an open console (CPU) and memory with 1,000 resources × 3 h of history.

Run: ``.venv/bin/python bench/bench_idle.py [--runs N] [--seconds S] [--quick]`` — prints a
table and writes ``bench/results/idle.json``.  Targets: idle CPU < 2 % of one core, memory
< 200 MB.

- **CPU**: ``capcon demo`` in a detached 160×50 tmux session (private tmux server); once the
  first row shows and a few seconds have passed, ``utime + stime`` of the console's process
  (all its threads) is read from ``/proc/<pid>/stat`` before and after ``--seconds`` (60)
  seconds: % of one core.  Cases: ``demo`` as it opens (the simulation runs at 60× and the
  console polls it every second), ``demo`` paused (space: the console polls every 5 s, the
  world stands still), ``fleet:1000,200`` running, and the AWS console on a moto server
  with 1,000 tables and 200 streams (400 + 50 with ``--quick``) once it has read the whole
  account: rows on screen polled every minute, as in use.
- **Memory**: the account alone — a fresh process builds ``fleet:1000,200`` with 3 h of
  history; resident-set growth (``/proc/self/statm``) and build time; and the open console —
  ``capcon demo --scenario fleet:1000,200`` with 3 h of history (through
  ``bench/_console_child.py``, which passes ``history`` to ``build_scenario``) in tmux:
  ``VmRSS`` once the rows show and after ``--seconds`` more, and ``VmHWM`` (peak).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BENCH,
    CAPCON,
    PYTHON,
    ROOT,
    MotoServer,
    Tmux,
    child_env,
    cpu_seconds,
    fake_aws_environment,
    have_tmux,
    load_average,
    print_table,
    spread,
    status_mb,
    summary,
    write_result,
)

CPU_TARGET_PERCENT = 2.0
MEMORY_TARGET_MB = 200.0
SETTLE_SECONDS = 5.0
#: What shows a fleet's first row: any of its tables (the list starts sorted by trouble, so
#: which table is on top depends on the traffic)
FIRST_ROW = "table-0"
CHILD = str(BENCH / "_console_child.py")

ACCOUNT_CHILD = """
import gc, json, time
from datetime import UTC, datetime, timedelta
from pathlib import Path
PAGE = {page}
def rss():
    return int(Path("/proc/self/statm").read_text().split()[1]) * PAGE / 2**20
from capcon.core.backends.sim.scenarios import build_scenario
gc.collect()
before = rss()
now = datetime.now(UTC).replace(second=0, microsecond=0)
started = time.perf_counter()
account = build_scenario("fleet:1000,200", now, history=timedelta(hours={hours}))
seconds = time.perf_counter() - started
gc.collect()
print(json.dumps({{"build_seconds": seconds, "rss_before_mb": before, "rss_after_mb": rss(),
    "rss_growth_mb": rss() - before, "series": account.store.series_count(),
    "resources": len(account.tables) + len(account.streams)}}))
"""


def idle_cpu(command: str, needle: str, seconds: float, keys: str = "") -> dict[str, Any]:
    """% of one core used by ``command``'s process over ``seconds`` once it shows rows."""
    pane = Tmux(command, env=child_env())
    try:
        time.sleep(0.2)
        go, _ = pane.start()
        seen = pane.wait_for(needle, timeout=120)
        if seen is None:
            raise RuntimeError(f"{command}: no row within 120 s")
        if keys:
            pane.send(keys)
        return {"first_row_seconds": seen - go, **cpu_window(pane, seconds)}
    finally:
        pane.close()


def cpu_window(pane: Tmux, seconds: float) -> dict[str, Any]:
    """After ``SETTLE_SECONDS``: CPU of the pane's process over ``seconds``, its RSS and the
    first line of its screen."""
    time.sleep(SETTLE_SECONDS)
    before, start = cpu_seconds(pane.pid), time.monotonic()
    time.sleep(seconds)
    after, end = cpu_seconds(pane.pid), time.monotonic()
    return {
        "cpu_seconds": after - before,
        "wall_seconds": end - start,
        "percent_of_one_core": 100 * (after - before) / (end - start),
        "rss_mb": status_mb(pane.pid, "VmRSS"),
        "screen_tail": pane.capture().splitlines()[:1],
    }


def aws_console_cpu(tables: int, streams: int, seconds: float) -> dict[str, Any]:
    """% of one core used by ``capcon`` on AWS (a moto server with ``tables`` tables and
    ``streams`` streams) over ``seconds``, once the whole account has been read (the status
    bar no longer says "reading … more resources"): its steady state in use, rows on screen
    polled every minute (idle back-off starts after 5 minutes without input)."""
    from bench_refresh import create_account

    fake_aws_environment()
    server = MotoServer()
    try:
        create_account(server.url, tables, streams)
        pane = Tmux(f"{CAPCON} --endpoint-url {server.url} --region us-east-1", env=child_env())
        try:
            time.sleep(0.2)
            go, _ = pane.start()
            seen = pane.wait_for(FIRST_ROW, timeout=120)
            if seen is None:
                raise RuntimeError("the AWS console showed no row within 120 s")
            end = time.monotonic() + 300
            while "more resources" in pane.capture() and time.monotonic() < end:
                time.sleep(0.5)
            read_all = time.monotonic()
            return {
                "tables": tables,
                "streams": streams,
                "first_row_seconds": seen - go,
                "whole_account_read_seconds": read_all - go,
                **cpu_window(pane, seconds),
            }
        finally:
            pane.close()
    finally:
        server.close()


def account_memory(hours: float) -> dict[str, Any]:
    import os

    code = ACCOUNT_CHILD.format(page=os.sysconf("SC_PAGE_SIZE"), hours=hours)
    done = subprocess.run(
        [PYTHON, "-c", code], env=child_env(), cwd=ROOT, capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def console_memory(hours: float, seconds: float) -> dict[str, Any]:
    command = f"{PYTHON} {CHILD} --history-hours {hours:g} -- demo --scenario fleet:1000,200"
    pane = Tmux(command, env=child_env())
    try:
        time.sleep(0.2)
        go, _ = pane.start()
        seen = pane.wait_for(FIRST_ROW, timeout=300)
        if seen is None:
            raise RuntimeError("the console showed no row within 300 s")
        time.sleep(SETTLE_SECONDS)
        at_rows = status_mb(pane.pid, "VmRSS")
        before, start = cpu_seconds(pane.pid), time.monotonic()
        time.sleep(seconds)
        after, end = cpu_seconds(pane.pid), time.monotonic()
        return {
            "first_row_seconds": seen - go,
            "rss_mb_after_rows": at_rows,
            "rss_mb_later": status_mb(pane.pid, "VmRSS"),
            "later_seconds": seconds,
            "peak_rss_mb": status_mb(pane.pid, "VmHWM"),
            "percent_of_one_core": 100 * (after - before) / (end - start),
        }
    finally:
        pane.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--quick", action="store_true", help="2 runs of 10 s, 1 of the rest")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.seconds = 2, 10.0
    if not have_tmux():
        sys.exit("bench_idle needs tmux")
    extra_runs = 1
    result: dict[str, Any] = {
        "targets": {"cpu_percent": CPU_TARGET_PERCENT, "memory_mb": MEMORY_TARGET_MB},
        "load_average_before": load_average(),
        "seconds": args.seconds,
    }
    cases = {
        "demo (sim running 60×)": (f"{CAPCON} demo", "checkout", "", args.runs),
        "demo paused (space)": (f"{CAPCON} demo", "checkout", " ", extra_runs),
        "fleet:1000,200 (sim running 60×)": (
            f"{CAPCON} demo --scenario fleet:1000,200",
            FIRST_ROW,
            "",
            extra_runs,
        ),
    }
    cpu: dict[str, Any] = {}
    for label, (command, needle, keys, runs) in cases.items():
        detail = [idle_cpu(command, needle, args.seconds, keys) for _ in range(runs)]
        cpu[label] = {
            "percent_of_one_core": summary([d["percent_of_one_core"] for d in detail]),
            "rss_mb": summary([d["rss_mb"] for d in detail]),
            "detail": detail,
        }
    tables, streams = (400, 50) if args.quick else (1000, 200)
    aws = aws_console_cpu(tables, streams, args.seconds)
    cpu[f"AWS console on moto ({tables:,} tables + {streams} streams, in use)"] = {
        "percent_of_one_core": summary([aws["percent_of_one_core"]]),
        "rss_mb": summary([aws["rss_mb"]]),
        "detail": [aws],
    }
    result["cpu"] = cpu
    account = [account_memory(args.hours) for _ in range(max(1, args.runs - 1))]
    result["account_alone"] = {
        "hours_of_history": args.hours,
        "build_seconds": summary([a["build_seconds"] for a in account]),
        "rss_growth_mb": summary([a["rss_growth_mb"] for a in account]),
        "detail": account,
    }
    console = [console_memory(args.hours, args.seconds) for _ in range(extra_runs)]
    result["console"] = {
        "hours_of_history": args.hours,
        "rss_mb_after_rows": summary([c["rss_mb_after_rows"] for c in console]),
        "rss_mb_later": summary([c["rss_mb_later"] for c in console]),
        "peak_rss_mb": summary([c["peak_rss_mb"] for c in console]),
        "detail": console,
    }
    demo_cpu = cpu["demo (sim running 60×)"]["percent_of_one_core"]["median"]
    peak = result["console"]["peak_rss_mb"]["median"]
    result["cpu_target_met"] = demo_cpu < CPU_TARGET_PERCENT
    result["memory_target_met"] = peak < MEMORY_TARGET_MB
    write_result("idle.json", result)

    alone, open_console = result["account_alone"], result["console"]
    rows = [
        (f"CPU, {label}, % of one core over {args.seconds:g} s", spread(c["percent_of_one_core"]))
        for label, c in cpu.items()
    ]
    rows += [
        (f"fleet:1000,200 × {args.hours:g} h history: build s", spread(alone["build_seconds"])),
        ("  account alone: RSS growth MB", spread(alone["rss_growth_mb"], "{:.0f}")),
        ("  open console: RSS MB when rows show", spread(open_console["rss_mb_after_rows"])),
        (f"  open console: RSS MB {args.seconds:g} s later", spread(open_console["rss_mb_later"])),
        ("  open console: peak RSS (VmHWM) MB", spread(open_console["peak_rss_mb"], "{:.0f}")),
        ("  open console: CPU % of one core", f"{console[0]['percent_of_one_core']:.1f}"),
    ]
    print_table(
        f"Idle (targets: CPU < {CPU_TARGET_PERCENT:g} % "
        f"{'met' if result['cpu_target_met'] else 'MISSED'}; memory < {MEMORY_TARGET_MB:g} MB "
        f"{'met' if result['memory_target_met'] else 'MISSED'})",
        rows,
    )


if __name__ == "__main__":
    main()
