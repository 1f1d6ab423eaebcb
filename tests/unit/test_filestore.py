"""mailtui's encrypted secrets file as a keyring backend (mailtui/secrets/filestore.py):
locked until unlocked, entries round-trip, the file is 0600 and holds no secret in
clear, a wrong passphrase or a changed byte opens nothing."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring.backend
import keyring.errors
import pytest

from mailtui import secrets
from mailtui.secrets import filestore


@pytest.fixture
def store(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    keyring_backend: Callable[[keyring.backend.KeyringBackend], None],
) -> Iterator[filestore.EncryptedFileKeyring]:
    monkeypatch.setenv("MAILTUI_DATA_DIR", str(tmp_path))
    backend = filestore.EncryptedFileKeyring()
    keyring_backend(backend)
    filestore.lock()
    yield backend
    filestore.lock()


def test_locked_until_unlocked_then_round_trips(store: filestore.EncryptedFileKeyring) -> None:
    assert secrets.file_store_in_use()
    problem = secrets.keyring_problem()
    assert problem is not None and "is locked (mailtui asks for its passphrase" in problem
    with pytest.raises(secrets.SecretError, match="secrets.enc is locked"):
        secrets.from_keyring("w")
    filestore.unlock("correct horse")
    assert secrets.keyring_problem() is None
    secrets.store_in_keyring("w", "hunter2-password")
    secrets.store_in_keyring("w", "rt-refresh", "oauth2-refresh")
    assert secrets.from_keyring("w") == "hunter2-password"
    secrets.delete_from_keyring("w", "oauth2-refresh")
    assert secrets.from_keyring("w", "oauth2-refresh") is None
    path = filestore.store_path()
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text()
    assert "hunter2" not in text and json.loads(text)["kdf"] == "scrypt"
    # Another run: locked again, the right passphrase opens it, a wrong one does not.
    filestore.lock()
    with pytest.raises(filestore.WrongPassphrase):
        filestore.unlock("wrong horse")
    assert filestore.locked()
    filestore.unlock("correct horse")
    assert secrets.from_keyring("w") == "hunter2-password"


def test_a_changed_file_opens_nothing(store: filestore.EncryptedFileKeyring) -> None:
    filestore.unlock("pp")
    secrets.store_in_keyring("w", "secret-1")
    path = filestore.store_path()
    box = json.loads(path.read_text())
    data = bytearray(base64.b64decode(box["data"]))
    data[0] ^= 1
    box["data"] = base64.b64encode(bytes(data)).decode()
    path.write_text(json.dumps(box))
    filestore.lock()
    with pytest.raises(filestore.WrongPassphrase):
        filestore.unlock("pp")
    path.write_text("not json")
    with pytest.raises(keyring.errors.KeyringError, match="is damaged"):
        filestore.unlock("pp")
