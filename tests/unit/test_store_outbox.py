"""Store: outbox transitions and the APPEND op that files a sent message in Sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailtui.models import AccountKind, FolderRole, OpKind, OpResult, OutboxState, RemoteFolder
from mailtui.store import NotFound, Store


async def _setup(store: Store) -> tuple[int, int]:
    acc = await store.ensure_account("work", AccountKind.IMAP, "me@example.org")
    ids = await store.sync_folders(
        acc.id,
        [
            RemoteFolder("INBOX", "INBOX", FolderRole.INBOX),
            RemoteFolder("Sent", "Sent", FolderRole.SENT),
        ],
    )
    return acc.id, ids["Sent"]


async def test_transition_is_compare_and_set(store: Store) -> None:
    acc, _ = await _setup(store)
    item = await store.outbox_add(acc, b"raw", "me@example.org", ["a@example.org"])
    assert await store.outbox_transition(item, [OutboxState.QUEUED], OutboxState.SENDING)
    # A second sender (or a stale view) cannot take it again.
    assert not await store.outbox_transition(item, [OutboxState.QUEUED], OutboxState.SENDING)
    (it,) = await store.outbox(acc)
    assert (it.state, it.attempts) == (OutboxState.SENDING, 1)
    assert await store.outbox_transition(
        item, [OutboxState.SENDING], OutboxState.UNCERTAIN, "cut off"
    )
    (it,) = await store.outbox(acc)
    assert (it.state, it.last_error, it.attempts) == (OutboxState.UNCERTAIN, "cut off", 1)
    await store.outbox_remove(item)
    with pytest.raises(NotFound):
        await store.outbox_transition(item, [OutboxState.QUEUED], OutboxState.SENDING)


async def test_sent_queues_one_append_op_and_op_done_removes_the_item(store: Store) -> None:
    acc, sent = await _setup(store)
    item = await store.outbox_add(acc, b"the raw bytes", "me@example.org", ["a@example.org"])
    op_id = await store.outbox_sent(item, sent)
    assert op_id is not None
    assert await store.outbox_sent(item, sent) == op_id  # idempotent: no second op
    (it,) = await store.outbox(acc)
    assert it.state is OutboxState.SENT
    ops = await store.pending_ops(acc, 10)
    assert [(o.id, o.kind, o.folder_id, o.folder_name, o.message_id) for o in ops] == [
        (op_id, OpKind.APPEND, sent, "Sent", None)
    ]
    assert ops[0].payload == {"folder": sent, "outbox_id": item}
    assert await store.append_source(ops[0]) == b"the raw bytes"
    await store.claim_ops([op_id])
    await store.op_done(op_id, OpResult(new_remote_id="1:7"))
    assert await store.outbox(acc) == []
    assert await store.pending_ops(acc, 10) == []


async def test_sent_without_folder_waits_then_files(store: Store) -> None:
    acc, sent = await _setup(store)
    item = await store.outbox_add(acc, b"x", "me@example.org", ["a@example.org"])
    assert await store.outbox_sent(item, None) is None
    (it,) = await store.outbox(acc)
    assert it.state is OutboxState.SENT
    assert await store.pending_ops(acc, 10) == []
    op_id = await store.outbox_sent(item, sent)
    assert [o.id for o in await store.pending_ops(acc, 10)] == [op_id]


async def test_append_failing_for_good_keeps_the_item_with_the_reason(store: Store) -> None:
    acc, sent = await _setup(store)
    item = await store.outbox_add(acc, b"x", "me@example.org", ["a@example.org"])
    op_id = await store.outbox_sent(item, sent)
    assert op_id is not None
    await store.op_failed(op_id, "over quota", permanent=False)
    (it,) = await store.outbox(acc)
    assert it.last_error == ""
    await store.op_failed(op_id, "over quota", permanent=True)
    (it,) = await store.outbox(acc)
    assert (it.state, it.last_error) == (
        OutboxState.SENT,
        "sent, but not filed in Sent: over quota",
    )


async def test_append_source_of_a_discarded_item_is_none(store: Store) -> None:
    acc, sent = await _setup(store)
    item = await store.outbox_add(acc, b"x", "me@example.org", ["a@example.org"])
    await store.outbox_sent(item, sent)
    await store.outbox_remove(item)
    (op,) = await store.pending_ops(acc, 10)
    assert await store.append_source(op) is None


async def test_sent_checks_item_and_folder(store: Store) -> None:
    acc, sent = await _setup(store)
    with pytest.raises(NotFound):
        await store.outbox_sent(999, sent)
    item = await store.outbox_add(acc, b"x", "me@example.org", ["a@example.org"])
    with pytest.raises(NotFound):
        await store.outbox_sent(item, 999)
    other = await store.ensure_account("home", AccountKind.IMAP, "me@home.example")
    ids = await store.sync_folders(other.id, [RemoteFolder("Sent", "Sent", FolderRole.SENT)])
    with pytest.raises(ValueError):
        await store.outbox_sent(item, ids["Sent"])


async def _original(store: Store, acc: int, folder: str = "INBOX") -> int:
    from mailtui.models import Envelope, FolderBatch, NewMessage

    folder_id = next(f.id for f in await store.folders(acc) if f.name == folder)
    env = Envelope(subject="Lunch?", message_id="<lunch@example.org>", date=1)
    await store.apply_batch(folder_id, FolderBatch(folder, added=[NewMessage("7:1", env)]))
    [row] = await store.window(folder_id, 0, 10)
    return row.id


async def test_sent_reply_flags_its_original_once_with_an_op(store: Store) -> None:
    from mailtui.models import Flag, Origin

    acc, sent = await _setup(store)
    original = await _original(store, acc)
    origin = Origin(original, "<lunch@example.org>", Flag.ANSWERED)
    item = await store.outbox_add(acc, b"x", "me@example.org", ["a@example.org"], origin)
    [it] = await store.outbox(acc)
    assert it.origin == origin  # remembered with the row
    detail = await store.message(original)
    assert detail is not None and not detail.row.flags & Flag.ANSWERED  # queued: not yet
    await store.outbox_sent(item, None)  # accepted; no Sent folder known yet
    await store.outbox_sent(item, sent)  # filed later: no second flag op
    detail = await store.message(original)
    assert detail is not None and detail.row.flags & Flag.ANSWERED
    ops = [(o.kind, o.message_id, o.payload) for o in await store.pending_ops(acc, 10)]
    assert ops.count((OpKind.SET_FLAGS, original, {"add": int(Flag.ANSWERED), "remove": 0})) == 1


async def test_an_original_that_moved_is_found_by_message_id(store: Store) -> None:
    from mailtui.models import Flag, FolderBatch, Origin

    acc, _ = await _setup(store)
    gone = await _original(store, acc)
    inbox = next(f.id for f in await store.folders(acc) if f.name == "INBOX")
    await store.apply_batch(inbox, FolderBatch("INBOX", removed=["7:1"]))
    archive_ids = await store.sync_folders(
        acc,
        [
            RemoteFolder("INBOX", "INBOX", FolderRole.INBOX),
            RemoteFolder("Sent", "Sent", FolderRole.SENT),
            RemoteFolder("Archive", "Archive", FolderRole.ARCHIVE),
        ],
    )
    # The row the reply was written from is gone; the message now lives in Archive.
    moved = await _original(store, acc, "Archive")
    assert archive_ids["Archive"]
    origin = Origin(gone, "<lunch@example.org>", Flag.FORWARDED)
    item = await store.outbox_add(acc, b"x", "me@example.org", ["a@example.org"], origin)
    await store.outbox_sent(item, None)
    flagged = await store.message(moved)
    assert flagged is not None and flagged.row.flags & Flag.FORWARDED


async def test_sent_copies_choice_is_remembered(store: Store) -> None:
    acc, _ = await _setup(store)
    assert await store.sent_copies(acc) == ""
    await store.set_sent_copies(acc, "none")
    assert await store.sent_copies(acc) == "none"
    with pytest.raises(ValueError):
        await store.set_sent_copies(acc, "maybe")


async def test_a_schema_5_cache_keeps_its_outbox(tmp_path: Path) -> None:
    import sqlite3

    from mailtui.store import schema

    path = tmp_path / "cache.sqlite"
    con = sqlite3.connect(path, isolation_level=None)
    for migration in schema.MIGRATIONS[:5]:
        for statement in migration:
            con.execute(statement)
    con.execute("PRAGMA user_version = 5")
    con.execute("INSERT INTO accounts (id, name, kind, email) VALUES (1, 'a', 'imap', 'a@x')")
    con.execute(
        "INSERT INTO outbox (account_id, raw, mail_from, recipients, state, created) "
        """VALUES (1, X'78', 'a@x', '["b@x"]', 'queued', 1)"""
    )
    con.close()
    async with await Store.open(path) as store:
        [item] = await store.outbox(1)
        assert (item.state, item.recipients, item.origin) == (OutboxState.QUEUED, ("b@x",), None)
        assert await store.sent_copies(1) == ""


async def test_the_original_as_the_server_knows_it(store: Store) -> None:
    """``outbox_original``: (folder server name, remote id) of what an item answers, for
    a backend that sends replies as replies (EAS SmartReply); found as the flag is."""
    from mailtui.models import Flag, FolderBatch, Origin

    acc, _ = await _setup(store)
    original = await _original(store, acc)
    answered = Origin(original, "<lunch@example.org>", Flag.ANSWERED)
    assert await store.outbox_original(acc, answered) == ("INBOX", "7:1")
    assert await store.outbox_original(acc, None) is None
    by_header = Origin(None, "<lunch@example.org>", Flag.FORWARDED)
    assert await store.outbox_original(acc, by_header) == ("INBOX", "7:1")
    inbox = next(f.id for f in await store.folders(acc) if f.name == "INBOX")
    await store.apply_batch(inbox, FolderBatch("INBOX", removed=["7:1"]))
    assert await store.outbox_original(acc, answered) is None  # gone from the server


async def test_account_state_setdefault_keeps_the_first_value(store: Store) -> None:
    acc, _ = await _setup(store)
    assert await store.account_state_setdefault(acc, "device_id", "a1") == "a1"
    assert await store.account_state_setdefault(acc, "device_id", "b2") == "a1"
    assert await store.account_state_setdefault(acc, "policy_key", "7") == "7"
    assert await store.account_state(acc) == {"device_id": "a1", "policy_key": "7"}
