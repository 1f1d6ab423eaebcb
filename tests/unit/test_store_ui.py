"""The store's reads for the message list beyond the flat window (``store/listing.py``):
conversations, next unread, positions, folder-scoped search. Each is checked against a
brute-force computation over the same file, through every kind of change."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from mailtui.models import AccountKind, Flag, FolderBatch, OpResult
from mailtui.store import Store, schema
from tests.unit.test_store import FOLDERS, World, brute_counts, new, sql


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    s = await Store.open(tmp_path / "mail.sqlite")
    account = await s.ensure_account("work", AccountKind.IMAP, "me@example.org")
    ids = await s.sync_folders(account.id, FOLDERS)
    yield World(s, account.id, ids["INBOX"], ids["Archive"], ids["Trash"])
    await s.close()


def brute_threads(store: Store, folder_id: int) -> list[tuple[int, int, int, int]]:
    """(thread_id, newest message id, total, unread) per thread, most recent first."""
    rows = sql(
        store,
        "SELECT thread_id, date, id, flags FROM messages WHERE folder_id = ? "
        "ORDER BY date DESC, id DESC",
        (folder_id,),
    )
    out: dict[int, list[int]] = {}
    for thread_id, _, mid, flags in rows:
        entry = out.setdefault(thread_id, [thread_id, mid, 0, 0])
        entry[2] += 1
        entry[3] += 0 if flags & 1 else 1
    return [(a, b, c, d) for a, b, c, d in out.values()]


async def listed_threads(store: Store, folder_id: int) -> list[tuple[int, int, int, int]]:
    summaries = await store.thread_window(folder_id, 0, 10_000)
    return [(s.row.thread_id, s.row.id, s.total, s.unread) for s in summaries]


async def conversation_world(world: World) -> list[int]:
    """Three conversations and a loner in the Inbox; one reply already archived."""
    return await world.add(
        world.inbox,
        new("a1", date=100, mid="<a1>"),
        new("a2", date=300, mid="<a2>", irt="<a1>", flags=Flag.SEEN),
        new("b1", date=200, mid="<b1>", flags=Flag.SEEN),
        new("b2", date=400, mid="<b2>", refs=("<b1>",)),
        new("c1", date=250, mid="<c1>"),
        new("a3", date=500, mid="<a3>", refs=("<a1>", "<a2>")),
        new("d1", date=50, mid="<d1>", flags=Flag.SEEN),
    )


async def test_threads_follow_every_change(world: World) -> None:
    s = world.store
    ids = await conversation_world(world)
    a1, a2, b1, b2, c1, a3, d1 = ids
    steps: list[tuple[str, Callable[[], Awaitable[Any]] | None]] = [
        ("insert", None),
        ("read the newest", lambda: s.set_flags([a3], Flag.SEEN, Flag.NONE)),
        ("unread again", lambda: s.set_flags([a3, d1], Flag.NONE, Flag.SEEN)),
        ("move the newest of a thread away", lambda: s.move([a3], world.archive)),
        ("move the rest after it", lambda: s.move([a1, a2], world.archive)),
        ("delete to trash", lambda: s.delete([b2])),
        ("expunge from trash", lambda: s.delete([b2])),
        (
            "server flags",
            lambda: s.apply_batch(world.inbox, FolderBatch("INBOX", flags=[("c1", Flag.SEEN)])),
        ),
        (
            "server removal",
            lambda: s.apply_batch(world.inbox, FolderBatch("INBOX", removed=["d1"])),
        ),
        ("late reply", lambda: world.add(world.inbox, new("b3", date=900, refs=("<b1>",)))),
    ]
    for name, step in steps:
        if step is not None:
            await step()
        for folder in (world.inbox, world.archive, world.trash):
            expected = brute_threads(s, folder)
            assert await listed_threads(s, folder) == expected, (name, folder)
            assert (await s.thread_count(folder))[0] == len(expected), name
    # Undo everything still pending, newest first: the folders go back to the start.
    ops = [op.id for op in await s.pending_ops(world.account, 100)]
    assert (await s.undo_ops(ops)).reversed == len(ops)
    for folder in (world.inbox, world.archive, world.trash):
        assert await listed_threads(s, folder) == brute_threads(s, folder)
    # b3 and the server's changes stay; the user's moves and deletes are taken back.
    assert [t[0] for t in await listed_threads(s, world.inbox)] == [b1, a1, c1]


async def test_thread_window_pages_from_either_end(world: World) -> None:
    s = world.store
    # 90 threads of 1-3 messages, many sharing a date so the id tie-break matters.
    messages = []
    for t in range(90):
        for k in range(1 + t % 3):
            messages.append(
                new(
                    f"{t}-{k}",
                    date=1000 + (t * 37) % 23 + k,
                    mid=f"<{t}-{k}>",
                    irt=f"<{t}-0>" if k else "",
                )
            )
    await world.add(world.inbox, *messages)
    everything = brute_threads(s, world.inbox)
    assert len(everything) == 90
    for offset, limit in [(0, 10), (5, 20), (44, 3), (70, 30), (85, 10), (89, 1), (90, 5)]:
        got = [
            (t.row.thread_id, t.row.id, t.total, t.unread)
            for t in await s.thread_window(world.inbox, offset, limit)
        ]
        assert got == everything[offset : offset + limit], (offset, limit)
    for position, (thread_id, *_rest) in enumerate(everything):
        assert await s.thread_position(world.inbox, thread_id) == position
    assert await s.thread_position(world.inbox, 999_999) is None


async def test_thread_messages_oldest_first(world: World) -> None:
    ids = await conversation_world(world)
    a1, a2, _, _, _, a3, _ = ids
    rows = await world.store.thread_messages(world.inbox, a1)
    assert [r.id for r in rows] == [a1, a2, a3]
    assert [r.id for r in await world.store.thread_messages(world.inbox, a1, limit=2)] == [a2, a3]
    await world.store.move([a2], world.archive)
    assert [r.id for r in await world.store.thread_messages(world.inbox, a1)] == [a1, a3]
    assert [r.id for r in await world.store.thread_messages(world.archive, a1)] == [a2]


async def test_next_unread_and_positions(world: World) -> None:
    s = world.store
    ids = await world.add(
        world.inbox,
        *[
            new(str(i), date=1000 - i, flags=Flag.NONE if i % 4 == 0 else Flag.SEEN)
            for i in range(20)
        ],
    )
    rows = await s.window(world.inbox, 0, 20)
    assert [await s.position_of(world.inbox, r.id) for r in rows] == list(range(20))
    found = await s.next_unread(world.inbox)
    assert found is not None and found[0] == 0 and found[1].id == ids[0]
    found = await s.next_unread(world.inbox, rows[0])
    assert found is not None and found[0] == 4
    found = await s.next_unread(world.inbox, rows[16])
    assert found is None
    await s.set_flags([ids[4]], Flag.SEEN, Flag.NONE)
    found = await s.next_unread(world.inbox, rows[0])
    assert found is not None and found[0] == 8
    assert await s.position_of(world.archive, ids[0]) is None


async def test_next_unread_thread(world: World) -> None:
    s = world.store
    await conversation_world(world)
    threads = await s.thread_window(world.inbox, 0, 10)
    # a (newest 500, unread), b (400, unread), c (250, unread), d (50, read)
    found = await s.next_unread_thread(world.inbox)
    assert found is not None and found[0] == 0
    found = await s.next_unread_thread(world.inbox, threads[0].row)
    assert found is not None and found[0] == 1
    found = await s.next_unread_thread(world.inbox, threads[2].row)
    assert found is None


async def test_search_in_one_folder(world: World) -> None:
    s = world.store
    ids = await world.add(world.inbox, new("1", subject="budget review"), new("2", subject="lunch"))
    await world.add(world.archive, new("3", subject="old budget"))
    assert {r.id for r in await s.search("budget", 10)} == {ids[0], ids[0] + 2}
    assert [r.id for r in await s.search("budg*", 10, folder_id=world.inbox)] == [ids[0]]
    assert await s.search("lunch", 10, folder_id=world.archive) == []


@pytest.mark.parametrize(
    ("query", "params", "index"),
    [
        ("thread_window", (1, 0, 50), "threads_list"),
        ("thread_messages", (1, 1), "messages_thread"),
        ("next_unread", (1,), "messages_unread"),
    ],
)
async def test_list_queries_use_their_index(
    world: World, monkeypatch: pytest.MonkeyPatch, query: str, params: tuple[Any, ...], index: str
) -> None:
    """No list query scans a folder: each one's plan names its index."""
    await conversation_world(world)
    plans: list[str] = []
    s = world.store
    real = s._r.execute_fetchall

    async def spy(sql_text: str, parameters: Any = ()) -> Any:
        if sql_text.lstrip().upper().startswith("SELECT"):
            plan = await real("EXPLAIN QUERY PLAN " + sql_text, parameters)
            plans.append(" | ".join(str(r[3]) for r in plan))
        return await real(sql_text, parameters)

    monkeypatch.setattr(s._r, "execute_fetchall", spy)
    await getattr(s, query)(*params)
    assert any(index in plan for plan in plans), plans
    for plan in plans:
        assert "SCAN m" not in plan and "SCAN messages" not in plan, plan


