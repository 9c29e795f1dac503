"""The composition root: the parsed flags and the user's config make one :class:`Session`.

Everything the CLI commands and the console share is decided here, once: the backend (the
AWS adapter or the simulated account), its region and origin, the price and rule books, the
audit sink, whether the session is read-only, and how time passes.  Nothing else builds a
backend or loads the books.

Read-only is ``--read-only`` given before or after the command, or ``read_only = true`` in
``config.toml``: any one of them is enough, and nothing can switch it off again.  The
session's scaler (:meth:`Session.scaler`) refuses every change in a read-only session; the
CLI and the console also do not offer them.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from capcon.core.backends.sim.clock import SpeedError, check_speed
from capcon.core.config.paths import audit_path
from capcon.core.config.prices import load_price_book
from capcon.core.config.rules import load_rule_settings
from capcon.core.config.schema import SettingsError
from capcon.core.config.settings import (
    Config,
    ConfigError,
    config_dir,
    effective_profile,
    is_production,
    load_config,
)
from capcon.core.ports import Backend, SimulationControls
from capcon.core.pricing import PriceBook
from capcon.core.redact import MALFORMED, redact_optional, redact_url
from capcon.core.rules import RuleSettings
from capcon.core.services.audit import AuditLog, AuditLogError, Origin
from capcon.core.services.reconcile import Reconciler
from capcon.core.services.scaler import Scaler
from capcon.tui.errors import UsageError
from capcon.tui.text import markup_safe, printable

if TYPE_CHECKING:
    from capcon.tui.console.app import CapconApp


@dataclass(frozen=True)
class Books:
    """The rule book and the price book a session plans and prices with."""

    rules: RuleSettings
    prices: PriceBook


@dataclass(frozen=True)
class Session:
    """An open backend with everything the commands and the console need around it."""

    backend: Backend
    origin: Origin
    region: str
    books: Books
    audit: AuditLog
    read_only: bool
    """No change is offered, and the session's scaler refuses every one."""
    wait: Callable[[float], None]
    """How the session lets time pass: a real sleep on AWS, the simulated clock otherwise."""
    config: Config
    profile: str | None = None
    """The AWS profile boto3 uses (``--profile``, ``$AWS_PROFILE`` or ``default``); ``None``
    on the simulated account."""
    controls: SimulationControls | None = None
    """The simulated account's clock and exact knowledge; ``None`` on AWS."""
    update_seconds: int | None = None
    """How long a capacity update takes, when the backend says (the simulated account)."""
    metric_delay_seconds: int | None = None
    """How late metrics are published, when the backend says (the simulated account)."""
    notices: tuple[str, ...] = ()
    """What opening the session found to say (changes left open, reconciled)."""

    def scaler(self, *, poll_seconds: float = 5.0) -> Scaler:
        """The core scaler for this session: its backend, audit log, origin, clock and
        read-only switch."""
        return Scaler(
            self.backend,
            self.audit,
            self.origin,
            wait=self.wait,
            read_only=self.read_only,
            poll_seconds=poll_seconds,
        )


def user_config() -> Config:
    """``config.toml`` (defaults when there is none); a bad file is a usage error."""
    try:
        return load_config()
    except ConfigError as error:
        raise UsageError(str(error)) from None


def open_audit() -> AuditLog:
    """The audit log every session writes to (``$XDG_STATE_HOME/capcon/audit.jsonl``)."""
    return AuditLog(audit_path())


def load_books(args: argparse.Namespace, region: str, config: Config) -> Books:
    """Rule settings and prices: defaults, then ``rules.toml`` / ``prices.toml`` in the config
    folder, then the files ``config.toml`` names, then ``--rules`` / ``--prices``."""
    rules_file = (
        getattr(args, "rules", None)
        or _path(config.rules_file)
        or _existing(config_dir() / "rules.toml")
    )
    prices_file = (
        getattr(args, "prices", None)
        or _path(config.prices_file)
        or _existing(config_dir() / "prices.toml")
    )
    try:
        return Books(load_rule_settings(rules_file), load_price_book(region, prices_file))
    except SettingsError as error:
        raise UsageError(str(error)) from None


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _existing(path: Path) -> Path | None:
    return path if path.is_file() else None


def read_only(args: argparse.Namespace, config: Config) -> bool:
    """``--read-only`` anywhere on the command line, or ``read_only = true`` in the config."""
    return bool(getattr(args, "read_only", False)) or config.read_only


def scenario(args: argparse.Namespace) -> str | None:
    """The simulated scenario: ``demo --scenario S``, else ``--sim S``; ``None``: AWS."""
    if getattr(args, "command", None) == "demo":
        return getattr(args, "scenario", None) or getattr(args, "sim", None) or "demo"
    sim: str | None = getattr(args, "sim", None)
    return sim


def check_endpoint(url: str) -> None:
    """A usage error (named redacted: it may hold a password) unless ``url`` is an http(s)
    URL with a host, which is all botocore takes without raising."""
    shown = redact_url(url)
    if shown == MALFORMED:
        raise UsageError(f"--endpoint-url: {MALFORMED}")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--endpoint-url {shown}: not an http:// or https:// URL with a host")


def check_region(region: str, *, endpoint: bool) -> None:
    """A usage error naming ``region`` (from ``--region``, ``AWS_REGION`` or the profile) and
    how to list the valid ones, unless botocore knows it or an endpoint URL is given."""
    from capcon.core.backends.aws.regions import region_problem

    problem = region_problem(region, endpoint=endpoint)
    if problem:
        raise UsageError(f"{printable(problem)} (from --region, AWS_REGION or your profile)")


