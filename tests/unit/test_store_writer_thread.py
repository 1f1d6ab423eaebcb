"""The store's work in aiosqlite's writer thread (``writer_thread.in_writer``,
``Database._tx_in_writer``, ``store/new_messages.py``): aiosqlite's private parts it relies
on, look-ups of any length in one statement, and a batch committed in one round trip
writing what the statement-by-statement transaction writes."""

from __future__ import annotations

import asyncio
import inspect
import sqlite3
import threading
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from mailtui.models import AccountKind, FolderBatch, FolderRole, OpResult, RemoteFolder
from mailtui.store import Store, db, mail_writes
from mailtui.store.db import select_in
from mailtui.store.writer_thread import in_writer
from tests.unit.test_store import new


async def folders(store: Store) -> dict[str, int]:
    account = await store.ensure_account("work", AccountKind.IMAP, "me@example.org")
    return await store.sync_folders(
        account.id,
        [
            RemoteFolder("INBOX", "Inbox", FolderRole.INBOX),
            RemoteFolder("Archive", "Archive", FolderRole.ARCHIVE),
        ],
    )


async def test_aiosqlite_runs_a_function_in_its_thread_on_its_connection(store: Store) -> None:
    """``in_writer`` uses aiosqlite's private ``Connection._execute`` and ``_conn``: this
    fails if a new aiosqlite renames them or runs the call elsewhere."""
    assert inspect.iscoroutinefunction(aiosqlite.Connection._execute)
    seen = await in_writer(store._w, lambda c: (threading.current_thread(), c))
    assert seen[0] is not threading.current_thread()
    assert seen[0] is store._w._thread
    assert isinstance(seen[1], sqlite3.Connection) and seen[1] is store._w._conn
    # In order with the statements queued around it.
    await store._w.execute("CREATE TEMP TABLE t (x)")
    queued = store._w.execute("INSERT INTO t VALUES (1)")
    count = in_writer(store._w, lambda c: c.execute("SELECT count(*) FROM t").fetchone()[0])
    await queued
    assert await count == 1


@pytest.mark.parametrize("value", ["plain", "nul \x00 inside"])
async def test_select_in_takes_any_value(store: Store, value: str) -> None:
    """A value JSON would not carry (a NUL) goes bound, the same rows either way."""
    values = [value, *(f"v{i}" for i in range(1_200))]

    def run(c: sqlite3.Connection) -> list[Any]:
        c.execute("CREATE TEMP TABLE IF NOT EXISTS v (x TEXT)")
        c.execute("DELETE FROM v")
        c.executemany("INSERT INTO v VALUES (?)", [(x,) for x in values[::2]])
        return select_in(c, "SELECT x FROM v WHERE x IN {}", (), values)

    rows = await in_writer(store._w, run)
    assert sorted(r[0] for r in rows) == sorted(values[::2])


async def test_a_batch_beyond_sqlite_s_variable_limit(store: Store) -> None:
    """With at most 100 host parameters a statement, batches of 1,200 still find what is
    cached, what an unsent move took away and a row to adopt: their look-ups are one
    statement each, whatever the batch's size."""
    f = await folders(store)
    await in_writer(store._w, lambda c: c.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 100))
    first = await store.apply_batch(
        f["INBOX"], FolderBatch("INBOX", added=[new(str(i), date=i) for i in range(1_200)])
    )
    assert len(first) == 1_200
    moved = first[:3]
    await store.move(moved[:2], f["Archive"])  # not sent: the server lists them still
    (done,) = await store.move(moved[2:], f["Archive"])
    await store.op_done(done, OpResult())  # sent, the server did not say the new UID
    # The server lists UIDs 0 and 1 still (their moves are not sent), not 2.
    again = [new(str(i), date=i) for i in range(1_300) if i != 2]
    added = await store.apply_batch(f["INBOX"], FolderBatch("INBOX", added=again))
    assert len(added) == 100  # 1,199 cached or moved away, 100 new
    assert await store.count(f["INBOX"]) == (1_297, 1_297)
    # Archive lists the moved message under its new UID, among 1,199 others: adopted.
    archive = [new(f"a{i}", date=i, mid=f"<a{i}@x>") for i in range(1_199)]
    archive.append(new("77", date=5_000, mid="<2@test>"))
    made = await store.apply_batch(f["Archive"], FolderBatch("Archive", added=archive))
    assert len(made) == 1_199
    assert await store.remote_ref(moved[2]) == ("Archive", "77")
    assert (await store.count(f["Archive"]))[0] == 1_202


