"""Passwords and tokens. Nothing else in mailtui reads the keyring or runs the
commands that print secrets.

A password comes from an account's ``password_command`` (first line of its output, run
without a shell unless written with shell syntax: ``command.py``; for headless SSH hosts
without a keyring) or else from the system
keyring under service ``mailtui`` and the key ``<account>`` (``<account>:smtp`` for a
separate SMTP password; ``store.py``). Secrets are never written to the config, the
cache, or a log (``redact.py`` blanks them in the logs).

OAuth2 accounts (``auth = "oauth2"``) need an *access token* instead (``access_token``):
from the account's ``token_command`` (it prints a fresh token; tools like oama or
mutt_oauth2.py get and refresh it); else, for an account with an OAuth2 client
(``[accounts.<name>.oauth]``), from its sign-in (``mailtui login``) kept in the keyring
and refreshed before it expires (``signin.py``); else the keyring's ``<account>:oauth2``
holds a plain access token.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mailtui.secrets.command import COMMAND_TIMEOUT, first_line
from mailtui.secrets.errors import SecretError, SecretUnavailable, SignInAgain
from mailtui.secrets.redact import AUTH_DATA, Redactor, handed_out, redact
from mailtui.secrets.signin import (
    REFRESH_MARGIN,
    forget_sign_in,
    signed_in_token,
    store_sign_in,
    stored_access,
)
from mailtui.secrets.store import (
    SERVICE,
    delete_from_keyring,
    file_store_in_use,
    from_keyring,
    keyring_problem,
    provisional,
    remember_for_this_run,
    store_in_keyring,
)

if TYPE_CHECKING:
    from mailtui.auth.client import Client

__all__ = [
    "AUTH_DATA",
    "COMMAND_TIMEOUT",
    "Command",
    "OAUTH_PURPOSE",
    "REFRESH_MARGIN",
    "SERVICE",
    "Redactor",
    "SecretError",
    "SecretUnavailable",
    "SignInAgain",
    "access_token",
    "delete_from_keyring",
    "file_store_in_use",
    "forget_sign_in",
    "from_command",
    "from_keyring",
    "keyring_problem",
    "password",
    "provisional",
    "redact",
    "remember_for_this_run",
    "store_in_keyring",
    "store_sign_in",
    "stored_access",
]

#: A command as config.toml has it: a string (split like a shell) or a list of words.
Command = str | Sequence[str]


async def from_command(command: Command, key: str = "password_command") -> str:
    """The first line the command prints; ``key`` names the setting in errors
    (``command.py``: how it is run, without a shell unless it has shell syntax)."""
    return await first_line(command, key)


async def password(account: str, command: Command | None, purpose: str = "") -> str:
    """The password for ``account``: from its command if set, else from the keyring."""
    if command:
        return await from_command(command)
    value = await asyncio.to_thread(from_keyring, account, purpose)
    if value is None:
        raise SecretError(
            f"no password stored for account {account!r}: run `mailtui setup` or set "
            "password_command in the config"
        )
    return value


OAUTH_PURPOSE = "oauth2"  # a plain access token the user stored


async def access_token(
    account: str,
    command: Command | None,
    client: Client | None = None,
    *,
    fresh: bool = False,
) -> str:
    """An OAuth2 access token for ``account``: from its ``token_command`` if set (run
    each time, so it can hand out a refreshed token), else from its stored sign-in when
    it has an OAuth2 ``client`` (module docstring), else from the keyring entry
    ``<account>:oauth2``."""
    if command:
        token = await from_command(command, "token_command")
    elif client is not None:
        token = await signed_in_token(account, client, fresh)
    else:
        value = await asyncio.to_thread(from_keyring, account, OAUTH_PURPOSE)
        if value is None:
            raise SecretError(
                f"no OAuth access token for account {account!r}: set token_command in the "
                f"config (a command that prints a current token), or store one in the "
                f"keyring as {SERVICE} / {account}:{OAUTH_PURPOSE}"
            )
        token = value
    token = token.strip()
    if not token or any(c.isspace() or not c.isprintable() for c in token):
        raise SecretError(
            "the OAuth access token is empty or contains spaces or control characters"
        )
    return handed_out(token)


