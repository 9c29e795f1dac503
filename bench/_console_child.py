"""A console started the way ``capcon`` starts it, instrumented for the benchmarks.

    python bench/_console_child.py --t0 EPOCH [--headless] [--history-hours H]
        [--report FILE] [--profile FILE] -- demo --scenario fleet:1000,200

Runs ``capcon.tui.cli.main`` with the arguments after ``--`` (so config, themes, the
scenario and :class:`CapconApp` are made by the real code) with two hooks:

- ``build_scenario`` is timed (and given ``history`` when ``--history-hours`` is set:
  ``capcon demo`` builds ``fleet:N,M`` without history);
- with ``--headless``, ``CapconApp.run`` is replaced by ``run_test(size=(160, 50))``, polling
  ``ResourceList.row_count`` through ``pilot.pause`` until the first row shows, then
  quitting.

The report (JSON) gives seconds since ``--t0`` (the parent's ``time.time()`` just before it
started this process, so interpreter start-up counts) for each phase.
"""

from __future__ import annotations

import time

SCRIPT_START = time.time()

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from datetime import timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--t0", type=float, default=SCRIPT_START)
    parser.add_argument("--headless", action="store_true")
    parser.add_argument("--history-hours", type=float)
    parser.add_argument("--report", type=Path)
    parser.add_argument("--profile", type=Path, help="pyinstrument HTML/text of start-up")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("capcon_args", nargs="*")
    args = parser.parse_args()
    t0 = args.t0
    phases: dict[str, Any] = {"script_start": SCRIPT_START - t0, "epoch_script_start": SCRIPT_START}

    profiler: Any = None
    if args.profile:
        from pyinstrument import Profiler  # optional: pip install pyinstrument to profile

        profiler = Profiler(interval=0.001)
        profiler.start()

    from capcon.core.backends.sim import scenarios
    from capcon.core.backends.sim.account import SimAccount
    from capcon.core.services.feed import Feed
    from capcon.tui.cli import main as cli
    from capcon.tui.console.app import CapconApp
    from capcon.tui.console.widgets.resource_list import ResourceList

    phases["imports_done"] = time.time() - t0
    real_build = scenarios.build_scenario

    def build(*a: Any, **kw: Any) -> Any:
        started = time.time()
        if args.history_hours is not None:
            kw["history"] = timedelta(hours=args.history_hours)
        account = real_build(*a, **kw)
        phases["build_scenario_start"] = started - t0
        phases["build_scenario_seconds"] = time.time() - started
        return account

    scenarios.build_scenario = build

    # Phase marks: the first Feed.refresh (in the poll thread) and the first paint.
    real_refresh = Feed.refresh

    def refresh(self: Feed, *a: Any, **kw: Any) -> Any:
        started = time.time()
        snapshot = real_refresh(self, *a, **kw)
        if "first_refresh_start" not in phases:
            phases["first_refresh_start"] = started - t0
            phases["first_refresh_seconds"] = time.time() - started
        return snapshot

    Feed.refresh = refresh  # type: ignore[method-assign]
    real_tick = SimAccount.tick

    def tick(self: SimAccount, real_seconds: float) -> int:
        started = time.time()
        due = real_tick(self, real_seconds)
        if "first_tick_start" not in phases:
            phases["first_tick_start"] = started - t0
            phases["first_tick_seconds"] = time.time() - started
            phases["first_tick_sim_seconds"] = due
        return due

    SimAccount.tick = tick  # type: ignore[method-assign]
    real_paint = CapconApp._paint_table

    def paint(self: CapconApp, *, top: bool = False) -> None:
        started = time.time()
        real_paint(self, top=top)
        if "first_paint_start" not in phases and self.snapshot is not None:
            phases["first_paint_start"] = started - t0
            phases["first_paint_seconds"] = time.time() - started
            if args.report and not args.headless:
                args.report.write_text(json.dumps(phases))

    CapconApp._paint_table = paint  # type: ignore[method-assign]

    def report() -> None:
        if profiler is not None:
            profiler.stop()
            args.profile.write_text(profiler.output_text(unicode=True, color=False))
        text = json.dumps(phases)
        if args.report:
            args.report.write_text(text)
        else:
            print(text)

    if args.headless:

        async def drive(app: CapconApp) -> None:
            phases["app_run_start"] = time.time() - t0
            async with app.run_test(size=(160, 50)) as pilot:
                phases["mounted"] = time.time() - t0
                table = app.query_one(ResourceList)
                deadline = time.monotonic() + args.timeout
                while table.row_count < 1 and time.monotonic() < deadline:
                    await pilot.pause(0.005)
                phases["first_row"] = time.time() - t0 if table.row_count else None
                phases["rows"] = table.row_count
                await pilot.pause()  # the frame with the rows rendered
                phases["first_frame"] = time.time() - t0
                report()
                app.exit()

        def run_headless(self: CapconApp, *a: Any, **kw: Any) -> None:
            asyncio.run(drive(self))

        CapconApp.run = run_headless  # type: ignore[method-assign,assignment]
    else:
        real_run = CapconApp.run

        def run_tty(self: CapconApp, *a: Any, **kw: Any) -> Any:
            phases["app_run_start"] = time.time() - t0
            if args.report:
                args.report.write_text(json.dumps(phases))
            return real_run(self, *a, **kw)

        CapconApp.run = run_tty  # type: ignore[method-assign,assignment]
    return cli.main(args.capcon_args)


if __name__ == "__main__":
    sys.exit(main())
