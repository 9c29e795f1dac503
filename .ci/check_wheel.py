"""Check a built wheel: every source file of core/, tui/ and themes/ is inside it under
capcon/, with its package data, and nothing installs as a generic top-level module."""

from __future__ import annotations

import pathlib
import sys
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = {"core": "capcon/core", "tui": "capcon/tui", "themes": "capcon/themes"}
SHIPPED_SUFFIXES = {".py", ".tcss", ".toml", ".json", ".typed"}


def expected_files() -> set[str]:
    wanted: set[str] = set()
    for folder, target in PACKAGES.items():
        for path in (ROOT / folder).rglob("*"):
            if (
                path.is_file()
                and path.suffix in SHIPPED_SUFFIXES
                and "__pycache__" not in path.parts
            ):
                wanted.add(f"{target}/{path.relative_to(ROOT / folder).as_posix()}")
    return wanted


def main() -> int:
    wheel = pathlib.Path(sys.argv[1])
    names = set(zipfile.ZipFile(wheel).namelist())
    problems = [f"missing from the wheel: {name}" for name in sorted(expected_files() - names)]
    tops = {name.split("/", 1)[0] for name in names}
    stray = sorted(t for t in tops if t != "capcon" and not t.endswith(".dist-info"))
    problems += [f"unexpected top-level entry in the wheel: {t}" for t in stray]
    if problems:
        print("\n".join(problems))
        return 1
    print(f"{wheel.name}: {len(names)} files, all {len(expected_files())} package files present")
    return 0


if __name__ == "__main__":
    sys.exit(main())
