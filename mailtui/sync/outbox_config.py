"""How an account's outbox reaches its SMTP server: settings, credentials and the
submission the outbox sender (``mailtui.sync.outbox``) hands mail to, from the
account's config."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from mailtui import secrets
from mailtui.compose.message import Identity
from mailtui.config import AccountConfig
from mailtui.protocols.net.credentials import credentials, once_more_if_refused
from mailtui.protocols.smtp import (
    Credentials,
    SmtpAuthError,
    SmtpConfigError,
    SmtpConnection,
    SmtpSettings,
    SmtpTransientError,
)
from mailtui.sync.contract import KindSpec, Submission, SubmissionFactory

Connect = Callable[[], Awaitable[SmtpConnection]]



def identities(acc: AccountConfig) -> tuple[Identity, ...]:
    """The account's From identities: its own address first, then ``identities``."""
    own = Identity(acc.email, acc.display_name)
    extra = tuple(Identity(addr, name) for name, addr in acc.identities)
    return (own, *(i for i in extra if i.addr.casefold() != acc.email.casefold()))


def smtp_settings(acc: AccountConfig) -> SmtpSettings:
    if acc.smtp is None:
        raise SmtpConfigError(f"account {acc.name!r} has no [accounts.{acc.name}.smtp] settings")
    smtp = acc.smtp
    # The account's trust unless the [smtp] table names its own.
    own = smtp.ca_file is not None or smtp.tls_fingerprint is not None
    return SmtpSettings(
        host=smtp.host,
        port=smtp.port,
        security=smtp.security,
        username=smtp.username,
        ca_file=smtp.ca_file if own else acc.ca_file,
        tls_fingerprint=smtp.tls_fingerprint if own else acc.tls_fingerprint,
        login=smtp.auth != "none",
    )


async def smtp_credentials(acc: AccountConfig, fresh: bool = False) -> Credentials:
    """The SMTP server's password or OAuth access token, looked up as for every
    protocol (``mailtui.protocols.net.credentials``). Raises SmtpConfigError when there
    is none, SmtpTransientError when the OAuth provider could not be asked."""
    try:
        return await credentials(acc, smtp=True, fresh=fresh)
    except secrets.SecretUnavailable as exc:
        raise SmtpTransientError(str(exc)) from None
    except secrets.SecretError as exc:
        raise SmtpConfigError(str(exc)) from None


def connector(acc: AccountConfig) -> Connect:
    """Opens an authenticated SMTP connection for ``acc`` (credentials fetched each time;
    a token refused before its expiry is replaced once by a fresh one)."""

    async def connect() -> SmtpConnection:
        settings = smtp_settings(acc)

        async def attempt(fresh: bool) -> SmtpConnection:
            return await SmtpConnection.open(settings, await smtp_credentials(acc, fresh))

        return await once_more_if_refused(acc, attempt, (SmtpAuthError,), smtp=True)

    return connect


class SmtpSubmission:
    """An SMTP connection as the outbox sender's ``Submission``."""

    def __init__(self, connection: SmtpConnection) -> None:
        self.connection = connection

    async def submit(
        self,
        mail_from: str,
        recipients: Sequence[str],
        raw: bytes,
        *,
        before_data: Callable[[], Awaitable[None]] | None = None,
    ) -> str:
        return await self.connection.send(mail_from, recipients, raw, before_data=before_data)

    async def close(self) -> None:
        await self.connection.close()


def submission(acc: AccountConfig) -> SubmissionFactory:
    """Opens an SMTP submission for ``acc`` (an authenticated connection, see
    ``connector``): the outbox sender of an account that sends through SMTP."""
    connect = connector(acc)

    async def open_submission() -> Submission:
        return SmtpSubmission(await connect())

    return open_submission


def files_sent_copy(acc: AccountConfig, spec: KindSpec | None = None) -> bool:
    """Whether sent mail is filed in Sent by mailtui: where the account's kind (``spec``,
    by default the registry's) does it (IMAP), unless the server does it itself
    (``copy_to_sent = false``)."""
    if spec is None:
        from mailtui.protocols.kinds import kind

        spec = kind(acc.kind)
    return spec.files_sent and (acc.smtp is None or acc.smtp.copy_to_sent)
