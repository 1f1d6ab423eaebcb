"""The sync manager runs each account's outbox sender: a message queued from the UI's
path (build, outbox_add, kick) goes out through the real SMTP server, arrives in the
recipient's Dovecot mailbox, and its copy is filed in the account's Sent folder by the
account's worker (here the demo backend, which files APPENDs like a server)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from mailtui.accounts import demo_spec, outbox_sender
from mailtui.compose import Draft, build_message, parse_addresses
from mailtui.models import OutboxState
from mailtui.store import Store
from mailtui.sync.manager import SyncManager, WorkerSpec
from mailtui.sync.outbox import identities
from tests.integration.smtp_support import account_config, imap_messages
from tests.servers import MailUser


async def test_queued_message_is_sent_and_filed(
    mail_user_factory: object, tmp_path: Path
) -> None:
    sender_user: MailUser = mail_user_factory("sender")  # type: ignore[operator]
    rcpt: MailUser = mail_user_factory("rcpt")  # type: ignore[operator]
    acc = account_config(sender_user)
    store = await Store.open(tmp_path / "mail.sqlite")
    try:
        demo = await demo_spec(store, tmp_path, count=30)
        spec = WorkerSpec(
            demo.account,
            demo.factory,
            demo.options,
            sender=lambda emit, on_sent: outbox_sender(store, demo.account, acc, emit, on_sent),
        )
        manager = SyncManager(store, [spec])
        await manager.run_once()  # folders known, Sent included
        draft = Draft(
            from_=identities(acc)[0],
            to=parse_addresses(rcpt.email),
            subject="Through the manager",
            body="Sent by the account's outbox sender.\n",
        )
        message = build_message(draft)
        item_id = await store.outbox_add(
            demo.account.id, message.raw, message.mail_from, message.recipients
        )
        await manager.start()
        manager.kick(demo.account.id)
        try:
            for _ in range(200):
                await asyncio.sleep(0.05)
                if not await store.outbox(demo.account.id):
                    break  # sent and filed: the item is gone
        finally:
            await manager.stop()
        assert await store.outbox(demo.account.id) == [], "not sent and filed in time"
        arrived = imap_messages(rcpt)
        assert any(m["Subject"] == "Through the manager" for m in arrived)
        with sqlite3.connect(tmp_path / "server.sqlite") as db:
            rows = db.execute("SELECT raw FROM messages WHERE folder = 'Sent'")
            filed = [bytes(r[0]) for r in rows]
        assert message.raw in filed
        assert item_id > 0
    finally:
        await store.close()


async def test_offline_message_waits_in_the_outbox(tmp_path: Path, mail_user: MailUser) -> None:
    acc = account_config(mail_user, port=1)  # nothing listens there
    store = await Store.open(tmp_path / "mail.sqlite")
    try:
        demo = await demo_spec(store, tmp_path, count=5)
        spec = WorkerSpec(
            demo.account,
            demo.factory,
            demo.options,
            sender=lambda emit, on_sent: outbox_sender(store, demo.account, acc, emit, on_sent),
        )
        manager = SyncManager(store, [spec])
        draft = Draft(from_=identities(acc)[0], to=parse_addresses("x@example.org"), body="x")
        message = build_message(draft)
        await store.outbox_add(demo.account.id, message.raw, message.mail_from, message.recipients)
        await manager.start()
        manager.kick(demo.account.id)
        await asyncio.sleep(1.0)
        await manager.stop()
        (item,) = await store.outbox(demo.account.id)
        assert item.state is OutboxState.QUEUED
        assert "127.0.0.1" in item.last_error  # says which server could not be reached
    finally:
        await store.close()
