"""The scale dialog proposes the capacity that serves demand (consumed + throttled) at a
target utilisation the user can change, and F2 (or the button) puts it in the inputs."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.app import App
from textual.widgets import Input, Static

from capcon.core.config.prices import load_price_book
from capcon.core.model import HashRange, Index, Shard, Stream, Table, Throughput
from capcon.core.planning.planner import PlanContext, Refusal, ScalePlan, StreamTraffic, Usage
from capcon.core.rules import RuleSettings
from capcon.tui.console.modals.scale import ScaleModal

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


class Host(App[None]):
    def __init__(self, modal: ScaleModal) -> None:
        super().__init__()
        self.modal = modal

    def on_mount(self) -> None:
        self.push_screen(self.modal)


def modal_for(index: str | None = None) -> ScaleModal:
    table = Table(
        "orders",
        provisioned=Throughput(50, 100),
        indexes=(Index("by_user", provisioned=Throughput(10, 110)),),
    )
    context = PlanContext(
        usage={
            None: Usage(30.0, 100.0, throttled_write=66.0),
            "by_user": Usage(2.0, 100.0),
        }
    )
    return ScaleModal(table, index, context, RuleSettings(), load_price_book("us-east-1"), now=NOW)


def text_of(modal: ScaleModal, selector: str) -> str:
    return str(modal.query_one(selector, Static).render())


async def test_the_dialog_proposes_capacity_for_demand_and_f2_fills_it_in() -> None:
    modal = modal_for()
    app = Host(modal)
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.pause()
        shown = text_of(modal, "#proposal")
        assert "166 WCU/s (100 consumed + 66 throttled)" in shown
        assert "43 RCU / 238 WCU" in shown  # ceil(30 / 0.7), ceil(166 / 0.7)

        # typing 120 WCU: the plan says it is below demand
        modal.query_one("#wcu", Input).value = "120"
        await pilot.pause()
        assert isinstance(modal.result, ScalePlan)
        assert "below-demand" in [w.code for w in modal.result.warnings]
        # the preview names the price book's date and source (render_plan shows assumptions)
        assert any(a.startswith("Prices as of 2024-11-01 from") for a in modal.result.assumptions)

        await pilot.press("f2")
        await pilot.pause()
        assert modal.query_one("#rcu", Input).value == "43"
        assert modal.query_one("#wcu", Input).value == "238"
        assert isinstance(modal.result, ScalePlan)
        assert modal.result.parts[0].after == Throughput(43, 238)
        assert "below-demand" not in [w.code for w in modal.result.warnings]

        # a target of 50 %: 60 RCU / 332 WCU, and the button fills it in
        modal.query_one("#target", Input).value = "50"
        await pilot.pause()
        assert "60 RCU / 332 WCU" in text_of(modal, "#proposal")
        await pilot.click("#propose")
        await pilot.pause()
        assert modal.query_one("#wcu", Input).value == "332"
        # the GSI that receives every write would get 100 × 166 / 100 = 166 > 110 WCU
        assert isinstance(modal.result, ScalePlan)
        assert "gsi-would-throttle" in [w.code for w in modal.result.warnings]


async def test_a_bad_target_says_what_is_allowed_and_proposes_nothing() -> None:
    modal = modal_for("by_user")
    app = Host(modal)
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.pause()
        assert "index orders/by_user" in text_of(modal, "#proposal")
        for bad, says in (("abc", "not a number"), ("0", "outside 1–100"), ("nan", "outside")):
            modal.query_one("#target", Input).value = bad
            await pilot.pause()
            assert says in text_of(modal, "#proposal")
            assert modal.proposal is None
        await pilot.press("f2")
        await pilot.pause()
        assert modal.query_one("#wcu", Input).value == "110"  # unchanged


async def test_a_stream_dialog_proposes_open_shards() -> None:
    half = 2**127
    stream = Stream(
        "clicks",
        shards=(
            Shard("shardId-0", HashRange(0, half - 1)),
            Shard("shardId-1", HashRange(half, 2**128 - 1)),
        ),
    )
    traffic = StreamTraffic(200_000.0, 2_000.0, throttled_records_per_second=1_500.0)
    modal = ScaleModal(
        stream,
        None,
        PlanContext(stream_traffic=traffic),
        RuleSettings(),
        load_price_book("us-east-1"),
        now=NOW,
    )
    async with Host(modal).run_test(size=(120, 50)) as pilot:
        await pilot.pause()
        # (2,000 + 1,500) / 1,000 / 0.7 = 5 open shards
        assert "5 open shards (now 2)" in text_of(modal, "#proposal")
        await pilot.press("f2")
        await pilot.pause()
        assert modal.query_one("#shards", Input).value == "5"
        # more than double: the plan is AWS's refusal, with the way there
        assert isinstance(modal.result, Refusal)
        assert "reach 5 in several steps" in modal.result.violations[0].message
