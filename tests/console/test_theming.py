"""Themes as data: the built-in files, their legibility, user theme files and fallback."""

from __future__ import annotations

import colorsys
import itertools
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from textual.app import App, ComposeResult
from textual.color import Color
from textual.theme import Theme
from textual.widgets import Static

from capcon.tui.console.theming import (
    ALLOWED_KEYS,
    APP_VARIABLES,
    DEFAULT_THEME,
    LIGHT_APP_VARIABLES,
    THEME_ALIASES,
    THEMES_DIR,
    ThemeError,
    builtin_themes,
    resolve_theme_name,
    theme_from_file,
    theme_from_mapping,
    user_themes,
)

BUILTIN_NAMES = ["capcon-dark", "capcon-light", "capcon-projector", "capcon-colorblind"]


# --- colour arithmetic (WCAG 2.x, and colour-vision-deficiency simulation) ---------------


def rgb(colour: str) -> tuple[int, int, int]:
    parsed = Color.parse(colour)
    return parsed.r, parsed.g, parsed.b


def _linear(channel: float) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _encode(channel: float) -> float:
    c = min(1.0, max(0.0, channel))
    return 255 * (12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055)


def luminance(colour: str) -> float:
    r, g, b = (_linear(c) for c in rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio, 1 … 21."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


#: Machado, Oliveira & Fernandes (2009), severity 1.0, applied in linear RGB.
CVD_MATRICES: dict[str, tuple[tuple[float, float, float], ...]] = {
    "protanopia": (
        (0.152286, 1.052583, -0.204868),
        (0.114503, 0.786281, 0.099216),
        (-0.003882, -0.048116, 1.051998),
    ),
    "deuteranopia": (
        (0.367322, 0.860646, -0.227968),
        (0.280085, 0.672501, 0.047413),
        (-0.011820, 0.042940, 0.968881),
    ),
}


def simulate(colour: str, deficiency: str) -> tuple[float, ...]:
    linear = [_linear(c) for c in rgb(colour)]
    matrix = CVD_MATRICES[deficiency]
    return tuple(_encode(sum(m * c for m, c in zip(row, linear, strict=True))) for row in matrix)


def hue_degrees(colour: str) -> float:
    r, g, b = (c / 255 for c in rgb(colour))
    return colorsys.rgb_to_hsv(r, g, b)[0] * 360


def is_reddish(colour: str) -> bool:
    return hue_degrees(colour) < 20 or hue_degrees(colour) > 340


def is_greenish(colour: str) -> bool:
    return 75 <= hue_degrees(colour) <= 165


def test_colour_helpers_against_known_values() -> None:
    assert contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)
    assert is_reddish("#FF0000") and is_greenish("#00FF00")
    # The classic confusion: red and green collapse together for a deuteranope.
    red_green = math.dist(simulate("#D62728", "deuteranopia"), simulate("#2CA02C", "deuteranopia"))
    assert red_green < 60 < math.dist(rgb("#D62728"), rgb("#2CA02C"))


# --- the built-in themes ----------------------------------------------------------------


@pytest.fixture(scope="module")
def themes() -> dict[str, Theme]:
    return {theme.name: theme for theme in builtin_themes()}


def test_theme_files_are_found_through_importlib_resources() -> None:
    assert sorted(p.name for p in THEMES_DIR.iterdir() if p.name.endswith(".toml")) == [
        "colorblind.toml",
        "dark.toml",
        "light.toml",
        "projector.toml",
    ]


def test_builtin_themes_load_default_first_with_every_app_variable(
    themes: dict[str, Theme],
) -> None:
    assert list(themes) == BUILTIN_NAMES
    assert builtin_themes()[0].name == DEFAULT_THEME
    for theme in themes.values():
        assert set(theme.variables) == set(APP_VARIABLES), theme.name
        for key in ("secondary", "accent", "warning", "error", "success", "surface", "panel"):
            assert getattr(theme, key), f"{theme.name} leaves {key} to Textual"
        # Textual derives its whole palette from these: it must accept them.
        assert theme.to_color_system().generate()["primary"]


def test_the_built_in_files_set_every_variable_themselves() -> None:
    # Loading fills missing variables with defaults, so read the raw files too.
    import tomllib

    for path in sorted(THEMES_DIR.iterdir(), key=lambda p: p.name):
        if not path.name.endswith(".toml"):
            continue
        with path.open("rb") as handle:
            assert set(tomllib.load(handle)["variables"]) == set(APP_VARIABLES), path.name


