"""capcon's terminal side: the CLI and the Textual console over the core.

This folder installs as the package ``capcon.tui`` (``pyproject.toml`` maps it there).  Imported
under any other name — ``import tui`` from the repository root — it would be a second,
silent copy of capcon whose classes are not the installed ones, so it refuses.
"""

if __name__ != "capcon.tui":
    raise ImportError(
        f"{__name__!r} is the folder tui/ imported under the wrong name: import capcon.tui"
        " (installed by `pip install -e .`), never tui",
        name=__name__,
    )
