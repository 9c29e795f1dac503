"""``capcon tour``: the planner's answers on bundled sample resources, scene by scene.

The console (``capcon demo``) answers these questions interactively; the tour prints the
questions the planner answers before anything changes (field note C,
docs/field-notes.md#c-permanent-side-effects): permanent partitions, dilution, the decrease
budget, whole-request refusals, short-lived shards and the targeted alternative.  The scenes
are real plans computed by the core from the sample files.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

from capcon.core.jsonable import to_jsonable
from capcon.core.model import BillingMode, Throughput
from capcon.core.planning.planner import PlanContext, Refusal, StreamTraffic, Usage, plan
from capcon.core.planning.requests import Change, ShardChange
from capcon.core.ports import TableChange
from capcon.tui.cli.output import print_json

#: The bundled sample resources (package data, read through importlib.resources).
SAMPLES = files("capcon.tui.cli") / "samples"
#: The samples' "now": ten minutes after orders' fourth decrease of the day.
DEMO_NOW = datetime(2026, 11, 23, 0, 50, tzinfo=UTC)


@dataclass(frozen=True)
class Scene:
    title: str
    sample: str
    change: Change
    context: PlanContext


def scenes() -> list[Scene]:
    orders_usage = PlanContext(
        usage={None: Usage(900.0, 350.0), "by-customer": Usage(120.0, 350.0)}
    )
    return [
        Scene(
            "A spike is coming: scale orders up tenfold for an hour?",
            "orders.json",
            TableChange(table=Throughput(1200, 4000)),
            orders_usage,
        ),
        Scene(
            "Back down after the spike (4 decreases already used, the last at 00:40)",
            "orders.json",
            TableChange(table=Throughput(1200, 200)),
            orders_usage,
        ),
        Scene(
            "A GSI increase sent together with a table decrease",
            "orders.json",
            TableChange(
                table=Throughput(1000, 400), indexes=(("by-customer", Throughput(300, 800)),)
            ),
            orders_usage,
        ),
        Scene(
            "sessions is on-demand: what would provisioned cost at today's traffic?",
            "sessions.json",
            TableChange(table=Throughput(200, 100), billing_mode=BillingMode.PROVISIONED),
            PlanContext(usage={None: Usage(40.0, 25.0)}),
        ),
        Scene(
            "clicks has a hot shard: UpdateShardCount 4 → 6, or split the hot one?",
            "clicks.json",
            ShardChange(6),
            PlanContext(
                stream_traffic=StreamTraffic(
                    bytes_in_per_second=2_300_000,
                    records_in_per_second=2_600,
                    bytes_out_per_second=4_600_000,
                    shard_loads={
                        "shardId-000000000002": 0.95,
                        "shardId-000000000003": 0.55,
                        "shardId-000000000004": 0.45,
                        "shardId-000000000005": 0.35,
                    },
                )
            ),
        ),
        Scene("clicks: straight to 9 shards?", "clicks.json", ShardChange(9), PlanContext()),
    ]


def run_demo(args: argparse.Namespace) -> int:
    """Print every scene's plan or refusal (rich panels, or one JSON list with --json)."""
    from rich.console import Console
    from rich.rule import Rule

    from capcon.tui.bootstrap import load_books, user_config
    from capcon.tui.cli.plan import load_resource
    from capcon.tui.render import render_plan, render_refusal
    from capcon.tui.text import markup_safe as escape

    now = args.now or DEMO_NOW
    books = load_books(args, getattr(args, "region", None) or "us-east-1", user_config())
    results = []
    for scene in scenes():
        resource = load_resource(SAMPLES / scene.sample)
        result = plan(
            resource,
            scene.change,
            now,
            rules=books.rules,
            prices=books.prices,
            context=scene.context,
        )
        results.append((scene, result))
    if args.json:
        print_json(
            [
                {
                    "scene": scene.title,
                    "outcome": "refused" if isinstance(r, Refusal) else "plan",
                    **to_jsonable(r),
                }
                for scene, r in results
            ]
        )
        return 0
    console = Console()
    # the samples' real folder (an editable install reaches them through links)
    folder = Path(str(SAMPLES)).resolve() if isinstance(SAMPLES, Path) else SAMPLES
    console.print(
        "[b]capcon tour[/b] — what a scale action will really do, before anything changes.\n"
        "These are the core planner's answers for the sample resources in "
        f"{escape(str(folder))} as of "
        f"{now:%Y-%m-%d %H:%M} UTC.\n"
        "Try your own: [b]capcon plan --describe FILE --wcu N[/b] "
        "(FILE from `aws dynamodb describe-table`).\n"
    )
    for number, (scene, result) in enumerate(results, 1):
        console.print(Rule(f"{number}. {scene.title}", align="left"))
        console.print(
            render_refusal(result) if isinstance(result, Refusal) else render_plan(result)
        )
    return 0
