"""Undo after the server applied (or was sent) an intent: inverse ops, queued after the op
they reverse, waiting for the message's server id where it is not known yet; refusals
that say why and change nothing."""

from __future__ import annotations

import sqlite3

import pytest

from mailtui.models import Flag, FolderBatch, OpKind, OpResult
from mailtui.store import Store, UndoStatus
from tests.unit.test_store import FOLDERS, World, new, sql, store, world

__all__ = ["store", "world"]


async def sent(s: Store, op_ids: list[int], *new_uids: str | None) -> None:
    """The worker claims the ops and the server applies them (a MOVE reports its UID)."""
    await s.claim_ops(op_ids)
    for i, op_id in enumerate(op_ids):
        uid = new_uids[i] if i < len(new_uids) else None
        await s.op_done(op_id, OpResult(new_remote_id=uid))


async def flags(world: World, message_id: int) -> Flag:
    return Flag(sql(world.store, "SELECT flags FROM messages WHERE id = ?", (message_id,))[0][0])


async def test_flags_the_server_applied_come_back_by_the_exact_inverse(world: World) -> None:
    s = world.store
    a, b = await world.add(world.inbox, new("1", flags=Flag.SEEN), new("2"))
    ops = await s.set_flags([a, b], Flag.FLAGGED, Flag.SEEN)
    await sent(s, ops)
    await s.set_flags([a], Flag.ANSWERED, Flag.NONE)  # a later change to another bit
    result = await s.undo_ops(ops)
    assert (result.status, result.reversed, len(result.queued)) == (UndoStatus.UNDONE, 0, 2)
    pending = {op.message_id: op for op in await s.pending_ops(world.account, 10)}
    # a: FLAGGED was added and SEEN removed; b had no SEEN, so only FLAGGED goes.
    assert pending[a].payload == {"add": int(Flag.SEEN), "remove": int(Flag.FLAGGED)}
    assert pending[b].payload == {"add": 0, "remove": int(Flag.FLAGGED)}
    assert (pending[a].kind, pending[a].folder_name, pending[a].remote_id) == (
        OpKind.SET_FLAGS,
        "INBOX",
        "1",
    )
    assert await flags(world, a) == Flag.SEEN | Flag.ANSWERED
    assert await flags(world, b) == Flag.NONE


async def test_an_op_on_the_wire_gets_its_inverse_queued_after_it(world: World) -> None:
    s = world.store
    (a,) = await world.add(world.inbox, new("1"))
    (op,) = await s.set_flags([a], Flag.SEEN, Flag.NONE)
    assert await s.claim_ops([op]) == [op]  # in flight: undo must not race it
    result = await s.undo_ops([op])
    assert result.status is UndoStatus.UNDONE and result.queued[0] > op
    assert await world.op_state(op) == "in_flight"
    (inverse,) = await s.pending_ops(world.account, 10)
    assert inverse.payload == {"add": 0, "remove": int(Flag.SEEN)}
    await s.op_done(op, OpResult())
    assert [o.id for o in await s.pending_ops(world.account, 10)] == list(result.queued)


async def test_a_move_the_server_applied_goes_back_under_its_new_uid(world: World) -> None:
    s = world.store
    a, b = await world.add(world.inbox, new("1"), new("2"))
    ops = await s.move([a, b], world.archive)  # bulk: one level
    await sent(s, ops, "71", "72")
    result = await s.undo_ops(ops)
    assert result.status is UndoStatus.UNDONE and len(result.queued) == 2
    back = await s.pending_ops(world.account, 10)
    # Newest first, as the intents are taken back.
    assert [(o.kind, o.folder_name, o.remote_id, o.payload) for o in back] == [
        (OpKind.MOVE, "Archive", "72", {"to_folder": world.inbox}),
        (OpKind.MOVE, "Archive", "71", {"to_folder": world.inbox}),
    ]
    assert {await world.folder_of(a), await world.folder_of(b)} == {world.inbox}
    await sent(s, [o.id for o in back], "6", "5")
    assert await s.remote_ref(a) == ("INBOX", "5")
    assert await s.count(world.archive) == (0, 0)


