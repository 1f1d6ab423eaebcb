"""Questions for the server about the part of a folder not cached yet (issue 17).

During a first pass the list shows the folder's whole length (``sync/window.py``), but a
jump to a date and a filter must know what the part not cached yet holds. The UI asks
the manager; the worker asks the server between two batches of the pass (a backend that
is a ``ServerSearcher``), fetches the envelopes it found first (``fetch_window``) and
commits them as batches of their own, then answers:

- **a date** (``ask_date``): the listing position of the newest message that arrived on
  or before the day (the server's ``BEFORE``: its arrival date, a day at a time). The
  window from there is committed before the answer, so the cursor lands on rows. A
  position equal to the listing's length: nothing is that old.
- **a filter** (``search``, a ``ServerFilter`` the list keeps): the messages not cached
  yet whose subject or From/To/Cc contain every word the user typed; their envelopes
  are fetched newest first (``SEARCH_CHUNK`` between two batches, ``SEARCH_FETCH_MAX``
  in all), and the list's search of the store finds them with the rest. Its ``state``
  says what the status line tells; the latest filter replaces the one before it.

Like the gaps, these live in the worker's memory while the pass runs: when the pass
ends (``end``), everything is cached and the store alone answers.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

from mailtui.errors import OpRejected
from mailtui.models import FolderBatch
from mailtui.sync.contract import Backend, ServerSearcher, WindowFetcher

#: A date's window: this many positions above the one found, and this many from it down
#: (the screen the cursor lands on and the next pages).
DATE_ABOVE = 20
DATE_BELOW = 180
#: A filter's matches are fetched this many at a time between two batches of the pass…
SEARCH_CHUNK = 1000
#: …and this many in all, the newest (the list keeps 5,000 matches).
SEARCH_FETCH_MAX = 5000

Commit = Callable[[int, FolderBatch], Awaitable[None]]
Nudge = Callable[[int], None]


class FolderGaps(Protocol):
    """A folder's listing and what of it is cached (``sync/window.FolderGaps``)."""

    @property
    def total(self) -> int: ...

    def runs(self) -> list[tuple[int, int]]: ...

    def is_pending(self, position: int) -> bool: ...

    def position(self, remote_id: str) -> int: ...

    def remote_id(self, position: int) -> str: ...


class SearchState(enum.StrEnum):
    ASKING = "asking"  # the server is asked (or about to be)
    LOADING = "loading"  # found: the envelopes are being fetched
    DONE = "done"  # every match of the folder is cached
    FAILED = "failed"  # the server could not search (``ServerFilter.error``)
    DROPPED = "dropped"  # another filter replaced it


@dataclass(eq=False)
class ServerFilter:
    """A filter's search of the part of a folder not cached yet, as the list sees it."""

    folder_id: int
    words: tuple[str, ...]
    state: SearchState = SearchState.ASKING
    found: int = 0  # messages not cached that the server found
    error: str = ""
    left: list[str] = field(default_factory=list)  # found and not fetched yet, newest first

    @property
    def complete(self) -> bool:
        """Every match of the folder is in the store (the list's search sees them)."""
        return self.state is SearchState.DONE


def search_words(query: str) -> tuple[str, ...]:
    """The words of a filter as the server should match them: the store's search reads
    each word as a phrase and a trailing ``*`` as a prefix (``store.codec.fts_query``); a
    server matches substrings, so the ``*`` goes, and words without a letter or digit
    (which the store ignores) are left out."""
    words = (word.rstrip("*") for word in query.split())
    return tuple(w for w in words if any(ch.isalnum() for ch in w))


@dataclass(eq=False)
class _DateAsk:
    folder_id: int
    day: date
    answer: asyncio.Future[int | None]


