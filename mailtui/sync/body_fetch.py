"""The worker's bodies: the body window fetched (newest first, network and disk
overlapping), then local work on them once the account is in step: search text
(``indexer.py``) and giving back the space of deleted bodies.

A part of ``Worker`` (``mailtui/sync/worker.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from mailtui.models import Account, RawMessage
from mailtui.store import Store, StoreError
from mailtui.sync.body_progress import BodyProgress
from mailtui.sync.contract import Backend, EventKind, SyncEvent
from mailtui.sync.indexer import index_bodies
from mailtui.sync.worker_options import WorkerOptions

# The worker's logger, as before these methods moved here.
log = logging.getLogger("mailtui.sync.worker")

BODIES_PER_ROUND = 500  # bodies asked of the backend at once (fetch_bodies)
BODY_CHUNK_BYTES = 4 << 20  # stored in chunks of this many bytes or messages
BODY_CHUNK_COUNT = 100


class BodyFetch:
    """Fetching, storing and indexing bodies, and compacting; a part of ``Worker``."""

    if TYPE_CHECKING:
        # What this part uses of the worker and its other parts.
        account: Account
        store: Store
        emit: Callable[[SyncEvent], None]
        options: WorkerOptions
        folder_ids: dict[str, int]
        _body_progress: BodyProgress

        async def _serve_body_requests(self, backend: Backend) -> None: ...

        def _wanted(self) -> bool: ...

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
