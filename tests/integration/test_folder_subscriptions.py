"""Folders on the server that the account does not subscribe, on the real Dovecot: listed
in the cache as not subscribed and not synced; subscribing one (through the worker, as
the folder pane's key does) syncs its mail; ``folders = "all"`` syncs every folder."""

from __future__ import annotations

import asyncio
import imaplib

from mailtui.accounts import specs_for
from mailtui.models import Folder
from mailtui.store import Store
from mailtui.sync.manager import SyncManager
from tests.integration.test_folder_admin import online
from tests.integration.test_imap_sync import account, sync
from tests.servers import MailUser


def client(user: MailUser) -> imaplib.IMAP4_SSL:
    imap = imaplib.IMAP4_SSL(user.host, user.imaps_port, ssl_context=user.ssl_context())
    imap.login(user.name, user.password)
    return imap


def unsubscribed_folder_with_mail(user: MailUser, name: str, count: int) -> None:
    """What another client (or the server's admin) leaves: a folder with mail that this
    user never subscribed."""
    imap = client(user)
    try:
        assert imap.create(name)[0] == "OK"
        for i in range(count):
            raw = f"From: a@example.test\r\nSubject: kept {i}\r\n\r\nbody {i}\r\n".encode()
            assert imap.append(name, None, None, raw)[0] == "OK"
        _, lines = imap.lsub()
        assert not any(name.encode() in line for line in lines if line)
    finally:
        imap.logout()


def subscribed_on_server(user: MailUser) -> set[str]:
    imap = client(user)
    try:
        _, lines = imap.lsub()
        return {line.decode().rsplit(' "/" ', 1)[-1].strip('"') for line in lines if line}
    finally:
        imap.logout()


async def folder(store: Store, account_id: int, name: str) -> Folder:
    (found,) = [f for f in await store.folders(account_id) if f.name == name]
    return found


async def test_an_unsubscribed_folder_is_listed_not_synced_until_subscribed(
    mail_user: MailUser, store: Store
) -> None:
    unsubscribed_folder_with_mail(mail_user, "Hidden", 3)
    specs = await specs_for(store, [account(mail_user, "tls")])
    account_id = specs[0].account.id
    manager = SyncManager(store, specs)
    await manager.start()
    try:
        await online(manager)
        hidden = await folder(store, account_id, "Hidden")
        assert (hidden.subscribed, hidden.total) == (False, 0)
        inbox = await folder(store, account_id, "INBOX")
        assert inbox.subscribed  # and special folders count as shown
        assert (await folder(store, account_id, "Trash")).subscribed

        assert await manager.change_folder(account_id, "subscribe", "Hidden") == "Hidden"
        assert "Hidden" in subscribed_on_server(mail_user)
        for _ in range(200):
            hidden = await folder(store, account_id, "Hidden")
            if hidden.total == 3:
                break
            await asyncio.sleep(0.05)
        assert (hidden.subscribed, hidden.total) == (True, 3)

        await manager.change_folder(account_id, "unsubscribe", "Hidden")
        assert "Hidden" not in subscribed_on_server(mail_user)
        assert (await folder(store, account_id, "Hidden")).subscribed is False
    finally:
        await manager.stop()


async def test_folders_all_syncs_every_folder(mail_user: MailUser, store: Store) -> None:
    unsubscribed_folder_with_mail(mail_user, "Hidden", 2)
    status, worker = await sync(store, account(mail_user, "tls", folders="all"))
    hidden = await folder(store, worker.account.id, "Hidden")
    assert (hidden.subscribed, hidden.total) == (True, 2)
    assert "Hidden" not in subscribed_on_server(mail_user)  # nothing changed on the server


async def test_subscribed_mode_does_not_sync_it(mail_user: MailUser, store: Store) -> None:
    unsubscribed_folder_with_mail(mail_user, "Hidden", 2)
    _, worker = await sync(store, account(mail_user, "tls"))
    hidden = await folder(store, worker.account.id, "Hidden")
    assert (hidden.subscribed, hidden.total) == (False, 0)
