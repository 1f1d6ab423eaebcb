"""The store's unified inbox (``inbox_count`` / ``inbox_window``): every account's Inbox
as one list, newest first, read a screen at a time."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mailtui.models import (
    AccountKind,
    Address,
    Envelope,
    Flag,
    FolderBatch,
    FolderRole,
    NewMessage,
    RemoteFolder,
)
from mailtui.store import Store
from mailtui.store.reads import merged_ids_sql

FOLDERS = [
    RemoteFolder("INBOX", "INBOX", FolderRole.INBOX),
    RemoteFolder("Archive", "Archive", FolderRole.ARCHIVE),
]


def message(n: int, date: int, seen: bool) -> NewMessage:
    envelope = Envelope(subject=f"s{n}", from_=(Address("A", "a@x.test"),), date=date)
    return NewMessage(str(n), envelope, Flag.SEEN if seen else Flag.NONE)


@pytest.fixture
async def store(tmp_path: Path) -> Store:
    return await Store.open(tmp_path / "u.sqlite")


async def fill(store: Store) -> list[tuple[int, int]]:
    """Two accounts: home has 40 in its Inbox, work 25 (dates interleaved, some equal),
    and each has 5 in Archive. Returns (date, id) of every inbox message, newest first."""
    expected: list[tuple[int, int]] = []
    for account, count, step in (("home", 40, 7), ("work", 25, 11)):
        acc = await store.ensure_account(account, AccountKind.IMAP, f"me@{account}.test")
        ids = await store.sync_folders(acc.id, FOLDERS)
        batch = [message(n, 1_000_000 - n * step, seen=n % 3 != 0) for n in range(count)]
        new_ids = await store.apply_batch(ids["INBOX"], FolderBatch("INBOX", added=batch))
        expected += [(m.envelope.date, i) for m, i in zip(batch, new_ids, strict=True)]
        archive = [message(100 + n, 2_000_000 + n, seen=False) for n in range(5)]
        await store.apply_batch(ids["Archive"], FolderBatch("Archive", added=archive))
    return sorted(expected, reverse=True)


async def test_unified_inbox_merges_every_inbox_by_date(store: Store) -> None:
    try:
        assert await store.inbox_count() == (0, 0)
        assert await store.inbox_window(0, 10) == []
        expected = await fill(store)
        total, unread = await store.inbox_count()
        assert total == 65 and unread == 14 + 9  # n % 3 == 0 are unread
        for offset, limit in ((0, 10), (5, 20), (30, 10), (50, 20), (60, 10), (64, 5)):
            rows = await store.inbox_window(offset, limit)
            assert [(r.date, r.id) for r in rows] == expected[offset : offset + limit]
        assert await store.inbox_window(65, 10) == []
        assert await store.inbox_window(0, 0) == []
        every = await store.inbox_window(0, 100)
        assert {r.subject for r in every}.isdisjoint({f"s{100 + n}" for n in range(5)})
    finally:
        await store.close()


async def test_unified_inbox_walks_indexes_without_sorting(store: Store, tmp_path: Path) -> None:
    """The plan: one covering-index search per inbox, merged; no temporary sort, so a
    screen of a million-message inbox costs a walk to the offset, not a sort of it all."""
    try:
        await fill(store)
    finally:
        await store.close()
    db = sqlite3.connect(tmp_path / "u.sqlite")
    for order in ("DESC", "ASC"):
        plan = db.execute(
            f"EXPLAIN QUERY PLAN {merged_ids_sql(2, order)}", (1, 3, 5, 0)
        ).fetchall()
        details = " | ".join(str(row[-1]) for row in plan)
        assert "MERGE (UNION ALL)" in details
        assert details.count("COVERING INDEX messages_list") == 2
        assert "TEMP B-TREE" not in details
    db.close()
