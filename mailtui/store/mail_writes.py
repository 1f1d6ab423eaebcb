"""Mail sync writes: what a sync worker commits for a mail folder.

Batches of server changes (``apply_batch``): new messages with their threads, flags,
removals, the folder's sync state, each batch in one transaction. Owns the sync side of
``messages``; keeps pending ops consistent with what the server says (a message moved
locally and listed by the server is adopted, ops on what the server lost are dropped).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

import aiosqlite

from mailtui.models import (
    Flag,
    FolderBatch,
    LedgerChange,
    NewMessage,
    OpKind,
    RawMessage,
)
from mailtui.store.db import LIVE, PENDING, RELOCATING, chunked, placeholders
from mailtui.store.new_messages import add_messages, adopt, forget
from mailtui.store.sync_state import SyncState, put_states
from mailtui.store.writer_thread import in_writer


def _only_added(batch: FolderBatch) -> bool:
    """Whether ``batch`` only adds messages without bodies (and sets states)."""
    return not (
        batch.reset or batch.bodies or batch.flags or batch.removed or batch.ledger
    ) and all(m.raw is None and not m.body_text for m in batch.added)


def _add_only(conn: sqlite3.Connection, folder_id: int, batch: FolderBatch) -> list[int]:
    """``apply_batch`` of a batch ``_only_added`` accepts, in the writer thread."""
    account_id, made = add_messages(conn, folder_id, batch.added)
    put_states(conn, account_id, folder_id, batch.state, batch.account_state)
    return [i for i, _ in made]


class MailWrites(SyncState):
    """Batches of server changes to mail folders; a part of ``Store``."""

    if TYPE_CHECKING:
        # Methods of other parts of ``Store`` this part calls.

        async def _append_bodies(
            self, db: aiosqlite.Connection, bodies: Sequence[tuple[int, RawMessage]], durable: bool
        ) -> list[tuple[int, int]]: ...

        async def _put_bodies(
            self,
            db: aiosqlite.Connection,
            keep: Sequence[tuple[int, RawMessage, str | None]],
            durable: bool,
        ) -> None: ...

        async def _apply_ledger(
            self,
            db: aiosqlite.Connection,
            account_id: int,
            folder_id: int,
            changes: Sequence[LedgerChange],
        ) -> None: ...

    async def apply_batch(
        self, folder_id: int, batch: FolderBatch, *, durable: bool = False
    ) -> list[int]:
        """Commit one batch of server changes to ``folder_id`` in one transaction.

        In order: ``reset`` (drop the folder's cached messages, and the pending ops whose
        server identity was in this folder: after a UIDVALIDITY change their remote ids
        could name other messages); insert ``added`` (ignoring remote ids already cached,
        repeated in the batch, or taken away by a not-yet-sent move/delete; threads
        assigned); store ``bodies`` (of messages already cached; others are skipped);
        apply ``flags`` (bits that a pending SET_FLAGS op of the message touches keep
        their local value until the op is done); delete ``removed``; record ``ledger``
        (the download ledger, store/downloads.py); store ``state`` and ``account_state``.

        ``durable``: the bodies exist nowhere else once this commits (the server does not
        keep what it handed over, ``Capabilities.sole_copy``): fsync them before the
        commit.

        Returns:
            Local ids of the inserted messages, in batch order.
        """
        if not durable and _only_added(batch):
            # A first pass's batch: the whole transaction is one round trip to the writer
            # thread (docs/decisions.md, "The commit chain of a first pass").
            return await self._tx_in_writer(partial(_add_only, folder_id=folder_id, batch=batch))
        async with self._tx() as db:
            account_id = await self._sync_target(db, folder_id)
            if batch.reset:
                await self._reset_folder(db, folder_id)
            new_ids = (
                await self._insert_added(db, account_id, folder_id, batch.added, durable)
                if batch.added
                else []
            )
            if batch.bodies:
                await self._bodies_by_remote_id(db, account_id, folder_id, batch.bodies, durable)
            if batch.flags:
                await self._apply_server_flags(db, folder_id, batch.flags)
            if batch.removed:
                await self._remove(db, folder_id, batch.removed)
            if batch.ledger:
                await self._apply_ledger(db, account_id, folder_id, batch.ledger)
            await self._put_states(db, account_id, folder_id, batch.state, batch.account_state)
        return new_ids

    async def _bodies_by_remote_id(
        self,
        db: aiosqlite.Connection,
        account_id: int,
        folder_id: int,
        bodies: Sequence[tuple[str, RawMessage]],
        durable: bool,
    ) -> None:
        ids: dict[str, int] = {}
        for chunk in chunked([remote for remote, _ in bodies]):
            rows = await db.execute_fetchall(
                f"SELECT remote_id, id FROM messages WHERE folder_id = ? "
                f"AND remote_id IN ({placeholders(len(chunk))})",
                (folder_id, *chunk),
            )
            ids.update((r[0], r[1]) for r in rows)
        missing = [remote for remote, _ in bodies if remote not in ids]
        for chunk in chunked(missing):
            # A message of the download ledger (POP3) moved to a local folder since its
            # header came: its body still goes to it.
            rows = await db.execute_fetchall(
                "SELECT d.server_id, m.id FROM downloads d JOIN messages m ON m.id = d.message_id "
                f"WHERE d.account_id = ? AND d.server_id IN ({placeholders(len(chunk))})",
                (account_id, *chunk),
            )
            ids.update((r[0], r[1]) for r in rows)
        await self._put_bodies(
            db, [(ids[remote], raw, None) for remote, raw in bodies if remote in ids], durable
        )

    async def _reset_folder(self, db: aiosqlite.Connection, folder_id: int) -> None:
        await self._drop_stale_ops(db, folder_id)
        await db.execute("DELETE FROM messages WHERE folder_id = ?", (folder_id,))
        # Ops that waited for a remote id of a row just dropped can never be sent.
        await db.execute(
            f"DELETE FROM pending_ops WHERE state = '{PENDING}' AND remote_id IS NULL "
            "AND message_id IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = pending_ops.message_id)"
        )

    async def _drop_stale_ops(self, db: aiosqlite.Connection, folder_id: int) -> None:
        """Forget the live ops whose server identity was in ``folder_id``.

        Used when that identity dies (UIDVALIDITY reset, folder deleted on the server).
        The local rows those ops moved or hid go too: the server lists them again from
        the folder's fresh contents if they still exist. Ops of other folders stay.
        """
        rows = list(
            await db.execute_fetchall(
                f"SELECT id, message_id FROM pending_ops WHERE folder_id = ? "
                f"AND remote_id IS NOT NULL AND state IN {LIVE}",
                (folder_id,),
            )
        )
        if not rows:
            return
        await self._forget(db, sorted({r[1] for r in rows if r[1] is not None}))
        for chunk in chunked([r[0] for r in rows]):
            await db.execute(
                f"DELETE FROM pending_ops WHERE id IN ({placeholders(len(chunk))})", chunk
            )

    async def _forget(self, db: aiosqlite.Connection, message_ids: Sequence[int]) -> None:
        """Delete messages and their live ops (the server no longer has them)."""
        if message_ids:
            await in_writer(db, partial(forget, message_ids=message_ids))

    async def _adopt(
        self, db: aiosqlite.Connection, message_id: int, folder_id: int, remote_id: str
    ) -> None:
        """Record that a locally moved message is ``remote_id`` in ``folder_id``
        (``new_messages.adopt``)."""
        await in_writer(
            db,
            partial(adopt, message_id=message_id, folder_id=folder_id, remote_id=remote_id),
        )

    async def _insert_added(
        self,
        db: aiosqlite.Connection,
        account_id: int,
        folder_id: int,
        added: list[NewMessage],
        durable: bool,
    ) -> list[int]:
        """Insert ``added`` (``new_messages.add_messages``, one round trip to the writer
        thread), then the bodies some of them came with; their local ids."""
        # ``account_id`` is the folder's: add_messages finds it in its look-up.
        _, made = await in_writer(db, partial(add_messages, folder_id=folder_id, added=added))
        bodies = [(i, m.raw, m.body_text) for i, m in made if m.raw is not None or m.body_text]
        if bodies:  # after the index rows exist: the bodies trigger re-indexes them
            where = iter(
                await self._append_bodies(
                    db, [(i, raw) for i, raw, _ in bodies if raw is not None], durable
                )
            )
            await db.executemany(
                "INSERT INTO bodies (message_id, size, pack, pos, text, indexed) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (i, None, None, None, text or "", int(text is not None))
                    if raw is None
                    else (i, len(raw), *next(where), text or "", int(text is not None))
                    for i, raw, text in bodies
                ],
            )
        return [i for i, _ in made]

    async def _apply_server_flags(
        self, db: aiosqlite.Connection, folder_id: int, flags: list[tuple[str, Flag]]
    ) -> None:
        # Bits with a local intent in flight: remote_id -> (mask of touched bits, local flags)
        held: dict[str, tuple[int, int]] = {}
        for rid, local, payload in await db.execute_fetchall(
            "SELECT m.remote_id, m.flags, p.payload FROM pending_ops p "
            "JOIN messages m ON m.id = p.message_id "
            f"WHERE m.folder_id = ? AND p.kind = ? AND p.state IN {LIVE} "
            "AND m.remote_id IS NOT NULL",
            (folder_id, OpKind.SET_FLAGS.value),
        ):
            p = json.loads(payload)
            mask = int(p.get("add", 0)) | int(p.get("remove", 0))
            held[rid] = (held.get(rid, (0, 0))[0] | mask, local)
        updates = []
        for rid, server in flags:
            value = int(server)
            if rid in held:
                mask, local = held[rid]
                value = (value & ~mask) | (local & mask)
            updates.append((value, folder_id, rid, value))
        # "flags != ?" keeps unchanged rows untouched: no write, no trigger.
        await db.executemany(
            "UPDATE messages SET flags = ? WHERE folder_id = ? AND remote_id = ? AND flags != ?",
            updates,
        )

    async def _remove(self, db: aiosqlite.Connection, folder_id: int, removed: list[str]) -> None:
        for chunk in chunked(removed):
            marks = placeholders(len(chunk))
            # A move/delete not yet sent, of a message that is gone from the server anyway:
            # the op is moot, and the row it moved elsewhere is a ghost.
            moot = [
                r[0]
                for r in await db.execute_fetchall(
                    f"SELECT DISTINCT message_id FROM pending_ops WHERE folder_id = ? "
                    f"AND state IN {LIVE} AND kind IN {RELOCATING} "
                    f"AND remote_id IN ({marks}) AND message_id IS NOT NULL",
                    (folder_id, *chunk),
                )
            ]
            if moot:
                await self._forget(db, moot)
            # Flag changes for a message that no longer exists cannot be sent.
            await db.execute(
                f"DELETE FROM pending_ops WHERE state = '{PENDING}' AND message_id IN "
                f"(SELECT id FROM messages WHERE folder_id = ? AND remote_id IN ({marks}))",
                (folder_id, *chunk),
            )
            await db.execute(
                f"DELETE FROM messages WHERE folder_id = ? AND remote_id IN ({marks})",
                (folder_id, *chunk),
            )
