"""Accounts and their folders, as the sync worker learns them from the server, and the
sync state of both.

Owns the ``accounts``, ``folders`` and ``account_state`` tables (folder counters are kept
by triggers on ``messages``, schema.py). A folder gone from the server takes its
messages, contacts and calendar items with it, and the pending moves into it fail
(rolled back), so nothing waits for a folder that is gone.

Sync state (per folder and per account) is written by ``SyncState._put_states`` in the
transaction of the batch or folder list it belongs to (``sync_state.py``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import aiosqlite

from mailtui.errors import NotFound
from mailtui.models import Account, AccountKind, RemoteFolder
from mailtui.store.db import scalar
from mailtui.store.sync_state import SyncState


class Accounts(SyncState):
    """Accounts, folders and their sync state; a part of ``Store``."""

    if TYPE_CHECKING:
        # Methods of other parts of ``Store`` this part calls.

        async def _drop_stale_ops(self, db: aiosqlite.Connection, folder_id: int) -> None: ...

        async def _fail_moves_into(
            self, db: aiosqlite.Connection, folder_id: int, error: str
        ) -> None: ...

    async def ensure_account(self, name: str, kind: AccountKind, email: str) -> Account:
        """The account called ``name``, created if new; kind and email follow the config."""
        async with self._tx() as db:
            await db.execute(
                "INSERT INTO accounts (name, kind, email) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, email = excluded.email",
                (name, str(kind), email),
            )
            account_id = await scalar(db, "SELECT id FROM accounts WHERE name = ?", (name,))
        return Account(id=account_id, name=name, kind=AccountKind(kind), email=email)

    async def unsent_count(self, account_id: int) -> int:
        """Messages of the account's outbox not sent yet (any state but sent)."""
        rows = await self._read(
            "SELECT count(*) FROM outbox WHERE account_id = ? AND state != 'sent'", (account_id,)
        )
        return int(rows[0][0])

    async def remove_account(self, account_id: int) -> None:
        """The account and everything of it cached here: folders, messages, sync state,
        outbox (the caller has asked the user; ``unsent_count`` first)."""
        async with self._tx() as db:
            await db.execute("DELETE FROM accounts WHERE id = ?", (account_id,))

    async def sync_folders(
        self,
        account_id: int,
        folders: list[RemoteFolder],
        account_state: dict[str, Any] | None = None,
        *,
        keep_unlisted: bool = False,
    ) -> dict[str, int]:
        """Make the account's folder list match the server's.

        Folders are matched by name and updated in place (role, kind, display name, depth,
        list order, subscribed). Folders gone from the server are removed with their
        messages; pending moves *into* such a folder are rolled back and marked failed, so
        the message shows again where the server still has it. ``account_state``, when
        not None, replaces the account's sync state in the same transaction (the
        FolderSync key that goes with this list).

        ``keep_unlisted``: the account is local (``Capabilities.local``, POP3): the server
        lists only what it has (INBOX), and the account's other folders live in the store
        only (``LocalMail``), so a folder the list leaves out stays.

        Returns:
            The account's folder names mapped to local folder ids.
        """
        async with self._tx() as db:
            existing = {
                r[1]: r[0]
                for r in await db.execute_fetchall(
                    "SELECT id, name FROM folders WHERE account_id = ?", (account_id,)
                )
            }
            await db.executemany(
                """
                INSERT INTO folders (account_id, name, display_name, role, depth, selectable,
                    position, kind, subscribed)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (account_id, name) DO UPDATE SET
                    display_name = excluded.display_name, role = excluded.role,
                    depth = excluded.depth, selectable = excluded.selectable,
                    position = excluded.position, kind = excluded.kind,
                    subscribed = excluded.subscribed
                """,
                [
                    (
                        account_id,
                        f.name,
                        f.display_name,
                        str(f.role),
                        f.depth,
                        f.selectable,
                        i,
                        str(f.kind),
                        f.subscribed,
                    )
                    for i, f in enumerate(folders)
                ],
            )
            wanted = {f.name for f in folders}
            gone = [
                fid for name, fid in existing.items() if name not in wanted and not keep_unlisted
            ]
            for fid in gone:
                await self._fail_moves_into(db, fid, "the target folder no longer exists")
            for fid in gone:
                await self._drop_stale_ops(db, fid)
                await db.execute("DELETE FROM folders WHERE id = ?", (fid,))
            rows = await db.execute_fetchall(
                "SELECT name, id FROM folders WHERE account_id = ?", (account_id,)
            )
            await self._put_states(db, account_id, None, None, account_state)
        return {r[0]: r[1] for r in rows}

    async def folder_state(self, folder_id: int) -> dict[str, Any]:
        """The backend's sync state of the folder, ``{}`` before the first sync."""
        rows = await self._read("SELECT state FROM folders WHERE id = ?", (folder_id,))
        if not rows:
            raise NotFound(f"no folder with id {folder_id}")
        state = json.loads(rows[0][0])
        return state if isinstance(state, dict) else {}

    async def account_state(self, account_id: int) -> dict[str, Any]:
        """The backend's sync state of the whole account, ``{}`` before the first sync."""
        rows = await self._read(
            "SELECT state FROM account_state WHERE account_id = ?", (account_id,)
        )
        state = json.loads(rows[0][0]) if rows else {}
        return state if isinstance(state, dict) else {}

    async def account_state_setdefault(self, account_id: int, key: str, value: Any) -> Any:
        """Sets ``key`` of the account's sync state unless it is there; returns the value
        it has then. One transaction: the sender and the sync worker may both want a
        DeviceId for an EAS account, and the first one's stays."""
        async with self._tx() as db:
            state = await self._account_state_in(db, account_id)
            if key in state:
                return state[key]
            state[key] = value
            await self._put_states(db, account_id, None, None, state)
            return value

    async def account_state_update(self, account_id: int, values: Mapping[str, Any]) -> None:
        """Sets ``values``' keys of the account's sync state, keeping the others; one
        transaction (the EAS sender writes back the PolicyKey it provisioned)."""
        async with self._tx() as db:
            state = await self._account_state_in(db, account_id)
            state.update(values)
            await self._put_states(db, account_id, None, None, state)

    @staticmethod
    async def _account_state_in(db: aiosqlite.Connection, account_id: int) -> dict[str, Any]:
        """The account's sync state, read in the transaction ``db``; ``{}`` when none."""
        rows = list(
            await db.execute_fetchall(
                "SELECT state FROM account_state WHERE account_id = ?", (account_id,)
            )
        )
        state = json.loads(rows[0][0]) if rows else {}
        return state if isinstance(state, dict) else {}
