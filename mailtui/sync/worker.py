"""One account's sync worker: the only code that moves data between a backend and the store.

Loop (one asyncio task per account, see ``SyncManager``)::

    connect ─▶ push pending ops ─▶ folders ─▶ pull each folder in batches ─▶ bodies ─▶ ops
       ▲                                                                              │
       └── backoff (offline) ◀── TransientError     wait for push / poll / a wake-up ◀┘

- Every batch is one store transaction (``Store.apply_batch``, and for contacts and
  calendar folders ``apply_contact_batch``/``apply_calendar_batch``), committed in
  order, so a crash loses at most the batches in flight, and they come again
  (duplicates are ignored by ``(folder, remote_id)``). The sync state of the folder and
  of the account commits with the batch that carries it.
- A body the user is waiting for (``request_body``) is fetched between two batches, ahead
  of everything else.
- Ops are marked done only after the backend returned, i.e. after the server's OK; a
  local account's (``Capabilities.local``) are done in the store (``local_ops.py``).
- A wrong password stops the loop (``AUTH_FAILED``) instead of hammering the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from mailtui.errors import AuthError, ConfigError, MailtuiError, OpRejected, TransientError
from mailtui.models import (
    Account,
    CalendarBatch,
    ContactBatch,
    FolderBatch,
    FolderKind,
    OpKind,
    OpResult,
    PendingOp,
    RawMessage,
    RemoteFolder,
)
from mailtui.store import Store, StoreError
from mailtui.sync.body_progress import BodyProgress
from mailtui.sync.contract import (
    AccountStatus,
    Backend,
    CalendarSource,
    Capabilities,
    ContactSource,
    EventKind,
    FolderWatcher,
    Settling,
    StatefulBackend,
    SyncEvent,
)
from mailtui.sync.folder_changes import apply_folder_change
from mailtui.sync.indexer import index_bodies
from mailtui.sync.ledger import hand_ledger
from mailtui.sync.local_ops import change_local_folder, complete_local_ops, open_local_account
from mailtui.sync.logbook import AccountLog
from mailtui.sync.retry import Backoff, Retry
from mailtui.sync.retry import stop_if_cancelled as _stop_if_cancelled
from mailtui.sync.window import Windows

log = logging.getLogger(__name__)

BackendFactory = Callable[[], Backend]
Emit = Callable[[SyncEvent], None]

OPS_PER_ROUND = 200
COMMITS_QUEUED = 2  # fetched batches waiting for their commit (about 16 MB each)
BODIES_PER_ROUND = 500  # bodies asked of the backend at once (fetch_bodies)
BODY_CHUNK_BYTES = 4 << 20  # stored in chunks of this many bytes or messages
BODY_CHUNK_COUNT = 100


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    poll_interval: float = 300.0
    body_days: int = 30
    backoff_initial: float = 1.0
    # A server back after a restart is tried again within this (the reconnect key: at once).
    backoff_max: float = 60.0


def _nothing_to_write(batch: FolderBatch) -> bool:
    """Whether committing ``batch`` would change nothing in the store: a poll of an
    unchanged folder writes nothing to the disk."""
    return not (
        batch.added
        or batch.flags
        or batch.removed
        or batch.bodies
        or batch.reset
        or batch.state is not None
        or batch.account_state is not None
        or batch.ledger
    )


ItemBatchT = TypeVar("ItemBatchT", ContactBatch, CalendarBatch)


def _no_item_changes(batch: ContactBatch | CalendarBatch) -> bool:
    """``_nothing_to_write`` for a batch of contacts or calendar items."""
    return not (
        batch.added
        or batch.changed
        or batch.removed
        or batch.reset
        or batch.state is not None
        or batch.account_state is not None
    )


class Worker:
    def __init__(
        self,
        account: Account,
        factory: BackendFactory,
        store: Store,
        emit: Emit,
        options: WorkerOptions | None = None,
        changed: Callable[[], bool] | None = None,
    ) -> None:
        self.account = account
        self.factory = factory
        self.store = store
        self.emit = emit
        self.options = options or WorkerOptions()
        self.status = AccountStatus.STARTING
        self.status_text = ""
        self._log = AccountLog(account.name)  # the status changes a bug report needs
        #: time.time() of the next attempt while waiting out a backoff, else None.
        self.retry_at: float | None = None
        self._wake = asyncio.Event()
        # "Reconnect now", and changes of the account's settings (``changed``).
        self._retry = Retry(self._wake, changed)
        self._body_requests: asyncio.Queue[tuple[int, asyncio.Future[bytes | None]]] = (
            asyncio.Queue()
        )
        # Folder changes the user asked for: (kind, name or path, new path), answered
        # between two steps of the loop like body requests.
        self._folder_requests: asyncio.Queue[
            tuple[tuple[str, str, str | None], asyncio.Future[str]]
        ] = asyncio.Queue()
        self._backend: Backend | None = None
        #: The backend's capabilities, known once it was first built (for the UI).
        self.capabilities: Capabilities | None = None
        #: Bodies committed by this worker are the only copy (``Capabilities.sole_copy``).
        self._durable = False
        self._offline_since: float | None = None
        self.folder_ids: dict[str, int] = {}
        self._open_folder: int | None = None  # the folder the UI shows (set_open_folder)
        self._pull_next: set[str] = set()  # folders just subscribed: pulled in this round
        self._poll_now = False  # "check now": the next wake-up pulls every folder
        self._settle_now = False  # a local account deleted a server's message for good
        # A first pass's gaps, the window the list asks for, a date or filter for the server.
        self.windows = Windows(
            lambda fid: emit(SyncEvent(account.name, EventKind.MESSAGES, folder_id=fid))
        )
        self._body_progress = BodyProgress(account.name, emit)  # "bodies n/N"

    # ------------------------------------------------------------------ outside API

    def kick(self) -> None:
        """New pending ops (or anything else worth a look): stop waiting now."""
        self._wake.set()

    def check_now(self) -> None:
        """Look for new mail now: every folder is pulled, or the server is tried at once
        (out of a backoff or the wait after a refused login)."""
        self._poll_now = True
        self._retry.request()

    def reconnect(self) -> None:
        """Try the server now: ends a backoff or the wait after a refused login, and
        builds the backend anew (credentials and settings are read again)."""
        self._retry.request()

    def request_body(self, message_id: int) -> asyncio.Future[bytes | None]:
        fut: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        self._body_requests.put_nowait((message_id, fut))
        self._wake.set()
        return fut

    def request_folder_change(
        self, kind: str, name: str, new_path: str | None = None
    ) -> asyncio.Future[str]:
        """``kind``: create (``name`` is the new path), rename, delete. The future gets
        the resulting server name, or the error (OpRejected with the server's words)."""
        fut: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._folder_requests.put_nowait(((kind, name, new_path), fut))
        self._wake.set()
        return fut

    def set_open_folder(self, folder_id: int | None) -> None:
        """The folder of this account the UI shows (None: none). A backend that can
        (``FolderWatcher``) pushes its changes too, e.g. IMAP IDLE on a second
        connection."""
        self._open_folder = folder_id
        if self._backend is not None:
            self._watch_open_folder(self._backend)

    def _watch_open_folder(self, backend: Backend) -> None:
        if not isinstance(backend, FolderWatcher):
            return
        name = next(
            (name for name, fid in self.folder_ids.items() if fid == self._open_folder), None
        )
        backend.watch(name)

    async def run(self, once: bool = False, *, wait_when_refused: bool = False) -> AccountStatus:
        """Sync until cancelled; with ``once``, until in step (or failed). Returns the
        final status. A refused login or a bad setting ends the run, unless
        ``wait_when_refused``: then it waits for ``reconnect()`` or a settings change
        (``mailtui.sync.retry``) and tries again."""
        backoff = Backoff(self.options.backoff_initial, self.options.backoff_max)
        while True:
            # What went wrong, to wait on once the backend is closed: a wait with the old
            # connection still open would leave it (and its IDLE) to the server's timeout.
            trouble: tuple[AccountStatus, str] | None = None
            refused = False
            try:
                await self._session(once)
                if once:
                    return self.status
            except _SettingsChanged:
                pass  # a new session at once, with a backend built from the new settings
            except (AuthError, ConfigError) as exc:
                if isinstance(exc, AuthError):
                    self._set_status(AccountStatus.AUTH_FAILED, f"login refused: {exc}")
                else:
                    self._set_status(AccountStatus.ERROR, str(exc))
                self._fail_body_requests()
                if once or not wait_when_refused:
                    return self.status
                refused = True
            except (TransientError, OSError, TimeoutError) as exc:
                if self._offline_since is None:
                    self._offline_since = time.time()
                since = time.strftime("%H:%M", time.localtime(self._offline_since))
                trouble = (AccountStatus.OFFLINE, f"offline since {since}: {_plain(exc)}")
            except StoreError as exc:
                # The cache could not be written (disk full, file damaged): nothing was
                # half-committed; say so and try again later, the server keeps the mail.
                trouble = (AccountStatus.ERROR, f"the local cache failed: {exc}")
            except Exception as exc:  # a bug: logged with its traceback, never shown raw
                log.exception("sync worker of %s failed", self.account.name)
                text = f"internal error ({exc.__class__.__name__}); details in the log"
                trouble = (AccountStatus.ERROR, text)
            finally:
                await self._close_backend()
            if trouble is None:
                if refused:
                    await self._retry.until_asked()
                backoff.reset()
                continue
            self._fail_body_requests()
            if once:
                self._set_status(*trouble)
                return self.status
            delay = backoff.next_delay()
            # The status bar counts down to the next attempt (the reconnect key cuts it short).
            self._set_status(*trouble, retry_at=time.time() + delay)
            await self._sleep_or_wake(delay)

    # ------------------------------------------------------------------ the session

    async def _session(self, once: bool) -> None:
        self._retry.take()  # this attempt is the one asked for
        self._set_status(AccountStatus.CONNECTING, "connecting")
        backend = self.factory()
        self._backend = backend
        self.capabilities = backend.capabilities
        self._durable = backend.capabilities.sole_copy
        if backend.capabilities.local:  # its folders and ops are the store's: offline too
            await open_local_account(self.store, self.account, self.emit, durable=self._durable)
        if isinstance(backend, StatefulBackend):
            backend.restore(await self.store.account_state(self.account.id))
        hand_ledger(backend, self.store, self.account.id)
        await backend.connect()
        self.capabilities = backend.capabilities  # EAS learns them from the server
        self._offline_since = None
        self._poll_now = False  # this session's first round pulls every folder anyway
        changed: set[str] = set()
        while True:
            self._set_status(AccountStatus.SYNCING, "syncing")
            await self._serve_body_requests(backend)
            await self._push_ops(backend)
            # Ops waiting for a message's server id: pull their folders now (the message is
            # found there by Message-ID), and give up on those not found.
            waiting = await self.store.waiting_ops(self.account.id)
            if self._pull_next and changed:
                changed = (changed - {"\0local"}) | self._pull_next
            if self._settle_now:  # a local account's delete for good (_push_ops)
                changed, self._settle_now = set(), False
            self._pull_next = set()
            await self._sync(backend, changed | {f for _, f in waiting} if changed else changed)
            await self.store.give_up_waiting([op_id for op_id, _ in waiting])
            self._watch_open_folder(backend)
            await self._fetch_bodies(backend)
            await self._push_ops(backend)
            self._set_status(AccountStatus.ONLINE, "in step")
            # Local work, after the account is in step: the download never waits for it.
            await self._index_bodies(once)
            await self._compact()
            if once:
                return
            changed = await self._wait(backend)
            if self._retry.take() and self._retry.changed():
                raise _SettingsChanged

    async def _wait(self, backend: Backend) -> set[str]:
        """Waits for the server (push or poll timeout) or for a local wake-up."""
        _stop_if_cancelled()
        if self._wanted():
            self._wake.clear()
            return self._woken()
        self._wake.clear()
        server = asyncio.create_task(backend.wait_for_changes(self.options.poll_interval))
        local = asyncio.create_task(self._wake.wait())
        try:
            done, _ = await asyncio.wait({server, local}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            pending = [task for task in (server, local) if not task.done()]
            for task in pending:
                task.cancel()
            if pending:
                # Wait until they are over (a cancelled IDLE sends DONE and reads its OK,
                # so the connection stays usable). asyncio.wait raises nothing of theirs,
                # while a cancel of this task still propagates; `suppress(CancelledError)`
                # around `await task` swallowed that one, and the worker outlived stop().
                await asyncio.wait(pending)
                for task in pending:
                    if not task.cancelled():
                        task.exception()  # retrieved; a broken connection shows up next
        self._wake.clear()
        if server in done:
            return server.result()  # raises the backend's error, if any
        return self._woken()

    def _woken(self) -> set[str]:
        """What a local wake-up asks for: every folder ("check now": ``set()``), else only
        ops and bodies (no folder needs a pull)."""
        poll, self._poll_now = self._poll_now, False
        return set() if poll else {"\0local"}

    async def _sync(self, backend: Backend, changed: set[str]) -> None:
        if changed == {"\0local"}:
            return
        folders = await self._list_folders(backend)
        # Inbox first: it is what the user looks at while the rest streams in.
        ordered = sorted(folders, key=lambda f: (f.role != "inbox", f.name))
        for folder in ordered:
            if not folder.selectable or not folder.subscribed:
                continue  # not subscribed: listed greyed, synced once subscribed
            if changed and folder.name not in changed:
                continue
            if folder.kind is FolderKind.MAIL:
                await self._pull_folder(backend, folder)
            # Contacts and calendars only from a backend that can pull them.
            elif folder.kind is FolderKind.CONTACTS and isinstance(backend, ContactSource):
                await self._pull_items(
                    backend,
                    folder,
                    backend.pull_contacts,
                    self.store.apply_contact_batch,
                    EventKind.CONTACTS,
                )
            elif folder.kind is FolderKind.CALENDAR and isinstance(backend, CalendarSource):
                await self._pull_items(
                    backend,
                    folder,
                    backend.pull_calendar,
                    self.store.apply_calendar_batch,
                    EventKind.CALENDAR,
                )

    async def _list_folders(self, backend: Backend) -> list[RemoteFolder]:
        """The server's folder list, committed with the account state that goes with it."""
        folders = await backend.list_folders()
        account_state = (
            backend.take_account_state() if isinstance(backend, StatefulBackend) else None
        )
        self.folder_ids = await self.store.sync_folders(
            self.account.id, folders, account_state, keep_unlisted=backend.capabilities.local
        )
        self.emit(SyncEvent(self.account.name, EventKind.FOLDERS))
        return folders

    async def _pull_items(
        self,
        backend: Backend,
        folder: RemoteFolder,
        pull: Callable[[RemoteFolder, Mapping[str, Any]], AsyncIterator[ItemBatchT]],
        apply: Callable[[int, ItemBatchT], Awaitable[None]],
        kind: EventKind,
    ) -> None:
        """A contacts or calendar folder, a batch per transaction (few and small: no
        overlap of fetch and commit as for mail)."""
        folder_id = self.folder_ids[folder.name]
        state = await self.store.folder_state(folder_id)
        async for batch in pull(folder, state):
            if _no_item_changes(batch):
                continue
            await apply(folder_id, batch)
            if batch.added or batch.changed or batch.removed or batch.reset:
                self.emit(
                    SyncEvent(self.account.name, kind, folder_id=folder_id, progress=batch.progress)
                )
            await self._serve_body_requests(backend)

    async def _pull_folder(self, backend: Backend, folder: RemoteFolder) -> None:
        """Commit the folder's batches in order while the backend fetches the next ones
        (network and disk overlap); a body the user asked for goes between two.

        Up to ``COMMITS_QUEUED`` batches wait for their commit, each commit starting when
        the one before it is over: the fetch does not stop for a slow commit (a WAL
        checkpoint, a big pack write), it stops only when the queue is full."""
        folder_id = self.folder_ids[folder.name]
        state = await self.store.folder_state(folder_id)
        batch: FolderBatch
        queued: deque[asyncio.Task[None]] = deque()
        first = True
        try:
            async for batch in backend.pull(folder, state):
                if _nothing_to_write(batch):
                    continue  # a folder the server says is unchanged: no transaction
                while len(queued) >= COMMITS_QUEUED:
                    await queued.popleft()
                before = queued[-1] if queued else None
                queued.append(asyncio.create_task(self._commit_after(before, folder_id, batch)))
                if first:  # the first screen is on disk before the rest is fetched or parsed
                    first = False
                    await queued.popleft()
                await self._serve_body_requests(backend)
            while queued:
                await queued.popleft()
            if isinstance(backend, Settling):  # every batch committed: POP3 deletes now
                await backend.settle(folder)
        finally:
            # The pull failed or was cancelled: the batches already fetched still count.
            # A failed commit fails the ones after it (they wait for it): its error is
            # the one raised here, the rest are retrieved.
            if queued:
                await asyncio.wait(queued)
                for task in queued:
                    if not task.cancelled():
                        task.exception()

    async def _commit_after(
        self, before: asyncio.Task[None] | None, folder_id: int, batch: FolderBatch
    ) -> None:
        """Commit ``batch`` once ``before`` (the batch fetched before it) is committed:
        in order, and not at all if that one failed."""
        if before is not None:
            await asyncio.shield(before)
        await self._commit(folder_id, batch)

    async def _commit(self, folder_id: int, batch: FolderBatch) -> None:
        new_ids = await self.store.apply_batch(folder_id, batch, durable=self._durable)
        self.windows.committed(folder_id, batch)
        if new_ids or batch.flags or batch.removed or batch.reset:
            self.emit(
                SyncEvent(
                    self.account.name,
                    EventKind.MESSAGES,
                    folder_id=folder_id,
                    progress=batch.progress,
                    added=len(new_ids),
                )
            )

    async def _fetch_bodies(self, backend: Backend) -> None:
        """Bodies of the body window, newest first, a round of ``BODIES_PER_ROUND`` per
        folder at a time; a body the user asked for goes first between two rounds."""
        since = int(time.time()) - self.options.body_days * 86400
        await self._body_progress.begin(self.store, self.folder_ids.values(), since)
        batched = getattr(backend, "fetch_bodies", None) is not None
        for name, folder_id in self.folder_ids.items():
            while True:
                await self._serve_body_requests(backend)
                missing = await self.store.messages_missing_body(
                    folder_id, since, BODIES_PER_ROUND if batched else 50
                )
                if not missing:
                    break
                if batched:
                    stored = await self._fetch_round(backend, name, missing)
                else:  # a backend without the batch call: one round trip per body
                    stored = 0
                    for message_id, remote_id in missing:
                        await self._serve_body_requests(backend)
                        raw = await backend.fetch_body(name, remote_id)
                        await self._store_body(message_id, raw)
                        stored += 1
                # Nothing stored: what is left is gone from the server (the next pull
                # removes it), so asking again would loop.
                if stored == 0 or len(missing) < (BODIES_PER_ROUND if batched else 50):
                    break

    async def _fetch_round(
        self, backend: Backend, folder: str, missing: list[tuple[int, str]]
    ) -> int:
        """One ``fetch_bodies`` call; while the next bodies stream in, the previous chunk
        is turned into search text and stored (network and SQLite overlap)."""
        ids = {remote_id: message_id for message_id, remote_id in missing}
        stored = 0
        chunk: list[tuple[int, RawMessage]] = []
        chunk_bytes = 0
        writing: asyncio.Task[None] | None = None
        try:
            async for remote_id, raw in backend.fetch_bodies(folder, list(ids)):
                message_id = ids.get(remote_id)
                if message_id is None:
                    continue
                chunk.append((message_id, raw))
                chunk_bytes += len(raw)
                stored += 1
                if chunk_bytes >= BODY_CHUNK_BYTES or len(chunk) >= BODY_CHUNK_COUNT:
                    if writing is not None:
                        await writing
                    writing = asyncio.create_task(self._store_bodies(chunk))
                    chunk, chunk_bytes = [], 0
            if writing is not None:
                await writing
                writing = None
            if chunk:
                await self._store_bodies(chunk)
        finally:
            if writing is not None and not writing.done():
                writing.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await writing
        return stored

    async def _store_bodies(self, chunk: list[tuple[int, RawMessage]]) -> None:
        """The whole chunk in one transaction (files, then rows), while the next bodies
        stream in; their search text comes later (``_index_bodies``)."""
        await self.store.store_bodies([(message_id, raw, None) for message_id, raw in chunk])
        self._body_progress.stored(len(chunk))
        for message_id, _ in chunk:
            self.emit(SyncEvent(self.account.name, EventKind.BODY, message_id=message_id))

    async def _store_body(self, message_id: int, raw: bytes) -> None:
        await self.store.store_body(message_id, raw, None)
        self._body_progress.stored(1)
        self.emit(SyncEvent(self.account.name, EventKind.BODY, message_id=message_id))

    async def _index_bodies(self, once: bool) -> None:
        """Search text for the bodies stored without it (mailtui/sync/indexer.py), newest
        first, a batch per transaction. Stops early when the user waits for something
        (a body, an op, a folder change): the next round goes on where this one stopped.
        ``sync --once`` indexes everything before it exits, with a helper process for
        the text when there is a lot of it."""
        done = await index_bodies(
            self.store, self.account.id, helper=once, stop=None if once else self._wanted
        )
        if done.bodies:
            log.debug(
                "%s: %d bodies indexed, %d by the helper process",
                self.account.name,
                done.bodies,
                done.by_helper,
            )

    async def _compact(self) -> None:
        """Give back the space of deleted bodies (a share of it per round), unless the
        user waits for something. Housekeeping: a failure is logged, not shown."""
        if self._wanted():
            return
        try:
            freed = await self.store.compact_bodies()
        except StoreError as exc:
            log.warning("compacting the body cache failed: %s", exc)
            return
        if freed:
            log.info("body cache: %d bytes of deleted mail given back", freed)

    def _wanted(self) -> bool:
        """Whether the user asked for something the loop should turn to."""
        return (
            self._wake.is_set()
            or not self._body_requests.empty()
            or not self._folder_requests.empty()
        )

    async def _serve_folder_requests(self, backend: Backend) -> None:
        while not self._folder_requests.empty():
            (kind, name, new_path), fut = self._folder_requests.get_nowait()
            if fut.done():
                continue
            try:
                result = await (
                    change_local_folder(self.store, self.account, self.emit, kind, name, new_path)
                    if backend.capabilities.local
                    else apply_folder_change(backend, kind, name, new_path)
                )
                # The folder list as the server has it now (a renamed folder's messages
                # come again under the new name with the next pull).
                await self._list_folders(backend)
                if kind == "subscribe":
                    self._pull_next.add(result)
                fut.set_result(result)
            except OpRejected as exc:
                fut.set_exception(exc)
            except BaseException as exc:
                fut.set_exception(TransientError(f"the connection failed: {_plain(exc)}"))
                raise

    async def _serve_body_requests(self, backend: Backend) -> None:
        await self._serve_folder_requests(backend)
        await self.windows.serve(backend, self.folder_ids, self._commit)
        while not self._body_requests.empty():
            message_id, fut = self._body_requests.get_nowait()
            if fut.done():
                continue
            try:
                ref = await self.store.remote_ref(message_id)
                if ref is None:
                    fut.set_result(None)
                    continue
                raw = await backend.fetch_body(*ref)
                await self._store_body(message_id, raw)
                fut.set_result(raw)
            except (OpRejected, KeyError):
                fut.set_result(None)
            except BaseException:
                fut.set_result(None)
                raise

    def _fail_body_requests(self) -> None:
        while not self._body_requests.empty():
            _, fut = self._body_requests.get_nowait()
            if not fut.done():
                fut.set_result(None)
        while not self._folder_requests.empty():
            _, folder_fut = self._folder_requests.get_nowait()
            if not folder_fut.done():
                folder_fut.set_exception(
                    TransientError(f"{self.account.name} is offline; try again later")
                )

    async def _push_ops(self, backend: Backend) -> None:
        if backend.capabilities.local:  # done in the store, never sent (sync/local_ops.py)
            done = await complete_local_ops(
                self.store, self.account, self.emit, durable=self._durable
            )
            # A server message deleted for good here may be due on the server now (POP3's
            # delete_when_deleted_here): the next pull's settle deletes it, not the next poll.
            self._settle_now |= bool(done.deleted) and backend.capabilities.sole_copy
            return
        while True:
            ops = await self.store.pending_ops(self.account.id, OPS_PER_ROUND)
            if not ops:
                return
            # Claimed ops can no longer be undone by the user: they are about to be sent.
            claimed = set(await self.store.claim_ops([op.id for op in ops]))
            unsent = [op.id for op in ops if op.id in claimed]
            try:
                for op in ops:
                    if op.id in claimed:
                        unsent.remove(op.id)
                        await self._apply_op(backend, op)
            except Exception:
                # The connection died mid-batch: the claimed ops after the failed one were
                # never sent; back to pending, so the next session replays them in order.
                for op_id in unsent:
                    await self.store.op_failed(op_id, "not sent: connection lost", permanent=False)
                raise
            if len(ops) < OPS_PER_ROUND:
                return

    async def _apply_op(self, backend: Backend, op: PendingOp) -> None:
        if op.remote_id is None and op.kind is not OpKind.APPEND:
            # Listed before an earlier op of the same round (a MOVE, or the APPEND of a
            # draft copy) taught the store the message's server id: read it again.
            fresh = await self.store.pending_op(op.id)
            if fresh is not None:
                op = fresh
        target: str | None = None
        if op.kind in (OpKind.MOVE, OpKind.COPY):
            target = (await self.store.folder(int(op.payload["to_folder"]))).name
        elif op.kind is OpKind.APPEND:
            target = (await self.store.folder(int(op.payload["folder"]))).name
            # The bytes to file travel in the payload, read only now (they can be large).
            raw = await self.store.append_source(op)
            if raw is None:  # the outbox item was discarded meanwhile: nothing to file
                await self.store.op_done(op.id, OpResult())
                return
            op = dataclasses.replace(op, payload={**op.payload, "raw": raw})
        try:
            result = await backend.apply(op, target)
        except OpRejected as exc:
            await self.store.op_failed(op.id, str(exc), permanent=True)
            self._log.op_refused(op.kind.value, _plain(exc))
            self.emit(SyncEvent(self.account.name, EventKind.OP_FAILED, text=_plain(exc)))
            return
        except (TransientError, OSError, TimeoutError) as exc:
            await self.store.op_failed(op.id, _plain(exc), permanent=False)
            raise
        await self.store.op_done(op.id, result)
        self.emit(SyncEvent(self.account.name, EventKind.OP_DONE, message_id=op.message_id))

    # ------------------------------------------------------------------ helpers

    async def _sleep_or_wake(self, delay: float) -> None:
        await self._retry.sleep(delay)

    async def _close_backend(self) -> None:
        backend, self._backend = self._backend, None
        if backend is not None:
            with contextlib.suppress(Exception):
                await backend.close()

    def _set_status(
        self, status: AccountStatus, text: str, *, retry_at: float | None = None
    ) -> None:
        if (status, text, retry_at) == (self.status, self.status_text, self.retry_at):
            return
        self.status = status
        self.status_text = text
        self._log.status(status, text)
        self.retry_at = retry_at
        self.emit(
            SyncEvent(
                self.account.name, EventKind.STATUS, status=status, text=text, retry_at=retry_at
            )
        )


class _SettingsChanged(Exception):
    """The user asked to reconnect and the account's settings changed: a new session."""


def _plain(exc: BaseException) -> str:
    """An exception in plain words for the status bar: never a traceback."""
    if isinstance(exc, MailtuiError) and str(exc):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return "the server did not answer in time"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or exc.__class__.__name__
