"""Sent mail of a local account (``KindSpec.local``, POP3) is filed in its local Sent
folder, with its bytes: sent through the real SMTP server of the test harness, never a
"no Sent folder" question (the account always has one, made before the first sync if
need be), and after the sync worker completes the APPEND in the store it reads, searches
and exports as any message. The account's backend is the in-test local one of
``tests/unit/test_sync_local.py`` (a contract stand-in for the POP3 backend)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from mailtui.models import AccountKind, FolderRole, OutboxState
from mailtui.store import Store
from mailtui.sync import outbox
from mailtui.sync.contract import EventKind, SyncEvent
from mailtui.sync.worker import Worker
from tests.integration.smtp_support import account_config, draft, queue
from tests.servers import MailUser, SMTPServer
from tests.unit.test_sync_local import LocalInbox


async def test_sent_mail_is_filed_in_the_local_sent_folder_without_asking(
    tmp_path: Path, mail_user_factory: Callable[..., MailUser], smtp_server: SMTPServer
) -> None:
    me, rcpt = mail_user_factory("me"), mail_user_factory("rcpt")
    acc = replace(account_config(me), kind=AccountKind.POP3)
    store = await Store.open(tmp_path / "mail.sqlite")
    try:
        # A new account: no sync yet, so no folder at all in the store.
        account = await store.ensure_account(acc.name, acc.kind, acc.email)
        events: list[SyncEvent] = []
        sender = outbox.OutboxSender(
            store,
            account,
            outbox.submission(acc),
            file_sent=True,
            local_folders=True,
            emit=events.append,
            options=outbox.SenderOptions(lock_timeout=5),
        )
        item, message_id = await queue(store, account, draft(acc, rcpt.email, subject="Kiwi"))
        assert (await sender.flush()).all_sent
        assert len(smtp_server.messages_to(rcpt.email)) == 1
        assert [e.text for e in events if e.kind is EventKind.SENT] == ["Sent · copy in Sent"]
        assert not [e for e in events if e.kind is EventKind.NO_SENT_FOLDER]
        [waiting] = await store.outbox(account.id)
        assert (waiting.id, waiting.state) == (item, OutboxState.SENT)

        backend = LocalInbox()
        await Worker(account, lambda: backend, store, events.append).run(once=True)
        assert backend.applied == []
        assert await store.outbox(account.id) == []  # filed: the outbox is done with it
        sent = next(f for f in await store.folders(account.id) if f.role is FolderRole.SENT)
        [row] = await store.window(sent.id, 0, 10)
        detail = await store.message(row.id)
        assert detail is not None and detail.raw is not None
        assert detail.raw == smtp_server.messages_to(rcpt.email)[0].data
        assert detail.envelope.message_id == message_id
        assert [r.id for r in await store.search("Kiwi", 10, sent.id)] == [row.id]
    finally:
        await store.close()
