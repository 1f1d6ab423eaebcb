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

The loop is here; its steps are parts of ``Worker`` (mixins, each naming in an
``if TYPE_CHECKING:`` block what it uses of the others):

| part (module)                         | does                                            |
| ------------------------------------- | ----------------------------------------------- |
| ``Pulls`` (pulls.py)                  | the folder list; folders' batches committed     |
| ``BodyFetch`` (body_fetch.py)         | the body window fetched; search text; compacts  |
| ``UserRequests`` (user_requests.py)   | what the UI asks for (bodies, folder changes,   |
|                                       | windows), served between two batches            |
| ``OpSender`` (pending_ops.py)         | pending ops sent, done after the server's OK    |
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from mailtui.errors import AuthError, ConfigError, TransientError
from mailtui.models import Account
from mailtui.store import Store, StoreError
from mailtui.sync.body_fetch import BodyFetch
from mailtui.sync.body_progress import BodyProgress
from mailtui.sync.contract import (
    AccountStatus,
    Backend,
    Capabilities,
    EventKind,
    StatefulBackend,
    SyncEvent,
)
from mailtui.sync.first_rows import FirstRows
from mailtui.sync.ledger import hand_ledger
from mailtui.sync.local_ops import open_local_account
from mailtui.sync.logbook import AccountLog
from mailtui.sync.pending_ops import OpSender
from mailtui.sync.plain_words import plain as _plain
from mailtui.sync.pulls import COMMITS_QUEUED, Pulls
from mailtui.sync.retry import Backoff, Retry
from mailtui.sync.retry import stop_if_cancelled as _stop_if_cancelled
from mailtui.sync.user_requests import UserRequests
from mailtui.sync.window import Windows
from mailtui.sync.worker_options import WorkerOptions

__all__ = ["COMMITS_QUEUED", "BackendFactory", "Emit", "Worker", "WorkerOptions"]

log = logging.getLogger(__name__)

BackendFactory = Callable[[], Backend]
Emit = Callable[[SyncEvent], None]


class Worker(Pulls, BodyFetch, UserRequests, OpSender):
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
        self.first_rows = FirstRows()  # a first pass waits for its first rows on screen

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
