"""``capcon show`` speaks to a person: the last hour's metrics as labelled, aligned rows with
units (no Python dicts, no internal query ids); ``--json`` keeps the machine form."""

from __future__ import annotations

import re

import pytest

from capcon.tui.cli.show import metric_lines
from tests.support.cli import run


@pytest.mark.parametrize(
    ("name", "key", "label"),
    [("inventory", "m_cw", "consumed writes"), ("clickstream", "m_r", "incoming records")],
)
def test_show_prints_the_last_hours_metrics_as_rows_the_json_as_ids(
    capsys: pytest.CaptureFixture[str], name: str, key: str, label: str
) -> None:
    code, out, _ = run(capsys, "show", name, "--sim=demo", "--now=2026-11-30T03:00:00Z")
    assert code in (0, 4)
    assert not re.search(r"\bm_[a-z]{1,2}\b", out), out  # no internal ids
    assert "{" not in out and "': " not in out  # no Python dicts
    (row,) = [line for line in out.splitlines() if line.strip().startswith(label)]
    doc = run(capsys, "show", name, "--sim=demo", "--now=2026-11-30T03:00:00Z", "--json")
    stats = doc.document()
    part = stats.get("metrics_last_hour")
    if part is None:
        part = stats["parts"][0]["metrics_last_hour"]
    mean = part[key]["mean_per_second"]
    assert f"{mean:,.1f}" in row
    assert f" {part[key]['datapoints']} " in f" {row} "


def test_metric_lines_say_what_is_unknown_or_missing() -> None:
    assert metric_lines(None) == ["metrics unknown (could not be read)"]
    assert metric_lines({}) == ["no metrics in the last hour"]
    lines = metric_lines(
        {
            "m_b": {"mean_per_second": 2.5 * 2**20, "max_per_second": 3000.0, "datapoints": 3,
                    "newest": "2026-12-02T07:09:00+00:00"},
            "m_t": {"mean_per_second": None, "max_per_second": None, "datapoints": 0,
                    "newest": None},
        }
    )  # fmt: skip
    assert lines[1].split() == [
        "incoming",
        "bytes",
        "2.5",
        "MiB/s",
        "2.9",
        "KiB/s",
        "3",
        "07:09",
        "UTC",
    ]
    assert lines[2].split() == ["writes", "throttled", "–", "–", "0", "–"]
