"""Unit tests of the SQLite store (mailtui.store): real SQLite files in tmp_path."""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import stat
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mailtui.models import (
    AccountKind,
    Address,
    Envelope,
    Flag,
    FolderBatch,
    FolderRole,
    MessageRow,
    NewMessage,
    OpKind,
    OpResult,
    OutboxState,
    RemoteFolder,
)
from mailtui.store import (
    NotFound,
    Store,
    StoreError,
    StoreVersionError,
    UndoStatus,
    schema,
)
from mailtui.store.codec import fts_query

ALICE = Address("Alice Example", "alice@example.org")
BOB = Address("Bob Builder", "bob@builder.test")
ME = Address("Me", "me@example.org")


# --- helpers ------------------------------------------------------------------------


def new(
    rid: str,
    *,
    date: int = 1_000,
    subject: str | None = None,
    flags: Flag = Flag.NONE,
    mid: str | None = None,
    irt: str = "",
    refs: tuple[str, ...] = (),
    sender: Address = ALICE,
    raw: bytes | None = None,
    body_text: str | None = None,
) -> NewMessage:
    """A message for a batch; Message-ID defaults to one derived from the remote id."""
    return NewMessage(
        remote_id=rid,
        envelope=Envelope(
            subject=subject if subject is not None else f"message {rid}",
            from_=(sender,),
            to=(ME,),
            date=date,
            message_id=mid if mid is not None else f"<{rid}@test>",
            in_reply_to=irt,
            references=refs,
            size=100 + len(rid),
        ),
        flags=flags,
        raw=raw,
        body_text=body_text,
    )


