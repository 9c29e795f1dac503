"""The layer contracts in pyproject.toml ([tool.importlinter]) hold, and each of them can fail.

``lint-imports`` (import-linter) checks them on the static import graph; CI runs it too.  The
second test copies the sources into a temporary ``capcon`` namespace, adds one module that
breaks one contract, and checks that the contract then fails, naming that module: a contract
that cannot fail would pass silently forever.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def contract_ids() -> list[str]:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    return [contract["id"] for contract in config["tool"]["importlinter"]["contracts"]]


def lint_imports(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_contract_holds() -> None:
    done = lint_imports(cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    ids = contract_ids()
    assert len(ids) >= 9
    kept = re.search(r"Contracts: (\d+) kept, (\d+) broken\.", done.stdout)
    assert kept is not None, done.stdout
    assert (int(kept[1]), int(kept[2])) == (len(ids), 0)


def test_errors_is_a_leaf_when_it_runs() -> None:
    """Every layer may raise capcon's errors, so importing them loads no other capcon module
    (the contract leaves TYPE_CHECKING imports out; this checks that no other import hides)."""
    script = (
        "import sys, capcon.core.errors\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('capcon'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["capcon", "capcon.core", "capcon.core.errors"]


#: One module per contract that breaks it: {contract id: {file in the copy: its source}}.
BREAKERS: dict[str, dict[str, str]] = {
    # the rule book importing a higher layer
    "core-layers": {"core/rules/_breaker.py": "import capcon.core.services.scaler\n"},
    "core-acyclic": {
        "core/services/_breaker.py": "import capcon.core.services._breaker_back\n",
        "core/services/_breaker_back.py": "import capcon.core.services._breaker\n",
    },
    "core-no-ui": {"core/rules/_breaker.py": "import rich.text\n"},
    "planning-is-pure": {"core/planning/_breaker.py": "import capcon.core.config.prices\n"},
    "backends-apart": {"core/backends/sim/_breaker.py": "import capcon.core.backends.aws\n"},
    "aws-sdk-in-the-adapter": {"core/services/_breaker.py": "import botocore.exceptions\n"},
    "console-without-cli": {"tui/console/_breaker.py": "import capcon.tui.cli.main\n"},
    "cli-without-console": {"tui/cli/_breaker.py": "import capcon.tui.console.theming\n"},
    "tui-acyclic": {
        "tui/console/_breaker.py": "import capcon.tui.console._breaker_back\n",
        "tui/console/_breaker_back.py": "import capcon.tui.console._breaker\n",
    },
}


def test_every_contract_has_a_breaker() -> None:
    assert sorted(BREAKERS) == sorted(contract_ids())


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sources under a temporary ``capcon`` namespace, where every contract holds.

    lint-imports puts its working directory first on ``sys.path``, so run from this folder it
    finds the copy's capcon.core, capcon.tui and capcon.themes before the installed ones.
    """
    folder = tmp_path_factory.mktemp("contracts")
    for package in ("core", "tui", "themes"):
        shutil.copytree(
            ROOT / package,
            folder / "capcon" / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "data", "samples"),
        )
    done = lint_imports(str(PYPROJECT), cwd=folder)
    assert done.returncode == 0, done.stdout + done.stderr
    return folder


@pytest.mark.parametrize("contract", sorted(BREAKERS))
def test_a_contract_fails_when_its_rule_is_broken(contract: str, copy: Path) -> None:
    added = [copy / "capcon" / name for name in BREAKERS[contract]]
    try:
        for path, source in zip(added, BREAKERS[contract].values(), strict=True):
            path.write_text(source, encoding="utf-8")
        done = lint_imports(str(PYPROJECT), "--contract", contract, cwd=copy)
    finally:
        for path in added:
            path.unlink(missing_ok=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Contracts: 0 kept, 1 broken." in done.stdout
    assert "_breaker" in done.stdout  # the copy was checked, and the added module is named
