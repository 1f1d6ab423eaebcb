"""Message bodies: cached in packs (``packs.py``), indexed for search, compacted.

Owns the ``bodies`` and ``packs`` tables. A body's bytes are appended to the active pack
inside the transaction that records where they are, so a crash leaves either both or a
tail no row names. ``bodies_to_index``/``set_body_texts`` feed the search index;
``compact_bodies`` gives back the space of deleted bodies.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from typing import Any, Final

import aiosqlite

from mailtui.errors import StoreError
from mailtui.models import RawMessage
from mailtui.store.db import BodyRef, Database, chunked, placeholders
from mailtui.store.packs import HEADER_SIZE, PACK_TARGET, PackBusy

#: Records ``compact_bodies`` moves per transaction: at most this many, about this much.
_COMPACT_ROWS: Final = 2000
_COMPACT_BYTES: Final = 16 << 20


class Bodies(Database):
    """The body cache and the search index's texts; a part of ``Store``."""

    async def _append_bodies(
        self, db: aiosqlite.Connection, bodies: Sequence[tuple[int, RawMessage]], durable: bool
    ) -> list[tuple[int, int]]:
        """Append bodies for rows the transaction in progress is about to write; their
        ``(pack, pos)``. ``durable``: on disk before this returns (packs.py)."""
        if not bodies:
            return []
        try:
            if self._appended is None:
                # A transaction appends to one pack: a full one is left at its start.
                if self._packs.active is None or self._packs.end >= PACK_TARGET:
                    await self._take_pack(db)  # marks a pack it creates
                if self._appended is None:
                    assert self._packs.active is not None
                    self._appended = (self._packs.active, self._packs.end, False)
            pack = self._packs.active
            assert pack is not None
            positions = await asyncio.to_thread(self._packs.append, bodies, durable)
            if durable and pack not in self._named_packs:
                await asyncio.to_thread(self._packs.sync_dir)
                self._named_packs.add(pack)
        except OSError as e:
            raise StoreError(
                f"cannot write to the mail cache in {self.bodies_dir}: {e.strerror or e}"
            ) from e
        await db.execute("UPDATE packs SET size = ? WHERE id = ?", (self._packs.end, pack))
        return [(pack, p) for p in positions]

    async def _take_pack(self, db: aiosqlite.Connection) -> None:
        """Make the newest pack the active one if it has room and no other writer holds
        it, else a new one. Runs in a write transaction, so ``packs.size`` is the end of
        the last committed record (a crashed writer's tail beyond it is cut off)."""
        await asyncio.to_thread(self._packs.release)
        rows = list(
            await db.execute_fetchall("SELECT id, size FROM packs ORDER BY id DESC LIMIT 1")
        )
        if rows and rows[0][1] < PACK_TARGET:
            pack, end = rows[0]
            try:
                await asyncio.to_thread(self._packs.take, pack, end)
                return
            except (PackBusy, FileNotFoundError):
                pass  # another process appends to it (or it is gone): a pack of our own
        cursor = await db.execute("INSERT INTO packs (size, dead) VALUES (0, 0)")
        pack = cursor.lastrowid
        assert pack is not None
        # Marked before the file exists: a failure in between still undoes the creation.
        self._appended = (pack, 0, True)
        await asyncio.to_thread(self._packs.create, pack)

    async def _read_bodies(self, wanted: Sequence[BodyRef]) -> list[bytes | None]:
        """The bodies ``(message_id, size, pack, pos)`` name, None where the record (or
        schema-3 file) is missing or not that body (then it counts as not cached).

        A body compaction moved meanwhile (its old pack is gone) is looked up once more."""
        if not wanted:
            return []
        packs = self._packs

        def read(refs: Sequence[BodyRef]) -> list[bytes | None]:
            return [
                packs.read_legacy(i, n) if p is None or o is None else packs.read(p, o, i, n)
                for i, n, p, o in refs
            ]

        got = await asyncio.to_thread(read, wanted)
        missing = [w[0] for w, raw in zip(wanted, got, strict=True) if raw is None]
        if not missing:
            return got
        now: dict[int, BodyRef] = {}
        for chunk in chunked(missing):
            rows = await self._read(
                "SELECT message_id, size, pack, pos FROM bodies "
                f"WHERE message_id IN ({placeholders(len(chunk))}) AND pack IS NOT NULL",
                chunk,
            )
            now.update((r[0], (r[0], r[1], r[2], r[3])) for r in rows)
        moved = [
            (k, now[w[0]])
            for k, w in enumerate(wanted)
            if got[k] is None and w[0] in now and now[w[0]] != tuple(w)
        ]
        if moved:
            again = await asyncio.to_thread(read, [ref for _, ref in moved])
            for (k, _), raw in zip(moved, again, strict=True):
                got[k] = raw
        return got

    async def store_body(
        self, message_id: int, raw: bytes, text: str | None, *, durable: bool = False
    ) -> None:
        """Cache a message's raw bytes and index ``text`` for search (None: not known
        yet, ``bodies_to_index`` lists it until ``set_body_texts``).

        A message deleted meanwhile is silently skipped (the fetch lost a race).
        ``durable``: fsync the body before the commit (it exists nowhere else).
        """
        await self.store_bodies([(message_id, raw, text)], durable=durable)

    async def store_bodies(
        self, bodies: Sequence[tuple[int, RawMessage, str | None]], *, durable: bool = False
    ) -> None:
        """``store_body`` for many ``(message_id, raw, text)`` in one transaction (the
        search index follows through the same triggers). Messages deleted meanwhile are
        skipped. The bytes go to the active pack (packs.py), written before the commit.

        Raises:
            StoreError: the database or the body directory cannot be written (disk full);
                nothing of the call is kept.
        """
        if not bodies:
            return
        async with self._tx() as db:
            present: set[int] = set()
            for chunk in chunked([b[0] for b in bodies]):
                rows = await db.execute_fetchall(
                    f"SELECT id FROM messages WHERE id IN ({placeholders(len(chunk))})", chunk
                )
                present.update(r[0] for r in rows)
            await self._put_bodies(db, [b for b in bodies if b[0] in present], durable)

    async def _put_bodies(
        self,
        db: aiosqlite.Connection,
        keep: Sequence[tuple[int, RawMessage, str | None]],
        durable: bool,
    ) -> None:
        """Bodies of messages known to exist, in the transaction in progress."""
        if not keep:
            return
        where = await self._append_bodies(
            db, [(message_id, raw) for message_id, raw, _ in keep], durable
        )
        await db.executemany(
            "INSERT INTO bodies (message_id, raw, size, pack, pos, text, indexed) "
            "VALUES (?, NULL, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO UPDATE SET "
            "raw = NULL, size = excluded.size, pack = excluded.pack, pos = excluded.pos, "
            "text = excluded.text, indexed = excluded.indexed",
            [
                (message_id, len(raw), pack, pos, text or "", int(text is not None))
                for (message_id, raw, text), (pack, pos) in zip(keep, where, strict=True)
            ],
        )

    async def bodies_to_index(
        self,
        account_id: int,
        limit: int,
        max_bytes: int = 8 << 20,
        *,
        before: int | None = None,
    ) -> list[tuple[int, bytes]]:
        """Up to ``limit`` cached bodies of the account (and about ``max_bytes``, at least
        one) whose text is not in the search index yet, newest first, as
        ``(message_id, raw)``; a body whose record is gone or not that body is left out (and
        forgotten, so that it is fetched again). ``before``: only message ids below it
        (the next batch while the previous one is still being indexed)."""
        # A walk of bodies_unindexed down from ``before``, the account looked up per row.
        # As a join, the planner started from all of the account's messages (then a
        # sort) or built a Bloom filter over them: O(messages) per batch.
        rows = await self._read(
            "SELECT b.message_id, b.size, b.pack, b.pos FROM bodies b "
            "INDEXED BY bodies_unindexed "
            "WHERE b.indexed = 0 AND b.message_id < ? "
            "AND (SELECT m.account_id FROM messages m WHERE m.id = b.message_id) = ? "
            "ORDER BY b.message_id DESC LIMIT ?",
            ((1 << 63) - 1 if before is None else before, account_id, limit),
        )
        total = 0
        for n, r in enumerate(rows):
            total += r[1]
            if total > max_bytes:
                rows = rows[: max(1, n)]
                break
        raws = await self._read_bodies([(r[0], r[1], r[2], r[3]) for r in rows])
        lost = [r[0] for r, raw in zip(rows, raws, strict=True) if raw is None]
        if lost:
            async with self._tx() as db:
                await db.execute(
                    f"DELETE FROM bodies WHERE message_id IN ({placeholders(len(lost))})", lost
                )
        return [(r[0], raw) for r, raw in zip(rows, raws, strict=True) if raw is not None]

    async def count_bodies_to_index(self, account_id: int, up_to: int) -> int:
        """How many bodies ``bodies_to_index`` has left to list for the account, counted
        no further than ``up_to`` (the indexer asks whether a helper process pays)."""
        rows = await self._read(
            "SELECT count(*) FROM (SELECT 1 FROM bodies b INDEXED BY bodies_unindexed "
            "WHERE b.indexed = 0 "
            "AND (SELECT m.account_id FROM messages m WHERE m.id = b.message_id) = ? LIMIT ?)",
            (account_id, up_to),
        )
        return int(rows[0][0])

    async def set_body_texts(self, texts: Sequence[tuple[int, str]]) -> None:
        """Put the text of cached bodies into the search index (one transaction).

        One statement per 500 bodies (``FROM (VALUES …)``), not one per body: the writer
        thread takes the GIL twice a batch instead of twice a body, which matters while
        the next batch's text is made in another thread (worker.py), and it is less CPU
        (0.43 s against 0.6 s for the 10,000 bodies of bench/index_bodies.py).
        """
        if not texts:
            return
        async with self._tx() as db:
            for chunk in chunked(texts):
                await db.execute(
                    "UPDATE bodies SET text = t.column2, indexed = 1 "
                    f"FROM (VALUES {','.join(['(?, ?)'] * len(chunk))}) AS t "
                    "WHERE bodies.message_id = t.column1 AND bodies.indexed = 0",
                    [value for pair in chunk for value in pair],
                )

    async def compact_bodies(self, budget: int = PACK_TARGET) -> int:
        """Give back the space of deleted bodies; the bytes freed.

        A pack no row names any more is removed; the live records of a pack at least
        half dead are copied to the active pack, then it is removed, until about
        ``budget`` bytes were copied (this call's share of the work: the rest is left
        for the next). Packs another writer appends to are left alone. The copies are
        fsynced, and the last transaction committed with ``synchronous = FULL``, before
        a pack is unlinked: a body that exists nowhere else survives a power loss."""
        rows = await self._read(
            "SELECT id, size, dead FROM packs WHERE dead * 2 >= size ORDER BY id"
        )
        freed = 0
        for pack, size, dead in rows:
            if pack == self._packs.active or budget < 0:
                continue
            lock = await asyncio.to_thread(self._packs.try_lock, pack)
            if lock is None:
                continue  # another writer's active pack
            try:
                budget -= size - dead
                await self._empty_pack(pack)
                freed += size
            finally:
                os.close(lock)
        return freed

    async def _empty_pack(self, pack: int) -> None:
        """Move the live records of ``pack`` to the active pack, forget it, unlink it."""
        while True:
            async with self._tx() as db:
                rows = list(
                    await db.execute_fetchall(
                        "SELECT message_id, size, pos FROM bodies WHERE pack = ? "
                        "ORDER BY pos LIMIT ?",
                        (pack, _COMPACT_ROWS),
                    )
                )
                if not rows:
                    break
                total = 0
                for n, r in enumerate(rows):  # about 16 MB per transaction, at least one
                    total += HEADER_SIZE + r[1]
                    if total > _COMPACT_BYTES and n:
                        rows = rows[:n]
                        break
                raws = await self._read_bodies([(r[0], r[1], pack, r[2]) for r in rows])
                lost = [r[0] for r, raw in zip(rows, raws, strict=True) if raw is None]
                if lost:  # unreadable (a power loss): not cached any more, fetched again
                    await db.execute(
                        f"DELETE FROM bodies WHERE message_id IN ({placeholders(len(lost))})", lost
                    )
                keep = [(r[0], raw) for r, raw in zip(rows, raws, strict=True) if raw]
                where = await self._append_bodies(db, keep, durable=True)
                await db.executemany(
                    "UPDATE bodies SET pack = ?, pos = ? WHERE message_id = ?",
                    [(p, o, mid) for (mid, _), (p, o) in zip(keep, where, strict=True)],
                )
        async with self._tx(durable=True) as db:
            await db.execute("DELETE FROM packs WHERE id = ?", (pack,))
        await asyncio.to_thread(self._packs.unlink, pack)

    async def messages_missing_body(
        self, folder_id: int, since: int, limit: int
    ) -> list[tuple[int, str]]:
        """(local id, remote id) of messages dated ``since`` or later without a cached
        body, newest first: what a worker prefetches."""
        rows = await self._read(
            "SELECT id, remote_id FROM messages INDEXED BY messages_bodyless "
            "WHERE folder_id = ? AND has_body = 0 AND date >= ? AND remote_id IS NOT NULL "
            "ORDER BY date DESC, id DESC LIMIT ?",
            (folder_id, since, limit),
        )
        return [(r[0], r[1]) for r in rows]

    async def count_missing_bodies(self, folder_id: int, since: int) -> int:
        """How many messages ``messages_missing_body`` has in all (the body phase's
        progress in the status bar)."""
        rows = await self._read(
            "SELECT count(*) FROM messages INDEXED BY messages_bodyless "
            "WHERE folder_id = ? AND has_body = 0 AND date >= ? AND remote_id IS NOT NULL",
            (folder_id, since),
        )
        return int(rows[0][0])

    async def _raw_of(
        self, message_id: int, blob: Any, size: int | None, pack: int | None, pos: int | None
    ) -> bytes | None:
        """A body from its row: in a pack, or (older schemas) a file or a BLOB."""
        if blob is not None:
            return bytes(blob)
        if size is None:
            return None
        return (await self._read_bodies([(message_id, size, pack, pos)]))[0]
