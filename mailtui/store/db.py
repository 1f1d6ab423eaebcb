"""The database every part of the store builds on: opening, connections, transactions.

One SQLite file (WAL) per user, shared by the UI and the sync workers. Concurrency
model: one *writer* connection, serialized by an ``asyncio.Lock``, where every public
write method is exactly one ``BEGIN IMMEDIATE`` transaction (``Database._tx``, or
``Database._tx_in_writer``: the whole transaction as one call into the writer's thread);
and one *reader* connection for what the UI draws (``Database._read``). In WAL mode a
reader sees the last committed state and never waits for the writer, so a long sync
batch cannot freeze the screen.

Opening creates the file with a private mode, migrates the schema (``schema.py``) or
refuses a file this code must not touch, and recovers what a crash left behind. A
transaction covers the body packs too: appends of a transaction that rolls back are cut
off again (the appending itself is in ``bodies.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import stat
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self, TypeVar

import aiosqlite

from mailtui.errors import StoreError, StoreVersionError
from mailtui.models import OpKind, OpState
from mailtui.store import schema
from mailtui.store.graves import BURY_BATCH, Graves
from mailtui.store.packs import Packs
from mailtui.store.writer_thread import IN_JSON, JSON_IN, in_writer, json_array

Row = Sequence[Any]
#: Where a cached body is: (message id, size, pack, pos); pack None: a schema-3 file.
BodyRef = tuple[int, int, int | None, int | None]
T = TypeVar("T")

log = logging.getLogger(__name__)

#: Op state between ``claim_ops`` and ``op_done``/``op_failed``; store-internal, so it is
#: not part of ``models.OpState``.
IN_FLIGHT: Final = "in_flight"
PENDING: Final = OpState.PENDING.value
DONE: Final = OpState.DONE.value
FAILED: Final = OpState.FAILED.value
LIVE: Final = f"('{PENDING}', '{IN_FLIGHT}')"
RELOCATING: Final = f"('{OpKind.MOVE.value}', '{OpKind.DELETE.value}')"

#: Host parameters per ``IN (…)`` list; far below SQLite's limit, large enough that a
#: batch of 1000 costs two queries.
_CHUNK: Final = 500

_BUSY_TIMEOUT_MS: Final = 10_000

#: Finished ops are kept this long (seconds) for the record, then pruned at open.
_KEEP_FINISHED_OPS: Final = 30 * 86400
#: The writer's page cache (bodies do not pass through it: they are in packs, see
#: packs.py; a 32 MB cache measured no faster than 8 MB, docs/decisions.md).
_WRITER_CACHE_KIB: Final = 8 * 1024
#: Ids of unlinked body files forgotten per statement (see ``Store._bury``).
_READER_CACHE_KIB: Final = 16 * 1024


def placeholders(n: int) -> str:
    return ",".join("?" * n)


def chunked(items: Sequence[T], size: int = _CHUNK) -> Iterable[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def select_in(
    conn: sqlite3.Connection, sql: str, params: Sequence[Any], values: Sequence[Any]
) -> list[Row]:
    """The rows of ``sql``, whose one ``{}`` is the list of an ``IN`` that takes the
    last parameter, for ``values``; synchronous, for the writer thread (``in_writer``).

    One statement for any number of values (a JSON array read by ``json_each``); values
    JSON would not carry unchanged go bound, ``_CHUNK`` a statement, as before."""
    if not values:
        return []
    text = json_array(values) if JSON_IN else None
    if text is not None:
        return conn.execute(sql.format(IN_JSON), (*params, text)).fetchall()
    out: list[Row] = []
    for chunk in chunked(values):
        out += conn.execute(sql.format(f"({placeholders(len(chunk))})"), (*params, *chunk))
    return out


def timestamp() -> int:
    return int(time.time())


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


async def scalar(db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> Any:
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
        await scalar(db, "SELECT count(*) FROM sqlite_master")
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
            version = int(await scalar(db, "PRAGMA user_version"))
            app_id = int(await scalar(db, "PRAGMA application_id"))
            tables = int(await scalar(db, "SELECT count(*) FROM sqlite_master"))
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
                if int(await scalar(db, "PRAGMA user_version")) == version:
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


def _whole_tx(
    fn: Callable[[sqlite3.Connection], T], graves: Graves, conn: sqlite3.Connection
) -> tuple[T, list[int]]:
    """``Database._tx_in_writer``'s part in the writer thread."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn)
        dead = graves.look(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result, dead


class Database:
    """The connections and the transaction; the base of every part of ``Store``."""

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
        self._graves = Graves()

    @classmethod
    async def open(cls, path: str | os.PathLike[str]) -> Self:
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
        try:
            await writer.create_function(Graves.FUNCTION, 0, store._graves.seen)
            await writer.execute(Graves.TRIGGER)
        except sqlite3.Error as e:
            await reader.close()
            await writer.close()
            raise _open_error(p, e) from e
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

    async def __aenter__(self) -> Self:
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
                f"UPDATE pending_ops SET state = '{PENDING}' WHERE state = '{IN_FLIGHT}'"
            )
            await db.execute(
                f"DELETE FROM pending_ops WHERE state IN ('{DONE}', '{FAILED}') AND updated < ?",
                (timestamp() - _KEEP_FINISHED_OPS,),
            )

    @asynccontextmanager
    async def _tx(self, *, durable: bool = False) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction on the writer connection, serialized with all others.

        BEGIN IMMEDIATE takes the write lock up front, so a transaction never fails
        half-way with SQLITE_BUSY because another process started writing first.

        ``durable``: committed with ``synchronous = FULL``, so the log is on the disk,
        with every transaction before it, when this returns (before a server or a pack
        file drops the only other copy). SQLite changes the safety level only outside a
        transaction, so the switch happens here, under the write lock, and is undone
        before the lock is released.
        """
        async with self._wlock:
            db = self._w
            self._appended = None
            try:
                if db.in_transaction:  # left open by a call that was cancelled mid-way
                    await db.execute("ROLLBACK")
                if durable:
                    await db.execute("PRAGMA synchronous = FULL")
                try:
                    async with self._tx_body(db) as inner:
                        yield inner
                finally:
                    if durable:
                        await db.execute("PRAGMA synchronous = NORMAL")
            except sqlite3.Error as e:
                raise StoreError(f"cache database error: {e}") from e

    @asynccontextmanager
    async def _tx_body(self, db: aiosqlite.Connection) -> AsyncIterator[aiosqlite.Connection]:
        """The transaction of ``_tx``, its lock held and its safety level set."""
        await db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            dead = await in_writer(db, self._graves.look) if self._graves.maybe else []
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
            await self._bury(db, dead)

    async def _tx_in_writer(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """The transaction of ``_tx`` run whole in the writer thread, one round trip:
        BEGIN IMMEDIATE, ``fn``, the look at ``dead_bodies``, COMMIT (ROLLBACK if ``fn``
        raises). Only for a ``fn`` that appends no body to a pack (``_tx`` cuts those
        back on a rollback) and needs nothing of the event loop.

        Cancelled, it still holds the write lock until the thread has finished the
        transaction (committed or rolled back; the thread cannot be stopped half-way), so
        the next transaction never finds this one open.
        """
        async with self._wlock:
            db = self._w
            self._appended = None
            try:
                if db.in_transaction:  # left open by a call that was cancelled mid-way
                    await db.execute("ROLLBACK")
                call = asyncio.ensure_future(in_writer(db, partial(_whole_tx, fn, self._graves)))
                try:
                    result, dead = await asyncio.shield(call)
                except asyncio.CancelledError:
                    await asyncio.wait([call])
                    raise
                if dead:
                    await self._bury(db, dead)
            except sqlite3.Error as e:
                raise StoreError(f"cache database error: {e}") from e
        return result

    async def _bury(self, db: aiosqlite.Connection, message_ids: list[int]) -> None:
        """Unlink the schema-3 body files of deleted rows (their deletion has committed), then
        forget them; repeated until ``dead_bodies`` is empty. Called with the write lock
        held, so no other transaction runs in between."""
        while message_ids:
            try:
                await asyncio.to_thread(self._packs.remove_legacy, message_ids)
            except OSError as e:  # permissions changed under us: the files leak, no more
                log.warning("cannot remove cached bodies in %s: %s", self.bodies_dir, e)
            marks = placeholders(len(message_ids))
            await db.execute(f"DELETE FROM dead_bodies WHERE message_id IN ({marks})", message_ids)
            rows = await db.execute_fetchall(
                f"SELECT message_id FROM dead_bodies LIMIT {BURY_BATCH}"
            )
            message_ids = [r[0] for r in rows]
        self._graves.maybe = False

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

    async def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._rlock:
            try:
                return list(await self._r.execute_fetchall(sql, params))
            except sqlite3.Error as e:
                raise StoreError(f"cache database error: {e}") from e

    async def _next_id(self, db: aiosqlite.Connection, table: str) -> int:
        # AUTOINCREMENT tables: above both the highest id ever used and the current max.
        value = await scalar(
            db,
            "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0), "
            f"coalesce((SELECT max(id) FROM {table}), 0)) + 1",
            (table,),
        )
        return int(value)
