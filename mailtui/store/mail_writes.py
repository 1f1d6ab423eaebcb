"""The local cache: one SQLite file (WAL) per user, shared by the UI and the sync workers.

Concurrency model: one *writer* connection, serialized by an ``asyncio.Lock``, where every
public write method is exactly one ``BEGIN IMMEDIATE`` transaction; and one *reader*
connection for what the UI draws. In WAL mode a reader sees the last committed state and
never waits for the writer, so a long sync batch cannot freeze the screen.

Pending ops follow this life cycle (``state`` column)::

    pending ──claim_ops──▶ in_flight ──op_done──▶ done
       ▲                      │ └──op_failed(permanent)──▶ failed (local change rolled back)
       └──op_failed(transient)┘
    pending ──undo_ops──▶ (deleted, local change reversed)

``in_flight`` exists so that an undo can never race the worker: once the worker has
claimed an op it may already be on the wire, and ``undo_ops`` refuses it. ``in_flight``
ops found at open (a crash mid-send) go back to ``pending``: ops are applied at least once,
and every op kind is safe to repeat or fails cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import sqlite3
import stat
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Final, TypeVar

import aiosqlite

from mailtui.errors import NotFound, StoreError, StoreVersionError
from mailtui.models import (
    Account,
    AccountKind,
    Envelope,
    Flag,
    Folder,
    FolderBatch,
    FolderRole,
    MessageDetail,
    MessageRow,
    NewMessage,
    OpKind,
    OpResult,
    OpState,
    OutboxItem,
    OutboxState,
    PendingOp,
    RawMessage,
    RemoteFolder,
)
from mailtui.store import schema
from mailtui.store.codec import (
    ROW_COLUMNS,
    decode_addresses,
    encode_addresses,
    encode_references,
    fts_query,
    row_from_db,
    sender_of,
    subject_key,
    thread_candidates,
)
from mailtui.store.contacts import ContactQueries
from mailtui.store.listing import ListingQueries, nearer_end, read_snapshot
from mailtui.store.packs import HEADER_SIZE, PACK_TARGET, PackBusy, Packs

Row = Sequence[Any]
#: Where a cached body is: (message id, size, pack, pos); pack None: a schema-3 file.
BodyRef = tuple[int, int, int | None, int | None]
T = TypeVar("T")

log = logging.getLogger(__name__)

#: Op state between ``claim_ops`` and ``op_done``/``op_failed``; store-internal, so it is
#: not part of ``models.OpState``.
IN_FLIGHT: Final = "in_flight"
_PENDING: Final = OpState.PENDING.value
_DONE: Final = OpState.DONE.value
_FAILED: Final = OpState.FAILED.value
_LIVE: Final = f"('{_PENDING}', '{IN_FLIGHT}')"
_RELOCATING: Final = f"('{OpKind.MOVE.value}', '{OpKind.DELETE.value}')"

#: Host parameters per ``IN (…)`` list; far below SQLite's limit, large enough that a
#: batch of 1000 costs two queries.
_CHUNK: Final = 500
#: A reply without usable headers joins the latest thread of the same subject from at
#: most this long (seconds) before it.
SUBJECT_THREAD_WINDOW: Final = 30 * 86400
#: At most this many distinct subjects are looked up per batch (each is one FTS query).
_SUBJECT_LOOKUPS: Final = 50
_BUSY_TIMEOUT_MS: Final = 10_000
#: Finished ops are kept this long (seconds) for the record, then pruned at open.
_KEEP_FINISHED_OPS: Final = 30 * 86400
#: The writer's page cache (bodies do not pass through it: they are in packs, see
#: packs.py; a 32 MB cache measured no faster than 8 MB, docs/decisions.md).
_WRITER_CACHE_KIB: Final = 8 * 1024
#: Ids of unlinked body files forgotten per statement (see ``Store._bury``).
_BURY_BATCH: Final = 5000
_READER_CACHE_KIB: Final = 16 * 1024
#: Records ``compact_bodies`` moves per transaction: at most this many, about this much.
_COMPACT_ROWS: Final = 2000
_COMPACT_BYTES: Final = 16 << 20

_INSERT_MESSAGE: Final = """
    INSERT INTO messages (id, account_id, folder_id, remote_id, date, sender, subject,
        from_addrs, to_addrs, cc_addrs, message_id, in_reply_to, refs, size, flags,
        thread_id, has_attachments, preview)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_INSERT_OP: Final = """
    INSERT INTO pending_ops (id, account_id, kind, message_id, folder_id, folder_name,
        remote_id, payload, undo, state, created, updated)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)
"""
_OP_COLUMNS: Final = (
    "id, account_id, kind, message_id, folder_id, folder_name, remote_id, payload, "
    "attempts, last_error"
)
_FOLDER_COLUMNS: Final = "id, account_id, name, display_name, role, total, unread, depth"


