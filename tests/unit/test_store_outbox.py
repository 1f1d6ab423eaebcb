"""Store: outbox transitions and the APPEND op that files a sent message in Sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mailtui.models import AccountKind, FolderRole, OpKind, OpResult, OutboxState, RemoteFolder
from mailtui.store import NotFound, Store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "mail.sqlite")
    try:
        yield s
    finally:
        await s.close()


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
