"""Bodies in pack files beside the database (mailtui/store/packs.py): what the rows say
and what is on disk agree, through deletes, compaction, failures, crashes, a second
writer and older databases."""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from mailtui.models import AccountKind, FolderBatch, FolderRole, RemoteFolder
from mailtui.store import Store, StoreError, packs, schema
from mailtui.store import bodies as store_module
from mailtui.store.db import bodies_dir
from tests.unit.test_store import new, sql

FOLDERS = [RemoteFolder("INBOX", "Inbox", FolderRole.INBOX)]
H = packs.HEADER_SIZE


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "data" / "mail.sqlite")
    yield s
    await s.close()


async def inbox(store: Store) -> int:
    account = await store.ensure_account("work", AccountKind.IMAP, "me@example.org")
    return (await store.sync_folders(account.id, FOLDERS))["INBOX"]


async def messages(store: Store, n: int, start: int = 0) -> list[int]:
    folder = await inbox(store)
    return await store.apply_batch(
        folder, FolderBatch(folder="INBOX", added=[new(str(i)) for i in range(start, start + n)])
    )


def pack_files(store: Store) -> dict[str, int]:
    """Name → size of the pack files."""
    root = store.bodies_dir
    return {p.name: p.stat().st_size for p in root.glob("*.pack")} if root.exists() else {}


def where(store: Store, mid: int) -> tuple[int, int, int]:
    ((pack, pos, size),) = sql(
        store, "SELECT pack, pos, size FROM bodies WHERE message_id = ?", (mid,)
    )
    return pack, pos, size


async def raw_of(store: Store, mid: int) -> bytes | None:
    detail = await store.message(mid)
    assert detail is not None
    return detail.raw


async def test_a_batch_of_bodies_is_one_run_of_records_in_a_private_pack(store: Store) -> None:
    a, b = await messages(store, 2)
    raws = {a: b"Subject: a\r\n\r\n" + os.urandom(100_000), b: b"Subject: b\r\n\r\nhi"}
    await store.store_bodies([(a, raws[a], "a"), (b, raws[b], "hi")])

    (pa, pos_a, size_a), (pb, pos_b, size_b) = where(store, a), where(store, b)
    assert pa == pb and (pos_a, pos_b) == (0, H + len(raws[a]))
    assert (size_a, size_b) == (len(raws[a]), len(raws[b]))
    assert sql(store, "SELECT raw FROM bodies") == [(None,), (None,)]
    path = store.bodies_dir / f"{pa}.pack"
    data = path.read_bytes()
    assert len(data) == 2 * H + len(raws[a]) + len(raws[b])
    assert packs.HEADER.unpack_from(data, pos_b) == (packs.MAGIC, b, len(raws[b]))
    assert data[pos_b + H :] == raws[b]
    assert sql(store, "SELECT id, size, dead FROM packs") == [(pa, len(data), 0)]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.bodies_dir.stat().st_mode) == 0o700
    assert store.bodies_dir == bodies_dir(store.path)
    for mid, raw in raws.items():
        assert await raw_of(store, mid) == raw
    assert [r.id for r in await store.search("hi", 10)] == [b]


async def test_deleted_bodies_are_dead_bytes_until_compaction_frees_them(store: Store) -> None:
    ids = await messages(store, 6)
    raws = {mid: os.urandom(1000) for mid in ids}
    await store.store_bodies([(mid, raws[mid], "") for mid in ids])
    ((pack_name, size),) = pack_files(store).items()
    first = where(store, ids[0])[0]

    # Two expunged: a third of the pack is dead, less than half: nothing to do.
    folder = await inbox(store)
    await store.apply_batch(folder, FolderBatch(folder="INBOX", removed=["0", "1"]))
    dead = 2 * H + len(raws[ids[0]]) + len(raws[ids[1]])
    assert sql(store, "SELECT size, dead FROM packs") == [(size, dead)]
    assert await store.compact_bodies() == 0

    # The active pack is never compacted under the writer; a new writer leaves it.
    await store.apply_batch(folder, FolderBatch(folder="INBOX", removed=["2"]))
    assert await store.compact_bodies() == 0
    store._packs.release()
    assert await store.compact_bodies() == size

    # The live records moved to a new pack, the old one is gone, everything reads back.
    assert pack_name not in pack_files(store)
    assert sql(store, "SELECT count(*) FROM packs WHERE id = ?", (first,)) == [(0,)]
    for mid in ids[3:]:
        assert where(store, mid)[0] != first
        assert await raw_of(store, mid) == raws[mid]
    ((size, dead),) = sql(store, "SELECT size, dead FROM packs")
    assert dead == 0 and size == sum(H + len(raws[mid]) for mid in ids[3:])

    # All deleted: the pack is all dead and goes without copying anything.
    await store.apply_batch(folder, FolderBatch(folder="INBOX", reset=True))
    store._packs.release()
    assert await store.compact_bodies() == size
    assert pack_files(store) == {}
    assert sql(store, "SELECT count(*) FROM packs") == [(0,)]