def test_default_variables_match_the_dark_and_light_themes(themes: dict[str, Theme]) -> None:
    assert themes["capcon-dark"].variables == APP_VARIABLES
    assert themes["capcon-light"].variables == LIGHT_APP_VARIABLES


def test_aliases_name_the_built_in_themes(themes: dict[str, Theme]) -> None:
    assert sorted(THEME_ALIASES.values()) == sorted(themes)
    assert themes["capcon-light"].dark is False
    assert themes["capcon-dark"].dark is True


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_every_colour_is_legible_on_its_background(themes: dict[str, Theme], name: str) -> None:
    theme = themes[name]
    assert theme.foreground and theme.background and theme.panel and theme.surface
    assert contrast(theme.foreground, theme.background) >= 7
    assert contrast(theme.foreground, theme.panel) >= 7  # the status line
    assert contrast(theme.foreground, theme.surface) >= 7
    for key, value in theme.variables.items():
        # WCAG's 3:1 for graphics (sparklines, chart lines, the frame)
        assert contrast(value, theme.background) >= 3, f"{name}: {key} {value}"


def test_projector_theme_has_big_contrast_and_no_subtle_greys(themes: dict[str, Theme]) -> None:
    theme = themes["capcon-projector"]
    assert theme.foreground and theme.background
    assert contrast(theme.foreground, theme.background) >= 7
    assert contrast(theme.foreground, theme.background) == pytest.approx(21.0)
    for key, value in theme.variables.items():
        assert contrast(value, theme.background) >= 4.5, f"{key} {value}"
    for key in ("primary", "accent", "warning", "error", "success"):
        colour = getattr(theme, key)
        assert contrast(colour, theme.background) >= 4.5, f"{key} {colour}"
    # No mid greys: every colour is either saturated or plain black / white.
    assert theme.panel
    for colour in [*theme.variables.values(), theme.primary, theme.panel, theme.foreground]:
        r, g, b = (c / 255 for c in rgb(colour))
        _, saturation, brightness = colorsys.rgb_to_hsv(r, g, b)
        assert saturation > 0.8 or brightness in (0.0, 1.0), colour


CAPACITY_KEYS = ("consumed", "provisioned", "throttle")


def test_colourblind_capacity_colours_are_far_apart(themes: dict[str, Theme]) -> None:
    variables = themes["capcon-colorblind"].variables
    for a, b in itertools.combinations(CAPACITY_KEYS, 2):
        assert math.dist(rgb(variables[a]), rgb(variables[b])) > 100, (a, b)


def test_colourblind_capacity_colours_are_not_a_red_green_pair(themes: dict[str, Theme]) -> None:
    variables = themes["capcon-colorblind"].variables
    for a, b in itertools.permutations(CAPACITY_KEYS, 2):
        assert not (is_reddish(variables[a]) and is_greenish(variables[b])), (a, b)


@pytest.mark.parametrize("deficiency", sorted(CVD_MATRICES))
def test_colourblind_capacity_colours_survive_simulated_colour_blindness(
    themes: dict[str, Theme], deficiency: str
) -> None:
    variables = themes["capcon-colorblind"].variables
    # The sparkline's three states, and the chart's lines.
    for keys in (CAPACITY_KEYS, ("consumed", "hot", "throttle"), ("demand", *CAPACITY_KEYS)):
        for a, b in itertools.combinations(keys, 2):
            seen = math.dist(simulate(variables[a], deficiency), simulate(variables[b], deficiency))
            assert seen > 100, (deficiency, a, b, round(seen))


# --- theme data validation --------------------------------------------------------------

GOOD: dict[str, Any] = {
    "name": "mine",
    "dark": True,
    "primary": "#1E90FF",
    "foreground": "#EEEEEE",
    "background": "#101010",
}


def test_minimal_theme_gets_normalised_colours_and_the_default_variables() -> None:
    theme = theme_from_mapping({**GOOD, "primary": "dodgerblue", "panel": "#abc"}, "x")
    assert theme.primary == "#1E90FF"
    assert theme.panel == "#AABBCC"
    assert theme.variables == APP_VARIABLES


def test_light_theme_without_variables_gets_the_light_defaults() -> None:
    theme = theme_from_mapping(
        {**GOOD, "dark": False, "foreground": "#000000", "background": "#FFFFFF"}, "x"
    )
    assert theme.variables == LIGHT_APP_VARIABLES


