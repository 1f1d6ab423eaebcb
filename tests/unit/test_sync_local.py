"""Local accounts (``Capabilities.local``): the worker and the store keep the folders,
flags and moves of an account whose server keeps none (POP3), and never send an op.

A contract test: the backend is a small in-test one that declares ``local=True`` and
serves one INBOX, as the contract asks of such a backend (no local server speaks
"a protocol with no folders" apart from POP3, whose backend has tests of its own
against the real Dovecot); what is under test is the worker and the store around it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from mailtui.errors import OpRejected, TransientError
from mailtui.models import (
    Account,
    AccountKind,
    Envelope,
    Flag,
    FolderBatch,
    FolderRole,
    NewMessage,
    OpKind,
    OpResult,
    PendingOp,
    RawMessage,
    RemoteFolder,
)
from mailtui.store import Store, UndoStatus
from mailtui.sync.contract import AccountStatus, Capabilities, EventKind, SyncEvent
from mailtui.sync.manager import SyncManager, WorkerSpec
from mailtui.sync.worker import Worker

INBOX = RemoteFolder("INBOX", "INBOX", FolderRole.INBOX)


def _raw(uid: str) -> bytes:
    return (
        f"From: ann@x.test\r\nTo: me@pop.test\r\nSubject: message {uid} about kiwis\r\n"
        f"Message-ID: <{uid}@x.test>\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\n\r\n"
        f"The body of {uid}.\r\n"
    ).encode()


class LocalInbox:
    """One INBOX of three messages; keeps no folders, flags or moves (``local``)."""

    capabilities = Capabilities(folders=False, server_move=False, flags=False, local=True)

    def __init__(self, *, offline: bool = False) -> None:
        self.offline = offline
        self.applied: list[PendingOp] = []
        self.listed = 0
        self.polled = asyncio.Event()
        self.asked_bodies: list[tuple[str, list[str]]] = []

    async def connect(self) -> None:
        if self.offline:
            raise TransientError("connection refused")

    async def close(self) -> None:
        pass

    async def list_folders(self) -> list[RemoteFolder]:
        self.listed += 1
        if self.listed > 1:
            self.polled.set()
        return [INBOX]

    async def pull(
        self, folder: RemoteFolder, state: Mapping[str, Any]
    ) -> AsyncIterator[FolderBatch]:
        assert folder.name == "INBOX", "the worker pulls only what the backend listed"
        if not state:
            added = [
                NewMessage(
                    uid,
                    Envelope(f"message {uid}", date=1_000 + i, message_id=f"<{uid}@x.test>"),
                    raw=_raw(uid),
                )
                for i, uid in enumerate(("u1", "u2", "u3"))
            ]
            yield FolderBatch("INBOX", added=added, state={"seen": 3}, complete=True)

    async def fetch_body(self, folder: str, remote_id: str) -> bytes:
        return _raw(remote_id)

    async def fetch_bodies(
        self, folder: str, remote_ids: Sequence[str]
    ) -> AsyncIterator[tuple[str, RawMessage]]:
        self.asked_bodies.append((folder, list(remote_ids)))
        for remote_id in remote_ids:
            if remote_id in ("u1", "u2", "u3"):
                yield remote_id, _raw(remote_id)

    async def apply(self, op: PendingOp, target_folder: str | None) -> OpResult:
        self.applied.append(op)  # never: a local account's ops stay in the store
        raise OpRejected("a local backend was sent an op")

    async def wait_for_changes(self, timeout: float) -> set[str]:
        await asyncio.Event().wait()  # no push: only a wake-up ends the wait
        return set()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "cache.sqlite")
    yield s
    await s.close()


async def _account(store: Store) -> Account:
    return await store.ensure_account("pop", AccountKind.POP3, "me@pop.test")


async def _sync(store: Store, account: Account, backend: LocalInbox) -> list[SyncEvent]:
    events: list[SyncEvent] = []
    worker = Worker(account, lambda: backend, store, events.append)
    await worker.run(once=True)
    return events


async def _folders(store: Store, account: Account) -> dict[str, int]:
    return {f.name: f.id for f in await store.folders(account.id)}


async def _where(store: Store, account: Account) -> dict[str, tuple[str, str | None, int]]:
    """subject -> (folder name, remote id, flags) of every visible message."""
    names = {v: k for k, v in (await _folders(store, account)).items()}
    out: dict[str, tuple[str, str | None, int]] = {}
    for folder_id, name in names.items():
        for row in await store.window(folder_id, 0, 100):
            ref = await store.remote_ref(row.id)
            out[row.subject] = (name, ref[1] if ref else None, int(row.flags))
    return out


async def _id(store: Store, account: Account, subject: str) -> int:
    for folder_id in (await _folders(store, account)).values():
        for row in await store.window(folder_id, 0, 100):
            if row.subject == subject:
                return row.id
    raise AssertionError(f"no message {subject!r}")


async def _row_exists(store: Store, message_id: int) -> bool:
    """Whether the store still has the row, visible or hidden (deleted, not confirmed)."""
    return bool(await store._read("SELECT 1 FROM messages WHERE id = ?", (message_id,)))


async def test_standard_folders_are_made_once_and_only_inbox_is_pulled(store: Store) -> None:
    account = await _account(store)
    backend = LocalInbox()
    events = await _sync(store, account, backend)
    roles = {f.name: f.role for f in await store.folders(account.id)}
    assert roles == {
        "INBOX": FolderRole.INBOX,
        "Sent": FolderRole.SENT,
        "Drafts": FolderRole.DRAFTS,
        "Trash": FolderRole.TRASH,
        "Archive": FolderRole.ARCHIVE,
        "Junk": FolderRole.JUNK,
    }
    assert any(e.kind is EventKind.FOLDERS for e in events)
    ids = await _folders(store, account)
    # Again, with a new worker: the list from the server (INBOX) removes none of them.
    await _sync(store, account, LocalInbox())
    assert await _folders(store, account) == ids
    assert await store.ensure_local_folders(account.id) == []


async def test_a_renamed_standard_folder_keeps_its_role_and_is_not_made_again(
    store: Store,
) -> None:
    account = await _account(store)
    await _sync(store, account, LocalInbox())
    await store.rename_local_folder(account.id, "Junk", "Spam")
    assert await store.ensure_local_folders(account.id) == []
    assert {f.name: f.role for f in await store.folders(account.id)}["Spam"] is FolderRole.JUNK


async def test_flags_moves_and_deletes_are_done_in_the_store_never_sent(store: Store) -> None:
    account = await _account(store)
    backend = LocalInbox()
    await _sync(store, account, backend)
    folders = await _folders(store, account)
    u1, u2, u3 = [await _id(store, account, f"message {u}") for u in ("u1", "u2", "u3")]

    await store.set_flags([u1], Flag.SEEN | Flag.FLAGGED, Flag.NONE)
    await store.move([u2], folders["Archive"])
    await store.delete([u3])  # to Trash
    events = await _sync(store, account, backend)

    assert backend.applied == []
    assert await store.pending_ops(account.id, 10) == []
    where = await _where(store, account)
    assert where["message u1"] == ("INBOX", "u1", int(Flag.SEEN | Flag.FLAGGED))
    assert where["message u2"][:2] == ("Archive", "u2")  # the server's id goes along
    assert where["message u3"][:2] == ("Trash", "u3")
    assert sum(e.kind is EventKind.OP_DONE for e in events) == 3

    # Deleted in Trash: for good. The row is gone, not hidden.
    await store.delete([u3])
    await _sync(store, account, backend)
    assert not await _row_exists(store, u3)  # gone for good, not kept hidden
    assert "message u3" not in await _where(store, account)
    assert (await store.count(folders["Trash"]))[0] == 0


async def test_moves_one_after_the_other_keep_the_server_id(store: Store) -> None:
    account = await _account(store)
    backend = LocalInbox()
    await _sync(store, account, backend)
    folders = await _folders(store, account)
    u1 = await _id(store, account, "message u1")
    await store.move([u1], folders["Archive"])
    await store.set_flags([u1], Flag.FLAGGED, Flag.NONE)  # made while its id was unknown
    await store.move([u1], folders["Junk"])
    await _sync(store, account, backend)
    assert (await _where(store, account))["message u1"] == ("Junk", "u1", int(Flag.FLAGGED))
    assert await store.pending_ops(account.id, 10) == []


async def test_a_copy_is_a_message_of_its_own_with_the_body(store: Store) -> None:
    account = await _account(store)
    backend = LocalInbox()
    await _sync(store, account, backend)
    folders = await _folders(store, account)
    u1 = await _id(store, account, "message u1")
    # No intent makes copies yet; the op is what a future one would queue.
    async with store._tx() as db:
        await store._add_ops(
            db,
            [(account.id, OpKind.COPY, u1, folders["INBOX"], "INBOX", "u1",
              {"to_folder": folders["Archive"]}, {})],
        )  # fmt: skip
    await _sync(store, account, backend)
    assert backend.applied == []
    [copy] = await store.window(folders["Archive"], 0, 10)
    ref = await store.remote_ref(copy.id)
    assert ref is not None and ref[1].startswith("local:")
    detail = await store.message(copy.id)
    assert detail is not None and detail.raw == _raw("u1")
    assert (await store.count(folders["INBOX"]))[0] == 3  # the original stays


async def test_a_draft_copy_gets_a_local_id_and_goes_for_good_when_discarded(
    store: Store,
) -> None:
    account = await _account(store)
    backend = LocalInbox()
    await _sync(store, account, backend)
    raw = _raw("draft")
    copy = await store.save_draft_copy(account.id, raw, Envelope("a draft", date=5_000), "")
    assert copy is not None
    await _sync(store, account, backend)
    ref = await store.remote_ref(copy)
    assert ref is not None and ref[0] == "Drafts" and ref[1].startswith("local:")
    await store.discard_draft_copy(copy)
    await _sync(store, account, backend)
    assert backend.applied == []
    assert not await _row_exists(store, copy)
    assert await store.pending_ops(account.id, 10) == []


async def test_an_op_that_can_never_be_done_is_rolled_back_and_reported(
    store: Store,
) -> None:
    account = await _account(store)
    backend = LocalInbox()
    await _sync(store, account, backend)
    folders = await _folders(store, account)
    u1 = await _id(store, account, "message u1")
    async with store._tx() as db:  # a damaged op: no target folder in its payload
        await store._add_ops(
            db, [(account.id, OpKind.COPY, u1, folders["INBOX"], "INBOX", "u1", {}, {})]
        )
    await store.move([u1], folders["Archive"])  # the next op of the message still goes
    events = await _sync(store, account, backend)
    [failed] = [e for e in events if e.kind is EventKind.OP_FAILED]
    assert "not done" in failed.text
    assert (await _where(store, account))["message u1"][:2] == ("Archive", "u1")
    assert await store.pending_ops(account.id, 10) == []


async def test_undo_of_completed_ops_is_completed_in_the_store_too(store: Store) -> None:
    account = await _account(store)
    backend = LocalInbox()
    await _sync(store, account, backend)
    folders = await _folders(store, account)
    u1, u2 = [await _id(store, account, f"message {u}") for u in ("u1", "u2")]

    moved = await store.move([u1], folders["Archive"])
    flagged = await store.set_flags([u2], Flag.FLAGGED, Flag.NONE)
    await _sync(store, account, backend)  # both done
    first = await store.undo_ops(flagged)
    second = await store.undo_ops(moved)
    assert (first.status, second.status) == (UndoStatus.UNDONE, UndoStatus.UNDONE)
    assert first.queued and second.queued  # done ops are taken back by inverse ops
    await _sync(store, account, backend)

    assert backend.applied == []
    assert await store.pending_ops(account.id, 10) == []
    where = await _where(store, account)
    assert where["message u1"][:2] == ("INBOX", "u1")
    assert where["message u2"] == ("INBOX", "u2", 0)


async def test_search_finds_mail_in_local_folders(store: Store) -> None:
    account = await _account(store)
    await _sync(store, account, LocalInbox())
    folders = await _folders(store, account)
    u2 = await _id(store, account, "message u2")
    await store.move([u2], folders["Archive"])
    await _sync(store, account, LocalInbox())
    found = await store.search("message u2", 10, folders["Archive"])
    assert [row.id for row in found] == [u2]
    assert [row.id for row in await store.search("body of u2", 10)] == [u2]


async def _manager(store: Store, account: Account, backend: LocalInbox) -> SyncManager:
    manager = SyncManager(store, [WorkerSpec(account, lambda: backend)])
    await manager.run_once()
    return manager


async def test_folders_are_created_renamed_and_deleted_in_the_store(store: Store) -> None:
    account = await _account(store)
    backend = LocalInbox()
    manager = await _manager(store, account, backend)
    events: list[SyncEvent] = []
    manager.add_listener(events.append)

    assert await manager.change_folder(account.id, "create", " Projects / Atlas ") == (
        "Projects/Atlas"
    )
    assert await manager.change_folder(account.id, "create", "Projects") == "Projects"
    assert any(e.kind is EventKind.FOLDERS for e in events)
    atlas = next(f for f in await store.folders(account.id) if f.name == "Projects/Atlas")
    assert (atlas.display_name, atlas.depth, atlas.role) == ("Atlas", 1, FolderRole.NONE)

    # Renaming a parent renames what is under it.
    assert await manager.change_folder(account.id, "rename", "Projects", "Work") == "Work"
    names = set(await _folders(store, account))
    assert {"Work", "Work/Atlas"} <= names and not {"Projects", "Projects/Atlas"} & names

    # Deleting a folder with mail: the mail goes to Trash, never lost.
    folders = await _folders(store, account)
    u1, u2 = [await _id(store, account, f"message {u}") for u in ("u1", "u2")]
    await store.move([u1], folders["Work/Atlas"])
    await manager.run_once()  # the worker completes the move (the UI kicks it)
    await store.move([u2], folders["Work/Atlas"])  # not completed yet
    assert await manager.change_folder(account.id, "delete", "Work/Atlas") == "Work/Atlas"
    where = await _where(store, account)
    assert where["message u1"][:2] == ("Trash", "u1")
    assert where["message u2"][:2] == ("INBOX", "u2")  # the move into it is rolled back
    assert "Work/Atlas" not in await _folders(store, account)
    assert backend.applied == []

    refusals = [
        ("create", "Work", None, "already a folder Work"),
        ("create", "work", None, "already a folder Work"),
        ("create", "a//b", None, "cannot be empty"),
        ("create", "Inbox/x", None, "INBOX is the server's"),
        ("rename", "INBOX", "Post", "Inbox is the server's"),
        ("rename", "Work", "Sent", "already a folder Sent"),
        ("delete", "Trash", None, "standard folders"),
        ("delete", "Nowhere", None, "no folder Nowhere"),
        ("subscribe", "Work", None, "no folder subscriptions"),
    ]
    before = await store.folders(account.id)
    for kind, name, new, words in refusals:
        with pytest.raises(OpRejected, match=words):
            await manager.change_folder(account.id, kind, name, new)
    assert await store.folders(account.id) == before  # nothing changed


async def test_offline_the_folders_and_ops_still_work(store: Store) -> None:
    account = await _account(store)
    await _sync(store, account, LocalInbox())  # some mail first
    offline = LocalInbox(offline=True)
    manager = await _manager(store, account, offline)
    assert manager.status()["pop"][0] is AccountStatus.OFFLINE
    assert await manager.change_folder(account.id, "create", "Later") == "Later"
    u1 = await _id(store, account, "message u1")
    await store.move([u1], (await _folders(store, account))["Later"])
    await manager.run_once()  # still offline: the op is done before connecting
    assert await store.pending_ops(account.id, 10) == []
    assert (await _where(store, account))["message u1"][:2] == ("Later", "u1")


async def test_a_restart_keeps_every_local_folder_message_and_flag(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    store = await Store.open(path)
    account = await _account(store)
    await _sync(store, account, LocalInbox())
    await store.create_local_folder(account.id, "Keep")
    folders = await _folders(store, account)
    u1, u2 = [await _id(store, account, f"message {u}") for u in ("u1", "u2")]
    await store.move([u1], folders["Keep"])
    await store.set_flags([u2], Flag.FLAGGED, Flag.NONE)
    await _sync(store, account, LocalInbox())
    before = (await _folders(store, account), await _where(store, account))
    await store.close()

    store = await Store.open(path)
    try:
        account = await _account(store)
        backend = LocalInbox()
        await _sync(store, account, backend)
        assert (await _folders(store, account), await _where(store, account)) == before
        assert backend.applied == []
    finally:
        await store.close()


async def test_check_now_pulls_every_folder_at_once(store: Store) -> None:
    account = await _account(store)
    backend = LocalInbox()
    worker = Worker(account, lambda: backend, store, lambda _e: None)
    task = asyncio.create_task(worker.run())
    try:
        while worker.status is not AccountStatus.ONLINE:
            await asyncio.sleep(0.01)
        assert backend.listed == 1
        worker.kick()  # a plain wake-up (new ops) does not poll the server
        worker.check_now()
        async with asyncio.timeout(30):  # a guard against a hang, not a timing check
            await backend.polled.wait()
        assert backend.listed == 2
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
