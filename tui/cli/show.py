"""``capcon show NAME``: one table, GSI (``TABLE/INDEX``) or stream in depth.

What cannot be read besides the resource (auto scaling, activities, metrics) is shown as
unknown, each notice goes to stderr and the exit code is 4 (partial)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from capcon.core.errors import CapconError
from capcon.core.jsonable import to_jsonable
from capcon.core.model import StreamWarmThroughput, TableClass, Throughput
from capcon.core.ports import ReplicaAutoScaling
from capcon.core.rules import RuleSettings, fmt_on_demand_max, near_on_demand_max
from capcon.core.services.inspect import HOT_SHARD, show_document
from capcon.tui.bootstrap import Session
from capcon.tui.cli.output import EXIT_OK, EXIT_PARTIAL, console, print_json
from capcon.tui.text import printable, warm_text


def run(args: argparse.Namespace, session: Session) -> int:
    books = session.books
    doc = show_document(
        session.backend, session.origin.backend, args.name, books.rules, books.prices
    )
    add_replica_auto_scaling(doc, session.backend)
    if args.json:
        print_json(doc)
    else:
        print_document(doc, args.name, session.books.rules)
    for notice in doc["notices"]:
        print(f"capcon: notice: {printable(notice['text'])}", file=sys.stderr)
        print(f"  {printable(notice['detail'])}", file=sys.stderr)
    return EXIT_PARTIAL if doc["notices"] else EXIT_OK


def print_document(doc: dict[str, Any], name: str, rules: RuleSettings | None = None) -> None:
    """The document as text (every value from the backend escaped)."""
    rules = rules or RuleSettings()
    from capcon.tui.text import markup_safe as escape

    out = console()
    out.print(f"[b]{doc['kind']} {escape(name)}[/b] · {escape(doc['backend'])} · {doc['at']}")
    if doc["kind"] == "stream":
        resource = doc["resource"]
        out.print(
            f"mode {resource['mode']} · status {escape(resource['status'])} · retention "
            f"{resource['retention_hours']} h · {len(doc['open_shards'])} open shards"
        )
        for line in stream_lines(resource, doc.get("account")):
            out.print(escape(line))
        for line in cost_lines(doc.get("cost")):
            out.print(escape(line))
        for shard in doc["open_shards"]:
            load = shard["write_utilisation"]
            hot = " [bold red]HOT[/]" if load is not None and load >= HOT_SHARD else ""
            out.print(
                f"  {escape(shard['shard_id'])}  {shard['key_space_share']:6.1%} of keys  "
                + ("load ?" if load is None else f"load {load:5.0%}")
                + hot
            )
        _metrics(doc["metrics_last_hour"])
        return
    _table_class_and_replicas(doc)
    for part in doc["parts"]:
        est = part["partitions_estimate"]
        budget = part["decrease_budget"]
        out.print(
            f"\n[b]{escape(part['part'])}[/b]: capacity {_capacity(part['capacity'])} · "
            f"partitions ~{est['count']} (estimate, from {est['basis']}) · decreases left "
            f"today {budget['left_today']} · next decrease {part['next_decrease']}"
        )
        for line, marked in warm_and_limit_lines(doc, part, rules):
            out.print(f"  [yellow]⚠ {escape(line)}[/]" if marked else f"  {escape(line)}")
        aas = part["auto_scaling"]
        if not aas["known"]:
            out.print("  AAS unknown (auto scaling could not be read)")
        if aas["targets"]:
            for target in aas["targets"]:
                out.print(
                    f"  AAS {escape(target['dimension'])}: min {target['min_capacity']} max "
                    f"{target['max_capacity']}" + (" (suspended)" if target["suspended"] else "")
                )
            for policy in aas["policies"]:
                out.print(
                    f"  policy {escape(policy['name'])}: {escape(policy['policy_type'])} target "
                    f"{policy['target_value']}%"
                )
            for trap in aas["traps"]:
                out.print(f"  [yellow]⚠ {escape(trap)}[/]")
            for note in aas.get("notes", ()):
                out.print(f"  · {escape(note)}")
            for activity in (aas["activities"] or [])[:5]:
                out.print(
                    f"  {activity['start'][11:16]} {escape(activity['status'])}: "
                    f"{escape(activity['description'])} — {escape(activity['cause'])}"
                )
        _metrics(part["metrics_last_hour"])


def _part_json(doc: dict[str, Any], part: str) -> dict[str, Any]:
    """The table's (``part`` "table") or a GSI's JSON in the document's resource."""
    resource = doc.get("resource") or {}
    if part == "table" and doc.get("kind") == "table":
        return dict(resource)
    for index in resource.get("indexes") or []:
        if index.get("name") == part:
            return dict(index)
    return {}


