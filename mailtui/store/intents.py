"""The user's intents: mark, move, delete, and undo them.

Each intent changes the local rows at once (the screen updates before the server
answers) and records a pending op with what it takes to reverse it, in one transaction.
``undo_ops`` reverses ops the worker has not claimed yet.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import aiosqlite

from mailtui.errors import NotFound
from mailtui.models import Flag, FolderRole, OpKind
from mailtui.store.db import (
    FAILED,
    PENDING,
    Database,
    Row,
    chunked,
    placeholders,
    scalar,
    timestamp,
)

_INSERT_OP: Final = """
    INSERT INTO pending_ops (id, account_id, kind, message_id, folder_id, folder_name,
        remote_id, payload, undo, state, created, updated)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)
"""


class Intents(Database):
    """Local changes with their pending ops; a part of ``Store``."""

    if TYPE_CHECKING:
        # Methods of other parts of ``Store`` this part calls.

        async def _forget(self, db: aiosqlite.Connection, message_ids: Sequence[int]) -> None: ...

    async def _visible(self, db: aiosqlite.Connection, ids: Sequence[int]) -> list[Row]:
        """(id, account_id, folder_id, folder name, remote_id, flags) of the given messages
        that exist and are visible, in the order given (duplicates dropped)."""
        unique = list(dict.fromkeys(ids))
        found: dict[int, Row] = {}
        for chunk in chunked(unique):
            for r in await db.execute_fetchall(
                "SELECT m.id, m.account_id, m.folder_id, f.name, m.remote_id, m.flags "
                "FROM messages m JOIN folders f ON f.id = m.folder_id "
                f"WHERE m.id IN ({placeholders(len(chunk))})",
                chunk,
            ):
                found[r[0]] = r
        return [found[i] for i in unique if i in found]

    async def _add_ops(self, db: aiosqlite.Connection, ops: list[tuple[Any, ...]]) -> list[int]:
        """Insert ops given as (account_id, kind, message_id, folder_id, folder_name,
        remote_id, payload, undo); returns their ids (chosen here: executemany cannot
        report them)."""
        if not ops:
            return []
        first = await self._next_id(db, "pending_ops")
        now = timestamp()
        await db.executemany(
            _INSERT_OP,
            [
                (first + i, a, str(k), mid, fid, fname, rid, json.dumps(p), json.dumps(u), now, now)
                for i, (a, k, mid, fid, fname, rid, p, u) in enumerate(ops)
            ],
        )
        return list(range(first, first + len(ops)))

    async def set_flags(self, ids: Sequence[int], add: Flag, remove: Flag) -> list[int]:
        """Add and remove flags on messages, locally at once and as SET_FLAGS ops.

        Messages whose flags would not change get no op.

        Returns:
            The new op ids (what ``undo_ops`` takes).

        Raises:
            ValueError: ``add`` and ``remove`` share a flag.
        """
        if add & remove:
            raise ValueError(f"cannot both add and remove {Flag(add & remove)!r}")
        async with self._tx() as db:
            updates = []
            ops: list[tuple[Any, ...]] = []
            for mid, account_id, fid, fname, rid, flags in await self._visible(db, ids):
                new = (flags | int(add)) & ~int(remove)
                if new == flags:
                    continue
                updates.append((new, mid))
                ops.append(
                    (
                        account_id,
                        OpKind.SET_FLAGS,
                        mid,
                        fid,
                        fname,
                        rid,
                        {"add": int(add), "remove": int(remove)},
                        # What actually changed, so undo reverses exactly this op even
                        # when later ops changed other bits.
                        {"added": new & ~flags, "removed": flags & ~new},
                    )
                )
            await db.executemany("UPDATE messages SET flags = ? WHERE id = ?", updates)
            return await self._add_ops(db, ops)

    async def move(self, ids: Sequence[int], to_folder_id: int) -> list[int]:
        """Move messages to another folder of the same account (MOVE ops).

        The row changes folder at once; its remote id is cleared until the worker learns
        the new one (``op_done``) or a sync of the target lists it.

        Raises:
            NotFound: no such target folder.
            ValueError: a message belongs to another account.
        """
        async with self._tx() as db:
            target = list(
                await db.execute_fetchall(
                    "SELECT account_id FROM folders WHERE id = ?", (to_folder_id,)
                )
            )
            if not target:
                raise NotFound(f"no folder with id {to_folder_id}")
            rows = await self._visible(db, ids)
            if any(r[1] != target[0][0] for r in rows):
                raise ValueError("cannot move messages to a folder of another account")
            return await self._relocate(db, rows, to_folder_id)

    async def _relocate(self, db: aiosqlite.Connection, rows: list[Row], to: int) -> list[int]:
        moving = [r for r in rows if r[2] != to]
        await db.executemany(
            "UPDATE messages SET folder_id = ?, remote_id = NULL WHERE id = ?",
            [(to, r[0]) for r in moving],
        )
        return await self._add_ops(
            db,
            [
                (
                    account_id,
                    OpKind.MOVE,
                    mid,
                    fid,
                    fname,
                    rid,
                    {"to_folder": to},
                    {"from_folder": fid, "remote_id": rid},
                )
                for mid, account_id, fid, fname, rid, _ in moving
            ],
        )

    async def delete(self, ids: Sequence[int]) -> list[int]:
        """Delete messages: a move to the account's Trash, or for good (a DELETE op) when
        already in Trash or the account has none.

        A message deleted for good disappears from every view at once but is kept hidden
        until the server confirms, so the intent can still be undone or rolled back.
        """
        async with self._tx() as db:
            rows = await self._visible(db, ids)
            trash: dict[int, int | None] = {}
            for account_id in {r[1] for r in rows}:
                trash[account_id] = await scalar(
                    db,
                    "SELECT id FROM folders WHERE account_id = ? AND role = ? "
                    "ORDER BY position, id LIMIT 1",
                    (account_id, FolderRole.TRASH.value),
                )
            op_ids: list[int] = []
            by_trash: dict[int, list[Row]] = {}
            expunge: list[Row] = []
            for r in rows:
                t = trash[r[1]]
                if t is None or r[2] == t:
                    expunge.append(r)
                else:
                    by_trash.setdefault(t, []).append(r)
            for t, group in by_trash.items():
                op_ids += await self._relocate(db, group, t)
            await db.executemany(
                "UPDATE messages SET folder_id = NULL WHERE id = ?", [(r[0],) for r in expunge]
            )
            op_ids += await self._add_ops(
                db,
                [
                    (account_id, OpKind.DELETE, mid, fid, fname, rid, {}, {"from_folder": fid})
                    for mid, account_id, fid, fname, rid, _ in expunge
                ],
            )
            return sorted(op_ids)

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