def _marks(n: int) -> str:
    return ",".join("?" * n)


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterable[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def merged_ids_sql(folders: int, order: str) -> str:
    """Ids of ``folders`` folders (``?`` each, then ``LIMIT ? OFFSET ?``) in (date, id)
    ``order``: one covering-index walk per folder, merged by SQLite without a sort."""
    arms = " UNION ALL ".join(
        "SELECT date, id FROM messages INDEXED BY messages_list WHERE folder_id = ?"
        for _ in range(folders)
    )
    return f"SELECT id FROM ({arms} ORDER BY date {order}, id {order} LIMIT ? OFFSET ?)"


def _now() -> int:
    return int(time.time())


def _folder(r: Row) -> Folder:
    return Folder(
        id=r[0],
        account_id=r[1],
        name=r[2],
        display_name=r[3],
        role=FolderRole(r[4]) if r[4] in FolderRole._value2member_map_ else FolderRole.NONE,
        total=r[5],
        unread=r[6],
        depth=r[7],
    )


def _op(r: Row) -> PendingOp:
    return PendingOp(
        id=r[0],
        account_id=r[1],
        kind=OpKind(r[2]),
        message_id=r[3],
        folder_id=r[4],
        folder_name=r[5],
        remote_id=r[6],
        payload=json.loads(r[7]),
        attempts=r[8],
        last_error=r[9],
    )


def _outbox_item(r: Row) -> OutboxItem:
    return OutboxItem(
        id=r[0],
        account_id=r[1],
        raw=bytes(r[2]),
        mail_from=r[3],
        recipients=tuple(json.loads(r[4])),
        state=OutboxState(r[5]),
        attempts=r[6],
        last_error=r[7],
        created=r[8],
    )


# --- opening ------------------------------------------------------------------------


def bodies_dir(path: Path) -> Path:
    """Where the body packs of the database at ``path`` live (beside it, like -wal)."""
    return path.with_name(path.name + "-bodies")


def _prepare_file(path: Path) -> None:
    """Create the parent directory (0700) and the database file (0600) if missing.

    The file is created here rather than by SQLite so that it never exists, even for an
    instant, with the umask's looser mode: the cache holds people's mail.
    """
    try:
        parent = path.parent
        if not parent.exists():
            parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(parent, 0o700)  # mkdir's mode is filtered through the umask
        if path.is_dir():
            raise StoreError(f"{path} is a directory, not a mailtui database")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            os.close(fd)
        # Tighten an existing file too; SQLite gives -wal/-shm the mode of the main file.
        for f in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            try:
                if stat.S_IMODE(f.stat().st_mode) != 0o600:
                    os.chmod(f, 0o600)
            except FileNotFoundError:
                pass
    except OSError as e:
        raise StoreError(f"cannot create {path}: {e.strerror or e}") from e


def _open_error(path: Path, e: sqlite3.Error) -> StoreError:
    name = getattr(e, "sqlite_errorname", "")
    if name in ("SQLITE_NOTADB", "SQLITE_CORRUPT") or "not a database" in str(e):
        return StoreError(
            f"{path} is not a mailtui database (not SQLite, or damaged); "
            "move it away and mailtui will build a fresh cache"
        )
    return StoreError(f"cannot open {path}: {e}")


async def _connect(path: Path) -> aiosqlite.Connection:
    try:
        # isolation_level=None: the store issues BEGIN/COMMIT itself.
        return await aiosqlite.connect(path, isolation_level=None)
    except sqlite3.Error as e:
        raise _open_error(path, e) from e


async def _scalar(db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> Any:
    rows = list(await db.execute_fetchall(sql, params))
    return rows[0][0] if rows else None


async def _configure(db: aiosqlite.Connection, path: Path, *, writer: bool) -> None:
    try:
        await db.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        if writer:
            # The first statement that reads the file: a non-database fails here.
            await db.execute("PRAGMA journal_mode = WAL")
            await db.execute("PRAGMA synchronous = NORMAL")
            await db.execute("PRAGMA foreign_keys = ON")
            await db.execute(f"PRAGMA cache_size = -{_WRITER_CACHE_KIB}")
        else:
            await db.execute("PRAGMA query_only = ON")
            await db.execute(f"PRAGMA cache_size = -{_READER_CACHE_KIB}")
        await db.execute("PRAGMA temp_store = MEMORY")
        await _scalar(db, "SELECT count(*) FROM sqlite_master")
    except sqlite3.Error as e:
        raise _open_error(path, e) from e


async def _migrate(db: aiosqlite.Connection, path: Path) -> None:
    """Bring the schema up to date, or refuse a database this code must not touch."""
    migrations = schema.MIGRATIONS  # looked up at call time so tests can extend it
    known = len(migrations)
    foreign = StoreError(
        f"{path} is an SQLite database of some other program, not a mailtui cache; "
        "move it away or choose another path"
    )
    while True:
        try:
            version = int(await _scalar(db, "PRAGMA user_version"))
            app_id = int(await _scalar(db, "PRAGMA application_id"))
            tables = int(await _scalar(db, "SELECT count(*) FROM sqlite_master"))
        except sqlite3.Error as e:
            raise _open_error(path, e) from e
        if version > known:
            raise StoreVersionError(
                f"{path} was written by a newer mailtui (schema {version}, this one knows "
                f"{known}); upgrade mailtui or move the file away"
            )
        if (version == 0 and tables) or (version > 0 and app_id != schema.APPLICATION_ID):
            raise foreign
        if version == known:
            return
        try:
            await db.execute("BEGIN IMMEDIATE")
            try:
                # Another process may have migrated while this one waited for the lock.
                if int(await _scalar(db, "PRAGMA user_version")) == version:
                    for statement in migrations[version]:
                        await db.execute(statement)
                    await db.execute(f"PRAGMA user_version = {version + 1}")
                await db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    await db.execute("ROLLBACK")
                raise
        except sqlite3.Error as e:
            raise StoreError(f"cannot upgrade {path} to schema {version + 1}: {e}") from e


# --- the store ----------------------------------------------------------------------


class Store(ListingQueries, ContactQueries):
    """The cache database. Create with ``await Store.open(path)``; see docs/architecture.md.

    Every method is a coroutine. Writes are serialized and each is one transaction, so a
    crash leaves either all or nothing of a call. ``sqlite3`` errors surface as
    ``StoreError``; unknown folder or outbox ids as ``NotFound`` (a ``StoreError`` and a
    ``KeyError``).
    """

    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection):
        self.path = path
        self._w = writer
        self._r = reader
        self._wlock = asyncio.Lock()
        self._rlock = asyncio.Lock()
        self._closed = False
        self.bodies_dir = bodies_dir(path)
        self._packs = Packs(self.bodies_dir)
        #: Where the transaction in progress began appending (pack, end, whether it
        #: created that pack), to cut the pack back if it rolls back.
        self._appended: tuple[int, int, bool] | None = None
        #: Packs whose name has been fsynced into the directory (for durable bodies).
        self._named_packs: set[int] = set()

    # --- lifecycle ---------------------------------------------------------------------

    @classmethod
    async def open(cls, path: str | os.PathLike[str]) -> Store:
        """Open (creating or migrating) the database at ``path``.

        Raises:
            StoreVersionError: the file was written by a newer mailtui.
            StoreError: the file is not a mailtui database or cannot be opened.
        """
        p = Path(path).expanduser()
        _prepare_file(p)
        writer = await _connect(p)
        reader: aiosqlite.Connection | None = None
        try:
            await _configure(writer, p, writer=True)
            await _migrate(writer, p)
            reader = await _connect(p)
            await _configure(reader, p, writer=False)
        except BaseException:
            if reader is not None:
                await reader.close()
            await writer.close()
            raise
        store = cls(p, writer, reader)
        await store._recover()
        return store

    async def close(self) -> None:
        """Close both connections. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        async with self._wlock:
            # An optimisation hint only; closing must not fail because of it.
            with contextlib.suppress(sqlite3.Error):
                await self._w.execute("PRAGMA optimize")
            await self._w.close()
            self._packs.close()
        async with self._rlock:
            await self._r.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _recover(self) -> None:
        """Housekeeping at open: requeue ops a crash left in flight, prune old ones, and
        unlink the schema-3 body files of rows deleted before a crash (``_tx`` does the
        rest)."""
        async with self._tx() as db:
            await db.execute(
                f"UPDATE pending_ops SET state = '{_PENDING}' WHERE state = '{IN_FLIGHT}'"
            )
            await db.execute(
                f"DELETE FROM pending_ops WHERE state IN ('{_DONE}', '{_FAILED}') AND updated < ?",
                (_now() - _KEEP_FINISHED_OPS,),
            )

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction on the writer connection, serialized with all others.

        BEGIN IMMEDIATE takes the write lock up front, so a transaction never fails
        half-way with SQLITE_BUSY because another process started writing first.
        """
        async with self._wlock:
            db = self._w
            self._appended = None
            try:
                if db.in_transaction:  # left open by a call that was cancelled mid-way
                    await db.execute("ROLLBACK")
                await db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                    dead = await db.execute_fetchall(
                        f"SELECT message_id FROM dead_bodies LIMIT {_BURY_BATCH}"
                    )
                    await db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        await db.execute("ROLLBACK")
                    # Synchronous on purpose: this may run while the task is cancelled.
                    self._undo_appends()
                    raise
                finally:
                    self._appended = None
                if dead:
                    await self._bury(db, [r[0] for r in dead])
            except sqlite3.Error as e:
                raise StoreError(f"cache database error: {e}") from e

    async def _bury(self, db: aiosqlite.Connection, message_ids: list[int]) -> None:
        """Unlink the schema-3 body files of deleted rows (their deletion has committed), then
        forget them; repeated until ``dead_bodies`` is empty. Called with the write lock
        held, so no other transaction runs in between."""
        while message_ids:
            try:
                await asyncio.to_thread(self._packs.remove_legacy, message_ids)
            except OSError as e:  # permissions changed under us: the files leak, no more
                log.warning("cannot remove cached bodies in %s: %s", self.bodies_dir, e)
            marks = _marks(len(message_ids))
            await db.execute(f"DELETE FROM dead_bodies WHERE message_id IN ({marks})", message_ids)
            rows = await db.execute_fetchall(
                f"SELECT message_id FROM dead_bodies LIMIT {_BURY_BATCH}"
            )
            message_ids = [r[0] for r in rows]

    async def _append_bodies(
        self, db: aiosqlite.Connection, bodies: Sequence[tuple[int, RawMessage]], durable: bool
    ) -> list[tuple[int, int]]:
        """Append bodies for rows the transaction in progress is about to write; their
        ``(pack, pos)``. ``durable``: on disk before this returns (packs.py)."""
        if not bodies:
            return []
        try:
            if self._appended is None:
                # A transaction appends to one pack: a full one is left at its start.
                if self._packs.active is None or self._packs.end >= PACK_TARGET:
                    await self._take_pack(db)  # marks a pack it creates
                if self._appended is None:
                    assert self._packs.active is not None
                    self._appended = (self._packs.active, self._packs.end, False)
            pack = self._packs.active
            assert pack is not None
            positions = await asyncio.to_thread(self._packs.append, bodies, durable)
            if durable and pack not in self._named_packs:
                await asyncio.to_thread(self._packs.sync_dir)
                self._named_packs.add(pack)
        except OSError as e:
            raise StoreError(
                f"cannot write to the mail cache in {self.bodies_dir}: {e.strerror or e}"
            ) from e
        await db.execute("UPDATE packs SET size = ? WHERE id = ?", (self._packs.end, pack))
        return [(pack, p) for p in positions]

    async def _take_pack(self, db: aiosqlite.Connection) -> None:
        """Make the newest pack the active one if it has room and no other writer holds
        it, else a new one. Runs in a write transaction, so ``packs.size`` is the end of
        the last committed record (a crashed writer's tail beyond it is cut off)."""
        await asyncio.to_thread(self._packs.release)
        rows = list(
            await db.execute_fetchall("SELECT id, size FROM packs ORDER BY id DESC LIMIT 1")
        )
        if rows and rows[0][1] < PACK_TARGET:
            pack, end = rows[0]
            try:
                await asyncio.to_thread(self._packs.take, pack, end)
                return
            except (PackBusy, FileNotFoundError):
                pass  # another process appends to it (or it is gone): a pack of our own
        cursor = await db.execute("INSERT INTO packs (size, dead) VALUES (0, 0)")
        pack = cursor.lastrowid
        assert pack is not None
        # Marked before the file exists: a failure in between still undoes the creation.
        self._appended = (pack, 0, True)
        await asyncio.to_thread(self._packs.create, pack)

    def _undo_appends(self) -> None:
        """Cut the active pack back to where the rolled-back transaction found it (remove
        it if that transaction created it). Best effort: what stays is a tail no row
        names, cut off by the next writer of that pack."""
        if self._appended is None:
            return
        pack, end, created = self._appended
        self._appended = None
        with contextlib.suppress(OSError):
            if created:
                if self._packs.active == pack:
                    self._packs.release()
                self._packs.unlink(pack)
            elif self._packs.active == pack:
                self._packs.cut(end)

    async def _read_bodies(self, wanted: Sequence[BodyRef]) -> list[bytes | None]:
        """The bodies ``(message_id, size, pack, pos)`` name, None where the record (or
        schema-3 file) is missing or not that body (then it counts as not cached).

        A body compaction moved meanwhile (its old pack is gone) is looked up once more."""
        if not wanted:
            return []
        packs = self._packs

        def read(refs: Sequence[BodyRef]) -> list[bytes | None]:
            return [
                packs.read_legacy(i, n) if p is None or o is None else packs.read(p, o, i, n)
                for i, n, p, o in refs
            ]

        got = await asyncio.to_thread(read, wanted)
        missing = [w[0] for w, raw in zip(wanted, got, strict=True) if raw is None]
        if not missing:
            return got
        now: dict[int, BodyRef] = {}
        for chunk in _chunks(missing):
            rows = await self._read(
                "SELECT message_id, size, pack, pos FROM bodies "
                f"WHERE message_id IN ({_marks(len(chunk))}) AND pack IS NOT NULL",
                chunk,
            )
            now.update((r[0], (r[0], r[1], r[2], r[3])) for r in rows)
        moved = [
            (k, now[w[0]])
            for k, w in enumerate(wanted)
            if got[k] is None and w[0] in now and now[w[0]] != tuple(w)
        ]
        if moved:
            again = await asyncio.to_thread(read, [ref for _, ref in moved])
            for (k, _), raw in zip(moved, again, strict=True):
                got[k] = raw
        return got

    async def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._rlock:
            try:
                return list(await self._r.execute_fetchall(sql, params))
            except sqlite3.Error as e:
                raise StoreError(f"cache database error: {e}") from e

    # --- accounts and folders ----------------------------------------------------------

    async def ensure_account(self, name: str, kind: AccountKind, email: str) -> Account:
        """The account called ``name``, created if new; kind and email follow the config."""
        async with self._tx() as db:
            await db.execute(
                "INSERT INTO accounts (name, kind, email) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, email = excluded.email",
                (name, str(kind), email),
            )
            account_id = await _scalar(db, "SELECT id FROM accounts WHERE name = ?", (name,))
        return Account(id=account_id, name=name, kind=AccountKind(kind), email=email)

    async def accounts(self) -> list[Account]:
        """All accounts, in creation order."""
        rows = await self._read("SELECT id, name, kind, email FROM accounts ORDER BY id")
        return [Account(r[0], r[1], AccountKind(r[2]), r[3]) for r in rows]

    async def sync_folders(self, account_id: int, folders: list[RemoteFolder]) -> dict[str, int]:
        """Make the account's folder list match the server's.

        Folders are matched by name and updated in place (role, display name, depth, list
        order). Folders gone from the server are removed with their messages; pending
        moves *into* such a folder are rolled back and marked failed, so the message shows
        again where the server still has it.

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
                    position)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (account_id, name) DO UPDATE SET
                    display_name = excluded.display_name, role = excluded.role,
                    depth = excluded.depth, selectable = excluded.selectable,
                    position = excluded.position
                """,
                [
                    (account_id, f.name, f.display_name, str(f.role), f.depth, f.selectable, i)
                    for i, f in enumerate(folders)
                ],
            )
            wanted = {f.name for f in folders}
            gone = [fid for name, fid in existing.items() if name not in wanted]
            for fid in gone:
                await self._fail_moves_into(db, fid, "the target folder no longer exists")
            for fid in gone:
                await self._drop_stale_ops(db, fid)
                await db.execute("DELETE FROM folders WHERE id = ?", (fid,))
            rows = await db.execute_fetchall(
                "SELECT name, id FROM folders WHERE account_id = ?", (account_id,)
            )
        return {r[0]: r[1] for r in rows}

    async def folders(self, account_id: int | None = None) -> list[Folder]:
        """Folders (of one account, or all) in server list order, with their counters."""
        if account_id is None:
            rows = await self._read(
                f"SELECT {_FOLDER_COLUMNS} FROM folders ORDER BY account_id, position, id"
            )
        else:
            rows = await self._read(
                f"SELECT {_FOLDER_COLUMNS} FROM folders WHERE account_id = ? ORDER BY position, id",
                (account_id,),
            )
        return [_folder(r) for r in rows]

    async def folder(self, folder_id: int) -> Folder:
        """One folder. Raises ``NotFound`` if there is no such folder."""
        rows = await self._read(f"SELECT {_FOLDER_COLUMNS} FROM folders WHERE id = ?", (folder_id,))
        if not rows:
            raise NotFound(f"no folder with id {folder_id}")
        return _folder(rows[0])

    async def folder_state(self, folder_id: int) -> dict[str, Any]:
        """The backend's sync state of the folder, ``{}`` before the first sync."""
        rows = await self._read("SELECT state FROM folders WHERE id = ?", (folder_id,))
        if not rows:
            raise NotFound(f"no folder with id {folder_id}")
        state = json.loads(rows[0][0])
        return state if isinstance(state, dict) else {}

    # --- sync writes ---------------------------------------------------------------

    async def apply_batch(self, folder_id: int, batch: FolderBatch) -> list[int]:
        """Commit one batch of server changes to ``folder_id`` in one transaction.

        In order: ``reset`` (drop the folder's cached messages, and the pending ops whose
        server identity was in this folder: after a UIDVALIDITY change their remote ids
        could name other messages); insert ``added`` (ignoring remote ids already cached,
        repeated in the batch, or taken away by a not-yet-sent move/delete; threads
        assigned); store ``bodies`` (of messages already cached; others are skipped);
        apply ``flags`` (bits that a pending SET_FLAGS op of the message touches keep
        their local value until the op is done); delete ``removed``; store ``state``.

        Returns:
            Local ids of the inserted messages, in batch order.
        """
        async with self._tx() as db:
            account_id = await _scalar(
                db, "SELECT account_id FROM folders WHERE id = ?", (folder_id,)
            )
            if account_id is None:
                raise NotFound(f"no folder with id {folder_id}")
            if batch.reset:
                await self._reset_folder(db, folder_id)
            new_ids = (
                await self._insert_added(
                    db, account_id, folder_id, batch.added, batch.durable_bodies
                )
                if batch.added
                else []
            )
            if batch.bodies:
                await self._bodies_by_remote_id(
                    db, folder_id, batch.bodies, batch.durable_bodies
                )
            if batch.flags:
                await self._apply_server_flags(db, folder_id, batch.flags)
            if batch.removed:
                await self._remove(db, folder_id, batch.removed)
            if batch.state is not None:
                await db.execute(
                    "UPDATE folders SET state = ? WHERE id = ?",
                    (json.dumps(batch.state), folder_id),
                )
        return new_ids

    async def _bodies_by_remote_id(
        self,
        db: aiosqlite.Connection,
        folder_id: int,
        bodies: Sequence[tuple[str, RawMessage]],
        durable: bool,
    ) -> None:
        ids: dict[str, int] = {}
        for chunk in _chunks([remote for remote, _ in bodies]):
            rows = await db.execute_fetchall(
                f"SELECT remote_id, id FROM messages WHERE folder_id = ? "
                f"AND remote_id IN ({_marks(len(chunk))})",
                (folder_id, *chunk),
            )
            ids.update((r[0], r[1]) for r in rows)
        await self._put_bodies(
            db, [(ids[remote], raw, None) for remote, raw in bodies if remote in ids], durable
        )

    async def _reset_folder(self, db: aiosqlite.Connection, folder_id: int) -> None:
        await self._drop_stale_ops(db, folder_id)
        await db.execute("DELETE FROM messages WHERE folder_id = ?", (folder_id,))
        # Ops that waited for a remote id of a row just dropped can never be sent.
        await db.execute(
            f"DELETE FROM pending_ops WHERE state = '{_PENDING}' AND remote_id IS NULL "
            "AND message_id IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = pending_ops.message_id)"
        )

    async def _drop_stale_ops(self, db: aiosqlite.Connection, folder_id: int) -> None:
        """Forget the live ops whose server identity was in ``folder_id``.

        Used when that identity dies (UIDVALIDITY reset, folder deleted on the server).
        The local rows those ops moved or hid go too: the server lists them again from
        the folder's fresh contents if they still exist. Ops of other folders stay.
        """
        rows = list(
            await db.execute_fetchall(
                f"SELECT id, message_id FROM pending_ops WHERE folder_id = ? "
                f"AND remote_id IS NOT NULL AND state IN {_LIVE}",
                (folder_id,),
            )
        )
        if not rows:
            return
        await self._forget(db, sorted({r[1] for r in rows if r[1] is not None}))
        for chunk in _chunks([r[0] for r in rows]):
            await db.execute(f"DELETE FROM pending_ops WHERE id IN ({_marks(len(chunk))})", chunk)

    async def _forget(self, db: aiosqlite.Connection, message_ids: Sequence[int]) -> None:
        """Delete messages and their live ops (the server no longer has them)."""
        for chunk in _chunks(message_ids):
            marks = _marks(len(chunk))
            await db.execute(
                f"DELETE FROM pending_ops WHERE state IN {_LIVE} AND message_id IN ({marks})",
                chunk,
            )
            await db.execute(f"DELETE FROM messages WHERE id IN ({marks})", chunk)

    async def _insert_added(
        self,
        db: aiosqlite.Connection,
        account_id: int,
        folder_id: int,
        added: list[NewMessage],
        durable: bool,
    ) -> list[int]:
        fresh: list[NewMessage] = []
        seen: set[str] = set()
        for m in added:
            if m.remote_id not in seen:
                seen.add(m.remote_id)
                fresh.append(m)
        # Skip what is cached already, and what a move/delete not yet sent to the server
        # took away locally (the server still lists it; re-adding it would resurrect it).
        skip: set[str] = set()
        for chunk in _chunks(list(seen)):
            marks = _marks(len(chunk))
            for r in await db.execute_fetchall(
                f"SELECT remote_id FROM messages WHERE folder_id = ? AND remote_id IN ({marks})",
                (folder_id, *chunk),
            ):
                skip.add(r[0])
            for r in await db.execute_fetchall(
                f"SELECT remote_id FROM pending_ops WHERE folder_id = ? AND state IN {_LIVE} "
                f"AND kind IN {_RELOCATING} AND remote_id IN ({marks})",
                (folder_id, *chunk),
            ):
                skip.add(r[0])
        if skip:
            fresh = [m for m in fresh if m.remote_id not in skip]
        if not fresh:
            return []

        # One look-up for every message-id the batch mentions: threads, and rows moved
        # here locally whose remote id the server now tells us ("adoption").
        candidates = [thread_candidates(m.envelope) for m in fresh]
        wanted = sorted({mid for c in candidates for mid in c})
        known: dict[str, int] = {}  # message-id header -> thread id
        orphans: dict[str, int] = {}  # message-id header -> local id, remote id unknown
        hidden: dict[str, int] = {}  # the same, for rows deleted for good (folder NULL)
        for chunk in _chunks(wanted):
            for mid, thread_id, fid, unknown_remote, lid in await db.execute_fetchall(
                "SELECT message_id, thread_id, folder_id, remote_id IS NULL, id FROM messages "
                f"WHERE account_id = ? AND message_id IN ({_marks(len(chunk))}) ORDER BY id",
                (account_id, *chunk),
            ):
                known.setdefault(mid, thread_id)
                if unknown_remote and fid == folder_id:
                    orphans.setdefault(mid, lid)
                elif unknown_remote and fid is None:
                    hidden.setdefault(mid, lid)
        if hidden:
            # Moved here, then deleted for good before the move was confirmed: the
            # server lists it here still, and it must not come back as a new message.
            waiting = {
                r[0]
                for r in await db.execute_fetchall(
                    "SELECT message_id FROM pending_ops WHERE folder_id = ? "
                    f"AND remote_id IS NULL AND state IN {_LIVE} "
                    f"AND message_id IN ({_marks(len(hidden))})",
                    (folder_id, *hidden.values()),
                )
            }
            for mid, lid in hidden.items():
                if lid in waiting:
                    orphans.setdefault(mid, lid)

        todo: list[tuple[NewMessage, list[str]]] = []
        for m, c in zip(fresh, candidates, strict=True):
            lid = orphans.pop(m.envelope.message_id, None) if m.envelope.message_id else None
            if lid is None:
                todo.append((m, c))
            else:
                await self._adopt(db, lid, folder_id, m.remote_id)
        if not todo:
            return []

        # Ids are chosen here (the write lock is held) so that threads can refer to
        # messages of the same batch without a round trip per row.
        first = await self._next_id(db, "messages")
        ids = list(range(first, first + len(todo)))
        threads = ids[:]
        in_batch: dict[str, int] = {}
        # Subjects matter only for messages no header ties to a message already known or
        # in this batch.
        batch_ids = {m.envelope.message_id for m, _ in todo}
        keys = [
            ("", False)
            if any(mid in known or (mid in batch_ids and mid != m.envelope.message_id) for mid in c)
            else subject_key(m.envelope.subject)
            for m, c in todo
        ]
        by_subject = await self._subject_threads(db, account_id, todo, keys)
        # Oldest first, so a parent in the same batch is known before its replies.
        for i in sorted(range(len(todo)), key=lambda i: todo[i][0].envelope.date):
            m, c = todo[i]
            for mid in c:
                thread_id = in_batch.get(mid) or known.get(mid)
                if thread_id:
                    threads[i] = thread_id
                    break
            else:
                # No header names a known message: a reply joins the latest thread of
                # its subject from the window before it (mailers that drop References).
                key, is_reply = keys[i]
                date = m.envelope.date
                if is_reply and key:
                    earlier = [
                        (d, t)
                        for d, t in by_subject.get(key, ())
                        if date - SUBJECT_THREAD_WINDOW <= d <= date
                    ]
                    if earlier:
                        threads[i] = max(earlier)[1]
            own = m.envelope.message_id
            if own and own not in in_batch:
                in_batch[own] = threads[i]
            if keys[i][0]:
                by_subject.setdefault(keys[i][0], []).append((m.envelope.date, threads[i]))

        rows = []
        bodies: list[tuple[int, RawMessage | None, str | None]] = []
        for i, (m, _) in enumerate(todo):
            env = m.envelope
            rows.append(
                (
                    ids[i],
                    account_id,
                    folder_id,
                    m.remote_id,
                    env.date,
                    sender_of(env),
                    env.subject,
                    encode_addresses(env.from_),
                    encode_addresses(env.to),
                    encode_addresses(env.cc),
                    env.message_id,
                    env.in_reply_to,
                    encode_references(env.references),
                    env.size,
                    int(m.flags),
                    threads[i],
                    int(env.has_attachments),
                    env.preview,
                )
            )
            if m.raw is not None or m.body_text:
                bodies.append((ids[i], m.raw, m.body_text))
        where = iter(
            await self._append_bodies(
                db, [(message_id, raw) for message_id, raw, _ in bodies if raw is not None], durable
            )
        )
        await db.executemany(_INSERT_MESSAGE, rows)
        await db.execute(
            "INSERT INTO messages_fts (rowid, subject, addresses, body) "
            "SELECT id, subject, addresses, '' FROM messages WHERE id BETWEEN ? AND ?",
            (ids[0], ids[-1]),
        )
        if bodies:  # after the index rows exist: the bodies trigger re-indexes them
            await db.executemany(
                "INSERT INTO bodies (message_id, size, pack, pos, text, indexed) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (i, None, None, None, text or "", int(text is not None))
                    if raw is None
                    else (i, len(raw), *next(where), text or "", int(text is not None))
                    for i, raw, text in bodies
                ],
            )
        return ids

    async def _subject_threads(
        self,
        db: aiosqlite.Connection,
        account_id: int,
        todo: list[tuple[NewMessage, list[str]]],
        keys: list[tuple[str, bool]],
    ) -> dict[str, list[tuple[int, int]]]:
        """(date, thread id) of the account's messages with the subject of a reply of the
        batch that no header threads, from the window before it.

        Such replies are rare (mailers that drop In-Reply-To and References), so this
        costs nothing for most batches; when needed, the full-text index finds the
        candidates by the subject's words, and the normalised subjects are compared here.
        """
        found: dict[str, list[tuple[int, int]]] = {}
        window: dict[str, tuple[int, int]] = {}
        for (m, _), (key, is_reply) in zip(todo, keys, strict=True):
            if is_reply and key:
                low, high = window.get(key, (m.envelope.date, m.envelope.date))
                window[key] = (min(low, m.envelope.date), max(high, m.envelope.date))
        for key, (low, high) in list(window.items())[:_SUBJECT_LOOKUPS]:
            match = fts_query(key)
            if match is None:
                continue
            for subject, date, thread_id in await db.execute_fetchall(
                "SELECT m.subject, m.date, m.thread_id FROM messages_fts "
                "JOIN messages m ON m.id = messages_fts.rowid "
                "WHERE messages_fts MATCH ? AND m.account_id = ? AND m.date BETWEEN ? AND ? "
                "ORDER BY m.date DESC LIMIT 200",
                (f"subject : ({match})", account_id, low - SUBJECT_THREAD_WINDOW, high),
            ):
                if subject_key(subject)[0] == key:
                    found.setdefault(key, []).append((date, thread_id))
        return found

    async def _next_id(self, db: aiosqlite.Connection, table: str) -> int:
        # AUTOINCREMENT tables: above both the highest id ever used and the current max.
        value = await _scalar(
            db,
            "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0), "
            f"coalesce((SELECT max(id) FROM {table}), 0)) + 1",
            (table,),
        )
        return int(value)

    async def _adopt(
        self, db: aiosqlite.Connection, message_id: int, folder_id: int, remote_id: str
    ) -> None:
        """Record that a locally moved message is ``remote_id`` in ``folder_id``.

        The row gets the id if it is still there (or was deleted for good from there
        meanwhile, i.e. hidden); ops made on it in that folder get it either way.
        """
        rows = list(
            await db.execute_fetchall(
                "SELECT folder_id, remote_id FROM messages WHERE id = ?", (message_id,)
            )
        )
        if rows and rows[0][1] is None and rows[0][0] in (folder_id, None):
            if rows[0][0] == folder_id:
                other = await _scalar(
                    db,
                    "SELECT id FROM messages WHERE folder_id = ? AND remote_id = ?",
                    (folder_id, remote_id),
                )
                if other is not None:
                    # A sync listed the message before the op was confirmed: keep the row
                    # the user has been looking at (its flags, its body), drop the newcomer.
                    await self._forget(db, [other])
            await db.execute(
                "UPDATE messages SET remote_id = ? WHERE id = ?", (remote_id, message_id)
            )
        # Later ops on this message were made while its remote id was unknown.
        await db.execute(
            f"UPDATE pending_ops SET remote_id = ? WHERE message_id = ? AND folder_id = ? "
            f"AND remote_id IS NULL AND state IN {_LIVE}",
            (remote_id, message_id, folder_id),
        )

    async def _apply_server_flags(
        self, db: aiosqlite.Connection, folder_id: int, flags: list[tuple[str, Flag]]
    ) -> None:
        # Bits with a local intent in flight: remote_id -> (mask of touched bits, local flags)
        held: dict[str, tuple[int, int]] = {}
        for rid, local, payload in await db.execute_fetchall(
            "SELECT m.remote_id, m.flags, p.payload FROM pending_ops p "
            "JOIN messages m ON m.id = p.message_id "
            f"WHERE m.folder_id = ? AND p.kind = ? AND p.state IN {_LIVE} "
            "AND m.remote_id IS NOT NULL",
            (folder_id, OpKind.SET_FLAGS.value),
        ):
            p = json.loads(payload)
            mask = int(p.get("add", 0)) | int(p.get("remove", 0))
            held[rid] = (held.get(rid, (0, 0))[0] | mask, local)
        updates = []
        for rid, server in flags:
            value = int(server)
            if rid in held:
                mask, local = held[rid]
                value = (value & ~mask) | (local & mask)
            updates.append((value, folder_id, rid, value))
        # "flags != ?" keeps unchanged rows untouched: no write, no trigger.
        await db.executemany(
            "UPDATE messages SET flags = ? WHERE folder_id = ? AND remote_id = ? AND flags != ?",
            updates,
        )

    async def _remove(self, db: aiosqlite.Connection, folder_id: int, removed: list[str]) -> None:
        for chunk in _chunks(removed):
            marks = _marks(len(chunk))
            # A move/delete not yet sent, of a message that is gone from the server anyway:
            # the op is moot, and the row it moved elsewhere is a ghost.
            moot = [
                r[0]
                for r in await db.execute_fetchall(
                    f"SELECT DISTINCT message_id FROM pending_ops WHERE folder_id = ? "
                    f"AND state IN {_LIVE} AND kind IN {_RELOCATING} "
                    f"AND remote_id IN ({marks}) AND message_id IS NOT NULL",
                    (folder_id, *chunk),
                )
            ]
            if moot:
                await self._forget(db, moot)
            # Flag changes for a message that no longer exists cannot be sent.
            await db.execute(
                f"DELETE FROM pending_ops WHERE state = '{_PENDING}' AND message_id IN "
                f"(SELECT id FROM messages WHERE folder_id = ? AND remote_id IN ({marks}))",
                (folder_id, *chunk),
            )
            await db.execute(
                f"DELETE FROM messages WHERE folder_id = ? AND remote_id IN ({marks})",
                (folder_id, *chunk),
            )

    async def store_body(
        self, message_id: int, raw: bytes, text: str | None, *, durable: bool = False
    ) -> None:
        """Cache a message's raw bytes and index ``text`` for search (None: not known
        yet, ``bodies_to_index`` lists it until ``set_body_texts``).

        A message deleted meanwhile is silently skipped (the fetch lost a race).
        ``durable``: fsync the body before the commit (it exists nowhere else).
        """
        await self.store_bodies([(message_id, raw, text)], durable=durable)

    async def store_bodies(
        self, bodies: Sequence[tuple[int, RawMessage, str | None]], *, durable: bool = False
    ) -> None:
        """``store_body`` for many ``(message_id, raw, text)`` in one transaction (the
        search index follows through the same triggers). Messages deleted meanwhile are
        skipped. The bytes go to the active pack (packs.py), written before the commit.

        Raises:
            StoreError: the database or the body directory cannot be written (disk full);
                nothing of the call is kept.
        """
        if not bodies:
            return
        async with self._tx() as db:
            present: set[int] = set()
            for chunk in _chunks([b[0] for b in bodies]):
                rows = await db.execute_fetchall(
                    f"SELECT id FROM messages WHERE id IN ({_marks(len(chunk))})", chunk
                )
                present.update(r[0] for r in rows)
            await self._put_bodies(db, [b for b in bodies if b[0] in present], durable)

    async def _put_bodies(
        self,
        db: aiosqlite.Connection,
        keep: Sequence[tuple[int, RawMessage, str | None]],
        durable: bool,
    ) -> None:
        """Bodies of messages known to exist, in the transaction in progress."""
        if not keep:
            return
        where = await self._append_bodies(
            db, [(message_id, raw) for message_id, raw, _ in keep], durable
        )
        await db.executemany(
            "INSERT INTO bodies (message_id, raw, size, pack, pos, text, indexed) "
            "VALUES (?, NULL, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO UPDATE SET "
            "raw = NULL, size = excluded.size, pack = excluded.pack, pos = excluded.pos, "
            "text = excluded.text, indexed = excluded.indexed",
            [
                (message_id, len(raw), pack, pos, text or "", int(text is not None))
                for (message_id, raw, text), (pack, pos) in zip(keep, where, strict=True)
            ],
        )

    async def bodies_to_index(
        self,
        account_id: int,
        limit: int,
        max_bytes: int = 8 << 20,
        *,
        before: int | None = None,
    ) -> list[tuple[int, bytes]]:
        """Up to ``limit`` cached bodies of the account (and about ``max_bytes``, at least
        one) whose text is not in the search index yet, newest first, as
        ``(message_id, raw)``; a body whose record is gone or not that body is left out (and
        forgotten, so that it is fetched again). ``before``: only message ids below it
        (the next batch while the previous one is still being indexed)."""
        # A walk of bodies_unindexed down from ``before``, the account looked up per row.
        # As a join, the planner started from all of the account's messages (then a
        # sort) or built a Bloom filter over them: O(messages) per batch.
        rows = await self._read(
            "SELECT b.message_id, b.size, b.pack, b.pos FROM bodies b "
            "INDEXED BY bodies_unindexed "
            "WHERE b.indexed = 0 AND b.message_id < ? "
            "AND (SELECT m.account_id FROM messages m WHERE m.id = b.message_id) = ? "
            "ORDER BY b.message_id DESC LIMIT ?",
            ((1 << 63) - 1 if before is None else before, account_id, limit),
        )
        total = 0
        for n, r in enumerate(rows):
            total += r[1]
            if total > max_bytes:
                rows = rows[: max(1, n)]
                break
        raws = await self._read_bodies([(r[0], r[1], r[2], r[3]) for r in rows])
        lost = [r[0] for r, raw in zip(rows, raws, strict=True) if raw is None]
        if lost:
            async with self._tx() as db:
                await db.execute(
                    f"DELETE FROM bodies WHERE message_id IN ({_marks(len(lost))})", lost
                )
        return [(r[0], raw) for r, raw in zip(rows, raws, strict=True) if raw is not None]

    async def count_bodies_to_index(self, account_id: int, up_to: int) -> int:
        """How many bodies ``bodies_to_index`` has left to list for the account, counted
        no further than ``up_to`` (the indexer asks whether a helper process pays)."""
        rows = await self._read(
            "SELECT count(*) FROM (SELECT 1 FROM bodies b INDEXED BY bodies_unindexed "
            "WHERE b.indexed = 0 "
            "AND (SELECT m.account_id FROM messages m WHERE m.id = b.message_id) = ? LIMIT ?)",
            (account_id, up_to),
        )
        return int(rows[0][0])

    async def set_body_texts(self, texts: Sequence[tuple[int, str]]) -> None:
        """Put the text of cached bodies into the search index (one transaction).

        One statement per 500 bodies (``FROM (VALUES …)``), not one per body: the writer
        thread takes the GIL twice a batch instead of twice a body, which matters while
        the next batch's text is made in another thread (worker.py), and it is less CPU
        (0.43 s against 0.6 s for the 10,000 bodies of bench/index_bodies.py).
        """
        if not texts:
            return
        async with self._tx() as db:
            for chunk in _chunks(texts):
                await db.execute(
                    "UPDATE bodies SET text = t.column2, indexed = 1 "
                    f"FROM (VALUES {','.join(['(?, ?)'] * len(chunk))}) AS t "
                    "WHERE bodies.message_id = t.column1 AND bodies.indexed = 0",
                    [value for pair in chunk for value in pair],
                )

    async def compact_bodies(self, budget: int = PACK_TARGET) -> int:
        """Give back the space of deleted bodies; the bytes freed.

        A pack no row names any more is removed; the live records of a pack at least
        half dead are copied to the active pack, then it is removed, until about
        ``budget`` bytes were copied (this call's share of the work: the rest is left
        for the next). Packs another writer appends to are left alone. The copies are
        fsynced, and the last transaction committed with ``synchronous = FULL``, before
        a pack is unlinked: a body that exists nowhere else survives a power loss."""
        rows = await self._read(
            "SELECT id, size, dead FROM packs WHERE dead * 2 >= size ORDER BY id"
        )
        freed = 0
        for pack, size, dead in rows:
            if pack == self._packs.active or budget < 0:
                continue
            lock = await asyncio.to_thread(self._packs.try_lock, pack)
            if lock is None:
                continue  # another writer's active pack
            try:
                budget -= size - dead
                await self._empty_pack(pack)
                freed += size
            finally:
                os.close(lock)
        return freed

    async def _empty_pack(self, pack: int) -> None:
        """Move the live records of ``pack`` to the active pack, forget it, unlink it."""
        while True:
            async with self._tx() as db:
                rows = list(
                    await db.execute_fetchall(
                        "SELECT message_id, size, pos FROM bodies WHERE pack = ? "
                        "ORDER BY pos LIMIT ?",
                        (pack, _COMPACT_ROWS),
                    )
                )
                if not rows:
                    break
                total = 0
                for n, r in enumerate(rows):  # about 16 MB per transaction, at least one
                    total += HEADER_SIZE + r[1]
                    if total > _COMPACT_BYTES and n:
                        rows = rows[:n]
                        break
                raws = await self._read_bodies([(r[0], r[1], pack, r[2]) for r in rows])
                lost = [r[0] for r, raw in zip(rows, raws, strict=True) if raw is None]
                if lost:  # unreadable (a power loss): not cached any more, fetched again
                    await db.execute(
                        f"DELETE FROM bodies WHERE message_id IN ({_marks(len(lost))})", lost
                    )
                keep = [(r[0], raw) for r, raw in zip(rows, raws, strict=True) if raw]
                where = await self._append_bodies(db, keep, durable=True)
                await db.executemany(
                    "UPDATE bodies SET pack = ?, pos = ? WHERE message_id = ?",
                    [(p, o, mid) for (mid, _), (p, o) in zip(keep, where, strict=True)],
                )
        await self._w.execute("PRAGMA synchronous = FULL")
        try:
            async with self._tx() as db:
                await db.execute("DELETE FROM packs WHERE id = ?", (pack,))
        finally:
            await self._w.execute("PRAGMA synchronous = NORMAL")
        await asyncio.to_thread(self._packs.unlink, pack)

    async def messages_missing_body(
        self, folder_id: int, since: int, limit: int
    ) -> list[tuple[int, str]]:
        """(local id, remote id) of messages dated ``since`` or later without a cached
        body, newest first: what a worker prefetches."""
        rows = await self._read(
            "SELECT id, remote_id FROM messages INDEXED BY messages_bodyless "
            "WHERE folder_id = ? AND has_body = 0 AND date >= ? AND remote_id IS NOT NULL "
            "ORDER BY date DESC, id DESC LIMIT ?",
            (folder_id, since, limit),
        )
        return [(r[0], r[1]) for r in rows]

    # --- reading ---------------------------------------------------------------------

    async def count(self, folder_id: int) -> tuple[int, int]:
        """(total, unread) of a folder, from the trigger-kept counters."""
        rows = await self._read("SELECT total, unread FROM folders WHERE id = ?", (folder_id,))
        if not rows:
            raise NotFound(f"no folder with id {folder_id}")
        return rows[0][0], rows[0][1]

    async def window(self, folder_id: int, offset: int, limit: int) -> list[MessageRow]:
        """Rows ``offset .. offset+limit`` of the folder, newest first.

        The ids come from the ``(folder_id, date, id)`` index alone, walked from whichever
        end of the folder is nearer (so the first and the last screen of a huge folder are
        both a few page reads); only the rows on screen are then read from the table.
        Counter and rows are read in one snapshot, so the arithmetic always fits.
        """
        offset = max(0, offset)
        if limit <= 0:
            return []
        async with read_snapshot(self._r, self._rlock) as db:
            total = await _scalar(db, "SELECT total FROM folders WHERE id = ?", (folder_id,))
            span = nearer_end(offset, limit, total or 0)
            if span is None:
                return []
            newest_first, skip, limit = span
            way = "DESC" if newest_first else "ASC"
            inner = f"date {way}, id {way}"
            rows = await db.execute_fetchall(
                f"SELECT {ROW_COLUMNS} FROM messages WHERE id IN ("
                f"SELECT id FROM messages INDEXED BY messages_list WHERE folder_id = ? "
                f"ORDER BY {inner} LIMIT ? OFFSET ?) ORDER BY date DESC, id DESC",
                (folder_id, limit, skip),
            )
        return [row_from_db(r) for r in rows]

    async def inbox_count(self) -> tuple[int, int]:
        """(total, unread) of the unified inbox: every account's inbox-role folders."""
        rows = await self._read(
            "SELECT COALESCE(SUM(total), 0), COALESCE(SUM(unread), 0) FROM folders WHERE role = ?",
            (FolderRole.INBOX.value,),
        )
        return rows[0][0], rows[0][1]

    async def inbox_window(self, offset: int, limit: int) -> list[MessageRow]:
        """Rows ``offset .. offset+limit`` of the unified inbox, newest first.

        One covering-index walk per inbox folder, merged by SQLite (``MERGE (UNION ALL)``,
        no sort of the folders' rows), from whichever end is nearer as in ``window``; only
        the rows on screen are read from the table. 1M messages over 3 inboxes: first
        screen < 1 ms, middle ≈ 50 ms.
        """
        offset = max(0, offset)
        if limit <= 0:
            return []
        async with read_snapshot(self._r, self._rlock) as db:
            folders = list(
                await db.execute_fetchall(
                    "SELECT id, total FROM folders WHERE role = ? ORDER BY id LIMIT 400",
                    (FolderRole.INBOX.value,),
                )
            )
            span = nearer_end(offset, limit, sum(r[1] for r in folders))
            if span is None:
                return []
            newest_first, skip, limit = span
            order = "DESC" if newest_first else "ASC"
            rows = await db.execute_fetchall(
                f"SELECT {ROW_COLUMNS} FROM messages WHERE id IN ("
                f"{merged_ids_sql(len(folders), order)}) ORDER BY date DESC, id DESC",
                (*(r[0] for r in folders), limit, skip),
            )
        return [row_from_db(r) for r in rows]

    async def message(self, message_id: int) -> MessageDetail | None:
        """A message with its envelope and, once cached, its raw bytes; None if gone."""
        cols = ", ".join("m." + c.strip() for c in ROW_COLUMNS.split(","))
        rows = await self._read(
            f"SELECT {cols}, m.account_id, m.from_addrs, m.to_addrs, m.cc_addrs, "
            "m.message_id, m.in_reply_to, m.refs, m.preview, b.raw, b.size, b.pack, b.pos "
            "FROM messages m LEFT JOIN bodies b ON b.message_id = m.id "
            "WHERE m.id = ? AND m.folder_id IS NOT NULL",
            (message_id,),
        )
        if not rows:
            return None
        r = rows[0]
        row = row_from_db(r)
        envelope = Envelope(
            subject=row.subject,
            from_=decode_addresses(r[10]),
            to=decode_addresses(r[11]),
            cc=decode_addresses(r[12]),
            date=row.date,
            message_id=r[13],
            in_reply_to=r[14],
            references=tuple(r[15].split()),
            size=row.size,
            has_attachments=row.has_attachments,
            preview=r[16],
        )
        raw = await self._raw_of(row.id, r[17], r[18], r[19], r[20])
        return MessageDetail(row=row, account_id=r[9], envelope=envelope, raw=raw)

    async def _raw_of(
        self, message_id: int, blob: Any, size: int | None, pack: int | None, pos: int | None
    ) -> bytes | None:
        """A body from its row: in a pack, or (older schemas) a file or a BLOB."""
        if blob is not None:
            return bytes(blob)
        if size is None:
            return None
        return (await self._read_bodies([(message_id, size, pack, pos)]))[0]

    async def search(
        self, query: str, limit: int, folder_id: int | None = None
    ) -> list[MessageRow]:
        """Messages matching every word of ``query`` (subject, addresses, body), newest
        first, in every folder or in ``folder_id`` only. Any input is safe: FTS5 syntax
        is matched as plain text; a query with nothing searchable returns []."""
        match = fts_query(query)
        if match is None or limit <= 0:
            return []
        cols = ", ".join("m." + c.strip() for c in ROW_COLUMNS.split(","))
        scope = "m.folder_id IS NOT NULL" if folder_id is None else "m.folder_id = ?"
        params = (match, limit) if folder_id is None else (match, folder_id, limit)
        try:
            rows = await self._read(
                f"SELECT {cols} FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
                f"WHERE messages_fts MATCH ? AND {scope} "
                "ORDER BY m.date DESC, m.id DESC LIMIT ?",
                params,
            )
        except StoreError as e:
            # The sanitizer should make this impossible; if FTS5 still objects, a search
            # box must not crash the app.
            if isinstance(e.__cause__, sqlite3.OperationalError):
                return []
            raise
        return [row_from_db(r) for r in rows]

    async def iter_raw(
        self, folder_id: int, page: int = 500
    ) -> AsyncIterator[tuple[int, Flag, int, bytes | None]]:
        """(id, flags, date, raw or None) of every message of a folder, oldest first.

        Reads ``page`` rows per query, each in its own snapshot (a read transaction held
        for a whole export would keep the WAL from being checkpointed), continuing after
        the last (date, id) seen, so rows changing meanwhile are neither repeated nor
        does the walk lose its place.
        """
        after = (-(2**63), 0)
        while True:
            rows = await self._read(
                "SELECT m.id, m.flags, m.date, b.raw, b.size, b.pack, b.pos FROM messages m "
                "LEFT JOIN bodies b ON b.message_id = m.id "
                "WHERE m.folder_id = ? AND (m.date, m.id) > (?, ?) "
                "ORDER BY m.date, m.id LIMIT ?",
                (folder_id, after[0], after[1], max(1, page)),
            )
            stored = iter(
                await self._read_bodies(
                    [(r[0], r[4], r[5], r[6]) for r in rows if r[3] is None and r[4] is not None]
                )
            )
            for r in rows:
                if r[3] is not None:
                    raw: bytes | None = bytes(r[3])
                elif r[4] is not None:
                    raw = next(stored)
                else:
                    raw = None
                yield r[0], Flag(r[1]), r[2], raw
            if len(rows) < page:
                return
            after = (rows[-1][2], rows[-1][0])

    async def remote_ref(self, message_id: int) -> tuple[str, str] | None:
        """(folder name, remote id) of a message, None if it has none (yet)."""
        rows = await self._read(
            "SELECT f.name, m.remote_id FROM messages m JOIN folders f ON f.id = m.folder_id "
            "WHERE m.id = ? AND m.remote_id IS NOT NULL",
            (message_id,),
        )
        return (rows[0][0], rows[0][1]) if rows else None

    # --- user intents --------------------------------------------------------------

    async def _visible(self, db: aiosqlite.Connection, ids: Sequence[int]) -> list[Row]:
        """(id, account_id, folder_id, folder name, remote_id, flags) of the given messages
        that exist and are visible, in the order given (duplicates dropped)."""
        unique = list(dict.fromkeys(ids))
        found: dict[int, Row] = {}
        for chunk in _chunks(unique):
            for r in await db.execute_fetchall(
                "SELECT m.id, m.account_id, m.folder_id, f.name, m.remote_id, m.flags "
                "FROM messages m JOIN folders f ON f.id = m.folder_id "
                f"WHERE m.id IN ({_marks(len(chunk))})",
                chunk,
            ):
                found[r[0]] = r
        return [found[i] for i in unique if i in found]

    async def _add_ops(self, db: aiosqlite.Connection, ops: list[tuple[Any, ...]]) -> list[int]:
        """Insert ops given as (account_id, kind, message_id, folder_id, folder_name,
        remote_id, payload, undo); returns their ids (chosen here: executemany cannot
        report them)."""
        if not ops:
            return []
        first = await self._next_id(db, "pending_ops")
        now = _now()
        await db.executemany(
            _INSERT_OP,
            [
                (first + i, a, str(k), mid, fid, fname, rid, json.dumps(p), json.dumps(u), now, now)
                for i, (a, k, mid, fid, fname, rid, p, u) in enumerate(ops)
            ],
        )
        return list(range(first, first + len(ops)))

    async def set_flags(self, ids: Sequence[int], add: Flag, remove: Flag) -> list[int]:
        """Add and remove flags on messages, locally at once and as SET_FLAGS ops.

        Messages whose flags would not change get no op.

        Returns:
            The new op ids (what ``undo_ops`` takes).

        Raises:
            ValueError: ``add`` and ``remove`` share a flag.
        """
        if add & remove:
            raise ValueError(f"cannot both add and remove {Flag(add & remove)!r}")
        async with self._tx() as db:
            updates = []
            ops: list[tuple[Any, ...]] = []
            for mid, account_id, fid, fname, rid, flags in await self._visible(db, ids):
                new = (flags | int(add)) & ~int(remove)
                if new == flags:
                    continue
                updates.append((new, mid))
                ops.append(
                    (
                        account_id,
                        OpKind.SET_FLAGS,
                        mid,
                        fid,
                        fname,
                        rid,
                        {"add": int(add), "remove": int(remove)},
                        # What actually changed, so undo reverses exactly this op even
                        # when later ops changed other bits.
                        {"added": new & ~flags, "removed": flags & ~new},
                    )
                )
            await db.executemany("UPDATE messages SET flags = ? WHERE id = ?", updates)
            return await self._add_ops(db, ops)

    async def move(self, ids: Sequence[int], to_folder_id: int) -> list[int]:
        """Move messages to another folder of the same account (MOVE ops).

        The row changes folder at once; its remote id is cleared until the worker learns
        the new one (``op_done``) or a sync of the target lists it.

        Raises:
            NotFound: no such target folder.
            ValueError: a message belongs to another account.
        """
        async with self._tx() as db:
            target = list(
                await db.execute_fetchall(
                    "SELECT account_id FROM folders WHERE id = ?", (to_folder_id,)
                )
            )
            if not target:
                raise NotFound(f"no folder with id {to_folder_id}")
            rows = await self._visible(db, ids)
            if any(r[1] != target[0][0] for r in rows):
                raise ValueError("cannot move messages to a folder of another account")
            return await self._relocate(db, rows, to_folder_id)

    async def _relocate(self, db: aiosqlite.Connection, rows: list[Row], to: int) -> list[int]:
        moving = [r for r in rows if r[2] != to]
        await db.executemany(
            "UPDATE messages SET folder_id = ?, remote_id = NULL WHERE id = ?",
            [(to, r[0]) for r in moving],
        )
        return await self._add_ops(
            db,
            [
                (
                    account_id,
                    OpKind.MOVE,
                    mid,
                    fid,
                    fname,
                    rid,
                    {"to_folder": to},
                    {"from_folder": fid, "remote_id": rid},
                )
                for mid, account_id, fid, fname, rid, _ in moving
            ],
        )

    async def delete(self, ids: Sequence[int]) -> list[int]:
        """Delete messages: a move to the account's Trash, or for good (a DELETE op) when
        already in Trash or the account has none.

        A message deleted for good disappears from every view at once but is kept hidden
        until the server confirms, so the intent can still be undone or rolled back.
        """
        async with self._tx() as db:
            rows = await self._visible(db, ids)
            trash: dict[int, int | None] = {}
            for account_id in {r[1] for r in rows}:
                trash[account_id] = await _scalar(
                    db,
                    "SELECT id FROM folders WHERE account_id = ? AND role = ? "
                    "ORDER BY position, id LIMIT 1",
                    (account_id, FolderRole.TRASH.value),
                )
            op_ids: list[int] = []
            by_trash: dict[int, list[Row]] = {}
            expunge: list[Row] = []
            for r in rows:
                t = trash[r[1]]
                if t is None or r[2] == t:
                    expunge.append(r)
                else:
                    by_trash.setdefault(t, []).append(r)
            for t, group in by_trash.items():
                op_ids += await self._relocate(db, group, t)
            await db.executemany(
                "UPDATE messages SET folder_id = NULL WHERE id = ?", [(r[0],) for r in expunge]
            )
            op_ids += await self._add_ops(
                db,
                [
                    (account_id, OpKind.DELETE, mid, fid, fname, rid, {}, {"from_folder": fid})
                    for mid, account_id, fid, fname, rid, _ in expunge
                ],
            )
            return sorted(op_ids)

    async def undo_ops(self, op_ids: Sequence[int]) -> bool:
        """Reverse the local changes of ops that have not been sent, and drop the ops.

        All or nothing: returns False (and changes nothing) if any op is unknown, no longer
        ``pending`` (claimed by the worker, done or failed), or is a move/delete of a
        message that has a later op not being undone with it (reversing the move would
        pull the message from under that op).
        """
        wanted = set(op_ids)
        if not wanted:
            return True
        async with self._tx() as db:
            ops: list[Row] = []
            for chunk in _chunks(sorted(wanted)):
                ops += await db.execute_fetchall(
                    "SELECT id, kind, message_id, state, undo FROM pending_ops "
                    f"WHERE id IN ({_marks(len(chunk))})",
                    chunk,
                )
            if len(ops) != len(wanted) or any(o[3] != _PENDING for o in ops):
                return False
            for op_id, kind, message_id, _, _ in ops:
                if kind in (OpKind.MOVE, OpKind.DELETE) and message_id is not None:
                    later = await db.execute_fetchall(
                        "SELECT id FROM pending_ops WHERE message_id = ? AND id > ? "
                        f"AND state != '{_FAILED}'",
                        (message_id, op_id),
                    )
                    if any(r[0] not in wanted for r in later):
                        return False
            for _, kind, message_id, _, undo in sorted(ops, key=lambda o: -int(o[0])):
                await self._revert(db, OpKind(kind), message_id, json.loads(undo))
            for chunk in _chunks(sorted(wanted)):
                await db.execute(
                    f"DELETE FROM pending_ops WHERE id IN ({_marks(len(chunk))})", chunk
                )
        return True

    async def _revert(
        self, db: aiosqlite.Connection, kind: OpKind, message_id: int | None, undo: dict[str, Any]
    ) -> None:
        """Reverse one op's local change (undo, or rollback after a permanent failure)."""
        if message_id is None:
            return
        if kind is OpKind.SET_FLAGS:
            await db.execute(
                "UPDATE messages SET flags = (flags & ~?) | ? WHERE id = ?",
                (int(undo.get("added", 0)), int(undo.get("removed", 0)), message_id),
            )
        elif kind in (OpKind.MOVE, OpKind.DELETE):
            await self._put_back(db, message_id, undo.get("from_folder"), undo.get("remote_id"))

    async def _put_back(
        self,
        db: aiosqlite.Connection,
        message_id: int,
        folder_id: int | None,
        remote_id: str | None,
    ) -> None:
        current = list(
            await db.execute_fetchall("SELECT remote_id FROM messages WHERE id = ?", (message_id,))
        )
        if not current:
            return
        rid = remote_id if remote_id is not None else current[0][0]
        exists = folder_id is not None and await _scalar(
            db, "SELECT 1 FROM folders WHERE id = ?", (folder_id,)
        )
        clash = (
            rid is not None
            and exists
            and await _scalar(
                db,
                "SELECT 1 FROM messages WHERE folder_id = ? AND remote_id = ? AND id != ?",
                (folder_id, rid, message_id),
            )
        )
        if not exists or clash:
            # Its folder is gone, or a sync already brought the message back there.
            await self._forget(db, [message_id])
            return
        await db.execute(
            "UPDATE messages SET folder_id = ?, remote_id = ? WHERE id = ?",
            (folder_id, rid, message_id),
        )

    # --- worker side: pending ops --------------------------------------------------

    async def pending_ops(self, account_id: int, limit: int) -> list[PendingOp]:
        """The account's ops waiting to be sent (state ``pending``), oldest first."""
        rows = await self._read(
            f"SELECT {_OP_COLUMNS} FROM pending_ops WHERE account_id = ? AND state = ? "
            "ORDER BY id LIMIT ?",
            (account_id, _PENDING, limit),
        )
        return [_op(r) for r in rows]

    async def claim_ops(self, op_ids: Sequence[int]) -> list[int]:
        """Mark ops ``in_flight`` just before sending them; from then on ``undo_ops``
        refuses them.

        Returns:
            The ids actually claimed (still pending; an op the user undid meanwhile is
            gone and must not be sent), in id order.
        """
        claimed: list[int] = []
        async with self._tx() as db:
            for chunk in _chunks(sorted(set(op_ids))):
                claimed += [
                    r[0]
                    for r in await db.execute_fetchall(
                        f"UPDATE pending_ops SET state = '{IN_FLIGHT}', updated = ? "
                        f"WHERE state = '{_PENDING}' AND id IN ({_marks(len(chunk))}) "
                        "RETURNING id",
                        (_now(), *chunk),
                    )
                ]
        return sorted(claimed)

    async def op_done(self, op_id: int, result: OpResult) -> None:
        """The server applied the op. Records a MOVE's new remote id (and gives it to
        later ops of the message that were waiting for it); a DELETE's hidden row goes
        for good. Unknown or finished ops are ignored (the store may have dropped them)."""
        async with self._tx() as db:
            rows = list(
                await db.execute_fetchall(
                    "SELECT kind, message_id, state, payload FROM pending_ops WHERE id = ?",
                    (op_id,),
                )
            )
            if not rows or rows[0][2] not in (_PENDING, IN_FLIGHT):
                return
            kind, message_id, _, payload = rows[0]
            await db.execute(
                f"UPDATE pending_ops SET state = '{_DONE}', last_error = '', updated = ? "
                "WHERE id = ?",
                (_now(), op_id),
            )
            if kind == OpKind.APPEND:
                outbox_id = json.loads(payload).get("outbox_id")
                if outbox_id is not None:  # filed in Sent: the outbox is done with it
                    await db.execute(
                        "DELETE FROM outbox WHERE id = ? AND state = ?",
                        (int(outbox_id), OutboxState.SENT.value),
                    )
            if message_id is None:
                return
            if kind == OpKind.MOVE and result.new_remote_id is not None:
                target = json.loads(payload).get("to_folder")
                if target is not None:
                    await self._adopt(db, message_id, int(target), result.new_remote_id)
            elif kind == OpKind.APPEND and result.new_remote_id is not None:
                # A draft copy filed by us: the local row is that server message now.
                target = json.loads(payload).get("folder")
                if target is not None:
                    await self._adopt(db, message_id, int(target), result.new_remote_id)
            elif kind == OpKind.DELETE:
                await db.execute(
                    "DELETE FROM messages WHERE id = ? AND folder_id IS NULL", (message_id,)
                )

    async def op_failed(self, op_id: int, error: str, permanent: bool) -> None:
        """The server did not apply the op.

        Transient: back to ``pending`` with ``attempts + 1`` and ``last_error``.
        Permanent: the local change is rolled back and the op marked ``failed``; for a
        move or delete, the message's later ops (made in the place it was moved to) are
        rolled back and failed with it.
        """
        async with self._tx() as db:
            rows = list(
                await db.execute_fetchall(
                    "SELECT kind, message_id, state FROM pending_ops WHERE id = ?", (op_id,)
                )
            )
            if not rows or rows[0][2] not in (_PENDING, IN_FLIGHT):
                return
            if not permanent:
                await db.execute(
                    f"UPDATE pending_ops SET state = '{_PENDING}', attempts = attempts + 1, "
                    "last_error = ?, updated = ? WHERE id = ?",
                    (error, _now(), op_id),
                )
                return
            if rows[0][0] == OpKind.APPEND:
                # A sent message that could not be filed stays in the outbox (state
                # sent) with the reason, for the user to see and discard.
                await db.execute(
                    "UPDATE outbox SET last_error = ? WHERE state = ? AND id = (SELECT "
                    "json_extract(payload, '$.outbox_id') FROM pending_ops WHERE id = ?)",
                    (f"sent, but not filed in Sent: {error}", OutboxState.SENT.value, op_id),
                )
            await self._fail_op(db, op_id, error)

    async def _fail_op(self, db: aiosqlite.Connection, op_id: int, error: str) -> None:
        chain: list[Row] = list(
            await db.execute_fetchall(
                "SELECT id, kind, message_id, undo FROM pending_ops WHERE id = ?", (op_id,)
            )
        )
        if not chain:
            return
        _, kind, message_id, _ = chain[0]
        if kind in (OpKind.MOVE, OpKind.DELETE) and message_id is not None:
            chain += await db.execute_fetchall(
                "SELECT id, kind, message_id, undo FROM pending_ops WHERE message_id = ? "
                f"AND id > ? AND state IN {_LIVE} ORDER BY id",
                (message_id, op_id),
            )
        now = _now()
        for oid, okind, mid, undo in reversed(chain):
            await self._revert(db, OpKind(okind), mid, json.loads(undo))
            await db.execute(
                f"UPDATE pending_ops SET state = '{_FAILED}', last_error = ?, updated = ?, "
                "attempts = attempts + ? WHERE id = ?",
                (
                    error if oid == op_id else f"not sent: an earlier change failed ({error})",
                    now,
                    1 if oid == op_id else 0,
                    oid,
                ),
            )

    async def _fail_moves_into(self, db: aiosqlite.Connection, folder_id: int, error: str) -> None:
        for r in list(
            await db.execute_fetchall(
                f"SELECT id FROM pending_ops WHERE state = '{_PENDING}' AND kind = ? "
                "AND json_extract(payload, '$.to_folder') = ? ORDER BY id DESC",
                (OpKind.MOVE.value, folder_id),
            )
        ):
            await self._fail_op(db, r[0], error)

    # --- outbox ------------------------------------------------------------------

    async def outbox_add(
        self, account_id: int, raw: bytes, mail_from: str, recipients: Sequence[str]
    ) -> int:
        """Queue a message to send; committed before any network I/O. Returns its id."""
        async with self._tx() as db:
            cur = await db.execute(
                "INSERT INTO outbox (account_id, raw, mail_from, recipients, state, created) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    account_id,
                    raw,
                    mail_from,
                    json.dumps(list(recipients)),
                    OutboxState.QUEUED.value,
                    _now(),
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
            "created FROM outbox WHERE account_id = ? ORDER BY id",
            (account_id,),
        )
        return [_outbox_item(r) for r in rows]

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
                f"WHERE id = ? AND state IN ({_marks(len(states))})",
                (str(to), error, 1 if to == OutboxState.SENDING else 0, item_id, *states),
            )
            if cur.rowcount:
                return True
            if await _scalar(db, "SELECT 1 FROM outbox WHERE id = ?", (item_id,)) is None:
                raise NotFound(f"no outbox item with id {item_id}")
            return False

    # --- draft copies in the Drafts folder ----------------------------------------------

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
            drafts = await _scalar(
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
            name = await _scalar(db, "SELECT name FROM folders WHERE id = ?", (drafts,))
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
                (message_id, OpKind.APPEND.value, _PENDING),
            )
        )
        if remote_id is None and unsent:
            # Never reached the server: drop the op and the row, nothing to expunge.
            await db.executemany("DELETE FROM pending_ops WHERE id = ?", unsent)
            await self._forget(db, [message_id])
            return
        name = await _scalar(db, "SELECT name FROM folders WHERE id = ?", (folder_id,))
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

    async def pending_op(self, op_id: int) -> PendingOp | None:
        """One op as it is now (its remote id may have been learnt since it was listed)."""
        rows = await self._read(f"SELECT {_OP_COLUMNS} FROM pending_ops WHERE id = ?", (op_id,))
        return _op(rows[0]) if rows else None

    async def outbox_sent(self, item_id: int, sent_folder_id: int | None) -> int | None:
        """The server accepted the item for every recipient: state ``sent`` and, in the
        same transaction, an APPEND op (payload ``{"folder", "outbox_id"}``) that files
        it in ``sent_folder_id``. ``op_done`` of that op removes the item; a permanent
        ``op_failed`` leaves it ``sent`` with the reason in ``last_error``.

        Idempotent: an item that already has an APPEND op gets no second one. With
        ``sent_folder_id`` None (no Sent folder known yet) the item waits in ``sent``;
        call again once the folder is known.

        Returns:
            The APPEND op's id, or None.

        Raises:
            NotFound: no such item, or no such folder.
        """
        async with self._tx() as db:
            rows = list(
                await db.execute_fetchall("SELECT account_id FROM outbox WHERE id = ?", (item_id,))
            )
            if not rows:
                raise NotFound(f"no outbox item with id {item_id}")
            account_id = rows[0][0]
            await db.execute(
                "UPDATE outbox SET state = ?, last_error = '' WHERE id = ?",
                (OutboxState.SENT.value, item_id),
            )
            existing = await _scalar(
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
