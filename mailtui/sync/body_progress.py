"""The body phase's progress for the status bar: "bodies n/N" (issue 17, "headers n of
N, then bodies").

The worker counts the bodies its body window lacks when the phase begins
(``Store.count_missing_bodies`` over its folders) and reports each one stored, as a
``BODY`` event's ``progress``; the UI shows it like the headers' count. A phase with
nothing to fetch reports nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from mailtui.store import Store
from mailtui.sync.contract import EventKind, SyncEvent

#: At most one progress event per this many bodies (each is a repaint of the bar).
EVERY = 20


class BodyProgress:
    def __init__(self, account: str, emit: Callable[[SyncEvent], None]) -> None:
        self._account = account
        self._emit = emit
        self.done = 0
        self.total = 0

    async def begin(self, store: Store, folder_ids: Iterable[int], since: int) -> None:
        """The phase begins: count what it has to fetch."""
        self.done = 0
        self.total = 0
        for folder_id in folder_ids:
            self.total += await store.count_missing_bodies(folder_id, since)
        if self.total:
            self._report()

    def stored(self, count: int) -> None:
        """``count`` more bodies are stored (a body the user opened counts too)."""
        if not self.total:
            return
        before = self.done
        self.done = min(self.total, self.done + count)
        if self.done == self.total or self.done // EVERY != before // EVERY:
            self._report()
        if self.done == self.total:
            self.total = 0  # over: nothing more to report until the next phase

    def _report(self) -> None:
        self._emit(
            SyncEvent(self._account, EventKind.BODY, progress=(self.done, self.total))
        )
