"""The worker's pulls: the folder list, and each folder's batches committed in order.

A part of ``Worker`` (``mailtui/sync/worker.py``): mail folders commit their batches
while the backend fetches the next ones (up to ``COMMITS_QUEUED`` waiting); contacts and
calendar folders a batch per transaction. What the user asks for meanwhile is served
between two batches (``UserRequests._serve_body_requests``).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from mailtui.models import (
    Account,
    CalendarBatch,
    ContactBatch,
    FolderBatch,
    FolderKind,
    RemoteFolder,
)
from mailtui.store import Store
from mailtui.sync.contract import (
    Backend,
    CalendarSource,
    ContactSource,
    EventKind,
    Settling,
    StatefulBackend,
    SyncEvent,
)
from mailtui.sync.first_rows import FirstRows
from mailtui.sync.window import Windows

COMMITS_QUEUED = 2  # fetched batches waiting for their commit (about 16 MB each)


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


class Pulls:
    """Pulling folders and committing their batches; a part of ``Worker``."""

    if TYPE_CHECKING:
        # What this part uses of the worker and its other parts.
        account: Account
        store: Store
        emit: Callable[[SyncEvent], None]
        folder_ids: dict[str, int]
        windows: Windows
        first_rows: FirstRows
        _open_folder: int | None
        _durable: bool

        async def _serve_body_requests(self, backend: Backend) -> None: ...

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
                    # ... and on screen, when the UI shows the folder (``first_rows.py``).
                    shown = batch.listing is not None and folder_id == self._open_folder
                    if shown:
                        self.first_rows.expect(folder_id)
                    await queued.popleft()
                    if shown:
                        await self.first_rows.wait(folder_id)
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
