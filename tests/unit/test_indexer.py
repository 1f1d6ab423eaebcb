"""The search index's text after the download (mailtui/sync/indexer.py): every body gets
exactly ``mime.body_text``'s text, in a thread or through the helper process, through
malformed mail, a helper that dies or never starts, a user who wants something, a
failing write and a cancel."""

from __future__ import annotations

import asyncio
import base64
import os
import random
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mailtui.mime import body_text
from mailtui.models import Account, AccountKind, FolderBatch, FolderRole, RemoteFolder
from mailtui.store import Store, StoreError
from mailtui.sync.indexer import (
    BATCH,
    HELPER_MIN_BODIES,
    Indexed,
    IndexHelper,
    body_texts,
    index_bodies,
)
from mailtui.sync.worker import Worker
from tests.unit.test_store import new

DATA = Path(__file__).resolve().parents[1] / "data"
HELPER = pytest.mark.skipif(not hasattr(os, "memfd_create"), reason="the helper is Linux-only")


def corpus(n: int) -> list[bytes]:
    """``n`` messages: the test data's valid and malformed mail, then generated ones
    (plain, HTML alternatives, base64 attachments with lone CRs in them)."""
    files = sorted((DATA / "valid").glob("*.eml")) + sorted((DATA / "malformed").glob("*.eml"))
    raws = [p.read_bytes() for p in files]
    rng = random.Random(5)
    words = ["quokka", "budget", "zebra", "Ångström", "naïve", "review"]
    while len(raws) < n:
        i = len(raws)
        text = " ".join(rng.choice(words) for _ in range(rng.randint(5, 60))) + f" m{i}"
        if i % 3 == 0:
            blob = base64.encodebytes(rng.randbytes(rng.randint(1000, 30_000))).replace(
                b"\n", b"\r\n"
            )
            raws.append(
                b"Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n"
                b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + text.encode() + b"\r\n--zz\r\n"
                b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + blob[:500] + b"\rA\r\n" + blob[500:] + b"--zz--\r\n"
            )
        elif i % 3 == 1:
            raws.append(
                b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>" + text.encode() + b"</p>"
            )
        else:
            raws.append(b"Subject: s\r\n\r\n" + text.encode("latin-1", "replace"))
    return raws[:n]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "mail.sqlite")
    yield s
    await s.close()


async def cached(store: Store, raws: list[bytes]) -> tuple[Account, dict[int, bytes]]:
    """An account whose INBOX holds ``raws``, each body cached without its text."""
    account = await store.ensure_account("work", AccountKind.IMAP, "me@example.org")
    folder = (
        await store.sync_folders(account.id, [RemoteFolder("INBOX", "Inbox", FolderRole.INBOX)])
    )["INBOX"]
    ids = await store.apply_batch(
        folder, FolderBatch(folder="INBOX", added=[new(str(i)) for i in range(len(raws))])
    )
    await store.store_bodies([(i, raw, None) for i, raw in zip(ids, raws, strict=True)])
    return account, dict(zip(ids, raws, strict=True))


def indexed(store: Store) -> dict[int, str]:
    """message id -> indexed text, after FTS5's own check that the index matches it."""
    con = sqlite3.connect(store.path)
    try:
        con.execute("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")
        return dict(con.execute("SELECT message_id, text FROM bodies WHERE indexed = 1"))
    finally:
        con.close()


def indexed_count(store: Store) -> int:
    """How many bodies are indexed, read while a run writes (no integrity check)."""
    con = sqlite3.connect(store.path)
    try:
        return int(con.execute("SELECT count(*) FROM bodies WHERE indexed = 1").fetchone()[0])
    finally:
        con.close()