def warm_and_limit_lines(
    doc: dict[str, Any], part: dict[str, Any], rules: RuleSettings
) -> list[tuple[str, bool]]:
    """Warm throughput, a backfill, the on-demand maximum and, marked, consumption near it
    (the peak minute of the last hour: docs/aws-rules.md#on-demand-maximums)."""
    lines: list[tuple[str, bool]] = []
    fields = _part_json(doc, part["part"])
    warm = fields.get("warm")
    if warm:
        lines.append(
            (
                f"warm throughput {warm['read_units_per_second']:,} read / "
                f"{warm['write_units_per_second']:,} write units/s (served instantly)",
                False,
            )
        )
    if fields.get("backfilling"):
        lines.append(("CREATING and backfilling: its capacity can be updated", False))
    raw_limit = fields.get("on_demand_max")
    limit = Throughput(raw_limit["read"], raw_limit["write"]) if raw_limit else None
    if limit is not None:
        lines.append((f"on-demand maximum: {fmt_on_demand_max(limit)}", False))
        stats = part.get("metrics_last_hour") or {}

        def peak(key: str) -> float | None:
            value = (stats.get(key) or {}).get("max_per_second")
            return value if isinstance(value, int | float) else None

        label = part["part"]
        lines += [
            (message, True)
            for message in near_on_demand_max(label, peak("m_cr"), peak("m_cw"), limit, rules)
        ]
    return lines


def stream_lines(resource: dict[str, Any], account: dict[str, Any] | None) -> list[str]:
    """Consumers, On-demand Advantage, warm throughput and the account's quotas, as text."""
    advantage = {True: "yes", False: "no", None: "unknown"}[resource.get("on_demand_advantage")]
    lines = [
        f"enhanced fan-out consumers {resource.get('consumer_count', 0)} · On-demand Advantage "
        f"{advantage}"
    ]
    warm = resource.get("warm_throughput")
    if warm is not None:
        lines.append(
            "warm throughput "
            + warm_text(StreamWarmThroughput(warm.get("target_mibps"), warm.get("current_mibps")))
        )
    if account is None:
        lines.append("account quotas unknown (DescribeLimits could not be read)")
    else:
        lines.append(
            f"account: {account['open_shards']:,} open shards of a quota of "
            f"{account['shard_quota']:,} ({account['shard_quota_source']})"
        )
        streams = account["on_demand_streams"]
        lines.append(
            f"on-demand streams {'?' if streams is None else f'{streams:,}'} of "
            f"{account['on_demand_streams_quota']:,}"
        )
    return lines


def cost_lines(cost: dict[str, Any] | None) -> list[str]:
    """A stream's cost an hour at the last hour's traffic, its parts and assumptions."""
    if cost is None:
        return []
    if cost["per_hour"] is None:
        lines = [f"cost unknown: {cost['why']}"]
    else:
        parts = ", ".join(f"{label} ${amount:,.4f}" for label, amount in cost["breakdown"])
        lines = [f"cost ${cost['per_hour']:,.4f}/h (${cost['per_month']:,.2f} a month): {parts}"]
    return lines + [f"  · {note}" for note in cost["notes"]]


def add_replica_auto_scaling(doc: dict[str, Any], backend: object) -> None:
    """A global table's replica auto scaling (``DescribeTableReplicaAutoScaling``) in
    ``doc["replica_auto_scaling"]``: ``None`` with a notice when it cannot be read."""
    resource = doc.get("resource") or {}
    if doc.get("kind") == "stream" or not resource.get("replicas"):
        return
    if not isinstance(backend, ReplicaAutoScaling):
        doc["replica_auto_scaling"] = None
        return
    action = "dynamodb:DescribeTableReplicaAutoScaling"
    try:
        found = backend.describe_table_replica_auto_scaling(resource["name"])
    except CapconError as error:
        doc["replica_auto_scaling"] = None
        doc["notices"].append(
            {
                "text": f"{action}: replica auto scaling not shown",
                "action": action,
                "problem": type(error).__name__,
                "detail": str(error),
            }
        )
        return
    doc["replica_auto_scaling"] = to_jsonable(found)


