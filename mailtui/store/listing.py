"""Reads for the message list beyond the flat window: conversations, "next unread".

A mixin of ``Store`` (kept apart so that the list's queries sit together). Every query
walks an index and reads only the rows it returns, so a folder of a million messages
costs what a folder of a hundred does:

| method           | index                                               |
| ---------------- | --------------------------------------------------- |
| thread_count     | ``folders.threads`` counter (triggers)              |
| thread_window    | ``threads_list`` (folder, latest_date, latest_id)   |
| thread_messages  | ``messages_thread`` (folder, thread, date, id)      |
| thread_replies   | ``messages_thread``, as thread_messages             |
| thread_position  | ``threads_list``, counted up to the thread          |
| next_unread      | ``messages_unread`` (partial: unread rows only)     |
| position_of      | ``messages_list``, counted up to the row            |
| date_position    | ``messages_list``, counted up to the date           |
| thread_date_pos… | ``threads_list``, counted up to the date            |
| inbox_next_unread| ``messages_unread`` per inbox, then counts per inbox |

Positions count from the newest (0), in the order ``window``/``thread_window`` use. A
count up to a position is proportional to that position (a few ms per 100k rows): fine
for one jump, never done per paint.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mailtui.errors import NotFound, StoreError
from mailtui.models import FolderRole, MessageRow
from mailtui.store.codec import ROW_COLUMNS, row_from_db

if TYPE_CHECKING:
    import aiosqlite

_M_COLUMNS = ", ".join("m." + c.strip() for c in ROW_COLUMNS.split(","))


async def begin_read(db: aiosqlite.Connection) -> None:
    """Start a read snapshot on the reader connection.

    A read cancelled while it awaited ``BEGIN`` (the UI cancels a superseded list fetch)
    never reached its ``COMMIT``: the transaction is still open on the connection, and
    a new ``BEGIN`` would fail. Close it first; a read transaction has nothing to lose.
    """
    if db.in_transaction:
        await db.execute("COMMIT")
    await db.execute("BEGIN")


def nearer_end(offset: int, limit: int, total: int) -> tuple[bool, int, int] | None:
    """How to read rows ``offset .. offset+limit`` of ``total`` (newest first) from the
    nearer end of an index: (newest_first, rows to skip from that end, rows to read), or
    None past the end. The last screen of a million rows is then as cheap as the first."""
    if offset >= total:
        return None
    limit = min(limit, total - offset)
    if 2 * offset + limit <= total:
        return True, offset, limit
    return False, total - offset - limit, limit


@asynccontextmanager
async def read_snapshot(
    db: aiosqlite.Connection, lock: asyncio.Lock
) -> AsyncIterator[aiosqlite.Connection]:
    """One read transaction on the reader connection: every query inside sees the same
    committed state (a counter and the rows it counts agree). SQLite errors come out as
    ``StoreError``."""
    async with lock:
        try:
            await begin_read(db)
            try:
                yield db
            finally:
                await db.execute("COMMIT")
        except sqlite3.Error as e:
            raise StoreError(f"cache database error: {e}") from e


@dataclass(frozen=True, slots=True)
class ThreadSummary:
    """One conversation of a folder: its newest message there, and its counters."""

    row: MessageRow  # the newest message of the thread in this folder
    total: int
    unread: int


class ListingQueries:
    """The list's reads; mixed into ``Store`` (which provides the reader connection)."""

    if TYPE_CHECKING:
        _r: aiosqlite.Connection
        _rlock: asyncio.Lock

        async def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]: ...

    async def thread_count(self, folder_id: int) -> tuple[int, int]:
        """(conversations, unread messages) of a folder, from counters.

        Raises:
            NotFound: no such folder.
        """
        rows = await self._read("SELECT threads, unread FROM folders WHERE id = ?", (folder_id,))
        if not rows:
            raise NotFound(f"no folder with id {folder_id}")
        return rows[0][0], rows[0][1]

    async def thread_window(self, folder_id: int, offset: int, limit: int) -> list[ThreadSummary]:
        """Conversations ``offset .. offset+limit`` of a folder, the most recently active
        first (by their newest message in the folder); ``[]`` past the end.

        Like ``window``: the thread keys come from ``threads_list`` alone, walked from the
        nearer end, and counter and rows come from one snapshot.
        """
        offset = max(0, offset)
        if limit <= 0:
            return []
        async with read_snapshot(self._r, self._rlock) as db:
            rows = list(
                await db.execute_fetchall("SELECT threads FROM folders WHERE id = ?", (folder_id,))
            )
            span = nearer_end(offset, limit, rows[0][0] if rows else 0)
            if span is None:
                return []
            newest_first, skip, limit = span
            way = "DESC" if newest_first else "ASC"
            inner = f"latest_date {way}, latest_id {way}"
            found = await db.execute_fetchall(
                f"SELECT {_M_COLUMNS}, t.total, t.unread FROM ("
                "SELECT latest_id, latest_date, total, unread FROM threads "
                "INDEXED BY threads_list WHERE folder_id = ? "
                f"ORDER BY {inner} LIMIT ? OFFSET ?) t "
                "JOIN messages m ON m.id = t.latest_id "
                "ORDER BY t.latest_date DESC, t.latest_id DESC",
                (folder_id, limit, skip),
            )
        return [ThreadSummary(row_from_db(r), r[-2], r[-1]) for r in found]

    async def thread_messages(
        self, folder_id: int, thread_id: int, limit: int = 1000
    ) -> list[MessageRow]:
        """The thread's messages in the folder, oldest first (at most ``limit``, the
        newest ones)."""
        rows = await self._read(
            f"SELECT {ROW_COLUMNS} FROM messages INDEXED BY messages_thread "
            "WHERE folder_id = ? AND thread_id = ? ORDER BY date DESC, id DESC LIMIT ?",
            (folder_id, thread_id, max(0, limit)),
        )
        return [row_from_db(r) for r in reversed(rows)]

    async def thread_replies(
        self, folder_id: int, thread_id: int, limit: int = 1000
    ) -> list[tuple[int, str, str, tuple[str, ...]]]:
        """(id, Message-ID, In-Reply-To, References) of the messages ``thread_messages``
        returns, in the same order: who answers whom, for indenting replies."""
        rows = await self._read(
            "SELECT id, message_id, in_reply_to, refs FROM messages INDEXED BY messages_thread "
            "WHERE folder_id = ? AND thread_id = ? ORDER BY date DESC, id DESC LIMIT ?",
            (folder_id, thread_id, max(0, limit)),
        )
        return [
            (int(r[0]), r[1] or "", r[2] or "", tuple((r[3] or "").split())) for r in reversed(rows)
        ]

    async def thread_position(self, folder_id: int, thread_id: int) -> int | None:
        """Where the thread is in ``thread_window`` order; None if not in the folder."""
        rows = await self._read(
            "SELECT latest_date, latest_id FROM threads WHERE folder_id = ? AND thread_id = ?",
            (folder_id, thread_id),
        )
        if not rows:
            return None
        found = await self._read(
            "SELECT count(*) FROM threads INDEXED BY threads_list WHERE folder_id = ? "
            "AND (latest_date, latest_id) > (?, ?)",
            (folder_id, rows[0][0], rows[0][1]),
        )
        return int(found[0][0])

    async def position_of(self, folder_id: int, message_id: int) -> int | None:
        """Where a message is in ``window`` order; None if it is not in the folder."""
        rows = await self._read(
            "SELECT date, id FROM messages WHERE id = ? AND folder_id = ?",
            (message_id, folder_id),
        )
        if not rows:
            return None
        return await self._count_before(folder_id, rows[0][0], rows[0][1])

    async def date_position(self, folder_id: int, before: int) -> int:
        """Where the first message dated before ``before`` (a timestamp) is in ``window``
        order: the number of messages dated at or after it (a jump to a date)."""
        return await self._count_before(folder_id, before, -1)  # (date, id) >= (before, 0)

    async def thread_date_position(self, folder_id: int, before: int) -> int:
        """``date_position`` for ``thread_window``: the first conversation whose newest
        message is dated before ``before``."""
        found = await self._read(
            "SELECT count(*) FROM threads INDEXED BY threads_list WHERE folder_id = ? "
            "AND latest_date >= ?",
            (folder_id, before),
        )
        return int(found[0][0])

    async def _count_before(self, folder_id: int, date: int, message_id: int) -> int:
        found = await self._read(
            "SELECT count(*) FROM messages INDEXED BY messages_list WHERE folder_id = ? "
            "AND (date, id) > (?, ?)",
            (folder_id, date, message_id),
        )
        return int(found[0][0])

    async def next_unread(
        self, folder_id: int, after: MessageRow | None = None
    ) -> tuple[int, MessageRow] | None:
        """The first unread message older than ``after`` (from the newest when None), with
        its position; None when there is none."""
        where, params = "", [folder_id]
        if after is not None:
            where, params = "AND (date, id) < (?, ?)", [folder_id, after.date, after.id]
        rows = await self._read(
            f"SELECT {ROW_COLUMNS} FROM messages INDEXED BY messages_unread "
            f"WHERE folder_id = ? AND flags & 1 = 0 {where} ORDER BY date DESC, id DESC LIMIT 1",
            params,
        )
        if not rows:
            return None
        row = row_from_db(rows[0])
        return await self._count_before(folder_id, row.date, row.id), row

    async def inbox_next_unread(
        self, after: MessageRow | None = None
    ) -> tuple[int, MessageRow] | None:
        """``next_unread`` for the unified inbox (every inbox-role folder, in
        ``inbox_window`` order): one probe of ``messages_unread`` per inbox, the newest
        candidate wins, its position is the sum of each inbox's count up to it."""
        inboxes = [
            int(r[0])
            for r in await self._read(
                "SELECT id FROM folders WHERE role = ? ORDER BY id LIMIT 400",
                (FolderRole.INBOX.value,),
            )
        ]
        best: MessageRow | None = None
        for folder_id in inboxes:
            where, params = "", [folder_id]
            if after is not None:
                where, params = "AND (date, id) < (?, ?)", [folder_id, after.date, after.id]
            rows = await self._read(
                f"SELECT {ROW_COLUMNS} FROM messages INDEXED BY messages_unread WHERE "
                f"folder_id = ? AND flags & 1 = 0 {where} ORDER BY date DESC, id DESC LIMIT 1",
                params,
            )
            if rows:
                row = row_from_db(rows[0])
                if best is None or (row.date, row.id) > (best.date, best.id):
                    best = row
        if best is None:
            return None
        position = 0
        for folder_id in inboxes:
            position += await self._count_before(folder_id, best.date, best.id)
        return position, best

    async def next_unread_thread(
        self, folder_id: int, after: MessageRow | None = None
    ) -> tuple[int, ThreadSummary] | None:
        """Like ``next_unread`` for the conversation view: the first thread with an unread
        message whose newest message is older than ``after``, with its position."""
        where, params = "", [folder_id]
        if after is not None:
            where = "AND (t.latest_date, t.latest_id) < (?, ?)"
            params = [folder_id, after.date, after.id]
        rows = await self._read(
            f"SELECT {_M_COLUMNS}, t.total, t.unread FROM threads t INDEXED BY threads_list "
            f"JOIN messages m ON m.id = t.latest_id WHERE t.folder_id = ? AND t.unread > 0 "
            f"{where} ORDER BY t.latest_date DESC, t.latest_id DESC LIMIT 1",
            params,
        )
        if not rows:
            return None
        summary = ThreadSummary(row_from_db(rows[0]), rows[0][-2], rows[0][-1])
        position = await self.thread_position(folder_id, summary.row.thread_id)
        return (position or 0), summary
