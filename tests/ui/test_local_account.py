"""A local account (``Capabilities.local``, POP3) at 80x24: moves and flags are offered
(done in the store), what only a server can do is not (subscriptions), a folder's
deletion says its mail goes to Trash; and the check-now key and palette entry ask every
account to look for new mail, with a notice in the status bar."""

from __future__ import annotations

from pathlib import Path

from mailtui.models import AccountKind
from mailtui.store import Store
from mailtui.sync.contract import Capabilities
from mailtui.sync.manager import SyncManager, WorkerSpec
from mailtui.ui.modals import FolderPicker
from mailtui.ui.modals.confirm import ConfirmScreen
from tests.unit.test_sync_local import LocalInbox

from .conftest import (
    FakeManager,
    MailFixture,
    make_app,
    palette_searched,
    screen_text,
    typing_goes_to,
)
from .test_main_screen import rows_loaded, wait_until
from .test_triage import status

#: What a POP3 backend declares: the server keeps nothing, the store keeps it all.
LOCAL = Capabilities(folders=False, server_move=False, flags=False, local=True)


async def test_check_now_key_and_palette_entry_ask_every_account(mail: MailFixture) -> None:
    manager = FakeManager()
    app = make_app(mail.store, manager)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        assert manager.checks == 0
        await pilot.press("f6")
        await wait_until(pilot, lambda: "Checking for new mail" in status(app))
        assert manager.checks == 1

        await pilot.press("colon")
        await wait_until(pilot, lambda: "Search for commands" in screen_text(app))
        await pilot.press(*"check for")
        await wait_until(
            pilot,
            lambda: "Check for new mail now  (f6, Ctrl+l · app.check_now)"
            in screen_text(app),
        )
        await pilot.press("enter")
        await wait_until(pilot, lambda: manager.checks == 2)


async def test_a_local_account_offers_moves_and_flags_but_no_subscriptions(
    mail: MailFixture,
) -> None:
    manager = FakeManager()
    manager.caps[mail.account_id] = Capabilities(subscriptions=True)
    app = make_app(mail.store, manager)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        # An IMAP account with subscriptions: offered.
        await pilot.press("colon")
        await wait_until(pilot, lambda: "Search for commands" in screen_text(app))
        await pilot.press(*"subscri")
        await wait_until(pilot, lambda: "Subscribe/unsubscribe the folder" in screen_text(app))
        await pilot.press("escape")
        await wait_until(pilot, lambda: "Search for commands" not in screen_text(app))

        manager.caps[mail.account_id] = LOCAL
        app.screen.refresh_bindings()
        await pilot.press("colon")
        await wait_until(pilot, lambda: "Search for commands" in screen_text(app))
        await pilot.press(*"subscri")
        await wait_until(pilot, lambda: palette_searched(app, "subscri"))
        assert "Subscribe/unsubscribe" not in screen_text(app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: "Search for commands" not in screen_text(app))

        # Flags and moves are the store's: offered, though the server has neither.
        await pilot.press("F")
        await wait_until(pilot, lambda: "lagged 1 message" in status(app))
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, FolderPicker))
        await pilot.press("escape")

        # Deleting a folder: its mail goes to Trash, nothing "on the server".
        await pilot.press("c")
        await wait_until(pilot, lambda: typing_goes_to(app, FolderPicker))
        await pilot.press(*"Lists", "enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, FolderPicker))
        await pilot.press("minus")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await wait_until(pilot, lambda: "Delete the folder" in screen_text(app))  # painted
        text = " ".join(screen_text(app).split())
        assert "Delete the folder Lists?" in text
        assert "on the server" not in text
        await pilot.press("n")


async def test_a_local_account_with_the_real_manager_shows_its_folders_and_checks_now(
    tmp_path: Path,
) -> None:
    store = await Store.open(tmp_path / "cache.sqlite")
    try:
        account = await store.ensure_account("pop", AccountKind.POP3, "me@pop.test")
        backend = LocalInbox()
        manager = SyncManager(store, [WorkerSpec(account, lambda: backend)])
        app = make_app(store, manager)  # type: ignore[arg-type]
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: "message u3" in screen_text(app))
            await wait_until(pilot, lambda: "pop: in step" in screen_text(app))
            await pilot.press("tab")  # the folder pane: the store's folders under the Inbox
            await wait_until(pilot, lambda: "Archive" in screen_text(app))
            pane = [line[:20] for line in screen_text(app).splitlines()[:8]]
            for name in ("Inbox", "Drafts", "Sent", "Archive", "Junk", "Trash"):
                assert any(name in line for line in pane), pane
            assert backend.listed == 1
            await pilot.press("f6")
            await wait_until(pilot, lambda: backend.listed == 2)  # every folder pulled again
            await wait_until(pilot, lambda: "pop: in step" in screen_text(app))
    finally:
        await store.close()
