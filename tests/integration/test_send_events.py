"""What the outbox sender tells the status bar at once, from the real SMTP server's
answers: refused for good, deferred, perhaps sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailtui.models import OutboxState
from mailtui.sync import outbox
from mailtui.sync.contract import EventKind, SyncEvent
from tests.integration.smtp_support import account_config, draft, prepared_store, queue
from tests.servers import MailUser, SMTPServer


@pytest.mark.parametrize(
    ("fault", "kind", "said", "state"),
    [
        (
            {"data_reply": "554 5.6.0 Message refused"},
            EventKind.SEND_FAILED,
            "Not sent: the server refused the message: 554 5.6.0 Message refused",
            OutboxState.FAILED,
        ),
        (
            {"refuse_auth": True},
            EventKind.SEND_FAILED,
            "Not sent: 127.0.0.1 refused the login",
            OutboxState.QUEUED,
        ),
        (
            {"mail_reply": "452 4.3.1 Out of memory"},
            EventKind.SEND_DEFERRED,
            "Not sent yet, will retry: the server deferred the sender address",
            OutboxState.QUEUED,
        ),
        (
            {"drop_after_delivery": True},
            EventKind.SEND_FAILED,
            "Perhaps sent, check: the server closed the connection after receiving",
            OutboxState.UNCERTAIN,
        ),
    ],
)
async def test_the_sender_says_at_once_why_a_message_was_not_sent(
    tmp_path: Path,
    mail_user: MailUser,
    smtp_server: SMTPServer,
    fault: dict[str, object],
    kind: EventKind,
    said: str,
    state: OutboxState,
) -> None:
    acc = account_config(mail_user)
    store, account, _ = await prepared_store(tmp_path / "mail.sqlite", acc)
    try:
        events: list[SyncEvent] = []
        sender = outbox.OutboxSender(
            store,
            account,
            outbox.submission(acc),
            emit=events.append,
            options=outbox.SenderOptions(lock_timeout=5),
        )
        item, _ = await queue(store, account, draft(acc, "someone@example.com"))
        with smtp_server.inject(**fault):
            await sender.flush()
        texts = [e.text for e in events if e.kind == kind]
        assert len(texts) == 1 and texts[0].startswith(said), events
        assert not [e for e in events if e.kind == EventKind.SENT]
        [it] = await store.outbox(account.id)
        assert (it.id, it.state) == (item, state)
    finally:
        await store.close()
