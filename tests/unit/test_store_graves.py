"""``dead_bodies`` looked at only when an id may be there (``graves.Graves``): a batch of a
cache without schema-3 body files runs no statement for it, and every id put there, by
this connection or left by a crash, is still buried."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mailtui.models import FolderBatch
from mailtui.store import Store
from mailtui.store.db import bodies_dir
from mailtui.store.writer_thread import in_writer
from tests.unit.test_store import new
from tests.unit.test_store_writer_thread import folders


async def traced(store: Store) -> list[str]:
    """The statements the writer connection runs from now on."""
    seen: list[str] = []

    def trace(conn: sqlite3.Connection) -> None:
        conn.set_trace_callback(seen.append)

    await in_writer(store._w, trace)
    return seen


def legacy_file(path: Path, message_id: int) -> Path:
    """A schema-3 body file of ``message_id`` (its place: id >> 12 in hex / id)."""
    f = bodies_dir(path) / format(message_id >> 12, "x") / str(message_id)
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_bytes(b"old")
    return f


async def test_batches_without_body_files_do_not_look(store: Store) -> None:
    f = await folders(store)
    seen = await traced(store)
    added = [new(str(i), date=i) for i in range(50)]
    await store.apply_batch(f["INBOX"], FolderBatch("INBOX", added=added[:25]))  # one call
    await store.apply_batch(  # statement by statement (it removes)
        f["INBOX"], FolderBatch("INBOX", added=added[25:], removed=["3"])
    )
    assert [s for s in seen if "dead_bodies" in s] == []
    assert (await store.count(f["INBOX"]))[0] == 49


@pytest.mark.parametrize("one_call", [True, False])
async def test_an_id_put_there_is_buried_after_the_commit(
    store: Store, tmp_path: Path, one_call: bool
) -> None:
    f = await folders(store)
    await store.apply_batch(f["INBOX"], FolderBatch("INBOX", added=[new("1", date=1)]))
    file = legacy_file(tmp_path / "cache.sqlite", 77)
    if one_call:
        await store._tx_in_writer(lambda conn: conn.execute("INSERT INTO dead_bodies VALUES (77)"))
    else:
        async with store._tx() as db:
            await db.execute("INSERT INTO dead_bodies VALUES (77)")
    assert not file.exists()
    assert await store._read("SELECT count(*) FROM dead_bodies") == [(0,)]
    seen = await traced(store)
    await store.apply_batch(f["INBOX"], FolderBatch("INBOX", added=[new("2", date=2)]))
    assert [s for s in seen if "dead_bodies" in s] == []  # empty again: no more looks


async def test_a_rolled_back_id_costs_a_look_not_a_file(store: Store, tmp_path: Path) -> None:
    f = await folders(store)

    def put_and_fail(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO dead_bodies VALUES (5)")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await store._tx_in_writer(put_and_fail)
    seen = await traced(store)
    await store.apply_batch(f["INBOX"], FolderBatch("INBOX", added=[new("1", date=1)]))
    await store.apply_batch(f["INBOX"], FolderBatch("INBOX", added=[new("2", date=2)]))
    assert len([s for s in seen if "dead_bodies" in s]) == 1  # the first batch looked


async def test_ids_a_crash_left_are_buried_at_open(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    await (await Store.open(path)).close()
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("INSERT INTO dead_bodies VALUES (4096)")  # committed, its file not unlinked
    con.close()
    file = legacy_file(path, 4096)
    async with await Store.open(path) as s:
        assert not file.exists()
        assert await s._read("SELECT count(*) FROM dead_bodies") == [(0,)]
