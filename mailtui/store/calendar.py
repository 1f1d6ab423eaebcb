"""Calendar items synced from a server (EAS, later CalDAV), per folder.

Owns the ``calendar_items`` table. A ``CalendarBatch`` is one transaction, its folder's
and account's sync state included. ``calendar_items`` reads a time range through the
``calendar_items_range`` index (account, start): the items that start before the range
ends, of which those that end after it begins. A recurring item is matched by its first
occurrence; expanding the rule is the reader's business (models/calendar.py).
"""

from __future__ import annotations

import json
from typing import Final

from mailtui.models import CalendarBatch, CalendarItem
from mailtui.store.db import Row
from mailtui.store.sync_state import SyncState

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


class Calendar(SyncState):
    """Calendar items as the servers have them; a part of ``Store``."""

    async def apply_calendar_batch(self, folder_id: int, batch: CalendarBatch) -> None:
        """Commit one batch of a calendar folder in one transaction: ``reset`` (drop the
        folder's items), write ``added`` and ``changed`` by remote id, delete
        ``removed``, store ``state`` and ``account_state``.

        Raises:
            NotFound: no such folder.
        """
        await self._apply_items(
            "calendar_items",
            _COLUMNS.split(", "),
            folder_id,
            batch,
            (
                (
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
            ),
        )

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
