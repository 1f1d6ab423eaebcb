"""Bodies stored without their text, then indexed in batches (``Store.bodies_to_index``,
``Store.set_body_texts``): what the search index ends up with, batch by batch."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mailtui.models import AccountKind, FolderBatch, FolderRole, RemoteFolder
from mailtui.store import Store
from tests.unit.test_store import new, sql

FOLDERS = [RemoteFolder("INBOX", "Inbox", FolderRole.INBOX)]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "mail.sqlite")
    yield s
    await s.close()


async def account_with_bodies(store: Store, name: str, n: int) -> tuple[int, list[int]]:
    """An account whose INBOX has ``n`` messages, each body cached without its text."""
    account = (await store.ensure_account(name, AccountKind.IMAP, f"{name}@example.org")).id
    folder = (await store.sync_folders(account, FOLDERS))["INBOX"]
    ids = await store.apply_batch(
        folder, FolderBatch(folder="INBOX", added=[new(f"{name}{i}") for i in range(n)])
    )
    await store.store_bodies([(i, f"Subject: s\r\n\r\nbody {i}".encode(), None) for i in ids])
    return account, ids


def fts_integrity(store: Store) -> None:
    """FTS5's own check that the index holds exactly what the content rows say."""
    con = sqlite3.connect(store.path)
    try:
        con.execute("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")
    finally:
        con.close()


async def test_batches_walk_down_from_before_and_stay_in_the_account(store: Store) -> None:
    work, work_ids = await account_with_bodies(store, "work", 5)
    home, home_ids = await account_with_bodies(store, "home", 3)  # newer ids than work's

    first = await store.bodies_to_index(work, 2)
    assert [i for i, _ in first] == sorted(work_ids, reverse=True)[:2]
    # The next batch while the first is still being indexed: below the last id read.
    second = await store.bodies_to_index(work, 2, before=first[-1][0])
    assert [i for i, _ in second] == sorted(work_ids, reverse=True)[2:4]
    rest = await store.bodies_to_index(work, 10, before=second[-1][0])
    assert [i for i, _ in rest] == [min(work_ids)]
    assert await store.bodies_to_index(work, 10, before=min(work_ids)) == []
    assert [i for i, _ in await store.bodies_to_index(home, 10)] == sorted(home_ids, reverse=True)
    assert dict(second)[second[0][0]] == f"Subject: s\r\n\r\nbody {second[0][0]}".encode()


async def test_the_byte_limit_cuts_a_batch_but_never_to_nothing(store: Store) -> None:
    account, ids = await account_with_bodies(store, "work", 4)
    size = len(f"Subject: s\r\n\r\nbody {ids[0]}".encode())
    assert len(await store.bodies_to_index(account, 10, max_bytes=2 * size)) == 2
    assert len(await store.bodies_to_index(account, 10, max_bytes=1)) == 1


async def test_texts_go_into_the_index_in_one_call_of_any_size(store: Store) -> None:
    account, ids = await account_with_bodies(store, "work", 1203)  # three statements of 500
    texts = [(i, f"word{i} common") for i in ids]
    await store.set_body_texts(texts)

    assert await store.bodies_to_index(account, 10) == []
    assert sql(store, "SELECT count(*) FROM bodies WHERE indexed = 1") == [(1203,)]
    assert [r.id for r in await store.search(f"word{ids[700]}", 10)] == [ids[700]]
    assert len(await store.search("common", 2000)) == 1203
    fts_integrity(store)


async def test_text_is_stored_as_given(store: Store) -> None:
    _, (a, b, c) = await account_with_bodies(store, "work", 3)
    odd = {a: "nul\0inside", b: "quote ' \" back\\slash ; -- ?", c: ""}
    await store.set_body_texts(list(odd.items()))
    assert dict(sql(store, "SELECT message_id, text FROM bodies")) == odd
    assert [r.id for r in await store.search("backslash", 10)] == []  # tokens, not a LIKE
    assert [r.id for r in await store.search("quote", 10)] == [b]
    fts_integrity(store)


async def test_a_body_indexed_already_or_gone_is_left_alone(store: Store) -> None:
    account, (a, b) = await account_with_bodies(store, "work", 2)
    await store.set_body_texts([(a, "first")])
    await store.set_body_texts([(a, "second"), (b, "other"), (999_999, "no such message")])
    assert dict(sql(store, "SELECT message_id, text FROM bodies")) == {a: "first", b: "other"}
    assert [r.id for r in await store.search("first", 10)] == [a]
    assert await store.search("second", 10) == []
    await store.set_body_texts([])
    fts_integrity(store)


async def test_the_bodies_left_are_counted_up_to_a_limit(store: Store) -> None:
    work, work_ids = await account_with_bodies(store, "work", 5)
    home, _ = await account_with_bodies(store, "home", 3)
    assert await store.count_bodies_to_index(work, 100) == 5
    assert await store.count_bodies_to_index(work, 4) == 4
    assert await store.count_bodies_to_index(home, 100) == 3
    await store.set_body_texts([(work_ids[0], "done")])
    assert await store.count_bodies_to_index(work, 100) == 4
