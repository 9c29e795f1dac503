"""The experiment grid's speed: field note B's whole grid (docs/field-notes.md#the-grid),
every table policy.

Run: ``.venv/bin/python bench/bench_grid.py [--runs N] [--hours H]`` — prints the timings and
the capcon-vs-H2 check per cell, and writes ``bench/results/grid.json`` (timings plus every
result of the last run).  The grid is 2 patterns × 6 targets × 6 table policies = 72
experiments, each ``H`` simulated hours (default 3) at 1-second resolution, one process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import TypedDict

from capcon.core.backends.sim.experiment import (
    GRID_PATTERNS,
    GRID_TARGETS,
    ExperimentResult,
    run_grid,
)
from capcon.core.policies import TABLE_POLICIES


class Cell(TypedDict):
    pattern: str
    target: float
    capcon_success_rate: float
    h2_success_rate: float
    capacity_ratio: float
    capcon_beats_h2: bool


def run_once(hours: float) -> tuple[float, list[ExperimentResult]]:
    start = time.perf_counter()
    results = run_grid(hours=hours)
    return time.perf_counter() - start, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--hours", type=float, default=3.0)
    args = parser.parse_args()
    timed = [run_once(args.hours) for _ in range(args.runs)]
    seconds = [t for t, _ in timed]
    results = timed[-1][1]
    assert all(r == s for r, s in zip(results, timed[0][1], strict=True)), "not deterministic"
    experiments = len(results)
    by = {(r.pattern, r.target, r.policy): r for r in results}
    cells: list[Cell] = []
    for pattern in GRID_PATTERNS:
        for target in GRID_TARGETS:
            capcon, h2 = by[(pattern, target, "capcon")], by[(pattern, target, "h2")]
            ratio = capcon.capacity_unit_hours / h2.capacity_unit_hours
            beats = (
                capcon.success_rate > h2.success_rate
                if h2.success_rate < 1
                else capcon.success_rate == 1
            )
            cells.append(
                {
                    "pattern": pattern,
                    "target": target,
                    "capcon_success_rate": capcon.success_rate,
                    "h2_success_rate": h2.success_rate,
                    "capacity_ratio": ratio,
                    "capcon_beats_h2": beats and ratio <= 1.25,
                }
            )
    result = {
        "experiments": experiments,
        "policies": list(TABLE_POLICIES),
        "simulated_hours_each": args.hours,
        "runs": args.runs,
        "seconds_median": statistics.median(seconds),
        "seconds_min": min(seconds),
        "seconds_max": max(seconds),
        "experiments_per_second": experiments / statistics.median(seconds),
        "capcon_vs_h2": cells,
        "results": [r.to_dict() for r in results],
    }
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / "grid.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"grid: {experiments} experiments of {args.hours:g} simulated h at 1 s, {args.runs} runs")
    print(
        f"  time      {result['seconds_median']:8.2f} s median "
        f"({result['seconds_min']:.2f}…{result['seconds_max']:.2f})"
    )
    print(f"  speed     {result['experiments_per_second']:8.1f} experiments/s")
    for cell in cells:
        mark = "ok" if cell["capcon_beats_h2"] else "FAILS"
        print(
            f"  {cell['pattern']:>9} {cell['target']:3g}%  capcon "
            f"{cell['capcon_success_rate'] * 100:7.3f}% vs h2 {cell['h2_success_rate'] * 100:7.3f}%"
            f"  capacity ×{cell['capacity_ratio']:.2f}  {mark}"
        )


if __name__ == "__main__":
    main()
