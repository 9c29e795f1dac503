"""capcon's core: the model, the rule book, planning, policies, services and the two
backends (AWS and the simulated account), with no UI.

This folder installs as the package ``capcon.core`` (``pyproject.toml`` maps it there).  Imported
under any other name — ``import core`` from the repository root — it would be a second,
silent copy of capcon whose classes are not the installed ones, so it refuses.
"""

if __name__ != "capcon.core":
    raise ImportError(
        f"{__name__!r} is the folder core/ imported under the wrong name: import capcon.core"
        " (installed by `pip install -e .`), never core",
        name=__name__,
    )
