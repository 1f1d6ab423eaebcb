"""Themes as data files, loaded as Textual ``Theme``s, and the remembered choice.

| where                                   | what                                             |
| --------------------------------------- | ------------------------------------------------ |
| ``themes/*.toml`` (the repository)      | built-in themes, the source of truth             |
| ``mailtui/themes`` (a link to it)       | how they ship: package data of the installed app |
| ``~/.config/mailtui/themes/*.toml``     | the user's own; a name already taken replaces it |
| ``<state dir>/ui-state.json``           | the theme last chosen at runtime                 |

A theme file is TOML: ``name``, the ``Theme`` colours (``primary``, ``secondary``,
``accent``, ``warning``, ``error``, ``success``, ``foreground``, ``background``,
``surface``, ``panel``, ``boost``), ``dark``, ``ansi`` (the terminal's 16 colours only),
``luminosity_spread``, ``text_alpha``, and a ``[variables]`` table of Textual CSS
variables (``block-cursor-background``...). A broken file is skipped with a one-line
reason for the user; it never stops the app.

The runtime choice is saved to the state file, not to ``config.toml`` (the user's file
stays as they wrote it). The file also records the config's ``theme`` at the time: when
the user later edits ``[ui] theme``, the config wins again.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

from mailtui.errors import ConfigError, MailtuiError

_COLOURS = (
    "primary", "secondary", "accent", "warning", "error", "success",
    "foreground", "background", "surface", "panel", "boost",
)  # fmt: skip
_KEYS = {"name", "dark", "ansi", "luminosity_spread", "text_alpha", "variables", *_COLOURS}
STATE_FILE = "ui-state.json"


class ThemeError(MailtuiError):
    """A theme file that cannot be used, worded for the user (one line)."""


def builtin_dir() -> Path:
    """The built-in themes: inside the installed package, or the repository's ``themes/``."""
    packaged = Path(__file__).resolve().parent.parent / "themes"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent.parent / "themes"


def user_dir(config_file: Path) -> Path:
    """``themes/`` beside the config file."""
    return config_file.parent / "themes"


def _colour(where: str, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ThemeError(f"{where}: {key}: expected a colour name, got {value!r}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeError(f"{where}: {key}: not a colour: {value!r}") from None
    return value


def parse_theme(text: str, where: str) -> Theme:
    """One theme from TOML text; ``ThemeError`` names ``where`` and the key at fault."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ThemeError(f"{where}: not valid TOML: {error}") from None
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ThemeError(f"{where}: unknown key {unknown[0]!r}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 64:
        raise ThemeError(f"{where}: name: expected a short text")
    if "primary" not in data:
        raise ThemeError(f"{where}: primary: missing")
    fields: dict[str, Any] = {
        key: _colour(where, key, data[key]) for key in _COLOURS if key in data
    }
    for flag in ("dark", "ansi"):
        if flag in data:
            if not isinstance(data[flag], bool):
                raise ThemeError(f"{where}: {flag}: expected true or false")
            fields[flag] = data[flag]
    for number in ("luminosity_spread", "text_alpha"):
        if number in data:
            value = data[number]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ThemeError(f"{where}: {number}: expected a number")
            fields[number] = float(value)
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in variables.items()
    ):
        raise ThemeError(f"{where}: [variables]: expected names and text values")
    return Theme(name=name.strip(), variables=dict(variables), **fields)


def load_dir(directory: Path) -> tuple[list[Theme], list[str]]:
    """Every ``*.toml`` theme of ``directory`` in name order, and the problems found."""
    themes: list[Theme] = []
    problems: list[str] = []
    if not directory.is_dir():
        return themes, problems
    for path in sorted(directory.glob("*.toml")):
        try:
            text = path.read_text(encoding="utf-8")
            themes.append(parse_theme(text, str(path)))
        except (OSError, UnicodeDecodeError) as error:
            problems.append(f"{path}: cannot read: {error}")
        except ThemeError as error:
            problems.append(str(error))
    return themes, problems


def load_all(user_themes: Path | None) -> tuple[list[Theme], list[str]]:
    """Built-in themes, then the user's (a user theme may replace a built-in one)."""
    themes, problems = load_dir(builtin_dir())
    if user_themes is not None:
        mine, theirs = load_dir(user_themes)
        themes += mine
        problems += theirs
    return themes, problems


def check_name(name: str, user_themes: Path | None) -> None:
    """ConfigError unless ``[ui] theme`` names a theme mailtui has: a built-in or user
    theme file, or one of Textual's own. The error names the close match, or every theme."""
    from textual.theme import BUILTIN_THEMES

    loaded, problems = load_all(user_themes)
    known = list(dict.fromkeys([*(t.name for t in loaded), *sorted(BUILTIN_THEMES)]))
    if name in known:
        return
    broken = [p for p in problems if Path(p.split(":", 1)[0]).stem == name]
    if broken:
        raise ConfigError(f"[ui] theme: {name!r} cannot be used: {broken[0]}")
    import difflib

    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ConfigError(f"[ui] theme: no theme named {name!r}{hint} (themes: {', '.join(known)})")


@dataclass(frozen=True, slots=True)
class ThemeChoice:
    """What ``ui-state.json`` remembers."""

    theme: str
    config_theme: str  # ``[ui] theme`` when the choice was made


def read_choice(state_dir: Path) -> ThemeChoice | None:
    """The saved choice; None if there is none or the file is damaged (then the config
    decides, and the next switch rewrites the file)."""
    try:
        data = json.loads((state_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    theme, config_theme = data.get("theme"), data.get("config_theme")
    if isinstance(theme, str) and isinstance(config_theme, str):
        return ThemeChoice(theme, config_theme)
    return None


def save_choice(state_dir: Path, choice: ThemeChoice) -> None:
    """Write the choice atomically (a temp file renamed over the old one)."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    payload = json.dumps({"theme": choice.theme, "config_theme": choice.config_theme})
    fd, temp = tempfile.mkstemp(dir=state_dir, prefix=".ui-state.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(payload + "\n")
        os.replace(temp, state_dir / STATE_FILE)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def starting_theme(config_theme: str, saved: ThemeChoice | None) -> str:
    """The theme to start with: the saved runtime choice, unless the user has edited
    ``[ui] theme`` since it was made."""
    if saved is not None and saved.config_theme == config_theme:
        return saved.theme
    return config_theme
