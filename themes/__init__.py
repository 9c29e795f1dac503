"""capcon's built-in console themes (TOML files read with ``importlib.resources``).

This folder installs as the package ``capcon.themes`` (``pyproject.toml`` maps it there).  Imported
under any other name — ``import themes`` from the repository root — it would be a second,
silent copy of capcon whose classes are not the installed ones, so it refuses.
"""

if __name__ != "capcon.themes":
    raise ImportError(
        f"{__name__!r} is the folder themes/ imported under the wrong name: import capcon.themes"
        " (installed by `pip install -e .`), never themes",
        name=__name__,
    )
