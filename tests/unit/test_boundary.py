"""The core is pure: no UI anywhere in it, and no AWS SDK outside its AWS adapter
(``capcon.core.backends.aws``, the one imperative shell that talks to boto3), checked at run
time and in the source."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

CORE_DIR = Path(__file__).resolve().parents[2] / "core"

#: Top-level packages the core must never import (the UI side of the boundary).
UI_PACKAGES = frozenset({"textual", "rich", "plotext", "textual_plotext"})
#: capcon packages above the core.
UI_CAPCON = ("capcon.tui", "capcon.themes")
#: The network side: the core never talks to AWS.
AWS_PACKAGES = frozenset({"boto3", "botocore", "moto"})


def loaded_after(code: str) -> list[str]:
    """Module names in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    script = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    modules: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return modules


def forbidden_loaded(modules: list[str], packages: frozenset[str]) -> list[str]:
    return sorted(
        m
        for m in modules
        if m.split(".")[0] in packages or any(m == p or m.startswith(p + ".") for p in UI_CAPCON)
    )


IMPORT_ALL_CORE = textwrap.dedent(
    """
    import importlib, pkgutil
    import capcon.core
    names = [
        m.name
        for m in pkgutil.walk_packages(capcon.core.__path__, "capcon.core.")
        if not m.name.startswith("capcon.core.backends.aws")
    ]
    assert names, "no modules found in capcon.core"
    for name in names:
        importlib.import_module(name)
    """
)


def test_importing_every_core_module_loads_no_ui() -> None:
    modules = loaded_after(IMPORT_ALL_CORE)
    # the modules really were imported, so the check below means something
    for name in (
        "model",
        "planning.planner",
        "rules",
        "rules.dynamodb",
        "pricing",
        "planning.reshard",
        "jsonable",
    ):
        assert f"capcon.core.{name}" in modules
    assert forbidden_loaded(modules, UI_PACKAGES) == []


def test_importing_every_core_module_loads_no_aws_sdk() -> None:
    modules = loaded_after(IMPORT_ALL_CORE)
    for name in ("backends.sim.account", "backends.sim.tables", "services.scaler", "services.feed"):
        assert f"capcon.core.{name}" in modules  # subpackages are imported too
    assert forbidden_loaded(modules, AWS_PACKAGES) == []


def test_the_aws_adapter_loads_no_ui() -> None:
    modules = loaded_after("import capcon.core.backends.aws.adapter")
    assert "boto3" in modules  # it really is the adapter
    assert forbidden_loaded(modules, UI_PACKAGES) == []


def test_importing_the_planner_does_not_import_boto3() -> None:
    modules = loaded_after("import capcon.core.planning.planner")
    assert "capcon.core.planning.planner" in modules
    assert [m for m in modules if m.split(".")[0] in {"boto3", "botocore"}] == []
    assert forbidden_loaded(modules, UI_PACKAGES) == []


def test_the_runtime_check_can_fail() -> None:
    """The subprocess check sees a UI import when there is one (``capcon.tui`` uses rich)."""
    modules = loaded_after("import capcon.tui.render")
    assert "rich" in forbidden_loaded(modules, UI_PACKAGES)
    assert "capcon.tui.render" in forbidden_loaded(modules, UI_PACKAGES)


# --------------------------------------------------------------------------------------------
# Static check: no import of the UI in any file under core/
# --------------------------------------------------------------------------------------------


def _resolve(node: ast.ImportFrom, module_path: str) -> str:
    """The absolute module an ``ImportFrom`` names (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    package = module_path.split(".")[: -node.level]
    return ".".join([*package, *([node.module] if node.module else [])])


def forbidden_imports(source: str, module_path: str) -> list[str]:
    """Every import in ``source`` (anywhere, also inside functions) of a forbidden module.

    The UI is forbidden everywhere in the core; the AWS SDK everywhere but the adapter.
    """
    adapter = module_path == "capcon.core.backends.aws" or module_path.startswith(
        "capcon.core.backends.aws."
    )
    banned = UI_PACKAGES if adapter else UI_PACKAGES | AWS_PACKAGES
    found: list[str] = []

    def check(name: str, line: int) -> None:
        if name.split(".", maxsplit=1)[0] in banned or any(
            name == p or name.startswith(p + ".") for p in UI_CAPCON
        ):
            found.append(f"line {line}: {name}")

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                check(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, module_path)
            check(base, node.lineno)
            for alias in node.names:  # from capcon import tui
                check(f"{base}.{alias.name}", node.lineno)
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in {"import_module", "__import__"} and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    check(first.value, node.lineno)
    return found


def core_files() -> list[Path]:
    files = sorted(CORE_DIR.rglob("*.py"))
    assert files, f"no Python files under {CORE_DIR}"
    return files


@pytest.mark.parametrize("path", core_files(), ids=lambda p: p.relative_to(CORE_DIR).as_posix())
def test_core_source_imports_no_ui(path: Path) -> None:
    relative = path.relative_to(CORE_DIR).with_suffix("")
    module = ".".join(["capcon", "core", *relative.parts])  # __init__ kept: a module path
    assert forbidden_imports(path.read_text(encoding="utf-8"), module) == []


@pytest.mark.parametrize(
    "snippet",
    [
        "import rich",
        "import rich.console as c",
        "from textual.app import App",
        "import plotext",
        "from textual_plotext import PlotextPlot",
        "from capcon.tui.render import render_plan",
        "from capcon import tui",
        "from ...tui import cli",
        "import boto3",
        "def f():\n    from rich.text import Text\n    return Text",
        "import importlib\nimportlib.import_module('textual')",
        "__import__('rich')",
    ],
)
def test_the_static_check_can_fail(snippet: str) -> None:
    assert forbidden_imports(snippet, "capcon.core.planning.planner") != []


@pytest.mark.parametrize(
    "snippet",
    [
        "from capcon.core.model import Table",
        "from . import model",
        "from .rules import RuleSettings",
        "import richer_stats",
        "import textwrap",
    ],
)
def test_the_static_check_allows_the_core(snippet: str) -> None:
    assert forbidden_imports(snippet, "capcon.core.planning.planner") == []
