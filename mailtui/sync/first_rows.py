"""A first pass waits, once, for the list on screen to draw its first rows (issue 17).

After the first batch of a folder's first pass is committed, the list showing that
folder reloads: its length, the rows around the screen (two store reads) and a paint.
Meanwhile the pass went on reading and parsing its next batch, in the event loop and a
thread that took the GIL from the reload: the first screen of a new account came about
0.1 s after the commit on a busy machine. So the pass waits after that first commit
until the UI says the rows are drawn (``SyncManager.rows_drawn`` → ``drawn``), at most
``WAIT`` seconds: a UI that never says so costs that once per pass. Only a first pass
(its batch brings the folder's listing) of the folder the UI has open waits; a headless
sync has no folder open and never does.
"""

from __future__ import annotations

import asyncio
import contextlib

WAIT = 0.25  # seconds: a reload and its paint take 0.02-0.1 s, more on a loaded machine


class FirstRows:
    """The waits of first passes for their first rows on screen, by folder id."""

    def __init__(self) -> None:
        self._waiting: dict[int, asyncio.Event] = {}

    def expect(self, folder_id: int) -> None:
        """A first batch of ``folder_id`` is being committed: its rows will be drawn
        (made before the commit, so that a UI quicker than the pass is not missed)."""
        self._waiting[folder_id] = asyncio.Event()

    def drawn(self, folder_id: int) -> None:
        """The UI drew rows of ``folder_id``; nothing when no pass waits for it."""
        event = self._waiting.get(folder_id)
        if event is not None:
            event.set()

    async def wait(self, folder_id: int, timeout: float | None = None) -> bool:
        """Until ``drawn(folder_id)`` or ``timeout`` (default ``WAIT``); True if drawn.
        Nothing expected: True at once."""
        event = self._waiting.get(folder_id)
        if event is None:
            return True
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(WAIT if timeout is None else timeout):
                    await event.wait()
            return event.is_set()
        finally:
            self._waiting.pop(folder_id, None)
