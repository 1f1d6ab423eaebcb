"""Mail sync writes: what a sync worker commits for a mail folder.

Batches of server changes (``apply_batch``): new messages with their threads, flags,
removals, the folder's sync state, each batch in one transaction. Owns the sync side of
``messages``; keeps pending ops consistent with what the server says (a message moved
locally and listed by the server is adopted, ops on what the server lost are dropped).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

import aiosqlite

from mailtui.models import (
    Flag,
    FolderBatch,
    LedgerChange,
    NewMessage,
    OpKind,
    RawMessage,
)
from mailtui.store.codec import (
    encode_addresses,
    encode_references,
    fts_query,
    sender_of,
    subject_key,
    thread_candidates,
)
from mailtui.store.db import LIVE, PENDING, RELOCATING, chunked, placeholders, scalar
from mailtui.store.message_rows import insert_messages
from mailtui.store.sync_state import SyncState

#: A reply without usable headers joins the latest thread of the same subject from at
#: most this long (seconds) before it.
SUBJECT_THREAD_WINDOW: Final = 30 * 86400
#: At most this many distinct subjects are looked up per batch (each is one FTS query).
_SUBJECT_LOOKUPS: Final = 50



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
        for chunk in chunked(message_ids):
            marks = placeholders(len(chunk))
            await db.execute(
                f"DELETE FROM pending_ops WHERE state IN {LIVE} AND message_id IN ({marks})",
                chunk,
            )
            await db.execute(f"DELETE FROM messages WHERE id IN ({marks})", chunk)

    async def _insert_added(
        self,
        db: aiosqlite.Connection,
        account_id: int,
        folder_id: int,
        added: list[NewMessage],
        durable: bool,
    ) -> list[int]:
        fresh: list[NewMessage] = []
        seen: set[str] = set()
        for m in added:
            if m.remote_id not in seen:
                seen.add(m.remote_id)
                fresh.append(m)
        # Skip what is cached already, and what a move/delete not yet sent to the server
        # took away locally (the server still lists it; re-adding it would resurrect it).
        skip: set[str] = set()
        for chunk in chunked(list(seen)):
            marks = placeholders(len(chunk))
            for r in await db.execute_fetchall(
                f"SELECT remote_id FROM messages WHERE folder_id = ? AND remote_id IN ({marks})",
                (folder_id, *chunk),
            ):
                skip.add(r[0])
            for r in await db.execute_fetchall(
                f"SELECT remote_id FROM pending_ops WHERE folder_id = ? AND state IN {LIVE} "
                f"AND kind IN {RELOCATING} AND remote_id IN ({marks})",
                (folder_id, *chunk),
            ):
                skip.add(r[0])
        if skip:
            fresh = [m for m in fresh if m.remote_id not in skip]
        if not fresh:
            return []

        # One look-up for every message-id the batch mentions: threads, and rows moved
        # here locally whose remote id the server now tells us ("adoption").
        candidates = [thread_candidates(m.envelope) for m in fresh]
        wanted = sorted({mid for c in candidates for mid in c})
        known: dict[str, int] = {}  # message-id header -> thread id
        orphans: dict[str, int] = {}  # message-id header -> local id, remote id unknown
        # The same for rows elsewhere: deleted for good (folder NULL) or moved back by
        # an undo, with an op that waits for their server id in this folder.
        hidden: dict[str, int] = {}
        for chunk in chunked(wanted):
            for mid, thread_id, fid, unknown_remote, lid in await db.execute_fetchall(
                "SELECT message_id, thread_id, folder_id, remote_id IS NULL, id FROM messages "
                f"WHERE account_id = ? AND message_id IN ({placeholders(len(chunk))}) ORDER BY id",
                (account_id, *chunk),
            ):
                known.setdefault(mid, thread_id)
                if unknown_remote and fid == folder_id:
                    orphans.setdefault(mid, lid)
                elif unknown_remote:
                    hidden.setdefault(mid, lid)
        if hidden:
            # Moved here, then deleted for good or moved away again before the move was
            # confirmed: the server lists it here still, and it must not come back as a
            # new message; the op waiting for its id here gets it.
            waiting = {
                r[0]
                for r in await db.execute_fetchall(
                    "SELECT message_id FROM pending_ops WHERE folder_id = ? "
                    f"AND remote_id IS NULL AND state IN {LIVE} "
                    f"AND message_id IN ({placeholders(len(hidden))})",
                    (folder_id, *hidden.values()),
                )
            }
            for mid, lid in hidden.items():
                if lid in waiting:
                    orphans.setdefault(mid, lid)

        todo: list[tuple[NewMessage, list[str]]] = []
        for m, c in zip(fresh, candidates, strict=True):
            lid = orphans.pop(m.envelope.message_id, None) if m.envelope.message_id else None
            if lid is None:
                todo.append((m, c))
            else:
                await self._adopt(db, lid, folder_id, m.remote_id)
        if not todo:
            return []

        # Ids are chosen here (the write lock is held) so that threads can refer to
        # messages of the same batch without a round trip per row.
        first = await self._next_id(db, "messages")
        ids = list(range(first, first + len(todo)))
        threads = ids[:]
        in_batch: dict[str, int] = {}
        # Subjects matter only for messages no header ties to a message already known or
        # in this batch.
        batch_ids = {m.envelope.message_id for m, _ in todo}
        keys = [
            ("", False)
            if any(mid in known or (mid in batch_ids and mid != m.envelope.message_id) for mid in c)
            else subject_key(m.envelope.subject)
            for m, c in todo
        ]
        by_subject = await self._subject_threads(db, account_id, todo, keys)
        # Oldest first, so a parent in the same batch is known before its replies.
        for i in sorted(range(len(todo)), key=lambda i: todo[i][0].envelope.date):
            m, c = todo[i]
            for mid in c:
                thread_id = in_batch.get(mid) or known.get(mid)
                if thread_id:
                    threads[i] = thread_id
                    break
            else:
                # No header names a known message: a reply joins the latest thread of
                # its subject from the window before it (mailers that drop References).
                key, is_reply = keys[i]
                date = m.envelope.date
                if is_reply and key:
                    earlier = [
                        (d, t)
                        for d, t in by_subject.get(key, ())
                        if date - SUBJECT_THREAD_WINDOW <= d <= date
                    ]
                    if earlier:
                        threads[i] = max(earlier)[1]
            own = m.envelope.message_id
            if own and own not in in_batch:
                in_batch[own] = threads[i]
            if keys[i][0]:
                by_subject.setdefault(keys[i][0], []).append((m.envelope.date, threads[i]))

        rows = []
        bodies: list[tuple[int, RawMessage | None, str | None]] = []
        for i, (m, _) in enumerate(todo):
            env = m.envelope
            rows.append(
                (
                    ids[i],
                    account_id,
                    folder_id,
                    m.remote_id,
                    env.date,
                    sender_of(env),
                    env.subject,
                    encode_addresses(env.from_),
                    encode_addresses(env.to),
                    encode_addresses(env.cc),
                    env.message_id,
                    env.in_reply_to,
                    encode_references(env.references),
                    env.size,
                    int(m.flags),
                    threads[i],
                    int(env.has_attachments),
                    env.preview,
                )
            )
            if m.raw is not None or m.body_text:
                bodies.append((ids[i], m.raw, m.body_text))
        where = iter(
            await self._append_bodies(
                db, [(message_id, raw) for message_id, raw, _ in bodies if raw is not None], durable
            )
        )
        await insert_messages(db, rows)  # in one statement: message_rows.py
        await db.execute(
            "INSERT INTO messages_fts (rowid, subject, addresses, body) "
            "SELECT id, subject, addresses, '' FROM messages WHERE id BETWEEN ? AND ?",
            (ids[0], ids[-1]),
        )
        if bodies:  # after the index rows exist: the bodies trigger re-indexes them
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
        return ids

    async def _subject_threads(
        self,
        db: aiosqlite.Connection,
        account_id: int,
        todo: list[tuple[NewMessage, list[str]]],
        keys: list[tuple[str, bool]],
    ) -> dict[str, list[tuple[int, int]]]:
        """(date, thread id) of the account's messages with the subject of a reply of the
        batch that no header threads, from the window before it.

        Such replies are rare (mailers that drop In-Reply-To and References), so this
        costs nothing for most batches; when needed, the full-text index finds the
        candidates by the subject's words, and the normalised subjects are compared here.
        """
        found: dict[str, list[tuple[int, int]]] = {}
        window: dict[str, tuple[int, int]] = {}
        for (m, _), (key, is_reply) in zip(todo, keys, strict=True):
            if is_reply and key:
                low, high = window.get(key, (m.envelope.date, m.envelope.date))
                window[key] = (min(low, m.envelope.date), max(high, m.envelope.date))
        for key, (low, high) in list(window.items())[:_SUBJECT_LOOKUPS]:
            match = fts_query(key)
            if match is None:
                continue
            for subject, date, thread_id in await db.execute_fetchall(
                "SELECT m.subject, m.date, m.thread_id FROM messages_fts "
                "JOIN messages m ON m.id = messages_fts.rowid "
                "WHERE messages_fts MATCH ? AND m.account_id = ? AND m.date BETWEEN ? AND ? "
                "ORDER BY m.date DESC LIMIT 200",
                (f"subject : ({match})", account_id, low - SUBJECT_THREAD_WINDOW, high),
            ):
                if subject_key(subject)[0] == key:
                    found.setdefault(key, []).append((date, thread_id))
        return found

    async def _adopt(
        self, db: aiosqlite.Connection, message_id: int, folder_id: int, remote_id: str
    ) -> None:
        """Record that a locally moved message is ``remote_id`` in ``folder_id``.

        The row gets the id if it is still there (or was deleted for good from there
        meanwhile, i.e. hidden); ops made on it in that folder get it either way.
        """
        rows = list(
            await db.execute_fetchall(
                "SELECT folder_id, remote_id FROM messages WHERE id = ?", (message_id,)
            )
        )
        if rows and rows[0][1] is None and rows[0][0] in (folder_id, None):
            if rows[0][0] == folder_id:
                other = await scalar(
                    db,
                    "SELECT id FROM messages WHERE folder_id = ? AND remote_id = ?",
                    (folder_id, remote_id),
                )
                if other is not None:
                    # A sync listed the message before the op was confirmed: keep the row
                    # the user has been looking at (its flags, its body), drop the newcomer.
                    await self._forget(db, [other])
            await db.execute(
                "UPDATE messages SET remote_id = ? WHERE id = ?", (remote_id, message_id)
            )
        # Later ops on this message were made while its remote id was unknown.
        await db.execute(
            f"UPDATE pending_ops SET remote_id = ? WHERE message_id = ? AND folder_id = ? "
            f"AND remote_id IS NULL AND state IN {LIVE}",
            (remote_id, message_id, folder_id),
        )

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
