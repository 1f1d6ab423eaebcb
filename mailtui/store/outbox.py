"""Mail to send, and copies of drafts in the Drafts folder.

Owns the ``outbox`` table. An item is committed before any network I/O and leaves only
once sent and filed (``outbox_sent`` queues the APPEND to Sent; ``op_done`` of that op
removes the item). A draft copy is a local row of the Drafts folder with an APPEND op.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import aiosqlite

from mailtui.errors import NotFound, StoreError
from mailtui.models import (
    Envelope,
    Flag,
    FolderRole,
    NewMessage,
    OpKind,
    Origin,
    OutboxItem,
    OutboxState,
    PendingOp,
)
from mailtui.store.db import PENDING, Database, placeholders, scalar, timestamp
from mailtui.store.rows import origin_from_json, origin_to_json, outbox_item_from_row

_VISIBLE = (
    "SELECT m.id, m.folder_id, f.name, m.remote_id, m.flags, m.message_id "
    "FROM messages m JOIN folders f ON f.id = m.folder_id WHERE m.account_id = ? AND "
)


async def _visible_message(
    db: aiosqlite.Connection, account_id: int, *, by_id: int | None = None, header_id: str = ""
) -> tuple[int, int, str, str | None, int, str] | None:
    """(id, folder_id, folder name, remote_id, flags, Message-ID) of the account's message
    with store id ``by_id``, else the first with Message-ID ``header_id``, that is still
    in a folder (not deleted)."""
    args: tuple[int, int | str]
    if by_id is not None:
        sql, args = _VISIBLE + "m.id = ?", (account_id, by_id)
    else:
        sql, args = _VISIBLE + "m.message_id = ? ORDER BY m.id LIMIT 1", (account_id, header_id)
    rows = list(await db.execute_fetchall(sql, args))
    if not rows:
        return None
    r = rows[0]
    return int(r[0]), int(r[1]), str(r[2]), r[3], int(r[4]), str(r[5])


async def _origin_row(
    db: aiosqlite.Connection, account_id: int, origin: Origin
) -> tuple[int, int, str, str | None, int, str] | None:
    """The message ``origin`` names: by its store id while that row still holds the same
    Message-ID, else by Message-ID in the account (it moved)."""
    found = None
    if origin.message_id is not None:
        found = await _visible_message(db, account_id, by_id=origin.message_id)
        if found is not None and origin.header_id and found[5] not in ("", origin.header_id):
            found = None  # the id names another message now
    if found is None and origin.header_id:
        found = await _visible_message(db, account_id, header_id=origin.header_id)
    return found


class Outbox(Database):
    """The outbox and draft copies; a part of ``Store``."""

    if TYPE_CHECKING:
        # Methods of other parts of ``Store`` this part calls.

        async def _add_ops(
            self, db: aiosqlite.Connection, ops: list[tuple[Any, ...]]
        ) -> list[int]: ...

        async def _forget(self, db: aiosqlite.Connection, message_ids: Sequence[int]) -> None: ...

        async def _insert_added(
            self,
            db: aiosqlite.Connection,
            account_id: int,
            folder_id: int,
            added: list[NewMessage],
            durable: bool,
        ) -> list[int]: ...

        async def _raw_of(
            self, message_id: int, blob: Any, size: int | None, pack: int | None, pos: int | None
        ) -> bytes | None: ...

    async def outbox_add(
        self,
        account_id: int,
        raw: bytes,
        mail_from: str,
        recipients: Sequence[str],
        origin: Origin | None = None,
    ) -> int:
        """Queue a message to send; committed before any network I/O. Returns its id.
        ``origin``: the message it replies to or forwards (flagged once it is sent)."""
        async with self._tx() as db:
            cur = await db.execute(
                "INSERT INTO outbox (account_id, raw, mail_from, recipients, state, created, "
                "origin) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    account_id,
                    raw,
                    mail_from,
                    json.dumps(list(recipients)),
                    OutboxState.QUEUED.value,
                    timestamp(),
                    origin_to_json(origin),
                ),
            )
            item_id = cur.lastrowid
        assert item_id is not None
        return item_id

    async def outbox(self, account_id: int) -> list[OutboxItem]:
        """The account's outbox items in every state, oldest first.

        The store never changes an item's state on its own: an item found ``sending`` at
        start-up was interrupted by a crash, and whether to resend is the worker's call.
        """
        rows = await self._read(
            "SELECT id, account_id, raw, mail_from, recipients, state, attempts, last_error, "
            "created, origin FROM outbox WHERE account_id = ? ORDER BY id",
            (account_id,),
        )
        return [outbox_item_from_row(r) for r in rows]

    async def outbox_set_state(self, item_id: int, state: OutboxState, error: str = "") -> None:
        """Set an item's state and ``last_error``; entering ``sending`` counts an attempt.

        Raises:
            NotFound: no such item.
        """
        async with self._tx() as db:
            cur = await db.execute(
                "UPDATE outbox SET state = ?, last_error = ?, attempts = attempts + ? WHERE id = ?",
                (str(state), error, 1 if state == OutboxState.SENDING else 0, item_id),
            )
            if cur.rowcount == 0:
                raise NotFound(f"no outbox item with id {item_id}")

    async def outbox_transition(
        self,
        item_id: int,
        from_states: Iterable[OutboxState],
        to: OutboxState,
        error: str = "",
    ) -> bool:
        """Compare-and-set: move the item to ``to`` (with ``last_error``) only if it is in
        one of ``from_states``. Entering ``sending`` counts an attempt.

        Returns:
            False (and nothing changed) when the item is in another state.

        Raises:
            NotFound: no such item (discarded meanwhile).
        """
        states = [str(s) for s in from_states]
        async with self._tx() as db:
            cur = await db.execute(
                "UPDATE outbox SET state = ?, last_error = ?, attempts = attempts + ? "
                f"WHERE id = ? AND state IN ({placeholders(len(states))})",
                (str(to), error, 1 if to == OutboxState.SENDING else 0, item_id, *states),
            )
            if cur.rowcount:
                return True
            if await scalar(db, "SELECT 1 FROM outbox WHERE id = ?", (item_id,)) is None:
                raise NotFound(f"no outbox item with id {item_id}")
            return False

    async def outbox_sent(self, item_id: int, sent_folder_id: int | None) -> int | None:
        """The server accepted the item for every recipient: state ``sent`` and, in the
        same transaction, an APPEND op (payload ``{"folder", "outbox_id"}``) that files
        it in ``sent_folder_id``. ``op_done`` of that op removes the item; a permanent
        ``op_failed`` leaves it ``sent`` with the reason in ``last_error``.

        Idempotent: an item that already has an APPEND op gets no second one. With
        ``sent_folder_id`` None (no Sent folder known yet) the item waits in ``sent``;
        call again once the folder is known.

        On the way into ``sent``, the message the item answers (``origin``) gets
        \\Answered or $Forwarded, locally and as a SET_FLAGS op, in the same
        transaction: a crash cannot leave a sent reply with an unmarked original.

        Returns:
            The APPEND op's id, or None.

        Raises:
            NotFound: no such item, or no such folder.
        """
        async with self._tx() as db:
            rows = list(
                await db.execute_fetchall(
                    "SELECT account_id, state, origin FROM outbox WHERE id = ?", (item_id,)
                )
            )
            if not rows:
                raise NotFound(f"no outbox item with id {item_id}")
            account_id, state, origin = rows[0]
            if state != OutboxState.SENT.value:
                await self._flag_origin(db, account_id, origin_from_json(origin))
            await db.execute(
                "UPDATE outbox SET state = ?, last_error = '' WHERE id = ?",
                (OutboxState.SENT.value, item_id),
            )
            existing = await scalar(
                db,
                "SELECT id FROM pending_ops WHERE kind = ? "
                "AND json_extract(payload, '$.outbox_id') = ? ORDER BY id DESC LIMIT 1",
                (OpKind.APPEND.value, item_id),
            )
            if existing is not None or sent_folder_id is None:
                return int(existing) if existing is not None else None
            folder = list(
                await db.execute_fetchall(
                    "SELECT name, account_id FROM folders WHERE id = ?", (sent_folder_id,)
                )
            )
            if not folder:
                raise NotFound(f"no folder with id {sent_folder_id}")
            if folder[0][1] != account_id:
                raise ValueError("the Sent folder belongs to another account")
            payload = {"folder": sent_folder_id, "outbox_id": item_id}
            [op_id] = await self._add_ops(
                db,
                [
                    (
                        account_id,
                        OpKind.APPEND,
                        None,
                        sent_folder_id,
                        folder[0][0],
                        None,
                        payload,
                        {},
                    )
                ],
            )
            return op_id

    async def outbox_original(
        self, account_id: int, origin: Origin | None
    ) -> tuple[str, str] | None:
        """(folder server name, remote id) of the message an outbox item answers, found
        as ``_flag_origin`` finds it; None when it is gone or not on the server yet."""
        if origin is None:
            return None
        async with self._rlock:
            try:
                found = await _origin_row(self._r, account_id, origin)
            except sqlite3.Error as e:
                raise StoreError(f"cache database error: {e}") from e
        if found is None or not found[3]:
            return None
        return found[2], str(found[3])

    async def _flag_origin(
        self, db: aiosqlite.Connection, account_id: int, origin: Origin | None
    ) -> None:
        """Set ``origin.flag`` on the answered message: by its store id while that row
        still holds the same Message-ID, else by Message-ID in the account (it moved)."""
        if origin is None:
            return
        found = await _origin_row(db, account_id, origin)
        if found is None:
            return  # deleted meanwhile: nothing to mark
        mid, fid, fname, rid, flags, _ = found
        new = flags | int(origin.flag)
        if new == flags:
            return
        await db.execute("UPDATE messages SET flags = ? WHERE id = ?", (new, mid))
        await self._add_ops(
            db,
            [
                (
                    account_id,
                    OpKind.SET_FLAGS,
                    mid,
                    fid,
                    fname,
                    rid,
                    {"add": int(origin.flag), "remove": 0},
                    {"added": new & ~flags, "removed": 0},
                )
            ],
        )

    async def sent_copies(self, account_id: int) -> str:
        """What the user chose for an account without a Sent folder: "" (not asked),
        "create" or "none" (keep no copies of sent mail)."""
        rows = await self._read("SELECT sent_copies FROM accounts WHERE id = ?", (account_id,))
        return str(rows[0][0]) if rows else ""

    async def set_sent_copies(self, account_id: int, choice: str) -> None:
        if choice not in ("", "create", "none"):
            raise ValueError(f"not a choice for sent copies: {choice!r}")
        async with self._tx() as db:
            await db.execute(
                "UPDATE accounts SET sent_copies = ? WHERE id = ?", (choice, account_id)
            )

    async def append_source(self, op: PendingOp) -> bytes | None:
        """The bytes an APPEND op files: the outbox item's (``outbox_id``), else the
        message's cached body. None when they are gone (the item was discarded)."""
        outbox_id = op.payload.get("outbox_id")
        if outbox_id is not None:
            rows = await self._read("SELECT raw FROM outbox WHERE id = ?", (int(outbox_id),))
        elif op.message_id is not None:
            rows = await self._read(
                "SELECT raw, size, pack, pos FROM bodies WHERE message_id = ?", (op.message_id,)
            )
            return await self._raw_of(op.message_id, *rows[0]) if rows else None
        else:
            return None
        return bytes(rows[0][0]) if rows and rows[0][0] is not None else None

    async def outbox_remove(self, item_id: int) -> None:
        """Drop an item (sent and filed, or discarded). Removing a missing item is fine."""
        async with self._tx() as db:
            await db.execute("DELETE FROM outbox WHERE id = ?", (item_id,))

    async def save_draft_copy(
        self,
        account_id: int,
        raw: bytes,
        envelope: Envelope,
        body_text: str,
        replaces: int | None = None,
    ) -> int | None:
        """Keep a draft in the account's Drafts folder: a local row (shown at once, body
        cached) and an APPEND op that files it on the server. ``replaces``, an earlier
        copy of the same draft, goes away in the same transaction (see
        ``discard_draft_copy``). Returns the new message id, or None when the account has
        no Drafts folder (yet).
        """
        async with self._tx() as db:
            drafts = await scalar(
                db,
                "SELECT id FROM folders WHERE account_id = ? AND role = ? "
                "ORDER BY position, id LIMIT 1",
                (account_id, FolderRole.DRAFTS.value),
            )
            if drafts is None:
                return None
            if replaces is not None:
                await self._discard_draft(db, replaces)
            # A unique stand-in remote id for the insert; the row has no server identity
            # until the APPEND is confirmed (op_done adopts the server's UID).
            placeholder = f"local-draft:{secrets.token_hex(8)}"
            new = NewMessage(placeholder, envelope, Flag.SEEN | Flag.DRAFT, raw, body_text)
            # Durable: until the APPEND is done, this file is the draft's only copy.
            (message_id,) = await self._insert_added(
                db, account_id, int(drafts), [new], durable=True
            )
            await db.execute("UPDATE messages SET remote_id = NULL WHERE id = ?", (message_id,))
            name = await scalar(db, "SELECT name FROM folders WHERE id = ?", (drafts,))
            await self._add_ops(
                db,
                [
                    (
                        account_id,
                        OpKind.APPEND,
                        message_id,
                        drafts,
                        name,
                        None,
                        {"folder": drafts},
                        {},
                    )
                ],
            )
            return int(message_id)

    async def discard_draft_copy(self, message_id: int) -> None:
        """A draft was sent or thrown away: its copy leaves the Drafts folder for good
        (never through Trash). One the server never got is simply dropped."""
        async with self._tx() as db:
            await self._discard_draft(db, message_id)

    async def _discard_draft(self, db: aiosqlite.Connection, message_id: int) -> None:
        rows = list(
            await db.execute_fetchall(
                "SELECT account_id, folder_id, remote_id FROM messages WHERE id = ?",
                (message_id,),
            )
        )
        if not rows or rows[0][1] is None:
            return
        account_id, folder_id, remote_id = rows[0]
        unsent = list(
            await db.execute_fetchall(
                "SELECT id FROM pending_ops WHERE message_id = ? AND kind = ? AND state = ?",
                (message_id, OpKind.APPEND.value, PENDING),
            )
        )
        if remote_id is None and unsent:
            # Never reached the server: drop the op and the row, nothing to expunge.
            await db.executemany("DELETE FROM pending_ops WHERE id = ?", unsent)
            await self._forget(db, [message_id])
            return
        name = await scalar(db, "SELECT name FROM folders WHERE id = ?", (folder_id,))
        await db.execute("UPDATE messages SET folder_id = NULL WHERE id = ?", (message_id,))
        # With the APPEND in flight the remote id is still unknown: op_done adopts it
        # into this op too (``_adopt`` fills later ops of the message).
        await self._add_ops(
            db,
            [
                (
                    account_id,
                    OpKind.DELETE,
                    message_id,
                    folder_id,
                    name,
                    remote_id,
                    {},
                    {"from_folder": folder_id},
                )
            ],
        )
