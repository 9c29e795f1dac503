"""Simulator speed and memory: 24 h of 1-second traffic for 100 resources.

Run: ``.venv/bin/python bench/bench_sim.py [--runs N] [--hours H]`` — prints a table and
writes ``bench/results/sim.json``.  The account is ``fleet:80,20`` (80 tables, 20 streams)
stepped at 1-second resolution.  Memory is the growth of the process's resident set while
building and running the account (``tracemalloc`` would slow the run tenfold, so it is not
used).  Also: building ``demo`` (3 h of history).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from capcon.core.backends.sim.scenarios import build_scenario

NOW = datetime(2026, 1, 5, tzinfo=UTC)


def rss_mb() -> float:
    """Resident set size of this process now, from /proc (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_fleet(hours: float) -> tuple[float, float, int]:
    """(seconds, RSS growth MB, metric series) for ``hours`` of 1-second traffic."""
    gc.collect()
    before = rss_mb()
    account = build_scenario("fleet:80,20", NOW)
    start = time.perf_counter()
    account.advance(int(hours * 3600))
    elapsed = time.perf_counter() - start
    grown = rss_mb() - before
    series = account.store.series_count()
    del account
    return elapsed, grown, series


def run_demo() -> float:
    start = time.perf_counter()
    build_scenario("demo", NOW, history=timedelta(hours=3))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--hours", type=float, default=24.0)
    args = parser.parse_args()
    fleet = [run_fleet(args.hours) for _ in range(args.runs)]
    demo = [run_demo() for _ in range(args.runs)]
    seconds = [f[0] for f in fleet]
    result = {
        "fleet_resources": 100,
        "simulated_hours": args.hours,
        "runs": args.runs,
        "seconds_median": statistics.median(seconds),
        "seconds_min": min(seconds),
        "seconds_max": max(seconds),
        "resource_seconds_per_second": 100 * args.hours * 3600 / statistics.median(seconds),
        "rss_growth_mb_first_run": fleet[0][1],
        "metric_series": fleet[0][2],
        "demo_build_seconds_median": statistics.median(demo),
        "demo_build_seconds_min": min(demo),
        "demo_build_seconds_max": max(demo),
    }
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / "sim.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"{args.hours:g} h of 1-second traffic, 100 resources, {args.runs} runs")
    print(
        f"  time      {result['seconds_median']:8.2f} s  "
        f"({result['seconds_min']:.2f}…{result['seconds_max']:.2f})"
    )
    print(f"  speed     {result['resource_seconds_per_second']:10,.0f} resource-seconds/s")
    print(
        f"  memory    {result['rss_growth_mb_first_run']:8.1f} MB resident growth "
        f"({result['metric_series']} metric series of 1-minute points)"
    )
    print(
        f"demo build (3 h history) {result['demo_build_seconds_median']:.2f} s "
        f"({result['demo_build_seconds_min']:.2f}…{result['demo_build_seconds_max']:.2f})"
    )


if __name__ == "__main__":
    main()
