"""The benchmark summary judges figures against the product's bars: a figure over its bar is
reported as missed, one under it as met, and a figure without a bar gets no verdict.

The benchmarks themselves measure (they are run by hand, not in the suite); this checks the
one piece of logic that turns their JSON into verdicts, on results shaped as they write them.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str) -> Any:
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(f"capcon_bench_{name}", BENCH / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


run_all = _load("run_all")
common = _load("_common")


def idle_results(demo_cpu: list[float], peak_mb: float) -> dict[str, Any]:
    s = common.summary
    return {
        "idle": {
            "result": {
                "seconds": 60,
                "cpu": {
                    "demo (sim running 60×)": {"percent_of_one_core": s(demo_cpu)},
                    "demo paused (space)": {"percent_of_one_core": s([9.0])},
                },
                "account_alone": {"build_seconds": s([4.0]), "rss_growth_mb": s([57.0])},
                "console": {"rss_mb_after_rows": s([126.0]), "peak_rss_mb": s([peak_mb])},
            }
        },
        "startup": {
            "result": {
                "scenarios": {
                    "fleet:1000,200": {"headless": {"first_row_seconds": s([0.4, 1.3, 1.2])}},
                    "demo": {"tmux": {"first_row_seconds": s([3.0])}},
                }
            }
        },
    }


def verdicts(results: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {figure: (value, verdict) for figure, value, _, verdict in run_all.summary_rows(results)}


@pytest.mark.parametrize(
    ("demo_cpu", "peak_mb", "cpu_verdict", "peak_verdict"),
    [([1.65, 1.70, 1.70], 147.0, "met", "met"), ([1.9, 2.3, 2.2], 216.0, "MISSED", "MISSED")],
)
def test_each_figure_is_judged_by_its_median_against_its_bar(
    demo_cpu: list[float], peak_mb: float, cpu_verdict: str, peak_verdict: str
) -> None:
    rows = verdicts(idle_results(demo_cpu, peak_mb))
    cpu = rows["idle CPU demo (sim running 60×): % of one core"]
    assert cpu[1] == cpu_verdict
    assert cpu[0].startswith(f"{sorted(demo_cpu)[1]:.2f} (")
    assert rows["memory, open console after 60 s more (peak RSS) MB"][1] == peak_verdict
    # a median over 1 s misses the start-up bar even though one run was under it
    assert rows["start-up fleet:1000,200, headless: s to first row"] == (
        "1.20 (0.40…1.30)",
        "MISSED",
    )
    # no bar, no verdict: the paused demo and the demo's start-up
    assert rows["idle CPU demo paused (space): % of one core"][1] == "-"
    assert rows["start-up demo, tmux: s to first row"][1] == "-"


def test_a_benchmark_that_did_not_run_adds_no_rows() -> None:
    assert run_all.summary_rows({}) == []
    assert run_all.summary_rows({"idle": {"error": "no tmux"}}) == []