def test_dark_is_inferred_from_the_background_when_left_out() -> None:
    light = {k: v for k, v in GOOD.items() if k != "dark"} | {"background": "#F0F0F0"}
    assert theme_from_mapping(light, "x").dark is False
    dark = {k: v for k, v in GOOD.items() if k != "dark"}
    assert theme_from_mapping(dark, "x").dark is True


def test_variables_override_only_what_they_name() -> None:
    theme = theme_from_mapping({**GOOD, "variables": {"throttle": "rgb(255, 0, 255)"}}, "x")
    assert theme.variables["throttle"] == "#FF00FF"
    assert theme.variables["consumed"] == APP_VARIABLES["consumed"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"primary": None}, ["missing required key 'primary'"]),
        ({"primary": "#12345"}, ["primary", "'#12345' is not a colour"]),
        ({"primary": 0x1E90FF}, ["primary must be a colour string", str(0x1E90FF)]),
        ({"panel": "#FF000080"}, ["panel", "opaque"]),
        ({"panel": "ansi_red"}, ["panel", "terminal palette"]),
        (
            {"backgound": "#000000"},
            ["unknown key 'backgound'", "did you mean 'background'", "panel"],
        ),
        ({"dark": "yes"}, ["dark must be true or false", "'yes'"]),
        ({"name": "my theme"}, ["name must be", "'my theme'"]),
        ({"name": 3}, ["name must be", "3"]),
        (
            {"variables": {"throttled": "#FF0000"}},
            ["unknown variable 'throttled'", "did you mean 'throttle'", "updating"],
        ),
        ({"variables": {"block-cursor-background": "#FF0000"}}, ["unknown variable", "consumed"]),
        ({"variables": {"hot": "warm"}}, ["variables.hot", "'warm' is not a colour"]),
        ({"variables": "#FF0000"}, ["variables must be a table"]),
    ],
)
def test_bad_theme_data_is_refused_naming_source_and_problem(
    change: dict[str, Any], expected: list[str]
) -> None:
    data = {**GOOD, **change}
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(ThemeError) as caught:
        theme_from_mapping(data, "the-source")
    message = str(caught.value)
    assert message.startswith("the-source: ")
    for part in expected:
        assert part in message


def test_every_problem_is_reported_at_once() -> None:
    data = {"name": "x", "primary": "nope", "colour": "#000000", "variables": {"hott": "#FFF"}}
    with pytest.raises(ThemeError) as caught:
        theme_from_mapping(data, "f.toml")
    message = str(caught.value)
    assert "missing required keys 'foreground', 'background'" in message
    for part in ("'nope'", "'colour'", "'hott'"):
        assert part in message
    assert ", ".join(ALLOWED_KEYS) in message


junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*ALLOWED_KEYS, "other"]) | st.text(max_size=8),
        junk | st.sampled_from(["#000", "#FFFFFF", "red", "rgb(1,2,3)", ""]),
        max_size=8,
    )
)
def test_any_data_gives_a_theme_or_a_theme_error(data: dict[str, Any]) -> None:
    try:
        theme = theme_from_mapping(data, "x")
    except ThemeError as error:
        assert str(error).startswith("x: ")
    else:
        assert set(theme.variables) == set(APP_VARIABLES)


# --- user theme files ---------------------------------------------------------------------

GOOD_FILE = """\
name = "{name}"
dark = true
primary = "#FF8800"
foreground = "#EEEEEE"
background = "#000000"

[variables]
throttle = "#FF00FF"
"""


def write(directory: Path, filename: str, text: str | bytes) -> Path:
    path = directory / filename
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_user_theme_file_loads(tmp_path: Path) -> None:
    theme = theme_from_file(write(tmp_path, "mine.toml", GOOD_FILE.format(name="mine")))
    assert theme.name == "mine"
    assert theme.variables["throttle"] == "#FF00FF"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('name = "x"\nprimary = #FF0000\n', ["not valid TOML", "line 2"]),
        (b"name = '\xff'\n", ["not valid TOML", "UTF-8"]),
        (
            'name = "x"\nprimary = "#FF8800"\nforeground = "#EEEEEE"\n',
            ["missing required key 'background'"],
        ),
        (
            GOOD_FILE.format(name="x").replace('"#FF8800"', '"#GG8800"'),
            ["primary", "'#GG8800' is not a colour"],
        ),
        (GOOD_FILE.format(name="x") + "extra = 1\n", ["unknown variable 'extra'"]),
        (
            GOOD_FILE.format(name="x").replace("dark = true", 'dark = true\nborder = "#FF0000"'),
            ["unknown key 'border'", "allowed keys"],
        ),
        (
            GOOD_FILE.format(name="x").replace("throttle", "throttling"),
            ["unknown variable 'throttling'", "known variables"],
        ),
    ],
)
def test_bad_user_theme_is_skipped_with_a_message_naming_file_and_problem(
    tmp_path: Path, text: str | bytes, expected: list[str]
) -> None:
    write(tmp_path, "a-good.toml", GOOD_FILE.format(name="good"))
    bad = write(tmp_path, "bad.toml", text)
    loaded, messages = user_themes(tmp_path)
    assert [t.name for t in loaded] == ["good"]
    assert len(messages) == 1
    assert str(bad) in messages[0]
    assert "skipped" in messages[0]
    for part in expected:
        assert part in messages[0]


