"""One core, installed as ``capcon.*``: the folders refuse to be imported under their own
names, and the files shipped with the package are found through ``importlib.resources``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from capcon.core.config.prices import DEFAULT_PRICES_PATH, load_price_book
from capcon.core.config.schema import read_toml
from capcon.tui.console.theming import BUILTIN_THEME_FILES, THEMES_DIR

ROOT = Path(__file__).resolve().parents[2]


def run_at_root(code: str) -> subprocess.CompletedProcess[str]:
    """``python -c code`` with the repository root as the working directory (and so first
    on ``sys.path``), where ``import core`` would find the folder."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("folder", ["core", "tui", "themes"])
def test_importing_a_folder_by_its_own_name_fails_naming_the_package(folder: str) -> None:
    done = run_at_root(f"import {folder}")
    assert done.returncode != 0
    assert "ImportError" in done.stderr
    assert f"import capcon.{folder}" in done.stderr, done.stderr


def test_a_submodule_by_the_folder_name_fails_too() -> None:
    """``import core.model`` once loaded a second core silently
    (``core.model.Table is capcon.core.model.Table`` was False)."""
    done = run_at_root("import core.model")
    assert done.returncode != 0
    assert "import capcon.core" in done.stderr, done.stderr


def test_the_installed_packages_still_import_from_the_root() -> None:
    done = run_at_root("import capcon.core.model, capcon.tui.cli.main, capcon.themes; print('ok')")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_default_prices_are_a_real_file_read_through_importlib_resources() -> None:
    # messages name str(DEFAULT_PRICES_PATH): it must be a file someone can open
    assert DEFAULT_PRICES_PATH.name == "prices.toml"
    assert Path(str(DEFAULT_PRICES_PATH)).is_file()
    assert "regions" in read_toml(DEFAULT_PRICES_PATH)
    assert load_price_book("us-east-1").wcu_hour > 0


def test_built_in_themes_are_real_files_read_through_importlib_resources() -> None:
    for stem in BUILTIN_THEME_FILES:
        path = THEMES_DIR.joinpath(f"{stem}.toml")
        assert Path(str(path)).is_file(), path
