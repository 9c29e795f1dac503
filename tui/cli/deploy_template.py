"""``capcon deploy`` (see :mod:`capcon.tui.cli.deploy`): being built."""

from __future__ import annotations

import argparse

from capcon.tui.errors import UsageError


def run(args: argparse.Namespace) -> int:
    raise UsageError(f"capcon deploy {args.deploy_command} is not built yet")
