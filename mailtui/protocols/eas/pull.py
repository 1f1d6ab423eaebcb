"""Pull: the folder list (FolderSync), each mail folder's changes (Sync) in batches, and
whole messages (ItemOperations) for ``EasBackend``.

Folder sync state (JSON, kept by the store, committed with each batch)::

    key     the folder's Sync key after the batch
    filter  the FilterType the next Sync asks ("0", all, when absent)

A first sync brings the newest mail first by stepping ``FilterType``: it starts with the
last day and widens the window (``FILTER_STEPS``) each time the server has sent all of
a step (no ``MoreAvailable``), on the same key; the server sends the messages that enter
the window as Adds (SOGo does, tests/integration/test_eas_newest_first.py). The step is
committed with the key, so a crash resumes in the same step. The last step is "0": the
whole folder. A folder synced before (a key and no ``filter``) stays at "0". Until the
first screenful is in, a stepping pull asks ``FIRST_WINDOW`` messages a Sync instead of
``WINDOW``.

A batch carries its key in the folder's state and in the account's (``keys``), committed
together with its messages: a crash resumes from the last committed key, and the server
sends again what came after it (the store ignores an Add it has already). An invalid key
(status 3) resyncs that folder alone: a ``reset`` batch and a first sync from "0". A
changed folder list (status 12) is answered at once with a FolderSync, then the Sync goes
again (once; the new tree is committed with the next batch's account state).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from functools import partial
from typing import Any

from mailtui.errors import ConfigError, OpRejected, TransientError
from mailtui.models import FolderBatch, FolderKind, RawMessage, RemoteFolder
from mailtui.protocols.eas import items, sync
from mailtui.protocols.eas.folders import FolderKeyInvalid, FolderTree, folder_sync
from mailtui.protocols.eas.session import EasSession
from mailtui.protocols.eas.wbxml import Element

#: Messages per Sync; whole MIME messages come in them.
WINDOW = 100
#: WindowSize of a first sync until a screenful is in: SOGo 5.8 takes about 20 ms a
#: message whatever the request asks (docs/decisions.md), so a first window of 100 keeps
#: the list empty for two seconds; one of 50 shows the newest screenful after one.
FIRST_WINDOW = 50
#: FilterType of a first sync, step by step ([MS-ASCMD] 2.2.3.68.2): 1 day, 3 days,
#: 1 week, 2 weeks, 1 month, 3 months, 6 months, then all. The document lists 6 and 7
#: for calendars only; SOGo takes them for mail, and a server that refuses a step is
#: asked the next one.
FILTER_STEPS = ("1", "2", "3", "4", "5", "6", "7", "0")
#: ItemOperations Fetch: messages per request.
FETCH_CHUNK = 20


class EasPull(EasSession):
    """Folders, their changes, and bodies."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Server changes that came with the answer to an op's Sync, by folder: the
        #: next pull of the folder hands them on first (with their key).
        self.stash: dict[str, sync.SyncAnswer] = {}

    async def fresh_tree(self) -> None:
        """The folder tree brought up to date (FolderSync); from scratch when the server
        no longer knows its key."""
        try:
            await self.call(lambda: folder_sync(self.http, self.tree))
        except FolderKeyInvalid:
            self.tree = FolderTree("0", {})
            await self.call(lambda: folder_sync(self.http, self.tree))

    async def list_folders(self) -> list[RemoteFolder]:
        await self.fresh_tree()
        folders = self.tree.remote_folders()
        names = {f.name for f in folders}
        self.keys = {name: key for name, key in self.keys.items() if name in names}
        return folders

    def pull(self, folder: RemoteFolder, state: Mapping[str, Any]) -> AsyncIterator[FolderBatch]:
        return self._pull(folder, dict(state))

    def _batch(self, folder: str, answer: sync.SyncAnswer, **kw: Any) -> FolderBatch:
        self.keys[folder] = answer.key
        state: dict[str, Any] = {"key": answer.key}
        step = self.filters.get(folder, "0")
        if step != "0":
            state["filter"] = step
        return FolderBatch(
            folder,
            added=answer.added,
            flags=answer.flags,
            removed=answer.removed,
            state=state,
            account_state=self.current_state(),
            **kw,
        )

    async def _sync(self, folder: str, key: str, **kw: Any) -> sync.SyncAnswer:
        """One Sync of ``folder`` (the pull's and the ops'); on status 12 the folder tree
        is brought up to date and the Sync sent once more."""
        body_days = self.account.body_days
        step = self.filters.get(folder, "0")

        async def once() -> sync.SyncAnswer:
            return await self.call(
                lambda: sync.sync(
                    self.http, folder, key, body_days=body_days, filter_type=step, **kw
                )
            )

        try:
            return await once()
        except sync.HierarchyChanged:
            await self.fresh_tree()
        return await once()

    def _widen(self, folder: str) -> None:
        step = self.filters.get(folder, "0")
        at = FILTER_STEPS.index(step) if step in FILTER_STEPS else len(FILTER_STEPS) - 1
        self.filters[folder] = FILTER_STEPS[min(at + 1, len(FILTER_STEPS) - 1)]

    async def _pull(
        self, folder: RemoteFolder, state: dict[str, Any]
    ) -> AsyncIterator[FolderBatch]:
        if folder.kind is not FolderKind.MAIL:
            return
        name = folder.name
        key = str(state.get("key") or "0")
        # A new folder steps from the narrowest window; a synced one keeps its step.
        self.filters[name] = str(state.get("filter") or "0") if key != "0" else FILTER_STEPS[0]
        stashed = self.stash.pop(name, None)
        if stashed is not None:
            yield self._batch(name, stashed)
            key = stashed.key
        reset = False
        done, total = 0, None
        while True:
            try:
                if key == "0":
                    first = await self._sync(name, "0")
                    key = first.key
                    if reset:
                        yield self._batch(name, first, reset=True)
                    total = await self.call(partial(items.estimate, self.http, name, key))
                first_screen = self.filters[name] != "0" and done < FIRST_WINDOW
                window = min(FIRST_WINDOW, WINDOW) if first_screen else WINDOW
                answer = await self._sync(name, key, window=window)
            except OpRejected:
                if self.filters[name] == "0":
                    raise
                self._widen(name)  # a step the server does not take: the next one
                continue
            except sync.SyncKeyInvalid:
                if reset:
                    raise TransientError(f"{folder.display_name}: the server keeps refusing "
                                         "its sync key") from None  # fmt: skip
                reset, key = True, "0"
                self.filters[name] = "0"  # a resync takes the whole folder at once
                continue
            done += len(answer.added)
            progress = (done, max(total or 0, done))
            changes = answer.added or answer.flags or answer.removed
            step = self.filters[name]
            if step != "0" and (not answer.more or (answer.key == key and not changes)):
                # This window is all here: the next step widens it, on the same key.
                self._widen(name)
                yield self._batch(name, answer, progress=progress)
                key = answer.key
                continue
            if answer.key == state.get("key") and not changes:
                yield FolderBatch(name, progress=progress, complete=True)
                return
            # In step only after a Sync that brought nothing: SOGo's Ping reports a
            # folder as changed until the device's key is the folder's own.
            # (A "more" that brings nothing and keeps the key would never end: done.)
            complete = not changes and (not answer.more or answer.key == key)
            yield self._batch(name, answer, progress=progress, complete=complete)
            key = answer.key
            if complete:
                return

    # ------------------------------------------------------------------ bodies

    async def _fetch(self, folder: str, remote_ids: list[str]) -> dict[str, bytes]:
        """ItemOperations Fetch of ``remote_ids``. SOGo fails a whole Fetch with HTTP 501
        when one of its messages is gone: then one at a time, leaving out those that
        fail so."""
        try:
            return await self.call(partial(items.fetch, self.http, folder, remote_ids))
        except ConfigError as exc:
            if "(HTTP 501)" not in str(exc) or "ItemOperations" not in self.commands:
                raise
        out: dict[str, bytes] = {}
        if len(remote_ids) > 1:
            for remote_id in remote_ids:
                out.update(await self._fetch(folder, [remote_id]))
        return out

    async def _item_properties(self, folder: str, remote_id: str) -> Element | None:
        return await self.call(partial(items.properties, self.http, folder, remote_id))

    async def fetch_body(self, folder: str, remote_id: str) -> bytes:
        found = await self._fetch(folder, [remote_id])
        if remote_id not in found:
            raise OpRejected("the message is no longer on the server")
        return found[remote_id]

    async def fetch_bodies(
        self, folder: str, remote_ids: Sequence[str]
    ) -> AsyncIterator[tuple[str, RawMessage]]:
        for start in range(0, len(remote_ids), FETCH_CHUNK):
            chunk = list(remote_ids[start : start + FETCH_CHUNK])
            found = await self._fetch(folder, chunk)
            for remote_id in chunk:
                if remote_id in found:
                    yield remote_id, found[remote_id]
