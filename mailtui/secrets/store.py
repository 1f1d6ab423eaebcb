"""The system keyring, service ``mailtui``: the only module that imports keyring.

Keys are ``<account>`` or ``<account>:<purpose>`` (``smtp``, ``oauth2``,
``oauth2-refresh``, ``oauth2-access``).

``keyring_problem`` says up front when the keyring cannot keep anything on this host (no
backend at all, the common case over SSH; the null backend), or would keep it in a plain
file without being asked to: a plain-text backend is used only when the user named it
(``PYTHON_KEYRING_BACKEND`` or keyring's own ``keyringrc.cfg``). Every read and write
checks it first, so the error names the way out instead of "no password stored".
A password typed in for this run (``remember_for_this_run``) stands in for an entry.
"""

from __future__ import annotations

from mailtui.secrets.errors import SecretError
from mailtui.secrets.redact import handed_out

SERVICE = "mailtui"
FILE_STORE_MODULE = "mailtui.secrets.filestore"  # the encrypted file, a backend by name


def _keyring_key(account: str, purpose: str) -> str:
    return account if purpose == "" else f"{account}:{purpose}"


#: What to do instead, after ``keyring_problem``'s words.
INSTEAD = (
    "set password_command (or, with OAuth2, token_command) for the account, or give "
    'mailtui a keyring (README, "Hosts without a keyring")'
)


def keyring_problem() -> str | None:
    """Why the keyring cannot keep secrets here, or None when it can."""
    import keyring
    from keyring.backends import chainer, fail, null

    backend = keyring.get_keyring()
    kind = type(backend)
    if isinstance(backend, fail.Keyring) or (
        isinstance(backend, chainer.ChainerBackend) and not backend.backends
    ):
        return (
            "this host has no keyring (no Secret Service, KWallet, macOS Keychain or "
            "Windows Credential Manager answers)"
        )
    if isinstance(backend, null.Keyring):
        return "the keyring in use is the null keyring, which keeps nothing"
    if kind.__module__ == FILE_STORE_MODULE:
        from mailtui.secrets import filestore

        if filestore.locked():
            return (
                f"the encrypted secrets file {filestore.store_path()} is locked (mailtui "
                "asks for its passphrase when started in a terminal)"
            )
    if "plaintext" in kind.__name__.lower() and not _named(kind):
        name = f"{kind.__module__}.{kind.__qualname__}"
        return (
            f"the only keyring here ({name}) keeps secrets in a plain file; mailtui uses "
            f"it only when you name it: PYTHON_KEYRING_BACKEND={name}"
        )
    return None


def file_store_in_use() -> bool:
    """Whether the keyring backend is mailtui's encrypted file (``filestore.py``)."""
    import keyring

    return type(keyring.get_keyring()).__module__ == FILE_STORE_MODULE


def _named(kind: type) -> bool:
    """Whether the user chose this backend by name (environment or keyringrc.cfg)."""
    import keyring.core

    try:
        chosen = keyring.core.load_env() or keyring.core.load_config()
    except Exception:  # a broken name: keyring itself reports it
        return False
    return type(chosen) is kind


def _usable(account: str) -> None:
    problem = keyring_problem()
    if problem is not None:
        raise SecretError(f"account {account!r}: {problem}; {INSTEAD}")


#: Passwords typed in for this run on a host without a keyring: memory only.
_typed: dict[tuple[str, str], str] = {}


def remember_for_this_run(account: str, secret: str, purpose: str = "") -> None:
    """Keeps ``secret`` in memory in place of the keyring entry, until the process ends
    (``mailtui`` asks for it once, masked, where the host has no keyring)."""
    _typed[(account, purpose)] = handed_out(secret)


def from_keyring(account: str, purpose: str = "") -> str | None:
    """The stored secret (or the one typed in for this run), or None when there is
    none for this account."""
    typed = _typed.get((account, purpose))
    if typed is not None:
        return typed
    try:
        import keyring
        import keyring.errors
    except ImportError as exc:  # pragma: no cover - keyring is a dependency
        raise SecretError(f"the keyring module is missing: {exc}") from None
    _usable(account)
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

    _usable(account)
    try:
        keyring.set_password(SERVICE, _keyring_key(account, purpose), secret)
    except keyring.errors.KeyringError as exc:
        raise SecretError(f"could not save to the keyring: {exc}") from None


def delete_from_keyring(account: str, purpose: str = "") -> None:
    """Deletes the entry; one that is not there is no error."""
    import keyring
    import keyring.errors

    _usable(account)
    try:
        keyring.delete_password(SERVICE, _keyring_key(account, purpose))
    except keyring.errors.PasswordDeleteError:
        pass  # not there
    except keyring.errors.KeyringError as exc:
        raise SecretError(f"could not delete from the keyring: {exc}") from None
