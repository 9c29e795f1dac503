"""Screenshots for a class: the screen as an SVG in a folder that exists, said where.

Textual's own "Screenshot" command saves to ``~/Downloads`` and says only "Failed to save
screenshot" where that folder does not exist.  The console and the lab bind a key to
:func:`save_screenshot` instead: the folder is ``$CAPCON_SCREENSHOT_DIR`` when set, else
``screenshot_dir`` in ``config.toml``, else ``screenshots`` in capcon's state folder
(beside the audit log: ``~/.local/state/capcon``), made if missing; the notification names
the file, or says in words why it could not be written.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from textual.app import App

from capcon.core.config.paths import state_dir

#: The environment variable that chooses the folder (a path; ``~`` is expanded).
SCREENSHOT_DIR_ENV = "CAPCON_SCREENSHOT_DIR"


def screenshot_dir(configured: Path | None = None) -> Path:
    """Where screenshots go: ``configured`` (given to the app), else
    ``$CAPCON_SCREENSHOT_DIR``, else ``screenshot_dir`` in ``config.toml`` (relative to its
    folder), else ``screenshots`` in capcon's state folder.  The config file is read here,
    when a screenshot is taken, so the console and the lab both follow it; a config file
    that cannot be read was already refused at start-up, and here means the default."""
    if configured is not None:
        return configured.expanduser()
    env = os.environ.get(SCREENSHOT_DIR_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    from capcon.core.config.settings import ConfigError, config_dir, load_config

    try:
        key = load_config().screenshot_dir
    except (ConfigError, OSError):
        key = None
    if key:
        return config_dir() / Path(key).expanduser()  # an absolute path stays as it is
    return state_dir() / "screenshots"


def save_screenshot(app: App[Any], folder: Path, *, now: datetime | None = None) -> Path:
    """The app's screen saved as ``<title>-<time>.svg`` in ``folder`` (made if missing);
    ``OSError`` when it cannot be written."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S-%f")
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in (app.title or "capcon"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}-{stamp}.svg"
    # write it ourselves: App.save_screenshot's failure is a bare exception with no path
    path.write_text(app.export_screenshot(), encoding="utf-8")
    return path.resolve()


def screenshot_action(app: App[Any], configured: Path | None = None) -> Path | None:
    """What the screenshot key does: save, and say where (or why not) in a notification."""
    from capcon.tui.text import markup_safe

    folder = screenshot_dir(configured)
    try:
        path = save_screenshot(app, folder)
    except OSError as error:
        reason = error.strerror or str(error)
        app.notify(
            markup_safe(f"screenshot not saved: cannot write to {folder} ({reason})"),
            title="screenshot",
            severity="error",
            timeout=10,
        )
        return None
    app.notify(markup_safe(f"screenshot saved: {path}"), title="screenshot", timeout=8)
    return path
