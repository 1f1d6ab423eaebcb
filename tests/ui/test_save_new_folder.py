"""Saving an attachment into a folder that does not exist offers to create it: ask, then
create, then save; a "no" creates nothing."""

from __future__ import annotations

from pathlib import Path

from mailtui.ui.modals.attachments import AttachmentsScreen
from mailtui.ui.modals.confirm import ConfirmScreen

from .conftest import MailFixture, make_app, screen_text
from .test_main_screen import wait_until
from .test_reader import add_top, open_top, rich_message, save_highlighted


async def test_saving_into_a_missing_folder_asks_then_creates_it_at_80x24(
    mail: MailFixture, tmp_path: Path
) -> None:
    await add_top(mail, rich_message())
    refused = tmp_path / "not" / "this"
    folder = tmp_path / "new" / "deeper"
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_top(pilot)
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, AttachmentsScreen))
        await wait_until(pilot, lambda: "notes.txt" in screen_text(app))  # its list is up
        await pilot.press("j")  # notes.txt

        await save_highlighted(pilot, refused)
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await wait_until(pilot, lambda: "no folder was created" in screen_text(app))
        assert not (tmp_path / "not").exists()

        await save_highlighted(pilot, folder)
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await wait_until(pilot, lambda: "Create it and save notes.txt" in screen_text(app))
        assert "There is no folder" in screen_text(app)
        await pilot.press("y")
        saved = folder / "notes.txt"
        await wait_until(pilot, saved.exists)
        assert saved.read_bytes() == b"plain notes\n" * 100
        await wait_until(pilot, lambda: "Saved" in screen_text(app))


async def test_a_file_in_the_way_is_a_plain_error(mail: MailFixture, tmp_path: Path) -> None:
    await add_top(mail, rich_message())
    (tmp_path / "taken").write_text("a file")
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_top(pilot)
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, AttachmentsScreen))
        await save_highlighted(pilot, tmp_path / "taken" / "inner")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        # The message holds the path, so where the toast wraps it depends on the path's
        # length: the whole message from the app, its start from the screen.
        notes = app._notifications  # noqa: SLF001
        await wait_until(pilot, lambda: any("a file is in the way" in n.message for n in notes))
        # The toast is mounted after the notification is recorded: wait for it on screen.
        await wait_until(pilot, lambda: "Not saved: " in screen_text(app))
        assert (tmp_path / "taken").read_text() == "a file"