async def test_a_reader_that_saw_a_body_before_compaction_moved_it_still_gets_it(
    store: Store,
) -> None:
    a, b = await messages(store, 2)
    await store.store_bodies([(a, b"a" * 5000, ""), (b, b"b" * 10, "")])
    pack, pos, size = where(store, b)
    folder = await inbox(store)
    await store.apply_batch(folder, FolderBatch(folder="INBOX", removed=["0"]))
    store._packs.release()
    assert await store.compact_bodies() > 0
    assert where(store, b)[0] != pack
    # The location read before the move names a pack that is gone now.
    assert await store._read_bodies([(b, size, pack, pos)]) == [b"b" * 10]


async def test_a_pack_another_writer_appends_to_is_not_compacted(tmp_path: Path) -> None:
    path = tmp_path / "mail.sqlite"
    async with await Store.open(path) as one, await Store.open(path) as two:
        a, b = await messages(one, 2)
        await one.store_bodies([(a, b"a" * 100, ""), (b, b"b" * 100, "")])
        folder = await inbox(one)
        await one.apply_batch(folder, FolderBatch(folder="INBOX", removed=["0", "1"]))
        assert await two.compact_bodies() == 0  # `one` still holds it
        assert len(pack_files(one)) == 1
        one._packs.release()
        assert await two.compact_bodies() > 0
        assert pack_files(one) == {}


async def test_two_writers_append_to_two_packs(tmp_path: Path) -> None:
    """The app and a `mailtui sync --once` beside it: neither overwrites the other."""
    path = tmp_path / "mail.sqlite"
    async with await Store.open(path) as one, await Store.open(path) as two:
        ids = await messages(one, 4)
        await one.store_bodies([(ids[0], b"one-0", "")])
        await two.store_bodies([(ids[1], b"two-1", "")])
        await one.store_bodies([(ids[2], b"one-2", "")])
        await two.store_bodies([(ids[3], b"two-3", "")])
        assert where(one, ids[0])[0] == where(one, ids[2])[0]
        assert where(one, ids[1])[0] == where(one, ids[3])[0] != where(one, ids[0])[0]
        expected = [b"one-0", b"two-1", b"one-2", b"two-3"]
        for s in (one, two):
            assert [await raw_of(s, mid) for mid in ids] == expected
    # Closed: the next writer takes up the newest pack again rather than making a third.
    async with await Store.open(path) as three:
        (extra,) = await messages(three, 1, start=10)
        await three.store_bodies([(extra, b"three", "")])
        assert len(pack_files(three)) == 2


async def test_a_crashed_writers_tail_is_cut_off_by_the_next_writer(tmp_path: Path) -> None:
    path = tmp_path / "mail.sqlite"
    async with await Store.open(path) as s:
        a, b = await messages(s, 2)
        await s.store_bodies([(a, b"committed", "")])
        pack = where(s, a)[0]
    # A writer appended and died before its rows committed.
    pack_path = bodies_dir(path) / f"{pack}.pack"
    committed = pack_path.stat().st_size
    with open(pack_path, "ab") as f:
        f.write(packs.HEADER.pack(packs.MAGIC, b, 100) + b"half a bo")
    async with await Store.open(path) as s:
        await s.store_bodies([(b, b"second", "")])
        assert where(s, b) == (pack, committed, 6)
        assert pack_path.stat().st_size == committed + H + 6
        assert [await raw_of(s, mid) for mid in (a, b)] == [b"committed", b"second"]


