"""One POP3 session of an account: a logged-in ``Pop3Client`` and its maildrop listing
(message number → server id and size), valid until QUIT.

A maildrop is locked while a session is open (RFC 1939 8) and shows no new mail, so the
backend keeps one open only while it works: a pull and the deletions that settle it, or
a body the user asked for.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from mailtui import secrets
from mailtui.config import AccountConfig
from mailtui.errors import AuthError, ConfigError, TransientError
from mailtui.models import Security
from mailtui.protocols.net.connect import client_context
from mailtui.protocols.net.credentials import credentials, once_more_if_refused, uses_oauth
from mailtui.protocols.pop3.client import CommandRefused, Pop3Client, UidlUnsupported

#: The password, or an access token (``fresh``: a new one, after the server refused one).
SecretSource = Callable[[bool], Awaitable[str]]


class Session:
    """A logged-in connection and what UIDL and LIST said."""

    def __init__(self, client: Pop3Client, sizes: dict[int, int], ids: dict[int, str]) -> None:
        self.client = client
        self.sizes = sizes  # number -> octets
        self.ids = ids  # number -> server id (UIDL; without UIDL filled as retrieved)
        self.numbers = {sid: n for n, sid in ids.items()}
        self.has_uidl = bool(ids) or not sizes
        self.pulled = False  # a pull has used this session's listing
        self.opened = time.monotonic()  # when the listing was taken

    def age(self) -> float:
        """Seconds since the listing was taken."""
        return time.monotonic() - self.opened

    @property
    def login_delay(self) -> int:
        """Seconds the server wants between two logins (CAPA LOGIN-DELAY, RFC 2449),
        0 when it says nothing."""
        words = self.client.capabilities.get("LOGIN-DELAY", ())
        return int(words[0]) if words and words[0].isdigit() else 0

    def note(self, number: int, server_id: str) -> None:
        """A server id learnt from the message itself (a server without UIDL)."""
        self.ids[number] = server_id
        self.numbers[server_id] = number


async def open_client(account: AccountConfig, secret: SecretSource, timeout: float) -> Pop3Client:
    """A new connection, TLS as configured, logged in (APOP, SASL PLAIN, USER/PASS, or
    OAuth). A refused access token is asked for anew once, on a new connection, when the
    account's sign-in can give one (``once_more_if_refused``)."""
    if uses_oauth(account):
        return await once_more_if_refused(
            account, lambda fresh: _login(account, secret, fresh, timeout), (AuthError,)
        )
    return await _login(account, secret, False, timeout)


async def _login(
    account: AccountConfig, secret: SecretSource, fresh: bool, timeout: float
) -> Pop3Client:
    security = Security(account.security)
    password = await secret(fresh)
    client = await Pop3Client.open(
        account.host,
        account.port,
        security,
        client_context(account.security, account.ca_file, account.tls_fingerprint),
        timeout,
        fingerprint=account.tls_fingerprint if security != Security.NONE else None,
    )
    try:
        if uses_oauth(account):
            await client.login_oauth(account.username, password, account.port)
        else:
            await client.login(account.username, password, apop=account.apop)
    except BaseException:
        await client.abort()
        raise
    return client


async def list_maildrop(client: Pop3Client, uidl_needed: bool) -> Session:
    """UIDL and LIST of a logged-in client. A server without UIDL is a ConfigError
    unless ``uidl_needed`` is False (the account deletes every message after download)."""
    try:
        sizes = await client.list()
        try:
            ids = await client.uidl()
        except UidlUnsupported as exc:
            if uidl_needed:
                raise ConfigError(
                    f"{exc}: set leave_on_server = false for this account, or use a "
                    "server that offers UIDL"
                ) from None
            ids = {}
    except CommandRefused as exc:
        raise TransientError(str(exc)) from None
    if ids and set(ids) != set(sizes):
        raise TransientError("the server's UIDL and LIST answers name different messages")
    return Session(client, sizes, ids)


def secret_source(account: AccountConfig) -> SecretSource:
    """The password (asked once, kept in memory for each login of this backend), or a
    fresh OAuth access token (asked for every login: tokens expire)."""
    kept: list[str] = []

    async def secret(fresh: bool) -> str:
        try:
            if uses_oauth(account):
                return (await credentials(account, fresh=fresh)).secret
            if not kept:
                kept.append((await credentials(account)).secret)
            return kept[0]
        except secrets.SecretError as exc:
            raise AuthError(str(exc)) from None

    return secret