async def test_delete_to_trash_and_spam_come_back_in_order(world: World) -> None:
    s = world.store
    (a,) = await world.add(world.inbox, new("1"))
    trash = await s.delete([a])
    await sent(s, trash, "9")
    assert (await s.undo_ops(trash)).status is UndoStatus.UNDONE
    (back,) = await s.pending_ops(world.account, 10)
    assert (back.folder_name, back.remote_id, back.payload) == (
        "Trash",
        "9",
        {"to_folder": world.inbox},
    )
    await sent(s, [back.id], "3")
    # Spam is a flag and a move: the move comes back first, then the flag, which waits
    # for the message's UID in INBOX that the move back reports.
    spam = [*await s.set_flags([a], Flag.JUNK, Flag.NONE), *await s.move([a], world.archive)]
    await sent(s, spam, None, "40")
    result = await s.undo_ops(spam)
    assert result.status is UndoStatus.UNDONE
    assert await world.folder_of(a) == world.inbox and not await flags(world, a) & Flag.JUNK
    move_back, unflag = await s.pending_ops(world.account, 10)
    assert (move_back.kind, move_back.remote_id) == (OpKind.MOVE, "40")
    assert (unflag.kind, unflag.folder_name, unflag.remote_id) == (OpKind.SET_FLAGS, "INBOX", None)
    await sent(s, [move_back.id], "4")
    (unflag,) = await s.pending_ops(world.account, 10)
    assert (unflag.remote_id, unflag.payload) == ("4", {"add": 0, "remove": int(Flag.JUNK)})


async def test_a_move_back_waits_for_the_uid_the_server_did_not_report(world: World) -> None:
    s = world.store
    (a,) = await world.add(world.inbox, new("1", mid="<m@x>"))
    ops = await s.move([a], world.archive)
    await sent(s, ops)  # no COPYUID: the UID in Archive is unknown
    result = await s.undo_ops(ops)
    assert result.status is UndoStatus.UNDONE
    assert await s.pending_ops(world.account, 10) == []  # not sendable yet ...
    assert await s.waiting_ops(world.account) == [(result.queued[0], "Archive")]  # ... waiting
    # The sync of Archive lists the message: it is the one moving back, not a new one.
    assert await world.add(world.archive, new("88", mid="<m@x>")) == []
    (back,) = await s.pending_ops(world.account, 10)
    assert (back.folder_name, back.remote_id) == ("Archive", "88")
    assert await s.count(world.archive) == (0, 0)
    assert await world.folder_of(a) == world.inbox


async def test_a_wait_given_up_rolls_the_undo_back(world: World) -> None:
    s = world.store
    (a,) = await world.add(world.inbox, new("1", mid="<m@x>"))
    ops = await s.move([a], world.archive)
    await sent(s, ops)
    result = await s.undo_ops(ops)
    (later,) = await s.set_flags([a], Flag.FLAGGED, Flag.NONE)
    assert [op for op, _ in await s.waiting_ops(world.account)] == list(result.queued)
    assert await s.pending_ops(world.account, 10) == []  # the later op waits behind it
    await s.give_up_waiting(list(result.queued))  # Archive pulled: not there
    assert await world.op_state(result.queued[0]) == "failed"
    assert await world.op_state(later) == "failed"
    assert await world.folder_of(a) == world.archive  # where the server has it


async def test_a_move_on_the_wire_is_undone_by_a_move_after_it(world: World) -> None:
    s = world.store
    (a,) = await world.add(world.inbox, new("1"))
    ops = await s.move([a], world.archive)
    await s.claim_ops(ops)
    result = await s.undo_ops(ops)
    assert result.status is UndoStatus.UNDONE
    assert await world.folder_of(a) == world.inbox
    # Behind the one on the wire, which will tell the UID (the worker reads it again).
    assert [o.id for o in await s.pending_ops(world.account, 10)] == list(result.queued)
    assert await s.waiting_ops(world.account) == []
    await s.op_done(ops[0], OpResult(new_remote_id="12"))
    (back,) = await s.pending_ops(world.account, 10)
    assert (back.id, back.folder_name, back.remote_id) == (result.queued[0], "Archive", "12")


