"""The demo account's "server": a small SQLite file that behaves like an IMAP server.

``mailtui --demo`` syncs from it through the same worker, store and UI as a real account:
envelopes arrive in batches newest first, bodies older than the body window are fetched on
open, triage ops are applied here and confirmed, and a new message arrives every so often
(push, like IMAP IDLE). Its state survives restarts, so triage done in the demo stays done.

Server state (``server.sqlite`` in the demo directory)::

    messages(uid, folder, flags, date, raw, modseq)   uid is unique across folders
    tombstones(uid, folder, modseq)                   expunged messages, for incremental pulls
    meta(key, value)                                  modseq counter, arrivals so far

A folder's sync state is ``{"uidnext": int, "modseq": int}``, like UIDNEXT/HIGHESTMODSEQ.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from mailtui import mime
from mailtui.errors import OpRejected, TransientError
from mailtui.models import Flag, FolderBatch, NewMessage, OpKind, OpResult, PendingOp, RemoteFolder
from mailtui.protocols.demo.generate import FOLDERS, generate, new_arrival
from mailtui.sync.contract import Capabilities

BATCH = 500
BODY_WINDOW_DAYS = 30
DEFAULT_COUNT = 3000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages(
    uid INTEGER PRIMARY KEY AUTOINCREMENT, folder TEXT NOT NULL, flags INTEGER NOT NULL,
    date INTEGER NOT NULL, raw BLOB NOT NULL, modseq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS messages_folder ON messages(folder, uid);
CREATE TABLE IF NOT EXISTS tombstones(uid INTEGER, folder TEXT, modseq INTEGER);
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class DemoServer:
    """The server side; thread-safe, every call is short."""

    def __init__(self, path: Path, count: int = DEFAULT_COUNT) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.executescript(_SCHEMA)
        if self._meta("generated") == 0:
            self._populate(count)

    def _meta(self, key: str) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def _set_meta(self, key: str, value: int) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def _next_modseq(self) -> int:
        value = self._meta("modseq") + 1
        self._set_meta("modseq", value)
        return value

    def _populate(self, count: int) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO messages(folder, flags, date, raw, modseq) VALUES (?, ?, ?, ?, 1)",
                ((m.folder, int(m.flags), m.date, m.raw) for m in generate(count, time.time())),
            )
            self._set_meta("modseq", 1)
            self._set_meta("generated", 1)
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------------ reads

    def folder_status(self, folder: str) -> tuple[int, int]:
        """(uidnext, highest modseq) of the whole server."""
        with self._lock:
            row = self._db.execute("SELECT COALESCE(MAX(uid), 0) FROM messages").fetchone()
            tomb = self._db.execute("SELECT COALESCE(MAX(uid), 0) FROM tombstones").fetchone()
            return max(int(row[0]), int(tomb[0])) + 1, self._meta("modseq")

    def new_since(self, folder: str, uidnext: int, upto: int) -> list[tuple[int, int, int, bytes]]:
        with self._lock:
            return self._db.execute(
                "SELECT uid, flags, date, raw FROM messages "
                "WHERE folder = ? AND uid >= ? AND uid < ? ORDER BY uid DESC",
                (folder, uidnext, upto),
            ).fetchall()

    def changed_flags(self, folder: str, uidnext: int, modseq: int) -> list[tuple[int, int]]:
        with self._lock:
            return self._db.execute(
                "SELECT uid, flags FROM messages WHERE folder = ? AND uid < ? AND modseq > ?",
                (folder, uidnext, modseq),
            ).fetchall()

    def vanished(self, folder: str, uidnext: int, modseq: int) -> list[int]:
        with self._lock:
            rows = self._db.execute(
                "SELECT uid FROM tombstones WHERE folder = ? AND uid < ? AND modseq > ?",
                (folder, uidnext, modseq),
            ).fetchall()
        return [int(r[0]) for r in rows]

    def raw(self, uid: int) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT raw FROM messages WHERE uid = ?", (uid,)).fetchone()
        return bytes(row[0]) if row else None

    def folder_of(self, uid: int) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT folder FROM messages WHERE uid = ?", (uid,)).fetchone()
        return str(row[0]) if row else None

    # ------------------------------------------------------------------ writes

    def set_flags(self, uid: int, add: int, remove: int) -> bool:
        with self._lock:
            modseq = self._next_modseq()
            cur = self._db.execute(
                "UPDATE messages SET flags = (flags | ?) & ~?, modseq = ? WHERE uid = ?",
                (add, remove, modseq, uid),
            )
            return cur.rowcount == 1

    def move(self, uid: int, to_folder: str, keep: bool) -> int | None:
        """Moves (or copies, with ``keep``) a message; returns its new uid."""
        with self._lock:
            row = self._db.execute(
                "SELECT folder, flags, date, raw FROM messages WHERE uid = ?", (uid,)
            ).fetchone()
            if row is None:
                return None
            self._db.execute("BEGIN")
            modseq = self._next_modseq()
            cur = self._db.execute(
                "INSERT INTO messages(folder, flags, date, raw, modseq) VALUES (?, ?, ?, ?, ?)",
                (to_folder, row[1], row[2], row[3], modseq),
            )
            if not keep:
                self._expunge(uid, str(row[0]), modseq)
            self._db.execute("COMMIT")
            return int(cur.lastrowid or 0)

    def expunge(self, uid: int) -> bool:
        with self._lock:
            row = self._db.execute("SELECT folder FROM messages WHERE uid = ?", (uid,)).fetchone()
            if row is None:
                return False
            self._db.execute("BEGIN")
            self._expunge(uid, str(row[0]), self._next_modseq())
            self._db.execute("COMMIT")
            return True

    def _expunge(self, uid: int, folder: str, modseq: int) -> None:
        self._db.execute("DELETE FROM messages WHERE uid = ?", (uid,))
        self._db.execute(
            "INSERT INTO tombstones(uid, folder, modseq) VALUES (?, ?, ?)", (uid, folder, modseq)
        )

    def deliver(self, folder: str, raw: bytes, date: int, flags: int = 0) -> int:
        """Adds a message (new mail, or a copy the client files: sent mail, drafts)."""
        with self._lock:
            self._db.execute("BEGIN")
            modseq = self._next_modseq()
            cur = self._db.execute(
                "INSERT INTO messages(folder, flags, date, raw, modseq) VALUES (?, ?, ?, ?, ?)",
                (folder, flags, date, raw, modseq),
            )
            self._set_meta("arrivals", self._meta("arrivals") + 1)
            self._db.execute("COMMIT")
            return int(cur.lastrowid or 0)

    def arrivals(self) -> int:
        with self._lock:
            return self._meta("arrivals")


def _new_message(uid: int, flags: int, date: int, raw: bytes, with_body: bool) -> NewMessage:
    envelope = mime.parse_envelope(raw)
    if envelope.date == 0:
        envelope.date = date
    return NewMessage(
        remote_id=str(uid),
        envelope=envelope,
        flags=Flag(flags),
        raw=raw if with_body else None,
        body_text=mime.body_text(raw) if with_body else None,
    )


class DemoBackend:
    """A ``Backend`` (see ``mailtui.sync.contract``) over a ``DemoServer``."""

    capabilities = Capabilities(folders=True, server_move=True, flags=True, push=True)

    def __init__(
        self, server: Callable[[], DemoServer], arrival_interval: float = 90.0
    ) -> None:
        self._get_server = server
        self.arrival_interval = arrival_interval
        self._connected = False
        self._next_arrival = time.monotonic() + arrival_interval

    async def connect(self) -> None:
        # The first connect generates the demo mailbox (about a second): in a thread, so
        # the UI has painted long before and stays responsive.
        self.server = await asyncio.to_thread(self._get_server)
        self._connected = True

    async def close(self) -> None:
        self._connected = False

    def _check(self) -> None:
        if not self._connected:
            raise TransientError("not connected")

    async def list_folders(self) -> list[RemoteFolder]:
        self._check()
        return [
            RemoteFolder(
                name=name,
                display_name=name.rsplit("/", 1)[-1],
                role=role,
                depth=name.count("/"),
            )
            for name, role in FOLDERS
        ]

    def pull(self, folder: RemoteFolder, state: Mapping[str, Any]) -> AsyncIterator[FolderBatch]:
        return self._pull(folder.name, int(state.get("uidnext", 1)), int(state.get("modseq", 0)))

    async def _pull(self, folder: str, uidnext: int, modseq: int) -> AsyncIterator[FolderBatch]:
        self._check()
        new_uidnext, new_modseq = await asyncio.to_thread(self.server.folder_status, folder)
        rows = await asyncio.to_thread(self.server.new_since, folder, uidnext, new_uidnext)
        horizon = time.time() - BODY_WINDOW_DAYS * 86400
        total = len(rows)
        done = 0
        for chunk in _chunks(rows, BATCH):
            added = await asyncio.to_thread(
                lambda c=chunk: [  # type: ignore[misc]
                    _new_message(uid, flags, date, raw, date >= horizon)
                    for uid, flags, date, raw in c
                ]
            )
            done += len(chunk)
            yield FolderBatch(folder=folder, added=added, progress=(done, total))
            self._check()
        flags = await asyncio.to_thread(self.server.changed_flags, folder, uidnext, modseq)
        gone = await asyncio.to_thread(self.server.vanished, folder, uidnext, modseq)
        yield FolderBatch(
            folder=folder,
            flags=[(str(uid), Flag(f)) for uid, f in flags],
            removed=[str(uid) for uid in gone],
            state={"uidnext": new_uidnext, "modseq": new_modseq},
            progress=(total, total),
            complete=True,
        )

    async def fetch_body(self, folder: str, remote_id: str) -> bytes:
        self._check()
        raw = await asyncio.to_thread(self.server.raw, int(remote_id))
        if raw is None:
            raise OpRejected("the message is no longer on the server")
        return raw

    async def fetch_bodies(
        self, folder: str, remote_ids: Sequence[str]
    ) -> AsyncIterator[tuple[str, bytes]]:
        for rid in remote_ids:
            self._check()
            raw = await asyncio.to_thread(self.server.raw, int(rid))
            if raw is not None:
                yield rid, raw

    async def apply(self, op: PendingOp, target_folder: str | None) -> OpResult:
        self._check()
        if op.kind is OpKind.APPEND:  # files a copy (sent mail, drafts): no message yet
            return await self._append(op, target_folder)
        if op.remote_id is None:
            raise OpRejected("the message was never on the server")
        uid = int(op.remote_id)
        if op.kind is OpKind.SET_FLAGS:
            add, remove = int(op.payload.get("add", 0)), int(op.payload.get("remove", 0))
            if not await asyncio.to_thread(self.server.set_flags, uid, add, remove):
                raise OpRejected("the message is no longer on the server")
            return OpResult()
        if op.kind in (OpKind.MOVE, OpKind.COPY):
            if target_folder is None:
                raise OpRejected("no target folder")
            new_uid = await asyncio.to_thread(
                self.server.move, uid, target_folder, op.kind is OpKind.COPY
            )
            if new_uid is None:
                raise OpRejected("the message is no longer on the server")
            return OpResult(new_remote_id=str(new_uid))
        if op.kind is OpKind.DELETE:
            await asyncio.to_thread(self.server.expunge, uid)  # gone already is fine
            return OpResult()
        raise OpRejected(f"the demo server does not support {op.kind.value}")

    async def _append(self, op: PendingOp, target_folder: str | None) -> OpResult:
        raw = op.payload.get("raw")
        if target_folder is None or not isinstance(raw, bytes):
            raise OpRejected("nothing to file")
        uid = await asyncio.to_thread(
            self.server.deliver, target_folder, raw, int(time.time()), int(Flag.SEEN)
        )
        return OpResult(new_remote_id=str(uid))

    async def wait_for_changes(self, timeout: float) -> set[str]:
        self._check()
        delay = self._next_arrival - time.monotonic()
        if delay > timeout:
            await asyncio.sleep(timeout)
            return set()
        await asyncio.sleep(max(0.0, delay))
        self._next_arrival = time.monotonic() + self.arrival_interval
        now = time.time()
        n = await asyncio.to_thread(self.server.arrivals)
        raw = new_arrival(now, n + 1)
        await asyncio.to_thread(self.server.deliver, "INBOX", raw, int(now))
        return {"INBOX"}


def _chunks(rows: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
