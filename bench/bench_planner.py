"""Planner throughput: plans per second for tables and for 1,000-shard streams.

Run: ``.venv/bin/python bench/bench_planner.py`` — prints a table and writes
``bench/results/planner.json``.  Each figure is the median (and min…max) of several runs.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from capcon.core.config.prices import load_price_book
from capcon.core.model import Index, Stream, Table, Throughput
from capcon.core.planning.planner import PlanContext, StreamTraffic, plan
from capcon.core.planning.requests import ShardChange
from capcon.core.planning.reshard import uniform_shards
from capcon.core.ports import TableChange
from capcon.core.rules import RuleSettings

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
RULES = RuleSettings()
PRICES = load_price_book("us-east-1")
RUNS = 5


def measure(label: str, call: Callable[[], object], repeat: int) -> dict[str, object]:
    rates = []
    for _ in range(RUNS):
        start = time.perf_counter()
        for _ in range(repeat):
            call()
        rates.append(repeat / (time.perf_counter() - start))
    return {
        "case": label,
        "plans_per_second_median": statistics.median(rates),
        "min": min(rates),
        "max": max(rates),
        "runs": RUNS,
        "plans_per_run": repeat,
    }


def main() -> None:
    table = Table(
        "orders",
        provisioned=Throughput(1_200, 400),
        indexes=(Index("g1", provisioned=Throughput(100, 100)),),
    )
    big = Stream("firehose", shards=uniform_shards(1_000))
    loads = {s.shard_id: (i % 97) / 100 for i, s in enumerate(big.open_shards)}
    traffic = PlanContext(stream_traffic=StreamTraffic(500e6, 400_000, 0, loads))
    cases = [
        measure(
            "table scale-up (2 parts)",
            lambda: plan(
                table, TableChange(table=Throughput(1_200, 4_000)), NOW, rules=RULES, prices=PRICES
            ),
            2_000,
        ),
        measure(
            "table decrease",
            lambda: plan(
                table, TableChange(table=Throughput(1_200, 200)), NOW, rules=RULES, prices=PRICES
            ),
            2_000,
        ),
        measure(
            "stream 1,000 → 2,000 shards (uniform + targeted alternative)",
            lambda: plan(big, ShardChange(2_000), NOW, rules=RULES, prices=PRICES),
            5,
        ),
        measure(
            "stream 1,000 → 1,500 shards with loads (uniform + targeted)",
            lambda: plan(big, ShardChange(1_500), NOW, rules=RULES, prices=PRICES, context=traffic),
            5,
        ),
    ]
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / "planner.json").write_text(json.dumps(cases, indent=2) + "\n")
    print(f"{'case':<62} {'plans/s (median)':>17} {'min…max':>20}")
    for c in cases:
        print(
            f"{c['case']:<62} {c['plans_per_second_median']:>17,.1f} "
            f"{c['min']:>9,.1f}…{c['max']:<10,.1f}"
        )


if __name__ == "__main__":
    main()
