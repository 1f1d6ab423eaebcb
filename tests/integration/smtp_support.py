"""Shared by the SMTP integration tests: accounts on the harness servers, a store with
an IMAP-like folder list, reading mail back over IMAP."""

from __future__ import annotations

import email
import email.policy
import imaplib
import shlex
from dataclasses import replace
from pathlib import Path

from mailtui.compose import Attachment, Draft, Identity, build_message
from mailtui.config import AccountConfig, SmtpConfig
from mailtui.models import Account, AccountKind, Address, FolderRole, RemoteFolder
from mailtui.store import Store
from mailtui.sync import outbox
from tests.servers import MailUser

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40


def account_config(
    user: MailUser, *, security: str = "starttls", port: int | None = None, ca: bool = True
) -> AccountConfig:
    command = f"printf %s {shlex.quote(user.password)}"
    smtp_port = (
        port if port is not None else (user.smtps_port if security == "tls" else user.smtp_port)
    )
    return AccountConfig(
        name=user.name,
        kind=AccountKind.IMAP,
        email=user.email,
        username=user.name,
        host=user.host,
        port=user.imaps_port,
        security="tls",
        password_command=command,
        ca_file=user.ca_path if ca else None,
        display_name="Sender Sänger",
        smtp=SmtpConfig(
            host=user.host,
            port=smtp_port,
            security=security,
            username=user.name,
            password_command=command,
        ),
    )


async def prepared_store(path: Path, acc: AccountConfig) -> tuple[Store, Account, int]:
    """A store with the account and its folders as an IMAP sync would list them."""
    store = await Store.open(path)
    account = await store.ensure_account(acc.name, acc.kind, acc.email)
    ids = await store.sync_folders(
        account.id,
        [
            RemoteFolder("INBOX", "INBOX", FolderRole.INBOX),
            RemoteFolder("Sent", "Sent", FolderRole.SENT),
        ],
    )
    return store, account, ids["Sent"]


def sender(store: Store, account: Account, acc: AccountConfig) -> outbox.OutboxSender:
    return outbox.OutboxSender(
        store,
        account,
        outbox.submission(acc),
        file_sent=outbox.files_sent_copy(acc),
        options=outbox.SenderOptions(lock_timeout=5),
    )


def draft(
    acc: AccountConfig, *to: str, subject: str = "Grüße from the outbox", **kw: object
) -> Draft:
    d = Draft(
        from_=outbox.identities(acc)[0],
        to=tuple(Address("", a) for a in to),
        subject=subject,
        body="Hello,\nthis is ünïcode text.\n",
        attachments=(
            Attachment("Übersicht März.pdf", "application/pdf", PDF),
            Attachment("notes.txt", "text/plain", "ça va\n".encode()),
        ),
    )
    return replace(d, **kw)  # type: ignore[arg-type]


async def queue(store: Store, account: Account, d: Draft) -> tuple[int, str]:
    msg = build_message(d)
    return await outbox.queue(store, account.id, msg), msg.message_id


def imap_messages(user: MailUser, folder: str = "INBOX") -> list[email.message.EmailMessage]:
    imap = imaplib.IMAP4_SSL(user.host, user.imaps_port, ssl_context=user.ssl_context())
    try:
        imap.login(user.name, user.password)
        imap.select(folder, readonly=True)
        _, data = imap.uid("SEARCH", "ALL")
        out: list[email.message.EmailMessage] = []
        for uid in data[0].split():
            _, fetched = imap.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = fetched[0][1]
            assert isinstance(raw, bytes)
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(msg, email.message.EmailMessage)
            out.append(msg)
        return out
    finally:
        imap.logout()


__all__ = ["Identity"]
