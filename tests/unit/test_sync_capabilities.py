"""The manager tells the UI what each account's backend can do (for hiding actions)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mailtui.accounts import demo_spec
from mailtui.protocols.demo.backend import DemoBackend
from mailtui.store import Store
from mailtui.sync.manager import SyncManager


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "cache.sqlite")
    yield s
    await s.close()


async def test_capabilities_are_known_once_the_worker_built_its_backend(
    store: Store, tmp_path: Path
) -> None:
    spec = await demo_spec(store, tmp_path, count=20)
    manager = SyncManager(store, [spec])
    assert manager.capabilities(spec.account.id) is None  # nothing built yet
    assert manager.capabilities(spec.account.id + 99) is None  # no such account
    await manager.run_once()
    assert manager.capabilities(spec.account.id) == DemoBackend.capabilities
