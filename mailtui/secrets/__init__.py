"""Passwords and tokens. Nothing else in mailtui reads the keyring or runs the
commands that print secrets.

A password comes from an account's ``password_command`` (run through the shell, first
line of its output; for headless SSH hosts without a keyring) or else from the system
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
from typing import TYPE_CHECKING

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
    remember_for_this_run,
    store_in_keyring,
)

if TYPE_CHECKING:
    from mailtui.auth.client import Client

__all__ = [
    "AUTH_DATA",
    "COMMAND_TIMEOUT",
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
    "redact",
    "remember_for_this_run",
    "store_in_keyring",
    "store_sign_in",
    "stored_access",
]

COMMAND_TIMEOUT = 30.0


async def from_command(command: str, key: str = "password_command") -> str:
    """The first line the command prints; ``key`` names the setting in errors."""
    try:
        proc = await asyncio.create_subprocess_shell(
            command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation
        # that arrives with the result (a stopping worker would then go on).
        async with asyncio.timeout(COMMAND_TIMEOUT):
            out, err = await proc.communicate()
    except TimeoutError:
        proc.kill()
        raise SecretError(f"{key} took longer than {COMMAND_TIMEOUT:.0f} s") from None
    except OSError as exc:
        raise SecretError(f"{key} could not run: {exc.strerror}") from None
    if proc.returncode != 0:
        detail = err.decode("utf-8", "replace").strip().splitlines()
        tail = f": {detail[-1][:200]}" if detail else ""
        raise SecretError(f"{key} failed with exit code {proc.returncode}{tail}")
    lines = out.decode("utf-8", "replace").splitlines()
    if not lines or not lines[0]:
        raise SecretError(f"{key} printed nothing")
    return handed_out(lines[0])


async def password(account: str, command: str | None, purpose: str = "") -> str:
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
    account: str, command: str | None, client: Client | None = None, *, fresh: bool = False
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


