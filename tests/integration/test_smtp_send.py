"""Sending through the real SMTP submission server into Dovecot, with the outbox."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from mailtui.models import OpKind, OutboxState
from mailtui.sync import outbox
from tests.integration.smtp_support import (
    PDF,
    account_config,
    draft,
    imap_messages,
    prepared_store,
    queue,
    sender,
)
from tests.servers import MailUser, SMTPServer
from tests.servers.ports import free_ports


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_send_arrives_with_headers_and_attachments(
    tmp_path: Path,
    mail_user_factory: Callable[..., MailUser],
    smtp_server: SMTPServer,
    security: str,
) -> None:
    me, rcpt, hidden = mail_user_factory("me"), mail_user_factory("rcpt"), mail_user_factory("bcc")
    acc = account_config(me, security=security)
    store, account, sent_folder = await prepared_store(tmp_path / "mail.sqlite", acc)
    try:
        from mailtui.models import Address

        d = draft(acc, rcpt.email, bcc=(Address("", hidden.email),))
        item, message_id = await queue(store, account, d)
        report = await sender(store, account, acc).flush()
        assert report.all_sent, report
        assert [r.state for r in report.results] == [OutboxState.SENT]

        [accepted] = smtp_server.messages_to(rcpt.email)
        assert accepted.tls and accepted.login == me.name
        assert sorted(accepted.rcpt_tos) == sorted([rcpt.email, hidden.email])
        [msg] = imap_messages(rcpt)
        assert msg["Message-ID"] == message_id
        assert msg["Subject"] == "Grüße from the outbox"
        assert msg["From"] == f"Sender Sänger <{me.email}>"
        assert msg["To"] == rcpt.email
        assert msg["Bcc"] is None
        assert message_id.endswith("@" + me.email.rpartition("@")[2] + ">")
        body = msg.get_body(("plain",))
        assert body is not None and "this is ünïcode text." in body.get_content()
        atts = {p.get_filename(): p.get_content() for p in msg.iter_attachments()}
        assert atts == {"Übersicht März.pdf": PDF, "notes.txt": "ça va\n"}
        assert len(imap_messages(hidden)) == 1  # Bcc delivered, yet invisible

        # Accepted: waits only to be filed in Sent, through one APPEND op.
        [it] = await store.outbox(account.id)
        assert (it.id, it.state) == (item, OutboxState.SENT)
        [op] = await store.pending_ops(account.id, 10)
        assert (op.kind, op.folder_id, op.payload) == (
            OpKind.APPEND,
            sent_folder,
            {"folder": sent_folder, "outbox_id": item},
        )
        assert await store.append_source(op) == it.raw
        # Flushing again sends nothing twice and queues no second APPEND.
        again = await sender(store, account, acc).flush()
        assert again.results == [] and again.all_sent
        assert len(smtp_server.messages_to(rcpt.email)) == 1
        assert len(await store.pending_ops(account.id, 10)) == 1
    finally:
        await store.close()


class _Recorder:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(getattr(envelope, "content", b""))
        return "250 OK"


async def test_starttls_required_but_not_offered_is_refused(
    tmp_path: Path, mail_user: MailUser
) -> None:
    recorder = _Recorder()
    [port] = free_ports(1)
    plain = Controller(recorder, hostname="127.0.0.1", port=port, auth_require_tls=False)
    plain.start()
    try:
        acc = account_config(mail_user, security="starttls", port=port)
        store, account, _ = await prepared_store(tmp_path / "mail.sqlite", acc)
        try:
            item, _ = await queue(store, account, draft(acc, "someone@example.com"))
            report = await sender(store, account, acc).flush()
            assert "does not offer STARTTLS" in report.stopped
            assert "plain text" in report.stopped
            assert not report.transient and not report.all_sent
            [it] = await store.outbox(account.id)
            assert (it.id, it.state) == (item, OutboxState.QUEUED)
            assert "does not offer STARTTLS" in it.last_error
            assert recorder.messages == []
        finally:
            await store.close()
    finally:
        plain.stop()


async def test_implicit_tls_against_a_plain_port_fails_clearly(
    tmp_path: Path, mail_user: MailUser
) -> None:
    acc = account_config(mail_user, security="tls", port=mail_user.smtp_port)
    store, account, _ = await prepared_store(tmp_path / "mail.sqlite", acc)
    try:
        await queue(store, account, draft(acc, "someone@example.com"))
        report = await sender(store, account, acc).flush()
        assert report.stopped.startswith("TLS with 127.0.0.1:")
        assert "Traceback" not in report.stopped
        [it] = await store.outbox(account.id)
        assert it.state is OutboxState.QUEUED
    finally:
        await store.close()


async def test_untrusted_certificate_is_refused(tmp_path: Path, mail_user: MailUser) -> None:
    acc = account_config(mail_user, security="tls", ca=False)
    store, account, _ = await prepared_store(tmp_path / "mail.sqlite", acc)
    try:
        await queue(store, account, draft(acc, "someone@example.com"))
        report = await sender(store, account, acc).flush()
        assert "could not be verified" in report.stopped and "ca_file" in report.stopped
        assert not report.transient
        assert mail_user.sent_messages() == []
    finally:
        await store.close()


async def test_auth_refused_keeps_the_message(
    tmp_path: Path, mail_user: MailUser, smtp_server: SMTPServer
) -> None:
    acc = account_config(mail_user)
    store, account, _ = await prepared_store(tmp_path / "mail.sqlite", acc)
    try:
        item, _ = await queue(store, account, draft(acc, "someone@example.com"))
        with smtp_server.inject(refuse_auth=True):
            report = await sender(store, account, acc).flush()
        assert report.stopped.startswith(f"127.0.0.1 refused the login for '{mail_user.name}': 535")
        assert not report.transient
        [it] = await store.outbox(account.id)
        assert (it.id, it.state, it.attempts) == (item, OutboxState.QUEUED, 0)
        assert "refused the login" in it.last_error
        # Fixed (here: the fault cleared), it goes.
        assert (await sender(store, account, acc).flush()).all_sent
        assert len(mail_user.sent_messages()) == 1
    finally:
        await store.close()


async def test_refused_recipient_sends_to_no_one_and_says_who(
    tmp_path: Path,
    mail_user_factory: Callable[..., MailUser],
    smtp_server: SMTPServer,
) -> None:
    me, good = mail_user_factory("me"), mail_user_factory("good")
    acc = account_config(me)
    store, account, _ = await prepared_store(tmp_path / "mail.sqlite", acc)
    try:
        bad = "nobody-" + good.email  # a local domain, no such user: 550 by the server
        item, _ = await queue(store, account, draft(acc, good.email, bad, "full@example.com"))
        with smtp_server.inject(reject_rcpts={"full@example.com": "452 4.2.2 Mailbox full"}):
            report = await sender(store, account, acc).flush()
        [r] = report.results
        assert r.state is OutboxState.FAILED
        assert r.refused == {
            bad: "550 5.1.1 User unknown",
            "full@example.com": "452 4.2.2 Mailbox full",
        }
        assert "refused 2 recipients" in r.text and "nothing was sent" in r.text
        assert smtp_server.messages_to(good.email) == []  # all or nothing
        [it] = await store.outbox(account.id)
        assert (it.id, it.state) == (item, OutboxState.FAILED)
        assert bad in it.last_error
    finally:
        await store.close()


async def test_only_temporarily_refused_recipients_retry_later(
    tmp_path: Path,
    mail_user_factory: Callable[..., MailUser],
    smtp_server: SMTPServer,
) -> None:
    me, rcpt = mail_user_factory("me"), mail_user_factory("rcpt")
    acc = account_config(me)
    store, account, _ = await prepared_store(tmp_path / "mail.sqlite", acc)
    try:
        await queue(store, account, draft(acc, rcpt.email))
        with smtp_server.inject(reject_rcpts={rcpt.email.lower(): "452 4.2.2 Mailbox full"}):
            report = await sender(store, account, acc).flush()
        assert report.transient
        [it] = await store.outbox(account.id)
        assert it.state is OutboxState.QUEUED and "452 4.2.2 Mailbox full" in it.last_error
        assert (await sender(store, account, acc).flush()).all_sent
        assert len(smtp_server.messages_to(rcpt.email)) == 1
    finally:
        await store.close()


async def test_temporary_data_refusal_is_retried(
    tmp_path: Path, mail_user_factory: Callable[..., MailUser], smtp_server: SMTPServer
) -> None:
    me, rcpt = mail_user_factory("me"), mail_user_factory("rcpt")
    acc = account_config(me)
    store, account, _ = await prepared_store(tmp_path / "mail.sqlite", acc)
    try:
        await queue(store, account, draft(acc, rcpt.email))
        with smtp_server.inject(data_reply="451 4.3.0 Try again later"):
            report = await sender(store, account, acc).flush()
        assert report.transient and "451 4.3.0 Try again later" in report.stopped
        [it] = await store.outbox(account.id)
        assert (it.state, it.attempts) == (OutboxState.QUEUED, 1)
        assert (await sender(store, account, acc).flush()).all_sent
        assert len(smtp_server.messages_to(rcpt.email)) == 1
    finally:
        await store.close()


@pytest.mark.parametrize("fault", ["drop_in_data", "drop_after_delivery"])
async def test_connection_closed_mid_data_keeps_the_message_uncertain(
    tmp_path: Path,
    mail_user_factory: Callable[..., MailUser],
    smtp_server: SMTPServer,
    fault: str,
) -> None:
    """The client cannot tell these two apart: both wait for the user, never resent by
    themselves, so drop_after_delivery never becomes a duplicate."""
    me, rcpt = mail_user_factory("me"), mail_user_factory("rcpt")
    acc = account_config(me)
    store, account, _ = await prepared_store(tmp_path / "mail.sqlite", acc)
    try:
        item, _ = await queue(store, account, draft(acc, rcpt.email))
        with smtp_server.inject(**{fault: True}):
            report = await sender(store, account, acc).flush()
        [r] = report.results
        assert r.state is OutboxState.UNCERTAIN
        assert "closed the connection after receiving the message" in r.text
        assert "may or may not have been sent" in r.text
        [it] = await store.outbox(account.id)
        assert (it.id, it.state) == (item, OutboxState.UNCERTAIN)
        delivered = 1 if fault == "drop_after_delivery" else 0
        assert len(smtp_server.messages_to(rcpt.email)) == delivered
        # Not resent on its own...
        assert (await sender(store, account, acc).flush()).results == []
        assert len(smtp_server.messages_to(rcpt.email)) == delivered
        if fault == "drop_after_delivery":  # ...the user says it went: filed, not resent
            await outbox.mark_sent(store, item)
            [it] = await store.outbox(account.id)
            assert it.state is OutboxState.SENT
            assert [o.kind for o in await store.pending_ops(account.id, 10)] == [OpKind.APPEND]
        else:  # ...the user retries: sent once
            await outbox.retry(store, item)
            assert (await sender(store, account, acc).flush()).all_sent
        assert len(smtp_server.messages_to(rcpt.email)) == 1
    finally:
        await store.close()


async def test_discard_and_edit_while_queued(
    tmp_path: Path, mail_user_factory: Callable[..., MailUser], smtp_server: SMTPServer
) -> None:
    me, rcpt = mail_user_factory("me"), mail_user_factory("rcpt")
    acc = account_config(me)
    store, account, _ = await prepared_store(tmp_path / "mail.sqlite", acc)
    try:
        gone, _ = await queue(store, account, draft(acc, rcpt.email, subject="never"))
        await outbox.discard(store, gone)
        edited, _ = await queue(store, account, draft(acc, rcpt.email, subject="first try"))
        item = await outbox.take_for_edit(store, edited)
        assert (await sender(store, account, acc).flush()).results == []  # held back
        from mailtui.compose import build_message

        new_id = await outbox.replace(
            store, item.id, build_message(draft(acc, rcpt.email, subject="second try"))
        )
        assert (await sender(store, account, acc).flush()).all_sent
        [msg] = imap_messages(rcpt)
        assert msg["Subject"] == "second try"
        assert [i.id for i in await store.outbox(account.id)] == [new_id]
    finally:
        await store.close()


async def test_run_retries_with_backoff_until_the_server_takes_it(
    tmp_path: Path, mail_user_factory: Callable[..., MailUser], smtp_server: SMTPServer
) -> None:
    me, rcpt = mail_user_factory("me"), mail_user_factory("rcpt")
    acc = account_config(me)
    store, account, _ = await prepared_store(tmp_path / "mail.sqlite", acc)
    try:
        await queue(store, account, draft(acc, rcpt.email))
        s = outbox.OutboxSender(
            store,
            account,
            outbox.submission(acc),
            options=outbox.SenderOptions(backoff_initial=0.2, backoff_max=0.5),
        )
        with smtp_server.inject(mail_reply="421 4.3.2 Shutting down", times=2):
            task = asyncio.create_task(s.run())
            try:
                for _ in range(100):
                    if smtp_server.messages_to(rcpt.email):
                        break
                    await asyncio.sleep(0.1)
            finally:
                task.cancel()
        assert len(smtp_server.messages_to(rcpt.email)) == 1
    finally:
        await store.close()


async def test_security_none_sends_in_plain_text_when_configured(
    tmp_path: Path, mail_user: MailUser
) -> None:
    """``security = "none"`` (a relay on loopback): plain SMTP with AUTH, only because the
    config says so."""
    from aiosmtpd.smtp import AuthResult, LoginPassword

    logins: list[str] = []

    def authenticator(
        server: object, session: object, envelope: object, mechanism: str, data: object
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.password == mail_user.password.encode()
        if ok:
            logins.append(data.login.decode())  # type: ignore[union-attr]
        return AuthResult(success=ok)

    recorder = _Recorder()
    [port] = free_ports(1)
    plain = Controller(
        recorder,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,
    )
    plain.start()
    try:
        acc = account_config(mail_user, security="none", port=port)
        store, account, _ = await prepared_store(tmp_path / "mail.sqlite", acc)
        try:
            await queue(store, account, draft(acc, "someone@example.com"))
            report = await sender(store, account, acc).flush()
            assert report.all_sent, report
            assert len(recorder.messages) == 1
            assert logins == [mail_user.name]
        finally:
            await store.close()
    finally:
        plain.stop()
