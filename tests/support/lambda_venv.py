"""A Python environment like Lambda's Python runtime: the standard library, boto3 and what
boto3 needs, nothing else; and capcon's code package extracted on ``PYTHONPATH``.

Built fast and offline: ``python -m venv --without-pip`` and one ``.pth`` file naming a folder
of symbolic links to boto3's distributions in the current environment (their import packages
and ``.dist-info``), found from the packages' own metadata (``Requires-Dist``, extras left
out), not from a list.  Used by tests/deploy/test_package.py and bench/deploy_cost.py.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import sysconfig
import zipfile
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement

#: What Lambda's Python runtime provides beyond the standard library (AWS: "the runtime
#: includes the AWS SDK for Python (Boto3)").
RUNTIME_ROOT = "boto3"


def runtime_distributions(root: str = RUNTIME_ROOT) -> dict[str, metadata.Distribution]:
    """``root`` and every distribution it requires, transitively (extras and requirements
    whose markers do not hold here are left out), by normalised name."""
    environment = {k: str(v) for k, v in default_environment().items()}
    found: dict[str, metadata.Distribution] = {}
    pending = [root]
    while pending:
        name = pending.pop()
        key = name.lower().replace("_", "-")
        if key in found:
            continue
        dist = metadata.distribution(name)
        found[key] = dist
        for line in dist.requires or []:
            requirement = Requirement(line)
            if requirement.marker is not None and not requirement.marker.evaluate(
                {**environment, "extra": ""}
            ):
                continue
            pending.append(requirement.name)
    return found


def top_level_entries(dist: metadata.Distribution) -> set[Path]:
    """The files and folders ``dist`` installs at the top of site-packages (its import
    packages or modules and its ``.dist-info``)."""
    entries: set[Path] = set()
    for file in dist.files or []:
        first = file.parts[0]
        if first in ("..", "__pycache__") or first.endswith(".pth") or file.parts[0] == "bin":
            continue
        located = Path(str(dist.locate_file(first)))
        if located.exists():
            entries.add(located)
    return entries


def make_runtime(where: Path) -> Path:
    """A venv under ``where`` that sees only the standard library and boto3's distributions;
    returns its ``python``."""
    venv = where / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    links = where / "runtime-packages"
    links.mkdir()
    for dist in runtime_distributions().values():
        for entry in top_level_entries(dist):
            target = links / entry.name
            if not target.exists():
                target.symlink_to(entry)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    Path(purelib, "lambda-runtime.pth").write_text(f"{links}\n")
    assert sysconfig.get_python_version() in purelib  # the venv is this Python's
    return python


def extract(package: bytes, where: Path) -> Path:
    """The code package unzipped as Lambda unzips it into ``/var/task``."""
    task = where / "task"
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        archive.extractall(task)
    return task


def runtime_env(task: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a process in the runtime: ``PYTHONPATH`` is the task folder and
    nothing of the parent's Python settings leaks in; no byte-code is written (``/var/task``
    is read-only on Lambda)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(task.parent),
        "PYTHONPATH": str(task),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
    }
    env.update(extra or {})
    return env


def run(
    python: Path, task: Path, code: str, extra: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``code`` run by the runtime's ``python`` (no user site) with the package on its path."""
    return subprocess.run(
        [str(python), "-s", "-c", code],
        env=runtime_env(task, extra),
        cwd=task.parent,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
