"""Rich renderables for core results: one way to show a plan, for the CLI and the console."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table as RichTable
from rich.text import Text

from capcon.core.model import Throughput, WarmThroughput
from capcon.core.planning.autoscaling import AutoScalingPlan
from capcon.core.planning.events import EventPlan
from capcon.core.planning.planner import PartPlan, Refusal, ScalePlan, StreamPlan
from capcon.core.planning.reshard import ReshardPlan
from capcon.core.pricing import Cost
from capcon.core.rules import fmt_on_demand_max, fmt_time
from capcon.tui.text import markup_safe, printable

MAX_STEPS_SHOWN = 12


def _plain(text: str, style: str = "") -> Text:
    """Text that may hold names from AWS (a plan's summary, a warning): never markup, and no
    control character reaches the terminal."""
    return Text(printable(text), style=style)


def _title(head: str, rest: str) -> str:
    """A panel title (markup): ``head`` in bold, then outside text as it is."""
    return f"[b]{head}[/b] {markup_safe(rest)}"


#: A mebibyte: Kinesis's per-shard limits are in MiB/s.
MIB = 2**20


def _money(cost: Cost | None, *, month: bool = False) -> str:
    if cost is None:
        return "— (needs traffic)"
    return f"${cost.per_month:,.2f}" if month else f"${cost.per_hour:,.4f}"


def _units(t: Throughput | None) -> str:
    return "on-demand" if t is None else f"{t.read:,} RCU / {t.write:,} WCU"


def _pp(pp: tuple[float, float] | None) -> str:
    return "—" if pp is None else f"{pp[0]:,.0f} RCU / {pp[1]:,.0f} WCU"


def _change_style(before: str, after: str) -> str:
    return "bold" if before != after else ""


def _part_table(plan: ScalePlan, part: PartPlan) -> RichTable:
    grid = RichTable(
        title=markup_safe(part.label), title_justify="left", expand=False, show_edge=False
    )
    grid.add_column("", style="dim")
    grid.add_column("now", justify="right")
    grid.add_column("after", justify="right")
    pb, pa = part.partitions_before, part.partitions_after
    budget = part.decrease_budget
    rows: list[tuple[str, str, str]] = [
        ("capacity", _units(part.before), _units(part.after)),
        ("cost per hour", _money(part.cost_before), _money(part.cost_after)),
        (
            "cost per month",
            _money(part.cost_before, month=True),
            _money(part.cost_after, month=True),
        ),
        (
            "partitions (estimate)",
            f"~{pb.count} (from {pb.basis})",
            f"~{pa.count}"
            + (" — permanent" if part.partitions_permanent else "")
            + (" — within warm throughput: served instantly" if _served_warm(part) else ""),
        ),
        ("per partition", _pp(part.per_partition_before), _pp(part.per_partition_after)),
    ]
    if part.partitions_permanent:
        rows.append(
            (
                "per partition back at today's capacity",
                _pp(part.per_partition_before),
                _pp(part.per_partition_after_return),
            )
        )
    if part.before is not None:
        rows.append(
            ("decreases left today", str(budget.left_today), str(part.decreases_left_after))
        )
        rows.append(
            (
                "next decrease allowed",
                fmt_time(budget.next_allowed_at, plan.made_at),
                fmt_time(part.next_decrease_after, plan.made_at),
            )
        )
    if part.quota_left_after is not None:
        rows.append(("per-table/GSI quota left", "", _units(part.quota_left_after)))
    rows += _warm_rows(part)
    for label, before, after in rows:
        grid.add_row(label, before, Text(after, style=_change_style(before, after)))
    return grid


def _warm_rows(part: PartPlan) -> list[tuple[str, str, str]]:
    """Warm throughput, pre-warming's one-time charge and on-demand maximums, when known."""
    rows: list[tuple[str, str, str]] = []
    if part.warm_before != part.warm_after or _served_warm(part):
        rows.append(("warm throughput", _warm(part.warm_before), _warm(part.warm_after)))
    if part.prewarm:
        charge = "unknown" if part.prewarm_charge is None else f"${part.prewarm_charge:,.2f}"
        rows.append(("pre-warming charge (once)", "", charge))
    if part.on_demand_max_before is not None or part.on_demand_max_after is not None:
        rows.append(
            (
                "on-demand maximum",
                fmt_on_demand_max(part.on_demand_max_before),
                fmt_on_demand_max(part.on_demand_max_after),
            )
        )
    return rows


def _served_warm(part: PartPlan) -> bool:
    """An increase (or a switch to provisioned) within the warm values: served instantly."""
    before, after = part.before, part.after
    raised = after is not None and (
        before is None or after.read > before.read or after.write > before.write
    )
    return raised and part.partitions_after.within_warm


def _warm(warm: WarmThroughput | None) -> str:
    if warm is None:
        return "unknown"
    return f"{warm.read_units_per_second:,} R / {warm.write_units_per_second:,} W units/s"


def _reshard_lines(reshard: ReshardPlan, title: str) -> RichTable:
    grid = RichTable(title=title, title_justify="left", show_header=False, show_edge=False)
    grid.add_column(style="dim")
    grid.add_column()
    grid.add_row("open shards", f"{reshard.current_open} → {reshard.target_open}")
    grid.add_row(
        "shards created / closed",
        f"{len(reshard.shards_created)} / {len(reshard.shards_closed)}"
        f" ({len(reshard.short_lived)} short-lived)",
    )
    grid.add_row("most open at once", str(reshard.peak_open))
    if reshard.max_load_before is not None:
        grid.add_row(
            "hottest shard (of write limit)",
            f"{reshard.max_load_before:.0%} → {(reshard.max_load_after or 0):.0%}",
        )
    steps = reshard.describe()
    shown = "\n".join(steps[:MAX_STEPS_SHOWN])
    if len(steps) > MAX_STEPS_SHOWN:
        shown += f"\n… {len(steps) - MAX_STEPS_SHOWN} more steps"
    grid.add_row(
        "steps" + (" (estimate)" if reshard.estimate else ""), markup_safe(shown or "none")
    )
    return grid


def _stream_table(plan: ScalePlan, sp: StreamPlan) -> RenderableType:
    grid = RichTable(
        title=markup_safe(f"stream {plan.resource}"), title_justify="left", show_edge=False
    )
    grid.add_column("", style="dim")
    grid.add_column("now", justify="right")
    grid.add_column("after", justify="right")
    rows = [
        ("open shards", str(sp.open_before), str(sp.open_after)),
        (
            "write limit",
            f"{sp.write_limit_before[0] / MIB:g} MiB/s, {sp.write_limit_before[1]:,} rec/s",
            f"{sp.write_limit_after[0] / MIB:g} MiB/s, {sp.write_limit_after[1]:,} rec/s",
        ),
        (
            "read limit",
            f"{sp.read_limit_before / MIB:g} MiB/s",
            f"{sp.read_limit_after / MIB:g} MiB/s",
        ),
        ("cost per hour", _money(sp.cost_before), _money(sp.cost_after)),
        ("cost per month", _money(sp.cost_before, month=True), _money(sp.cost_after, month=True)),
        (
            "UpdateShardCount left (24 h)",
            str(sp.budget.left) + ("" if sp.history_complete else " (known calls)"),
            str(sp.reshards_left_after),
        ),
        (
            "closed shards readable until",
            "",
            fmt_time(sp.reshard.closed_readable_until, plan.made_at)
            if sp.reshard.shards_closed
            else "—",
        ),
    ]
    if sp.efo_consumers:
        count = str(sp.efo_consumers)
        rows.insert(3, ("EFO consumers", count, count))
    if sp.closed_shards_cost_once:
        rows.append(("one-time: closed shards", "", f"${sp.closed_shards_cost_once:,.2f}"))
    if sp.account_shard_quota is not None:
        quota = f"{sp.account_shard_quota:,}"
        rows.append(("account shard quota", quota, quota))
    for label, before, after in rows:
        grid.add_row(label, before, Text(after, style=_change_style(before, after)))
    parts: list[RenderableType] = [grid]
    if sp.cost_after.breakdown:
        shown = ", ".join(f"{label} ${amount:,.4f}" for label, amount in sp.cost_after.breakdown)
        parts.append(Text(f"cost after, per hour: {shown}", style="dim"))
    if sp.account_shard_quota_source:
        parts.append(Text(f"shard quota: {sp.account_shard_quota_source}", style="dim"))
    parts += [Text(""), _reshard_lines(sp.reshard, f"{sp.reshard.strategy} plan")]
    if sp.alternative is not None:
        alt = sp.alternative
        cost = f", {_money(sp.alternative_cost_after)}/h" if sp.alternative_cost_after else ""
        parts += [
            Text(""),
            _reshard_lines(alt, f"alternative: targeted split/merge{cost}"),
        ]
    if sp.on_demand_alternative is not None:
        parts.append(
            Text(f"on-demand at current traffic: {_money(sp.on_demand_alternative)}/h", style="dim")
        )
    return Group(*parts)


def _regions_table(plan: ScalePlan) -> RichTable:
    """A global table's cost region by region (the table and its GSIs in each)."""
    grid = RichTable(
        title="every region (global table)", title_justify="left", expand=False, show_edge=False
    )
    for header in ("region", "status", "class", "now", "after", "priced from"):
        grid.add_column(header, justify="right" if header in ("now", "after") else "left")
    for region in plan.regions:
        cls = region.table_class_before.label
        if region.table_class_after is not region.table_class_before:
            cls += f" → {region.table_class_after.label}"
        grid.add_row(
            _plain(region.region + (" (this one)" if region.home else "")),
            _plain(region.status),
            cls,
            _money(region.cost_before),
            _money(region.cost_after),
            _plain(region.prices_from),
        )
    return grid


def render_plan(plan: ScalePlan) -> RenderableType:
    """A plan as a panel: before/after tables, warnings, assumptions."""
    body: list[RenderableType] = []
    for part in plan.parts:
        if part.changed:
            body += [_part_table(plan, part), Text("")]
    if plan.stream is not None:
        body += [_stream_table(plan, plan.stream), Text("")]
    if plan.kind == "table":
        totals = f"whole table: {_money(plan.cost_before)}/h → {_money(plan.cost_after)}/h"
        month_before = _money(plan.cost_before, month=True)
        totals += f" ({month_before} → {_money(plan.cost_after, month=True)} a month)"
        if plan.cost_before is None and plan.cost_after is None:
            totals = f"whole table: {_money(None)}"
        totals = totals.replace(f"{_money(None)}/h", _money(None))
        body.append(Text(totals))
        if plan.regions:
            body.append(_regions_table(plan))
        if plan.on_demand_alternative is not None:
            body.append(
                Text(
                    f"on-demand at current traffic: {_money(plan.on_demand_alternative)}/h",
                    style="dim",
                )
            )
        if plan.account_left is not None:
            body.append(Text(f"account quota left after: {_units(plan.account_left)}", style="dim"))
    if plan.warnings:
        body.append(Text(""))
        for warning in plan.warnings:
            body.append(_plain(f"⚠ {warning.message}", style="yellow"))
    body.append(Text(""))
    for assumption in plan.assumptions:
        body.append(_plain(f"· {assumption}", style="dim"))
    return Panel(
        Group(*body),
        title=_title("plan", plan.summary),
        subtitle=f"at {plan.made_at:%Y-%m-%d %H:%M} UTC · nothing has changed yet",
        border_style="cyan",
    )


def render_refusal(refusal: Refusal) -> RenderableType:
    """A refusal as a red panel listing every reason."""
    lines: list[RenderableType] = [_plain(f"✗ {v.message}") for v in refusal.violations]
    if refusal.allowed_at is not None:
        lines.append(Text(""))
        lines.append(
            Text(f"allowed again at {fmt_time(refusal.allowed_at, refusal.made_at)}", style="bold")
        )
    return Panel(
        Group(*lines),
        title=_title("refused", refusal.summary),
        subtitle="nothing was changed",
        border_style="red",
    )


def render_autoscaling_plan(result: AutoScalingPlan) -> RenderableType:
    """A rich panel for an :class:`AutoScalingPlan`."""
    lines: list[RenderableType] = []
    change = result.change
    if change.enabled:
        lines.append(
            Text(
                f"min {change.min_capacity:,} · max {change.max_capacity:,} · target "
                f"{change.target:g}% · scale-in {'on' if change.scale_in else 'off'} · policy "
                f"{result.policy_name}"
            )
        )
    before = result.target_before
    if before is not None:
        lines.append(
            Text(f"now: min {before.min_capacity:,} · max {before.max_capacity:,}", style="dim")
        )
    if result.current is not None:
        lines.append(Text(f"capacity now {result.current:,}"))
    if result.capacity_after_registration is not None:
        lines.append(Text(f"capacity after registering {result.capacity_after_registration:,}"))
    if result.capacity_at_current_traffic is not None:
        lines.append(
            Text(
                f"capacity auto scaling will aim for at current traffic "
                f"({result.usage:,.0f}/s): {result.capacity_at_current_traffic:,}"
            )
        )
    lines.append(
        Text(
            f"cost between min and max: ${result.cost_at_min:.4f}–${result.cost_at_max:.4f}/h "
            f"(${result.cost_at_min * 730:,.2f}–${result.cost_at_max * 730:,.2f} a month)"
        )
    )
    lines.append(
        Text(
            f"partitions (estimate): ~{result.partitions_now.count} now, "
            f"~{result.partitions_at_max.count} at max"
        )
    )
    for warning in result.warnings:
        lines.append(_plain(f"⚠ {warning.message}", style="yellow"))
    for assumption in result.assumptions:
        lines.append(_plain(f"· {assumption}", style="dim"))
    return Panel(
        Group(*lines),
        title=_title("plan", result.summary),
        subtitle="nothing has changed yet",
        border_style="cyan",
    )


_HOW = {
    "aas-scheduled": "Application Auto Scaling scheduled actions raise and restore the "
    "target's min/max (auto scaling is raised and restored, not fought)",
    "aas-scheduled-target": "a scalable target registered for the event (scheduled-only, "
    "not the no-policy trap) and scheduled actions raising and restoring it",
    "prewarm": "pre-warming sent at apply (irreversible, charged)",
    "stream-schedule": "capcon's stream schedule: the engine (deployed, or capcon autoscale) "
    "reshards at each step's time",
}


def _dimension_unit(key: str) -> str:
    return {"read": "RCU", "write": "WCU", "shards": "shards"}.get(key, key)


def render_event_plan(plan: EventPlan) -> RenderableType:
    """An event plan as a panel: capacity now / at the peak / after, the timeline, how it is
    expressed, the costs, the partitions it leaves, whether the return is allowed, warnings,
    alternatives and assumptions (every string from outside shown as plain text)."""
    made = plan.made_at
    body: list[RenderableType] = []
    grid = RichTable(expand=False, show_edge=False, box=None, padding=(0, 2, 0, 0))
    grid.add_column("")
    for head in ("now", "peak", "after"):
        grid.add_column(head, justify="right")
    for key in sorted({*plan.before, *plan.peak, *plan.after}):
        cells = [plan.before.get(key), plan.peak.get(key), plan.after.get(key)]
        grid.add_row(_dimension_unit(key), *("—" if c is None else f"{c:,}" for c in cells))
    body += [grid, Text("")]
    timeline = RichTable(
        title="timeline", title_justify="left", title_style="bold", show_header=False,
        show_edge=False, box=None, padding=(0, 2, 0, 0), expand=False,
    )  # fmt: skip
    timeline.add_column("when", style="dim", no_wrap=True)
    timeline.add_column("what")
    for step in plan.timeline:
        timeline.add_row(
            f"  {fmt_time(step.at, made)}",
            _plain(step.what, style="bold" if step.kind in ("send", "return") else ""),
        )
    body.append(timeline)
    body += [Text(""), _plain(f"how: {_HOW.get(plan.how, plan.how)}")]
    for target in plan.registers:
        body.append(
            _plain(
                f"  register {target.resource_id} {target.dimension} "
                f"min {target.min_capacity:,} max {target.max_capacity:,}",
                style="dim",
            )
        )
    for action in plan.actions:
        bounds = " ".join(
            f"{word} {value:,}"
            for word, value in (("min", action.min_capacity), ("max", action.max_capacity))
            if value is not None
        )
        body.append(_plain(f"  {action.name} {action.schedule} {bounds}", style="dim"))
    for reshard in plan.reshards:
        body.append(
            _plain(f"  {reshard.phase} to {reshard.shards} shards at {fmt_time(reshard.at, made)}")
        )
    if plan.warm is not None:
        body.append(_plain(f"  pre-warm to {_warm(plan.warm)}", style="dim"))
    if plan.costs:
        body.append(Text(""))
        costs = RichTable(
            title="cost over the event", title_justify="left", show_edge=False, expand=False
        )
        costs.add_column("")
        costs.add_column("USD", justify="right")
        costs.add_column("served", justify="right")
        costs.add_column("", style="dim")
        for cost in plan.costs:
            costs.add_row(
                _plain(cost.label),
                "unknown" if cost.usd is None else f"${cost.usd:,.2f}",
                "" if cost.served is None else f"{cost.served:.2%}",
                _plain(cost.note),
            )
        body.append(costs)
    body.append(Text(""))
    parts = Text(f"partitions {plan.partitions_before} → {plan.partitions_after}")
    if plan.partitions_after > plan.partitions_before:
        parts.append(" (added for good: they never merge)", style="yellow")
    if plan.per_partition_after_return is not None:
        parts.append(f" · after the return {_pp(plan.per_partition_after_return)} each")
    body.append(parts)
    verdict = Text("return: ", style="bold")
    verdict.append(
        "allowed" if plan.return_allowed else "NOT allowed",
        style="green" if plan.return_allowed else "bold red",
    )
    if plan.return_note:
        verdict.append(" — ")
        verdict.append(printable(plan.return_note))
    body.append(verdict)
    if plan.warnings:
        body.append(Text(""))
        for warning in plan.warnings:
            body.append(_plain(f"⚠ {warning.message}", style="yellow"))
    if plan.alternatives:
        body.append(Text(""))
        for alternative in plan.alternatives:
            body.append(_plain(f"alternative: {alternative}", style="cyan"))
    body.append(Text(""))
    for assumption in plan.assumptions:
        body.append(_plain(f"· {assumption}", style="dim"))
    if plan.price_book:
        body.append(_plain(f"· prices: {plan.price_book}", style="dim"))
    return Panel(
        Group(*body),
        title=_title(f"event {plan.event_id}", plan.label),
        subtitle=f"at {made:%Y-%m-%d %H:%M} UTC · nothing has changed yet",
        border_style="cyan",
    )
