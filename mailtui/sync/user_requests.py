"""What the UI asks of the worker, served between two batches or steps of its loop:
bodies the user waits for, folder changes (create, rename, delete, subscribe), the
windows and server questions of a first pass (``window.py``), and the folder the UI
shows (watched by a ``FolderWatcher``).

A part of ``Worker`` (``mailtui/sync/worker.py``). A request made while the account is
offline or refused gets its answer at once (``_fail_body_requests``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from mailtui.errors import OpRejected, TransientError
from mailtui.models import Account, FolderBatch, RemoteFolder
from mailtui.store import Store
from mailtui.sync.contract import Backend, FolderWatcher, SyncEvent
from mailtui.sync.folder_changes import apply_folder_change
from mailtui.sync.local_ops import change_local_folder
from mailtui.sync.plain_words import plain as _plain
from mailtui.sync.window import Windows


class UserRequests:
    """The UI's requests and how the loop serves them; a part of ``Worker``."""

    if TYPE_CHECKING:
        # What this part uses of the worker and its other parts.
        account: Account
        store: Store
        emit: Callable[[SyncEvent], None]
        folder_ids: dict[str, int]
        windows: Windows
        _wake: asyncio.Event
        _body_requests: asyncio.Queue[tuple[int, asyncio.Future[bytes | None]]]
        _folder_requests: asyncio.Queue[
            tuple[tuple[str, str, str | None], asyncio.Future[str]]
        ]
        _backend: Backend | None
        _open_folder: int | None
        _pull_next: set[str]

        async def _list_folders(self, backend: Backend) -> list[RemoteFolder]: ...

        async def _commit(self, folder_id: int, batch: FolderBatch) -> None: ...

        async def _store_body(self, message_id: int, raw: bytes) -> None: ...

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
