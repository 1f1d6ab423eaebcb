"""Sending over ActiveSync against the suite's real SOGo: the outbox sender with the
exchange kind's submission (SendMail, SmartReply, SmartForward) delivers through SOGo's
SMTP server into the recipient's mailbox with a copy in the sender's Sent folder; a wrong
password leaves the message queued with a clear reason; a server that does not answer
once the message went makes it uncertain, never sent again by itself."""

from __future__ import annotations

import email
import email.policy
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from mailtui import accounts
from mailtui.compose import Draft, Identity, build_message, parse_addresses
from mailtui.config import AccountConfig
from mailtui.models import (
    Account,
    AccountKind,
    Envelope,
    Flag,
    FolderBatch,
    FolderRole,
    NewMessage,
    Origin,
    OutboxState,
    RemoteFolder,
)
from mailtui.protocols.eas.sendmail import open_submission
from mailtui.store import Store
from mailtui.sync import outbox
from mailtui.sync.contract import EventKind, SyncEvent
from tests.servers import EASUser, SOGoServer

pytestmark = pytest.mark.integration


def exchange_account(user: EASUser, password: str | None = None) -> AccountConfig:
    secret = user.password if password is None else password
    return AccountConfig(
        name=user.name,
        kind=AccountKind.EXCHANGE,
        email=user.email,
        username=user.name,
        host="127.0.0.1",
        port=80,
        security="none",  # SOGo's ActiveSync in the suite is plain http on loopback
        password_command=f"printf %s {shlex.quote(secret)}",
        url=user.url,
    )


class StoredState:
    def __init__(self, store: Store, account_id: int) -> None:
        self.store, self.account_id = store, account_id

    async def load(self) -> Mapping[str, Any]:
        return await self.store.account_state(self.account_id)

    async def setdefault(self, key: str, value: Any) -> Any:
        return await self.store.account_state_setdefault(self.account_id, key, value)

    async def update(self, values: Mapping[str, Any]) -> None:
        await self.store.account_state_update(self.account_id, values)


def folder_count(sogo: SOGoServer, user: str, folder: str) -> int:
    imap = sogo.imap(user)
    try:
        typ, found = imap.select(folder, readonly=True)
        assert typ == "OK", found
        return int(found[0] or 0)
    finally:
        imap.logout()


def draft_to(acc: AccountConfig, to: str, subject: str, **kw: Any) -> Draft:
    return Draft(
        from_=Identity(acc.email, "Ann Sender"),
        to=parse_addresses(to),
        subject=subject,
        body=f"{subject}: the body.\n",
        **kw,
    )


async def _sender(
    tmp_path: Path, acc: AccountConfig, events: list[SyncEvent]
) -> tuple[Store, Account, outbox.OutboxSender]:
    store = await Store.open(tmp_path / "mail.sqlite")
    account = await store.ensure_account(acc.name, acc.kind, acc.email)
    sender = accounts.outbox_sender(store, account, acc, events.append)
    assert sender is not None and not sender.file_sent  # the server files the copy
    return store, account, sender


async def test_sendmail_arrives_with_a_copy_in_sent(
    eas_user: EASUser, sogo: SOGoServer, tmp_path: Path
) -> None:
    sogo.add_user(f"{eas_user.name}_to", "secret2")
    sogo.add_user(f"{eas_user.name}_bcc", "secret3")
    to, bcc = sogo.email(f"{eas_user.name}_to"), sogo.email(f"{eas_user.name}_bcc")
    acc = exchange_account(eas_user)
    events: list[SyncEvent] = []
    store, account, sender = await _sender(tmp_path, acc, events)
    try:
        message = build_message(
            draft_to(acc, to, "Over ActiveSync", bcc=parse_addresses(bcc))
        )
        assert b"Bcc:" not in message.raw  # the composer keeps Bcc out of the bytes
        await outbox.queue(store, account.id, message)
        report = await sender.flush()
        assert report.all_sent, report
        [result] = report.results
        assert result.state is OutboxState.SENT and "(SendMail)" in result.text
        assert await store.outbox(account.id) == []  # nothing of it left to file
        assert [e.text for e in events if e.kind is EventKind.SENT] == [
            "Sent · the server keeps the copy"
        ]
        [accepted] = eas_user.sent_messages()
        # Both got it: To from the MIME, the Bcc recipient from the field mailtui added.
        assert sorted(accepted.delivered_to) == sorted(
            [f"{eas_user.name}_to", f"{eas_user.name}_bcc"]
        )
        delivered = email.message_from_bytes(accepted.data, policy=email.policy.default)
        assert delivered["Subject"] == "Over ActiveSync"
        assert delivered["Bcc"] is None  # SOGo takes the field out, as Exchange does
        assert folder_count(sogo, f"{eas_user.name}_to", "INBOX") == 1
        assert folder_count(sogo, f"{eas_user.name}_bcc", "INBOX") == 1
        assert folder_count(sogo, eas_user.name, "Sent") == 1
        # The DeviceId the sender used is the account's, for the sync backend too.
        state = await store.account_state(account.id)
        assert len(state["device_id"]) == 32
    finally:
        await store.close()


