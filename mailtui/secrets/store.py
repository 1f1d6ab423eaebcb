"""The system keyring, service ``mailtui``: the only module that imports keyring.

Keys are ``<account>`` or ``<account>:<purpose>`` (``smtp``, ``oauth2``,
``oauth2-refresh``, ``oauth2-access``).
"""

from __future__ import annotations

from mailtui.secrets.errors import SecretError
from mailtui.secrets.redact import handed_out

SERVICE = "mailtui"


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
    return handed_out(value) if isinstance(value, str) else None


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