async def test_a_record_lost_in_a_power_loss_counts_as_not_cached(store: Store) -> None:
    a, b = await messages(store, 2)
    await store.store_bodies([(a, b"a" * 50, ""), (b, b"b" * 50, "")])
    pack, pos_b, _ = where(store, b)
    path = store.bodies_dir / f"{pack}.pack"
    # The commit reached the disk, the pack's last pages did not: zeros, or nothing.
    data = path.read_bytes()
    path.write_bytes(data[:pos_b] + bytes(len(data) - pos_b))
    assert await raw_of(store, b) is None  # the reader fetches it again
    assert await raw_of(store, a) == b"a" * 50
    os.truncate(path, pos_b + 10)
    assert await raw_of(store, b) is None
    await store.store_body(b, b"b" * 50, "")  # fetched again: readable
    assert await raw_of(store, b) == b"b" * 50


async def test_durable_bodies_are_fsynced_before_the_commit(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = await inbox(store)
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    (mid,) = await store.apply_batch(
        folder,
        FolderBatch(folder="INBOX", added=[new("1", raw=b"only copy")]),
        durable=True,
    )
    pack = where(store, mid)[0]
    pack_path = str(store.bodies_dir / f"{pack}.pack")
    # The data, then the names of a new pack: its directory and the directory's parent.
    assert synced == [pack_path, str(store.bodies_dir), str(store.bodies_dir.parent)]
    synced.clear()
    (again,) = await store.apply_batch(
        folder, FolderBatch(folder="INBOX", added=[new("2", raw=b"x")]), durable=True
    )
    assert synced == [pack_path]  # the name is on disk already
    synced.clear()
    (other,) = await store.apply_batch(folder, FolderBatch(folder="INBOX", added=[new("3")]))
    await store.store_body(other, b"the server keeps this one", "")
    assert synced == []  # a cache of what the server keeps: no fsync
    assert await raw_of(store, again) == b"x"


@pytest.fixture
def file_size_limit() -> Iterator[int]:
    """Writes past 64 KiB fail with EFBIG, as on a full disk (soft limit only, restored)."""
    limit = 64 * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    yield limit
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    signal.signal(signal.SIGXFSZ, old)


async def test_a_failed_body_write_is_a_clear_error_and_keeps_nothing(
    store: Store, file_size_limit: int
) -> None:
    a, b, c = await messages(store, 3)
    await store.store_bodies([(a, b"before", "")])
    before = pack_files(store)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, hard))
    try:
        with pytest.raises(StoreError, match="cannot write to the mail cache"):
            await store.store_bodies([(b, b"small", ""), (c, b"x" * (2 * file_size_limit), "")])
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert pack_files(store) == before  # cut back to where it was
    assert sql(store, "SELECT message_id FROM bodies") == [(a,)]
    await store.store_bodies([(b, b"small", "")])  # the store still works
    assert [await raw_of(store, mid) for mid in (a, b)] == [b"before", b"small"]


async def test_a_rolled_back_transaction_cuts_its_pack_back(store: Store) -> None:
    folder = await inbox(store)
    await store.apply_batch(folder, FolderBatch(folder="INBOX", added=[new("1", raw=b"one")]))
    before = pack_files(store)
    # The batch's body is appended, then the transaction fails on the folder state
    # (not JSON): nothing of it may stay.
    with pytest.raises(TypeError):
        await store.apply_batch(
            folder,
            FolderBatch(folder="INBOX", added=[new("2", raw=b"body")], state={"x": object()}),
        )
    assert pack_files(store) == before
    assert [r[0] for r in sql(store, "SELECT remote_id FROM messages")] == ["1"]


async def test_a_rolled_back_transaction_removes_the_pack_it_created(store: Store) -> None:
    folder = await inbox(store)
    with pytest.raises(TypeError):
        await store.apply_batch(
            folder,
            FolderBatch(folder="INBOX", added=[new("2", raw=b"body")], state={"x": object()}),
        )
    assert pack_files(store) == {}
    assert sql(store, "SELECT count(*) FROM packs") == [(0,)]
    await store.apply_batch(folder, FolderBatch(folder="INBOX", added=[new("2", raw=b"body")]))
    (mid,) = [r[0] for r in sql(store, "SELECT id FROM messages")]
    assert await raw_of(store, mid) == b"body"


