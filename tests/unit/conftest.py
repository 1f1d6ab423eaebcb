"""Fixtures shared by the unit tests."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mailtui.store import Store
from tests.unit.keyrings import keyring_backend, memory_keyring

__all__ = ["keyring_backend", "memory_keyring"]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A new, empty store (a module may define its own ``store`` fixture instead)."""
    s = await Store.open(tmp_path / "cache.sqlite")
    try:
        yield s
    finally:
        await s.close()
