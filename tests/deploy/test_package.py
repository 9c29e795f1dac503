"""The scaler Lambda's code package: the handler's import closure, computed from the code,
zipped the same every time, and importable in an environment with only boto3 (as Lambda's
Python runtime), where the console's packages are not.
"""

from __future__ import annotations

import io
import json
import textwrap
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from capcon.core.deploy.package import (
    HANDLER_MODULE,
    PACKAGE_HANDLER,
    ZIP_MODE,
    ZIP_TIMESTAMP,
    PackageError,
    build_package,
    core_root,
    import_closure,
)
from tests.support import lambda_venv
from tests.support.aws import create_state_table

#: What the handler imports, for as long as it is not on this branch: the package is then
#: built from these roots (those that exist), so the closure and the venv are still proven.
EXPECTED_ROOTS = (
    "capcon.core.deploy.spec",
    "capcon.core.deploy.alarms",
    "capcon.core.deploy.events",
    "capcon.core.services.engine",
    "capcon.core.services.scaler",
    "capcon.core.services.audit",
    "capcon.core.services.state",
    "capcon.core.services.metrics",
    "capcon.core.backends.aws.adapter",
    "capcon.core.backends.aws.statestore",
    "capcon.core.backends.aws.alarms",
    "capcon.core.config.prices",
    "capcon.core.policies.registry",
    "capcon.core.planning.planner",
    "capcon.core.rules",
    "capcon.core.pricing",
    "capcon.core.ports",
)
HANDLER_EXISTS = (core_root() / "deploy" / "handler.py").is_file()
ROOTS: tuple[str, ...] = (
    (HANDLER_MODULE,)
    if HANDLER_EXISTS
    else tuple(
        r
        for r in EXPECTED_ROOTS
        if (core_root().joinpath(*r.split(".")[2:]).with_suffix(".py")).is_file()
        or (core_root().joinpath(*r.split(".")[2:]) / "__init__.py").is_file()
    )
)
#: Never in the package, and never importable where it runs.
CONSOLE = ("textual", "rich", "plotext", "platformdirs", "capcon.tui", "capcon.themes")


@pytest.fixture(scope="module")
def package() -> bytes:
    return build_package(ROOTS)


def names(package: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        return archive.namelist()


def test_the_handler_is_named_as_lambda_calls_it() -> None:
    from capcon.core.deploy import template

    assert PACKAGE_HANDLER == "capcon.core.deploy.handler.handler"
    assert PACKAGE_HANDLER.rpartition(".")[0] == HANDLER_MODULE
    assert template.HANDLER == PACKAGE_HANDLER  # what the stack's function is told to call


def test_same_bytes_on_every_build(package: bytes) -> None:
    again = build_package(ROOTS)
    assert again == package
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {ZIP_TIMESTAMP}
    assert {i.external_attr >> 16 for i in infos} == {ZIP_MODE}
    assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in infos)


def test_the_wheels_layout_with_only_the_engines_code(package: bytes) -> None:
    listed = names(package)
    assert "capcon/__init__.py" not in listed  # a PEP 420 namespace, as the wheel installs it
    assert all(name.startswith("capcon/core/") for name in listed)
    assert "capcon/core/__init__.py" in listed
    assert "capcon/core/data/prices.toml" in listed  # read by config.prices
    for root in ROOTS:
        parts = root.split(".")
        assert "/".join(parts) + ".py" in listed or "/".join([*parts, "__init__.py"]) in listed, (
            root
        )
    # what the engine never needs: the console, its themes, the simulated account, pricelist
    for absent in ("capcon/tui/", "capcon/themes/", "capcon/core/backends/sim/"):
        assert not any(name.startswith(absent) for name in listed), absent
    assert "capcon/core/config/paths.py" not in listed  # platformdirs lives there
    assert len(package) < 2 * 2**20


def test_every_module_the_package_imports_is_in_it(package: bytes) -> None:
    """The closure is complete: each packaged module's capcon imports resolve inside it."""
    listed = set(names(package))
    closure = import_closure(ROOTS)
    for name in closure.modules:
        parts = name.split(".")
        assert "/".join(parts) + ".py" in listed or "/".join([*parts, "__init__.py"]) in listed


# --------------------------------------------------------------------------------------------
# Refusals, on a small core of made-up modules
# --------------------------------------------------------------------------------------------


