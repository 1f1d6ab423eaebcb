"""A first pass's gaps, and the window the user asks for ahead of the pass.

During the first pass of a big folder the store holds only part of it. The backend
tells, with the pass's first batch, every message the folder has on the server, newest
first (``FolderBatch.listing``: IMAP knows it from its ``UID SEARCH ALL``). ``FolderGaps``
keeps that listing and which of its messages are committed, so that the list shows the
folder's whole length: position ``p`` of the list is message ``p`` of the listing, a
real row when committed, a placeholder otherwise. Cached rows are ordered by date and the
listing by the server's order (UID); on a real INBOX they agree, and where they do not a
placeholder stands where the server's order puts it until it is filled.

The knowledge lives with the worker, in memory, only while the pass runs
(docs/decisions.md, "First contact: the on-demand window"): nothing of it is written on
the first batch's path, and a pass resumed after a restart lists the folder again.

When the list shows placeholders it asks for them (``Windows.want``): the worker fetches
those envelopes between two batches of the pass (``Windows.serve``), the latest request
first; an older request the user scrolled away from is dropped. A jump to a date and
a filter ask the server about the part not cached yet (``Windows.asks``,
``sync/server_search.py``), served first.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterable, Sequence

from mailtui.models import FolderBatch
from mailtui.sync.contract import Backend, WindowFetcher
from mailtui.sync.server_search import Nudge, ServerAsks, window_batch

#: At most this many envelopes are fetched for one request (a few screenfuls).
WINDOW_MAX = 200


class _Strings:
    """Remote ids as strings, found by bisection over them sorted, not a dict: at 100,000
    messages a dict and its int objects took 10 MB, these take 1.2 MB (and the strings)."""

    def __init__(self, listing: Sequence[str]) -> None:
        self._ids = listing if isinstance(listing, list) else list(listing)
        order = sorted(range(len(self._ids)), key=self._ids.__getitem__)
        self._sorted = [self._ids[i] for i in order]
        self._order = array("I", order)

    def __len__(self) -> int:
        return len(self._ids)

    def at(self, position: int) -> str:
        return self._ids[position]

    def position(self, remote_id: str) -> int:
        i = bisect_left(self._sorted, remote_id)
        if i < len(self._sorted) and self._sorted[i] == remote_id:
            return self._order[i]
        return -1


class _Numbered:
    """Remote ids that are one prefix and a plain decimal number (IMAP's
    ``<UIDVALIDITY>:<UID>``): the numbers in arrays, 8 bytes a message where the strings
    took about 130 with their index (docs/decisions.md, "the listing's memory")."""

    def __init__(self, prefix: str, numbers: array[int]) -> None:
        self._prefix = prefix
        self._numbers = numbers
        if all(a > b for a, b in zip(numbers, numbers[1:], strict=False)):
            # Newest first by number (IMAP: by UID): sorted is the listing reversed.
            self._sorted = array("Q", reversed(numbers))
            self._order = array("I", range(len(numbers) - 1, -1, -1))
        else:
            order = sorted(range(len(numbers)), key=numbers.__getitem__)
            self._sorted = array("Q", (numbers[i] for i in order))
            self._order = array("I", order)

    @classmethod
    def of(cls, listing: Sequence[str]) -> _Numbered | None:
        """The listing in this form, or None when its ids are not all of that shape."""
        if not listing:
            return None
        numbered = getattr(listing, "numbered", None)  # the numbers as they are (IMAP's)
        if numbered is not None:
            prefix, given = numbered()
            try:
                return cls(prefix, array("Q", given))
            except (OverflowError, TypeError):
                pass  # not plain numbers after all: read the ids one by one
        prefix = listing[0].rstrip("0123456789")
        cut = len(prefix)
        numbers = array("Q")
        try:
            for rid in listing:
                digits = rid[cut:]
                if (
                    not rid.startswith(prefix)
                    or not (digits.isascii() and digits.isdigit())
                    or (digits[0] == "0" and len(digits) > 1)  # "007" would come back as "7"
                ):
                    return None
                numbers.append(int(digits))
        except OverflowError:  # more than 64 bits
            return None
        return cls(prefix, numbers)

    def __len__(self) -> int:
        return len(self._numbers)

    def at(self, position: int) -> str:
        return self._prefix + str(self._numbers[position])

    def position(self, remote_id: str) -> int:
        digits = remote_id[len(self._prefix) :]
        if not (remote_id.startswith(self._prefix) and digits.isascii() and digits.isdigit()):
            return -1
        number = int(digits)
        i = bisect_left(self._sorted, number)
        if i < len(self._sorted) and self._sorted[i] == number and str(number) == digits:
            return self._order[i]
        return -1


class FolderGaps:
    """A folder's server listing (newest first) and which of it is committed."""

    def __init__(self, listing: Sequence[str]) -> None:
        self._ids: _Strings | _Numbered = _Numbered.of(listing) or _Strings(listing)
        self._have = bytearray(len(self._ids))  # 1: committed
        self._runs: list[tuple[int, int]] = [(0, len(self._ids))] if len(self._ids) else []
        #: Changes with every ``mark``: a reader that awaited the store between reading
        #: the runs and the rows checks it did not move meanwhile (``FolderSource``).
        self.version = 0

    @property
    def total(self) -> int:
        """The folder's length on the server when the pass began."""
        return len(self._ids)

    @property
    def pending(self) -> int:
        """How many of its messages are not committed yet."""
        return sum(stop - start for start, stop in self._runs)

    def runs(self) -> list[tuple[int, int]]:
        """The positions not committed yet, as [start, stop) runs in list order."""
        return list(self._runs)

    def mark(self, remote_ids: Iterable[str]) -> None:
        """These messages are committed now."""
        changed = False
        ids, size = self._ids, len(self._ids)
        i = -2
        for rid in remote_ids:
            # A batch is mostly a stretch of the listing in its order: the next one first.
            i = i + 1 if 0 <= i + 1 < size and ids.at(i + 1) == rid else ids.position(rid)
            if i >= 0 and not self._have[i]:
                self._have[i] = 1
                changed = True
        if changed:
            self._runs = _zero_runs(self._have)
            self.version += 1

    def is_pending(self, position: int) -> bool:
        return 0 <= position < len(self._ids) and not self._have[position]

    def position(self, remote_id: str) -> int:
        """The listing position of ``remote_id``; -1 if it is not listed."""
        return self._ids.position(remote_id)

    def remote_id(self, position: int) -> str:
        return self._ids.at(position)

    def list_position(self, cached: int) -> int:
        """The list position of the cached row at offset ``cached`` (``store.window``):
        the offset plus the placeholders before it."""
        position = cached
        for start, stop in self._runs:
            if start > position:
                break
            position += stop - start
        return position

    def segments(self, offset: int, limit: int) -> list[tuple[bool, int, int]]:
        """Positions [offset, offset + limit) as (pending, start, length) pieces: a
        pending piece starts at a list position, a cached one at an offset among the
        cached rows (``store.window``)."""
        out: list[tuple[bool, int, int]] = []
        end = offset + limit
        pos = offset
        # pending positions before ``pos``: a cached row's offset is its position less them
        before = sum(min(stop, pos) - start for start, stop in self._runs if start < pos)
        for start, stop in self._runs:
            if stop <= pos:
                continue
            if pos >= end:
                break
            if start > pos:
                upto = min(start, end)
                out.append((False, pos - before, upto - pos))
                pos = upto
                if pos >= end:
                    break
            upto = min(stop, end)
            out.append((True, pos, upto - pos))
            before += upto - pos
            pos = upto
        if pos < end:
            out.append((False, pos - before, end - pos))
        return out


