"""Passwords and tokens: the only module that imports keyring.

A secret comes from an account's ``password_command`` (run through the shell, first line
of its output; for headless SSH hosts without a keyring) or else from the system keyring
under service ``mailtui`` and the key ``<account>`` (``<account>:smtp`` for a separate SMTP
password). Secrets are never written to the config, the cache, or a log.

OAuth2 accounts (``auth = "oauth2"``) need an *access token* instead (``access_token``):
from the account's ``token_command`` (it prints a fresh token; tools like oama or
mutt_oauth2.py get and refresh it); else, for an account with an OAuth2 client
(``[accounts.<name>.oauth]``), from its sign-in (``mailtui login``) kept in the keyring:

    <account>:oauth2-refresh   the refresh token
    <account>:oauth2-access    {"access_token": …, "expires_at": …} (JSON)

The access token is used until ``REFRESH_MARGIN`` seconds before it expires, then a new
one is asked for with the refresh token (and the refresh token replaced if the provider
rotates it); ``fresh=True`` (after a server refused a token that looked valid) asks for a
new one at once. A refresh token the provider no longer takes ends in ``SignInAgain``
and both entries are deleted, so nothing asks the provider again until the user signs
in again. A provider that cannot be reached is ``SecretUnavailable`` (try later). Else,
with neither, the keyring's ``<account>:oauth2`` holds a plain access token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import weakref
from typing import TYPE_CHECKING

from mailtui.errors import MailtuiError

if TYPE_CHECKING:
    from mailtui.auth.client import Client, Tokens

SERVICE = "mailtui"
COMMAND_TIMEOUT = 30.0


class SecretError(MailtuiError):
    """No secret could be had; the text says why in plain words."""


class SignInAgain(SecretError):
    """The stored OAuth2 sign-in is gone or no longer accepted: ``mailtui login``."""


class SecretUnavailable(SecretError):
    """The OAuth2 provider could not be asked for a token now (network, server error);
    the same request may work later."""


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
    return _handed_out(lines[0])


def _keyring_key(account: str, purpose: str) -> str:
    return account if purpose == "" else f"{account}:{purpose}"


def from_keyring(account: str, purpose: str = "") -> str | None:
    """The stored secret, or None when the keyring has none for this account."""
    try:
        import keyring
        import keyring.errors
    except ImportError as exc:  # pragma: no cover - keyring is a dependency
        raise SecretError(f"the keyring module is missing: {exc}") from None
    try:
        value = keyring.get_password(SERVICE, _keyring_key(account, purpose))
    except keyring.errors.KeyringError as exc:
        raise SecretError(
            f"no usable keyring ({exc.__class__.__name__}); set password_command for "
            f"account {account!r}"
        ) from None
    return _handed_out(value) if isinstance(value, str) else None


def store_in_keyring(account: str, secret: str, purpose: str = "") -> None:
    import keyring
    import keyring.errors

    try:
        keyring.set_password(SERVICE, _keyring_key(account, purpose), secret)
    except keyring.errors.KeyringError as exc:
        raise SecretError(f"could not save to the keyring: {exc}") from None


def delete_from_keyring(account: str, purpose: str = "") -> None:
    """Deletes the entry; one that is not there is no error."""
    import keyring
    import keyring.errors

    try:
        keyring.delete_password(SERVICE, _keyring_key(account, purpose))
    except keyring.errors.PasswordDeleteError:
        pass  # not there
    except keyring.errors.KeyringError as exc:
        raise SecretError(f"could not delete from the keyring: {exc}") from None


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


OAUTH_PURPOSE = "oauth2"
REFRESH_PURPOSE = "oauth2-refresh"
ACCESS_PURPOSE = "oauth2-access"
#: An access token this close to its expiry (seconds) is refreshed before it is used.
REFRESH_MARGIN = 300.0


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
        token = await _signed_in_token(account, client, fresh)
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
    return _handed_out(token)


# ---------------------------------------------------------------------- redaction

#: Every secret this process handed out or stored: the debug log never shows them.
_seen: set[str] = set()
_MIN_REDACTED = 4  # shorter "secrets" would blank out ordinary words


def _handed_out(secret: str) -> str:
    if len(secret) >= _MIN_REDACTED:
        _seen.add(secret)
    return secret


#: What a wire trace writes in place of login data.
AUTH_DATA = "<authentication data>"
_REDACT = (  # (pattern, replacement)
    # IMAP/SMTP/POP3 logins: keep the command and the mechanism, drop what follows.
    # Upper case only, as the clients send them: "login refused" in prose stays.
    (
        re.compile(r"\b((?:AUTHENTICATE|AUTH|LOGIN|PASS|APOP)(?: +[A-Z0-9_-]+)?) +\S.*$"),
        r"\1 <redacted>",
    ),
    # OAuth material in headers, URLs, forms and JSON.
    (re.compile(r"\b((?:auth=)?bearer +)\S+", re.I), r"\1<redacted>"),
    (
        re.compile(
            r"\b((?:access_token|refresh_token|id_token|device_code|client_secret|code"
            r"|code_verifier|password|token)[\"']?\s*[:=]\s*[\"']?)[^\"'&\s,}]+",
            re.I,
        ),
        r"\1<redacted>",
    ),
)


def redact(text: str) -> str:
    """``text`` without any secret handed out by this module, login arguments or OAuth
    tokens (what the debug log writes)."""
    for secret in sorted(_seen, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "<secret>")
    if text.endswith(AUTH_DATA):  # a wire trace that left the data out already
        return text
    for pattern, replacement in _REDACT:
        text = pattern.sub(replacement, text)
    return text


class Redactor(logging.Filter):
    """A log filter that passes every record through ``redact``."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = redact(record.getMessage())
        record.msg, record.args = text, None
        return True


# ---------------------------------------------------------------------- OAuth2 sign-in

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
    _handed_out(tokens.access_token)
    if tokens.refresh_token:
        _handed_out(tokens.refresh_token)
    if tokens.refresh_token:
        store_in_keyring(account, tokens.refresh_token, REFRESH_PURPOSE)
    else:
        delete_from_keyring(account, REFRESH_PURPOSE)
    store_in_keyring(account, tokens.to_json(), ACCESS_PURPOSE)


def forget_sign_in(account: str) -> None:
    delete_from_keyring(account, ACCESS_PURPOSE)
    delete_from_keyring(account, REFRESH_PURPOSE)


def _stored_access(account: str) -> tuple[str, float | None] | None:
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


async def _signed_in_token(account: str, client: Client, fresh: bool) -> str:
    from mailtui.auth.client import OAuthError, OAuthUnreachable, SignInRequired, refresh

    async with _lock(account):
        if not fresh:
            stored = await asyncio.to_thread(_stored_access, account)
            if stored is not None and (
                stored[1] is None or stored[1] - REFRESH_MARGIN > time.time()
            ):
                return stored[0]
        refresh_token = await asyncio.to_thread(from_keyring, account, REFRESH_PURPOSE)
        if refresh_token is None:
            raise _sign_in_again(account, f"account {account!r} is not signed in")
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
