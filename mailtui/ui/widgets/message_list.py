"""The message list: a virtual list over one folder, however large.

Its virtual height is the folder's total from ``store.count()``; it draws with the Line
API and asks the store only for the rows around the viewport (``store.window``), through
a ``RowWindow`` cache. ``render_line`` is synchronous and the store is not, so a missing
row renders as a dim placeholder while one exclusive worker fetches the missing range,
then the list repaints. Opening a folder of a million messages costs one ``count`` and
one window of rows, like a folder of a hundred.

    show_folder / reload ──count──▶ RowWindow.reset ──▶ render_line ──get──▶ row | placeholder
                                         ▲                               │ missing
                                         └──── put ◀── _fetch worker ◀───┘
"""

from __future__ import annotations

from typing import ClassVar, Protocol

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import Worker, WorkerState

from mailtui.models import MessageRow
from mailtui.ui import keymap
from mailtui.ui.columns import placeholder_text, row_text
from mailtui.ui.dates import Clock, local_clock
from mailtui.ui.row_window import RowWindow, Span
from mailtui.ui.strips import text_strip


class RowSource(Protocol):
    """What the list reads (``mailtui.store.Store`` has it)."""

    async def count(self, folder_id: int) -> tuple[int, int]: ...

    async def window(self, folder_id: int, offset: int, limit: int) -> list[MessageRow]: ...


