"""An OAuth2 sign-in kept in the keyring, and fresh access tokens from it.

    <account>:oauth2-refresh   the refresh token
    <account>:oauth2-access    {"access_token": …, "expires_at": …} (JSON)

``signed_in_token`` returns the stored access token until ``REFRESH_MARGIN`` seconds
before it expires, then asks the provider for a new one with the refresh token (and
keeps the new refresh token if the provider rotates it); ``fresh`` asks at once (after a
server refused a token that looked valid). A refresh token the provider no longer takes
ends in ``SignInAgain`` and both entries are deleted, so nothing asks the provider again
until the user signs in again; a provider that cannot be reached is
``SecretUnavailable`` (try later).
"""

from __future__ import annotations

import asyncio
import json
import time
import weakref
from typing import TYPE_CHECKING

from mailtui.secrets.errors import SecretError, SecretUnavailable, SignInAgain
from mailtui.secrets.redact import handed_out
from mailtui.secrets.store import delete_from_keyring, from_keyring, store_in_keyring

if TYPE_CHECKING:
    from mailtui.auth.client import Client, Tokens

REFRESH_PURPOSE = "oauth2-refresh"
ACCESS_PURPOSE = "oauth2-access"
#: An access token this close to its expiry (seconds) is refreshed before it is used.
REFRESH_MARGIN = 300.0

_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _lock(account: str) -> asyncio.Lock:
    """One refresh at a time per account (IMAP, its second connection and SMTP may
    all want a token at once; a provider that rotates refresh tokens would otherwise
    see the old one used twice)."""
    locks = _locks.setdefault(asyncio.get_running_loop(), {})
    return locks.setdefault(account, asyncio.Lock())


def store_sign_in(account: str, tokens: Tokens) -> None:
    """Keeps a sign-in's tokens (``mailtui login``); without a refresh token only the
    access token is kept, and the account must sign in again when it expires."""
    handed_out(tokens.access_token)
    if tokens.refresh_token:
        store_in_keyring(account, handed_out(tokens.refresh_token), REFRESH_PURPOSE)
    else:
        delete_from_keyring(account, REFRESH_PURPOSE)
    store_in_keyring(account, tokens.to_json(), ACCESS_PURPOSE)


def forget_sign_in(account: str) -> None:
    delete_from_keyring(account, ACCESS_PURPOSE)
    delete_from_keyring(account, REFRESH_PURPOSE)


def stored_access(account: str) -> tuple[str, float | None] | None:
    raw = from_keyring(account, ACCESS_PURPOSE)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        token, expires_at = data["access_token"], data.get("expires_at")
    except (ValueError, KeyError, TypeError):
        return None  # damaged: refresh
    if not isinstance(token, str) or not isinstance(expires_at, int | float | None):
        return None
    return token, None if expires_at is None else float(expires_at)


def _sign_in_again(account: str, why: str) -> SignInAgain:
    return SignInAgain(f"{why}; sign in again: mailtui login {account}")


async def signed_in_token(account: str, client: Client, fresh: bool) -> str:
    from mailtui.auth.client import OAuthError, OAuthUnreachable, SignInRequired, refresh

    async with _lock(account):
        stored = await asyncio.to_thread(stored_access, account)
        if not fresh and stored is not None and (
            stored[1] is None or stored[1] - REFRESH_MARGIN > time.time()
        ):
            return stored[0]
        refresh_token = await asyncio.to_thread(from_keyring, account, REFRESH_PURPOSE)
        if refresh_token is None:
            why = (
                f"account {account!r} is not signed in"
                if stored is None
                else f"the access token of account {account!r} has run out and there is "
                "no refresh token"
            )
            raise _sign_in_again(account, why)
        try:
            tokens = await refresh(client, refresh_token)
        except SignInRequired as exc:
            await asyncio.to_thread(forget_sign_in, account)
            raise _sign_in_again(account, str(exc)) from None
        except OAuthUnreachable as exc:
            raise SecretUnavailable(f"no fresh access token: {exc}") from None
        except OAuthError as exc:
            raise SecretError(str(exc)) from None
        await asyncio.to_thread(store_sign_in, account, tokens)
        return tokens.access_token