async def test_a_full_pack_is_left_for_a_new_one(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "PACK_TARGET", 1000)
    ids = await messages(store, 4)
    await store.store_bodies([(ids[0], b"a" * 600, ""), (ids[1], b"b" * 600, "")])
    await store.store_bodies([(ids[2], b"c" * 10, "")])  # past the target: a new pack
    await store.store_bodies([(ids[3], b"d" * 10, "")])
    p0, p2, p3 = (where(store, ids[i])[0] for i in (0, 2, 3))
    assert where(store, ids[1])[0] == p0  # a transaction stays in one pack
    assert p2 != p0 and p3 == p2
    assert sorted(pack_files(store).values()) == [2 * (H + 10), 2 * (H + 600)]


async def test_bodies_of_a_schema_2_cache_stay_readable(tmp_path: Path) -> None:
    path = tmp_path / "mail.sqlite"
    con = old_cache(path, 2)
    con.execute("INSERT INTO bodies (message_id, raw, text) VALUES (1, x'6f6c64', 'old')")
    con.close()
    async with await Store.open(path) as s:
        assert await raw_of(s, 1) == b"old"
        assert [(i, raw) for i, _, _, raw in [x async for x in s.iter_raw(1)]] == [(1, b"old")]
        assert await s.messages_missing_body(1, 0, 10) == []
        await s.apply_batch(1, FolderBatch(folder="I", removed=["r1"]))
        assert sql(s, "SELECT count(*) FROM dead_bodies") == [(0,)]  # it had no file
    assert not bodies_dir(path).exists()


async def test_bodies_of_a_schema_3_cache_stay_readable_until_stored_again(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mail.sqlite"
    con = old_cache(path, 3)
    con.execute("INSERT INTO bodies (message_id, size, text) VALUES (1, 3, 'old')")
    con.close()
    legacy = bodies_dir(path) / "0" / "1"  # id >> 12 in hex / id
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"old")
    async with await Store.open(path) as s:
        assert await raw_of(s, 1) == b"old"
        assert [raw async for *_, raw in s.iter_raw(1)] == [b"old"]
        # Fetched again: into a pack, and the old file goes once that has committed.
        await s.store_body(1, b"new!", "new")
        assert await raw_of(s, 1) == b"new!"
        assert not legacy.exists()
        assert sql(s, "SELECT count(*) FROM dead_bodies") == [(0,)]


async def test_a_schema_3_file_goes_with_its_message(tmp_path: Path) -> None:
    path = tmp_path / "mail.sqlite"
    con = old_cache(path, 3)
    con.execute("INSERT INTO bodies (message_id, size, text) VALUES (1, 3, 'old')")
    con.close()
    legacy = bodies_dir(path) / "0" / "1"
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"old")
    async with await Store.open(path) as s:
        await s.apply_batch(1, FolderBatch(folder="I", removed=["r1"]))
        assert not legacy.exists()
        assert sql(s, "SELECT count(*) FROM dead_bodies") == [(0,)]


def old_cache(path: Path, version: int) -> sqlite3.Connection:
    """A cache database as mailtui of schema ``version`` left it, with one message."""
    con = sqlite3.connect(path, isolation_level=None)
    for migration in schema.MIGRATIONS[:version]:
        for statement in migration:
            con.execute(statement)
    con.execute(f"PRAGMA user_version = {version}")
    con.execute("INSERT INTO accounts (id, name, kind, email) VALUES (1, 'a', 'imap', 'a@x')")
    con.execute("INSERT INTO folders (id, account_id, name, display_name) VALUES (1, 1, 'I', 'I')")
    con.execute(
        "INSERT INTO messages (id, account_id, folder_id, remote_id, date, sender, subject, "
        "from_addrs, to_addrs, cc_addrs, message_id, in_reply_to, refs, size, flags, "
        "thread_id, has_attachments, preview) "
        "VALUES (1, 1, 1, 'r1', 5, 's', 'old', '', '', '', '<m@x>', '', '', 9, 1, 1, 0, '')"
    )
    con.execute(  # indexed as Store._insert_added does, so the body trigger can re-index
        "INSERT INTO messages_fts (rowid, subject, addresses, body) "
        "SELECT id, subject, addresses, '' FROM messages"
    )
    return con