def fake_core(tmp_path: Path, handler: str, **modules: str) -> Path:
    """A ``capcon.core`` folder: ``deploy/handler.py`` holding ``handler`` and ``modules``
    (``"services/x"`` → ``services/x.py``); every folder a package."""
    root = tmp_path / "core"
    files = {"deploy/handler": handler, **{k.replace(".", "/"): v for k, v in modules.items()}}
    for name, text in files.items():
        path = root / f"{name}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    for folder in [root, *root.rglob("*")]:
        if folder.is_dir() and not (folder / "__init__.py").exists():
            (folder / "__init__.py").write_text("")
    (root / "data").mkdir()  # package data: a folder, not a package
    return root


@pytest.mark.parametrize(
    ("imported", "named"),
    [
        ("import rich", "rich"),
        ("from textual.app import App", "textual.app"),
        ("import platformdirs", "platformdirs"),
        ("import plotext", "plotext"),
        ("import yaml", "yaml"),  # any third-party package but boto3/botocore
        ("from capcon.tui.text import printable", "capcon.tui.text"),
        ("import capcon.themes", "capcon.themes"),
        ("import imghdr", "imghdr"),  # gone from the runtime's Python (3.13)
    ],
)
def test_a_module_reaching_the_console_or_a_third_party_package_is_refused_by_name(
    tmp_path: Path, imported: str, named: str
) -> None:
    root = fake_core(
        tmp_path,
        "from capcon.core.services import helper\nimport boto3, botocore.config, json\n",
        **{"services.helper": f"def f() -> None:\n    {imported}\n"},
    )
    with pytest.raises(PackageError) as caught:
        build_package(("capcon.core.deploy.handler",), root)
    message = str(caught.value)
    assert f"cannot include {named}:" in message
    # the chain of imports that reached it
    assert "capcon.core.deploy.handler → capcon.core.services.helper" in message


def test_type_checking_imports_are_left_out_and_relative_imports_followed(tmp_path: Path) -> None:
    root = fake_core(
        tmp_path,
        """
        from typing import TYPE_CHECKING
        from . import spec
        from ..services.util import thing
        if TYPE_CHECKING:
            import rich
            from capcon.core.services import only_typed
        else:
            from capcon.core import model
        """,
        **{
            "deploy.spec": "X = 1\n",
            "services.util": "import typing\nif typing.TYPE_CHECKING:\n    import textual\n",
            "services.only_typed": "",
            "model": "",
            "unused": "",
        },
    )
    closure = import_closure(("capcon.core.deploy.handler",), root)
    assert set(closure.modules) == {
        "capcon.core",
        "capcon.core.deploy",
        "capcon.core.deploy.handler",
        "capcon.core.deploy.spec",
        "capcon.core.services",
        "capcon.core.services.util",
        "capcon.core.model",
    }


def test_package_data_is_found_from_the_code_and_an_unreadable_path_refused(
    tmp_path: Path,
) -> None:
    root = fake_core(
        tmp_path,
        "from importlib.resources import files\n"
        'PATH = files("capcon.core").joinpath("data", "table.toml")\n',
    )
    (root / "data" / "table.toml").write_text("x = 1\n")
    (root / "data" / "other.toml").write_text("y = 2\n")
    with zipfile.ZipFile(io.BytesIO(build_package(("capcon.core.deploy.handler",), root))) as z:
        assert "capcon/core/data/table.toml" in z.namelist()
        assert "capcon/core/data/other.toml" not in z.namelist()
        assert z.read("capcon/core/data/table.toml") == b"x = 1\n"
    (root / "deploy" / "handler.py").write_text(
        "from importlib.resources import files\nNAME = 'x'\n"
        'PATH = files("capcon.core").joinpath("data", NAME)\n'
    )
    with pytest.raises(PackageError, match=r"capcon\.core\.deploy\.handler \(line 3\)"):
        build_package(("capcon.core.deploy.handler",), root)
    (root / "deploy" / "handler.py").write_text(
        'from importlib.resources import files\nPATH = files("capcon.core") / "data"\n'
    )
    with pytest.raises(PackageError, match="cannot follow"):
        build_package(("capcon.core.deploy.handler",), root)


def test_an_import_of_a_capcon_module_that_does_not_exist_is_named(tmp_path: Path) -> None:
    root = fake_core(tmp_path, "from capcon.core.services import helper\n",
                     **{"services.helper": "import capcon.core.nowhere\n"})  # fmt: skip
    with pytest.raises(PackageError) as caught:
        build_package(("capcon.core.deploy.handler",), root)
    assert "capcon.core.services.helper imports capcon.core.nowhere" in str(caught.value)
    assert "capcon.core.deploy.handler → capcon.core.services.helper" in str(caught.value)