def _scaling_words(scaling: dict[str, Any] | None) -> str:
    if scaling is None:
        return "none"
    if scaling["disabled"]:
        return "disabled"
    target = f" target {scaling['target']:g}%" if scaling["target"] is not None else ""
    return f"min {scaling['minimum']} max {scaling['maximum']}{target}"


def _table_class_and_replicas(doc: dict[str, Any]) -> None:
    """The table class and, for a global table, each replica region with its status, class,
    read capacity and auto scaling (every value from the backend escaped)."""
    from capcon.tui.text import markup_safe as escape

    out = console()
    resource = doc["resource"]
    own = TableClass(resource["table_class"])
    out.print(f"table class {own.label}")
    replicas = resource.get("replicas") or []
    if not replicas:
        return
    out.print(
        f"global table ({escape(str(resource.get('global_table_version') or 'version ?'))}): "
        f"{len(replicas)} other region(s); write capacity is the same in every region"
    )
    scaling = {s["region"]: s for s in doc.get("replica_auto_scaling") or []}
    for replica in replicas:
        cls = TableClass(replica["table_class"]) if replica["table_class"] else own
        reads = (
            f"{replica['read_override']:,} RCU (override)"
            if replica["read_override"] is not None
            else "the table's RCU"
        )
        line = (
            f"  {escape(replica['region'])}: {escape(replica['status'])} · {cls.label} · "
            f"reads {reads}"
        )
        found = scaling.get(replica["region"])
        if found is not None:
            line += (
                f" · auto scaling writes {_scaling_words(found['write'])}, reads "
                f"{_scaling_words(found['read'])}"
            )
        elif "replica_auto_scaling" in doc and doc["replica_auto_scaling"] is None:
            line += " · auto scaling unknown"
        out.print(line)


def _capacity(capacity: dict[str, int] | None) -> str:
    """A part's provisioned capacity as ``R RCU / W WCU`` (``None``: on-demand)."""
    if capacity is None:
        return "on-demand"
    return f"{capacity['read']:,} RCU / {capacity['write']:,} WCU"


#: The last hour's series of ``show``, in words and units (ids of
#: :func:`capcon.core.services.overview.table_queries` / ``stream_queries``).
METRIC_WORDS: dict[str, tuple[str, str]] = {
    "m_cr": ("consumed reads", "RCU"),
    "m_cw": ("consumed writes", "WCU"),
    "m_tr": ("throttled reads", "requests"),
    "m_tw": ("throttled writes", "requests"),
    "m_b": ("incoming bytes", "bytes"),
    "m_r": ("incoming records", "records"),
    "m_t": ("writes throttled", "records"),
    "m_o": ("read by consumers", "bytes"),
}


def metric_lines(stats: dict[str, Any] | None) -> list[str]:
    """The last hour's metrics as aligned lines: what, mean and peak per second, the minutes
    with data and the newest one (no internal ids; ``--json`` keeps those)."""
    if stats is None:
        return ["metrics unknown (could not be read)"]
    if not stats:
        return ["no metrics in the last hour"]
    rows: list[tuple[str, str, str, str, str]] = []
    order = [k for k in METRIC_WORDS if k in stats] + sorted(
        k for k in stats if k not in METRIC_WORDS
    )
    for key in order:
        found = stats.get(key) or {}
        label, unit = METRIC_WORDS.get(key, (str(key), ""))

        def rate(value: object, unit: str = unit) -> str:
            if not isinstance(value, int | float):
                return "–"
            if unit == "bytes":
                return _bytes_rate(float(value))
            return f"{value:,.1f} {unit}/s".rstrip()

        newest = found.get("newest")
        rows.append(
            (
                label,
                rate(found.get("mean_per_second")),
                rate(found.get("max_per_second")),
                str(found.get("datapoints", 0)),
                f"{str(newest)[11:16]} UTC"
                if isinstance(newest, str) and len(newest) >= 16
                else "–",
            )
        )
    head = ("last hour", "mean", "peak", "minutes", "newest")
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(5)]
    out = []
    for row in (head, *rows):
        cells = [row[0].ljust(widths[0])] + [row[i].rjust(widths[i]) for i in range(1, 5)]
        out.append("  ".join(cells).rstrip())
    return out


def _bytes_rate(value: float) -> str:
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if value >= size:
            return f"{value / size:,.1f} {unit}/s"
    return f"{value:,.0f} B/s"


def _metrics(stats: dict[str, Any] | None) -> None:
    from capcon.tui.text import markup_safe as escape

    for line in metric_lines(stats):
        console().print(f"  {escape(line)}")