async def test_bodies_stored_without_text_are_indexed_later(store: Store) -> None:
    folder = await inbox(store)
    account = (await store.ensure_account("work", AccountKind.IMAP, "me@example.org")).id
    a, b, c = await store.apply_batch(
        folder,
        FolderBatch(
            folder="INBOX",
            added=[new("1"), new("2"), new("3", raw=b"Subject: x\r\n\r\nzebra", body_text=None)],
        ),
    )
    await store.store_bodies([(a, b"Subject: a\r\n\r\nquokka", None), (b, b"b" * 10, None)])
    assert await store.search("quokka", 10) == []  # stored, not indexed yet
    todo = await store.bodies_to_index(account, 10)
    assert [i for i, _ in todo] == [c, b, a]  # newest first
    assert dict(todo)[a] == b"Subject: a\r\n\r\nquokka"
    # One record lost meanwhile: left out, and forgotten so that it is fetched again.
    pack, pos, _ = where(store, b)
    with open(store.bodies_dir / f"{pack}.pack", "r+b") as f:
        f.seek(pos)
        f.write(bytes(H))
    todo = await store.bodies_to_index(account, 10)
    assert [i for i, _ in todo] == [c, a]
    assert [m for m, _ in await store.messages_missing_body(folder, 0, 10)] == [b]
    await store.set_body_texts([(a, "quokka"), (c, "zebra")])
    assert [r.id for r in await store.search("quokka", 10)] == [a]
    assert [r.id for r in await store.search("zebra", 10)] == [c]
    assert await store.bodies_to_index(account, 10) == []
    # Stored again without text (fetched anew): out of the index until indexed again.
    await store.store_body(a, b"Subject: a\r\n\r\nquokka", None)
    assert await store.search("quokka", 10) == []
    assert [i for i, _ in await store.bodies_to_index(account, 10)] == [a]


def test_a_batch_is_written_in_small_writes_that_keep_every_byte_in_order() -> None:
    """``Packs.append`` writes a batch in ``writev`` calls of at most 64 KB (small page
    cache folios, packs.py) and IOV_MAX buffers: every byte, once, in order, however the
    bodies' sizes fall across the cuts."""
    import random

    rng = random.Random(3)
    sizes = (0, 1, 24, 100, 5000, packs._WRITE - 1, packs._WRITE, packs._WRITE + 1, 3 << 20)
    buffers: list[bytes | bytearray] = [
        os.urandom(rng.choice(sizes)) for _ in range(2000)
    ] + [bytearray(b"x" * 10) for _ in range(3000)]  # many tiny ones: the IOV_MAX cut
    pieces = list(packs._pieces(buffers))
    assert b"".join(bytes(b) for piece in pieces for b in piece) == b"".join(buffers)
    assert all(0 < sum(len(b) for b in piece) <= packs._WRITE for piece in pieces)
    assert all(len(piece) <= packs._IOV for piece in pieces)
    assert max(len(piece) for piece in pieces) == packs._IOV


async def test_a_durable_commit_waits_for_a_write_in_progress(store: Store) -> None:
    """A compaction's last commit and a POP3 "about to delete" mark switch to
    ``synchronous = FULL``, which SQLite refuses inside another transaction ("Safety
    level may not be changed inside a transaction"): ``_tx(durable=True)`` makes the
    switch under the write lock, after the open write, and switches back."""
    import asyncio

    folder = await inbox(store)
    writing, done = asyncio.Event(), asyncio.Event()

    async def a_long_write() -> None:
        async with store._tx() as db:
            await db.execute("UPDATE folders SET unread = unread WHERE id = ?", (folder,))
            writing.set()
            await done.wait()

    async def durable() -> list[tuple[int]]:
        async with store._tx(durable=True) as db:
            return [tuple(r) for r in await db.execute_fetchall("PRAGMA synchronous")]

    writer = asyncio.create_task(a_long_write())
    await writing.wait()
    inside = asyncio.create_task(durable())
    await asyncio.sleep(0.05)  # the durable transaction is waiting, not failing
    assert not inside.done()
    done.set()
    await writer
    assert await inside == [(2,)]  # FULL inside
    assert list(await store._w.execute_fetchall("PRAGMA synchronous")) == [(1,)]  # NORMAL
