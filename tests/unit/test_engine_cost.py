"""The deployed engine's AWS cost: the arithmetic of ``engine_cost`` and of the benchmark's
reading of a template, each checked against figures worked out by hand here (never the
benchmark's own output).  Prices are the default book's (us-east-1)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

from capcon.core.config.prices import load_price_book
from capcon.core.pricing import HOURS_PER_MONTH, EngineUsage, engine_cost

BOOK = load_price_book("us-east-1")
BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str) -> Any:
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(f"capcon_bench_{name}", BENCH / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up while defined
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


deploy_cost = _load("deploy_cost")


def usage(**given: float | bool) -> EngineUsage:
    zeros: dict[str, Any] = {
        "alarm_metrics": 0,
        "invocations": 0,
        "gb_seconds": 0,
        "metrics_requested": 0,
        "cloudwatch_requests": 0,
        "read_units": 0,
        "write_units": 0,
        "notifications": 0,
    }
    return EngineUsage(**{**zeros, **given})


def test_each_part_at_its_price() -> None:
    cost = engine_cost(
        usage(
            alarm_metrics=2,
            metrics_requested=1440 * 4,
            cloudwatch_requests=3000,
            invocations=1_000_000,
            gb_seconds=100_000,
            notifications=2_000_000,
            read_units=8_000_000,
            write_units=1_000_000,
        ),
        BOOK,
    )
    month = {label: amount * HOURS_PER_MONTH for label, amount in cost.breakdown}
    assert month["alarms"] == pytest.approx(2 * 0.10)
    assert month["GetMetricData"] == pytest.approx(1440 * 4 * 0.01 / 1000)
    assert month["CloudWatch requests"] == pytest.approx(3000 * 0.01 / 1000)
    assert month["Lambda requests"] == pytest.approx(0.20)
    assert month["Lambda duration"] == pytest.approx(100_000 * 0.0000166667)
    assert month["SNS"] == pytest.approx(2 * 0.50 + 2 * 0.0)  # deliveries to Lambda are free
    assert month["state table"] == pytest.approx(8 * 0.125 + 1 * 0.625)
    assert cost.per_month == pytest.approx(
        0.20 + 0.0576 + 0.03 + 0.20 + 1.66667 + 1.0 + 1.625, rel=1e-6
    )


def test_arm64_duration_is_priced_as_arm64() -> None:
    x86 = engine_cost(usage(gb_seconds=1_000_000, invocations=1_000_000), BOOK)
    arm = engine_cost(usage(gb_seconds=1_000_000, invocations=1_000_000, arm64=True), BOOK)
    assert x86.per_month == pytest.approx(1_000_000 * 0.0000166667 + 0.20)
    assert arm.per_month == pytest.approx(1_000_000 * 0.0000133334 + 0.20)


def test_nothing_used_costs_nothing_and_negative_use_is_refused() -> None:
    assert engine_cost(usage(), BOOK).per_month == 0
    assert engine_cost(usage(), BOOK).breakdown == ()
    with pytest.raises(ValueError, match="invocations"):
        usage(invocations=-1)


def test_a_poller_reading_4_metrics_a_minute_costs_about_173_cents_a_month() -> None:
    """The issue's comparison: a process reading 4 metrics of a table every minute."""
    per_month = deploy_cost.poller_month(metrics_per_minute=4, book=BOOK)
    assert per_month == pytest.approx(4 * 60 * 730 * 0.01 / 1000)  # $1.752 (a 730-h month)
    assert per_month == pytest.approx(1.73, abs=0.03)  # the "about $1.73" (30 days)


# --------------------------------------------------------------------------------------------
# Reading a template (in CloudFormation's shape, written out here)
# --------------------------------------------------------------------------------------------