async def test_a_reply_goes_as_smartreply_and_a_forward_as_smartforward(
    eas_user: EASUser, sogo: SOGoServer, tmp_path: Path
) -> None:
    """The original as the exchange backend keeps it: the folder's server name is its
    CollectionId, the message's remote id its ServerId. One with no remote id (not on
    the server) goes as SendMail."""
    sogo.add_user(f"{eas_user.name}_to", "secret2")
    to = sogo.email(f"{eas_user.name}_to")
    sogo.deliver(eas_user.name, b"From: " + to.encode() + b"\r\nTo: " + eas_user.email.encode()
                 + b"\r\nSubject: question\r\nMessage-ID: <q1@test>\r\n\r\nWell?\r\n")  # fmt: skip
    acc = exchange_account(eas_user)
    store, account, sender = await _sender(tmp_path, acc, [])
    try:
        ids = await store.sync_folders(
            account.id, [RemoteFolder("mail%2FINBOX", "Inbox", FolderRole.INBOX)]
        )
        await store.apply_batch(
            ids["mail%2FINBOX"],
            FolderBatch(
                "mail%2FINBOX",
                added=[NewMessage("1", Envelope(subject="question", message_id="q1@test"))],
                complete=True,
            ),
        )
        [original] = await store.window(ids["mail%2FINBOX"], 0, 10)
        for subject, flag in (("Re: question", Flag.ANSWERED), ("Fwd: question", Flag.FORWARDED)):
            origin = Origin(original.id, "q1@test", flag)
            await outbox.queue(store, account.id, build_message(draft_to(acc, to, subject)), origin)
        gone = Origin(None, "<not-here@test>", Flag.ANSWERED)
        await outbox.queue(store, account.id, build_message(draft_to(acc, to, "Re: gone")), gone)
        report = await sender.flush()
        assert report.all_sent, report
        commands = {r.subject: r.text.rsplit("(", 1)[1].rstrip(")") for r in report.results}
        assert commands == {
            "Re: question": "SmartReply",
            "Fwd: question": "SmartForward",
            "Re: gone": "SendMail",
        }
        assert folder_count(sogo, f"{eas_user.name}_to", "INBOX") == 3
        assert folder_count(sogo, eas_user.name, "Sent") == 3
    finally:
        await store.close()


async def test_a_wrong_password_keeps_it_queued_with_the_reason(
    eas_user: EASUser, tmp_path: Path
) -> None:
    acc = exchange_account(eas_user, password="not-the-password")
    events: list[SyncEvent] = []
    store, account, sender = await _sender(tmp_path, acc, events)
    try:
        await outbox.queue(store, account.id, build_message(draft_to(acc, acc.email, "Nope")))
        report = await sender.flush()
        assert not report.all_sent and not report.transient
        assert "refused the user name or password" in report.stopped
        [item] = await store.outbox(account.id)
        assert item.state is OutboxState.QUEUED and "password" in item.last_error
        [failed] = [e for e in events if e.kind is EventKind.SEND_FAILED]
        assert "password" in failed.text
        assert eas_user.sent_messages() == []
    finally:
        await store.close()