async def test_migration_builds_threads_for_an_existing_cache(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    # A version-1 cache with mail in it, as an older mailtui left it.
    con = sqlite3.connect(path, isolation_level=None)
    for statement in schema.MIGRATIONS[0]:
        con.execute(statement)
    con.execute("PRAGMA user_version = 1")
    con.execute("INSERT INTO accounts (id, name, kind, email) VALUES (1, 'a', 'imap', 'a@x')")
    con.execute("INSERT INTO folders (id, account_id, name, display_name) VALUES (1, 1, 'I', 'I')")
    for mid, date, flags, thread in [(1, 10, 0, 1), (2, 20, 1, 1), (3, 15, 0, 3)]:
        con.execute(
            "INSERT INTO messages (id, account_id, folder_id, remote_id, date, sender, subject, "
            "from_addrs, to_addrs, cc_addrs, message_id, in_reply_to, refs, size, flags, "
            "thread_id, has_attachments, preview) "
            "VALUES (?, 1, 1, ?, ?, '', '', '[]', '[]', '[]', '', '', '', 1, ?, ?, 0, '')",
            (mid, str(mid), date, flags, thread),
        )
    con.close()
    fid = 1
    async with await Store.open(path) as s:
        assert await listed_threads(s, fid) == brute_threads(s, fid)
        assert await s.thread_count(fid) == (2, 2)
        con = sqlite3.connect(path)
        assert con.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
        con.close()
        # The triggers work after the migration, too.
        rows = await s.window(fid, 0, 3)
        await s.set_flags([r.id for r in rows], Flag.SEEN, Flag.NONE)
        await s.op_done((await s.pending_ops(1, 10))[0].id, OpResult())
        assert await listed_threads(s, fid) == brute_threads(s, fid)
        # New rows are counted by their batch since version 9, old ones were by triggers.
        await s.apply_batch(
            fid, FolderBatch("I", added=[new("4", date=20, irt="<x>"), new("5", date=5)])
        )
        assert await listed_threads(s, fid) == brute_threads(s, fid)
        assert folder_counts(s, fid) == (*brute_counts(s, fid), 4)


def folder_counts(store: Store, folder_id: int) -> tuple[int, int, int]:
    """What the folder row says: (total, unread, threads)."""
    total, unread, threads = sql(
        store, "SELECT total, unread, threads FROM folders WHERE id = ?", (folder_id,)
    )[0]
    return total, unread, threads


async def test_batches_count_their_rows_in_folder_and_threads(world: World) -> None:
    """A batch's new rows are counted with one statement each for the folder and the
    threads (schema version 9): threads spanning batches, a thread's messages at the same
    second (its newest is then the greatest id), read and unread, a thread that starts
    with an old reply."""
    s = world.store
    batches = [
        [
            new("a1", date=100, mid="<a1>"),
            new("a2", date=300, mid="<a2>", irt="<a1>", flags=Flag.SEEN),
            new("a3", date=300, mid="<a3>", irt="<a1>"),
        ],
        [
            new("a4", date=300, mid="<a4>", refs=("<a1>",), flags=Flag.SEEN),
            new("b1", date=300, mid="<b1>"),
            new("a0", date=50, mid="<a0>", irt="<a1>"),
        ],
        [new("b2", date=200, mid="<b2>", irt="<b1>"), new("c1", date=10, flags=Flag.SEEN)],
        [new(f"d{i}", date=400, mid=f"<d{i}>", irt="<d0>" if i else "") for i in range(5)],
        [new("b3", date=300, irt="<b2>", flags=Flag.SEEN), new("d5", date=399, irt="<d1>")],
    ]
    for n, batch in enumerate(batches):
        await world.add(world.inbox, *batch)
        expected = brute_threads(s, world.inbox)
        assert await listed_threads(s, world.inbox) == expected, n
        assert folder_counts(s, world.inbox) == (*brute_counts(s, world.inbox), len(expected))
    ids = dict(sql(s, "SELECT remote_id, id FROM messages"))
    newest = {thread: latest for thread, latest, _, _ in expected}
    # Ties at the newest date: the greatest id, within a batch and across two.
    assert newest[ids["a1"]] == ids["a4"]
    assert newest[ids["d0"]] == ids["d4"]
    assert newest[ids["b1"]] == ids["b3"]
    # The other folders are untouched.
    assert folder_counts(s, world.archive) == (0, 0, 0)


async def test_a_read_cancelled_mid_snapshot_leaves_the_reader_usable(world: World) -> None:
    """The UI cancels superseded list reads; one cut off after its BEGIN must not break
    the next read ("cannot start a transaction within a transaction")."""
    await conversation_world(world)
    await world.store._r.execute("BEGIN")  # what a read cancelled after BEGIN leaves
    assert len(await world.store.window(world.inbox, 0, 10)) == 7
    await world.store._r.execute("BEGIN")
    assert len(await world.store.thread_window(world.inbox, 0, 10)) == 4


async def test_a_reply_without_headers_joins_its_thread_by_subject(world: World) -> None:
    day = 86400
    s = world.store
    [original] = await world.add(world.inbox, new("o", date=100 * day, subject="[dev] Budget"))
    ids = await world.add(
        world.inbox,
        # Replies whose mailer dropped In-Reply-To/References.
        new("r1", date=101 * day, subject="Re: [dev] budget", mid="<r1>"),
        new("r2", date=102 * day, subject="AW: Budget", mid="<r2>"),
        # Not a reply: a new conversation that happens to share the subject.
        new("n", date=103 * day, subject="Budget", mid="<n>"),
        # A reply too long after: its own thread.
        new("late", date=200 * day, subject="Re: Budget", mid="<late>"),
        # Headers win over the subject.
        new("h", date=104 * day, subject="Re: Budget", mid="<h>", irt="<other>"),
        new("other", date=90 * day, subject="Lunch", mid="<other>"),
    )
    r1, r2, n, late, h, other = ids
    threads = {
        r[0]: r[1]
        for r in sql(s, "SELECT id, thread_id FROM messages WHERE folder_id = ?", (world.inbox,))
    }
    assert threads[r1] == threads[r2] == original
    assert threads[n] == n
    assert threads[late] == late
    assert threads[h] == threads[other] == other
    # In one batch, oldest first, a reply joins its subject's thread as well.
    more = await world.add(
        world.archive,
        new("q", date=300 * day, subject="Quarterly plan", mid="<q>"),
        new("q2", date=301 * day, subject="Re: quarterly  plan", mid="<q2>"),
    )
    assert {
        t for (t,) in sql(s, "SELECT thread_id FROM messages WHERE id IN (?, ?)", tuple(more))
    } == {more[0]}
