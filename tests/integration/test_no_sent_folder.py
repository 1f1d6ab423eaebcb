"""An account without a Sent folder: the copy of what is sent is never dropped silently.
It is filed in a folder named as other clients name Sent, or waits in the outbox while
the user is asked (once); declined, the user is told that no copy is kept."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mailtui.config import AccountConfig
from mailtui.models import Account, FolderRole, OpKind, OutboxState, RemoteFolder
from mailtui.store import Store
from mailtui.sync import outbox
from mailtui.sync.contract import EventKind, SyncEvent
from tests.integration.smtp_support import account_config, draft, queue
from tests.servers import MailUser, SMTPServer


async def _store(path: Path, acc: AccountConfig, *folders: RemoteFolder) -> tuple[Store, Account]:
    store = await Store.open(path)
    account = await store.ensure_account(acc.name, acc.kind, acc.email)
    await store.sync_folders(
        account.id, [RemoteFolder("INBOX", "INBOX", FolderRole.INBOX), *folders]
    )
    return store, account


def _sender(
    store: Store, account: Account, acc: AccountConfig, events: list[SyncEvent]
) -> outbox.OutboxSender:
    return outbox.OutboxSender(
        store,
        account,
        outbox.submission(acc),
        file_sent=outbox.files_sent_copy(acc),
        emit=events.append,
        options=outbox.SenderOptions(lock_timeout=5),
    )


def _said(events: list[SyncEvent], kind: EventKind) -> list[str]:
    return [e.text for e in events if e.kind == kind]


async def test_a_sent_folder_found_by_its_name(
    tmp_path: Path, mail_user_factory: Callable[..., MailUser], smtp_server: SMTPServer
) -> None:
    me, rcpt = mail_user_factory("me"), mail_user_factory("rcpt")
    acc = account_config(me)
    # The server marks no folder \Sent; "Sent Items" is what Outlook calls it.
    store, account = await _store(
        tmp_path / "mail.sqlite", acc, RemoteFolder("Sent Items", "Sent Items")
    )
    try:
        events: list[SyncEvent] = []
        item, _ = await queue(store, account, draft(acc, rcpt.email))
        assert (await _sender(store, account, acc, events).flush()).all_sent
        sent_items = next(f.id for f in await store.folders(account.id) if f.name == "Sent Items")
        [op] = await store.pending_ops(account.id, 10)
        assert (op.kind, op.folder_id, op.payload["outbox_id"]) == (OpKind.APPEND, sent_items, item)
        assert _said(events, EventKind.SENT) == ["Sent · copy in Sent Items"]
        assert _said(events, EventKind.NO_SENT_FOLDER) == []
    finally:
        await store.close()


async def test_no_sent_folder_keeps_the_copy_asks_and_files_it_once_created(
    tmp_path: Path, mail_user_factory: Callable[..., MailUser], smtp_server: SMTPServer
) -> None:
    me, rcpt = mail_user_factory("me"), mail_user_factory("rcpt")
    acc = account_config(me)
    store, account = await _store(tmp_path / "mail.sqlite", acc)
    try:
        events: list[SyncEvent] = []
        sender = _sender(store, account, acc, events)
        item, _ = await queue(store, account, draft(acc, rcpt.email))
        assert (await sender.flush()).all_sent
        assert len(smtp_server.messages_to(rcpt.email)) == 1
        # Sent, and its copy waits in the outbox: nothing was dropped.
        [it] = await store.outbox(account.id)
        assert (it.id, it.state) == (item, OutboxState.SENT)
        assert _said(events, EventKind.SENT) == [
            "Sent · no Sent folder yet: the copy waits in the outbox"
        ]
        assert len(_said(events, EventKind.NO_SENT_FOLDER)) == 1  # the UI asks
        # The user said yes and the folder was created (the worker re-reads the list).
        await store.set_sent_copies(account.id, "create")
        await store.sync_folders(
            account.id,
            [RemoteFolder("INBOX", "INBOX", FolderRole.INBOX), RemoteFolder("Sent", "Sent")],
        )
        await sender.flush()
        sent = next(f.id for f in await store.folders(account.id) if f.name == "Sent")
        [op] = await store.pending_ops(account.id, 10)
        assert (op.kind, op.folder_id) == (OpKind.APPEND, sent)
        assert len(smtp_server.messages_to(rcpt.email)) == 1  # filed, not sent again
    finally:
        await store.close()


async def test_declined_sends_without_a_copy_and_says_so(
    tmp_path: Path, mail_user_factory: Callable[..., MailUser], smtp_server: SMTPServer
) -> None:
    me, rcpt = mail_user_factory("me"), mail_user_factory("rcpt")
    acc = account_config(me)
    store, account = await _store(tmp_path / "mail.sqlite", acc)
    try:
        events: list[SyncEvent] = []
        sender = _sender(store, account, acc, events)
        await queue(store, account, draft(acc, rcpt.email, subject="first"))
        await sender.flush()
        await store.set_sent_copies(account.id, "none")  # the user said no
        await sender.flush()
        assert await store.outbox(account.id) == []  # the waiting copy is let go
        await queue(store, account, draft(acc, rcpt.email, subject="second"))
        await sender.flush()
        assert await store.outbox(account.id) == []
        assert _said(events, EventKind.SENT)[-1] == "Sent · no copy kept (no Sent folder)"
        assert len(_said(events, EventKind.NO_SENT_FOLDER)) == 1  # asked once only
        assert len(smtp_server.messages_to(rcpt.email)) == 2
    finally:
        await store.close()
