"""Print one of the two commands README.md starts with: `demo` (first) or `test` (second).

CI runs the README's own test command instead of a copy of it, so the README stays true.
"""

from __future__ import annotations

import pathlib
import sys


def readme_commands(readme: pathlib.Path) -> list[str]:
    """The shell commands of the first fenced block of the README, one per line."""
    lines = readme.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("```"))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("```"))
    return [line for line in lines[start + 1 : end] if line.strip()]


def main() -> int:
    which = sys.argv[1] if len(sys.argv) > 1 else "test"
    commands = readme_commands(pathlib.Path(__file__).resolve().parent.parent / "README.md")
    if len(commands) != 2:
        print(f"README.md must start with exactly two commands, found {len(commands)}")
        return 1
    print(commands[0] if which == "demo" else commands[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
