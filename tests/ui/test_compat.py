"""The private Textual API in mailtui/ui/compat.py: every name it uses exists on the
installed Textual (an upgrade that drops one fails here, loudly), its overrides are in
place on the release they were written for, and on another release Textual's own
behaviour is kept and the log says so once."""

from __future__ import annotations

import importlib
import logging
from typing import Any

import pytest
from textual.app import App
from textual.screen import Screen
from textual.timer import Timer

from mailtui.app import MailApp
from mailtui.ui import compat
from mailtui.ui.screens.main import MainScreen

from .conftest import MailFixture, make_app


def test_the_textual_version_is_the_one_importlib_metadata_reads() -> None:
    from importlib.metadata import version

    assert version("textual") == compat.TEXTUAL_VERSION


async def test_every_private_name_it_uses_exists_on_the_installed_textual() -> None:
    app: App[None] = App()
    async with app.run_test(size=(40, 10)):
        timer = Timer(app, 1.0, pause=True)  # never started
        instances: dict[str, object] = {"App": app, "Screen": app.screen, "Timer": timer}
        missing = []
        for module_name, class_name, name, on_instances in compat.PRIVATE_NAMES:
            owner: Any = importlib.import_module(module_name)
            if class_name:
                owner = instances[class_name] if on_instances else getattr(owner, class_name)
            if not hasattr(owner, name):
                missing.append(f"{module_name}.{class_name}.{name}".replace("..", "."))
    assert missing == [], f"gone from Textual {compat.TEXTUAL_VERSION}: {missing}"


def test_the_installed_textual_is_the_release_it_was_written_for() -> None:
    # pyproject pins this minor; a new one is taken on by re-checking compat.py.
    assert compat.supported(), (compat.TEXTUAL_VERSION, compat.WRITTEN_FOR)
    assert "_update_timer" in MainScreen.__dict__
    assert "_fatal_error" in MailApp.__dict__


async def test_the_main_screen_paints_from_the_frame_timer(mail: MailFixture) -> None:
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen._update_timer, compat.FrameTimer)
        await pilot.press("j")  # a key makes its frames urgent
        await pilot.pause()


async def test_another_textual_release_keeps_textual_s_own_behaviour(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(compat, "TEXTUAL_VERSION", "9.0.0")
    monkeypatch.setattr(compat, "_fell_back", False)
    assert not compat.supported()

    class PlainScreen(Screen[None]):
        pass

    class PlainApp(App[None]):
        def get_default_screen(self) -> Screen[None]:
            return PlainScreen()

    with caplog.at_level(logging.WARNING, logger=compat.__name__):
        assert compat.urgent_frames(PlainScreen) is PlainScreen
        assert compat.quiet_fatal_errors(PlainApp) is PlainApp
    assert "_update_timer" not in PlainScreen.__dict__
    assert "_fatal_error" not in PlainApp.__dict__
    said = [r.getMessage() for r in caplog.records if r.name == compat.__name__]
    assert len(said) == 1 and "Textual 9.0.0" in said[0], said

    app = PlainApp()
    async with app.run_test(size=(40, 10)) as pilot:
        screen = app.screen
        assert isinstance(screen, PlainScreen)
        assert not isinstance(screen._update_timer, compat.FrameTimer)
        compat.urgent(screen)  # nothing to hurry: Textual's own timer
        await pilot.pause()
    assert PlainApp._fatal_error is App._fatal_error


async def test_a_key_from_the_terminal_holds_the_sync_until_its_frame(mail: MailFixture) -> None:
    """A key handed over by the driver (as the terminal's input thread does) holds the
    sync's paced work at once, before the loop gets to it; the frame that shows the
    key's result (the cursor one line down) releases it."""
    from textual import events

    from mailtui import pacing

    from .test_main_screen import cursor_screen_line, rows_loaded, wait_until

    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        assert cursor_screen_line(pilot) == 0
        pacing.KEYS.release()
        holds = pacing.KEYS.holds
        app._driver.send_message(events.Key("j", "j"))  # type: ignore[union-attr]
        assert pacing.KEYS.holding and pacing.KEYS.holds == holds + 1
        await wait_until(pilot, lambda: cursor_screen_line(pilot) == 1)
        assert not pacing.KEYS.holding
        assert pacing.KEYS.holds == holds + 1  # the app's own note of it is the same key
