"""Narrowing a planner result in a test: the plan, or the refusal, or the test fails."""

from __future__ import annotations

from capcon.core.planning.planner import Refusal, ScalePlan


def ok(result: ScalePlan | Refusal) -> ScalePlan:
    assert isinstance(result, ScalePlan), result
    return result


def refused(result: ScalePlan | Refusal) -> Refusal:
    assert isinstance(result, Refusal), result
    return result
