"""End to end on real servers, through the same wiring the app uses (registry → manager →
IMAP worker + SMTP outbox sender): a message composed and queued is delivered to the
recipient's mailbox, filed once in the sender's Sent folder on Dovecot, and the outbox is
empty afterwards. Queued while the SMTP server is unreachable, it waits and goes later."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from mailtui.accounts import specs_for
from mailtui.compose import Draft, build_message, parse_addresses
from mailtui.models import FolderRole
from mailtui.store import Store
from mailtui.sync.manager import SyncManager
from mailtui.sync.outbox import identities
from tests.integration.smtp_support import account_config, imap_messages
from tests.servers import MailUser


async def wait_for(condition: object, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_sent_arrives_and_is_filed_in_sent_once(
    mail_user_factory: object, tmp_path: Path
) -> None:
    alice: MailUser = mail_user_factory("alice")  # type: ignore[operator]
    bob: MailUser = mail_user_factory("bob")  # type: ignore[operator]
    acc = account_config(alice)  # IMAP over TLS + SMTP with STARTTLS, harness CA trusted
    store = await Store.open(tmp_path / "mail.sqlite")
    try:
        specs = await specs_for(store, [acc])
        manager = SyncManager(store, specs)
        await manager.run_once()  # folders known, Sent included
        account_id = specs[0].account.id
        draft = Draft(
            from_=identities(acc)[0],
            to=parse_addresses(bob.email),
            subject="Filed once",
            body="Goes to Bob, copy in Alice's Sent.\n",
        )
        message = build_message(draft)
        await store.outbox_add(account_id, message.raw, message.mail_from, message.recipients)
        await manager.start()
        manager.kick(account_id)

        async def outbox_empty() -> bool:
            return not await store.outbox(account_id)

        try:
            await wait_for(outbox_empty)
        finally:
            await manager.stop()
        assert [m["Subject"] for m in imap_messages(bob)] == ["Filed once"]
        sent = imap_messages(alice, "Sent")
        assert [m["Message-ID"] for m in sent] == [message.message_id]
        # And the local cache shows it in Sent after the next sync, once.
        await SyncManager(store, specs).run_once()
        sent_folder = next(f for f in await store.folders() if f.role is FolderRole.SENT)
        assert (await store.count(sent_folder.id))[0] == 1
    finally:
        await store.close()


async def test_queued_while_smtp_is_down_goes_out_later(
    mail_user_factory: object, tmp_path: Path
) -> None:
    alice: MailUser = mail_user_factory("alice2")  # type: ignore[operator]
    bob: MailUser = mail_user_factory("bob2")  # type: ignore[operator]
    good = account_config(alice)
    assert good.smtp is not None
    down = replace(good, smtp=replace(good.smtp, port=1))  # nothing listens on port 1
    store = await Store.open(tmp_path / "mail.sqlite")
    try:
        specs = await specs_for(store, [down])
        account_id = specs[0].account.id
        draft = Draft(from_=identities(good)[0], to=parse_addresses(bob.email), subject="Later")
        message = build_message(draft)
        await store.outbox_add(account_id, message.raw, message.mail_from, message.recipients)
        manager = SyncManager(store, specs)
        await manager.start()
        manager.kick(account_id)
        await asyncio.sleep(1.0)
        await manager.stop()
        assert len(await store.outbox(account_id)) == 1
        assert imap_messages(bob) == []

        specs = await specs_for(store, [good])  # the server is reachable again
        manager = SyncManager(store, specs)
        await manager.start()
        manager.kick(account_id)

        async def outbox_empty() -> bool:
            return not await store.outbox(account_id)

        try:
            await wait_for(outbox_empty)
        finally:
            await manager.stop()
        assert [m["Subject"] for m in imap_messages(bob)] == ["Later"]
    finally:
        await store.close()


async def test_draft_copy_is_filed_replaced_and_removed_on_dovecot(
    mail_user: MailUser, tmp_path: Path
) -> None:
    from mailtui import mime

    acc = account_config(mail_user)
    store = await Store.open(tmp_path / "mail.sqlite")
    try:
        specs = await specs_for(store, [acc])
        account_id = specs[0].account.id
        await SyncManager(store, specs).run_once()  # the Drafts folder is known

        def copy(subject: str) -> tuple[bytes, str]:
            draft = Draft(
                from_=identities(acc)[0],
                to=parse_addresses("bob@example.org"),
                bcc=parse_addresses("hidden@example.org"),
                subject=subject,
                body="not finished\n",
            )
            return build_message(draft, draft_copy=True).raw, subject

        raw1, _ = copy("Draft one")
        first = await store.save_draft_copy(
            account_id, raw1, mime.parse_envelope(raw1), mime.body_text(raw1)
        )
        await SyncManager(store, specs).run_once()
        drafts = imap_messages(mail_user, "Drafts")
        assert [m["Subject"] for m in drafts] == ["Draft one"]
        assert drafts[0]["Bcc"] == "hidden@example.org"  # kept in the copy

        raw2, _ = copy("Draft two")
        second = await store.save_draft_copy(
            account_id, raw2, mime.parse_envelope(raw2), mime.body_text(raw2), replaces=first
        )
        await SyncManager(store, specs).run_once()
        assert [m["Subject"] for m in imap_messages(mail_user, "Drafts")] == ["Draft two"]
        drafts_folder = next(f for f in await store.folders() if f.role is FolderRole.DRAFTS)
        assert (await store.count(drafts_folder.id))[0] == 1  # no duplicate after the pull

        assert second is not None
        await store.discard_draft_copy(second)  # sent, or thrown away
        await SyncManager(store, specs).run_once()
        assert imap_messages(mail_user, "Drafts") == []
        assert (await store.count(drafts_folder.id))[0] == 0
    finally:
        await store.close()