def test_a_root_that_does_not_exist_is_named(tmp_path: Path) -> None:
    with pytest.raises(PackageError, match=r"capcon\.core\.deploy\.nothing is not a module"):
        build_package(("capcon.core.deploy.nothing",))


# --------------------------------------------------------------------------------------------
# The package in an environment with only boto3
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runtime(
    tmp_path_factory: pytest.TempPathFactory, package: bytes
) -> Iterator[tuple[Path, Path]]:
    where = tmp_path_factory.mktemp("lambda")
    yield lambda_venv.make_runtime(where), lambda_venv.extract(package, where)


IMPORT_CHECK = """
import importlib, json, sys
roots = {roots!r}
for root in roots:
    importlib.import_module(root)
import boto3
missing = {{}}
for name in {console!r}:
    try:
        importlib.import_module(name)
        missing[name] = False
    except ModuleNotFoundError:
        missing[name] = True
import capcon.core
print(json.dumps({{
    "capcon": sorted(m for m in sys.modules if m.startswith("capcon")),
    "core_from": list(capcon.core.__path__),
    "boto3_from": boto3.__file__,
    "not_importable": missing,
    "path": sys.path,
}}))
"""


def test_the_package_imports_with_only_boto3_and_the_console_is_absent(
    runtime: tuple[Path, Path], package: bytes
) -> None:
    python, task = runtime
    done = lambda_venv.run(python, task, IMPORT_CHECK.format(roots=ROOTS, console=CONSOLE))
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout)
    assert seen["not_importable"] == dict.fromkeys(CONSOLE, True)
    assert seen["core_from"] == [str(task / "capcon" / "core")]
    assert "runtime-packages" in seen["boto3_from"]
    assert not any("site-packages" in p and ".venv" in p for p in seen["path"])
    listed = set(names(package))
    for module in seen["capcon"]:  # every module imported came from the package
        parts = module.split(".")
        if module == "capcon":
            continue
        assert "/".join(parts) + ".py" in listed or "/".join([*parts, "__init__.py"]) in listed


def test_the_runtime_holds_boto3_and_what_it_needs() -> None:
    found = lambda_venv.runtime_distributions()
    assert {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six"} <= set(found)
    assert "urllib3" in found
    assert not {"textual", "rich", "platformdirs", "moto"} & set(found)


TICK = """
import json
from capcon.core.deploy.handler import handler
print("RESULT " + json.dumps(handler({"capcon": "tick"}, None)))
"""


@pytest.mark.skipif(not HANDLER_EXISTS, reason="the handler is not on this branch yet")
def test_the_packaged_handler_runs_a_tick_against_moto_with_only_boto3(
    runtime: tuple[Path, Path], url: str, raw: Callable[[str], Any], tmp_path: Path
) -> None:
    """Lambda's way: the packaged ``handler`` called on a scheduled tick, with the settings
    the template puts in its environment, boto3 pointed at moto by ``AWS_ENDPOINT_URL``."""
    from capcon.core.deploy.spec import (
        ENV_DRY_RUN,
        ENV_STATE_TABLE,
        ENV_TOPIC_ARN,
        DeploySpec,
        spec_environment,
    )
    from capcon.core.ports import Scalable

    python, task = runtime
    dynamodb = raw("dynamodb")
    dynamodb.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 5},
    )
    create_state_table(dynamodb, "pkg-state")
    spec = DeploySpec(
        stack="pkg",
        policy="h1",
        target=70,
        managed=(Scalable("orders", "read"), Scalable("orders", "write")),
    )
    (tmp_path / "aws").mkdir()
    for name in ("config", "credentials"):
        (tmp_path / "aws" / name).write_text("")
    env = {
        **spec_environment(spec),
        ENV_DRY_RUN: "true",
        ENV_STATE_TABLE: "pkg-state",
        ENV_TOPIC_ARN: "arn:aws:sns:us-east-1:123456789012:pkg-alarms",
        "AWS_ENDPOINT_URL": url,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": str(tmp_path / "aws" / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws" / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_LAMBDA_FUNCTION_NAME": "pkg-scaler",
    }
    done = lambda_venv.run(python, task, TICK, env)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.rsplit("RESULT ", 1)[1])
    assert result["ok"] is True, result
    assert result["errors"] == []
    said = json.dumps(result["decisions"])
    assert "orders" in said
    assert "Traceback" not in done.stdout + done.stderr
    # the tick saved the policies' state in the stack's table, through boto3 only
    items = dynamodb.scan(TableName="pkg-state")["Items"]
    keys = {item["sk"]["S"] for item in items} | {item["pk"]["S"] for item in items}
    assert any("orders" in key for key in keys), keys