def test_user_themes_may_not_take_a_built_in_name_or_repeat_one(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", GOOD_FILE.format(name="ocean"))
    write(tmp_path, "b.toml", GOOD_FILE.format(name="ocean"))
    write(tmp_path, "c.toml", GOOD_FILE.format(name="capcon-dark"))
    write(tmp_path, "d.toml", GOOD_FILE.format(name="dark"))
    write(tmp_path, "notes.txt", "not a theme")
    (tmp_path / "folder.toml").mkdir()
    loaded, messages = user_themes(tmp_path)
    assert [t.name for t in loaded] == ["ocean"]
    assert len(messages) == 4
    assert "already defined in" in messages[0] and str(tmp_path / "a.toml") in messages[0]
    assert "'capcon-dark' belongs to a built-in theme" in messages[1]
    assert "'dark' belongs to a built-in theme" in messages[2]
    assert "is not a file" in messages[3]


def test_missing_theme_directory_means_no_user_themes(tmp_path: Path) -> None:
    assert user_themes(tmp_path / "absent") == ([], [])
    write(tmp_path, "themes", "a file, not a folder")
    loaded, messages = user_themes(tmp_path / "themes")
    assert loaded == []
    assert messages and "is not a directory" in messages[0]


# --- choosing the theme -------------------------------------------------------------------


def test_resolve_theme_name_accepts_names_and_aliases() -> None:
    available = [*BUILTIN_NAMES, "Ocean"]
    assert resolve_theme_name("capcon-light", available) == ("capcon-light", None)
    assert resolve_theme_name("projector", available) == ("capcon-projector", None)
    assert resolve_theme_name(" Dark ", available) == ("capcon-dark", None)
    assert resolve_theme_name("ocean", available) == ("Ocean", None)


def test_resolve_theme_name_falls_back_to_dark_with_a_warning() -> None:
    name, warning = resolve_theme_name("projecter", [*BUILTIN_NAMES, "ocean"])
    assert name == "capcon-dark"
    assert warning is not None
    assert "'projecter' not found" in warning
    assert "did you mean 'projector'" in warning
    assert "using capcon-dark" in warning
    assert "colorblind" in warning and "ocean" in warning


def test_resolve_theme_name_with_a_missing_alias_target_falls_back() -> None:
    name, warning = resolve_theme_name("light", ["capcon-dark"])
    assert name == "capcon-dark"
    assert warning is not None


# --- in a Textual app ---------------------------------------------------------------------


class ThemedApp(App[None]):
    """Uses every app variable in its CSS, as the console does."""

    CSS = "\n".join(f"#{key} {{ color: ${key}; }}" for key in APP_VARIABLES)

    def __init__(self, themes: list[Theme]) -> None:
        super().__init__()
        for theme in themes:
            self.register_theme(theme)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(APP_VARIABLES)

    def compose(self) -> ComposeResult:
        for key in APP_VARIABLES:
            yield Static(key, id=key)


async def test_app_switches_to_every_built_in_and_user_theme(tmp_path: Path) -> None:
    write(tmp_path, "mine.toml", GOOD_FILE.format(name="mine"))
    extra, messages = user_themes(tmp_path)
    assert messages == []
    themes = [*builtin_themes(), *extra]

    app = ThemedApp(themes)
    seen = []
    async with app.run_test(size=(40, 12)) as pilot:
        for theme in themes:
            app.theme = theme.name
            await pilot.pause()
            seen.append(app.current_theme.name)
            assert app.theme_variables["throttle"] == theme.variables["throttle"]
            throttle = app.query_one("#throttle", Static)
            assert throttle.styles.color == Color.parse(theme.variables["throttle"])
            assert app.has_class("-dark-mode") is theme.dark
    assert seen == [*BUILTIN_NAMES, "mine"]