def sim_start() -> datetime:
    """When a simulated account starts: now, on the minute (the demo's traffic follows the
    time of day).  The tests pin it, so that a result never depends on when they run."""
    return datetime.now(UTC).replace(second=0, microsecond=0)


def open_session(
    args: argparse.Namespace, config: Config | None = None, *, announce: bool = True
) -> Session:
    """The simulated account (``--sim``, ``demo``) or AWS through the standard boto3 chain,
    with the books, the audit log and read-only from the flags and ``config``.

    On AWS the changes left open in the audit log are reconciled first
    (:func:`reconcile_open_changes`); what that finds is in ``Session.notices`` and, with
    ``announce``, printed on stderr (the console shows it as notifications instead)."""
    config = user_config() if config is None else config
    audit = open_audit()
    sim = scenario(args)
    if sim:
        # looked up when called, so a benchmark can time the scenario build
        from capcon.core.backends.sim import scenarios

        try:
            account = scenarios.build_scenario(sim, sim_start())
        except scenarios.ScenarioError as error:
            raise UsageError(str(error)) from None

        def advance(seconds: float) -> None:
            account.advance(max(1, round(seconds)))

        return Session(
            account,
            Origin("simulated", f"sim:{sim}", region=account.region),
            account.region,
            load_books(args, account.region, config),
            audit,
            read_only(args, config),
            advance,
            config,
            controls=account.controls,
            update_seconds=account.settings.update_seconds,
            metric_delay_seconds=account.settings.metric_delay_seconds,
        )
    from capcon.core.backends.aws.adapter import AwsAdapter
    from capcon.core.backends.aws.session import AwsSession

    profile = getattr(args, "profile", None)
    endpoint = getattr(args, "endpoint_url", None)
    if endpoint:
        check_endpoint(endpoint)
    aws = AwsSession(profile=profile, region=getattr(args, "region", None), endpoint_url=endpoint)
    check_region(aws.region, endpoint=bool(endpoint))
    adapter = AwsAdapter(aws)
    # botocore gets the URL as given; everything that names it (titles, the audit log) gets it
    # redacted (adapter.label already is).
    origin = Origin(
        aws.identity(),
        adapter.label,
        profile=profile,
        region=aws.region,
        endpoint=redact_optional(endpoint),
    )
    session = Session(
        adapter,
        origin,
        aws.region,
        load_books(args, aws.region, config),
        audit,
        read_only(args, config),
        time.sleep,
        config,
        profile=effective_profile(profile),
    )
    notices = reconcile_open_changes(session)
    if announce:
        for notice in notices:
            print(f"capcon: {notice}", file=sys.stderr)
    return replace(session, notices=tuple(notices))


def reconcile_open_changes(session: Session) -> list[str]:
    """Reconcile the changes this account left open in the audit log (a read-only session
    reads and reports without writing); one line per change, escaped for a terminal."""
    try:
        found = Reconciler(session.backend, session.audit, session.origin).run(
            write=not session.read_only
        )
    except AuditLogError as error:
        return [f"changes left open cannot be checked: {printable(str(error))}"]
    lines: list[str] = []
    for item in found:
        what = f"change {item.change_id} ({item.summary}), left as {item.left_as}"
        if item.verdict is None:
            lines.append(printable(f"{what}: {item.message}"))
        elif session.read_only:
            lines.append(printable(f"{what}: {item.message} (read-only: not recorded)"))
        else:
            lines.append(printable(f"{what}: reconciled as {item.verdict}: {item.message}"))
    return lines


# --------------------------------------------------------------------------------------------
# The console
# --------------------------------------------------------------------------------------------


def console_speed(args: argparse.Namespace) -> float:
    speed: float = getattr(args, "speed", None) or 60.0
    try:
        check_speed(speed)
    except SpeedError as error:
        raise UsageError(str(error)) from None
    return speed


def build_console(session: Session, *, speed: float = 60.0) -> CapconApp:
    """The console on ``session``: its backend, books, audit log and read-only switch, with
    the config's polling, theme and production profiles."""
    from capcon.tui.console.app import CapconApp, ConsoleOptions
    from capcon.tui.console.theming import builtin_themes, resolve_theme_name, user_themes

    config = session.config
    themes = builtin_themes()
    extra, warnings = user_themes(config_dir() / "themes")
    themes += extra
    name, warning = resolve_theme_name(config.theme, [t.name for t in themes])
    if warning:
        warnings.append(warning)
    options = ConsoleOptions(
        polling=config.polling(),
        sim_refresh_seconds=config.sim_refresh_seconds,
        read_only=session.read_only,
        production=is_production(config, session.profile),
        profile=session.profile,
        confirm_factor=config.confirm_factor,
        theme=name,
        sort=config.sort,
        sim_speed=speed,
    )
    return CapconApp(
        session.backend,
        session.origin,
        session.books.rules,
        session.books.prices,
        session.audit,
        options,
        controls=session.controls,
        themes=themes,
        theme_warnings=warnings + [markup_safe(notice) for notice in session.notices],
    )


def console_from_args(args: argparse.Namespace) -> CapconApp:
    """The console ``capcon [--sim] …`` or ``capcon demo …`` opens (not yet running)."""
    config = user_config()
    speed = console_speed(args)
    # A moto server or botocore may log through the root logger: never onto the screen.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("botocore").setLevel(logging.ERROR)
    return build_console(open_session(args, config, announce=False), speed=speed)


def run_console(args: argparse.Namespace) -> int:
    """Open the console on AWS, or on the simulated account (``--sim``, ``demo``)."""
    app = console_from_args(args)
    app.options.stop_signals = True  # SIGTERM/SIGHUP: close as `q` does, outcomes recorded
    app.run()
    return app.return_code or 0  # 128 + n when a signal closed it
