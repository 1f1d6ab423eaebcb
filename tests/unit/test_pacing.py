"""Pacer (mailtui/pacing.py) on a fake clock, and the store's batch commit preparing its
rows off the event loop (issue 17: keys during a first sync). No timing
is asserted: the slices are driven by the fake clock or set to zero."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mailtui import pacing
from mailtui.models import AccountKind, FolderBatch, FolderRole, NewMessage, RemoteFolder
from mailtui.models.mail import Prepared
from mailtui.pacing import Pacer
from mailtui.store import Store, new_messages
from tests.unit.test_store import new


class Clock:
    def __init__(self) -> None:
        self.now = 10.0

    def __call__(self) -> float:
        return self.now


class Turns:
    """Counts the event loop's turns while it runs (a task that yields forever)."""

    def __init__(self) -> None:
        self.count = 0
        self._task = asyncio.get_running_loop().create_task(self._spin())

    async def _spin(self) -> None:
        while True:
            self.count += 1
            await asyncio.sleep(0)

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def test_pace_yields_only_once_the_slice_is_used_up() -> None:
    clock = Clock()
    pacer = Pacer(0.004, clock)
    turns = Turns()
    await asyncio.sleep(0)  # the counting task runs once
    start = turns.count
    clock.now += 0.003
    await pacer.pace()  # within the slice: no suspension, the other task does not run
    assert not pacer.due() and pacer.yields == 0 and turns.count == start
    clock.now += 0.002
    assert pacer.due()
    await pacer.pace()  # the slice is over: one turn of the loop, and a new slice
    assert pacer.yields == 1 and turns.count == start + 1
    assert not pacer.due()
    await pacer.pace()
    assert pacer.yields == 1
    await turns.stop()


async def test_yield_now_always_gives_a_turn_and_starts_a_new_slice() -> None:
    clock = Clock()
    pacer = Pacer(0.004, clock)
    clock.now += 1.0
    await pacer.yield_now()
    assert pacer.yields == 1 and not pacer.due()


def test_the_default_slice_is_a_fraction_of_a_frame() -> None:
    assert 0 < pacing.SLICE < 1 / 60


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "mail.sqlite")
    yield s
    await s.close()


async def test_a_batch_commit_prepares_its_rows_off_the_event_loop(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows of a batch (thread candidates, subject keys, addresses' JSON) are made in
    the writer thread, never on the event loop the UI draws from, and the loop turns
    while the batch is committed; the same rows as ever."""
    threads: list[str] = []
    real = new_messages.prepared

    def watched(m: NewMessage) -> Prepared:
        threads.append(threading.current_thread().name)
        return real(m)

    monkeypatch.setattr(new_messages, "prepared", watched)
    account = await store.ensure_account("work", AccountKind.IMAP, "me@example.org")
    folder = (
        await store.sync_folders(account.id, [RemoteFolder("INBOX", "Inbox", FolderRole.INBOX)])
    )["INBOX"]
    n = 300
    turns = Turns()
    ids = await store.apply_batch(
        folder,
        FolderBatch(folder="INBOX", added=[new(str(i), date=1_000 + i) for i in range(n)]),
    )
    during = turns.count
    await turns.stop()
    assert len(ids) == n
    assert len(threads) == n
    assert threading.main_thread().name not in threads
    assert during >= 1
    rows = await store.window(folder, 0, n + 1)
    assert sorted(r.subject for r in rows) == sorted(f"message {i}" for i in range(n))
