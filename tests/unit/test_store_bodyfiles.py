"""Bodies as files beside the database (mailtui/store/bodyfiles.py): what the row says
and what is on disk agree, through deletes, failures, crashes and old databases."""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from mailtui.models import AccountKind, FolderRole
from mailtui.store import Store, StoreError, schema
from mailtui.store.store import bodies_dir
from mailtui.sync.base import FolderBatch, RemoteFolder
from tests.unit.test_store import new, sql

FOLDERS = [RemoteFolder("INBOX", "Inbox", FolderRole.INBOX)]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "data" / "mail.sqlite")
    yield s
    await s.close()


async def inbox(store: Store) -> int:
    account = await store.ensure_account("work", AccountKind.IMAP, "me@example.org")
    return (await store.sync_folders(account.id, FOLDERS))["INBOX"]


def files_under(root: Path) -> set[str]:
    return {p.name for p in root.rglob("*") if p.is_file()}


async def test_a_stored_body_is_a_private_file_named_by_the_row(store: Store) -> None:
    folder = await inbox(store)
    (mid,) = await store.apply_batch(folder, FolderBatch(folder="INBOX", added=[new("1")]))
    raw = b"Subject: hi\r\n\r\n" + os.urandom(100_000)
    await store.store_body(mid, raw, "hi")

    assert sql(store, "SELECT raw, size FROM bodies WHERE message_id = ?", (mid,)) == [
        (None, len(raw))
    ]
    path = store._files.path(mid)
    assert path.read_bytes() == raw
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.bodies_dir.stat().st_mode) == 0o700
    assert store.bodies_dir == bodies_dir(store.path)
    detail = await store.message(mid)
    assert detail is not None and detail.raw == raw
    assert await store.messages_missing_body(folder, 0, 10) == []
    assert [r.id for r in await store.search("hi", 10)] == [mid]


async def test_deleting_messages_unlinks_their_files_after_the_commit(store: Store) -> None:
    folder = await inbox(store)
    ids = await store.apply_batch(
        folder, FolderBatch(folder="INBOX", added=[new(str(i)) for i in range(5)])
    )
    await store.store_bodies([(i, b"body %d" % i, "") for i in ids])
    assert files_under(store.bodies_dir) == {str(i) for i in ids}

    # The server expunged two; a UIDVALIDITY reset then drops the rest.
    await store.apply_batch(folder, FolderBatch(folder="INBOX", removed=["0", "1"]))
    assert files_under(store.bodies_dir) == {str(i) for i in ids[2:]}
    await store.apply_batch(folder, FolderBatch(folder="INBOX", reset=True))
    assert files_under(store.bodies_dir) == set()
    assert sql(store, "SELECT count(*) FROM dead_bodies") == [(0,)]


async def test_files_of_rows_deleted_before_a_crash_go_at_the_next_open(tmp_path: Path) -> None:
    path = tmp_path / "mail.sqlite"
    async with await Store.open(path) as s:
        folder = await inbox(s)
        (mid,) = await s.apply_batch(folder, FolderBatch(folder="INBOX", added=[new("1")]))
        await s.store_body(mid, b"x" * 10, "")
        body = s._files.path(mid)
    # Another process deleted the row and died before unlinking the file.
    with sqlite3.connect(path) as con:
        con.execute("PRAGMA foreign_keys = ON")
        con.execute("DELETE FROM messages WHERE id = ?", (mid,))
    assert body.exists()
    async with await Store.open(path) as s:
        assert not body.exists()
        assert sql(s, "SELECT count(*) FROM dead_bodies") == [(0,)]


async def test_a_body_for_a_message_deleted_meanwhile_leaves_no_file(store: Store) -> None:
    folder = await inbox(store)
    (mid,) = await store.apply_batch(folder, FolderBatch(folder="INBOX", added=[new("1")]))
    await store.apply_batch(folder, FolderBatch(folder="INBOX", removed=["1"]))
    await store.store_bodies([(mid, b"late", "late")])
    assert files_under(store.bodies_dir) == set()
    assert sql(store, "SELECT count(*) FROM bodies") == [(0,)]


