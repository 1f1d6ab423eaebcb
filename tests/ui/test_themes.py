"""Themes: the data files load as Textual themes, users add their own, F2 switches at
runtime, the choice survives a restart, and unread rows stand out in every theme."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.color import Color

from mailtui.ui import themes
from mailtui.ui.widgets import MessageList

from .conftest import MailFixture, make_app
from .test_main_screen import rows_loaded, wait_until

BUILT_IN = {"mailtui-dark", "mailtui-light", "high-contrast", "ansi-16", "solarized-dark"}


def test_the_built_in_themes_load() -> None:
    loaded, problems = themes.load_all(None)
    assert problems == []
    by_name = {theme.name: theme for theme in loaded}
    assert set(by_name) >= BUILT_IN
    assert by_name["mailtui-dark"].dark and not by_name["mailtui-light"].dark
    for theme in loaded:
        theme.to_color_system().generate()  # every colour and variable resolves


def test_the_16_colour_theme_uses_only_the_terminals_colours() -> None:
    path = themes.builtin_dir() / "ansi-16.toml"
    theme = themes.parse_theme(path.read_text(), str(path))
    assert theme.ansi
    colours = [getattr(theme, key) for key in ("primary", "secondary", "accent", "warning",
                                               "error", "success", "foreground", "background",
                                               "surface", "panel")]
    colours += [v for k, v in theme.variables.items() if not k.endswith("text-style")]
    assert colours and all(c.startswith("ansi_") for c in colours)
    assert all(Color.parse(c).ansi is not None for c in colours)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("name = 'x'", "primary: missing"),
        ("primary = '#fff'", "name: expected a short text"),
        ("name = 'x'\nprimary = 'purplish'", "primary: not a colour: 'purplish'"),
        ("name = 'x'\nprimary = '#fff'\ncolour = 1", "unknown key 'colour'"),
        ("name = 'x'\nprimary = '#fff'\ndark = 'yes'", "dark: expected true or false"),
        ("name = ", "not valid TOML"),
    ],
)
def test_a_broken_theme_file_says_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(themes.ThemeError, match=problem.replace("(", r"\(")):
        themes.parse_theme(text, "mine.toml")


def test_user_themes_are_added_and_broken_ones_reported(tmp_path: Path) -> None:
    (tmp_path / "plum.toml").write_text('name = "plum"\nprimary = "#8e4585"\ndark = true\n')
    (tmp_path / "bad.toml").write_text('name = "bad"\n')
    loaded, problems = themes.load_all(tmp_path)
    assert "plum" in {theme.name for theme in loaded}
    assert len(problems) == 1 and "bad.toml: primary: missing" in problems[0]


def test_the_saved_choice_gives_way_to_an_edited_config(tmp_path: Path) -> None:
    assert themes.read_choice(tmp_path) is None
    themes.save_choice(tmp_path, themes.ThemeChoice("ansi-16", "mailtui-dark"))
    saved = themes.read_choice(tmp_path)
    assert saved == themes.ThemeChoice("ansi-16", "mailtui-dark")
    assert themes.starting_theme("mailtui-dark", saved) == "ansi-16"
    assert themes.starting_theme("solarized-dark", saved) == "solarized-dark"
    (tmp_path / themes.STATE_FILE).write_text("{broken")
    assert themes.read_choice(tmp_path) is None


async def test_f2_switches_theme_and_the_choice_survives_a_restart(
    mail: MailFixture, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    app = make_app(mail.store, theme="mailtui-dark", state_dir=state)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        assert app.theme == "mailtui-dark"
        await pilot.press("f2")
        await wait_until(pilot, lambda: app.theme != "mailtui-dark")
        chosen = app.theme
        assert chosen in BUILT_IN
        await wait_until(pilot, lambda: (state / themes.STATE_FILE).exists())
    saved = json.loads((state / themes.STATE_FILE).read_text())
    assert saved == {"theme": chosen, "config_theme": "mailtui-dark"}

    again = make_app(mail.store, theme="mailtui-dark", state_dir=state)
    async with again.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        assert again.theme == chosen


async def test_a_user_theme_from_the_config_folder_is_used(
    mail: MailFixture, tmp_path: Path
) -> None:
    mine = tmp_path / "themes"
    mine.mkdir()
    (mine / "plum.toml").write_text('name = "plum"\nprimary = "#8e4585"\nbackground = "#201020"\n')
    app = make_app(mail.store, theme="plum", user_themes=mine)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        assert app.theme == "plum"
        assert "plum" in app.data_themes


@pytest.mark.parametrize("theme", sorted(BUILT_IN))
async def test_unread_rows_stand_out_in_every_theme(mail: MailFixture, theme: str) -> None:
    app = make_app(mail.store, theme=theme)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        await pilot.press("j")  # the cursor off the first (unread) row
        await pilot.pause()
        listing = app.query_one(MessageList)
        strips = app.screen._compositor.render_strips()
        region = listing.content_region

        def styles(y: int) -> set[tuple[bool, object]]:
            return {(bool(s.style and s.style.bold), s.style and s.style.color)
                    for s in strips[region.y + y] if s.text.strip()}

        unread, read = styles(3), styles(2)  # messages 3 (unread) and 2 (read)
        assert any(bold for bold, _ in unread)
        assert unread != read