def alarm(metrics: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {"EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "x"}
    if metrics is None:
        props |= {"MetricName": "ConsumedWriteCapacityUnits", "Namespace": "AWS/DynamoDB"}
    else:
        props["Metrics"] = metrics
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": props}


def stat(id_: str) -> dict[str, Any]:
    return {"Id": id_, "MetricStat": {"Metric": {"MetricName": "m"}, "Period": 60}}


TEMPLATE: dict[str, Any] = {
    "Resources": {
        "ScalerFunction": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"MemorySize": 256, "Architectures": ["arm64"], "Timeout": 120},
        },
        "TickRule": {
            "Type": "AWS::Events::Rule",
            "Properties": {"ScheduleExpression": "rate(30 minutes)"},
        },
        "StreamCheckRule": {
            "Type": "AWS::Events::Rule",
            "Properties": {"ScheduleExpression": "rate(36 hours)"},
        },
        "Alarm1": alarm(),
        "Alarm2": alarm([stat("m1"), stat("m2"), {"Id": "e1", "Expression": "m1 + FILL(m2, 0)"}]),
        "Other": {"Type": "AWS::SNS::Topic", "Properties": {}},
    }
}


def test_the_template_is_read_for_alarms_their_metrics_schedules_and_memory() -> None:
    facts = deploy_cost.template_facts(TEMPLATE)
    assert facts.alarms == 2
    assert facts.alarm_metrics == 1 + 2  # the expression reads two metrics: billed as two
    assert facts.ticks_per_month == pytest.approx(730 * 60 / 30)
    assert facts.stream_checks_per_month == pytest.approx(730 / 36)
    assert facts.memory_gb == pytest.approx(256 / 1024)
    assert facts.arm64 is True


@pytest.mark.parametrize(
    ("expression", "minutes"),
    [
        ("rate(1 minute)", 1),
        ("rate(5 minutes)", 5),
        ("rate(2 hours)", 120),
        ("rate(1 day)", 1440),
        ("cron(0/15 * * * ? *)", None),
    ],
)
def test_schedule_rates(expression: str, minutes: int | None) -> None:
    if minutes is None:
        with pytest.raises(ValueError, match="cron"):
            deploy_cost.rate_minutes(expression)
    else:
        assert deploy_cost.rate_minutes(expression) == minutes


def test_monthly_usage_from_ticks_wakeups_and_measured_rounds() -> None:
    facts = deploy_cost.template_facts(TEMPLATE)
    tick = deploy_cost.Invocation(
        metrics=8, cloudwatch_requests=0, read_units=2, write_units=4, seconds=0.5
    )
    wake = deploy_cost.Invocation(
        metrics=4, cloudwatch_requests=3, read_units=1, write_units=2, seconds=0.4
    )
    got = deploy_cost.monthly_usage(
        facts, tick=tick, wakeup=wake, wakeups_per_month=100, stream_check=None
    )
    ticks = 730 * 60 / 30  # 1,460
    assert got.invocations == pytest.approx(ticks + 100)
    assert got.notifications == 100
    assert got.alarm_metrics == 3
    assert got.metrics_requested == pytest.approx(ticks * 8 + 100 * 4)
    assert got.cloudwatch_requests == pytest.approx(100 * 3)
    assert got.read_units == pytest.approx(ticks * 2 + 100 * 1)
    assert got.write_units == pytest.approx(ticks * 4 + 100 * 2)
    assert got.gb_seconds == pytest.approx((ticks * 0.5 + 100 * 0.4) * 0.25)
    assert got.arm64


def test_billed_seconds_stretch_cpu_by_the_share_of_a_vcpu_and_add_waiting() -> None:
    """256 MB gets 256/1,769 of a vCPU (AWS: one vCPU at 1,769 MB): a second of CPU measured
    on a full core takes 1,769/256 s there; calls wait, they do not compute."""
    got = deploy_cost.billed_seconds(
        cpu_s=0.1, import_s=0.9, calls=10, call_ms=25, memory_gb=256 / 1024
    )
    assert got == pytest.approx((0.1 + 0.9) * 1769 / 256 + 10 * 0.025)
    # at or above 1,769 MB the CPU time is taken as measured
    assert deploy_cost.billed_seconds(
        cpu_s=0.5, import_s=0.0, calls=0, call_ms=25, memory_gb=2.0
    ) == pytest.approx(0.5)
