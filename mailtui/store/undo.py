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
    LIVE,
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


@dataclass(frozen=True, slots=True)
class _Facts:
    live: dict[int, list[int]]  # message id -> its live ops (pending, in flight)
    there: set[int]  # message ids whose row is in a folder
    folders: set[int]  # the folders the messages came from that still exist


def _how(op: Row, wanted: set[int], facts: _Facts) -> str:
    """``_LOCAL``, ``_INVERSE``, ``_NOTHING``, or why the op cannot be taken back."""
    op_id, kind, message_id, state, undo = op
    if state == FAILED:
        return _NOTHING  # its local change was rolled back when it failed
    if message_id is None or kind not in (OpKind.SET_FLAGS, OpKind.MOVE, OpKind.DELETE):
        return "that change cannot be undone"
    if state == PENDING:
        later = [i for i in facts.live.get(message_id, []) if i > op_id]
        if kind == OpKind.SET_FLAGS or all(i in wanted for i in later):
            return _LOCAL
        if kind == OpKind.DELETE:
            return "a later change to the message is still on its way to the server"
        # A move a later op depends on: moved back after that op, like a sent one.
    elif state not in (IN_FLIGHT, DONE):
        return "that change cannot be undone"
    elif kind == OpKind.DELETE:
        return "deleted for good on the server"
    if message_id not in facts.there:
        return "the message is no longer on the server"
    if kind == OpKind.MOVE:
        back = json.loads(undo).get("from_folder")
        if back is None or int(back) not in facts.folders:
            return "the folder it came from no longer exists"
    return _INVERSE


class Undo(Database):
    """Taking intents back; a part of ``Store``."""

    if TYPE_CHECKING:
        # Methods of other parts of ``Store`` this part calls.

        async def _forget(self, db: aiosqlite.Connection, message_ids: Sequence[int]) -> None: ...

        async def _visible(self, db: aiosqlite.Connection, ids: Sequence[int]) -> list[Row]: ...

        async def _add_ops(
            self, db: aiosqlite.Connection, ops: list[tuple[Any, ...]]
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
            ops.sort(key=lambda o: -int(o[0]))  # newest first: the reverse of how they came
            facts = await self._facts(db, ops)
            plan: list[tuple[Row, str]] = []
            reasons: list[str] = []
            for op in ops:
                how = _how(op, wanted, facts)
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
            # Ops not sent come after those sent for the same message (the worker sends in
            # order), so reversing them first, newest first, keeps the order.
            local = [op for op, how in plan if how == _LOCAL]
            for _, kind, message_id, _, undo in local:
                await self._revert(db, OpKind(kind), message_id, json.loads(undo))
            for chunk in chunked([op[0] for op in local]):
                await db.execute(
                    f"DELETE FROM pending_ops WHERE id IN ({placeholders(len(chunk))})", chunk
                )
            queued = await self._inverses(db, [op for op, how in plan if how == _INVERSE])
        reason = reasons[0] if reasons else ""
        return UndoResult(UndoStatus.UNDONE, reason, tuple(queued), len(local), len(reasons))

    async def _facts(self, db: aiosqlite.Connection, ops: list[Row]) -> _Facts:
        """What deciding how to take back ``ops`` needs, read in a few queries."""
        mids = sorted({o[2] for o in ops if o[2] is not None})
        later: dict[int, list[int]] = {}
        for chunk in chunked(mids):
            for op_id, mid in await db.execute_fetchall(
                "SELECT id, message_id FROM pending_ops WHERE message_id IN "
                f"({placeholders(len(chunk))}) AND state IN {LIVE}",
                chunk,
            ):
                later.setdefault(mid, []).append(op_id)
        there = {r[0] for r in await self._visible(db, mids)}
        homes = sorted(
            {int(f) for o in ops if (f := json.loads(o[4]).get("from_folder")) is not None}
        )
        folders: set[int] = set()
        for chunk in chunked(homes):
            folders.update(
                r[0]
                for r in await db.execute_fetchall(
                    f"SELECT id FROM folders WHERE id IN ({placeholders(len(chunk))})", chunk
                )
            )
        return _Facts(later, there, folders)

    async def _inverses(self, db: aiosqlite.Connection, ops: list[Row]) -> list[int]:
        """Queue the ops that reverse sent ones (newest first), each made from the
        message's state after the ones before it; the rows change with them."""
        if not ops:
            return []
        rows = {r[0]: list(r) for r in await self._visible(db, sorted({o[2] for o in ops}))}
        backs = sorted({int(json.loads(o[4])["from_folder"]) for o in ops if o[1] == OpKind.MOVE})
        names: dict[int, str] = {}
        for chunk in chunked(backs):
            names.update(
                (r[0], r[1])
                for r in await db.execute_fetchall(
                    f"SELECT id, name FROM folders WHERE id IN ({placeholders(len(chunk))})", chunk
                )
            )
        inverse: list[tuple[Any, ...]] = []
        touched: set[int] = set()
        for _, kind, message_id, _, undo_json in ops:
            row = rows.get(message_id)
            if row is None:
                continue
            mid, account_id, fid, fname, rid, flags = row
            undo = json.loads(undo_json)
            if kind == OpKind.MOVE:
                back = int(undo["from_folder"])
                if fid == back:
                    continue
                payload: dict[str, Any] = {"to_folder": back}
                reverse: dict[str, Any] = {"from_folder": fid, "remote_id": rid}
                # Like a move: its id there is unknown until the server says it.
                row[2], row[3], row[4] = back, names[back], None
            else:
                added, removed = int(undo.get("added", 0)), int(undo.get("removed", 0))
                new = (flags & ~added) | removed
                if new == flags:  # a later change already put these bits back
                    continue
                payload = {"add": removed & ~flags, "remove": added & flags}
                reverse = {"added": new & ~flags, "removed": flags & ~new}
                row[5] = new
            inverse.append((account_id, kind, mid, fid, fname, rid, payload, reverse))
            touched.add(mid)
        await db.executemany(
            "UPDATE messages SET folder_id = ?, remote_id = ?, flags = ? WHERE id = ?",
            [(rows[m][2], rows[m][4], rows[m][5], m) for m in sorted(touched)],
        )
        return await self._add_ops(db, inverse)

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