class ServerAsks:
    """The questions waiting for the server, for the folders in a first pass."""

    def __init__(self, nudge: Nudge | None = None) -> None:
        self._dates: list[_DateAsk] = []
        self._filter: ServerFilter | None = None
        # Tells the UI to look again (a MESSAGES event) when a filter's state changed
        # without a commit.
        self._nudge = nudge or (lambda folder_id: None)

    def ask_date(self, folder_id: int, day: date) -> asyncio.Future[int | None]:
        """Where ``day`` falls in the folder's listing (see the module docstring)."""
        answer: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._dates.append(_DateAsk(folder_id, day, answer))
        return answer

    def search(self, folder_id: int, query: str) -> ServerFilter | None:
        """Search the part of the folder not cached yet for ``query``; the filter before
        it is dropped. None when the query has no word to search."""
        if self._filter is not None and self._filter.state in _RUNNING:
            self._filter.state = SearchState.DROPPED
        words = search_words(query)
        self._filter = ServerFilter(folder_id, words) if words else None
        return self._filter

    def waiting(self) -> bool:
        return bool(self._dates) or (
            self._filter is not None and self._filter.state in _RUNNING
        )

    def end(self, folder_id: int) -> None:
        """The pass of ``folder_id`` is over (or reset): the store answers alone now."""
        for ask in [a for a in self._dates if a.folder_id == folder_id]:
            self._dates.remove(ask)
            if not ask.answer.done():
                ask.answer.set_result(None)
        found = self._filter
        if found is not None and found.folder_id == folder_id and found.state in _RUNNING:
            found.state = SearchState.DONE
            found.left = []

    async def serve(
        self,
        backend: Backend,
        gaps_of: Callable[[int], FolderGaps | None],
        name_of: Callable[[int], str | None],
        commit: Commit,
    ) -> None:
        """Answer what is waiting (between two batches of a pass)."""
        dates, self._dates = self._dates, []
        try:
            while dates:
                ask = dates[0]
                if not ask.answer.done():  # (an answer given up on is cancelled)
                    position = await self._date(backend, ask, gaps_of, name_of, commit)
                    if not ask.answer.done():
                        ask.answer.set_result(position)
                dates.pop(0)
        finally:
            for ask in dates:  # the connection failed: no answer now
                if not ask.answer.done():
                    ask.answer.set_result(None)
        if self._filter is not None and self._filter.state in _RUNNING:
            await self._search(backend, self._filter, gaps_of, name_of, commit)

    async def _date(
        self,
        backend: Backend,
        ask: _DateAsk,
        gaps_of: Callable[[int], FolderGaps | None],
        name_of: Callable[[int], str | None],
        commit: Commit,
    ) -> int | None:
        gaps, name = gaps_of(ask.folder_id), name_of(ask.folder_id)
        if gaps is None or name is None or not isinstance(backend, ServerSearcher):
            return None
        try:
            found = await backend.newest_before(name, ask.day + timedelta(days=1))
        except OpRejected:
            return None
        position = gaps.total if found is None else gaps.position(found)
        if position < 0:  # arrived after the pass began: not in the listing
            return None
        start = max(0, min(position, gaps.total - DATE_BELOW) - DATE_ABOVE)
        window = range(start, position + DATE_BELOW)
        await _fetch(backend, gaps, name, ask.folder_id, window, commit)
        return position

    async def _search(
        self,
        backend: Backend,
        wanted: ServerFilter,
        gaps_of: Callable[[int], FolderGaps | None],
        name_of: Callable[[int], str | None],
        commit: Commit,
    ) -> None:
        folder_id = wanted.folder_id
        gaps, name = gaps_of(folder_id), name_of(folder_id)
        if gaps is None or name is None:
            return  # not in a pass (any more): ``end`` completes it
        if not isinstance(backend, ServerSearcher):
            wanted.state, wanted.error = SearchState.FAILED, "this server cannot be searched"
            self._nudge(folder_id)
            return
        if wanted.state is SearchState.ASKING:
            among = [gaps.remote_id(p) for start, stop in gaps.runs() for p in range(start, stop)]
            try:
                found = await backend.search_headers(name, wanted.words, among)
            except OpRejected as exc:
                wanted.state, wanted.error = SearchState.FAILED, str(exc)
                self._nudge(folder_id)
                return
            if wanted is not self._filter:  # another filter replaced it meanwhile
                return
            at = sorted((gaps.position(rid), rid) for rid in found)
            wanted.left = [rid for position, rid in at if gaps.is_pending(position)]
            wanted.found = len(wanted.left)
            wanted.left = wanted.left[:SEARCH_FETCH_MAX]
            wanted.state = SearchState.LOADING
        chunk, wanted.left = wanted.left[:SEARCH_CHUNK], wanted.left[SEARCH_CHUNK:]
        positions = [gaps.position(rid) for rid in chunk]
        await _fetch(backend, gaps, name, folder_id, positions, commit)
        if not wanted.left and wanted.state is SearchState.LOADING:
            wanted.state = SearchState.DONE
            self._nudge(folder_id)


_RUNNING = (SearchState.ASKING, SearchState.LOADING)


async def _fetch(
    backend: Backend,
    gaps: FolderGaps,
    name: str,
    folder_id: int,
    positions: range | list[int],
    commit: Commit,
) -> None:
    """Fetch and commit the envelopes at ``positions`` of the listing not cached yet."""
    wanted = [gaps.remote_id(p) for p in positions if gaps.is_pending(p)]
    if wanted and isinstance(backend, WindowFetcher):
        batch = await window_batch(backend, name, wanted)
        if batch.added:
            await commit(folder_id, batch)


async def window_batch(backend: WindowFetcher, name: str, remote_ids: list[str]) -> FolderBatch:
    """``fetch_window`` as the batch to commit: the backend's own when it returns one
    (with what goes with the rows: POP3's ledger rows)."""
    got = await backend.fetch_window(name, remote_ids)
    return got if isinstance(got, FolderBatch) else FolderBatch(folder=name, added=got)
