"""Running ``capcon`` in-process in a test: its exit code, stdout and stderr."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from capcon.tui.cli.main import main


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def document(self) -> Any:
        """stdout as exactly one JSON value (json.loads refuses trailing data)."""
        return json.loads(self.out)

    def __iter__(self) -> Iterator[Any]:
        """``code, out, err = run(...)``."""
        return iter((self.code, self.out, self.err))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    """``capcon ARGV`` in this process; argparse's own exits are caught as exit codes."""
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse errors exit from inside parse_args
        code = exit_.code if isinstance(exit_.code, int) else 1
    out, err = capsys.readouterr()
    return Run(code, out, err)