async def test_a_short_or_missing_file_counts_as_not_cached(store: Store) -> None:
    folder = await inbox(store)
    a, b = await store.apply_batch(
        folder, FolderBatch(folder="INBOX", added=[new("1"), new("2")])
    )
    await store.store_bodies([(a, b"a" * 50, ""), (b, b"b" * 50, "")])
    # A power loss after the commit but before the page cache reached the disk.
    store._files.path(a).write_bytes(b"a" * 20)
    store._files.path(b).unlink()
    for mid in (a, b):
        detail = await store.message(mid)
        assert detail is not None and detail.raw is None  # the reader fetches it again
    # Fetched again: the file is replaced and readable.
    await store.store_body(a, b"a" * 50, "")
    detail = await store.message(a)
    assert detail is not None and detail.raw == b"a" * 50


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
    ids = await store.apply_batch(
        folder,
        FolderBatch(folder="INBOX", added=[new("1", raw=b"only copy")], durable_bodies=True),
    )
    body = store._files.path(ids[0])
    assert str(body.with_suffix(".tmp")) in synced  # the data, before the rename
    assert str(body.parent) in synced and str(store.bodies_dir) in synced  # the names
    synced.clear()
    (other,) = await store.apply_batch(
        folder, FolderBatch(folder="INBOX", added=[new("2")])
    )
    await store.store_body(other, b"the server keeps this one", "")
    assert synced == []  # a cache of what the server keeps: no fsync


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
    folder = await inbox(store)
    a, b = await store.apply_batch(
        folder, FolderBatch(folder="INBOX", added=[new("1"), new("2")])
    )
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, hard))
    try:
        with pytest.raises(StoreError, match="cannot write to the mail cache"):
            await store.store_bodies([(a, b"small", ""), (b, b"x" * (2 * file_size_limit), "")])
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert files_under(store.bodies_dir) == set()  # neither file, no .tmp left
    assert sql(store, "SELECT count(*) FROM bodies") == [(0,)]
    await store.store_bodies([(a, b"small", "")])  # the store still works
    detail = await store.message(a)
    assert detail is not None and detail.raw == b"small"


async def test_a_rolled_back_transaction_removes_the_files_it_wrote(store: Store) -> None:
    folder = await inbox(store)
    await store.apply_batch(folder, FolderBatch(folder="INBOX", added=[new("1")]))
    # The batch's body file is written, then the transaction fails on the unknown folder
    # state type (not JSON): nothing of it may stay.
    with pytest.raises(TypeError):
        await store.apply_batch(
            folder,
            FolderBatch(folder="INBOX", added=[new("2", raw=b"body")], state={"x": object()}),
        )
    assert files_under(store.bodies_dir) == set()
    assert [r[0] for r in sql(store, "SELECT remote_id FROM messages")] == ["1"]


async def test_bodies_of_a_schema_2_cache_stay_readable(tmp_path: Path) -> None:
    path = tmp_path / "mail.sqlite"
    con = sqlite3.connect(path, isolation_level=None)
    for migration in schema.MIGRATIONS[:2]:
        for statement in migration:
            con.execute(statement)
    con.execute("PRAGMA user_version = 2")
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
    con.execute("INSERT INTO bodies (message_id, raw, text) VALUES (1, x'6f6c64', 'old')")
    con.close()
    async with await Store.open(path) as s:
        detail = await s.message(1)
        assert detail is not None and detail.raw == b"old"
        assert [(i, raw) for i, _, _, raw in [x async for x in s.iter_raw(1)]] == [(1, b"old")]
        assert await s.messages_missing_body(1, 0, 10) == []
        await s.apply_batch(1, FolderBatch(folder="I", removed=["r1"]))
        assert sql(s, "SELECT count(*) FROM dead_bodies") == [(0,)]  # it had no file
    assert not bodies_dir(path).exists()


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
    # One file lost meanwhile: left out, and forgotten so that it is fetched again.
    store._files.path(b).unlink()
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
