"""The download ledger (store/downloads.py, schema 8): written with the batch that carries
the messages, outliving them, marked "deleted here" when a message goes for good, whole
only when the body is really stored, and following a message under a new server id."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mailtui.errors import NotFound
from mailtui.models import (
    AccountKind,
    Envelope,
    FolderBatch,
    FolderRole,
    LedgerChange,
    NewMessage,
    OpResult,
    RemoteFolder,
)
from mailtui.store import Store, schema


def new(uidl: str, raw: bytes | None = None) -> NewMessage:
    env = Envelope(subject=uidl, message_id=f"<{uidl}@x>", date=1_800_000_000, size=100)
    return NewMessage(uidl, env, raw=raw)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "mail.sqlite")
    yield s
    await s.close()


async def setup(store: Store) -> tuple[int, int, int]:
    """(account, INBOX, Archive) of a POP3 account."""
    account = await store.ensure_account("home", AccountKind.POP3, "me@x.test")
    ids = await store.sync_folders(
        account.id,
        [RemoteFolder("INBOX", "Inbox", FolderRole.INBOX), RemoteFolder("Archive", "Archive")],
    )
    return account.id, ids["INBOX"], ids["Archive"]


async def test_rows_commit_with_their_batch_and_outlive_the_messages(store: Store) -> None:
    account, inbox, _ = await setup(store)
    batch = FolderBatch(
        "INBOX",
        added=[new("u1", b"Subject: u1\r\n\r\nbody\r\n"), new("u2")],
        ledger=[
            LedgerChange("u1", downloaded_at=1000, whole=True, key="<u1@x>|100"),
            LedgerChange("u2", downloaded_at=1000, key="<u2@x>|100"),
        ],
    )
    with pytest.raises(NotFound):  # a batch that fails writes no ledger row either
        await store.apply_batch(9999, batch)
    assert await store.downloads(account, ["u1", "u2"]) == []
    ids = await store.apply_batch(inbox, batch)
    rows = {r.server_id: r for r in await store.downloads(account, ["u1", "u2", "u3"])}
    assert rows["u1"].whole and not rows["u2"].whole  # u2: its header only
    assert rows["u1"].downloaded_at == 1000 and rows["u1"].key == "<u1@x>|100"
    assert sorted(await store.downloads_listed(account)) == ["u1", "u2"]
    # Deleted for good here (the DELETE op completed): the row stays, marked.
    (op,) = await store.delete([ids[0]])
    assert not (await store.downloads(account, ["u1"]))[0].deleted_here  # still hidden
    await store.op_done(op, OpResult())
    (row,) = await store.downloads(account, ["u1"])
    assert row.deleted_here and row.whole
    assert [r.server_id for r in await store.downloads_by_key(account, ["<u1@x>|100"])] == ["u1"]


async def test_whole_only_when_the_body_is_stored(store: Store) -> None:
    account, inbox, archive = await setup(store)
    ids = await store.apply_batch(
        inbox,
        FolderBatch(
            "INBOX", added=[new("u1"), new("u2")], ledger=[LedgerChange("u1"), LedgerChange("u2")]
        ),
    )
    await store.move([ids[0]], archive)  # moved before its body came
    (op,) = await store.delete([ids[1]])  # deleted for good before its body came
    await store.op_done(op, OpResult())
    await store.apply_batch(
        inbox,
        FolderBatch(
            "INBOX",
            bodies=[("u1", b"Subject: u1\r\n\r\none\r\n"), ("u2", b"Subject: u2\r\n\r\ntwo\r\n")],
            ledger=[LedgerChange("u1", whole=True), LedgerChange("u2", whole=True)],
        ),
    )
    rows = {r.server_id: r for r in await store.downloads(account, ["u1", "u2"])}
    assert rows["u1"].whole  # the body went to the moved row
    detail = await store.message(ids[0])
    assert detail is not None and detail.raw == b"Subject: u1\r\n\r\none\r\n"
    assert not rows["u2"].whole  # no message took it: the server keeps its copy
    # The moved message is still the server's u1 (a body opened later comes by it).
    assert await store.remote_ref(ids[0]) == ("Archive", "u1")


async def test_a_new_server_id_and_gone(store: Store) -> None:
    account, inbox, _ = await setup(store)
    (mid,) = await store.apply_batch(
        inbox, FolderBatch("INBOX", added=[new("old")], ledger=[LedgerChange("old", key="k")])
    )
    await store.apply_batch(
        inbox,
        FolderBatch("INBOX", ledger=[LedgerChange("new", was="old"), LedgerChange("x", gone=True)]),
    )
    assert await store.downloads(account, ["old"]) == []
    (row,) = await store.downloads(account, ["new"])
    assert row.key == "k" and not row.gone
    assert await store.remote_ref(mid) == ("INBOX", "new")
    await store.apply_batch(inbox, FolderBatch("INBOX", ledger=[LedgerChange("new", gone=True)]))
    (row,) = await store.downloads(account, ["new"])
    assert row.gone and await store.downloads_listed(account) == []
    await store.downloads_deleting(account, ["new"])
    assert (await store.downloads(account, ["new"]))[0].dele_sent


async def test_a_schema_7_cache_migrates(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    con = sqlite3.connect(path, isolation_level=None)
    for migration in schema.MIGRATIONS[:7]:
        for statement in migration:
            con.execute(statement)
    con.execute("PRAGMA user_version = 7")
    con.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
    con.close()
    async with await Store.open(path) as store:
        account, _, _ = await setup(store)
        assert await store.downloads_listed(account) == []
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION >= 8


async def test_deleting_waits_for_a_write_in_progress(store: Store) -> None:
    """The switch to ``synchronous = FULL`` cannot happen inside another transaction
    ("Safety level may not be changed inside a transaction"): it waits for the lock."""
    import asyncio

    account, inbox, _ = await setup(store)
    await store.apply_batch(inbox, FolderBatch("INBOX", ledger=[LedgerChange("u0")]))
    for round_ in range(10):
        batch = FolderBatch(
            "INBOX",
            added=[new(f"r{round_}-{i}", b"Subject: x\r\n\r\nbody\r\n") for i in range(200)],
        )
        await asyncio.gather(
            store.apply_batch(inbox, batch), store.downloads_deleting(account, ["u0"])
        )
    (row,) = await store.downloads(account, ["u0"])
    assert row.dele_sent
    sync = await store._w.execute_fetchall("PRAGMA synchronous")
    assert list(sync) == [(1,)]  # NORMAL again
