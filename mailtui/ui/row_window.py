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
        self._rows: dict[int, R] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def reset(self, total: int) -> None:
        """Forget every row (positions shift when mail arrives or leaves)."""
        self.total = max(0, total)
        self._rows.clear()

    def get(self, index: int) -> R | None:
        return self._rows.get(index)

    def band(self, top: int, height: int) -> Span:
        """The positions worth holding for a viewport at ``top`` of ``height`` rows."""
        extra = max(1, int(height * self.margin))
        return Span(max(0, top - extra), min(self.total, top + height + extra))

    def wanted(self, top: int, height: int) -> Span | None:
        """The smallest range to fetch so the band around the viewport is complete.

        None when nothing is missing. The range covers the missing rows of the band only,
        so a fetch never asks for more than ``height * (1 + 2 * margin)`` rows.
        """
        band = self.band(top, height)
        missing = [i for i in range(band.start, band.stop) if i not in self._rows]
        if not missing:
            return None
        return Span(missing[0], missing[-1] + 1)

    def put(self, offset: int, rows: list[R]) -> None:
        """Store rows fetched from ``offset`` (the store may return fewer than asked)."""
        for i, row in enumerate(rows, start=offset):
            if i < self.total:
                self._rows[i] = row

    def keep(self, span: Span) -> None:
        """Drop rows outside ``span``, so memory stays bounded however far one scrolls."""
        for index in [i for i in self._rows if i not in span]:
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