def helpers_running() -> list[int]:
    """Pids of this process's index helpers (from /proc)."""
    pids = []
    for d in Path("/proc").iterdir():
        try:
            stat = (d / "stat").read_text()
            cmdline = (d / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and b"mailtui.sync.indexer" in cmdline:
            pids.append(int(d.name))
    return pids


async def test_every_body_gets_body_texts_text_in_the_thread(store: Store) -> None:
    account, raws = await cached(store, corpus(3 * BATCH + 17))
    assert await index_bodies(store, account.id) == Indexed(bodies=3 * BATCH + 17)
    assert indexed(store) == {i: body_text(raw) for i, raw in raws.items()}
    assert await store.bodies_to_index(account.id, 10) == []
    assert len(await store.search("quokka", 10_000)) > 100


async def test_hostile_bodies_are_indexed_and_do_not_stop_the_rest(store: Store) -> None:
    nested = b"Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n" * 300
    hostile = [
        b"",
        b"\x00\xff" * 5000,
        nested,
        b"Content-Type: text/plain; charset=\x00utf-8\r\n\r\nnul in the charset",
        os.urandom(70_000),
        b"Content-Type: message/rfc822\r\n\r\n" * 100 + b"deep",
    ]
    account, raws = await cached(store, [*hostile, *corpus(BATCH)])
    await index_bodies(store, account.id)
    assert indexed(store) == {i: body_text(raw) for i, raw in raws.items()}


async def test_it_stops_between_batches_when_the_user_wants_something(store: Store) -> None:
    account, raws = await cached(store, corpus(3 * BATCH))
    asked = 0

    def user_waits() -> bool:
        nonlocal asked
        asked += 1
        return asked > 1  # the user asks for something while the first batch is indexed

    await index_bodies(store, account.id, stop=user_waits)
    assert set(indexed(store)) == set(sorted(raws, reverse=True)[:BATCH])  # newest first

    await index_bodies(store, account.id)  # the next round goes on where this one stopped
    assert indexed(store) == {i: body_text(raw) for i, raw in raws.items()}


async def test_the_app_worker_does_not_index_while_the_user_waits(store: Store) -> None:
    account, raws = await cached(store, corpus(BATCH + 1))
    worker = Worker(account, lambda: None, store, lambda e: None)  # type: ignore[arg-type,return-value]
    worker.kick()  # the user wants something: the app's round leaves the index for later
    await worker._index_bodies(once=False)
    assert indexed(store) == {}
    await worker._index_bodies(once=True)  # sync --once indexes everything before exiting
    assert indexed(store) == {i: body_text(raw) for i, raw in raws.items()}


async def test_a_cancel_leaves_a_consistent_index(store: Store) -> None:
    account, raws = await cached(store, corpus(6 * BATCH))
    run = asyncio.create_task(index_bodies(store, account.id))
    while indexed_count(store) < BATCH:
        assert not run.done()
        await asyncio.sleep(0.001)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    done = indexed(store)  # what was committed is right, the rest is still to do
    assert done and len(done) < len(raws)
    assert all(done[i] == body_text(raws[i]) for i in done)
    left = {i for i, _ in await store.bodies_to_index(account.id, 100_000, 1 << 40)}
    assert left == set(raws) - set(done)
    assert await index_bodies(store, account.id) == Indexed(bodies=len(left))
    assert indexed(store) == {i: body_text(raw) for i, raw in raws.items()}


async def test_a_write_that_fails_stops_the_run_with_a_store_error(store: Store) -> None:
    account, raws = await cached(store, corpus(4 * BATCH))
    await store._w.execute("PRAGMA busy_timeout = 50")  # not 10 s for the test
    con = sqlite3.connect(store.path)  # another program holds the write lock
    con.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError):
            await index_bodies(store, account.id)
    finally:
        con.rollback()
        con.close()
    assert indexed(store) == {}  # nothing half-written
    assert await index_bodies(store, account.id) == Indexed(bodies=len(raws))
    assert indexed(store) == {i: body_text(raw) for i, raw in raws.items()}


def test_body_texts_is_body_text_in_order() -> None:
    raws = corpus(60)
    assert body_texts(list(enumerate(raws))) == [(i, body_text(r)) for i, r in enumerate(raws)]


