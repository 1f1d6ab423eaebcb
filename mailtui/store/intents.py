"""The user's intents: mark, move, delete.

Each intent changes the local rows at once (the screen updates before the server
answers) and records a pending op with what it takes to reverse it, in one transaction.
``Undo`` (undo.py) takes them back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

import aiosqlite

from mailtui.errors import NotFound
from mailtui.models import Flag, FolderRole, OpKind
from mailtui.store.db import (
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
