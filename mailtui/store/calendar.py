"""Calendar items synced from a server (EAS, later CalDAV), per folder.

Owns the ``calendar_items`` table. A ``CalendarBatch`` is one transaction, its folder's
and account's sync state included. ``calendar_items`` reads a time range through the
``calendar_items_range`` index (account, start): the items that start before the range
ends, of which those that end after it begins. A recurring item is matched by its first
occurrence; expanding the rule is the reader's business (models/calendar.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import aiosqlite

from mailtui.models import CalendarBatch, CalendarItem
from mailtui.store.db import Database, Row

_COLUMNS: Final = (
    "remote_id, summary, starts_at, ends_at, all_day, location, description, organizer, "
    "timezone, recurrence, data"
)


def _item(r: Row) -> CalendarItem:
    return CalendarItem(
        remote_id=r[0],
        summary=r[1],
        start=r[2],
        end=r[3],
        all_day=bool(r[4]),
        location=r[5],
        description=r[6],
        organizer=r[7],
        timezone=r[8],
        recurrence=r[9],
        data=json.loads(r[10]),
    )


class Calendar(Database):
    """Calendar items as the servers have them; a part of ``Store``."""

    if TYPE_CHECKING:
        # Methods of other parts of ``Store`` this part calls.

        async def _sync_target(self, db: aiosqlite.Connection, folder_id: int) -> int: ...

        async def _put_states(
            self,
            db: aiosqlite.Connection,
            account_id: int,
            folder_id: int | None,
            state: dict[str, Any] | None,
            account_state: dict[str, Any] | None,
        ) -> None: ...

        async def _remove_by_remote_id(
            self, db: aiosqlite.Connection, table: str, folder_id: int, removed: Sequence[str]
        ) -> None: ...

    async def apply_calendar_batch(self, folder_id: int, batch: CalendarBatch) -> None:
        """Commit one batch of a calendar folder in one transaction: ``reset`` (drop the
        folder's items), write ``added`` and ``changed`` by remote id, delete
        ``removed``, store ``state`` and ``account_state``.

        Raises:
            NotFound: no such folder.
        """
        async with self._tx() as db:
            account_id = await self._sync_target(db, folder_id)
            if batch.reset:
                await db.execute("DELETE FROM calendar_items WHERE folder_id = ?", (folder_id,))
            await db.executemany(
                "INSERT INTO calendar_items (account_id, folder_id, remote_id, summary, "
                "starts_at, ends_at, all_day, location, description, organizer, timezone, "
                "recurrence, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (folder_id, remote_id) DO UPDATE SET "
                "summary = excluded.summary, starts_at = excluded.starts_at, "
                "ends_at = excluded.ends_at, all_day = excluded.all_day, "
                "location = excluded.location, description = excluded.description, "
                "organizer = excluded.organizer, timezone = excluded.timezone, "
                "recurrence = excluded.recurrence, data = excluded.data",
                [
                    (
                        account_id,
                        folder_id,
                        i.remote_id,
                        i.summary,
                        i.start,
                        i.end,
                        int(i.all_day),
                        i.location,
                        i.description,
                        i.organizer,
                        i.timezone,
                        i.recurrence,
                        json.dumps(i.data),
                    )
                    for i in (*batch.added, *batch.changed)
                ],
            )
            await self._remove_by_remote_id(db, "calendar_items", folder_id, batch.removed)
            await self._put_states(db, account_id, folder_id, batch.state, batch.account_state)

    async def calendar_items(self, account_id: int, start: int, end: int) -> list[CalendarItem]:
        """The account's items that overlap ``start .. end`` (Unix times, end excluded),
        by start time. An item of no duration at ``start`` counts."""
        rows = await self._read(
            f"SELECT {_COLUMNS} FROM calendar_items INDEXED BY calendar_items_range "
            "WHERE account_id = ? AND starts_at < ? AND (ends_at > ? OR starts_at >= ?) "
            "ORDER BY starts_at, id",
            (account_id, end, start, start),
        )
        return [_item(r) for r in rows]
