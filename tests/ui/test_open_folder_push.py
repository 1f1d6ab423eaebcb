"""The screen tells the sync manager which folder is open (for IDLE on it): the folder
shown, "All inboxes" as none, at 80x24."""

from __future__ import annotations

from pathlib import Path

from mailtui.ui.modals import FolderPicker
from mailtui.ui.screens.main import MainScreen

from .conftest import FakeManager, MailFixture, make_app, screen_text, typing_goes_to
from .test_main_screen import rows_loaded, wait_until
from .test_unified_inbox import open_two, unified_loaded


async def test_opening_a_folder_tells_the_manager(mail: MailFixture) -> None:
    manager = FakeManager()
    app = make_app(mail.store, manager)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        assert manager.open_folders[-1] == (mail.account_id, mail.inbox)
        await pilot.press("c")
        await wait_until(pilot, lambda: typing_goes_to(app, FolderPicker))
        await pilot.press(*"pytho", "enter")
        await wait_until(pilot, lambda: "python-list post 0" in screen_text(app))
        assert manager.open_folders[-1] == (mail.account_id, mail.folders["Lists/python"])
        await pilot.press("c")
        await wait_until(pilot, lambda: typing_goes_to(app, FolderPicker))
        await pilot.press(*"inbox", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
        await wait_until(pilot, lambda: manager.open_folders[-1][1] == mail.inbox)
        assert manager.open_folders[-1] == (mail.account_id, mail.inbox)


async def test_all_inboxes_is_no_open_folder(tmp_path: Path) -> None:
    two = await open_two(tmp_path / "two.sqlite")
    try:
        manager = FakeManager()
        app = make_app(two.store, manager)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: unified_loaded(app))
            assert manager.open_folders[-1] == (None, None)
    finally:
        await two.store.close()
