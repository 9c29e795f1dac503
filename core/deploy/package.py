"""The scaler Lambda's code package: the handler's import closure, zipped the same every time.

Lambda's Python runtime ships boto3 and botocore, so the package holds only capcon's own code
the handler needs, found from the code itself (:func:`import_closure` reads every ``import``
of every module it reaches, including those inside functions, leaving out ``if
TYPE_CHECKING:`` blocks), plus the package data those modules read through
``importlib.resources.files(...).joinpath(...)`` (capcon's dated price book).  A module of the
closure that reaches the console (``capcon.tui``, ``capcon.themes``, ``textual``, ``rich``,
``plotext``, ``platformdirs``) or any third-party package other than boto3/botocore is refused
by name, with the chain of imports that reached it: the Lambda would fail on its first event.

The zip is laid out as the wheel installs it: ``capcon/core/...`` with ``capcon`` a PEP 420
namespace package (no ``capcon/__init__.py``).  Entries are sorted and carry a fixed timestamp
and fixed permissions, so the same code gives the same bytes (and the same S3 key digest) on
every build.  No ``.pyc`` files: they depend on the interpreter building the package and
``marshal`` output is not guaranteed to be reproducible.
"""

from __future__ import annotations

import ast
import hashlib
import io
import sys
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from capcon.core.errors import CapconError

#: The module Lambda imports and the function it calls (the template's ``Handler``).
HANDLER_MODULE = "capcon.core.deploy.handler"
PACKAGE_HANDLER = f"{HANDLER_MODULE}.handler"
#: The namespace every module of the package lives in, and the portion packaged.
NAMESPACE = "capcon"
CORE = "capcon.core"
#: Third-party packages the Lambda runtime provides (AWS's Python runtimes include the SDK).
RUNTIME_PACKAGES = frozenset({"boto3", "botocore"})
#: Named in the error when reached: the console's packages, never wanted on Lambda.
UI_PACKAGES = frozenset(
    {"capcon.tui", "capcon.themes", "textual", "rich", "plotext", "textual_plotext"}
)
#: Standard-library modules Python 3.12 and 3.13 removed (PEP 594's "dead batteries",
#: distutils, imp, asyncore …): the building interpreter may still have them, the Lambda
#: runtime (python3.14 in the template) does not.
REMOVED_FROM_STDLIB = frozenset(
    {
        "aifc", "asynchat", "asyncore", "audioop", "cgi", "cgitb", "chunk", "crypt",
        "distutils", "imghdr", "imp", "lib2to3", "mailcap", "msilib", "nis", "nntplib",
        "ossaudiodev", "pipes", "smtpd", "sndhdr", "spwd", "sunau", "telnetlib", "uu",
        "xdrlib",
    }
)  # fmt: skip
#: A zip entry's fixed timestamp (the earliest a zip can hold) and permissions (rw-r--r--).
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
ZIP_MODE = 0o100644
COMPRESS_LEVEL = 9
#: Names a module may call to read package data (``importlib.resources.files``).
_RESOURCE_CALLS = frozenset({"files"})


class PackageError(CapconError):
    """The handler's code cannot be packaged for Lambda; names the module and why."""


@dataclass(frozen=True, slots=True)
class Closure:
    """The capcon modules a root reaches (name → source file), the data files they read
    (zip path → file) and, for each module, the module that first imported it."""

    modules: dict[str, Path]
    data: dict[str, Path]
    reached_from: dict[str, str]

    def chain(self, module: str) -> str:
        """``a → b → module``: how the roots reached ``module``."""
        names = [module]
        while names[-1] in self.reached_from:
            names.append(self.reached_from[names[-1]])
        return " → ".join(reversed(names))


def core_root() -> Path:
    """The directory ``capcon.core`` is imported from (this file is ``core/deploy/``)."""
    return Path(__file__).parent.parent


