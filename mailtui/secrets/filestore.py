"""An encrypted file as a keyring backend, for hosts without a keyring (over SSH).

    PYTHON_KEYRING_BACKEND=mailtui.secrets.filestore.EncryptedFileKeyring

Like any keyring backend it is used only when named. The file is ``secrets.enc`` in
mailtui's data directory (0600): JSON with the scrypt parameters and salt, a nonce, and
the entries encrypted with AES-256-GCM under a key derived from a passphrase. The
passphrase is asked once per run, before the UI takes the terminal (``mailtui`` in a
terminal: ``unlock``); it stays in memory for that run only. Every write re-encrypts the
whole file with a new nonce and replaces it atomically. A wrong passphrase and a changed
file fail the same way: the tag does not check.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets as random
import tempfile
import threading
from pathlib import Path

import keyring.backend
import keyring.errors

from mailtui import paths

FILE_NAME = "secrets.enc"
_AAD = b"mailtui secrets v1"
_SCRYPT = {"n": 2**15, "r": 8, "p": 1}  # about 32 MB and 0.1 s per unlock

#: The passphrase of this run (None: locked), and the key of the file as it is.
_passphrase: str | None = None
_keys: dict[tuple[str, bytes, int, int, int], bytes] = {}
#: Writes read, change and replace the whole file: one at a time (worker threads).
_writing = threading.Lock()


class WrongPassphrase(keyring.errors.KeyringError):
    """The passphrase does not open the file (or the file was changed)."""


def store_path() -> Path:
    return paths.data_dir() / FILE_NAME


def _key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    """The file key; derived once per salt and run (scrypt is slow on purpose, and every
    login reads the file)."""
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    cached = _keys.get((passphrase, salt, n, r, p))
    if cached is None:
        cached = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))
        _keys.clear()  # only the current file's
        _keys[(passphrase, salt, n, r, p)] = cached
    return cached


def _read(path: Path, passphrase: str) -> dict[str, str]:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        box = json.loads(path.read_text(encoding="utf-8"))
        salt = base64.b64decode(box["salt"])
        nonce = base64.b64decode(box["nonce"])
        data = base64.b64decode(box["data"])
        key = _key(passphrase, salt, int(box["n"]), int(box["r"]), int(box["p"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise keyring.errors.KeyringError(f"{path} is damaged ({exc.__class__.__name__})") from None
    try:
        plain = AESGCM(key).decrypt(nonce, data, _AAD)
    except InvalidTag:
        raise WrongPassphrase(f"the passphrase does not open {path}") from None
    entries = json.loads(plain)
    return {str(k): str(v) for k, v in entries.items()}


def _write(path: Path, passphrase: str, entries: dict[str, str]) -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = random.token_bytes(16), random.token_bytes(12)
    key = _key(passphrase, salt, **_SCRYPT)
    data = AESGCM(key).encrypt(nonce, json.dumps(entries).encode("utf-8"), _AAD)
    box = {
        "version": 1,
        "kdf": "scrypt",
        **_SCRYPT,
        "salt": base64.b64encode(salt).decode(),
        "nonce": base64.b64encode(nonce).decode(),
        "data": base64.b64encode(data).decode(),
    }
    fd, tmp = tempfile.mkstemp(prefix=".secrets-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(box, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def exists() -> bool:
    return store_path().exists()


def locked() -> bool:
    return _passphrase is None


def unlock(passphrase: str) -> None:
    """Opens the file with ``passphrase`` for this run; a new file is made with it.
    ``WrongPassphrase`` when it does not open the existing file."""
    global _passphrase
    path = store_path()
    if path.exists():
        _read(path, passphrase)
    else:
        _write(path, passphrase, {})
    _passphrase = passphrase


def lock() -> None:
    global _passphrase
    _passphrase = None
    _keys.clear()


class EncryptedFileKeyring(keyring.backend.KeyringBackend):
    """The keyring backend over the file (module docstring)."""

    # Below keyring's own fail (0) and null (-1) backends: once this module is imported,
    # keyring sees the class, and it must never be picked unless named.
    priority = -10

    def _entries(self) -> tuple[Path, str, dict[str, str]]:
        if _passphrase is None:
            raise keyring.errors.KeyringLocked(
                f"the encrypted secrets file {store_path()} is locked"
            )
        path = store_path()
        return path, _passphrase, _read(path, _passphrase) if path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._entries()[2].get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        with _writing:
            path, passphrase, entries = self._entries()
            entries[f"{service}/{username}"] = password
            _write(path, passphrase, entries)

    def delete_password(self, service: str, username: str) -> None:
        with _writing:
            path, passphrase, entries = self._entries()
            if entries.pop(f"{service}/{username}", None) is None:
                raise keyring.errors.PasswordDeleteError(username)
            _write(path, passphrase, entries)
