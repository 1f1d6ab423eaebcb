"""Sending through an SMTP relay that takes mail without a login (``auth = "none"``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from mailtui.config import AccountConfig
from mailtui.models import OutboxState
from tests.integration.smtp_support import (
    account_config,
    draft,
    imap_messages,
    prepared_store,
    queue,
    sender,
)
from tests.servers import MailUser, SMTPServer


def _relay_account(user: MailUser, relay: SMTPServer, **smtp: object) -> AccountConfig:
    acc = account_config(user, security="starttls", port=relay.port)
    assert acc.smtp is not None
    return dataclasses.replace(
        acc, smtp=dataclasses.replace(acc.smtp, **smtp)  # type: ignore[arg-type]
    )


async def test_auth_none_sends_through_a_relay_without_auth(
    tmp_path: Path,
    mail_user_factory: Callable[..., MailUser],
    relay_server: SMTPServer,
) -> None:
    me, rcpt = mail_user_factory("me"), mail_user_factory("rcpt")
    # No login name and no password command: nothing to run, nothing to ask.
    acc = _relay_account(me, relay_server, auth="none", username="", password_command=None)
    store, account, _ = await prepared_store(tmp_path / "mail.sqlite", acc)
    try:
        _, message_id = await queue(store, account, draft(acc, rcpt.email))
        report = await sender(store, account, acc).flush()
        assert report.all_sent, report
        assert [r.state for r in report.results] == [OutboxState.SENT]
        [accepted] = relay_server.messages_to(rcpt.email)
        assert accepted.tls and accepted.login is None  # STARTTLS kept, no AUTH
        [msg] = imap_messages(rcpt)
        assert msg["Message-ID"] == message_id
    finally:
        await store.close()


async def test_a_login_against_a_relay_without_auth_says_to_set_auth_none(
    tmp_path: Path,
    mail_user_factory: Callable[..., MailUser],
    relay_server: SMTPServer,
) -> None:
    me, rcpt = mail_user_factory("me"), mail_user_factory("rcpt")
    acc = _relay_account(me, relay_server)  # auth: the account's password
    store, account, _ = await prepared_store(tmp_path / "mail.sqlite", acc)
    try:
        item, _ = await queue(store, account, draft(acc, rcpt.email))
        report = await sender(store, account, acc).flush()
        assert not report.all_sent and not report.transient
        assert "no AUTH" in report.stopped
        assert 'set auth = "none"' in report.stopped
        [it] = await store.outbox(account.id)
        assert (it.id, it.state) == (item, OutboxState.QUEUED)
        assert relay_server.messages_to(rcpt.email) == []
    finally:
        await store.close()
