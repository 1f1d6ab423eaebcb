"""The download ledger: every message a server that keeps no state for us (POP3) ever
handed over, by its server id (UIDL), per account.

Written only with the batch that carries the messages (``FolderBatch.ledger``, in
``apply_batch``'s transaction), so a ledger row exists exactly when its message was
committed. Rows outlive the messages: a message the user deleted here is never
downloaded again, and ``deleted_at`` (set by a trigger on ``messages``, schema 8, in the
transaction that removes the row for good) tells the backend it may be deleted on the
server. The backend reads the ledger through ``mailtui.sync.ledger`` (the sync layer's
adapter of the contract's ``DownloadLedger``); the store never decides what to delete.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import aiosqlite

from mailtui.models import Downloaded, LedgerChange
from mailtui.store.db import Database, Row, chunked, placeholders, timestamp

_COLUMNS: Final = (
    "server_id, downloaded_at, whole, key, deleted_at IS NOT NULL, gone_at IS NOT NULL, "
    "dele_at IS NOT NULL"
)


# One ledger change: the message is the row's (a local move keeps it) or, for a new
# row, the one of the batch's folder with that server id; whole only with a body stored.
# (``WHERE true``: SQLite's upsert after a SELECT needs a WHERE to parse.)
_UPSERT: Final = """
    INSERT INTO downloads (account_id, server_id, message_id, downloaded_at, whole, key)
    SELECT a, s, m, t, w AND EXISTS (SELECT 1 FROM bodies b WHERE b.message_id = m), k
    FROM (
        SELECT ?1 AS a, ?2 AS s, coalesce(
            (SELECT message_id FROM downloads WHERE account_id = ?1 AND server_id = ?2),
            (SELECT id FROM messages WHERE folder_id = ?3 AND remote_id = ?4)
        ) AS m, ?5 AS t, ?6 AS w, ?7 AS k
    ) WHERE true
    ON CONFLICT (account_id, server_id) DO UPDATE SET
        message_id = coalesce(downloads.message_id, excluded.message_id),
        whole = max(downloads.whole, excluded.whole),
        key = CASE WHEN excluded.key != '' THEN excluded.key ELSE downloads.key END,
        gone_at = NULL
"""


def _record(row: Row) -> Downloaded:
    return Downloaded(
        server_id=row[0],
        downloaded_at=int(row[1]),
        whole=bool(row[2]),
        key=row[3],
        deleted_here=bool(row[4]),
        gone=bool(row[5]),
        dele_sent=bool(row[6]),
    )


class Downloads(Database):
    """The download ledger; a part of ``Store``."""

    async def _apply_ledger(
        self,
        db: aiosqlite.Connection,
        account_id: int,
        folder_id: int,
        changes: Sequence[LedgerChange],
    ) -> None:
        """``changes`` of one batch, in the batch's transaction (after its messages and
        bodies, so a new row finds its message in ``folder_id`` by server id, and
        ``whole`` holds only where the body is really stored: a body that found no
        message, deleted or moved away meanwhile, must not let the server's copy go)."""
        now = timestamp()
        renamed = [c for c in changes if c.was is not None and c.was != c.server_id]
        # The server lost its UIDLs: the row (and its message) takes the new id.
        await db.executemany(
            "UPDATE messages SET remote_id = ? WHERE remote_id = ? AND id = "
            "(SELECT message_id FROM downloads WHERE account_id = ? AND server_id = ?)",
            [(c.server_id, c.was, account_id, c.was) for c in renamed],
        )
        await db.executemany(
            "UPDATE OR IGNORE downloads SET server_id = ?, gone_at = NULL "
            "WHERE account_id = ? AND server_id = ?",
            [(c.server_id, account_id, c.was) for c in renamed],
        )
        await db.executemany(
            "UPDATE downloads SET gone_at = ? WHERE account_id = ? AND server_id = ? "
            "AND gone_at IS NULL",
            [(now, account_id, c.server_id) for c in changes if c.gone],
        )
        await db.executemany(
            _UPSERT,
            [
                (
                    account_id,
                    c.server_id,
                    folder_id,
                    c.server_id,
                    c.downloaded_at or now,
                    int(c.whole),
                    c.key,
                )
                for c in changes
                if not c.gone and (c.was is None or c.was == c.server_id)
            ],
        )

    async def downloads(self, account_id: int, server_ids: Sequence[str]) -> list[Downloaded]:
        """The ledger rows of ``server_ids`` that exist (committed), in no order."""
        out: list[Downloaded] = []
        for chunk in chunked(list(server_ids)):
            rows = await self._read(
                f"SELECT {_COLUMNS} FROM downloads WHERE account_id = ? "
                f"AND server_id IN ({placeholders(len(chunk))})",
                (account_id, *chunk),
            )
            out += [_record(r) for r in rows]
        return out

    async def downloads_by_key(self, account_id: int, keys: Sequence[str]) -> list[Downloaded]:
        """The ledger rows whose content key is one of ``keys`` (a message under a new
        server id)."""
        out: list[Downloaded] = []
        for chunk in chunked([k for k in keys if k]):
            rows = await self._read(
                f"SELECT {_COLUMNS} FROM downloads WHERE account_id = ? "
                f"AND key IN ({placeholders(len(chunk))})",
                (account_id, *chunk),
            )
            out += [_record(r) for r in rows]
        return out

    async def downloads_listed(self, account_id: int) -> list[str]:
        """Server ids of the ledger the server listed last time (not marked gone)."""
        rows = await self._read(
            "SELECT server_id FROM downloads WHERE account_id = ? AND gone_at IS NULL",
            (account_id,),
        )
        return [r[0] for r in rows]

    async def downloads_deleting(self, account_id: int, server_ids: Sequence[str]) -> None:
        """Record that a DELE of ``server_ids`` is about to be sent, in a transaction
        committed with ``synchronous = FULL``: the database's log is on the disk, with
        every batch committed before it, before the server drops its copy.

        ``_tx(durable=True)`` switches the safety level under the write lock."""
        now = timestamp()
        async with self._tx(durable=True) as db:
            for chunk in chunked(list(server_ids)):
                await db.execute(
                    f"UPDATE downloads SET dele_at = ? WHERE account_id = ? "
                    f"AND server_id IN ({placeholders(len(chunk))})",
                    (now, account_id, *chunk),
                )