def _source(module: str, root: Path) -> Path | None:
    """The file of ``capcon.core``'s ``module`` (a package's ``__init__.py``), if it exists."""
    if module != CORE and not module.startswith(CORE + "."):
        return None
    base = root.joinpath(*module.split(".")[2:])
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    file = base.with_suffix(".py")
    return file if base.name and file.is_file() else None


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _type_checking(test: ast.expr) -> bool:
    """``if TYPE_CHECKING:`` or ``if typing.TYPE_CHECKING:``."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk_runtime(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of ``tree`` except the bodies of ``if TYPE_CHECKING:`` (their ``else``
    runs, so it is kept)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _type_checking(node.test):
            stack.extend(reversed(node.orelse))
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    package = module if is_package else module.rpartition(".")[0]
    parts = package.split(".")
    if level - 1 >= len(parts):
        raise PackageError(f"{module}: a relative import goes above the top package")
    base = ".".join(parts[: len(parts) - (level - 1)])
    return f"{base}.{target}" if target else base


@dataclass(frozen=True, slots=True)
class _Imports:
    names: tuple[str, ...]  # modules imported: each must exist
    candidates: tuple[str, ...]  # ``from a import b``'s ``a.b``: a module only if one exists
    data: tuple[tuple[str, tuple[str, ...]], ...]  # (package, path parts) read as resources


def _imports(module: str, path: Path) -> _Imports:
    """What ``module`` imports at run time (every candidate name: ``from a import b`` gives
    ``a`` and ``a.b``, which counts only if it is a module) and the resources it reads."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (SyntaxError, ValueError) as error:
        raise PackageError(f"{module} ({path}) cannot be parsed: {error}") from None
    names: list[str] = []
    candidates: list[str] = []
    data: list[tuple[str, tuple[str, ...]]] = []
    followed: set[int] = set()  # files(...) calls seen under their .joinpath(...)
    calls: list[ast.Call] = []
    for node in _walk_runtime(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _resolve_relative(module, _is_package(path), node.level, node.module)
            else:
                base = node.module or ""
            names.append(base)
            candidates += [f"{base}.{alias.name}" for alias in node.names if alias.name != "*"]
        elif isinstance(node, ast.Call):
            calls.append(node)
            read = _resource_read(module, node)
            if read is not None:
                data.append(read)
                followed.add(id(node.func.value))  # type: ignore[attr-defined]
    for call in calls:
        if _is_files_call(call) and id(call) not in followed:
            raise PackageError(
                f"{module} (line {call.lineno}) reads package data in a way the package "
                'cannot follow: write it as files("capcon.core…").joinpath("dir", '
                '"file") with literal strings, so the file is shipped to Lambda'
            )
    return _Imports(tuple(names), tuple(candidates), tuple(data))


def _resource_read(module: str, call: ast.Call) -> tuple[str, tuple[str, ...]] | None:
    """``files("pkg").joinpath("a", "b")`` → ``("pkg", ("a", "b"))``; ``None`` for any other
    call.  A package or path that is not a literal string is refused (the package could not
    know which file to ship)."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "joinpath"):
        return None
    inner = func.value
    if not (isinstance(inner, ast.Call) and _is_files_call(inner)):
        return None
    arguments = [*inner.args, *call.args]
    literal = [a.value for a in arguments if isinstance(a, ast.Constant)]
    if (
        len(literal) != len(arguments)
        or inner.keywords
        or call.keywords
        or not all(isinstance(v, str) for v in literal)
        or len(literal) < 2
    ):
        raise PackageError(
            f"{module} (line {call.lineno}) reads package data from a path that is not "
            "written out: use files(...).joinpath(...) with literal strings, so the package "
            "knows which file to ship"
        )
    package, *parts = (str(v) for v in literal)
    return package, tuple(parts)


def _is_files_call(call: ast.Call) -> bool:
    func = call.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    return name in _RESOURCE_CALLS


def _top_level(name: str) -> str:
    return name.partition(".")[0]


def _forbidden(name: str) -> str | None:
    """Why ``name`` may not be reached from the handler, or ``None`` if it may."""
    for ui in UI_PACKAGES:
        if name == ui or name.startswith(ui + "."):
            return "part of the console, not of the engine"
    top = _top_level(name)
    if top == NAMESPACE:
        if name in (NAMESPACE, CORE) or name.startswith(CORE + "."):
            return None
        return "not part of capcon.core"
    if top in REMOVED_FROM_STDLIB:
        return "removed from the standard library by Python 3.13 (Lambda runs a newer Python)"
    if top in RUNTIME_PACKAGES or top in sys.stdlib_module_names:
        return None
    return "a third-party package the Lambda runtime does not have (only boto3 and botocore)"


def import_closure(roots: Iterable[str], root: Path | None = None) -> Closure:
    """Every capcon module ``roots`` import at run time, transitively, with their parent
    packages and the data files they read.  Raises :class:`PackageError` naming the module
    (and the chain of imports to it) for anything the Lambda must not or cannot import."""
    base = core_root() if root is None else root
    modules: dict[str, Path] = {}
    data: dict[str, Path] = {}
    reached_from: dict[str, str] = {}
    pending: list[str] = []
    for name in roots:
        if _source(name, base) is None:
            raise PackageError(f"{name} is not a module of capcon.core (looked in {base})")
        pending.append(name)
    closure = Closure(modules, data, reached_from)

    def reach(name: str, by: str, *, required: bool = True) -> None:
        why = _forbidden(name)
        if why is not None:
            raise PackageError(
                f"the Lambda package cannot include {name}: {why} (imported by "
                f"{closure.chain(by)}); capcon.core must reach only the standard library, "
                "boto3 and botocore from the handler"
            )
        if _top_level(name) != NAMESPACE or name in modules or name in pending:
            return
        if name == NAMESPACE:
            return
        if _source(name, base) is None:
            if required and name != CORE:
                raise PackageError(
                    f"{closure.chain(by)} imports {name}, which is not in capcon.core "
                    f"(no such module under {base})"
                )
            return  # ``from a import b`` where b is a name, not a module
        reached_from.setdefault(name, by)
        pending.append(name)

    while pending:
        name = pending.pop()
        if name in modules:
            continue
        path = _source(name, base)
        if path is None:  # only roots get here unchecked, and they were checked
            raise PackageError(f"{name}: no source file under {base}")
        modules[name] = path
        parent = name.rpartition(".")[0]
        if parent and parent != NAMESPACE:
            reach(parent, name)  # importing a module runs its packages' __init__ first
        found = _imports(name, path)
        for imported in found.names:
            if imported != "__future__":
                reach(imported, name)
        for candidate in found.candidates:
            if not candidate.startswith("__future__."):
                reach(candidate, name, required=False)
        for package, parts in found.data:
            _add_data(name, package, parts, base, data)
    return closure


def _add_data(
    module: str, package: str, parts: Sequence[str], root: Path, data: dict[str, Path]
) -> None:
    folder = _source(package, root)
    if folder is None or not _is_package(folder):
        raise PackageError(f"{module} reads data of {package!r}, not a package of capcon.core")
    if any(part in ("", ".", "..") or "/" in part or "\\" in part for part in parts):
        raise PackageError(f"{module} reads package data through an odd path {parts!r}")
    file = folder.parent.joinpath(*parts)
    if not file.is_file():
        raise PackageError(f"{module} reads {'/'.join(parts)} of {package}: no such file {file}")
    data["/".join([*package.split("."), *parts])] = file


def zip_entries(closure: Closure) -> dict[str, Path]:
    """The zip's entries (path inside the zip → file): each module's source as the wheel lays
    it out, ``capcon/core/…``, and the data files."""
    entries: dict[str, Path] = {}
    for name, path in closure.modules.items():
        parts = name.split(".")
        inside = [*parts, "__init__.py"] if _is_package(path) else [*parts[:-1], f"{parts[-1]}.py"]
        entries["/".join(inside)] = path
    entries.update(closure.data)
    return entries


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the permissions below are read
            info.external_attr = ZIP_MODE << 16
            archive.writestr(info, entries[name], compresslevel=COMPRESS_LEVEL)
    return buffer.getvalue()


def build_package(roots: Sequence[str] = (HANDLER_MODULE,), root: Path | None = None) -> bytes:
    """The Lambda code package (zip bytes) for ``roots`` (the handler module by default): the
    same bytes for the same code on every build.  Raises :class:`PackageError` naming what
    cannot be packaged."""
    closure = import_closure(roots, root)
    contents: dict[str, bytes] = {}
    for name, path in zip_entries(closure).items():
        try:
            contents[name] = path.read_bytes()
        except OSError as error:
            raise PackageError(f"cannot read {path} for {name}: {error.strerror}") from None
    return _zip(contents)


def package_digest(package: bytes) -> str:
    """A short, stable name for a package's content (for the S3 key ``deploy apply`` uses)."""
    return hashlib.sha256(package).hexdigest()[:16]
