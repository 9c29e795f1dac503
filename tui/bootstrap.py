"""Start the console: config, themes, backend, then the Textual app."""

from __future__ import annotations

import argparse
import logging

from capcon.core.backends.sim.clock import SpeedError, check_speed
from capcon.tui.cli.live import UsageError, open_session


def run_console(args: argparse.Namespace) -> int:
    """Open the console on AWS, or on the simulated account when ``args.sim`` is set."""
    from capcon.core.config.settings import (
        ConfigError,
        config_dir,
        effective_profile,
        is_production,
        load_config,
    )
    from capcon.tui.cli.main import load_books
    from capcon.tui.console.app import CapconApp, ConsoleOptions
    from capcon.tui.console.theming import builtin_themes, resolve_theme_name, user_themes

    try:
        config = load_config()
    except ConfigError as error:
        raise UsageError(str(error)) from None
    speed = getattr(args, "speed", None) or 60.0
    try:
        check_speed(speed)
    except SpeedError as error:
        raise UsageError(str(error)) from None
    # A moto server or botocore may log through the root logger: never onto the screen.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("botocore").setLevel(logging.ERROR)
    from pathlib import Path

    if getattr(args, "prices", None) is None and config.prices_file:
        args.prices = Path(config.prices_file)
    if getattr(args, "rules", None) is None and config.rules_file:
        args.rules = Path(config.rules_file)
    session = open_session(args)
    books = load_books(args, session.region)
    themes = builtin_themes()
    extra, warnings = user_themes(config_dir() / "themes")
    themes += extra
    name, warning = resolve_theme_name(config.theme, [t.name for t in themes])
    if warning:
        warnings.append(warning)
    profile = (
        None if getattr(args, "sim", None) else effective_profile(getattr(args, "profile", None))
    )
    options = ConsoleOptions(
        polling=config.polling(),
        sim_refresh_seconds=config.sim_refresh_seconds,
        read_only=bool(getattr(args, "read_only", False)) or config.read_only,
        production=is_production(config, profile),
        profile=profile,
        confirm_factor=config.confirm_factor,
        theme=name,
        sim_speed=speed,
    )
    app = CapconApp(
        session.backend,
        session.origin,
        books.rules,
        books.prices,
        session.audit,
        options,
        controls=session.controls,
        themes=themes,
        theme_warnings=warnings,
    )
    app.run()
    return 0
