"""Undo of the user's intents (``Intents``): ``undo_ops`` and the local reversal that a
permanent op failure uses too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import aiosqlite

from mailtui.models import OpKind
from mailtui.store.db import (
    FAILED,
    PENDING,
    Database,
    Row,
    chunked,
    placeholders,
    scalar,
)


class Undo(Database):
    """Taking intents back; a part of ``Store``."""

    if TYPE_CHECKING:
        # Methods of other parts of ``Store`` this part calls.

        async def _forget(self, db: aiosqlite.Connection, message_ids: Sequence[int]) -> None: ...

    async def undo_ops(self, op_ids: Sequence[int]) -> bool:
        """Reverse the local changes of ops that have not been sent, and drop the ops.

        All or nothing: returns False (and changes nothing) if any op is unknown, no longer
        ``pending`` (claimed by the worker, done or failed), or is a move/delete of a
        message that has a later op not being undone with it (reversing the move would
        pull the message from under that op).
        """
        wanted = set(op_ids)
        if not wanted:
            return True
        async with self._tx() as db:
            ops: list[Row] = []
            for chunk in chunked(sorted(wanted)):
                ops += await db.execute_fetchall(
                    "SELECT id, kind, message_id, state, undo FROM pending_ops "
                    f"WHERE id IN ({placeholders(len(chunk))})",
                    chunk,
                )
            if len(ops) != len(wanted) or any(o[3] != PENDING for o in ops):
                return False
            for op_id, kind, message_id, _, _ in ops:
                if kind in (OpKind.MOVE, OpKind.DELETE) and message_id is not None:
                    later = await db.execute_fetchall(
                        "SELECT id FROM pending_ops WHERE message_id = ? AND id > ? "
                        f"AND state != '{FAILED}'",
                        (message_id, op_id),
                    )
                    if any(r[0] not in wanted for r in later):
                        return False
            for _, kind, message_id, _, undo in sorted(ops, key=lambda o: -int(o[0])):
                await self._revert(db, OpKind(kind), message_id, json.loads(undo))
            for chunk in chunked(sorted(wanted)):
                await db.execute(
                    f"DELETE FROM pending_ops WHERE id IN ({placeholders(len(chunk))})", chunk
                )
        return True

    async def _revert(
        self, db: aiosqlite.Connection, kind: OpKind, message_id: int | None, undo: dict[str, Any]
    ) -> None:
        """Reverse one op's local change (undo, or rollback after a permanent failure)."""
        if message_id is None:
            return
        if kind is OpKind.SET_FLAGS:
            await db.execute(
                "UPDATE messages SET flags = (flags & ~?) | ? WHERE id = ?",
                (int(undo.get("added", 0)), int(undo.get("removed", 0)), message_id),
            )
        elif kind in (OpKind.MOVE, OpKind.DELETE):
            await self._put_back(db, message_id, undo.get("from_folder"), undo.get("remote_id"))

    async def _put_back(
        self,
        db: aiosqlite.Connection,
        message_id: int,
        folder_id: int | None,
        remote_id: str | None,
    ) -> None:
        current = list(
            await db.execute_fetchall("SELECT remote_id FROM messages WHERE id = ?", (message_id,))
        )
        if not current:
            return
        rid = remote_id if remote_id is not None else current[0][0]
        exists = folder_id is not None and await scalar(
            db, "SELECT 1 FROM folders WHERE id = ?", (folder_id,)
        )
        clash = (
            rid is not None
            and exists
            and await scalar(
                db,
                "SELECT 1 FROM messages WHERE folder_id = ? AND remote_id = ? AND id != ?",
                (folder_id, rid, message_id),
            )
        )
        if not exists or clash:
            # Its folder is gone, or a sync already brought the message back there.
            await self._forget(db, [message_id])
            return
        await db.execute(
            "UPDATE messages SET folder_id = ?, remote_id = ? WHERE id = ?",
            (folder_id, rid, message_id),
        )