BATCHES = [
    [new("1", date=10, mid="<root@x>", subject="Plan"), new("2", date=20, irt="<root@x>")],
    [
        new("3", date=30, subject="Re: Plan"),  # threaded by its subject
        new("4", date=40, refs=("<nowhere@x>", "<root@x>")),
        new("2", date=20, irt="<root@x>"),  # cached already
        new("5", date=50, mid="<5@x>"),
        new("5", date=50, mid="<5@x>"),  # repeated in the batch
        new("6", date=45, irt="<5@x>"),  # its parent in the same batch
    ],
    [new(str(i), date=100 + i % 7, irt=f"<{i - 1}@test>") for i in range(7, 700)],
]


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = sqlite3.connect(path)
    try:
        return {
            "messages": con.execute("SELECT * FROM messages ORDER BY id").fetchall(),
            "folders": con.execute(
                "SELECT id, total, unread, threads, state FROM folders"
            ).fetchall(),
            "threads": con.execute(
                "SELECT * FROM threads ORDER BY folder_id, thread_id"
            ).fetchall(),
            "search": con.execute(
                "SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'plan OR alice' "
                "ORDER BY rowid"
            ).fetchall(),
        }
    finally:
        con.close()


async def commit_all(path: Path) -> list[list[int]]:
    store = await Store.open(path)
    try:
        f = await folders(store)
        return [
            await store.apply_batch(f["INBOX"], FolderBatch("INBOX", added=added, state={"n": n}))
            for n, added in enumerate(BATCHES)
        ]
    finally:
        await store.close()


async def test_one_round_trip_writes_what_the_transaction_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = db._whole_tx

    def counted(*args: Any) -> Any:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(db, "_whole_tx", counted)
    one = await commit_all(tmp_path / "one.sqlite")
    assert len(calls) == len(BATCHES)
    monkeypatch.setattr(mail_writes, "_only_added", lambda batch: False)
    many = await commit_all(tmp_path / "many.sqlite")
    assert len(calls) == len(BATCHES)
    assert one == many
    a, b = dump(tmp_path / "one.sqlite"), dump(tmp_path / "many.sqlite")
    assert a == b
    assert len(a["messages"]) == 2 + 4 + 693
    threads = {r[0]: r[15] for r in a["messages"]}  # id -> thread_id
    assert len({threads[i] for i in (1, 2, 3, 4)}) == 1  # by headers and by subject
    assert threads[6] == threads[5]


async def test_a_cancelled_batch_leaves_the_store_consistent(store: Store) -> None:
    """Cancelled while the writer thread commits, the batch is all there with its state
    or not at all, and the next transaction runs."""
    f = await folders(store)
    task = asyncio.create_task(
        store.apply_batch(
            f["INBOX"],
            FolderBatch("INBOX", added=[new(str(i), date=i) for i in range(3_000)], state={"k": 1}),
        )
    )
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    total = (await store.count(f["INBOX"]))[0]
    state = await store.folder_state(f["INBOX"])
    assert (total == 0 and not state) or (total == 3_000 and state == {"k": 1})
    more = await store.apply_batch(
        f["INBOX"], FolderBatch("INBOX", added=[new("x", date=9_999)], state={"k": 2})
    )
    assert len(more) == 1
    assert (await store.count(f["INBOX"]))[0] == total + 1


async def test_ids_json_cannot_carry_thread_as_ever(store: Store) -> None:
    """A Message-ID with a NUL (JSON would cut it in SQLite): its look-ups go bound and
    its rows row by row, threaded as any other."""
    f = await folders(store)
    odd = "<a\x00b@x>"
    first = await store.apply_batch(
        f["INBOX"],
        FolderBatch("INBOX", added=[new("1", date=1, mid=odd), new("2", date=2, irt=odd)]),
    )
    (later,) = await store.apply_batch(
        f["INBOX"], FolderBatch("INBOX", added=[new("3", date=3, refs=(odd,)), new("1")])
    )
    rows = await in_writer(
        store._w, lambda c: c.execute("SELECT id, thread_id, message_id FROM messages").fetchall()
    )
    assert {r[1] for r in rows} == {first[0]}
    assert [r[0] for r in rows] == [*first, later]
    assert rows[0][2] == odd