def _zero_runs(have: bytearray) -> list[tuple[int, int]]:
    """The [start, stop) runs of zeros in ``have`` (found at C speed)."""
    runs: list[tuple[int, int]] = []
    pos = 0
    size = len(have)
    while pos < size:
        start = have.find(0, pos)
        if start < 0:
            break
        stop = have.find(1, start)
        stop = size if stop < 0 else stop
        runs.append((start, stop))
        pos = stop
    return runs


Commit = Callable[[int, FolderBatch], Awaitable[None]]


class Windows:
    """The gaps of the folders in a first pass, and the window the user wants."""

    def __init__(self, nudge: Nudge | None = None) -> None:
        self._gaps: dict[int, FolderGaps] = {}
        self._wanted: tuple[int, list[str]] | None = None
        #: A date or a filter for the server (``sync/server_search.py``); ``nudge`` tells
        #: the UI to look again when an answer changed nothing in the store.
        self.asks = ServerAsks(nudge)

    def gaps(self, folder_id: int) -> FolderGaps | None:
        return self._gaps.get(folder_id)

    def committed(self, folder_id: int, batch: FolderBatch) -> None:
        """A batch of ``folder_id`` is in the store."""
        if batch.listing is not None:
            self._gaps[folder_id] = FolderGaps(batch.listing)
        elif batch.reset and self._gaps.pop(folder_id, None) is not None:
            self.asks.end(folder_id)
        gaps = self._gaps.get(folder_id)
        if gaps is None:
            return
        if batch.complete:
            del self._gaps[folder_id]
            self.asks.end(folder_id)
        else:
            gaps.mark(m.remote_id for m in batch.added)

    def want(self, folder_id: int, remote_ids: Sequence[str]) -> bool:
        """The list shows (or reads ahead) these placeholders: fetch them next, ahead of
        those asked before, which stay behind them up to ``WINDOW_MAX`` in all (the
        list reads a band around the screen in pieces; a place the user scrolled away
        from long ago falls off). False when the folder has no gaps."""
        if folder_id not in self._gaps or not remote_ids:
            return False
        before = self._wanted[1] if self._wanted and self._wanted[0] == folder_id else []
        merged = dict.fromkeys([*remote_ids, *before])
        self._wanted = (folder_id, list(merged)[:WINDOW_MAX])
        return True

    def wanting(self) -> bool:
        return self._wanted is not None or self.asks.waiting()

    async def serve(self, backend: Backend, names: dict[str, int], commit: Commit) -> None:
        """Answer the server questions, then fetch and commit the window last asked for,
        if any (between two batches)."""
        if self.asks.waiting():
            by_id = {fid: n for n, fid in names.items()}
            await self.asks.serve(backend, self._gaps.get, by_id.get, commit)
        wanted, self._wanted = self._wanted, None
        if wanted is None or not isinstance(backend, WindowFetcher):
            return
        folder_id, remote_ids = wanted
        gaps = self._gaps.get(folder_id)
        name = next((n for n, fid in names.items() if fid == folder_id), None)
        if gaps is None or name is None:
            return
        still = [r for r in remote_ids if gaps.is_pending(gaps.position(r))]
        if not still:
            return
        batch = await window_batch(backend, name, still)
        if batch.added:
            await commit(folder_id, batch)
