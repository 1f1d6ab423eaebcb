"""The message list's row cache: which rows of a folder are in memory, which to fetch.

A folder can hold a million messages, so the list never loads a folder: it keeps the rows
around the viewport, keyed by their position in the folder (date-descending), and asks
the store for a missing range only. This module is plain logic (no Textual, no I/O) so
that it can be tested as a table of cases.

    MessageList.render_line ──get(index)──▶ RowWindow ◀──put(offset, rows)── fetch worker
                         └──wanted(top, height)──▶ range to fetch, or None
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

R = TypeVar("R")


def _by_id(row: Any) -> Hashable:
    return row.id  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open range of row positions, ``start <= i < stop``."""

    start: int
    stop: int

    @property
    def size(self) -> int:
        return max(0, self.stop - self.start)

    def __contains__(self, index: object) -> bool:
        return isinstance(index, int) and self.start <= index < self.stop

    def covers(self, other: Span) -> bool:
        return self.start <= other.start and other.stop <= self.stop


class RowWindow(Generic[R]):
    """Rows of one folder by position, limited to a band around the viewport.

    Besides that band it may keep ``ends`` rows at each end of the list (the first and
    the last screen), so that jumping to the top or the bottom finds its rows in memory.

    Args:
        total: How many rows the folder has (``store.count``).
        margin: How many screens to keep (and prefetch) above and below the viewport.
        key: A row's identity across reloads (default: its ``id``).
    """

    def __init__(
        self, total: int = 0, margin: float = 1.0, key: Callable[[R], Hashable] = _by_id
    ) -> None:
        self.total = max(0, total)
        self.margin = margin
        self.key = key
        self.ends = 0  # rows kept at each end of the list (0: none)
        self._rows: dict[int, R] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def reset(self, total: int) -> None:
        """Forget every row (positions shift when mail arrives or leaves)."""
        self.total = max(0, total)
        self._rows.clear()

    def get(self, index: int) -> R | None:
        return self._rows.get(index)

    def band(self, top: int, height: int, screen: int | None = None) -> Span:
        """The positions worth holding for a viewport at ``top`` of ``height`` rows:
        ``margin`` screens either side, a screen being ``screen`` rows (default
        ``height``; the list passes its tallest height, so that rows survive while a
        reader pane makes it shorter)."""
        extra = max(1, int(max(height, screen or 0) * self.margin))
        return Span(max(0, top - extra), min(self.total, top + height + extra))

    def end_spans(self) -> list[Span]:
        """The first and the last ``ends`` positions (none when ``ends`` is 0)."""
        if not self.ends or not self.total:
            return []
        first = Span(0, min(self.ends, self.total))
        return [first, Span(max(0, self.total - self.ends), self.total)]

    def _missing(self, span: Span) -> Span | None:
        missing = [i for i in range(span.start, span.stop) if i not in self._rows]
        if not missing:
            return None
        return Span(missing[0], missing[-1] + 1)

    def wanted(self, top: int, height: int, screen: int | None = None) -> Span | None:
        """The smallest range to fetch so the band around the viewport is complete, then
        (once it is) the ends of the list.

        None when nothing is missing. The range covers the missing rows of the band only
        (or of one end), so a fetch never asks for more than ``height * (1 + 2 * margin)``
        rows.
        """
        found = self._missing(self.band(top, height, screen))
        if found is not None:
            return found
        for end in self.end_spans():
            found = self._missing(end)
            if found is not None:
                return found
        return None

    def put(self, offset: int, rows: list[R]) -> None:
        """Store rows fetched from ``offset`` (the store may return fewer than asked)."""
        for i, row in enumerate(rows, start=offset):
            if i < self.total:
                self._rows[i] = row

    def keep(self, span: Span) -> None:
        """Drop rows outside ``span`` (and the ends), so memory stays bounded however far
        one scrolls."""
        ends = self.end_spans()
        for index in [i for i in self._rows if i not in span and not any(i in end for end in ends)]:
            del self._rows[index]

    def items(self) -> list[tuple[int, R]]:
        """The cached rows with their positions."""
        return list(self._rows.items())

    def replace(self, row: R) -> bool:
        """Replace a cached row by identity (after a local flag change)."""
        index = self.index_of(self.key(row))
        if index is None:
            return False
        self._rows[index] = row
        return True

    def index_of(self, key: Hashable) -> int | None:
        for index, row in self._rows.items():
            if self.key(row) == key:
                return index
        return None
