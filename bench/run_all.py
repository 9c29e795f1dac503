"""Every benchmark, one after the other, then one table of the headline figures.

Run: ``.venv/bin/python bench/run_all.py [--quick] [--only NAME ...]`` — each benchmark runs
as its own process (printing its own table and writing its own JSON under
``bench/results/``); then this prints the summary table against the product's quality bars
and writes ``bench/results/all.json`` (every benchmark's JSON, its exit code and run time,
and the machine it ran on).  ``--quick`` asks each benchmark for fewer runs and shorter
windows so the whole suite takes about 3 minutes; the full suite takes about 15.

Benchmarks run one at a time (never in parallel: they measure CPU and wall time), and a
``bench/bench_grid.py``, when there is one, runs too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BENCH, PYTHON, RESULTS, ROOT, load_average, write_result

#: name → (script, result file, extra arguments for --quick)
BENCHMARKS: dict[str, tuple[str, str, list[str]]] = {
    "planner": ("bench_planner.py", "planner.json", []),
    "sim": ("bench_sim.py", "sim.json", ["--runs", "1"]),
    "grid": ("bench_grid.py", "grid.json", ["--runs", "1"]),
    "startup": ("bench_startup.py", "startup.json", ["--quick"]),
    "refresh": ("bench_refresh.py", "refresh.json", ["--quick"]),
    "idle": ("bench_idle.py", "idle.json", ["--quick"]),
}

Row = tuple[str, str, str, str]  # figure, value, target, verdict


def _supports(script: Path, flag: str) -> bool:
    """Whether ``script --help`` mentions ``flag`` (for benchmarks written by others)."""
    try:
        done = subprocess.run(
            [PYTHON, str(script), "--help"], check=False, capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        return False
    return flag in done.stdout


def run_one(name: str, quick: bool) -> dict[str, Any]:
    script_name, result_name, quick_args = BENCHMARKS[name]
    script = BENCH / script_name
    if not script.exists():
        return {"skipped": f"{script_name} does not exist"}
    args = list(quick_args) if quick else []
    if args and name == "grid" and not _supports(script, args[0]):
        args = []  # someone else's benchmark: pass the flag only if it knows it
    result_path = RESULTS / result_name
    before = result_path.stat().st_mtime if result_path.exists() else None
    print(f"\n=== {name}: {script_name} {' '.join(args)}", flush=True)
    started = time.perf_counter()
    done = subprocess.run([PYTHON, str(script), *args], cwd=ROOT, check=False)
    seconds = time.perf_counter() - started
    entry: dict[str, Any] = {
        "script": script_name,
        "arguments": args,
        "returncode": done.returncode,
        "seconds": seconds,
    }
    fresh = result_path.exists() and result_path.stat().st_mtime != before
    if fresh:
        entry["result"] = json.loads(result_path.read_text())
    elif done.returncode == 0:
        entry["note"] = f"no fresh {result_name} written"
    return entry


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _ms(s: dict[str, Any] | None, fmt: str = "{:.2f}") -> str:
    if not s:
        return "-"
    return f"{fmt.format(s['median'])} ({fmt.format(s['min'])}…{fmt.format(s['max'])})"


def _verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("met" if ok else "MISSED")


def summary_rows(results: dict[str, dict[str, Any]]) -> list[Row]:
    rows: list[Row] = []

    def add(figure: str, value: str, target: str, ok: bool | None) -> None:
        rows.append((figure, value, target, _verdict(ok)))

    st = _get(results, "startup", "result", "scenarios")
    if st:
        for scenario, entry in st.items():
            for mode in ("headless", "tmux"):
                s = _get(entry, mode, "first_row_seconds")
                if s:
                    fleet = scenario.startswith("fleet")
                    add(
                        f"start-up {scenario}, {mode}: s to first row",
                        _ms(s),
                        "< 1 s" if fleet else "",
                        s["median"] < 1.0 if fleet else None,
                    )
                frame = _get(entry, mode, "first_frame_seconds")
                if frame:
                    add(f"start-up {scenario}, {mode}: s to frame drawn", _ms(frame), "", None)
    rf = _get(results, "refresh", "result")
    if rf:
        limit = rf["call_limit_ceil_n_over_500"]
        series = rf["account"]["series"]
        labels = {
            "cold": "full, empty cache",
            "warm": "full, 50 visible",
            "visible_only": "50 visible rows only",
        }
        for kind, label in labels.items():
            calls = _get(rf, "capcon", kind, "gmd_calls")
            if calls:
                add(
                    f"refresh {series:,} series ({label}): GetMetricData calls",
                    _ms(calls, "{:.0f}"),
                    f"≤ {limit}" if kind != "visible_only" else "",
                    calls["max"] <= limit if kind != "visible_only" else None,
                )
        for sp in rf.get("sparse_default_window", [])[1:2]:
            add(
                "refresh, sparse throttle series, default window (warm): calls",
                str(sp["gmd_calls"]),
                f"≤ {sp['call_limit']}",
                sp["gmd_calls"] <= sp["call_limit"],
            )
        first = _get(rf, "capcon", "first_screen", "wall_seconds")
        if first:
            add("AWS (moto) first poll, first screen only: wall s", _ms(first), "", None)
        add(
            "refresh (full, cold): capcon wall s",
            _ms(rf["capcon"]["cold"]["wall_seconds"]),
            "",
            None,
        )
        add(
            "refresh (full, warm): capcon wall s",
            _ms(rf["capcon"]["warm"]["wall_seconds"]),
            "",
            None,
        )
        for state, h in rf["capcon"]["per_hour_under_policy"].items():
            add(
                f"CPU, AWS console {state.replace('_', ' ')} (client CPU per hour): %",
                f"{h['cpu_percent_of_one_core']:.2f}",
                "< 2 %",
                h["cpu_percent_of_one_core"] < 2.0,
            )
        naive = rf["naive"]
        add(
            f"refresh naive: {naive['calls_per_refresh']:,} GetMetricStatistics calls, wall s"
            + (" (extrapolated)" if naive["extrapolated_from_sample"] else ""),
            _ms(naive["wall_seconds_per_refresh"], "{:.1f}"),
            "",
            None,
        )
        cost = rf["cost_per_hour"]
        add(
            "CloudWatch $/h of an open console in use, capcon",
            f"${cost['capcon_in_use_per_hour']:.3f}",
            "",
            None,
        )
        add(
            "CloudWatch $/h of an idle open console, capcon",
            f"${cost['capcon_idle_per_hour']:.3f}",
            "cents/h (< $0.10)",
            cost["capcon_idle_per_hour"] < 0.10,
        )
        add(
            "CloudWatch $/h, everything every minute",
            f"${cost['everything_every_minute_per_hour']:.3f}",
            "",
            None,
        )
        add(
            "CloudWatch $/h, 50 visible every minute + rest every 15 min",
            f"${cost['visible_every_minute_rest_every_15_min_per_hour']:.3f}",
            "",
            None,
        )
    idle = _get(results, "idle", "result")
    if idle:
        for label, c in idle["cpu"].items():
            target = label.startswith(("demo (", "AWS console"))
            add(
                f"idle CPU {label}: % of one core",
                _ms(c["percent_of_one_core"]),
                "< 2 %" if target else "",
                c["percent_of_one_core"]["median"] < 2.0 if target else None,
            )
        add(
            "fleet:1000,200 × 3 h history: build s",
            _ms(idle["account_alone"]["build_seconds"]),
            "",
            None,
        )
        add(
            "memory, account alone (RSS growth) MB",
            _ms(idle["account_alone"]["rss_growth_mb"], "{:.0f}"),
            "< 200 MB",
            idle["account_alone"]["rss_growth_mb"]["median"] < 200,
        )
        add(
            "memory, open console when rows show (RSS) MB",
            _ms(idle["console"]["rss_mb_after_rows"], "{:.0f}"),
            "< 200 MB",
            idle["console"]["rss_mb_after_rows"]["median"] < 200,
        )
        add(
            f"memory, open console after {idle['seconds']:g} s more (peak RSS) MB",
            _ms(idle["console"]["peak_rss_mb"], "{:.0f}"),
            "< 200 MB",
            idle["console"]["peak_rss_mb"]["median"] < 200,
        )
    sim = _get(results, "sim", "result")
    if sim:
        add(
            f"simulator {sim['simulated_hours']:g} h × 100 resources, 1-s steps: s",
            f"{sim['seconds_median']:.1f} ({sim['seconds_min']:.1f}…{sim['seconds_max']:.1f})",
            "seconds (< 60 s)",
            sim["seconds_median"] < 60,
        )
    planner = _get(results, "planner", "result")
    if planner:
        for case in planner:
            add(
                f"planner: {case['case']}: plans/s",
                f"{case['plans_per_second_median']:,.1f} ({case['min']:,.1f}…{case['max']:,.1f})",
                "",
                None,
            )
    grid = _get(results, "grid", "result")
    if grid is not None:
        add(
            f"grid: {grid.get('experiments')} runs × {grid.get('simulated_hours_each')} h: s",
            f"{grid['seconds_median']:.1f} ({grid['seconds_min']:.1f}…{grid['seconds_max']:.1f})",
            "",
            None,
        )
        cells = grid.get("capcon_vs_h2") or []
        if cells:
            beaten = sum(1 for c in cells if c.get("capcon_beats_h2"))
            add(
                "grid: cells where capcon beats H2 at ≤ 1.25× capacity",
                f"{beaten}/{len(cells)}",
                "all",
                beaten == len(cells),
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs, shorter windows")
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHMARKS), help="run only these")
    args = parser.parse_args()
    names = args.only or list(BENCHMARKS)
    started = time.perf_counter()
    machine = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_before": load_average(),
    }
    results = {name: run_one(name, args.quick) for name in names}
    rows = summary_rows(results)
    write_result(
        "all.json",
        {
            "generated": datetime.now(UTC).isoformat(timespec="seconds"),
            "quick": args.quick,
            "seconds": time.perf_counter() - started,
            "machine": machine,
            "summary": [
                {"figure": f, "value": v, "target": t, "verdict": ok} for f, v, t, ok in rows
            ],
            "benchmarks": results,
        },
    )
    width = max((len(r[0]) for r in rows), default=10)
    value_width = max((len(r[1]) for r in rows), default=10)
    print(f"\n=== summary ({'quick' if args.quick else 'full'} run, median (min…max)) ===")
    print(f"{'figure':<{width}}  {'value':<{value_width}}  {'target':<18}  verdict")
    for figure, value, target, verdict in rows:
        print(f"{figure:<{width}}  {value:<{value_width}}  {target:<18}  {verdict}")
    for name, entry in results.items():
        if "skipped" in entry:
            print(f"({name}: skipped, {entry['skipped']})")
        elif entry["returncode"]:
            print(f"({name}: FAILED with exit code {entry['returncode']})")
    print(f"\nwrote {RESULTS / 'all.json'} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
