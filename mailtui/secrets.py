"""Passwords and tokens: the only module that imports keyring.

A secret comes from an account's ``password_command`` (run through the shell, first line
of its output; for headless SSH hosts without a keyring) or else from the system keyring
under service ``mailtui`` and the key ``<account>`` (``<account>:smtp`` for a separate SMTP
password). Secrets are never written to the config, the cache, or a log.
"""

from __future__ import annotations

import asyncio

SERVICE = "mailtui"
COMMAND_TIMEOUT = 30.0


class SecretError(Exception):
    """No secret could be had; the text says why in plain words."""


async def from_command(command: str) -> str:
    try:
        proc = await asyncio.create_subprocess_shell(
            command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), COMMAND_TIMEOUT)
    except TimeoutError:
        proc.kill()
        raise SecretError(f"password_command took longer than {COMMAND_TIMEOUT:.0f} s") from None
    except OSError as exc:
        raise SecretError(f"password_command could not run: {exc.strerror}") from None
    if proc.returncode != 0:
        detail = err.decode("utf-8", "replace").strip().splitlines()
        tail = f": {detail[-1][:200]}" if detail else ""
        raise SecretError(f"password_command failed with exit code {proc.returncode}{tail}")
    lines = out.decode("utf-8", "replace").splitlines()
    if not lines or not lines[0]:
        raise SecretError("password_command printed nothing")
    return lines[0]


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