def sql(store: Store, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Brute-force look at the file through an independent connection."""
    con = sqlite3.connect(store.path)
    try:
        return con.execute(query, params).fetchall()
    finally:
        con.close()


def fts_intact(store: Store) -> None:
    """FTS5 compares its index with the content view; raises if they disagree."""
    con = sqlite3.connect(store.path)
    try:
        con.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
    finally:
        con.close()


def brute_counts(store: Store, folder_id: int) -> tuple[int, int]:
    total, unread = sql(
        store,
        "SELECT count(*), coalesce(sum((flags & 1) = 0), 0) FROM messages WHERE folder_id = ?",
        (folder_id,),
    )[0]
    return total, unread


@dataclass
class World:
    store: Store
    account: int
    inbox: int
    archive: int
    trash: int

    async def add(self, folder_id: int, *messages: NewMessage, **kw: Any) -> list[int]:
        return await self.store.apply_batch(
            folder_id, FolderBatch(folder="", added=list(messages), **kw)
        )

    async def folder_of(self, message_id: int) -> int | None:
        rows = sql(self.store, "SELECT folder_id FROM messages WHERE id = ?", (message_id,))
        return rows[0][0] if rows else -1

    async def op_state(self, op_id: int) -> str | None:
        rows = sql(self.store, "SELECT state FROM pending_ops WHERE id = ?", (op_id,))
        return rows[0][0] if rows else None


FOLDERS = [
    RemoteFolder("INBOX", "Inbox", FolderRole.INBOX),
    RemoteFolder("Archive", "Archive", FolderRole.ARCHIVE),
    RemoteFolder("Trash", "Trash", FolderRole.TRASH),
]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "data" / "mail.sqlite")
    yield s
    await s.close()


@pytest.fixture
async def world(store: Store) -> World:
    account = await store.ensure_account("work", AccountKind.IMAP, "me@example.org")
    ids = await store.sync_folders(account.id, FOLDERS)
    return World(store, account.id, ids["INBOX"], ids["Archive"], ids["Trash"])


# --- opening, files, versions ---------------------------------------------------------


async def test_open_creates_private_dir_and_files(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "mail.sqlite"
    async with await Store.open(path) as s:
        await s.ensure_account("a", AccountKind.IMAP, "a@x")  # makes SQLite write the WAL
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        wal = path.with_name(path.name + "-wal")
        assert wal.exists()
        assert stat.S_IMODE(wal.stat().st_mode) == 0o600


async def test_open_tightens_an_existing_loose_file(tmp_path: Path) -> None:
    path = tmp_path / "mail.sqlite"
    path.touch()
    os.chmod(path, 0o644)
    async with await Store.open(path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_connection_settings(store: Store) -> None:
    w = store._w  # the settings are the contract; there is no public way to see them
    assert list(await w.execute_fetchall("PRAGMA journal_mode"))[0][0] == "wal"
    assert list(await w.execute_fetchall("PRAGMA foreign_keys"))[0][0] == 1
    assert list(await w.execute_fetchall("PRAGMA synchronous"))[0][0] == 1  # NORMAL
    assert list(await w.execute_fetchall("PRAGMA busy_timeout"))[0][0] > 0
    assert list(await store._r.execute_fetchall("PRAGMA query_only"))[0][0] == 1
    assert sql(store, "PRAGMA user_version")[0][0] == len(schema.MIGRATIONS)


async def test_reopen_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "mail.sqlite"
    async with await Store.open(path) as s:
        acc = await s.ensure_account("a", AccountKind.POP3, "a@x")
        ids = await s.sync_folders(acc.id, [RemoteFolder("INBOX", "Inbox", FolderRole.INBOX)])
        await s.apply_batch(ids["INBOX"], FolderBatch("INBOX", added=[new("1")], state={"k": 1}))
    async with await Store.open(path) as s:
        assert [a.name for a in await s.accounts()] == ["a"]
        assert await s.count(ids["INBOX"]) == (1, 1)
        assert await s.folder_state(ids["INBOX"]) == {"k": 1}


def _make_db(path: Path, user_version: int, application_id: int, table: bool = False) -> None:
    con = sqlite3.connect(path)
    if table:
        con.execute("CREATE TABLE notes (x)")
    con.execute(f"PRAGMA user_version = {user_version}")
    con.execute(f"PRAGMA application_id = {application_id}")
    con.commit()
    con.close()


async def test_newer_schema_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "mail.sqlite"
    newer = schema.SCHEMA_VERSION + 1
    _make_db(path, newer, schema.APPLICATION_ID, table=True)
    with pytest.raises(StoreVersionError) as info:
        await Store.open(path)
    msg = str(info.value)
    assert "\n" not in msg
    assert str(path) in msg and "newer mailtui" in msg
    assert f"schema {newer}, this one knows {len(schema.MIGRATIONS)}" in msg
    assert _user_version(path) == newer  # untouched


def _user_version(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        return int(con.execute("PRAGMA user_version").fetchone()[0])
    finally:
        con.close()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"this is not a database, just some text\n" * 200, "not a mailtui database"),
        (b"SQLite format 3\x00" + b"\xff" * 4000, "not a mailtui database"),
    ],
    ids=["text", "damaged-header"],
)
async def test_garbage_file_gives_store_error(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "mail.sqlite"
    path.write_bytes(content)
    with pytest.raises(StoreError) as info:
        await Store.open(path)
    assert not isinstance(info.value, StoreVersionError)
    assert expected in str(info.value) and "\n" not in str(info.value)
    assert path.read_bytes() == content  # never "repaired" behind the user's back


@pytest.mark.parametrize(
    ("user_version", "application_id"),
    [(0, 0), (1, 0), (1, 1234)],
    ids=["plain-sqlite", "versioned-no-app-id", "other-app-id"],
)
async def test_other_programs_database_is_refused(
    tmp_path: Path, user_version: int, application_id: int
) -> None:
    path = tmp_path / "other.sqlite"
    _make_db(path, user_version, application_id, table=True)
    with pytest.raises(StoreError, match="some other program"):
        await Store.open(path)


async def test_directory_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a directory"):
        await Store.open(tmp_path)


async def test_migrations_run_forward_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "mail.sqlite"
    async with await Store.open(path) as s:
        await s.ensure_account("a", AccountKind.IMAP, "a@x")
    v2 = ("ALTER TABLE accounts ADD COLUMN colour TEXT NOT NULL DEFAULT 'blue'",)
    v3 = ("UPDATE accounts SET colour = 'green'",)
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, v2, v3))
    async with await Store.open(path) as s:
        assert [a.name for a in await s.accounts()] == ["a"]
    assert _user_version(path) == schema.SCHEMA_VERSION + 2
    assert sql(s, "SELECT colour FROM accounts") == [("green",)]


async def test_failed_migration_leaves_previous_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "mail.sqlite"
    async with await Store.open(path):
        pass
    broken = ("CREATE TABLE half_done (x)", "THIS IS NOT SQL")
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, broken))
    with pytest.raises(StoreError, match="cannot upgrade"):
        await Store.open(path)
    assert _user_version(path) == schema.SCHEMA_VERSION
    con = sqlite3.connect(path)
    assert (
        con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").fetchone()[0]
        == 0
    )
    con.close()


# --- accounts and folders ---------------------------------------------------------


async def test_ensure_account_is_idempotent(store: Store) -> None:
    a = await store.ensure_account("work", AccountKind.IMAP, "old@x")
    b = await store.ensure_account("work", AccountKind.IMAP, "new@x")
    assert a.id == b.id
    assert [(x.name, x.email) for x in await store.accounts()] == [("work", "new@x")]


async def test_sync_folders_upserts_and_removes(world: World) -> None:
    s = world.store
    await world.add(world.archive, new("a1"), new("a2"))
    ids = await s.sync_folders(
        world.account,
        [
            RemoteFolder("INBOX", "Inbox", FolderRole.INBOX),
            RemoteFolder("Trash", "Bin", FolderRole.TRASH, depth=0),
            RemoteFolder("Lists/rust", "rust", FolderRole.NONE, depth=1),
        ],
    )
    assert ids["INBOX"] == world.inbox and ids["Trash"] == world.trash
    assert "Archive" not in ids
    folders = await s.folders(world.account)
    assert [(f.name, f.display_name, f.depth) for f in folders] == [
        ("INBOX", "Inbox", 0),
        ("Trash", "Bin", 0),
        ("Lists/rust", "rust", 1),
    ]
    assert sql(s, "SELECT count(*) FROM messages WHERE folder_id = ?", (world.archive,)) == [(0,)]
    with pytest.raises(NotFound):
        await s.folder(world.archive)
    fts_intact(s)


async def test_removing_a_folder_rolls_back_moves_into_it(world: World) -> None:
    s = world.store
    (mid,) = await world.add(world.inbox, new("1"))
    (op,) = await s.move([mid], world.archive)
    await s.sync_folders(world.account, [f for f in FOLDERS if f.name != "Archive"])
    assert await s.remote_ref(mid) == ("INBOX", "1")
    assert await s.count(world.inbox) == (1, 1)
    assert await world.op_state(op) == "failed"


async def test_unknown_folder_raises_not_found(world: World) -> None:
    s = world.store
    for call in (
        s.count(999),
        s.folder(999),
        s.folder_state(999),
        s.apply_batch(999, FolderBatch("x", added=[new("1")])),
        s.move([1], 999),
    ):
        with pytest.raises(NotFound):
            await call
    assert await s.window(999, 0, 10) == []


# --- counters ---------------------------------------------------------------------


async def test_counts_follow_every_change_through_triggers(world: World) -> None:
    s = world.store
    ids = await world.add(
        world.inbox,
        new("1"),
        new("2"),
        new("3", flags=Flag.SEEN),
        new("4", flags=Flag.SEEN | Flag.FLAGGED),
        new("5"),
    )
    steps: list[tuple[str, Any]] = [
        ("insert", None),
        ("mark read", lambda: s.set_flags(ids[:2], Flag.SEEN, Flag.NONE)),
        ("flag only", lambda: s.set_flags(ids[2:3], Flag.FLAGGED, Flag.NONE)),
        ("mark unread", lambda: s.set_flags(ids[3:4], Flag.NONE, Flag.SEEN)),
        ("move", lambda: s.move(ids[3:5], world.archive)),
        ("delete to trash", lambda: s.delete(ids[0:1])),
        ("expunge from trash", lambda: s.delete(ids[0:1])),
        (
            "server flags",
            lambda: s.apply_batch(
                world.inbox, FolderBatch("INBOX", flags=[("2", Flag.NONE), ("3", Flag.NONE)])
            ),
        ),
        ("server removal", lambda: s.apply_batch(world.inbox, FolderBatch("INBOX", removed=["3"]))),
        ("more mail", lambda: world.add(world.archive, new("x1"), new("x2", flags=Flag.SEEN))),
    ]
    for name, step in steps:
        if step is not None:
            await step()
        for folder in (world.inbox, world.archive, world.trash):
            expected = brute_counts(s, folder)
            assert await s.count(folder) == expected, name
            f = await s.folder(folder)
            assert (f.total, f.unread) == expected, name
    assert await s.count(world.inbox) == (1, 0)  # "2": read locally, op not yet confirmed


async def test_counters_are_stored_not_computed(world: World) -> None:
    await world.add(world.inbox, new("1"), new("2"))
    # If count() scanned messages, this tampering would not show.
    con = sqlite3.connect(world.store.path)
    con.execute("UPDATE folders SET total = 41, unread = 40 WHERE id = ?", (world.inbox,))
    con.commit()
    con.close()
    assert await world.store.count(world.inbox) == (41, 40)


# --- window -----------------------------------------------------------------------


@pytest.fixture
async def big_folder(world: World) -> tuple[World, list[int]]:
    # 237 rows, many sharing a date so that the id tie-break matters.
    messages = [new(str(i), date=1_000 + (i * 7919) % 61) for i in range(237)]
    for start in range(0, len(messages), 100):
        await world.add(world.inbox, *messages[start : start + 100])
    expected = [
        r[0]
        for r in sql(
            world.store,
            "SELECT id FROM messages WHERE folder_id = ? ORDER BY date DESC, id DESC",
            (world.inbox,),
        )
    ]
    return world, expected


@pytest.mark.parametrize(
    ("offset", "limit"),
    [
        (0, 50),
        (0, 1),
        (1, 10),
        (100, 37),
        (109, 10),  # straddles the middle
        (118, 1),
        (119, 1),
        (150, 50),
        (187, 50),  # the last screen
        (200, 50),  # runs past the end
        (236, 5),
        (237, 5),  # nothing left
        (500, 5),
        (-3, 4),
        (0, 1000),
    ],
)
async def test_window_matches_brute_force(
    big_folder: tuple[World, list[int]], offset: int, limit: int
) -> None:
    world, expected = big_folder
    rows = await world.store.window(world.inbox, offset, limit)
    start = max(0, offset)
    assert [r.id for r in rows] == expected[start : start + limit]
    assert all(isinstance(r, MessageRow) and r.folder_id == world.inbox for r in rows)


async def test_window_walks_from_the_nearer_end(big_folder: tuple[World, list[int]]) -> None:
    world, _ = big_folder
    statements: list[str] = []
    await world.store._r.set_trace_callback(statements.append)
    try:
        await world.store.window(world.inbox, 0, 50)  # first screen
        await world.store.window(world.inbox, 100, 10)  # front half
        await world.store.window(world.inbox, 187, 50)  # last screen
        await world.store.window(world.inbox, 130, 10)  # back half
    finally:
        await world.store._r.set_trace_callback(None)
    walks = [
        m.groups()
        for m in (
            re.search(r"ORDER BY date (\w+), id \w+ LIMIT (\d+) OFFSET (\d+)", s)
            for s in statements
        )
        if m
    ]
    # Every screen skips at most half the folder in the index, never the whole of it.
    assert walks == [
        ("DESC", "50", "0"),
        ("DESC", "10", "100"),
        ("ASC", "50", "0"),
        ("ASC", "10", "97"),
    ]


async def test_window_row_content(world: World) -> None:
    (mid,) = await world.add(world.inbox, new("7", date=1234, subject="Hi", flags=Flag.FLAGGED))
    (row,) = await world.store.window(world.inbox, 0, 10)
    assert row == MessageRow(
        id=mid,
        folder_id=world.inbox,
        date=1234,
        sender="Alice Example",
        subject="Hi",
        flags=Flag.FLAGGED,
        has_attachments=False,
        size=101,
        thread_id=mid,
    )
    assert row.unread


@pytest.mark.parametrize("direction", ["DESC", "ASC"])
async def test_window_reads_ids_from_the_covering_index(store: Store, direction: str) -> None:
    plan = sql(
        store,
        "EXPLAIN QUERY PLAN SELECT id FROM messages INDEXED BY messages_list "
        f"WHERE folder_id = 1 ORDER BY date {direction}, id {direction} LIMIT 50 OFFSET 10",
    )
    text = " ".join(str(r[-1]) for r in plan)
    assert "COVERING INDEX messages_list" in text
    assert "TEMP B-TREE" not in text  # no sort: the index order is the list order


# --- apply_batch --------------------------------------------------------------------


async def test_duplicates_in_and_across_batches_are_ignored(world: World) -> None:
    s = world.store
    first = await world.add(world.inbox, new("1"), new("2"), new("1", subject="again"))
    assert len(first) == 2
    second = await world.add(world.inbox, new("2"), new("3"), new("3"), new("1"))
    assert len(second) == 1
    assert await s.count(world.inbox) == (3, 3)
    subjects = {r.subject for r in await s.window(world.inbox, 0, 10)}
    assert subjects == {"message 1", "message 2", "message 3"}
    # The same remote id in another folder is another message.
    assert len(await world.add(world.archive, new("1"))) == 1


async def test_batch_is_one_transaction(world: World) -> None:
    s = world.store
    bad = FolderBatch("INBOX", added=[new("1"), new("2")], state={"x": object()})
    with pytest.raises(TypeError):  # the state cannot be stored as JSON
        await s.apply_batch(world.inbox, bad)
    assert await s.count(world.inbox) == (0, 0)
    assert await s.folder_state(world.inbox) == {}


async def test_batch_applies_flags_removals_and_state(world: World) -> None:
    s = world.store
    await world.add(world.inbox, new("1"), new("2"), new("3"))
    await s.apply_batch(
        world.inbox,
        FolderBatch(
            "INBOX",
            flags=[("1", Flag.SEEN | Flag.ANSWERED), ("nope", Flag.SEEN)],
            removed=["2", "missing"],
            state={"uidvalidity": 5, "modseq": 9},
        ),
    )
    rows = {r.subject: r for r in await s.window(world.inbox, 0, 10)}
    assert set(rows) == {"message 1", "message 3"}
    assert rows["message 1"].flags == Flag.SEEN | Flag.ANSWERED
    assert await s.folder_state(world.inbox) == {"uidvalidity": 5, "modseq": 9}
    fts_intact(s)


async def test_reset_replaces_folder_but_keeps_other_folders_ops(world: World) -> None:
    s = world.store
    inbox_ids = await world.add(world.inbox, new("1"), new("2"))
    (archived,) = await world.add(world.archive, new("a1"))
    other_op = (await s.set_flags([archived], Flag.FLAGGED, Flag.NONE))[0]
    stale_op = (await s.set_flags(inbox_ids[:1], Flag.SEEN, Flag.NONE))[0]
    ids = await s.apply_batch(
        world.inbox, FolderBatch("INBOX", added=[new("1"), new("9")], reset=True)
    )
    assert len(ids) == 2 and not set(ids) & set(inbox_ids)
    assert await s.count(world.inbox) == (2, 2)
    ops = await s.pending_ops(world.account, 10)
    assert [o.id for o in ops] == [other_op]  # the INBOX op named a UID that is no more
    assert await world.op_state(stale_op) is None
    assert (await s.window(world.archive, 0, 1))[0].flags == Flag.FLAGGED
    fts_intact(s)


async def test_reset_forgets_rows_moved_out_by_stale_ops(world: World) -> None:
    s = world.store
    (mid,) = await world.add(world.inbox, new("1"))
    await s.move([mid], world.archive)
    await s.apply_batch(world.inbox, FolderBatch("INBOX", added=[new("1")], reset=True))
    # The move named INBOX UID 1 of the old UIDVALIDITY: dropped, and the message shows
    # once, where the server has it.
    assert await s.pending_ops(world.account, 10) == []
    assert await s.count(world.archive) == (0, 0)
    assert await s.count(world.inbox) == (1, 1)


async def test_local_intent_wins_over_server_flags_until_op_done(world: World) -> None:
    s = world.store
    (mid,) = await world.add(world.inbox, new("1"))
    (op,) = await s.set_flags([mid], Flag.SEEN, Flag.NONE)

    async def server_says(flags: Flag) -> Flag:
        await s.apply_batch(world.inbox, FolderBatch("INBOX", flags=[("1", flags)]))
        return (await s.window(world.inbox, 0, 1))[0].flags

    # The server has not seen the op yet: SEEN stays, bits the op doesn't touch follow
    # the server.
    assert await server_says(Flag.NONE) == Flag.SEEN
    assert await server_says(Flag.FLAGGED) == Flag.SEEN | Flag.FLAGGED
    assert await s.count(world.inbox) == (1, 0)
    await s.claim_ops([op])
    assert await server_says(Flag.NONE) == Flag.SEEN  # in flight: still not confirmed
    await s.op_done(op, OpResult())
    assert await server_says(Flag.NONE) == Flag.NONE  # confirmed: the server rules again
    assert await s.count(world.inbox) == (1, 1)


# --- threads ---------------------------------------------------------------------


async def test_threads(world: World) -> None:
    s = world.store
    (root,) = await world.add(world.inbox, new("1", date=100, mid="<root@x>"))
    (reply,) = await world.add(world.inbox, new("2", date=200, mid="<r1@x>", irt="<root@x>"))
    # Parent unknown in In-Reply-To, a References ancestor known.
    (deep,) = await world.add(
        world.inbox, new("3", date=300, irt="<lost@x>", refs=("<root@x>", "<lost@x>"))
    )
    # A reply whose parent is not there yet starts its own thread.
    (early,) = await world.add(world.inbox, new("4", date=500, mid="<e2@x>", irt="<e1@x>"))
    (late_parent,) = await world.add(world.inbox, new("5", date=400, mid="<e1@x>"))
    # Same batch, newest first (as syncs deliver): the parent still wins.
    child, parent = await world.add(
        world.inbox,
        new("6", date=700, mid="<b2@x>", irt="<b1@x>"),
        new("7", date=600, mid="<b1@x>"),
    )
    # A copy of a known message (same Message-ID) in another folder shares its thread.
    (copy,) = await world.add(world.archive, new("c", mid="<r1@x>"))
    # Another account's message with the same ids does not join.
    other = await s.ensure_account("home", AccountKind.IMAP, "me@home")
    home = (await s.sync_folders(other.id, [RemoteFolder("INBOX", "Inbox")]))["INBOX"]
    (foreign,) = await s.apply_batch(
        home, FolderBatch("INBOX", added=[new("1", mid="<f@x>", irt="<root@x>")])
    )

    async def thread(mid: int) -> int:
        return sql(s, "SELECT thread_id FROM messages WHERE id = ?", (mid,))[0][0]

    assert await thread(root) == root
    assert await thread(reply) == root
    assert await thread(deep) == root
    assert await thread(early) == early
    assert await thread(late_parent) == late_parent
    assert await thread(parent) == parent and await thread(child) == parent
    assert await thread(copy) == root
    assert await thread(foreign) == foreign


async def test_hostile_references_do_not_hurt(world: World) -> None:
    refs = tuple(f"<{i}@spam>" for i in range(5000)) + ("",)
    (mid,) = await world.add(world.inbox, new("1", refs=refs, irt="", mid=""))
    detail = await world.store.message(mid)
    assert detail is not None and len(detail.envelope.references) == 5000


# --- intents, undo, worker side --------------------------------------------------


async def test_set_flags_ops_carry_the_server_identity(world: World) -> None:
    s = world.store
    ids = await world.add(world.inbox, new("1"), new("2", flags=Flag.SEEN))
    ops = await s.set_flags([*ids, ids[0], 424242], Flag.SEEN, Flag.NONE)
    assert len(ops) == 1  # "2" was read already, duplicates and unknown ids are skipped
    (op,) = await s.pending_ops(world.account, 10)
    assert (op.id, op.kind, op.message_id) == (ops[0], OpKind.SET_FLAGS, ids[0])
    assert (op.folder_id, op.folder_name, op.remote_id) == (world.inbox, "INBOX", "1")
    assert op.payload == {"add": int(Flag.SEEN), "remove": 0}
    with pytest.raises(ValueError):
        await s.set_flags(ids, Flag.SEEN, Flag.SEEN)


async def test_move_then_op_done_records_new_remote_id(world: World) -> None:
    s = world.store
    (mid,) = await world.add(world.inbox, new("1"))
    (move_op,) = await s.move([mid], world.archive)
    assert await s.remote_ref(mid) is None  # not known until the server says
    assert [r.id for r in await s.window(world.archive, 0, 5)] == [mid]
    (flag_op,) = await s.set_flags([mid], Flag.FLAGGED, Flag.NONE)
    move, flag = await s.pending_ops(world.account, 10)
    assert (move.kind, move.folder_name, move.remote_id) == (OpKind.MOVE, "INBOX", "1")
    assert move.payload == {"to_folder": world.archive}
    assert (flag.folder_name, flag.remote_id) == ("Archive", None)
    await s.op_done(move_op, OpResult(new_remote_id="77"))
    assert await s.remote_ref(mid) == ("Archive", "77")
    (flag,) = await s.pending_ops(world.account, 10)
    assert (flag.id, flag.remote_id) == (flag_op, "77")  # it was waiting for that id
    # A later sync of Archive listing UID 77 is not a new message.
    assert await world.add(world.archive, new("77", mid="<1@test>")) == []
    assert await s.count(world.archive) == (1, 1)


async def test_sync_adopts_a_moved_row_by_message_id(world: World) -> None:
    s = world.store
    (mid,) = await world.add(world.inbox, new("1", mid="<unique@x>"))
    (op,) = await s.move([mid], world.archive)
    await s.op_done(op, OpResult())  # the server did not say the new UID
    assert await world.add(world.archive, new("55", mid="<unique@x>")) == []
    assert await s.remote_ref(mid) == ("Archive", "55")
    assert await s.count(world.archive) == (1, 1)


@pytest.mark.parametrize("server_tells_uid", [True, False])
async def test_expunge_from_trash_before_the_move_there_is_confirmed(
    world: World, server_tells_uid: bool
) -> None:
    s = world.store
    (mid,) = await world.add(world.inbox, new("1", mid="<t@x>"))
    (to_trash,) = await s.delete([mid])
    (expunge,) = await s.delete([mid])  # now in Trash: for good
    ops = await s.pending_ops(world.account, 10)
    assert [(o.kind, o.folder_name, o.remote_id) for o in ops] == [
        (OpKind.MOVE, "INBOX", "1"),
        (OpKind.DELETE, "Trash", None),  # the Trash UID is not known yet
    ]
    if server_tells_uid:
        await s.op_done(to_trash, OpResult(new_remote_id="9"))
    else:
        await s.op_done(to_trash, OpResult())
        # The Trash sync lists the message: it is the hidden one, not a new message.
        assert await world.add(world.trash, new("9", mid="<t@x>")) == []
    (op,) = await s.pending_ops(world.account, 10)
    assert (op.id, op.remote_id) == (expunge, "9")
    assert await s.count(world.trash) == (0, 0)
    assert await world.add(world.trash, new("9", mid="<t@x>")) == []
    # Changed their mind: back in Trash, under its Trash UID.
    assert (await s.undo_ops([expunge])).status is UndoStatus.UNDONE
    assert await s.remote_ref(mid) == ("Trash", "9")
    assert await s.count(world.trash) == (1, 1)


async def test_unsent_move_is_not_undone_by_a_resync(world: World) -> None:
    s = world.store
    (mid,) = await world.add(world.inbox, new("1"))
    await s.move([mid], world.archive)
    # The server still lists UID 1 in INBOX (the move is not sent): no resurrection.
    assert await world.add(world.inbox, new("1")) == []
    assert await s.count(world.inbox) == (0, 0)
    # Someone else deleted it on the server meanwhile: the move is moot, no ghost stays.
    await s.apply_batch(world.inbox, FolderBatch("INBOX", removed=["1"]))
    assert await s.pending_ops(world.account, 10) == []
    assert await s.count(world.archive) == (0, 0)


async def test_move_across_accounts_is_refused(world: World) -> None:
    s = world.store
    (mid,) = await world.add(world.inbox, new("1"))
    other = await s.ensure_account("home", AccountKind.IMAP, "me@home")
    home = (await s.sync_folders(other.id, [RemoteFolder("INBOX", "Inbox")]))["INBOX"]
    with pytest.raises(ValueError):
        await s.move([mid], home)
    assert await world.folder_of(mid) == world.inbox


async def test_delete_moves_to_trash_then_expunges(world: World) -> None:
    s = world.store
    (mid,) = await world.add(world.inbox, new("1", raw=b"Subject: x\r\n\r\nhi", body_text="hi"))
    (to_trash,) = await s.delete([mid])
    assert await world.folder_of(mid) == world.trash
    await s.op_done(to_trash, OpResult(new_remote_id="9"))
    (expunge,) = await s.delete([mid])
    (op,) = await s.pending_ops(world.account, 10)
    assert (op.id, op.kind, op.folder_name, op.remote_id) == (expunge, OpKind.DELETE, "Trash", "9")
    # Gone from every view at once ...
    assert await s.message(mid) is None
    assert await s.window(world.trash, 0, 10) == []
    assert await s.count(world.trash) == (0, 0)
    assert await s.search("message", 10) == []
    assert await s.remote_ref(mid) is None
    # ... and from the file once the server confirms.
    await s.op_done(expunge, OpResult())
    assert await world.folder_of(mid) == -1
    fts_intact(s)


async def test_delete_without_trash_expunges(store: Store) -> None:
    acc = await store.ensure_account("pop", AccountKind.POP3, "me@pop")
    inbox = (await store.sync_folders(acc.id, [RemoteFolder("INBOX", "Inbox")]))["INBOX"]
    (mid,) = await store.apply_batch(inbox, FolderBatch("INBOX", added=[new("uidl-1")]))
    (op,) = await store.delete([mid])
    (pending,) = await store.pending_ops(acc.id, 10)
    assert (pending.kind, pending.remote_id, pending.folder_name) == (
        OpKind.DELETE,
        "uidl-1",
        "INBOX",
    )
    assert await store.count(inbox) == (0, 0)


@pytest.mark.parametrize("intent", ["read", "unflag", "move", "trash", "expunge"])
async def test_undo_restores_exactly(world: World, intent: str) -> None:
    s = world.store
    in_trash = intent == "expunge"
    folder = world.trash if in_trash else world.inbox
    ids = await world.add(folder, new("1", flags=Flag.FLAGGED), new("2"))
    before = [(r.id, r.folder_id, r.flags) for r in await s.window(folder, 0, 10)]
    refs_before = [await s.remote_ref(i) for i in ids]
    counts_before = [await s.count(f) for f in (world.inbox, world.archive, world.trash)]
    ops = {
        "read": lambda: s.set_flags(ids, Flag.SEEN, Flag.NONE),
        "unflag": lambda: s.set_flags(ids, Flag.NONE, Flag.FLAGGED),
        "move": lambda: s.move(ids, world.archive),
        "trash": lambda: s.delete(ids),
        "expunge": lambda: s.delete(ids),
    }[intent]
    op_ids = await ops()
    assert op_ids
    assert [(r.id, r.folder_id, r.flags) for r in await s.window(folder, 0, 10)] != before
    assert (await s.undo_ops(op_ids)).status is UndoStatus.UNDONE
    assert [(r.id, r.folder_id, r.flags) for r in await s.window(folder, 0, 10)] == before
    assert [await s.remote_ref(i) for i in ids] == refs_before
    assert [await s.count(f) for f in (world.inbox, world.archive, world.trash)] == counts_before
    assert await s.pending_ops(world.account, 10) == []
    fts_intact(s)


async def test_undo_of_flags_keeps_later_changes(world: World) -> None:
    s = world.store
    (mid,) = await world.add(world.inbox, new("1"))
    first = await s.set_flags([mid], Flag.SEEN, Flag.NONE)
    await s.set_flags([mid], Flag.FLAGGED, Flag.NONE)
    assert (await s.undo_ops(first)).reversed == 1
    assert (await s.window(world.inbox, 0, 1))[0].flags == Flag.FLAGGED


async def test_undo_reverses_unsent_ops_locally_and_refuses_the_unknown(world: World) -> None:
    s = world.store
    b, c = await world.add(world.inbox, new("2"), new("3"))
    (move,) = await s.move([c], world.archive)
    (later,) = await s.set_flags([c], Flag.SEEN, Flag.NONE)
    (fresh,) = await s.set_flags([b], Flag.FLAGGED, Flag.NONE)
    unknown = await s.undo_ops([fresh, 12345])
    assert unknown.status is UndoStatus.IMPOSSIBLE
    assert "no longer known" in unknown.reason
    # Nothing changed by the refusal (all or nothing).
    assert await world.folder_of(c) == world.archive
    assert (await s.window(world.inbox, 0, 5))[0].flags & Flag.FLAGGED
    # The move goes back together with the op made after it, before the server saw them.
    both = await s.undo_ops([move, later])
    assert (both.status, both.reversed, both.queued) == (UndoStatus.UNDONE, 2, ())
    assert await world.folder_of(c) == world.inbox
    assert await s.remote_ref(c) == ("INBOX", "3")


async def test_claim_and_crash_recovery(tmp_path: Path) -> None:
    path = tmp_path / "mail.sqlite"
    async with await Store.open(path) as s:
        acc = await s.ensure_account("a", AccountKind.IMAP, "a@x")
        inbox = (await s.sync_folders(acc.id, [RemoteFolder("INBOX", "Inbox")]))["INBOX"]
        ids = await s.apply_batch(inbox, FolderBatch("INBOX", added=[new("1"), new("2")]))
        ops = await s.set_flags(ids, Flag.SEEN, Flag.NONE)
        assert await s.claim_ops(ops[:1]) == ops[:1]
        assert [o.id for o in await s.pending_ops(acc.id, 10)] == ops[1:]
        assert await s.claim_ops(ops[:1]) == []  # only once
    async with await Store.open(path) as s:  # "crashed" with an op on the wire
        assert [o.id for o in await s.pending_ops(acc.id, 10)] == ops


async def test_transient_failure_keeps_the_op(world: World) -> None:
    s = world.store
    (mid,) = await world.add(world.inbox, new("1"))
    (op,) = await s.set_flags([mid], Flag.SEEN, Flag.NONE)
    await s.claim_ops([op])
    await s.op_failed(op, "connection reset", permanent=False)
    (pending,) = await s.pending_ops(world.account, 10)
    assert (pending.attempts, pending.last_error) == (1, "connection reset")
    assert (await s.window(world.inbox, 0, 1))[0].flags == Flag.SEEN


@pytest.mark.parametrize("kind", ["flags", "move", "expunge"])
async def test_permanent_failure_rolls_back(world: World, kind: str) -> None:
    s = world.store
    (mid,) = await world.add(world.inbox, new("1", flags=Flag.SEEN))
    if kind == "flags":
        (op,) = await s.set_flags([mid], Flag.FLAGGED, Flag.SEEN)
        chained: list[int] = []
    elif kind == "move":
        (op,) = await s.move([mid], world.archive)
        chained = await s.set_flags([mid], Flag.FLAGGED, Flag.NONE)
    else:
        await s.sync_folders(world.account, FOLDERS[:2])  # no Trash: delete expunges
        (op,) = await s.delete([mid])
        chained = []
    await s.claim_ops([op])
    await s.op_failed(op, "NO [NONEXISTENT] no such mailbox", permanent=True)
    assert await world.op_state(op) == "failed"
    for other in chained:
        assert await world.op_state(other) == "failed"
    (row,) = await s.window(world.inbox, 0, 5)
    assert (row.id, row.flags) == (mid, Flag.SEEN)
    assert await s.remote_ref(mid) == ("INBOX", "1")
    assert await s.count(world.inbox) == (1, 0)
    assert await s.pending_ops(world.account, 10) == []
    failed = sql(s, "SELECT attempts, last_error FROM pending_ops WHERE id = ?", (op,))
    assert failed == [(1, "NO [NONEXISTENT] no such mailbox")]
    # Reports for finished ops are ignored.
    await s.op_done(op, OpResult(new_remote_id="5"))
    assert await world.op_state(op) == "failed"


# --- bodies, detail, search ---------------------------------------------------------


async def test_message_detail_round_trips_the_envelope(world: World) -> None:
    s = world.store
    env = Envelope(
        subject='Ünïcode "quoted" \\ subject',
        from_=(Address('Zoë "Z" Ä', "zoe@example.org"),),
        to=(BOB, ALICE),
        cc=(Address("", "cc@x"),),
        date=1_700_000_000,
        message_id="<m@x>",
        in_reply_to="<p@x>",
        references=("<a@x>", "<p@x>"),
        size=4321,
        has_attachments=True,
        preview="first line…",
    )
    (mid,) = await world.add(world.inbox, NewMessage("1", env, Flag.SEEN))
    detail = await s.message(mid)
    assert detail is not None
    assert detail.envelope == env
    assert detail.account_id == world.account
    assert detail.raw is None
    assert detail.row.sender == 'Zoë "Z" Ä' and detail.row.has_attachments
    assert await s.message(999) is None


async def test_store_body_and_missing_bodies(world: World) -> None:
    s = world.store
    a, b, c = await world.add(
        world.inbox, new("1", date=10), new("2", date=20), new("3", date=30, raw=b"raw3")
    )
    assert await s.messages_missing_body(world.inbox, 0, 10) == [(b, "2"), (a, "1")]
    assert await s.messages_missing_body(world.inbox, 15, 10) == [(b, "2")]
    assert await s.messages_missing_body(world.inbox, 0, 1) == [(b, "2")]
    await s.store_body(b, b"From: x\r\n\r\nzebra crossing", "zebra crossing")
    detail = await s.message(b)
    assert detail is not None and detail.raw == b"From: x\r\n\r\nzebra crossing"
    assert await s.messages_missing_body(world.inbox, 0, 10) == [(a, "1")]
    assert [r.id for r in await s.search("zebra", 5)] == [b]
    # Replacing the body re-indexes it: the old words are gone.
    await s.store_body(b, b"new", "giraffe")
    assert await s.search("zebra", 5) == []
    assert [r.id for r in await s.search("giraffe", 5)] == [b]
    await s.store_body(999, b"x", "lost race")  # message gone meanwhile: no error
    fts_intact(s)


@pytest.fixture
async def searchable(world: World) -> World:
    await world.add(
        world.inbox,
        new("1", date=1, subject="Quarterly report", body_text="numbers AND figures"),
        new("2", date=2, subject="Lunch on Friday", sender=BOB, body_text="pizza or pasta"),
        new("3", date=3, subject='He said "hello"', body_text="café crème"),
        new("4", date=4, subject="reporting tool", body_text="NEAR the station"),
    )
    return world


@pytest.mark.parametrize(
    ("query", "subjects"),
    [
        ("report", ["Quarterly report"]),
        ("REPORT*", ["reporting tool", "Quarterly report"]),
        ("lunch friday", ["Lunch on Friday"]),
        ("bob@builder.test", ["Lunch on Friday"]),
        ("Builder", ["Lunch on Friday"]),
        ("cafe", ['He said "hello"']),  # diacritics folded
        ('"hello"', ['He said "hello"']),
        ("pizza pasta", ["Lunch on Friday"]),
        ("or", ["Lunch on Friday"]),
        ("report lunch", []),
        # hostile or meaningless input: never an exception
        ('"', []),
        ('""', []),
        ("*", []),
        ("**", []),
        ("AND OR", []),
        ("AND", ["Quarterly report"]),
        ("NOT", []),
        ("NEAR(", ["reporting tool"]),  # a word like any other
        ("near", ["reporting tool"]),
        ("subject:report", []),
        ("(report", ["Quarterly report"]),
        ("report)", ["Quarterly report"]),
        ("-report", ["Quarterly report"]),
        ("^report", ["Quarterly report"]),
        ("", []),
        ("   ", []),
        ("\x00", []),
        ("'; DROP TABLE messages; --", []),
    ],
)
async def test_search(searchable: World, query: str, subjects: list[str]) -> None:
    rows = await searchable.store.search(query, 10)
    assert [r.subject for r in rows] == subjects
    assert await searchable.store.count(searchable.inbox) == (4, 4)


async def test_search_limit_and_order(searchable: World) -> None:
    rows = await searchable.store.search("alice", 2)
    assert [r.date for r in rows] == [4, 3]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", '"hello"'),
        ('a"b', '"a""b"'),
        ("pre*", '"pre"*'),
        ("AND OR", '"AND" "OR"'),
        ('" * --', None),
        ("", None),
    ],
)
def test_fts_query_sanitizer(text: str, expected: str | None) -> None:
    assert fts_query(text) == expected


# --- outbox ------------------------------------------------------------------------


async def test_outbox_lifecycle(world: World) -> None:
    s = world.store
    item = await s.outbox_add(world.account, b"raw message", "me@x", ["a@x", "b@x"])
    (queued,) = await s.outbox(world.account)
    assert (queued.id, queued.state, queued.raw, queued.recipients) == (
        item,
        OutboxState.QUEUED,
        b"raw message",
        ("a@x", "b@x"),
    )
    assert queued.attempts == 0 and queued.created > 0
    steps = [
        (OutboxState.SENDING, "", 1),
        (OutboxState.QUEUED, "421 try later", 1),
        (OutboxState.SENDING, "", 2),
        (OutboxState.SENT, "", 2),
    ]
    for state, error, attempts in steps:
        await s.outbox_set_state(item, state, error)
        (now,) = await s.outbox(world.account)
        assert (now.state, now.last_error, now.attempts) == (state, error, attempts)
    await s.outbox_remove(item)
    assert await s.outbox(world.account) == []
    await s.outbox_remove(item)  # twice is fine
    with pytest.raises(NotFound):
        await s.outbox_set_state(item, OutboxState.FAILED, "gone")


async def test_outbox_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "mail.sqlite"
    async with await Store.open(path) as s:
        acc = await s.ensure_account("a", AccountKind.IMAP, "a@x")
        await s.outbox_add(acc.id, b"x", "a@x", ["b@x"])
        await s.outbox_set_state(1, OutboxState.SENDING)
    async with await Store.open(path) as s:
        (item,) = await s.outbox(acc.id)
        assert item.state == OutboxState.SENDING  # the worker decides, not the store


# --- export iteration --------------------------------------------------------------


async def test_iter_raw_pages_oldest_first(world: World) -> None:
    s = world.store
    ids = await world.add(
        world.inbox,
        *(new(str(i), date=100 - i % 3, raw=b"r%d" % i if i % 2 else None) for i in range(7)),
    )
    got = [item async for item in s.iter_raw(world.inbox, 2)]
    raw_of = {ids[i]: b"r%d" % i if i % 2 else None for i in range(7)}
    expected = [
        (r[0], r[1], raw_of[r[0]])
        for r in sql(s, "SELECT id, date FROM messages WHERE folder_id = ? ORDER BY date, id",
                     (world.inbox,))
    ]
    assert [(i, d, r) for i, _, d, r in got] == expected
    assert sorted(i for i, *_ in got) == sorted(ids)


# --- concurrency -------------------------------------------------------------------


async def test_reader_is_not_blocked_by_an_open_write(world: World) -> None:
    s = world.store
    await world.add(world.inbox, new("1"))
    async with s._tx() as db:  # a long write, held open
        await db.execute(
            "UPDATE messages SET subject = 'uncommitted' WHERE folder_id = ?", (world.inbox,)
        )
        # wait_for only guards against a hang; no timing is asserted.
        rows = await asyncio.wait_for(s.window(world.inbox, 0, 10), 5)
        count = await asyncio.wait_for(s.count(world.inbox), 5)
        found = await asyncio.wait_for(s.search("message", 10), 5)
        assert [r.subject for r in rows] == ["message 1"]  # the last committed state
        assert count == (1, 1) and len(found) == 1
        await db.execute("UPDATE messages SET subject = 'message 1'")  # keep FTS consistent


async def test_writer_is_not_blocked_by_an_open_read(world: World) -> None:
    s = world.store
    await world.add(world.inbox, new("1"))
    r = s._r
    await r.execute("BEGIN")
    try:
        assert list(await r.execute_fetchall("SELECT count(*) FROM messages"))[0][0] == 1
        ids = await asyncio.wait_for(world.add(world.inbox, new("2")), 5)
        assert len(ids) == 1
        # The reader's snapshot still predates the write.
        assert list(await r.execute_fetchall("SELECT count(*) FROM messages"))[0][0] == 1
    finally:
        await r.execute("COMMIT")
    assert await s.count(world.inbox) == (2, 2)


async def test_reads_interleave_with_a_long_batch(world: World) -> None:
    s = world.store
    batch = FolderBatch("INBOX", added=[new(str(i), date=i) for i in range(20_000)])
    writer = asyncio.create_task(s.apply_batch(world.inbox, batch))
    during: list[int] = []  # totals read while the batch's transaction was open
    while not writer.done():
        total, _ = await s.count(world.inbox)
        if s._w.in_transaction:
            during.append(total)
        await asyncio.sleep(0)
    assert len(await writer) == 20_000
    assert during, "no read completed while the batch was being written"
    assert set(during) == {0}  # only ever the committed state
    assert await s.count(world.inbox) == (20_000, 20_000)


async def test_writes_are_serialized(world: World) -> None:
    s = world.store
    results = await asyncio.gather(
        *(world.add(world.inbox, *(new(f"{k}-{i}") for i in range(50))) for k in range(10))
    )
    assert sorted(len(r) for r in results) == [50] * 10
    assert len({i for r in results for i in r}) == 500
    assert await s.count(world.inbox) == (500, 500)
    fts_intact(s)
