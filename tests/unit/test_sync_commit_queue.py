"""The worker's commit queue: a folder's batches are committed in the order they were
fetched, one transaction each, while the backend fetches the next ones; a failed commit
stops the ones after it, and a failed fetch keeps what was fetched before it.

On the demo backend (a real backend over a local server file) and a real store, with
small batches, so a folder is many batches.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

import mailtui.protocols.demo.backend as demo_backend
from mailtui.accounts import demo_spec
from mailtui.errors import TransientError
from mailtui.models import FolderBatch, FolderRole, RemoteFolder
from mailtui.store import Store, StoreError
from mailtui.sync.contract import AccountStatus, Backend
from mailtui.sync.manager import SyncManager, WorkerSpec
from mailtui.sync.worker import COMMITS_QUEUED


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "mail.sqlite")
    yield s
    await s.close()


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo_backend, "BATCH", 20)


class Log:
    """What happened, in order: ``("fetched", n)``, ``("commit", n)``, ``("committed", n)``
    for the n-th batch of the inbox (0-based, in fetch order)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []
        # id(batch) -> (n, batch): the batch is kept, so that its id is not reused
        self.numbers: dict[int, tuple[int, FolderBatch]] = {}

    def of(self, kind: str) -> list[int]:
        return [n for k, n in self.events if k == kind]


def logging_backend(inner: Backend, log: Log, fail_after: int | None = None) -> Backend:
    """``inner``, with the inbox's batches numbered in ``log``; with ``fail_after``, the
    inbox's pull breaks (a lost connection) after that many batches."""
    real_pull = inner.pull

    async def pull(folder: RemoteFolder, state: Mapping[str, Any]) -> AsyncIterator[FolderBatch]:
        count = 0
        async for batch in real_pull(folder, state):
            if folder.role is FolderRole.INBOX:
                if fail_after is not None and count == fail_after:
                    raise TransientError("connection lost")
                log.numbers[id(batch)] = (count, batch)
                log.events.append(("fetched", count))
                count += 1
            yield batch

    inner.pull = pull  # type: ignore[method-assign]
    return inner


def slow_logging_store(store: Store, log: Log, fail: int | None = None) -> None:
    """Each commit of an inbox batch takes a while (so the fetch runs ahead) and is
    logged; with ``fail``, the commit of that batch fails (once)."""
    real = store.apply_batch
    failing = [fail] if fail is not None else []

    async def apply_batch(
        folder_id: int, batch: FolderBatch, *, durable: bool = False
    ) -> list[int]:
        if id(batch) not in log.numbers:
            return await real(folder_id, batch, durable=durable)
        n = log.numbers[id(batch)][0]
        log.events.append(("commit", n))
        await asyncio.sleep(0.02)
        if n in failing:
            failing.remove(n)
            raise StoreError("database or disk is full")
        ids = await real(folder_id, batch, durable=durable)
        log.events.append(("committed", n))
        return ids

    store.apply_batch = apply_batch  # type: ignore[method-assign]


async def logged_sync(
    store: Store,
    tmp_path: Path,
    fail_commit: int | None = None,
    fail_fetch_after: int | None = None,
) -> tuple[AccountStatus, Log]:
    """One ``run_once`` of the demo account (300 messages) with the inbox's batches
    logged and their commits slowed (``slow_logging_store``); its status and the log."""
    spec = await demo_spec(store, tmp_path, count=300)
    log = Log()
    slow_logging_store(store, log, fail=fail_commit)
    logged = WorkerSpec(
        spec.account,
        lambda: logging_backend(spec.factory(), log, fail_after=fail_fetch_after),
        spec.options,
    )
    return (await SyncManager(store, [logged]).run_once())["demo"], log


async def inbox_total(store: Store) -> int:
    return next(f.total for f in await store.folders() if f.role is FolderRole.INBOX)


async def test_batches_commit_in_fetch_order_while_the_next_are_fetched(
    store: Store, tmp_path: Path
) -> None:
    status, log = await logged_sync(store, tmp_path)
    assert status is AccountStatus.ONLINE

    fetched = log.of("fetched")
    assert len(fetched) >= 5
    assert log.of("commit") == fetched
    assert log.of("committed") == fetched
    # One commit at a time: each starts after the one before it is over.
    for n in fetched[1:]:
        assert log.events.index(("committed", n - 1)) < log.events.index(("commit", n))
    # The fetch ran ahead of the commits (batch n + 1 fetched before n was committed),
    # never by more than the queue.
    ahead = []
    for n in fetched[1:]:
        before = log.events[: log.events.index(("fetched", n))]
        ahead.append(sum(1 for m in fetched[:n] if ("committed", m) not in before))
    assert max(ahead) == COMMITS_QUEUED >= 2  # 1 was the fetch waiting for every commit
    assert await inbox_total(store) > 0


async def test_a_failed_commit_stops_the_batches_after_it(store: Store, tmp_path: Path) -> None:
    status, log = await logged_sync(store, tmp_path, fail_commit=2)
    assert status is AccountStatus.ERROR
    # Batches 0 and 1 are in; 2 failed; none after it was committed, though the fetch
    # had run ahead.
    assert log.of("committed") == [0, 1]
    assert log.of("commit") == [0, 1, 2]
    assert max(log.of("fetched")) > 2
    assert await inbox_total(store) == 40

    # The next round resumes and gets everything.
    spec = await demo_spec(store, tmp_path, count=300)
    assert (await SyncManager(store, [spec]).run_once())["demo"] is AccountStatus.ONLINE
    assert await inbox_total(store) > 40


async def test_batches_fetched_before_a_lost_connection_are_kept(
    store: Store, tmp_path: Path
) -> None:
    status, log = await logged_sync(store, tmp_path, fail_fetch_after=4)
    assert status is AccountStatus.OFFLINE
    # The connection broke while commits were still queued: every batch fetched before
    # it is committed, in order.
    assert log.of("fetched") == [0, 1, 2, 3]
    assert log.of("committed") == [0, 1, 2, 3]
    assert await inbox_total(store) == 80


async def test_a_batch_with_nothing_in_it_is_not_committed(store: Store, tmp_path: Path) -> None:
    """A folder the server reports unchanged comes as a batch with nothing to write (the
    IMAP backend's no-change pull): no transaction for it, so a poll of an unchanged
    account writes nothing to the disk."""
    spec = await demo_spec(store, tmp_path, count=60)
    real_apply = store.apply_batch
    applied: list[FolderBatch] = []

    async def apply_batch(
        folder_id: int, batch: FolderBatch, *, durable: bool = False
    ) -> list[int]:
        applied.append(batch)
        return await real_apply(folder_id, batch, durable=durable)

    store.apply_batch = apply_batch  # type: ignore[method-assign]

    def factory() -> Backend:
        inner = spec.factory()
        real_pull = inner.pull

        async def pull(
            folder: RemoteFolder, state: Mapping[str, Any]
        ) -> AsyncIterator[FolderBatch]:
            yield FolderBatch(folder=folder.name, progress=(0, 0), complete=True)
            async for batch in real_pull(folder, state):
                yield batch

        inner.pull = pull  # type: ignore[method-assign]
        return inner

    spec2 = WorkerSpec(spec.account, factory, spec.options)
    assert (await SyncManager(store, [spec2]).run_once())["demo"] is AccountStatus.ONLINE
    assert applied, "the demo backend's own batches are committed"
    assert all(b.added or b.state is not None or b.flags or b.removed for b in applied)
    assert await inbox_total(store) > 0
