"""Contacts as a server's address book has them, and the batches a backend syncs them in.

Plain data, like the rest of ``models``. A contact is known by its ``remote_id`` in its
folder (EAS ServerId, a CardDAV href); ``data`` keeps the protocol's own fields that have
no column here (JSON-able), so a later version can read them without a resync.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Contact:
    remote_id: str
    display_name: str = ""
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    organization: str = ""
    notes: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ContactBatch:
    """One batch of changes in one contacts folder, committed in one transaction.

    ``added`` and ``changed`` are both written by remote id (a contact already cached is
    replaced, one missing is inserted: a replayed batch does no harm); ``removed`` names
    remote ids gone from the server. ``state``/``account_state``: the new sync state of
    the folder and of the account, None = unchanged; ``complete``: the folder is in step
    after this batch.
    """

    folder: str
    added: list[Contact] = field(default_factory=list)
    changed: list[Contact] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    reset: bool = False  # drop every cached contact of this folder first
    state: dict[str, Any] | None = None
    account_state: dict[str, Any] | None = None
    progress: tuple[int, int] = (0, 0)
    complete: bool = False
