"""Bad input from the user, for every front end: the CLI prints ``capcon: error: ...`` and
exits with code 2; the composition root raises it for a bad flag, config file or scenario."""

from __future__ import annotations


class UsageError(Exception):
    """Bad input from the user; the message names what was wrong and what is allowed."""
