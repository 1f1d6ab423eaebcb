"""Folder create / rename / delete through the account's worker, on the real Dovecot;
the cache's folder list follows; refusals and offline accounts say why in plain words."""

from __future__ import annotations

import asyncio
import imaplib
import time
from pathlib import Path

import pytest

from mailtui.accounts import demo_spec, specs_for
from mailtui.errors import OpRejected, TransientError
from mailtui.store import Store
from mailtui.sync.contract import AccountStatus
from mailtui.sync.manager import SyncManager
from tests.integration.test_imap_sync import account
from tests.servers import MailUser


def server_folders(user: MailUser) -> set[str]:
    imap = imaplib.IMAP4_SSL(user.host, user.imaps_port, ssl_context=user.ssl_context())
    try:
        imap.login(user.name, user.password)
        _, lines = imap.list()
        return {line.decode().rsplit(' "/" ', 1)[-1].strip('"') for line in lines if line}
    finally:
        imap.logout()


async def online(manager: SyncManager) -> None:
    for _ in range(200):
        if all(s is AccountStatus.ONLINE for s, _ in manager.status().values()):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(manager.status())


async def test_create_rename_delete_reach_the_server_and_the_cache(
    mail_user: MailUser, store: Store
) -> None:
    specs = await specs_for(store, [account(mail_user, "tls")])
    account_id = specs[0].account.id
    manager = SyncManager(store, specs)
    await manager.start()
    try:
        await online(manager)
        name = await manager.change_folder(account_id, "create", "Projects/Ærø")
        assert name == "Projects/&AMY-r&APg-"  # modified UTF-7 on the wire
        assert name in server_folders(mail_user)
        cached = {f.name: f.display_name for f in await store.folders(account_id)}
        assert cached[name] == "Ærø"

        renamed = await manager.change_folder(account_id, "rename", name, "Projects/Zeus")
        assert renamed == "Projects/Zeus"
        on_server = server_folders(mail_user)
        assert "Projects/Zeus" in on_server and name not in on_server
        cached_names = {f.name for f in await store.folders(account_id)}
        assert "Projects/Zeus" in cached_names and name not in cached_names

        with pytest.raises(OpRejected, match="cannot create"):
            await manager.change_folder(account_id, "create", "Projects/Zeus")  # exists

        await manager.change_folder(account_id, "delete", "Projects/Zeus")
        assert "Projects/Zeus" not in server_folders(mail_user)
        assert "Projects/Zeus" not in {f.name for f in await store.folders(account_id)}
    finally:
        await manager.stop()


async def test_accounts_that_cannot_or_are_not_syncing(store: Store, tmp_path: Path) -> None:
    demo = await demo_spec(store, tmp_path, count=5)
    manager = SyncManager(store, [demo])
    with pytest.raises(TransientError, match="not syncing"):
        await manager.change_folder(demo.account.id, "create", "New")
    await manager.start()
    try:
        await online(manager)
        with pytest.raises(OpRejected, match="cannot manage folders"):
            await manager.change_folder(demo.account.id, "create", "New")
    finally:
        await manager.stop()


async def test_from_the_ui_at_80x24(mail_user: MailUser, store: Store) -> None:
    from textual.widgets import Input

    from mailtui.app import MailApp
    from mailtui.ui.modals import FolderPicker
    from mailtui.ui.modals.confirm import ConfirmScreen
    from mailtui.ui.modals.text_prompt import TextPrompt
    from tests.ui.conftest import screen_text, typing_goes_to

    specs = await specs_for(store, [account(mail_user, "tls")])
    manager = SyncManager(store, specs)
    app = MailApp(store, manager)
    app.animation_level = "none"

    async def until(condition: object, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout  # wall-clock: the suite runs on two busy cores
        while not condition():  # type: ignore[operator]
            notes = [n.message for n in app._notifications]
            assert time.monotonic() < deadline, f"{notes}\n{screen_text(app)}"
            await pilot.pause(0.05)

    def told(text: str) -> bool:
        return any(text in n.message for n in app._notifications)

    async with app.run_test(size=(80, 24)) as pilot:
        # The first sync has listed the folders and the Inbox is open.
        await until(lambda: "in step" in screen_text(app) and "Inbox ·" in screen_text(app))
        await pilot.press("plus")
        await until(lambda: typing_goes_to(app, TextPrompt))
        await pilot.press(*"Reports", "enter")
        await until(lambda: told("Created Reports"))
        assert "Reports" in server_folders(mail_user)

        await pilot.press("c")  # go to the new folder
        await until(lambda: typing_goes_to(app, FolderPicker))
        await pilot.press(*"Reports", "enter")
        await until(lambda: "Reports" in screen_text(app).splitlines()[-2])
        await pilot.press("ctrl+r")
        await until(lambda: typing_goes_to(app, TextPrompt))
        app.screen.query_one(Input).value = "Reports 2026"
        await pilot.press("enter")
        await until(lambda: told("Renamed to Reports 2026"))
        assert "Reports 2026" in server_folders(mail_user)

        await pilot.press("c")
        await until(lambda: typing_goes_to(app, FolderPicker))
        await pilot.press(*"Reports 2026", "enter")
        await until(lambda: "Reports 2026" in screen_text(app).splitlines()[-2])
        await pilot.press("minus")
        await until(lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(lambda: told("Deleted Reports 2026"))
        assert not {"Reports", "Reports 2026"} & server_folders(mail_user)
    await manager.stop()
