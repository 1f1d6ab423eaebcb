"""Undo of the user's intents (``Intents``): ``undo_ops`` and the local reversal that a
permanent op failure uses too.

An op is taken back in one of two ways, decided per op in one transaction:

- still ``pending`` (the server has not seen it): its local change is reversed and the op
  deleted, as if it never happened;
- ``in_flight`` or ``done`` (on the wire or applied): an *inverse* op is queued — the
  exact flag bits back, or a MOVE back to the folder the message came from — made from
  the message's state now, after every op already queued for it. The worker sends ops in
  id order, so the inverse never races the op it reverses; if the message's server id
  in its current folder is not known yet (a move the server confirmed without the new
  UID, or one still on the wire), the inverse waits for it like any later op does: it
  gets it from ``op_done`` or from the sync of that folder, by Message-ID (see
  ``PendingOps.waiting_ops``).

A pending move that a later op of the message (not undone with it) depends on is taken
back by an inverse too, since its local reversal would pull the message from under that
op. What can never come back (mail expunged on the server, a folder that is gone) is
reported with the reason; a pending expunge blocked by a later op is refused for now.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import aiosqlite

from mailtui.models import OpKind
from mailtui.store.db import (
    DONE,
    FAILED,
    IN_FLIGHT,
    PENDING,
    Database,
    Row,
    chunked,
    placeholders,
    scalar,
)


class UndoStatus(StrEnum):
    UNDONE = "undone"  # taken back: locally, and by inverse ops where the server had it
    NOT_NOW = "not_now"  # nothing changed; it may work later (keep the undo entry)
    IMPOSSIBLE = "impossible"  # nothing changed; it can never work (drop the entry)


@dataclass(frozen=True, slots=True)
class UndoResult:
    """What ``undo_ops`` did."""

    status: UndoStatus
    reason: str = ""  # why not; for UNDONE with ``lost``, why those stayed
    queued: tuple[int, ...] = ()  # inverse ops queued for the server
    reversed: int = 0  # ops taken back before the server saw them
    lost: int = 0  # ops of an UNDONE that could not be taken back (``reason`` says why)


# How each op is taken back.
_LOCAL, _INVERSE, _NOTHING = "local", "inverse", "nothing"


class Undo(Database):
    """Taking intents back; a part of ``Store``."""

    if TYPE_CHECKING:
        # Methods of other parts of ``Store`` this part calls.

        async def _forget(self, db: aiosqlite.Connection, message_ids: Sequence[int]) -> None: ...

        async def _visible(self, db: aiosqlite.Connection, ids: Sequence[int]) -> list[Row]: ...

        async def _add_ops(
            self, db: aiosqlite.Connection, ops: list[tuple[Any, ...]]
        ) -> list[int]: ...

        async def _relocate(
            self, db: aiosqlite.Connection, rows: list[Row], to: int
        ) -> list[int]: ...

    async def undo_ops(self, op_ids: Sequence[int]) -> UndoResult:
        """Take back the intents that made ``op_ids`` (one undo level), in one transaction.

        Returns ``UNDONE`` (with the inverse ops queued, if any; ``lost`` counts ops that
        could not be taken back while the rest were, ``reason`` says why), ``NOT_NOW``
        (nothing changed: a later change must reach the server first) or ``IMPOSSIBLE``
        (nothing changed, and nothing ever will: unknown ops, mail expunged, folder gone).
        """
        wanted = set(op_ids)
        if not wanted:
            return UndoResult(UndoStatus.UNDONE)
        async with self._tx() as db:
            ops: list[Row] = []
            for chunk in chunked(sorted(wanted)):
                ops += await db.execute_fetchall(
                    "SELECT id, kind, message_id, state, undo FROM pending_ops "
                    f"WHERE id IN ({placeholders(len(chunk))})",
                    chunk,
                )
            if len(ops) != len(wanted):
                return UndoResult(
                    UndoStatus.IMPOSSIBLE,
                    "the change is no longer known (its account was removed, or it is too old)",
                )
            plan: list[tuple[Row, str]] = []
            reasons: list[str] = []
            for op in sorted(ops, key=lambda o: -int(o[0])):
                how = await self._how(db, op, wanted)
                if how == _NOTHING:
                    continue
                if how not in (_LOCAL, _INVERSE):
                    if op[3] == PENDING:  # blocked for now: try again after it is sent
                        return UndoResult(UndoStatus.NOT_NOW, how)
                    reasons.append(how)
                    continue
                plan.append((op, how))
            if reasons and not plan:
                return UndoResult(UndoStatus.IMPOSSIBLE, reasons[0])
            queued: list[int] = []
            reversed_ = 0
            for (op_id, kind, message_id, _, undo), how in plan:
                if how == _LOCAL:
                    await self._revert(db, OpKind(kind), message_id, json.loads(undo))
                    await db.execute("DELETE FROM pending_ops WHERE id = ?", (op_id,))
                    reversed_ += 1
                else:
                    queued += await self._inverse(db, OpKind(kind), message_id, json.loads(undo))
        return UndoResult(
            UndoStatus.UNDONE,
            reasons[0] if reasons else "",
            tuple(queued),
            reversed_,
            len(reasons),
        )

    async def _how(self, db: aiosqlite.Connection, op: Row, wanted: set[int]) -> str:
        """``_LOCAL``, ``_INVERSE``, ``_NOTHING``, or why the op cannot be taken back."""
        op_id, kind, message_id, state, undo = op
        if state == FAILED:
            return _NOTHING  # its local change was rolled back when it failed
        if message_id is None or kind not in (OpKind.SET_FLAGS, OpKind.MOVE, OpKind.DELETE):
            return "that change cannot be undone"
        if state == PENDING:
            if kind == OpKind.SET_FLAGS:
                return _LOCAL
            later = await db.execute_fetchall(
                "SELECT id FROM pending_ops WHERE message_id = ? AND id > ? "
                f"AND state != '{FAILED}'",
                (message_id, op_id),
            )
            if all(r[0] in wanted for r in later):
                return _LOCAL
            if kind == OpKind.DELETE:
                return "a later change to the message is still on its way to the server"
        elif state not in (IN_FLIGHT, DONE):
            return "that change cannot be undone"
        elif kind == OpKind.DELETE:
            return "deleted for good on the server"
        row = list(
            await db.execute_fetchall(
                "SELECT folder_id FROM messages WHERE id = ?",
                (message_id,),
            )
        )
        if not row or row[0][0] is None:
            return "the message is no longer on the server"
        if kind == OpKind.MOVE:
            back = json.loads(undo).get("from_folder")
            if back is None or not await scalar(db, "SELECT 1 FROM folders WHERE id = ?", (back,)):
                return "the folder it came from no longer exists"
        return _INVERSE

    async def _inverse(
        self, db: aiosqlite.Connection, kind: OpKind, message_id: int, undo: dict[str, Any]
    ) -> list[int]:
        """Queue the op that reverses a sent one, from the message's state now."""
        rows = await self._visible(db, [message_id])
        if not rows:
            return []
        mid, account_id, fid, fname, rid, flags = rows[0]
        if kind == OpKind.MOVE:
            back = int(undo["from_folder"])
            return [] if fid == back else await self._relocate(db, rows, back)
        added, removed = int(undo.get("added", 0)), int(undo.get("removed", 0))
        new = (flags & ~added) | removed
        if new == flags:  # a later change already put these bits back
            return []
        await db.execute("UPDATE messages SET flags = ? WHERE id = ?", (new, mid))
        return await self._add_ops(
            db,
            [
                (
                    account_id,
                    OpKind.SET_FLAGS,
                    mid,
                    fid,
                    fname,
                    rid,
                    {"add": removed & ~flags, "remove": added & flags},
                    {"added": new & ~flags, "removed": flags & ~new},
                )
            ],
        )

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
