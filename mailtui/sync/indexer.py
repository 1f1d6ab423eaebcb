"""The search index's text for cached bodies: read, ``mime.body_text``, written back.

The sync stores bodies without their text (``bodies.indexed = 0``) and indexes them once
the account is in step (docs/decisions.md, "IMAP full sync", 4). ``index_bodies`` walks
those bodies newest first, a batch at a time: ``Store.bodies_to_index`` reads one,
``body_texts`` turns it into text in a thread, ``Store.set_body_texts`` writes it in
one transaction, in the background while the next batch is read and turned into text.

Only the write overlaps the next batch. The text is Python holding the GIL; SQLite and
FTS5 run without it in the writer's thread (a few GIL round trips a batch, one
statement: ``set_body_texts``), so they get the second core. Reading the next batch
meanwhile does not pay: every file read needs the GIL back, and a thread that wants it
waits up to the switch interval (5 ms) while the extraction holds it, so the read only
ends after the extraction anyway (measured: slower than reading after it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mailtui.store import Store

Bodies = Sequence[tuple[int, bytes]]
Texts = list[tuple[int, str]]

BATCH = 200  # bodies per batch (one transaction)
BATCH_BYTES = 8 << 20  # and about this much raw mail at most (at least one body)


def body_texts(bodies: Bodies) -> Texts:
    """``(message_id, mime.body_text(raw))`` for each body, in order."""
    from mailtui.mime.parse import body_text

    texts: Texts = []
    for message_id, raw in bodies:
        try:
            text = body_text(raw)
        except Exception:  # body_text never raises; if a bug made it, index no body text
            text = ""
        texts.append((message_id, text))
    return texts


async def index_bodies(
    store: Store, account_id: int, *, stop: Callable[[], bool] | None = None
) -> int:
    """Index the text of the account's bodies stored without it, until none are left or
    ``stop()`` says the user wants something (asked before each batch; the next call
    goes on where this one stopped). Returns how many bodies it indexed.

    Raises:
        StoreError: reading or writing the cache failed; what was committed stays.
    """
    before: int | None = None  # each batch is older than the one before (newest first)
    writing: asyncio.Task[None] | None = None  # the previous batch, written meanwhile
    indexed = 0
    try:
        while stop is None or not stop():
            todo = await store.bodies_to_index(account_id, BATCH, BATCH_BYTES, before=before)
            if not todo:
                break
            before = todo[-1][0]
            texts = await asyncio.to_thread(body_texts, todo)
            if writing is not None:
                await writing
            writing = asyncio.create_task(store.set_body_texts(texts))
            indexed += len(todo)
        if writing is not None:
            await writing
    finally:
        # An error or a cancel: a transaction in progress ends either way.
        if writing is not None and not writing.done():
            await asyncio.wait({writing})
        if writing is not None and not writing.cancelled():
            writing.exception()  # retrieved: the loop's own error is the one raised
    return indexed