class MessageList(ScrollView, can_focus=True):
    """The rows of one folder, newest first, with a cursor.

    Args:
        source: Where rows come from.
        clock: "now", for relative dates.
    """

    BINDINGS: ClassVar[list[BindingType]] = list(keymap.bindings("list"))

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "message-list--cursor",
        "message-list--unread",
        "message-list--placeholder",
    }

    DEFAULT_CSS = """
    MessageList {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        background: $surface;
        & > .message-list--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
        }
        &:focus > .message-list--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
        }
        & > .message-list--unread {
            text-style: bold;
        }
        & > .message-list--placeholder {
            color: $text-muted;
        }
    }
    """

    class Opened(Message):
        """The user asked to read a message."""

        def __init__(self, message_id: int) -> None:
            self.message_id = message_id
            super().__init__()

    class Loaded(Message):
        """A folder's count is known (after ``show_folder`` or ``reload``)."""

        def __init__(self, folder_id: int, total: int, unread: int) -> None:
            self.folder_id = folder_id
            self.total = total
            self.unread = unread
            super().__init__()

    def __init__(
        self,
        source: RowSource,
        clock: Clock = local_clock,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._source = source
        self._clock = clock
        self._window = RowWindow(margin=1.0)
        self._folder_id: int | None = None
        self._cursor = 0
        self._loaded = False  # the count is known
        self._generation = 0  # bumped whenever positions change; stale fetches are dropped
        self._inflight: Span | None = None
        self._fetch_scheduled = False
        self._fetch_failed = False  # after a store error, only a user action fetches again

    # -- what the screen reads -------------------------------------------------------------

    @property
    def folder_id(self) -> int | None:
        return self._folder_id

    @property
    def total(self) -> int:
        return self._window.total

    @property
    def cursor(self) -> int:
        return self._cursor

    @property
    def cursor_row(self) -> MessageRow | None:
        """The row under the cursor, if it is loaded."""
        return self._window.get(self._cursor) if self.total else None

    @property
    def cached_rows(self) -> int:
        return len(self._window)

    # -- what the screen tells it ----------------------------------------------------------

    def show_folder(self, folder_id: int) -> None:
        """Show another folder, from its newest message."""
        self._folder_id = folder_id
        self._loaded = False
        self._generation += 1
        self._inflight = None
        self._window.reset(0)
        self._cursor = 0
        self._set_total(0)
        self.scroll_to(y=0, animate=False)
        self.refresh()
        self.run_worker(
            self._load(folder_id, self._generation),
            group="count",
            exclusive=True,
            exit_on_error=False,
        )

    def reload(self) -> None:
        """Re-read the folder after a change (new mail, flags), keeping the cursor on the
        same message when it can be found near where it was."""
        if self._folder_id is None:
            return
        self.run_worker(
            self._reload(self._folder_id), group="count", exclusive=True, exit_on_error=False
        )

    def update_row(self, row: MessageRow) -> None:
        """Show a row's new state (e.g. read after opening) without a fetch."""
        if self._window.replace(row):
            index = self._window.index_of(row.id)
            if index is not None:
                self.refresh_line(index)

    # -- loading ---------------------------------------------------------------------------

    async def _load(self, folder_id: int, generation: int) -> None:
        total, unread = await self._source.count(folder_id)
        if generation != self._generation:
            return
        self._window.reset(total)
        self._set_total(total)
        self._loaded = True
        self.refresh()
        self._request_rows()
        self.post_message(self.Loaded(folder_id, total, unread))

    async def _reload(self, folder_id: int) -> None:
        old_total = self.total
        old_index = self._cursor
        old_row = self.cursor_row
        old_screen_offset = old_index - self._top
        total, unread = await self._source.count(folder_id)
        if folder_id != self._folder_id:
            return
        self._generation += 1
        generation = self._generation
        self._inflight = None
        fresh = RowWindow(total, margin=self._window.margin)
        index = min(old_index, max(0, total - 1))
        if old_row is not None and total:
            # Mail usually arrives above the cursor (newer) or leaves anywhere: look where
            # the message would be if every change was above it, then where it was.
            height = self._height
            for guess in dict.fromkeys((old_index + total - old_total, old_index)):
                start = max(0, min(guess, total - 1) - height)
                rows = await self._source.window(folder_id, start, 2 * height + 1)
                if generation != self._generation:
                    return
                fresh.put(start, rows)
                found = fresh.index_of(old_row.id)
                if found is not None:
                    index = found
                    break
        self._window = fresh
        self._loaded = True
        self._cursor = index
        self._set_total(total)
        if not self._top <= index < self._top + self._height:
            self.scroll_to(y=max(0, index - old_screen_offset), animate=False)
        self.refresh()
        self._request_rows()
        self.post_message(self.Loaded(folder_id, total, unread))

    def _request_rows(self, retry: bool = True) -> None:
        """Fetch what the viewport (and a screen either side) lacks, if not on its way.

        ``retry=False`` (a repaint found a missing row) does not retry after a store
        error, so a broken database means one notice, not a loop of them.
        """
        self._fetch_scheduled = False
        if self._folder_id is None or not self._loaded or not self.is_mounted:
            return
        if self._fetch_failed and not retry:
            return
        self._fetch_failed = False
        wanted = self._window.wanted(self._top, self._height)
        if wanted is None:
            return
        if self._inflight is not None and self._inflight.covers(wanted):
            return
        self._inflight = wanted
        self.run_worker(
            self._fetch(self._folder_id, wanted, self._generation),
            group="rows",
            exclusive=True,  # a newer viewport makes an older fetch pointless
            exit_on_error=False,
        )

    async def _fetch(self, folder_id: int, span: Span, generation: int) -> None:
        rows = await self._source.window(folder_id, span.start, span.size)
        if generation != self._generation or folder_id != self._folder_id:
            return
        self._inflight = None
        self._window.put(span.start, rows)
        self._window.keep(self._window.band(self._top, self._height))
        self.refresh()
        self._request_rows(retry=False)

    # -- geometry --------------------------------------------------------------------------

    @property
    def _top(self) -> int:
        return round(self.scroll_y)

    @property
    def _height(self) -> int:
        return max(1, self.scrollable_content_region.height)

    def _set_total(self, total: int) -> None:
        self._window.total = total
        # Width 0: rows are cut to the viewport, the list never scrolls sideways.
        self.virtual_size = Size(0, total)

    def on_resize(self, event: events.Resize) -> None:
        self._scroll_cursor_into_view()
        self._request_rows()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._request_rows()

    # -- drawing ---------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = self._top + y
        base = self.rich_style
        if index >= self.total:
            if index == 0 and self._loaded:
                return self._strip(Text("  No messages in this folder", end=""), width, base)
            return Strip.blank(width, base)
        row = self._window.get(index)
        if row is None:
            if not self._fetch_scheduled:
                self._fetch_scheduled = True
                self.call_later(self._request_rows, False)
            style = base + self.get_component_rich_style("message-list--placeholder")
            return self._strip(placeholder_text(width), width, style)
        style = base
        if row.unread:
            style += self.get_component_rich_style("message-list--unread")
        if index == self._cursor:
            style += self.get_component_rich_style("message-list--cursor")
        return self._strip(row_text(row, width, self._clock()), width, style)

    def _strip(self, text: Text, width: int, style: Style) -> Strip:
        return text_strip(text, width, style, self.app.console)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # -- moving ----------------------------------------------------------------------------

    def move_cursor(self, index: int) -> None:
        if not self.total:
            return
        index = max(0, min(index, self.total - 1))
        old, self._cursor = self._cursor, index
        self._scroll_cursor_into_view()
        self.refresh_line(old)
        self.refresh_line(index)

    def _scroll_cursor_into_view(self) -> None:
        top, height = self._top, self._height
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False)
        elif self._cursor >= top + height:
            self.scroll_to(y=self._cursor - height + 1, animate=False)

    def action_cursor_down(self) -> None:
        self.move_cursor(self._cursor + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(self._cursor - 1)

    def action_page_down(self) -> None:
        height = self._height
        self.scroll_to(y=self._top + height, animate=False)
        self.move_cursor(self._cursor + height)

    def action_page_up(self) -> None:
        height = self._height
        self.scroll_to(y=max(0, self._top - height), animate=False)
        self.move_cursor(self._cursor - height)

    def action_first(self) -> None:
        self.scroll_to(y=0, animate=False)
        self.move_cursor(0)

    def action_last(self) -> None:
        self.scroll_to(y=max(0, self.total - self._height), animate=False)
        self.move_cursor(self.total - 1)

    def action_open(self) -> None:
        row = self.cursor_row
        if row is not None:
            self.post_message(self.Opened(row.id))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed read leaves placeholders and says so, instead of ending the app."""
        if event.state == WorkerState.ERROR:
            self._inflight = None
            self._fetch_failed = True
            self.notify(f"Could not read the message list: {event.worker.error}", severity="error")

    def on_click(self, event: events.Click) -> None:
        self.focus()
        self.move_cursor(self._top + event.y)
        if event.chain == 2:
            self.action_open()
