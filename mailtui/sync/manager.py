"""Runs one ``Worker`` task per account and is the UI's only door to them.

The UI (or ``mailtui sync``) registers listeners for ``SyncEvent``s; they are called on the
event loop's thread, so a Textual app turns each into a message with ``post_message``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from mailtui.errors import TransientError
from mailtui.models import Account
from mailtui.store import Store
from mailtui.sync.contract import AccountStatus, Capabilities, EventKind, SyncEvent
from mailtui.sync.local_ops import change_local_folder
from mailtui.sync.server_search import ServerFilter
from mailtui.sync.window import FolderGaps
from mailtui.sync.worker import BackendFactory, Worker, WorkerOptions

log = logging.getLogger(__name__)

Listener = Callable[[SyncEvent], None]
BODY_TIMEOUT = 60.0
FOLDER_TIMEOUT = 60.0
SERVER_TIMEOUT = 30.0  # a date asked of the server during a first pass


class Sender(Protocol):
    """What the manager needs of an outbox sender (``mailtui.sync.outbox.OutboxSender``)."""

    def kick(self) -> None: ...

    async def run(self) -> None: ...


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    account: Account
    factory: BackendFactory
    options: WorkerOptions = WorkerOptions()
    # Builds the account's outbox sender (``mailtui.sync.outbox.OutboxSender``) given the
    # manager's event sink and a callback that kicks the sync worker once a message was
    # accepted (so its copy is filed in Sent); None when the account sends no mail.
    sender: Callable[[Callable[[SyncEvent], None], Callable[[], None]], Sender] | None = None
    # Whether the account's settings (config.toml) changed since ``factory`` last built a
    # backend: a worker waiting after a refused login tries again when they do.
    changed: Callable[[], bool] | None = None



class SyncManager:
    def __init__(self, store: Store, specs: list[WorkerSpec]) -> None:
        self.store = store
        self._listeners: list[Listener] = []
        self.workers: dict[int, Worker] = {
            spec.account.id: Worker(
                spec.account, spec.factory, store, self._emit, spec.options, spec.changed
            )
            for spec in specs
        }
        self._tasks: dict[int, asyncio.Task[AccountStatus]] = {}
        self.senders: dict[int, Sender] = {}
        for spec in specs:
            if spec.sender is not None:
                account_id = spec.account.id
                self.senders[account_id] = spec.sender(
                    self._emit, functools.partial(self._kick_worker, account_id)
                )
        self._sender_tasks: dict[int, asyncio.Task[None]] = {}
        self._started: bool | None = None  # start()'s wait_when_refused, once started

    def add_listener(self, cb: Listener) -> None:
        self._listeners.append(cb)

    def _emit(self, event: SyncEvent) -> None:
        for cb in list(self._listeners):
            try:
                cb(event)
            except Exception:  # a broken listener must not stop a sync
                log.exception("sync event listener failed")

    async def start(self, *, wait_when_refused: bool = True) -> None:
        """Starts every worker in the background and returns at once. A worker whose
        login is refused waits for ``reconnect()`` or a settings change, unless
        ``wait_when_refused`` is False (``mailtui sync`` ends then)."""
        self._started = wait_when_refused
        for account_id, worker in self.workers.items():
            if account_id not in self._tasks or self._tasks[account_id].done():
                self._tasks[account_id] = asyncio.create_task(
                    worker.run(wait_when_refused=wait_when_refused),
                    name=f"sync:{worker.account.name}",
                )
        for account_id, sender in self.senders.items():
            task = self._sender_tasks.get(account_id)
            if task is None or task.done():
                self._sender_tasks[account_id] = asyncio.create_task(
                    sender.run(), name=f"outbox:{account_id}"
                )

    async def add_account(self, spec: WorkerSpec) -> None:
        """An account added while running (the setup wizard saved it): its worker and
        outbox sender, started at once when the others run. Raises ValueError for an
        account that already has a worker."""
        account_id = spec.account.id
        if account_id in self.workers:
            raise ValueError(f"account {spec.account.name!r} is syncing already")
        self.workers[account_id] = Worker(
            spec.account, spec.factory, self.store, self._emit, spec.options, spec.changed
        )
        if spec.sender is not None:
            self.senders[account_id] = spec.sender(
                self._emit, functools.partial(self._kick_worker, account_id)
            )
        if self._started is not None:
            await self.start(wait_when_refused=self._started)

    async def remove_account(self, account_id: int) -> None:
        """Stops the account's worker and sender and forgets them (the account is being
        removed); a no-op for an account without a worker. No status event follows: the
        account is gone from ``status()``. The store is not touched."""
        self.workers.pop(account_id, None)
        self.senders.pop(account_id, None)
        running = (self._tasks.pop(account_id, None), self._sender_tasks.pop(account_id, None))
        tasks: list[asyncio.Task[Any]] = [t for t in running if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        for task in tasks:
            if not task.cancelled():
                task.exception()  # retrieved: its end is this removal

    async def run_once(self) -> dict[str, AccountStatus]:
        """Syncs every account until it is in step (``mailtui sync --once``)."""
        results = await asyncio.gather(*(w.run(once=True) for w in self.workers.values()))
        return {w.account.name: r for w, r in zip(self.workers.values(), results, strict=True)}

    async def run_forever(self) -> dict[str, AccountStatus]:
        """Syncs until cancelled or every worker has stopped for good (auth, config)."""
        await self.start(wait_when_refused=False)
        results = await asyncio.gather(*self._tasks.values())
        return {w.account.name: r for w, r in zip(self.workers.values(), results, strict=True)}

    async def stop(self) -> None:
        tasks: list[asyncio.Task[Any]] = [*self._tasks.values(), *self._sender_tasks.values()]
        self._sender_tasks.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)  # raises nothing of theirs; a cancel of stop() does
        for task in tasks:
            if not task.cancelled():
                task.exception()  # retrieved: a worker's end was reported by its status
        self._tasks.clear()
        for worker in self.workers.values():
            worker._set_status(AccountStatus.STOPPED, "stopped")

    def status(self) -> dict[str, tuple[AccountStatus, str]]:
        return {w.account.name: (w.status, w.status_text) for w in self.workers.values()}

    def capabilities(self, account_id: int) -> Capabilities | None:
        """What the account's backend can do, for the UI to hide the rest; None until
        its worker has built a backend (or for an unknown account)."""
        worker = self.workers.get(account_id)
        return worker.capabilities if worker is not None else None

    def kick(self, account_id: int) -> None:
        """Pending ops or outbox items were added for the account: act on them now."""
        self._kick_worker(account_id)
        sender = self.senders.get(account_id)
        if sender is not None:
            sender.kick()

    def reconnect(self) -> None:
        """"Reconnect now": every worker tries its server at once (out of a backoff or
        the wait after a refused login), with credentials and settings read again; the
        outbox senders try their unsent mail too."""
        for worker in self.workers.values():
            worker.reconnect()
        for sender in self.senders.values():
            sender.kick()

    def check_now(self) -> None:
        """"Check now": every worker pulls every folder at once (a worker offline or
        refused tries its server now), and every outbox sender tries its unsent mail."""
        for worker in self.workers.values():
            worker.check_now()
        for sender in self.senders.values():
            sender.kick()

    def _kick_worker(self, account_id: int) -> None:
        worker = self.workers.get(account_id)
        if worker is not None:
            worker.kick()

    def set_open_folder(self, account_id: int | None, folder_id: int | None) -> None:
        """The folder the user has open (None, None: none, or "All inboxes"). Its
        account's worker keeps it under push where the protocol allows (IMAP: IDLE on a
        second connection, closed again when the folder is INBOX or none); the other
        workers stop watching theirs."""
        for worker in self.workers.values():
            worker.set_open_folder(folder_id if worker.account.id == account_id else None)

    def rows_drawn(self, folder_id: int) -> None:
        """The list drew rows of ``folder_id``: a first pass waiting for its first rows
        on screen goes on (``sync/first_rows.py``)."""
        for worker in self.workers.values():
            worker.first_rows.drawn(folder_id)

    def gaps(self, folder_id: int) -> FolderGaps | None:
        """What a folder in its first pass lacks yet (None: nothing known); the list
        shows its whole length with placeholders (``sync/window.py``)."""
        for worker in self.workers.values():
            found = worker.windows.gaps(folder_id)
            if found is not None:
                return found
        return None

    def want_window(self, folder_id: int, remote_ids: list[str]) -> None:
        """The list shows these placeholders: their worker fetches them between two
        batches of its pass, the latest request first."""
        for worker in self.workers.values():
            if worker.windows.want(folder_id, remote_ids):
                return

    def _in_pass(self, folder_id: int) -> Worker | None:
        """The worker whose first pass of ``folder_id`` is running, if it is online."""
        for worker in self.workers.values():
            if worker.windows.gaps(folder_id) is not None:
                offline = (AccountStatus.OFFLINE, AccountStatus.AUTH_FAILED, AccountStatus.ERROR)
                return None if worker.status in offline else worker
        return None

    async def date_position(self, folder_id: int, day: date) -> int | None:
        """During the first pass of ``folder_id``: the listing position of the newest
        message that arrived on or before ``day``, its window cached first (the listing's
        length: nothing that old). None when the server cannot tell (no pass, offline,
        no answer in time): the store's rows answer then (``sync/server_search.py``)."""
        worker = self._in_pass(folder_id)
        if worker is None:
            return None
        answer = worker.windows.asks.ask_date(folder_id, day)
        try:
            async with asyncio.timeout(SERVER_TIMEOUT):  # not wait_for: it can swallow a cancel
                return await answer
        except TimeoutError:
            return None
        finally:
            answer.cancel()  # (no-op once answered) not served any more

    def search_server(self, folder_id: int, query: str) -> ServerFilter | None:
        """During the first pass of ``folder_id``: the server searches its part not cached
        yet for ``query`` and those envelopes are fetched first; the list's search of the
        store then finds them. None when there is no pass (or the account is offline)."""
        worker = self._in_pass(folder_id)
        return worker.windows.asks.search(folder_id, query) if worker is not None else None

    async def change_folder(
        self, account_id: int, kind: str, name: str, new_path: str | None = None
    ) -> str:
        """Create, rename or delete a folder on the account's server, through its worker;
        of a local account (``Capabilities.local``), in the store.

        Returns the folder's server name. Raises SyncError with plain words: the server's
        refusal (OpRejected), or the account being offline (TransientError).
        """
        worker = self.workers.get(account_id)
        caps = worker.capabilities if worker is not None else None
        if worker is not None and caps is not None and caps.local:
            # Its folders are the store's (sync/local_ops.py): no server to ask, offline too.
            return await change_local_folder(
                self.store, worker.account, self._emit, kind, name, new_path
            )
        task = self._tasks.get(account_id)
        if worker is None or task is None or task.done():
            raise TransientError("that account is not syncing right now")
        if worker.status in (AccountStatus.OFFLINE, AccountStatus.AUTH_FAILED):
            raise TransientError(f"{worker.account.name} is offline; try again later")
        try:
            async with asyncio.timeout(FOLDER_TIMEOUT):  # not wait_for: it can swallow a cancel
                return await worker.request_folder_change(kind, name, new_path)
        except TimeoutError:
            raise TransientError("the server did not answer in time") from None

    async def fetch_body(self, message_id: int) -> bytes | None:
        """Asks the message's worker to fetch its body now; None when that cannot happen
        (offline, message gone, no worker)."""
        detail = await self.store.message(message_id)
        if detail is None:
            return None
        if detail.raw is not None:
            return detail.raw
        worker = self.workers.get(detail.account_id)
        task = self._tasks.get(detail.account_id)
        if worker is None or task is None or task.done():
            return None
        if worker.status in (AccountStatus.OFFLINE, AccountStatus.AUTH_FAILED):
            return None
        try:
            async with asyncio.timeout(BODY_TIMEOUT):  # not wait_for: it can swallow a cancel
                return await worker.request_body(message_id)
        except TimeoutError:
            self._emit(
                SyncEvent(
                    worker.account.name,
                    EventKind.STATUS,
                    status=worker.status,
                    text="the server did not send the message in time",
                )
            )
            return None