async def test_no_answer_after_the_message_went_is_uncertain_and_not_resent(
    eas_user: EASUser, sogo: SOGoServer, tmp_path: Path
) -> None:
    """SOGo waits for its SMTP server, which takes longer than mailtui waits: the
    message went, no answer came. It becomes uncertain, and the next flush leaves it."""
    acc = exchange_account(eas_user)
    store = await Store.open(tmp_path / "mail.sqlite")
    account = await store.ensure_account(acc.name, acc.kind, acc.email)
    state = StoredState(store, account.id)

    async def impatient() -> Any:
        return await open_submission(acc, state, timeout=2.0)

    sender = outbox.OutboxSender(store, account, impatient, file_sent=False)
    try:
        await outbox.queue(store, account.id, build_message(draft_to(acc, acc.email, "Slow")))
        with sogo.smtp.inject(data_delay=5.0, times=1):
            report = await sender.flush()
        [result] = report.results
        assert result.state is OutboxState.UNCERTAIN
        assert "may or may not have been sent" in result.text
        again = await sender.flush()
        assert again.results == []  # never resent by itself
        [item] = await store.outbox(account.id)
        assert item.state is OutboxState.UNCERTAIN
    finally:
        await store.close()


async def test_a_recipient_the_smtp_server_refuses_fails_with_the_reason(
    eas_user: EASUser, sogo: SOGoServer, tmp_path: Path
) -> None:
    """SOGo's SMTP server refuses an unknown local user: SOGo answers status 120
    (MailSubmissionFailed), and the item fails for the user to act on."""
    acc = exchange_account(eas_user)
    events: list[SyncEvent] = []
    store, account, sender = await _sender(tmp_path, acc, events)
    try:
        nobody = sogo.email("nobody-here")
        await outbox.queue(store, account.id, build_message(draft_to(acc, nobody, "Lost")))
        report = await sender.flush()
        [result] = report.results
        assert result.state is OutboxState.FAILED
        assert result.text == (
            "SendMail at 127.0.0.1: the server could not send the message (status 120)"
        )
        assert [e for e in events if e.kind is EventKind.SEND_FAILED] != []
        assert eas_user.sent_messages() == []
    finally:
        await store.close()


async def test_a_reply_to_a_synced_message_through_the_apps_wiring(
    eas_user: EASUser, sogo: SOGoServer, tmp_path: Path
) -> None:
    """End to end: the exchange backend syncs the Inbox, a reply to a message there goes
    as SmartReply with the ServerId and CollectionId the backend stored, and the
    original's Answered flag reaches the server with the next sync."""
    from mailtui.accounts import specs_for
    from mailtui.sync.manager import SyncManager

    sogo.add_user(f"{eas_user.name}_to", "secret2")
    to = sogo.email(f"{eas_user.name}_to")
    lunch = (f"From: {to}\r\nTo: {eas_user.email}\r\nSubject: lunch?\r\n"
             "Message-ID: <lunch@test>\r\n\r\nAt one?\r\n")  # fmt: skip
    sogo.deliver(eas_user.name, lunch.encode())
    acc = eas_user.account()
    store = await Store.open(tmp_path / "mail.sqlite")
    try:
        specs = await specs_for(store, [acc])
        manager = SyncManager(store, specs)
        await manager.run_once()
        inbox = next(f for f in await store.folders() if f.role is FolderRole.INBOX)
        [original] = await store.window(inbox.id, 0, 10)
        origin = Origin(original.id, "<lunch@test>", Flag.ANSWERED)
        reply = build_message(draft_to(acc, to, "Re: lunch?"))
        await outbox.queue(store, specs[0].account.id, reply, origin)
        sender = accounts.outbox_sender(store, specs[0].account, acc)
        assert sender is not None
        report = await sender.flush()
        [result] = report.results
        assert result.state is OutboxState.SENT and result.text.endswith("(SmartReply))")
        assert folder_count(sogo, f"{eas_user.name}_to", "INBOX") == 1
        await SyncManager(store, specs).run_once()  # the Answered flag goes to the server
        imap = sogo.imap(eas_user.name)
        try:
            imap.select("INBOX", readonly=True)
            typ, data = imap.fetch("1", "(FLAGS)")
            assert typ == "OK" and b"\\Answered" in data[0], data
        finally:
            imap.logout()
    finally:
        await store.close()
