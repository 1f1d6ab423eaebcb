"""What every sync write shares: the folder a batch is for, and the sync state that is
committed with it.

A base of the parts that write what a server sent (``Accounts``, ``MailWrites``,
``Contacts``, ``Calendar``). Sync state is the backend's, a JSON object the store keeps
without reading it: per folder (UIDVALIDITY, EAS SyncKey; ``folders.state``) and per
account (EAS FolderSync key, PolicyKey, DeviceId; the ``account_state`` table). Each is
written in the transaction of the batch or folder list it belongs to, so after a crash
the state and the data agree.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import aiosqlite

from mailtui.errors import NotFound
from mailtui.store.db import Database, chunked, placeholders, scalar


class ItemBatch(Protocol):
    """What a batch of contacts or calendar items says besides its items."""

    @property
    def reset(self) -> bool: ...
    @property
    def removed(self) -> list[str]: ...
    @property
    def state(self) -> dict[str, Any] | None: ...
    @property
    def account_state(self) -> dict[str, Any] | None: ...


_TARGET = "SELECT account_id FROM folders WHERE id = ?"
_ACCOUNT_STATE = (
    "INSERT INTO account_state (account_id, state) VALUES (?, ?) "
    "ON CONFLICT (account_id) DO UPDATE SET state = excluded.state"
)
_FOLDER_STATE = "UPDATE folders SET state = ? WHERE id = ?"


def sync_target(conn: sqlite3.Connection, folder_id: int) -> int:
    """``SyncState._sync_target`` in the writer thread (``writer_thread.in_writer``)."""
    row = conn.execute(_TARGET, (folder_id,)).fetchone()
    if row is None:
        raise NotFound(f"no folder with id {folder_id}")
    return int(row[0])


def put_states(
    conn: sqlite3.Connection,
    account_id: int,
    folder_id: int,
    state: dict[str, Any] | None,
    account_state: dict[str, Any] | None,
) -> None:
    """``SyncState._put_states`` in the writer thread (``writer_thread.in_writer``)."""
    if account_state is not None:
        conn.execute(_ACCOUNT_STATE, (account_id, json.dumps(account_state)))
    if state is not None:
        conn.execute(_FOLDER_STATE, (json.dumps(state), folder_id))


class SyncState(Database):
    """The sync-write helpers the parts share."""

    async def _sync_target(self, db: aiosqlite.Connection, folder_id: int) -> int:
        """The account of the folder a batch is for; ``NotFound`` if there is none."""
        account_id = await scalar(db, _TARGET, (folder_id,))
        if account_id is None:
            raise NotFound(f"no folder with id {folder_id}")
        return int(account_id)

    async def _put_states(
        self,
        db: aiosqlite.Connection,
        account_id: int,
        folder_id: int | None,
        state: dict[str, Any] | None,
        account_state: dict[str, Any] | None,
    ) -> None:
        """Replace the folder's and the account's sync state (None: unchanged), in the
        transaction in progress: the one of the data they describe."""
        if account_state is not None:
            await db.execute(_ACCOUNT_STATE, (account_id, json.dumps(account_state)))
        if state is not None and folder_id is not None:
            await db.execute(_FOLDER_STATE, (json.dumps(state), folder_id))

    async def _apply_items(
        self,
        table: str,
        columns: Sequence[str],
        folder_id: int,
        batch: ItemBatch,
        rows: Iterable[tuple[Any, ...]],
    ) -> None:
        """One batch of items keyed by remote id (contacts, calendar items) in one
        transaction: ``reset`` drops the folder's rows, ``rows`` (``remote_id`` first,
        then the other ``columns``) are written over what the folder has under that id,
        ``removed`` goes, and the sync states are stored."""
        names = ", ".join(columns)
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "remote_id")
        insert = (
            f"INSERT INTO {table} (account_id, folder_id, {names}) "
            f"VALUES ({placeholders(len(columns) + 2)}) "
            f"ON CONFLICT (folder_id, remote_id) DO UPDATE SET {updates}"
        )
        async with self._tx() as db:
            account_id = await self._sync_target(db, folder_id)
            if batch.reset:
                await db.execute(f"DELETE FROM {table} WHERE folder_id = ?", (folder_id,))
            await db.executemany(insert, [(account_id, folder_id, *row) for row in rows])
            for chunk in chunked(batch.removed):
                await db.execute(
                    f"DELETE FROM {table} WHERE folder_id = ? "
                    f"AND remote_id IN ({placeholders(len(chunk))})",
                    (folder_id, *chunk),
                )
            await self._put_states(db, account_id, folder_id, batch.state, batch.account_state)