@HELPER
async def test_the_helper_gives_the_same_texts(store: Store) -> None:
    account, raws = await cached(store, corpus(4 * BATCH + 3))
    helper = await IndexHelper.start()
    assert helper is not None
    try:
        done = await index_bodies(store, account.id, helper=helper)
    finally:
        await helper.close()
    assert done == Indexed(bodies=4 * BATCH + 3, by_helper=4 * BATCH + 3)
    assert indexed(store) == {i: body_text(raw) for i, raw in raws.items()}
    assert helpers_running() == []


@HELPER
async def test_the_helper_itself_answers_like_body_texts() -> None:
    helper = await IndexHelper.start()
    assert helper is not None
    try:
        bodies = list(enumerate(corpus(150)))
        assert IndexHelper.fits(bodies)
        first, second = await asyncio.gather(
            helper.texts(bodies[:70]), helper.texts(bodies[70:])  # both slots at once
        )
        assert first + second == body_texts(bodies)
        assert await helper.texts([]) == []
    finally:
        await helper.close()
    assert helpers_running() == []


@HELPER
async def test_sync_once_starts_a_helper_for_a_large_backlog_and_ends_it(store: Store) -> None:
    account, raws = await cached(store, corpus(HELPER_MIN_BODIES))
    done = await index_bodies(store, account.id, helper=True)
    assert done.bodies == HELPER_MIN_BODIES  # the thread's until the helper is ready
    assert indexed(store) == {i: body_text(raw) for i, raw in raws.items()}
    assert helpers_running() == []


@HELPER
async def test_a_smaller_backlog_starts_no_helper(store: Store) -> None:
    account, raws = await cached(store, corpus(HELPER_MIN_BODIES - 1))
    run = asyncio.create_task(index_bodies(store, account.id, helper=True))
    while not run.done():
        assert helpers_running() == []
        await asyncio.sleep(0.002)
    assert await run == Indexed(bodies=HELPER_MIN_BODIES - 1)


@HELPER
async def test_a_helper_that_dies_leaves_the_rest_to_the_thread(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    account, raws = await cached(store, corpus(6 * BATCH))
    helper = await IndexHelper.start()
    assert helper is not None
    try:
        run = asyncio.create_task(index_bodies(store, account.id, helper=helper))
        while indexed_count(store) < 2 * BATCH:  # two batches answered by the helper
            assert not run.done()
            await asyncio.sleep(0.001)
        (pid,) = helpers_running()
        os.kill(pid, 9)
        done = await run
    finally:
        await helper.close()
    assert done.bodies == len(raws) and 2 * BATCH <= done.by_helper < len(raws)
    assert "search index helper stopped" in caplog.text
    assert indexed(store) == {i: body_text(raw) for i, raw in raws.items()}
    assert helpers_running() == []


@HELPER
@pytest.mark.parametrize("python", ["/nonexistent/python3", "/bin/echo"])
async def test_a_helper_that_cannot_start_leaves_it_all_to_the_thread(
    store: Store, python: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", python)  # echo: a child that says no hello
    assert await IndexHelper.start() is None
    assert helpers_running() == []
    account, raws = await cached(store, corpus(HELPER_MIN_BODIES))
    assert await index_bodies(store, account.id, helper=True) == Indexed(HELPER_MIN_BODIES)
    assert indexed(store) == {i: body_text(raw) for i, raw in raws.items()}


@HELPER
async def test_a_cancel_leaves_no_helper_behind(store: Store) -> None:
    account, raws = await cached(store, corpus(HELPER_MIN_BODIES))
    run = asyncio.create_task(index_bodies(store, account.id, helper=True))
    while not (helpers_running() and indexed_count(store) >= BATCH):  # starting or working
        assert not run.done()
        await asyncio.sleep(0.001)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert helpers_running() == []
    done = indexed(store)
    assert all(done[i] == body_text(raws[i]) for i in done)


@HELPER
async def test_no_helper_on_a_single_core() -> None:
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})
    try:
        assert await IndexHelper.start() is None
    finally:
        os.sched_setaffinity(0, cores)
    assert helpers_running() == []
