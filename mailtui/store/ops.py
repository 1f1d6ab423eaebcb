"""The worker's side of pending ops: list, claim, and record what the server said.

Pending ops follow this life cycle (``state`` column)::

    pending ──claim_ops──▶ in_flight ──op_done──▶ done
       ▲                      │ └──op_failed(permanent)──▶ failed (local change rolled back)
       └──op_failed(transient)┘
    pending ──undo_ops──▶ (deleted, local change reversed)
    in_flight / done ──undo_ops──▶ unchanged; an inverse op queued after it (pending)

``in_flight`` exists so that an undo can never race the worker: once the worker has
claimed an op it may already be on the wire, so ``undo_ops`` no longer drops it but
queues its inverse (the flag bits back, a move back), sent after it in id order.

A pending op whose message's server id is unknown, with no earlier live op of the
message to tell it, waits: ``pending_ops`` leaves it (and the ops behind it) out, the
worker pulls its folder (``waiting_ops``) so the sync adopts the message by Message-ID,
and ``give_up_waiting`` fails what was still not found. ``in_flight``
ops found at open (a crash mid-send) go back to ``pending``: ops are applied at least once,
and every op kind is safe to repeat or fails cleanly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import aiosqlite

from mailtui.models import OpKind, OpResult, OutboxState, PendingOp
from mailtui.store.db import (
    DONE,
    FAILED,
    IN_FLIGHT,
    LIVE,
    PENDING,
    Database,
    Row,
    chunked,
    placeholders,
    timestamp,
)
from mailtui.store.rows import OP_COLUMNS, op_from_row

# The first live op of an op's message: ops of a message go to the server in order.
_HEAD: Final = (
    "(SELECT MIN(f.id) FROM pending_ops f WHERE f.message_id = pending_ops.message_id "
    f"AND f.state IN {LIVE})"
)
# An op at the head of its message's ops that cannot be sent yet: the message's server id
# in the op's folder is unknown (a move confirmed without the new UID, a move back by an
# undo while the move there was on the wire), and no earlier op will tell it.
_WAITING: Final = (
    "pending_ops.remote_id IS NULL AND pending_ops.kind != 'append' "
    f"AND pending_ops.message_id IS NOT NULL AND pending_ops.id = {_HEAD}"
)
# An op behind such a one (or that one itself).
_BLOCKED: Final = (
    "pending_ops.message_id IS NOT NULL AND EXISTS (SELECT 1 FROM pending_ops e "
    f"WHERE e.id = {_HEAD} AND e.remote_id IS NULL AND e.kind != 'append')"
)


class PendingOps(Database):
    """Pending ops as the sync worker sees them; a part of ``Store``."""

    if TYPE_CHECKING:
        # Methods of other parts of ``Store`` this part calls.

        async def _adopt(
            self, db: aiosqlite.Connection, message_id: int, folder_id: int, remote_id: str
        ) -> None: ...

        async def _revert(
            self,
            db: aiosqlite.Connection,
            kind: OpKind,
            message_id: int | None,
            undo: dict[str, Any],
        ) -> None: ...

    async def pending_ops(self, account_id: int, limit: int) -> list[PendingOp]:
        """The account's ops ready to be sent (state ``pending``), oldest first.

        An op whose message's server id is unknown and that no earlier live op of the
        message will tell is left out, with the ops of the message after it: it waits
        for a sync of its folder to find the message by Message-ID (``waiting_ops``)."""
        rows = await self._read(
            f"SELECT {OP_COLUMNS} FROM pending_ops WHERE account_id = ? AND state = ? "
            f"AND NOT ({_BLOCKED}) ORDER BY id LIMIT ?",
            (account_id, PENDING, limit),
        )
        return [op_from_row(r) for r in rows]

    async def waiting_ops(self, account_id: int) -> list[tuple[int, str]]:
        """(op id, folder name) of the account's pending ops that wait for their
        message's server id: the worker pulls those folders, then gives up on the ops
        still waiting (``give_up_waiting``)."""
        rows = await self._read(
            "SELECT id, folder_name FROM pending_ops WHERE account_id = ? AND state = ? "
            f"AND folder_name IS NOT NULL AND {_WAITING} ORDER BY id",
            (account_id, PENDING),
        )
        return [(r[0], r[1]) for r in rows]

    async def give_up_waiting(self, op_ids: Sequence[int]) -> None:
        """Fail (permanently, rolling back) the given ops that still wait for a server id
        after their folder was pulled: the message is not there to be found."""
        if not op_ids:
            return  # the usual case: no write transaction for nothing
        async with self._tx() as db:
            for chunk in chunked(sorted(set(op_ids), reverse=True)):
                for r in list(
                    await db.execute_fetchall(
                        f"SELECT id, folder_name FROM pending_ops WHERE state = '{PENDING}' "
                        f"AND id IN ({placeholders(len(chunk))}) AND {_WAITING} "
                        "ORDER BY id DESC",
                        chunk,
                    )
                ):
                    await self._fail_op(db, r[0], f"the message was not found in {r[1]}")

    async def pending_op(self, op_id: int) -> PendingOp | None:
        """One op as it is now (its remote id may have been learnt since it was listed)."""
        rows = await self._read(f"SELECT {OP_COLUMNS} FROM pending_ops WHERE id = ?", (op_id,))
        return op_from_row(rows[0]) if rows else None

    async def claim_ops(self, op_ids: Sequence[int]) -> list[int]:
        """Mark ops ``in_flight`` just before sending them; from then on ``undo_ops``
        refuses them.

        Returns:
            The ids actually claimed (still pending; an op the user undid meanwhile is
            gone and must not be sent), in id order.
        """
        claimed: list[int] = []
        async with self._tx() as db:
            for chunk in chunked(sorted(set(op_ids))):
                claimed += [
                    r[0]
                    for r in await db.execute_fetchall(
                        f"UPDATE pending_ops SET state = '{IN_FLIGHT}', updated = ? "
                        f"WHERE state = '{PENDING}' AND id IN ({placeholders(len(chunk))}) "
                        "RETURNING id",
                        (timestamp(), *chunk),
                    )
                ]
        return sorted(claimed)

    async def op_done(self, op_id: int, result: OpResult) -> None:
        """The server applied the op. Records a MOVE's new remote id (and gives it to
        later ops of the message that were waiting for it); a DELETE's hidden row goes
        for good. Unknown or finished ops are ignored (the store may have dropped them)."""
        async with self._tx() as db:
            await self._finish_op(db, op_id, result)

    async def _finish_op(self, db: aiosqlite.Connection, op_id: int, result: OpResult) -> None:
        """``op_done`` in the transaction in progress (also the end of an op that a local
        account completes in the store, ``LocalMail.complete_local_op``)."""
        rows = list(
            await db.execute_fetchall(
                "SELECT kind, message_id, state, payload FROM pending_ops WHERE id = ?",
                (op_id,),
            )
        )
        if not rows or rows[0][2] not in (PENDING, IN_FLIGHT):
            return
        kind, message_id, _, payload = rows[0]
        await db.execute(
            f"UPDATE pending_ops SET state = '{DONE}', last_error = '', updated = ? WHERE id = ?",
            (timestamp(), op_id),
        )
        if kind == OpKind.APPEND:
            outbox_id = json.loads(payload).get("outbox_id")
            if outbox_id is not None:  # filed in Sent: the outbox is done with it
                await db.execute(
                    "DELETE FROM outbox WHERE id = ? AND state = ?",
                    (int(outbox_id), OutboxState.SENT.value),
                )
        if message_id is None:
            return
        if kind == OpKind.MOVE and result.new_remote_id is not None:
            target = json.loads(payload).get("to_folder")
            if target is not None:
                await self._adopt(db, message_id, int(target), result.new_remote_id)
        elif kind == OpKind.APPEND and result.new_remote_id is not None:
            # A draft copy filed by us: the local row is that server message now.
            target = json.loads(payload).get("folder")
            if target is not None:
                await self._adopt(db, message_id, int(target), result.new_remote_id)
        elif kind == OpKind.DELETE:
            await db.execute(
                "DELETE FROM messages WHERE id = ? AND folder_id IS NULL", (message_id,)
            )

    async def op_failed(self, op_id: int, error: str, permanent: bool) -> None:
        """The server did not apply the op.

        Transient: back to ``pending`` with ``attempts + 1`` and ``last_error``.
        Permanent: the local change is rolled back and the op marked ``failed``; for a
        move or delete, the message's later ops (made in the place it was moved to) are
        rolled back and failed with it.
        """
        async with self._tx() as db:
            rows = list(
                await db.execute_fetchall(
                    "SELECT kind, message_id, state FROM pending_ops WHERE id = ?", (op_id,)
                )
            )
            if not rows or rows[0][2] not in (PENDING, IN_FLIGHT):
                return
            if not permanent:
                await db.execute(
                    f"UPDATE pending_ops SET state = '{PENDING}', attempts = attempts + 1, "
                    "last_error = ?, updated = ? WHERE id = ?",
                    (error, timestamp(), op_id),
                )
                return
            if rows[0][0] == OpKind.APPEND:
                # A sent message that could not be filed stays in the outbox (state
                # sent) with the reason, for the user to see and discard.
                await db.execute(
                    "UPDATE outbox SET last_error = ? WHERE state = ? AND id = (SELECT "
                    "json_extract(payload, '$.outbox_id') FROM pending_ops WHERE id = ?)",
                    (f"sent, but not filed in Sent: {error}", OutboxState.SENT.value, op_id),
                )
            await self._fail_op(db, op_id, error)

    async def _fail_op(self, db: aiosqlite.Connection, op_id: int, error: str) -> None:
        chain: list[Row] = list(
            await db.execute_fetchall(
                "SELECT id, kind, message_id, undo FROM pending_ops WHERE id = ?", (op_id,)
            )
        )
        if not chain:
            return
        _, kind, message_id, _ = chain[0]
        if kind in (OpKind.MOVE, OpKind.DELETE) and message_id is not None:
            chain += await db.execute_fetchall(
                "SELECT id, kind, message_id, undo FROM pending_ops WHERE message_id = ? "
                f"AND id > ? AND state IN {LIVE} ORDER BY id",
                (message_id, op_id),
            )
        now = timestamp()
        for oid, okind, mid, undo in reversed(chain):
            await self._revert(db, OpKind(okind), mid, json.loads(undo))
            await db.execute(
                f"UPDATE pending_ops SET state = '{FAILED}', last_error = ?, updated = ?, "
                "attempts = attempts + ? WHERE id = ?",
                (
                    error if oid == op_id else f"not sent: an earlier change failed ({error})",
                    now,
                    1 if oid == op_id else 0,
                    oid,
                ),
            )

    async def _fail_moves_into(self, db: aiosqlite.Connection, folder_id: int, error: str) -> None:
        for r in list(
            await db.execute_fetchall(
                f"SELECT id FROM pending_ops WHERE state = '{PENDING}' AND kind = ? "
                "AND json_extract(payload, '$.to_folder') = ? ORDER BY id DESC",
                (OpKind.MOVE.value, folder_id),
            )
        ):
            await self._fail_op(db, r[0], error)
