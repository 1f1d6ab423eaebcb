"""Reads for the UI and the exporter: accounts, folders, the message list, a message,
search. Conversations and "next unread" are in ``listing.py``.

Every read runs on the reader connection and never waits for the writer; a list window
reads its counter and its rows in one snapshot.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from mailtui.errors import NotFound, StoreError
from mailtui.models import (
    Account,
    AccountKind,
    Envelope,
    Flag,
    Folder,
    FolderRole,
    MessageDetail,
    MessageRow,
)
from mailtui.store.codec import ROW_COLUMNS, decode_addresses, fts_query, row_from_db
from mailtui.store.db import BodyRef, Database, scalar
from mailtui.store.listing import nearer_end, read_snapshot
from mailtui.store.rows import FOLDER_COLUMNS, folder_from_row


def merged_ids_sql(folders: int, order: str) -> str:
    """Ids of ``folders`` folders (``?`` each, then ``LIMIT ? OFFSET ?``) in (date, id)
    ``order``: one covering-index walk per folder, merged by SQLite without a sort."""
    arms = " UNION ALL ".join(
        "SELECT date, id FROM messages INDEXED BY messages_list WHERE folder_id = ?"
        for _ in range(folders)
    )
    return f"SELECT id FROM ({arms} ORDER BY date {order}, id {order} LIMIT ? OFFSET ?)"


class Reads(Database):
    """What the UI draws and the exporter walks; a part of ``Store``."""

    if TYPE_CHECKING:
        # Methods of other parts of ``Store`` this part calls.

        async def _raw_of(
            self, message_id: int, blob: Any, size: int | None, pack: int | None, pos: int | None
        ) -> bytes | None: ...

        async def _read_bodies(self, wanted: Sequence[BodyRef]) -> list[bytes | None]: ...

    async def accounts(self) -> list[Account]:
        """All accounts, in creation order."""
        rows = await self._read("SELECT id, name, kind, email FROM accounts ORDER BY id")
        return [Account(r[0], r[1], AccountKind(r[2]), r[3]) for r in rows]

    async def folders(self, account_id: int | None = None) -> list[Folder]:
        """Folders (of one account, or all) in server list order, with their counters."""
        if account_id is None:
            rows = await self._read(
                f"SELECT {FOLDER_COLUMNS} FROM folders ORDER BY account_id, position, id"
            )
        else:
            rows = await self._read(
                f"SELECT {FOLDER_COLUMNS} FROM folders WHERE account_id = ? ORDER BY position, id",
                (account_id,),
            )
        return [folder_from_row(r) for r in rows]

    async def folder(self, folder_id: int) -> Folder:
        """One folder. Raises ``NotFound`` if there is no such folder."""
        rows = await self._read(f"SELECT {FOLDER_COLUMNS} FROM folders WHERE id = ?", (folder_id,))
        if not rows:
            raise NotFound(f"no folder with id {folder_id}")
        return folder_from_row(rows[0])

    async def count(self, folder_id: int) -> tuple[int, int]:
        """(total, unread) of a folder, from the trigger-kept counters."""
        rows = await self._read("SELECT total, unread FROM folders WHERE id = ?", (folder_id,))
        if not rows:
            raise NotFound(f"no folder with id {folder_id}")
        return rows[0][0], rows[0][1]

    async def window(self, folder_id: int, offset: int, limit: int) -> list[MessageRow]:
        """Rows ``offset .. offset+limit`` of the folder, newest first.

        The ids come from the ``(folder_id, date, id)`` index alone, walked from whichever
        end of the folder is nearer (so the first and the last screen of a huge folder are
        both a few page reads); only the rows on screen are then read from the table.
        Counter and rows are read in one snapshot, so the arithmetic always fits.
        """
        offset = max(0, offset)
        if limit <= 0:
            return []
        async with read_snapshot(self._r, self._rlock) as db:
            total = await scalar(db, "SELECT total FROM folders WHERE id = ?", (folder_id,))
            span = nearer_end(offset, limit, total or 0)
            if span is None:
                return []
            newest_first, skip, limit = span
            way = "DESC" if newest_first else "ASC"
            inner = f"date {way}, id {way}"
            rows = await db.execute_fetchall(
                f"SELECT {ROW_COLUMNS} FROM messages WHERE id IN ("
                f"SELECT id FROM messages INDEXED BY messages_list WHERE folder_id = ? "
                f"ORDER BY {inner} LIMIT ? OFFSET ?) ORDER BY date DESC, id DESC",
                (folder_id, limit, skip),
            )
        return [row_from_db(r) for r in rows]

    async def inbox_count(self) -> tuple[int, int]:
        """(total, unread) of the unified inbox: every account's inbox-role folders."""
        rows = await self._read(
            "SELECT COALESCE(SUM(total), 0), COALESCE(SUM(unread), 0) FROM folders WHERE role = ?",
            (FolderRole.INBOX.value,),
        )
        return rows[0][0], rows[0][1]

    async def inbox_window(self, offset: int, limit: int) -> list[MessageRow]:
        """Rows ``offset .. offset+limit`` of the unified inbox, newest first.

        One covering-index walk per inbox folder, merged by SQLite (``MERGE (UNION ALL)``,
        no sort of the folders' rows), from whichever end is nearer as in ``window``; only
        the rows on screen are read from the table. 1M messages over 3 inboxes: first
        screen < 1 ms, middle ≈ 50 ms.
        """
        offset = max(0, offset)
        if limit <= 0:
            return []
        async with read_snapshot(self._r, self._rlock) as db:
            folders = list(
                await db.execute_fetchall(
                    "SELECT id, total FROM folders WHERE role = ? ORDER BY id LIMIT 400",
                    (FolderRole.INBOX.value,),
                )
            )
            span = nearer_end(offset, limit, sum(r[1] for r in folders))
            if span is None:
                return []
            newest_first, skip, limit = span
            order = "DESC" if newest_first else "ASC"
            rows = await db.execute_fetchall(
                f"SELECT {ROW_COLUMNS} FROM messages WHERE id IN ("
                f"{merged_ids_sql(len(folders), order)}) ORDER BY date DESC, id DESC",
                (*(r[0] for r in folders), limit, skip),
            )
        return [row_from_db(r) for r in rows]

    async def message(self, message_id: int) -> MessageDetail | None:
        """A message with its envelope and, once cached, its raw bytes; None if gone."""
        cols = ", ".join("m." + c.strip() for c in ROW_COLUMNS.split(","))
        rows = await self._read(
            f"SELECT {cols}, m.account_id, m.from_addrs, m.to_addrs, m.cc_addrs, "
            "m.message_id, m.in_reply_to, m.refs, m.preview, b.raw, b.size, b.pack, b.pos "
            "FROM messages m LEFT JOIN bodies b ON b.message_id = m.id "
            "WHERE m.id = ? AND m.folder_id IS NOT NULL",
            (message_id,),
        )
        if not rows:
            return None
        r = rows[0]
        row = row_from_db(r)
        envelope = Envelope(
            subject=row.subject,
            from_=decode_addresses(r[10]),
            to=decode_addresses(r[11]),
            cc=decode_addresses(r[12]),
            date=row.date,
            message_id=r[13],
            in_reply_to=r[14],
            references=tuple(r[15].split()),
            size=row.size,
            has_attachments=row.has_attachments,
            preview=r[16],
        )
        raw = await self._raw_of(row.id, r[17], r[18], r[19], r[20])
        return MessageDetail(row=row, account_id=r[9], envelope=envelope, raw=raw)

    async def search(
        self, query: str, limit: int, folder_id: int | None = None
    ) -> list[MessageRow]:
        """Messages matching every word of ``query`` (subject, addresses, body), newest
        first, in every folder or in ``folder_id`` only. Any input is safe: FTS5 syntax
        is matched as plain text; a query with nothing searchable returns []."""
        match = fts_query(query)
        if match is None or limit <= 0:
            return []
        cols = ", ".join("m." + c.strip() for c in ROW_COLUMNS.split(","))
        scope = "m.folder_id IS NOT NULL" if folder_id is None else "m.folder_id = ?"
        params = (match, limit) if folder_id is None else (match, folder_id, limit)
        try:
            rows = await self._read(
                f"SELECT {cols} FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
                f"WHERE messages_fts MATCH ? AND {scope} "
                "ORDER BY m.date DESC, m.id DESC LIMIT ?",
                params,
            )
        except StoreError as e:
            # The sanitizer should make this impossible; if FTS5 still objects, a search
            # box must not crash the app.
            if isinstance(e.__cause__, sqlite3.OperationalError):
                return []
            raise
        return [row_from_db(r) for r in rows]

    async def iter_raw(
        self, folder_id: int, page: int = 500
    ) -> AsyncIterator[tuple[int, Flag, int, bytes | None]]:
        """(id, flags, date, raw or None) of every message of a folder, oldest first.

        Reads ``page`` rows per query, each in its own snapshot (a read transaction held
        for a whole export would keep the WAL from being checkpointed), continuing after
        the last (date, id) seen, so rows changing meanwhile are neither repeated nor
        does the walk lose its place.
        """
        after = (-(2**63), 0)
        while True:
            rows = await self._read(
                "SELECT m.id, m.flags, m.date, b.raw, b.size, b.pack, b.pos FROM messages m "
                "LEFT JOIN bodies b ON b.message_id = m.id "
                "WHERE m.folder_id = ? AND (m.date, m.id) > (?, ?) "
                "ORDER BY m.date, m.id LIMIT ?",
                (folder_id, after[0], after[1], max(1, page)),
            )
            stored = iter(
                await self._read_bodies(
                    [(r[0], r[4], r[5], r[6]) for r in rows if r[3] is None and r[4] is not None]
                )
            )
            for r in rows:
                if r[3] is not None:
                    raw: bytes | None = bytes(r[3])
                elif r[4] is not None:
                    raw = next(stored)
                else:
                    raw = None
                yield r[0], Flag(r[1]), r[2], raw
            if len(rows) < page:
                return
            after = (rows[-1][2], rows[-1][0])

    async def remote_ref(self, message_id: int) -> tuple[str, str] | None:
        """(folder name, remote id) of a message, None if it has none (yet). A message
        of the download ledger (POP3) that a local move left without a remote id is
        still known to the server by its ledger's server id."""
        rows = await self._read(
            "SELECT f.name, coalesce(m.remote_id, d.server_id) FROM messages m "
            "JOIN folders f ON f.id = m.folder_id "
            "LEFT JOIN downloads d ON d.message_id = m.id AND d.account_id = m.account_id "
            "WHERE m.id = ? AND coalesce(m.remote_id, d.server_id) IS NOT NULL",
            (message_id,),
        )
        return (rows[0][0], rows[0][1]) if rows else None
