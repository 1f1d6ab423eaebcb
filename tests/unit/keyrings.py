"""A keyring in memory for the tests of what reads secrets from the keyring."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring
import keyring.backend
import pytest


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """The system keyring replaced by an empty one in memory for the test."""
    before = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    try:
        yield ring
    finally:
        keyring.set_keyring(before)


class FileKeyring(keyring.backend.KeyringBackend):
    """A keyring in a JSON file named by ``MAILTUI_TEST_KEYRING_FILE``, for tests that
    run the real ``mailtui`` in a subprocess: ``PYTHON_KEYRING_BACKEND=
    tests.unit.keyrings.FileKeyring`` makes keyring load it there."""

    # Never picked by itself: keyring considers every imported backend class, and this
    # one fails without its environment variable.
    priority = -100  # type: ignore[assignment]

    @property
    def path(self) -> Path:
        return Path(os.environ["MAILTUI_TEST_KEYRING_FILE"])

    def _items(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        return {str(k): str(v) for k, v in data.items()}

    def _key(self, service: str, username: str) -> str:
        return f"{service}/{username}"

    def get_password(self, service: str, username: str) -> str | None:
        return self._items().get(self._key(service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        items = self._items()
        items[self._key(service, username)] = password
        self.path.write_text(json.dumps(items))

    def delete_password(self, service: str, username: str) -> None:
        items = self._items()
        items.pop(self._key(service, username), None)
        self.path.write_text(json.dumps(items))


class PlaintextKeyring(MemoryKeyring):
    """Stands for keyrings.alt's PlaintextKeyring (a plain file): mailtui refuses a
    backend of that name unless the user named it."""

    priority = -100  # type: ignore[assignment]  # never picked by itself (as FileKeyring)


@pytest.fixture
def keyring_backend() -> Iterator[Callable[[keyring.backend.KeyringBackend], None]]:
    """Sets the keyring backend for the test; the one before comes back after it."""
    before = keyring.get_keyring()
    try:
        yield keyring.set_keyring
    finally:
        keyring.set_keyring(before)
