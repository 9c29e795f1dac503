"""Themes are data: TOML files in ``themes/`` (built in) and the user's config directory.

Every file goes through :func:`theme_from_mapping`, which checks it completely before a
:class:`textual.theme.Theme` is made: a typo in a user theme must give a message naming the
file and the problem, never a stack trace or a half-applied theme.  :func:`user_themes`
never raises, so the app can show the messages as notifications and fall back to the
built-in themes (the way the HTTP client "posting" treats user themes).

The console's own colours (consumed, provisioned, throttle, ...) are theme *variables*,
so widgets and ``app.tcss`` refer to ``$throttle`` and never to a hex value.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from textual.color import Color, ColorParseError
from textual.theme import Theme

from capcon.core.config.schema import SettingsError, read_toml
from capcon.core.schema import shown_value

#: Where the built-in theme files live: the package ``capcon.themes`` (``themes/`` here).
THEMES_DIR: Traversable = files("capcon.themes")

#: The built-in themes, in the order the console cycles through them; the first is the default.
BUILTIN_THEME_FILES: tuple[str, ...] = ("dark", "light", "projector", "colorblind")

DEFAULT_THEME = "capcon-dark"

#: Short names accepted in the config file and on the command line.
THEME_ALIASES: dict[str, str] = {
    "dark": "capcon-dark",
    "light": "capcon-light",
    "projector": "capcon-projector",
    "colorblind": "capcon-colorblind",
}

#: The app's own theme variables and their defaults (those of ``capcon-dark``), for
#: ``App.get_theme_variable_defaults``: CSS that names ``$throttle`` parses whatever theme
#: is active.
APP_VARIABLES: dict[str, str] = {
    "consumed": "#4AA3FF",
    "provisioned": "#C3CCDA",
    "throttle": "#FF4F6D",
    "demand": "#C792EA",
    "hot": "#FFB000",
    "ok": "#5FD787",
    "production": "#FF3B3B",
    "updating": "#F5D76E",
}

#: Defaults for a user theme with ``dark = false`` that leaves app variables out: the
#: dark defaults would be too light to read on a light background.  (Those of capcon-light.)
LIGHT_APP_VARIABLES: dict[str, str] = {
    "consumed": "#0B6BCB",
    "provisioned": "#4A5568",
    "throttle": "#C8102E",
    "demand": "#7B3FA0",
    "hot": "#B35900",
    "ok": "#1E7B34",
    "production": "#C8102E",
    "updating": "#7A6000",
}

#: What each app variable colours, for messages and the docs.
VARIABLE_MEANINGS: dict[str, str] = {
    "consumed": "capacity used",
    "provisioned": "capacity provisioned (the ceiling line)",
    "throttle": "throttled requests",
    "demand": "demand (consumed + throttled)",
    "hot": "over 80 % of capacity, hot shards",
    "ok": "healthy values",
    "production": "frame and title for production profiles",
    "updating": "resources in UPDATING",
}

REQUIRED_KEYS: tuple[str, ...] = ("name", "primary", "foreground", "background")
COLOUR_KEYS: tuple[str, ...] = (
    "primary",
    "secondary",
    "accent",
    "warning",
    "error",
    "success",
    "foreground",
    "background",
    "surface",
    "panel",
)
ALLOWED_KEYS: tuple[str, ...] = ("name", "dark", *COLOUR_KEYS, "variables")

#: Textual adds the class ``-theme-<name>`` to the app, so a name must be a CSS identifier.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


class ThemeError(ValueError):
    """A theme file or mapping is not acceptable; the message names the source and problem."""


def _allowed(names: Iterable[str]) -> str:
    return ", ".join(names)


def _parse_colour(value: object, where: str, problems: list[str]) -> str | None:
    """``value`` as ``#RRGGBB``, or ``None`` with the reason appended to ``problems``.

    Anything :meth:`Color.parse` reads is accepted (``#abc``, ``rgb(...)``, ``hsl(...)``,
    CSS names) and normalised to hex, because app variables are also used as Rich styles,
    which know fewer forms.  Transparent and terminal-palette (``ansi_*``) colours are
    refused: Textual derives shades from these colours, which needs a real opaque colour.
    """
    if not isinstance(value, str):
        problems.append(
            f'{where} must be a colour string such as "#1E90FF", got {shown_value(value)}'
        )
        return None
    try:
        colour = Color.parse(value)
    except (ColorParseError, ValueError):
        problems.append(
            f"{where} = {shown_value(value)} is not a colour"
            ' (use "#RRGGBB", "rgb(r, g, b)" or a CSS name)'
        )
        return None
    if colour.ansi is not None:
        problems.append(
            f"{where} = {shown_value(value)}: terminal palette colours are not supported here"
        )
        return None
    if colour.a < 1:
        problems.append(f"{where} = {shown_value(value)}: colours must be opaque (no alpha)")
        return None
    return colour.hex


def theme_from_mapping(data: Mapping[str, object], source: str) -> Theme:
    """A :class:`Theme` from parsed theme data, or :class:`ThemeError` listing every problem.

    Required: ``name``, ``primary``, ``foreground``, ``background``.  Optional: the other
    Textual colours, ``dark`` (inferred from the background's lightness when left out) and a
    ``[variables]`` table of app colours (:data:`APP_VARIABLES`); variables left out take
    the capcon-dark or capcon-light defaults to match ``dark``.  ``source`` (usually the
    file path) starts every message.
    """
    if not isinstance(data, Mapping):
        raise ThemeError(f"{source}: a theme must be a table of keys, got {type(data).__name__}")
    problems: list[str] = []
    missing = [key for key in REQUIRED_KEYS if key not in data]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        problems.append(f"missing required key{plural} {', '.join(map(repr, missing))}")
    for key in data:
        if key not in ALLOWED_KEYS:
            hint = difflib.get_close_matches(str(key), ALLOWED_KEYS, n=1)
            also = f" (did you mean {hint[0]!r}?)" if hint else ""
            problems.append(
                f"unknown key {shown_value(key)}{also}; allowed keys: {_allowed(ALLOWED_KEYS)}"
            )

    name = data.get("name")
    if "name" in data and (not isinstance(name, str) or not _NAME.fullmatch(name)):
        problems.append(
            f"name must be letters, digits, '-' or '_' (at most 64, starting with a letter"
            f" or digit), got {shown_value(name)}"
        )

    colours: dict[str, str] = {}
    for key in COLOUR_KEYS:
        if key in data:
            parsed = _parse_colour(data[key], key, problems)
            if parsed is not None:
                colours[key] = parsed

    dark = data.get("dark")
    if "dark" in data and not isinstance(dark, bool):
        problems.append(f"dark must be true or false, got {shown_value(dark)}")
    if not isinstance(dark, bool):
        background = colours.get("background")
        dark = background is None or Color.parse(background).brightness < 0.5

    variables: dict[str, str] = {}
    raw_variables = data.get("variables", {})
    if not isinstance(raw_variables, Mapping):
        problems.append(
            f"variables must be a table ([variables]) of colours, got {shown_value(raw_variables)}"
        )
        raw_variables = {}
    for key, value in raw_variables.items():
        if key not in APP_VARIABLES:
            hint = difflib.get_close_matches(str(key), APP_VARIABLES, n=1)
            also = f" (did you mean {hint[0]!r}?)" if hint else ""
            problems.append(
                f"unknown variable {shown_value(key)}{also};"
                f" known variables: {_allowed(APP_VARIABLES)}"
            )
            continue
        parsed = _parse_colour(value, f"variables.{key}", problems)
        if parsed is not None:
            variables[key] = parsed

    if problems:
        raise ThemeError(f"{source}: " + "; ".join(problems))
    assert isinstance(name, str)  # checked above: no problems means a valid name
    defaults = APP_VARIABLES if dark else LIGHT_APP_VARIABLES
    return Theme(
        name=name,
        dark=dark,
        primary=colours["primary"],
        secondary=colours.get("secondary"),
        accent=colours.get("accent"),
        warning=colours.get("warning"),
        error=colours.get("error"),
        success=colours.get("success"),
        foreground=colours["foreground"],
        background=colours["background"],
        surface=colours.get("surface"),
        panel=colours.get("panel"),
        variables={**defaults, **variables},
    )


def theme_from_file(path: Path | Traversable) -> Theme:
    """The theme in the TOML file ``path``, or :class:`ThemeError` naming the file.

    TOML syntax errors keep Python's "(at line N, column M)" so the user can find them.
    """
    try:
        data = read_toml(path)
    except SettingsError as error:
        raise ThemeError(str(error)) from None
    return theme_from_mapping(data, str(path))


def builtin_themes() -> list[Theme]:
    """The themes shipped in ``themes/``, default first.

    Raises :class:`ThemeError` if one is broken: that is a packaging bug the tests catch,
    not something a user can cause.
    """
    return [theme_from_file(THEMES_DIR.joinpath(f"{stem}.toml")) for stem in BUILTIN_THEME_FILES]


def reserved_theme_names() -> frozenset[str]:
    """Names a user theme may not take: the built-in names and their short aliases.

    Replacing ``capcon-dark`` would leave no known-good theme to fall back to, and a user
    theme called ``dark`` would silently shadow the alias.
    """
    return frozenset(THEME_ALIASES) | frozenset(THEME_ALIASES.values())


def user_themes(directory: Path) -> tuple[list[Theme], list[str]]:
    """Themes from every ``*.toml`` in ``directory``, and a message for each file skipped.

    Never raises: a missing directory means no user themes; a bad file is skipped and its
    message returned, so the app can notify and carry on with the built-in themes.  Files
    load in name order; a name used twice keeps the first file.
    """
    themes: list[Theme] = []
    messages: list[str] = []
    try:
        if not directory.exists():
            return themes, messages
        if not directory.is_dir():
            return themes, [f"{directory}: is not a directory; no user themes loaded"]
        paths = sorted(directory.glob("*.toml"))
    except OSError as error:
        return themes, [f"{directory}: cannot be read ({error.strerror}); no user themes loaded"]
    reserved = reserved_theme_names()
    seen: dict[str, Path] = {}
    for path in paths:
        try:
            if not path.is_file():
                messages.append(f"{path}: is not a file; skipped")
                continue
            theme = theme_from_file(path)
        except ThemeError as error:
            messages.append(f"{error} — theme skipped")
            continue
        except Exception as error:  # never let a theme file stop the console
            messages.append(f"{path}: cannot be loaded ({error}) — theme skipped")
            continue
        if theme.name in reserved:
            messages.append(
                f"{path}: the name {theme.name!r} belongs to a built-in theme;"
                " choose another name — theme skipped"
            )
            continue
        if theme.name in seen:
            messages.append(
                f"{path}: theme {theme.name!r} is already defined in {seen[theme.name]}"
                " — theme skipped"
            )
            continue
        seen[theme.name] = path
        themes.append(theme)
    return themes, messages


def resolve_theme_name(name: str, available: Iterable[str]) -> tuple[str, str | None]:
    """The theme to use for the requested ``name``, and a warning if it had to fall back.

    ``name`` may be a full theme name or a short alias (``dark``, ``projector``, ...),
    matched without regard to case or surrounding spaces.  An unknown name falls back to
    ``capcon-dark`` with a warning that lists what is available.
    """
    names = list(available)
    wanted = name.strip()
    candidates = [wanted, THEME_ALIASES.get(wanted.lower(), "")]
    lowered = {n.lower(): n for n in names}
    for candidate in candidates:
        if candidate in names:
            return candidate, None
        if candidate.lower() in lowered:
            return lowered[candidate.lower()], None
    fallback = DEFAULT_THEME if DEFAULT_THEME in names or not names else names[0]
    choices = sorted({*THEME_ALIASES, *(n for n in names if n not in THEME_ALIASES.values())})
    hint = difflib.get_close_matches(wanted, choices, n=1)
    also = f" (did you mean {hint[0]!r}?)" if hint else ""
    return fallback, (
        f"theme {shown_value(name)} not found{also}: using {fallback}."
        f" Available: {', '.join(choices)}"
    )
