"""Contacts synced from a server's address book (EAS, later CardDAV), per folder.

Owns the ``contacts`` table. A ``ContactBatch`` is one transaction, its folder's and
account's sync state included. Address completion over the mail itself is apart, in
``addresses.py``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import aiosqlite

from mailtui.models import Contact, ContactBatch
from mailtui.store.db import Database, Row, chunked, placeholders

_COLUMNS: Final = "remote_id, display_name, emails, phones, organization, notes, data"


def _contact(r: Row) -> Contact:
    return Contact(
        remote_id=r[0],
        display_name=r[1],
        emails=tuple(json.loads(r[2])),
        phones=tuple(json.loads(r[3])),
        organization=r[4],
        notes=r[5],
        data=json.loads(r[6]),
    )


class Contacts(Database):
    """The address book as the servers have it; a part of ``Store``."""

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

    async def apply_contact_batch(self, folder_id: int, batch: ContactBatch) -> None:
        """Commit one batch of a contacts folder in one transaction: ``reset`` (drop the
        folder's contacts), write ``added`` and ``changed`` by remote id, delete
        ``removed``, store ``state`` and ``account_state``.

        Raises:
            NotFound: no such folder.
        """
        async with self._tx() as db:
            account_id = await self._sync_target(db, folder_id)
            if batch.reset:
                await db.execute("DELETE FROM contacts WHERE folder_id = ?", (folder_id,))
            await db.executemany(
                "INSERT INTO contacts (account_id, folder_id, remote_id, display_name, emails, "
                "phones, organization, notes, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (folder_id, remote_id) DO UPDATE SET "
                "display_name = excluded.display_name, emails = excluded.emails, "
                "phones = excluded.phones, organization = excluded.organization, "
                "notes = excluded.notes, data = excluded.data",
                [
                    (
                        account_id,
                        folder_id,
                        c.remote_id,
                        c.display_name,
                        json.dumps(list(c.emails)),
                        json.dumps(list(c.phones)),
                        c.organization,
                        c.notes,
                        json.dumps(c.data),
                    )
                    for c in (*batch.added, *batch.changed)
                ],
            )
            await self._remove_by_remote_id(db, "contacts", folder_id, batch.removed)
            await self._put_states(db, account_id, folder_id, batch.state, batch.account_state)

    async def contacts(self, account_id: int) -> list[Contact]:
        """The account's contacts of every contacts folder, by name."""
        rows = await self._read(
            f"SELECT {_COLUMNS} FROM contacts WHERE account_id = ? "
            "ORDER BY display_name COLLATE NOCASE, id",
            (account_id,),
        )
        return [_contact(r) for r in rows]

    async def _remove_by_remote_id(
        self, db: aiosqlite.Connection, table: str, folder_id: int, removed: Sequence[str]
    ) -> None:
        """Delete the rows of ``table`` (contacts, calendar_items) the server removed."""
        for chunk in chunked(removed):
            await db.execute(
                f"DELETE FROM {table} WHERE folder_id = ? "
                f"AND remote_id IN ({placeholders(len(chunk))})",
                (folder_id, *chunk),
            )