async def test_an_unsent_move_with_a_later_op_is_undone_by_an_inverse(world: World) -> None:
    s = world.store
    (a,) = await world.add(world.inbox, new("1"))
    ops = await s.move([a], world.archive)
    (later,) = await s.set_flags([a], Flag.SEEN, Flag.NONE)  # not part of the undo
    result = await s.undo_ops(ops)
    assert result.status is UndoStatus.UNDONE and len(result.queued) == 1
    assert [o.id for o in await s.pending_ops(world.account, 10)] == [
        ops[0],
        later,
        *result.queued,
    ]
    assert await world.folder_of(a) == world.inbox


async def test_what_can_never_come_back_is_refused_with_the_reason(world: World) -> None:
    s = world.store
    a, b, c = await world.add(world.trash, new("1"), new("2"), new("3"))
    expunge = await s.delete([a])
    await sent(s, expunge)
    result = await s.undo_ops(expunge)
    assert (result.status, result.reason) == (
        UndoStatus.IMPOSSIBLE,
        "deleted for good on the server",
    )
    # The folder a message came from is gone.
    moved = await s.move([b], world.archive)
    await sent(s, moved, "5")
    await s.sync_folders(world.account, [f for f in FOLDERS if f.name != "Trash"])
    gone = await s.undo_ops(moved)
    assert gone.status is UndoStatus.IMPOSSIBLE and "no longer exists" in gone.reason
    assert await world.folder_of(b) == world.archive  # nothing changed
    # The message itself is gone from the server.
    flagged = await s.set_flags([b], Flag.FLAGGED, Flag.NONE)
    await sent(s, flagged)
    await s.apply_batch(world.archive, FolderBatch("Archive", removed=["5"]))
    assert (await s.undo_ops(flagged)).status is UndoStatus.IMPOSSIBLE
    assert c  # the third message is there only to keep Trash non-empty


async def test_a_bulk_undo_takes_back_what_it_can_and_counts_the_rest(world: World) -> None:
    s = world.store
    a, b = await world.add(world.inbox, new("1"), new("2"))
    flagged = await s.set_flags([a, b], Flag.FLAGGED, Flag.NONE)
    await sent(s, flagged)
    await s.apply_batch(world.inbox, FolderBatch("INBOX", removed=["2"]))
    result = await s.undo_ops(flagged)
    assert (result.status, result.lost, len(result.queued)) == (UndoStatus.UNDONE, 1, 1)
    assert result.reason == "the message is no longer on the server"


async def test_an_unsent_expunge_behind_a_later_op_is_refused_for_now(world: World) -> None:
    s = world.store
    (a,) = await world.add(world.trash, new("1"))
    expunge = await s.delete([a])
    # A later op of the message (as a sync conflict could leave): reversing the expunge
    # now would pull the message from under it.
    sql_later = (
        "INSERT INTO pending_ops (account_id, kind, message_id, folder_id, folder_name, "
        "remote_id, payload, undo, state, created, updated) "
        "VALUES (?, 'set_flags', ?, ?, 'Trash', '1', '{}', '{}', 'pending', 0, 0)"
    )
    con = sqlite3.connect(s.path)
    with con:
        con.execute(sql_later, (world.account, a, world.trash))
    con.close()
    result = await s.undo_ops(expunge)
    assert result.status is UndoStatus.NOT_NOW and "still on its way" in result.reason
    assert await world.op_state(expunge[0]) == "pending"


@pytest.mark.parametrize("state", ["in_flight", "done"])
async def test_the_inverse_survives_a_crash(world: World, state: str) -> None:
    s = world.store
    (a,) = await world.add(world.inbox, new("1"))
    ops = await s.set_flags([a], Flag.SEEN, Flag.NONE)
    await s.claim_ops(ops)
    if state == "done":
        await s.op_done(ops[0], OpResult())
    result = await s.undo_ops(ops)
    path = s.path
    await s.close()
    async with await Store.open(path) as again:
        listed = [o.id for o in await again.pending_ops(world.account, 10)]
        assert listed == ([*ops, *result.queued] if state == "in_flight" else list(result.queued))
