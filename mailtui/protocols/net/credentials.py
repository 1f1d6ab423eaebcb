"""The secret an account logs in with: one lookup for IMAP, POP3 and SMTP.

``credentials(acc)`` is what the account's own server (IMAP, POP3) takes;
``credentials(acc, smtp=True)`` what its ``[accounts.<name>.smtp]`` server takes. Where
each comes from (``mailtui.secrets`` runs the commands and reads the keyring):

    auth        account server                        SMTP server
    password    password_command, else keyring        smtp.password_command (the
                <account>                             account's if unset), else keyring
                                                      <account>:smtp, else <account>
    oauth2      token_command, else the sign-in       smtp.token_command, else the
                (``mailtui login``) when the account  account's; else as for the account
                has an ``oauth`` table, else keyring
                <account>:oauth2

(the SMTP table's ``auth`` falls back to the account's). With the SMTP table's ``auth =
"none"`` (a relay that takes mail without a login) there is no secret: nothing is run
or looked up. A token is asked for at each
login (``token_command`` can hand out a refreshed one, a sign-in refreshes one before it
expires); with ``fresh=True`` a sign-in asks the provider for a new one at once: what a
login does, once, when the server refused a token that had not expired
(``refreshable``). Whether a password is kept in
memory between logins is the caller's choice. ``secrets.SecretError`` says in plain words
why there is none; each protocol turns it into its own error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from mailtui import secrets
from mailtui.config import AccountConfig


@dataclass(frozen=True, slots=True, repr=False)
class Credentials:
    """A password or an OAuth access token (never both); ``repr`` hides them."""

    password: str | None = None
    oauth_token: str | None = None

    @property
    def secret(self) -> str:
        """The token or the password, whichever this is ("" for none)."""
        return self.oauth_token or self.password or ""

    def __repr__(self) -> str:
        kind = "oauth" if self.oauth_token else "password" if self.password else "none"
        return f"Credentials(<{kind}>)"


def uses_oauth(acc: AccountConfig, smtp: bool = False) -> bool:
    """Whether the account's server (or its SMTP server) takes an OAuth access token."""
    if smtp:
        return acc.smtp is not None and (acc.smtp.auth or acc.auth) == "oauth2"
    return acc.auth == "oauth2"


def no_login(acc: AccountConfig) -> bool:
    """Whether the account's SMTP server takes mail without a login (``auth = "none"``)."""
    return acc.smtp is not None and acc.smtp.auth == "none"


def refreshable(acc: AccountConfig, smtp: bool = False) -> bool:
    """Whether a refused token can be replaced by a fresh one from the account's
    sign-in (no token_command, an OAuth2 client configured)."""
    if not uses_oauth(acc, smtp) or acc.oauth is None:
        return False
    command = acc.token_command
    if smtp and acc.smtp is not None:
        command = acc.smtp.token_command or command
    return not command


T = TypeVar("T")


async def once_more_if_refused(
    acc: AccountConfig,
    attempt: Callable[[bool], Awaitable[T]],
    refused: tuple[type[BaseException], ...],
    *,
    smtp: bool = False,
) -> T:
    """``attempt(False)``: a login with the token as it is; when the server refuses it
    (``refused``) and the account's sign-in can give a new one, ``attempt(True)`` once,
    the caller asking ``credentials(..., fresh=True)``. What POP3 and Exchange logins
    use as SMTP does; IMAP retries on the same connection (``imap/client.py``)."""
    try:
        return await attempt(False)
    except refused:
        if not refreshable(acc, smtp):
            raise
        return await attempt(True)


async def credentials(
    acc: AccountConfig, *, smtp: bool = False, fresh: bool = False
) -> Credentials:
    """The password or access token for ``acc``'s server, or with ``smtp`` for its SMTP
    server (see the module docstring). Raises ``secrets.SecretError``."""
    if smtp and no_login(acc):
        return Credentials()
    if uses_oauth(acc, smtp):
        command = acc.token_command
        if smtp and acc.smtp is not None:
            command = acc.smtp.token_command or command
        token = await secrets.access_token(acc.name, command, acc.oauth, fresh=fresh)
        return Credentials(oauth_token=token)
    if not smtp:
        return Credentials(password=await secrets.password(acc.name, acc.password_command))
    command = acc.smtp.password_command if acc.smtp else acc.password_command
    if command:
        # The SMTP table's own command is named as such; one inherited from the account
        # (the reader copies it) as the account's.
        own = acc.smtp is not None and command != acc.password_command
        key = "smtp.password_command" if own else "password_command"
        return Credentials(password=await secrets.from_command(command, key))
    for purpose in ("smtp", ""):
        value = await asyncio.to_thread(secrets.from_keyring, acc.name, purpose)
        if value is not None:
            return Credentials(password=value)
    raise secrets.SecretError(
        f"no password stored for account {acc.name!r}: run `mailtui setup` or set "
        "password_command in the config"
    )
