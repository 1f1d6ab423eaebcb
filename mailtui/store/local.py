"""The folders and ops of a local account, kept in the store only.

A local account's server keeps no folders, flags or moves of its own
(``Capabilities.local``: POP3): it lists its INBOX, and every other folder of the
account lives here. Its ops are not sent anywhere; the sync worker completes them here
(``mailtui/sync/local_ops.py``), each in one transaction with its ``op_done``:

- SET_FLAGS, MOVE (the message keeps its remote id), DELETE (the hidden row goes for
  good: the one place where a local account's message leaves the store at the user's
  request), and the inverse ops of an undo, which are MOVE and SET_FLAGS ops;
- COPY and the APPEND of a sent message: a new row with a local remote id
  (``local:`` + a random token) and the bytes as its body, so it reads, searches and
  exports like any other; the APPEND of a draft copy gives its row such an id.

Folders: the standard ones (``LOCAL_FOLDERS``: Sent, Drafts, Trash, Archive, Junk with
their roles) are made once per account, and the user's own are created, renamed and
deleted here; a folder's messages go to Trash when it is deleted, never lost.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Final

import aiosqlite

from mailtui.errors import NotFound
from mailtui.models import FolderRole, NewMessage, OpResult
from mailtui.store.db import IN_FLIGHT, LIVE, PENDING, Database, scalar

#: The folders every local account has, by role, with the name each gets when it is
#: made (a folder of that name without a role takes the role instead).
LOCAL_FOLDERS: Final = (
    (FolderRole.SENT, "Sent"),
    (FolderRole.DRAFTS, "Drafts"),
    (FolderRole.TRASH, "Trash"),
    (FolderRole.ARCHIVE, "Archive"),
    (FolderRole.JUNK, "Junk"),
)
#: The start of the remote id of a row a local account's store made itself.
LOCAL_ID_PREFIX: Final = "local:"
#: Local folders are listed after what the server lists (``sync_folders`` numbers those
#: from 0); the pane orders by role and path anyway.
_LOCAL_POSITION: Final = 1000


def local_remote_id() -> str:
    """A remote id for a row the store made itself (a copy, a filed sent message): no
    server ever named it, and none ever will."""
    return LOCAL_ID_PREFIX + secrets.token_hex(8)


def _shape(path: str) -> tuple[str, int]:
    """(display name, depth) of a ``/``-separated folder path."""
    parts = path.split("/")
    return parts[-1], len(parts) - 1


class LocalMail(Database):
    """Folders and ops of local accounts; a part of ``Store``."""

    if TYPE_CHECKING:
        # Methods of other parts of ``Store`` this part calls.

        async def _insert_added(
            self,
            db: aiosqlite.Connection,
            account_id: int,
            folder_id: int,
            added: list[NewMessage],
            durable: bool,
        ) -> list[int]: ...

        async def _finish_op(
            self, db: aiosqlite.Connection, op_id: int, result: OpResult
        ) -> None: ...

        async def _fail_moves_into(
            self, db: aiosqlite.Connection, folder_id: int, error: str
        ) -> None: ...

    # ------------------------------------------------------------------ folders

    async def ensure_local_folders(self, account_id: int) -> list[str]:
        """Give the account a folder for each role of ``LOCAL_FOLDERS`` it lacks: an
        existing folder of that name without a role takes the role, else the folder is
        made. Idempotent: a role the account has (whatever its folder is called now) is
        left alone. Returns the names of the folders made or given a role."""
        have = {
            r[0]
            for r in await self._read(
                "SELECT DISTINCT role FROM folders WHERE account_id = ?", (account_id,)
            )
        }
        if all(role.value in have for role, _ in LOCAL_FOLDERS):
            return []  # the usual case: no write transaction for nothing
        async with self._tx() as db:
            rows = list(
                await db.execute_fetchall(
                    "SELECT id, name, role FROM folders WHERE account_id = ?", (account_id,)
                )
            )
            roles = {r[2] for r in rows}
            by_name = {str(r[1]).casefold(): (r[0], r[2]) for r in rows}
            done: list[str] = []
            for role, name in LOCAL_FOLDERS:
                if role.value in roles:
                    continue
                same = by_name.get(name.casefold())
                if same is not None and same[1] == FolderRole.NONE.value:
                    await db.execute(
                        "UPDATE folders SET role = ? WHERE id = ?", (role.value, same[0])
                    )
                elif same is None:
                    await self._insert_folder(db, account_id, name, role)
                else:
                    continue  # the name is another role's folder: leave it be
                done.append(name)
        return done

    async def _insert_folder(
        self, db: aiosqlite.Connection, account_id: int, path: str, role: FolderRole
    ) -> None:
        display, depth = _shape(path)
        position = await scalar(
            db,
            "SELECT MAX(position) FROM folders WHERE account_id = ?",
            (account_id,),
        )
        await db.execute(
            "INSERT INTO folders (account_id, name, display_name, role, depth, selectable, "
            "position, kind, subscribed) VALUES (?, ?, ?, ?, ?, 1, ?, 'mail', 1)",
            (
                account_id,
                path,
                display,
                role.value,
                depth,
                max(int(position or 0) + 1, _LOCAL_POSITION),
            ),
        )

    async def _clash(self, db: aiosqlite.Connection, account_id: int, path: str) -> str | None:
        """The name of the account's folder that ``path`` would be (names compare without
        case: two folders differing only in case would be confusing), else None."""
        found = await scalar(
            db,
            "SELECT name FROM folders WHERE account_id = ? AND name = ? COLLATE NOCASE",
            (account_id, path),
        )
        return None if found is None else str(found)

    async def create_local_folder(self, account_id: int, path: str) -> str:
        """Make folder ``path`` (already checked: ``sync/local_ops.folder_path``).
        Raises ValueError when the account has a folder of that name."""
        async with self._tx() as db:
            clash = await self._clash(db, account_id, path)
            if clash is not None:
                raise ValueError(f"there is already a folder {clash}")
            await self._insert_folder(db, account_id, path, FolderRole.NONE)
        return path

    async def rename_local_folder(self, account_id: int, name: str, new_path: str) -> str:
        """Rename folder ``name`` and its sub-folders (``name/…``) to ``new_path``; a
        role stays with its folder. Raises NotFound, or ValueError when the new name
        is taken."""
        async with self._tx() as db:
            await self._local_folder(db, account_id, name)
            clash = await self._clash(db, account_id, new_path)
            if clash is not None and clash != name:
                raise ValueError(f"there is already a folder {clash}")
            if new_path.casefold().startswith(name.casefold() + "/"):
                raise ValueError("a folder cannot move into itself")
            rows = list(
                await db.execute_fetchall(
                    "SELECT id, name FROM folders WHERE account_id = ? "
                    "AND (name = ? OR substr(name, 1, ?) = ?)",
                    (account_id, name, len(name) + 1, name + "/"),
                )
            )
            # Two steps, so that no row ever holds a name another row still has.
            for fid, _ in rows:
                await db.execute(
                    "UPDATE folders SET name = ? WHERE id = ?", (f"\0renaming:{fid}", fid)
                )
            for fid, old in rows:
                path = new_path + str(old)[len(name) :]
                display, depth = _shape(path)
                await db.execute(
                    "UPDATE folders SET name = ?, display_name = ?, depth = ? WHERE id = ?",
                    (path, display, depth, fid),
                )
                # Live ops name the folder by name too (``folder_name``): keep them true.
                await db.execute(
                    f"UPDATE pending_ops SET folder_name = ? WHERE folder_id = ? "
                    f"AND state IN {LIVE}",
                    (path, fid),
                )
        return new_path

    async def delete_local_folder(self, account_id: int, name: str) -> int:
        """Delete folder ``name``; its messages go to the account's Trash first (the
        store holds the only copy: nothing goes for good without a delete there).
        Moves into it that are still pending are rolled back. Raises NotFound, or
        ValueError for a folder with a role or with sub-folders, or when there is no
        Trash to take its messages. Returns how many messages went to Trash."""
        async with self._tx() as db:
            folder_id, role = await self._local_folder(db, account_id, name)
            if role != FolderRole.NONE.value:
                raise ValueError(f"{name} is one of the account's standard folders and stays")
            child = await scalar(
                db,
                "SELECT name FROM folders WHERE account_id = ? AND substr(name, 1, ?) = ?",
                (account_id, len(name) + 1, name + "/"),
            )
            if child is not None:
                raise ValueError(f"{name} has sub-folders ({child}): delete those first")
            total = int(
                await scalar(db, "SELECT COUNT(*) FROM messages WHERE folder_id = ?", (folder_id,))
            )
            if total:
                trash = await scalar(
                    db,
                    "SELECT id FROM folders WHERE account_id = ? AND role = ? "
                    "ORDER BY position, id LIMIT 1",
                    (account_id, FolderRole.TRASH.value),
                )
                if trash is None:
                    raise ValueError("the account has no Trash to take the folder's messages")
                # The remote id goes along, unless Trash has a message under it already.
                await db.execute(
                    "UPDATE messages SET folder_id = ?, remote_id = CASE WHEN EXISTS ("
                    "SELECT 1 FROM messages t WHERE t.folder_id = ? "
                    "AND t.remote_id = messages.remote_id) "
                    "THEN ? || lower(hex(randomblob(8))) ELSE remote_id END "
                    "WHERE folder_id = ?",
                    (trash, trash, LOCAL_ID_PREFIX, folder_id),
                )
            await self._fail_moves_into(db, folder_id, "the target folder was deleted")
            await db.execute("DELETE FROM folders WHERE id = ?", (folder_id,))
        return total

    async def _local_folder(
        self, db: aiosqlite.Connection, account_id: int, name: str
    ) -> tuple[int, str]:
        rows = list(
            await db.execute_fetchall(
                "SELECT id, role FROM folders WHERE account_id = ? AND name = ?",
                (account_id, name),
            )
        )
        if not rows:
            raise NotFound(f"no folder {name}")
        return int(rows[0][0]), str(rows[0][1])

    # ------------------------------------------------------------------ ops

    async def complete_local_op(
        self,
        op_id: int,
        result: OpResult,
        new: NewMessage | None = None,
        folder_id: int | None = None,
        *,
        durable: bool = False,
    ) -> list[int]:
        """Complete one op of a local account in one transaction: ``new`` (a COPY's or
        a sent message's row, with its bytes) goes into ``folder_id``, then the op is
        done as after a server's OK (``_finish_op``: a MOVE's row gets ``result``'s
        remote id, a DELETE's hidden row is removed for good, a filed outbox item goes).
        ``durable``: fsync the new row's body before the commit. Returns the ids of the
        rows made (none when ``new`` was there already: the op is done once).

        A DELETE's row leaves the store for good in this transaction: what must remember
        that the server's message (the op's remote id) was deleted here belongs in it."""
        async with self._tx() as db:
            state = await scalar(db, "SELECT state FROM pending_ops WHERE id = ?", (op_id,))
            if state not in (PENDING, IN_FLIGHT):
                return []
            made: list[int] = []
            if new is None and folder_id is not None and result.new_remote_id is not None:
                # A moved message keeps its remote id, unless the target has a message
                # under it already (never taken for this one: it would be dropped).
                taken = await scalar(
                    db,
                    "SELECT 1 FROM messages WHERE folder_id = ? AND remote_id = ?",
                    (folder_id, result.new_remote_id),
                )
                if taken:
                    result = OpResult(new_remote_id=local_remote_id())
            if new is not None and folder_id is not None:
                account_id = await scalar(
                    db, "SELECT account_id FROM folders WHERE id = ?", (folder_id,)
                )
                if account_id is not None:
                    made = await self._insert_added(db, int(account_id), folder_id, [new], durable)
            await self._finish_op(db, op_id, result)
        return made
