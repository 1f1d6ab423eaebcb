"""Contacts synced from a server's address book (EAS, later CardDAV), per folder.

Owns the ``contacts`` table. A ``ContactBatch`` is one transaction, its folder's and
account's sync state included. Address completion over the mail itself is apart, in
``addresses.py``.
"""

from __future__ import annotations

import json
from typing import Final

from mailtui.models import Contact, ContactBatch
from mailtui.store.db import Row
from mailtui.store.sync_state import SyncState

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


class Contacts(SyncState):
    """The address book as the servers have it; a part of ``Store``."""

    async def apply_contact_batch(self, folder_id: int, batch: ContactBatch) -> None:
        """Commit one batch of a contacts folder in one transaction: ``reset`` (drop the
        folder's contacts), write ``added`` and ``changed`` by remote id, delete
        ``removed``, store ``state`` and ``account_state``.

        Raises:
            NotFound: no such folder.
        """
        await self._apply_items(
            "contacts",
            _COLUMNS.split(", "),
            folder_id,
            batch,
            (
                (
                    c.remote_id,
                    c.display_name,
                    json.dumps(list(c.emails)),
                    json.dumps(list(c.phones)),
                    c.organization,
                    c.notes,
                    json.dumps(c.data),
                )
                for c in (*batch.added, *batch.changed)
            ),
        )

    async def contacts(self, account_id: int) -> list[Contact]:
        """The account's contacts of every contacts folder, by name."""
        rows = await self._read(
            f"SELECT {_COLUMNS} FROM contacts WHERE account_id = ? "
            "ORDER BY display_name COLLATE NOCASE, id",
            (account_id,),
        )
        return [_contact(r) for r in rows]
