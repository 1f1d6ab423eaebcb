"""After a reply or a forward is sent, the original carries \\Answered or $Forwarded on
the real Dovecot (through a SET_FLAGS op the sender queues with the send), and not
before the send."""

from __future__ import annotations

import asyncio
import imaplib
from dataclasses import replace
from pathlib import Path

import pytest

from mailtui.accounts import specs_for
from mailtui.compose import build_message, forward, parse_addresses, read_original, reply
from mailtui.models import Flag, Origin
from mailtui.store import Store
from mailtui.sync import outbox
from mailtui.sync.manager import SyncManager
from tests.integration.smtp_support import account_config
from tests.servers import MailUser

ORIGINAL = (
    b"From: Bob <bob@example.org>\r\nTo: someone@example.org\r\n"
    b"Subject: Lunch?\r\nMessage-ID: <lunch-1@example.org>\r\n"
    b"Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n\r\nShall we?\r\n"
)


def server_flags(user: MailUser, folder: str = "INBOX") -> list[str]:
    imap = imaplib.IMAP4_SSL(user.host, user.imaps_port, ssl_context=user.ssl_context())
    try:
        imap.login(user.name, user.password)
        imap.select(folder, readonly=True)
        _, data = imap.uid("FETCH", "1:*", "(FLAGS)")
        return [d.decode() for d in data if isinstance(d, bytes)]
    finally:
        imap.logout()


async def wait_for(condition: object, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize(
    ("kind", "flag", "keyword"),
    [("reply", Flag.ANSWERED, "\\Answered"), ("forward", Flag.FORWARDED, "$Forwarded")],
)
async def test_sent_answer_flags_the_original_on_the_server(
    mail_user_factory: object, tmp_path: Path, kind: str, flag: Flag, keyword: str
) -> None:
    alice: MailUser = mail_user_factory("alice")  # type: ignore[operator]
    bob: MailUser = mail_user_factory("bob")  # type: ignore[operator]
    alice.deliver(ORIGINAL.replace(b"bob@example.org", bob.email.encode()))
    acc = account_config(alice)
    store = await Store.open(tmp_path / "mail.sqlite")
    try:
        specs = await specs_for(store, [acc])
        account_id = specs[0].account.id
        await SyncManager(store, specs).run_once()
        inbox = next(f for f in await store.folders() if f.name == "INBOX")
        [row] = await store.window(inbox.id, 0, 10)
        detail = await store.message(row.id)
        assert detail is not None
        original = read_original(alice.message_files()[0].read_bytes())
        me = list(outbox.identities(acc))
        if kind == "reply":
            draft = reply(original, me)
        else:
            draft = replace(forward(original, me), to=parse_addresses(bob.email))
        message = build_message(draft)
        origin = Origin(row.id, detail.envelope.message_id, flag)
        await outbox.queue(store, account_id, message, origin)
        # Queued is not sent: nothing is marked yet.
        assert not (await store.message(row.id)).row.flags & flag  # type: ignore[union-attr]

        manager = SyncManager(store, specs)
        await manager.start()
        manager.kick(account_id)

        async def done() -> bool:
            return not await store.outbox(account_id) and not await store.pending_ops(
                account_id, 10
            )

        try:
            await wait_for(done)
        finally:
            await manager.stop()
        after = await store.message(row.id)
        assert after is not None and after.row.flags & flag  # the list shows it
        [flags] = server_flags(alice)
        assert keyword in flags
    finally:
        await store.close()
