"""IDLE on the folder the user has open, through a second connection.

The account's main connection IDLEs on INBOX between sync rounds
(``ImapBackend.wait_for_changes``). When the user opens another folder, ``FolderWatch``
opens a second connection (lazily, on the first ``watch``), EXAMINEs that folder and
IDLEs on it; a change there is recorded in ``changed`` and signalled with ``event``,
which ``wait_for_changes`` waits on beside its own IDLE, so the worker pulls that folder
at once. IDLE is ended and issued again every ``renew`` seconds (servers may drop a
client idle for 30 minutes, RFC 3501 5.4). ``watch(None)`` (the open folder is INBOX, or
none) and ``close`` log the second connection out.

A server that refuses the second connection (too many connections, ``[LIMIT]``), or any
other failure on it, is logged at INFO and never reaches the user: the open folder is
then polled with the others (``poll_interval``), and the watch tries again after
``retry`` seconds or when another folder is opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from mailtui.errors import ConfigError, SyncError
from mailtui.protocols.imap import utf7
from mailtui.protocols.imap.connection import CommandFailed, ImapConnection

log = logging.getLogger(__name__)

OpenConnection = Callable[[], Awaitable[ImapConnection]]
# EXAMINEs the folder on the given connection; True if it changed since the last pull.
Examine = Callable[[ImapConnection, str], Awaitable[bool]]


async def finish(*tasks: asyncio.Task[Any]) -> None:
    """Cancel the tasks that still run and wait for them all, without swallowing a
    cancellation of the caller (``asyncio.wait`` never raises a task's error)."""
    for task in tasks:
        if not task.done():
            task.cancel()
    await asyncio.wait(tasks)


class FolderWatch:
    def __init__(
        self,
        open_connection: OpenConnection,
        examine: Examine,
        *,
        renew: float,
        retry: float,
        account: str = "",
    ) -> None:
        self._open_connection = open_connection
        self._examine = examine
        self.renew = renew
        self.retry = retry
        self.account = account
        self.folder: str | None = None  # what to watch
        self.conn: ImapConnection | None = None  # the second connection, while open
        self.changed: set[str] = set()  # folders that changed, not yet taken
        self.event = asyncio.Event()  # set while ``changed`` is not empty
        self.idling: str | None = None  # the folder IDLE runs on right now
        self._moved = asyncio.Event()  # ``folder`` changed: the task follows
        self._task: asyncio.Task[None] | None = None
        self._stopping: set[asyncio.Task[None]] = set()  # cancelled, logging out

    # ------------------------------------------------------------------ outside API

    def watch(self, folder: str | None) -> None:
        """Watch ``folder`` from now on (None: stop, and log the connection out)."""
        running = self._task is not None and not self._task.done()
        if folder == self.folder and (running or folder is None):
            return
        self.folder = folder
        if folder is None:
            task, self._task = self._task, None
            if task is not None:
                task.cancel()  # its ``finally`` logs the connection out
                self._stopping.add(task)  # a reference until it is done
                task.add_done_callback(self._stopping.discard)
        elif running:
            self._moved.set()
        else:
            self._moved.clear()
            self._task = asyncio.create_task(self._run(), name=f"imap-watch:{self.account}")

    def take(self) -> set[str]:
        """The folders that changed since the last call."""
        out, self.changed = self.changed, set()
        self.event.clear()
        return out

    async def close(self) -> None:
        self.folder = None
        task, self._task = self._task, None
        tasks = [*([task] if task is not None else []), *self._stopping]
        if tasks:
            await finish(*tasks)  # each logs its connection out

    # ------------------------------------------------------------------ the task

    def _note(self, folder: str) -> None:
        self.changed.add(folder)
        self.event.set()

    async def _run(self) -> None:
        # Each task owns its connection: a task cancelled by watch(None) logs its own out
        # even when watch() has started the next one meanwhile.
        conn: ImapConnection | None = None
        try:
            while self.folder is not None:
                folder = self.folder
                self._moved.clear()
                try:
                    if conn is None or conn.broken:
                        await self._drop(conn)
                        conn = None
                        conn = self.conn = await self._open_connection()
                    await self._watch(conn, folder)
                except (SyncError, ConfigError, CommandFailed, OSError, TimeoutError) as exc:
                    # Quietly: the folder is polled meanwhile; the user is not told.
                    log.info(
                        "%s: no IDLE on %r through a second connection (%s); polling it",
                        self.account,
                        utf7.decode(folder),
                        exc,
                    )
                    await self._drop(conn)
                    conn = None
                    await self._pause()
                except Exception:  # a bug: logged with its traceback, still only polling
                    log.exception("%s: watching %r failed", self.account, folder)
                    await self._drop(conn)
                    conn = None
                    await self._pause()
        finally:
            await self._drop(conn)

    async def _pause(self) -> None:
        """``retry`` seconds, or until another folder is to be watched. (asyncio.timeout,
        not wait_for: on Python 3.11 wait_for can swallow a cancellation.)"""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.retry):
                await self._moved.wait()

    async def _watch(self, conn: ImapConnection, folder: str) -> None:
        if await self._examine(conn, folder):
            self._note(folder)
        while folder == self.folder and not self._moved.is_set():
            idle = asyncio.create_task(conn.idle(self.renew))
            moved = asyncio.create_task(self._moved.wait())
            self.idling = folder
            try:
                await asyncio.wait({idle, moved}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                self.idling = None
                await finish(idle, moved)
            if not idle.cancelled():
                idle.result()  # the connection's error, if any
            if conn.changed:
                self._note(folder)
            # else: renew (or the folder changed): IDLE again, or EXAMINE the new one

    async def _drop(self, conn: ImapConnection | None) -> None:
        if conn is None:
            return
        if self.conn is conn:
            self.conn = None
        await conn.logout()
