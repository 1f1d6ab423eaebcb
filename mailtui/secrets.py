"""Passwords and tokens: the only module that imports keyring.

A secret comes from an account's ``password_command`` (run through the shell, first line
of its output; for headless SSH hosts without a keyring) or else from the system keyring
under service ``mailtui`` and the key ``<account>`` (``<account>:smtp`` for a separate SMTP
password). Secrets are never written to the config, the cache, or a log.

OAuth2 accounts (``auth = "oauth2"``) need an *access token* instead: from the account's
``token_command`` (it prints a fresh token; tools like oama or mutt_oauth2.py get and
refresh it), else from the keyring under ``<account>:oauth2``. mailtui does not run the
OAuth sign-in (browser or device flow) itself yet; that is a separate issue.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from mailtui.errors import MailtuiError

SERVICE = "mailtui"
COMMAND_TIMEOUT = 30.0
#: Secrets standing in for keyring entries while a setup checks an account that is not
#: saved yet (``provisional``); in memory only.
_PROVISIONAL: dict[tuple[str, str], str] = {}


class SecretError(MailtuiError):
    """No secret could be had; the text says why in plain words."""


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
    return lines[0]


def _keyring_key(account: str, purpose: str) -> str:
    return account if purpose == "" else f"{account}:{purpose}"


@contextlib.contextmanager
def provisional(account: str, secret: str, purpose: str = "") -> Iterator[None]:
    """While the block runs, ``secret`` is the keyring's entry for ``account`` (the
    setup wizard's check, before anything is saved); nothing reaches the keyring."""
    _PROVISIONAL[(account, purpose)] = secret
    try:
        yield
    finally:
        _PROVISIONAL.pop((account, purpose), None)


def from_keyring(account: str, purpose: str = "") -> str | None:
    """The stored secret, or None when the keyring has none for this account."""
    if (account, purpose) in _PROVISIONAL:
        return _PROVISIONAL[(account, purpose)]
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
    return value if isinstance(value, str) else None


def store_in_keyring(account: str, secret: str, purpose: str = "") -> None:
    import keyring
    import keyring.errors

    try:
        keyring.set_password(SERVICE, _keyring_key(account, purpose), secret)
    except keyring.errors.KeyringError as exc:
        raise SecretError(f"could not save to the keyring: {exc}") from None


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


async def access_token(account: str, command: str | None) -> str:
    """An OAuth2 access token for ``account``: from its ``token_command`` if set (run
    each time, so it can hand out a refreshed token), else from the keyring entry
    ``<account>:oauth2``."""
    if command:
        token = await from_command(command, "token_command")
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
    return token
