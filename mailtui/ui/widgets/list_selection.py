"""The message list's selection: a set of message ids, kept across scrolling and reloads.

``t`` toggles the line under the cursor, ``T`` selects the range from the last toggled
line, shift+arrows extend, and a conversation or the whole list can be selected at once
(at most ``MAX_SELECT`` messages). ``MessageList`` draws the selected lines and hands the
selection to the screen as ``targets()``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual.message import Message
from textual.scroll_view import ScrollView

from mailtui.models import MessageRow
from mailtui.ui.list_sources import MAX_SELECT, ListRow, ListSource, ids_of
from mailtui.ui.services import MailStore


class ListSelection(ScrollView):
    """The selection part of ``MessageList`` (its base class)."""

    class SelectionChanged(Message, namespace="message_list"):
        """The number of selected messages changed."""

        def __init__(self, count: int) -> None:
            self.count = count
            super().__init__()

    if TYPE_CHECKING:  # kept by MessageList
        _store: MailStore
        _source: ListSource | None
        _selected: set[int]
        _anchor: int | None
        _cursor: int

        @property
        def cursor_line(self) -> ListRow | None: ...

        def move_cursor(self, index: int) -> None: ...

        def say_pending(self) -> None: ...

    # -- selection --------------------------------------------------------------------------

    def _set_selection(self, ids: Iterable[int]) -> None:
        before = len(self._selected)
        self._selected = set(ids)
        self.refresh()
        if before or self._selected:
            self.post_message(self.SelectionChanged(len(self._selected)))

    def clear_selection(self) -> None:
        if self._selected:
            self._set_selection(set())

    def _is_selected(self, line: ListRow) -> bool:
        return line.row.id in self._selected

    def _select_lines(self, lines: list[ListRow], select: bool | None = None) -> None:
        """Select (or with ``select=False`` unselect; None: toggle by the first line)."""
        self.run_worker(self._select(lines, select), group="select", exit_on_error=False)

    async def _select(self, lines: list[ListRow], select: bool | None) -> None:
        if self._source is None or not lines:
            return
        ids = await ids_of(self._source, lines)
        if select is None:
            select = not self._is_selected(lines[0])
        chosen = set(self._selected)
        if select:
            chosen.update(ids)
        else:
            chosen.difference_update(ids)
        self._set_selection(chosen)

    def action_toggle_select(self) -> None:
        line = self.cursor_line
        if line is None:
            self.say_pending()
            return
        self._anchor = self._cursor
        self._select_lines([line])
        self.move_cursor(self._cursor + 1)

    def action_select_range(self) -> None:
        """Select every line between the last toggled one and the cursor."""
        anchor = self._anchor if self._anchor is not None else self._cursor
        self.run_worker(self._select_range(anchor, self._cursor), group="select")

    async def _select_range(self, first: int, last: int) -> None:
        if self._source is None:
            return
        low, high = sorted((first, last))
        high = min(high, low + MAX_SELECT - 1)
        lines = await self._source.window(low, high - low + 1)
        await self._select(lines, True)
        self._anchor = last

    def _extend(self, step: int) -> None:
        line = self.cursor_line
        if line is None:
            self.say_pending()
            return
        self._anchor = self._cursor
        self.move_cursor(self._cursor + step)
        after = self.cursor_line
        self._select_lines([line] if after is None else [line, after], True)

    def action_extend_down(self) -> None:
        self._extend(+1)

    def action_extend_up(self) -> None:
        self._extend(-1)

    def action_select_thread(self) -> None:
        line = self.cursor_line
        if line is None or self._source is None:
            self.say_pending()
            return
        self.run_worker(self._select_thread(line.row), group="select")

    async def _select_thread(self, row: MessageRow) -> None:
        rows = await self._store.thread_messages(row.folder_id, row.thread_id, MAX_SELECT)
        self._set_selection(self._selected | {r.id for r in rows} | {row.id})

    def action_select_all(self) -> None:
        self.run_worker(self._select_all(), group="select")

    async def _select_all(self) -> None:
        if self._source is None:
            return
        ids = await self._source.all_ids(MAX_SELECT)
        self._set_selection(ids)
        if len(ids) >= MAX_SELECT:
            self.notify(f"Selected the newest {MAX_SELECT:,} messages (the most at once).")

    def action_select_none(self) -> None:
        self.clear_selection()
