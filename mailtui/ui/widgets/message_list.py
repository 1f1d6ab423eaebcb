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

What it shows comes from a ``ListSource`` (``mailtui/ui/list_sources.py``): a folder, a
filtered folder or a folder's conversations. The selection is a set of message ids (it
survives scrolling and reloads); the screen acts on ``targets()``.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date, datetime, tzinfo
from functools import partial
from math import ceil
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from textual.worker import Worker, WorkerState

from mailtui.models import MessageRow
from mailtui.ui import keymap
from mailtui.ui.columns import placeholder_text, row_text
from mailtui.ui.dates import Clock, local_clock
from mailtui.ui.idle import wait_for_quiet
from mailtui.ui.jobs import run_job
from mailtui.ui.list_sources import (
    SEARCHING,
    FilterSource,
    FolderSource,
    InboxFilterSource,
    ListRow,
    ListSource,
    ThreadSource,
)
from mailtui.ui.row_window import RowWindow, Span
from mailtui.ui.services import ListGaps, MailStore
from mailtui.ui.strips import text_strip
from mailtui.ui.widgets.list_selection import ListSelection

STRIP_CACHE = 1024  # drawn rows kept; the least recently drawn go first
WARM_CHUNK = 8  # rows drawn ahead per turn of the event loop (≈ 0.1 ms each)
WARM_QUIET = 0.03  # seconds after a key before rows are drawn ahead again


#: What a drawn row depends on: line, width, selected, style, day and zone of "now".
StripKey = tuple[ListRow, int, bool, Style, date, tzinfo | None]


def _line_key(line: ListRow) -> tuple[int, int]:
    return line.key


def thumb_cells(bar: ScrollBar, position: float) -> tuple[int, int] | None:
    """Where a vertical scrollbar draws its thumb for ``position``, in eighths of a cell
    (None: no thumb), by the arithmetic of Textual's ``ScrollBarRender.render_bar``
    (8.2.8). In a folder of a million messages a page moves the thumb by far less than
    an eighth of a cell: the bar need not be drawn again (≈ 1 ms at 40 rows)."""
    size = bar.size.height
    virtual = ceil(bar.window_virtual_size)
    window = ceil(bar.window_size) if bar.window_size < bar.window_virtual_size else 0
    if not (window and size and virtual and size != virtual):
        return None
    thumb = max(1, window / (virtual / size))
    where = (size - thumb) * ((int(position * 8) / 8) / (virtual - window))
    start = int(where * 8)
    return start, start + ceil(thumb * 8)


EMPTY_NOTE = "No messages in this folder"


class MessageList(ListSelection, can_focus=True):
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
        "message-list--selected",
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
        & > .message-list--selected {
            background: $accent 30%;
        }
    }
    """

    class Opened(Message):
        """The user asked to read a message."""

        def __init__(self, message_id: int) -> None:
            self.message_id = message_id
            super().__init__()

    class CursorFolder(Message):
        """The line under the cursor is now a message of another folder (in the unified
        inbox: maybe of another account, whose capabilities decide the keys)."""

        def __init__(self, folder_id: int | None) -> None:
            self.folder_id = folder_id
            super().__init__()

    class Pending(Message):
        """A key acted on a placeholder line (a message of a first pass not cached yet):
        nothing to open or act on yet, and the screen says so."""

    class Loaded(Message):
        """A folder's count is known (after ``show_folder`` or ``reload``)."""

        def __init__(self, folder_id: int, total: int, unread: int) -> None:
            self.folder_id = folder_id
            self.total = total
            self.unread = unread
            super().__init__()

    def __init__(
        self,
        store: MailStore,
        clock: Clock = local_clock,
        *,
        gaps: ListGaps | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._store = store
        self._clock = clock
        self._gaps = gaps  # a folder in its first pass: what it lacks yet
        self._window: RowWindow[ListRow] = RowWindow(margin=1.0, key=_line_key)
        self._source: ListSource | None = None
        #: A reload is due but held (sync news while keys come, ``MainScreen._flush``):
        #: the end key reads the list again first, so that it lands on the real oldest
        #: message, not on the end the list had before the news.
        self.stale = False
        self._end_after_reload = False
        self._selected: set[int] = set()
        self._anchor: int | None = None  # where the last toggle was: one end of a range
        self._cursor = 0
        self._tallest = 1  # the tallest viewport so far (rows)
        self._loaded = False  # the count is known
        #: What the list says when the folder has no messages (the screen sets it: an
        #: unsubscribed folder says how to subscribe instead).
        self.empty_note = EMPTY_NOTE
        self._generation = 0  # bumped whenever positions change; stale fetches are dropped
        self._inflight: Span | None = None
        self._paint_styles: dict[str, Style] | None = None
        self._paint_geometry: tuple[int, int] | None = None  # (width, top) during a paint
        self._fetch_scheduled = False
        self._fetch_failed = False  # after a store error, only a user action fetches again
        self._strips: dict[StripKey, Strip] = {}  # drawn rows, least recently drawn first
        self._warm_pending = False
        self._warm_width = -1  # the width rows were last drawn ahead for
        self._cursor_folder: int | None = None  # the folder of the cursor's line, as told

    # -- what the screen reads -------------------------------------------------------------

    @property
    def folder_id(self) -> int | None:
        return self._source.folder_id if self._source is not None else None

    @property
    def source(self) -> ListSource | None:
        return self._source

    @property
    def threaded(self) -> bool:
        return isinstance(self._source, ThreadSource)

    @property
    def selected(self) -> frozenset[int]:
        return frozenset(self._selected)

    @property
    def total(self) -> int:
        return self._window.total

    @property
    def cursor(self) -> int:
        return self._cursor

    @property
    def cursor_row(self) -> MessageRow | None:
        """The message under the cursor (a conversation's newest), if it is loaded."""
        line = self.cursor_line
        return line.row if line is not None else None

    @property
    def cursor_line(self) -> ListRow | None:
        """The line under the cursor, if it is loaded (a placeholder of a folder in its
        first pass is not: nothing to open or act on yet)."""
        line = self._window.get(self._cursor) if self.total else None
        return None if line is None or line.pending else line

    @property
    def on_placeholder(self) -> bool:
        """The cursor is on a placeholder (a message of a first pass not cached yet)."""
        line = self._window.get(self._cursor) if self.total else None
        return line is not None and line.pending

    def say_pending(self) -> None:
        """After a key that found nothing to act on: on a placeholder, say why."""
        if self.on_placeholder:
            self.post_message(self.Pending())

    def loaded_lines(self) -> list[tuple[int, ListRow]]:
        """The lines in memory with their positions (for tests and the screen)."""
        return sorted(self._window.items(), key=lambda item: item[0])

    async def targets(self) -> list[int]:
        """What a triage action acts on: the selection, else the line under the cursor
        (a conversation line: all its messages)."""
        if self._selected:
            return sorted(self._selected)
        line = self.cursor_line
        if line is None or self._source is None:
            return []
        return await self._source.messages(line)

    @property
    def cached_rows(self) -> int:
        return len(self._window)

    def _note_cursor(self) -> None:
        """Tell the screen when the cursor's line belongs to another folder than before
        (one comparison per move; a message only when it changes)."""
        line = self.cursor_line
        folder = line.row.folder_id if line is not None else None
        if folder != self._cursor_folder:
            self._cursor_folder = folder
            self.post_message(self.CursorFolder(folder))

    # -- what the screen tells it ----------------------------------------------------------

    def show_folder(self, folder_id: int, threaded: bool | None = None) -> None:
        """Show another folder, from its newest message; as conversations or flat
        (``threaded``; None keeps the current choice)."""
        if threaded is None:
            threaded = self.threaded
        source: ListSource = (
            ThreadSource(self._store, folder_id)
            if threaded
            else FolderSource(self._store, folder_id, self._gaps)
        )
        self.show_source(source)

    def show_source(self, source: ListSource) -> None:
        """Show what ``source`` lists, from the top; the selection is cleared."""
        self._source = source
        self._set_selection(set())
        self._anchor = None
        self._loaded = False
        self._generation += 1
        self._inflight = None
        self._window.reset(0)
        self._cursor = 0
        self._set_total(0)
        self.scroll_to(y=0, animate=False)
        self.refresh()
        run_job(
            self,
            partial(self._load, source, self._generation),
            group="count",
            exclusive=True,
            exit_on_error=False,
        )

    def reload(self) -> None:
        """Re-read the folder after a change (new mail, flags), keeping the cursor on the
        same message when it can be found near where it was."""
        if self._source is None:
            return
        self.stale = False
        run_job(
            self,
            partial(self._reload, self._source),
            group="count",
            exclusive=True,
            exit_on_error=False,
        )

    def update_row(self, row: MessageRow) -> None:
        """Show a row's new state (e.g. read after opening) without a fetch."""
        for index, line in self._window.items():
            if line.row.id == row.id:
                self._window.replace(dataclasses.replace(line, row=row))
                self.refresh_line(index)

    # -- conversations ---------------------------------------------------------------------

    def action_toggle_fold(self) -> None:
        """Expand or collapse the conversation under the cursor (thread view only)."""
        source, line = self._source, self.cursor_line
        if not isinstance(source, ThreadSource) or line is None:
            self.say_pending()
            return
        thread_id = line.row.thread_id
        if source.is_expanded(thread_id):
            source.collapse(thread_id)
            if line.depth:  # on one of its messages: back to the conversation line
                self.run_worker(self._focus_thread(source, thread_id), group="count")
                return
        elif line.thread_size > 1:
            source.expand(thread_id)
        else:
            return
        self.reload()

    async def _focus_thread(self, source: ThreadSource, thread_id: int) -> None:
        await self._reload(source)
        position = await self._store.thread_position(source.folder_id, thread_id)
        if position is not None:
            self.move_cursor(source.line_of(position))
            self._request_rows()

    async def next_unread(self) -> ListRow | None:
        """Move to the next line with unread mail (from the top after the last one);
        returns that line, None when nothing is unread."""
        source = self._source
        if source is None:
            return None
        found = await source.next_unread(self.cursor_row)
        if found is None:
            found = await source.next_unread(None)
        if found is None:
            return None
        lines = await source.window(found, 1)
        if source is not self._source or not lines:
            return None
        self.move_cursor(found)
        self._request_rows()
        return lines[0]

    # -- loading ---------------------------------------------------------------------------

    async def _load(self, source: ListSource, generation: int) -> None:
        total, unread = await source.count()
        if generation != self._generation:
            return
        self._window.reset(total)
        self._set_total(total)
        self._cursor = min(self._cursor, max(0, total - 1))
        self._loaded = True
        self.refresh()
        self._request_rows()
        self.post_message(self.Loaded(source.folder_id, total, unread))

    async def _reload(self, source: ListSource) -> None:
        """Re-read counts and the rows around the viewport after a change (new mail,
        flags, a triage action), keeping the rows on screen until the new ones are in.

        The rows in memory stay drawn while the store is read; one window read of the
        band checks them where they would be if every change was above them (new mail),
        then where they were. The cursor stays on its message when it is found; the
        screen repaints only if what it shows changed. A key pressed meanwhile wins: the
        read is done again for where the user went.
        """
        for _ in range(3):
            if await self._reload_once(source):
                break
        else:
            self._reset_rows(source)  # the user kept moving: read what is on screen now
        if self._end_after_reload and source is self._source:
            self._go_last()  # (and the wish is done: move_cursor)

    async def _reload_once(self, source: ListSource) -> bool:
        """One attempt of ``_reload``; False when the user moved during the reads."""
        old_total, top, cursor = self.total, self._top, self._cursor
        anchor = self.cursor_line
        total, unread = await source.count()
        if source is not self._source:
            return True
        height, screen = self._height, self._screen
        fresh: RowWindow[ListRow] = RowWindow(total, margin=self._window.margin, key=_line_key)
        fresh.ends = screen
        index: int | None = None
        guesses = (total - old_total, 0) if anchor is not None else (0,)
        for shift in dict.fromkeys(guesses):
            if not total:
                break
            band = fresh.band(max(0, min(top + shift, total - 1)), height, screen)
            rows = await source.window(band.start, band.size)
            if source is not self._source:
                return True
            if (self._top, self._cursor, self.total) != (top, cursor, old_total):
                return False
            fresh = RowWindow(total, margin=self._window.margin, key=_line_key)
            fresh.ends = screen
            fresh.put(band.start, rows)
            if anchor is not None:
                index = fresh.index_of(anchor.key)
                if index is not None:
                    break
        if index is None:
            index = min(cursor, max(0, total - 1))
        old = self._window
        self._generation += 1
        self._inflight = None
        self._window = fresh
        self._loaded = True
        self._cursor = index
        self._set_total(total)
        new_top = top
        if not top <= index < top + height:
            new_top = max(0, index - (cursor - top))
            self.scroll_to(y=new_top, animate=False)
        shown_before = [old.get(i) for i in range(top, min(old_total, top + height))]
        shown_now = [fresh.get(i) for i in range(new_top, min(total, new_top + height))]
        moved = index - new_top != cursor - top
        if shown_before != shown_now or moved or total != old_total or not total:
            self.refresh()  # (empty: its note may have changed)
        self._request_rows()
        self._note_cursor()
        self._warm_later()
        self.post_message(self.Loaded(source.folder_id, total, unread))
        return True

    def _reset_rows(self, source: ListSource) -> None:
        """Forget the rows and read the viewport's again (placeholders meanwhile)."""
        self._generation += 1
        self._inflight = None
        self._window.reset(self.total)
        self.refresh()
        run_job(
            self,
            partial(self._load, source, self._generation),
            group="count",
            exclusive=True,
            exit_on_error=False,
        )

    def _request_rows(self, retry: bool = True) -> None:
        """Fetch what the viewport (and a screen either side) lacks, if not on its way.

        ``retry=False`` (a repaint found a missing row) does not retry after a store
        error, so a broken database means one notice, not a loop of them.
        """
        self._fetch_scheduled = False
        if self._source is None or not self._loaded or not self.is_mounted:
            return
        if self._fetch_failed and not retry:
            return
        self._fetch_failed = False
        self._window.ends = self._screen
        wanted = self._window.wanted(self._top, self._height, self._screen)
        if wanted is None:
            return
        if self._inflight is not None and self._inflight.covers(wanted):
            return
        self._inflight = wanted
        run_job(
            self,
            partial(self._fetch, self._source, wanted, self._generation),
            group="rows",
            exclusive=True,  # a newer viewport makes an older fetch pointless
            exit_on_error=False,
        )

    async def _fetch(self, source: ListSource, span: Span, generation: int) -> None:
        rows = await source.window(span.start, span.size)
        if generation != self._generation or source is not self._source:
            return
        self._inflight = None
        self._window.put(span.start, rows)
        self._window.keep(self._window.band(self._top, self._height, self._screen))
        top = self._top
        if span.start < top + self._height and top < span.stop:  # placeholders to replace
            self.refresh()
        self._request_rows(retry=False)
        self._note_cursor()
        self._warm_later()

    # -- geometry --------------------------------------------------------------------------

    @property
    def _top(self) -> int:
        return round(self.scroll_y)

    @property
    def _height(self) -> int:
        return max(1, self.scrollable_content_region.height)

    @property
    def _screen(self) -> int:
        """The tallest the viewport has been: the unit of what is kept around it and at
        the ends, so that rows stay in memory while the reader makes the list shorter."""
        self._tallest = max(self._tallest, self._height)
        return self._tallest

    def _set_total(self, total: int) -> None:
        self._window.total = total
        # Width 0: rows are cut to the viewport, the list never scrolls sideways.
        self.virtual_size = Size(0, total)

    def on_resize(self, event: events.Resize) -> None:
        self._scroll_cursor_into_view()
        self._request_rows()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        bar = self.vertical_scrollbar if self.show_vertical_scrollbar else None
        if bar is not None and thumb_cells(bar, old_value) == thumb_cells(bar, new_value):
            # ScrollView.watch_scroll_y, without repainting a scrollbar that looks the same.
            bar.set_reactive(ScrollBar.position, bar.validate_position(new_value))
            if round(old_value) != round(new_value):
                self.refresh(self.size.region)
        else:
            super().watch_scroll_y(old_value, new_value)
        self._request_rows()

    # -- drawing ---------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        width = self.scrollable_content_region.width
        if width != self._warm_width:
            self._warm_later()  # drawn ahead for another width (a scrollbar came, a resize)
        # Styles, the width and the top are looked up once per paint, not once per line
        # (a style lookup walks the CSS; the region is computed anew at each access).
        self._paint_styles = {}
        self._paint_geometry = (width, self._top)
        try:
            return super().render_lines(crop)
        finally:
            self._paint_styles = None
            self._paint_geometry = None

    def _style(self, component: str = "") -> Style:
        """The widget's style (``component`` empty) or a component's, cached per paint."""
        cache = self._paint_styles
        found = cache.get(component) if cache is not None else None
        if found is None:
            found = self.get_component_rich_style(component) if component else self.rich_style
            if cache is not None:
                cache[component] = found
        return found

    def render_line(self, y: int) -> Strip:
        if self._paint_geometry is not None:
            width, top = self._paint_geometry
        else:
            width, top = self.scrollable_content_region.width, self._top
        index = top + y
        base = self._style()
        if index >= self.total:
            if index == 0 and self._loaded:
                note = self.empty_note
                source = self._source
                if isinstance(source, (FilterSource, InboxFilterSource)) and source.searching:
                    note = SEARCHING  # a first pass: the server may have matches yet
                return self._strip(Text("  " + note, end=""), width, base)
            return Strip.blank(width, base)
        line = self._window.get(index)
        if line is None or line.pending:  # not read yet, or not fetched from the server yet
            if line is None and not self._fetch_scheduled:
                self._fetch_scheduled = True
                self.call_later(self._request_rows, False)
            style = base + self._style("message-list--placeholder")
            return self._strip(placeholder_text(width), width, style)
        return self._row_strip(index, line, width, self._clock())

    def _strip_key(self, index: int, line: ListRow, width: int, now: datetime) -> StripKey:
        """What a row's strip depends on (list_date reads the day and the zone of "now"):
        a repaint after a key, a relayout or a sync reuses the rows it drew."""
        selected = self._is_selected(line)
        style = self._style()
        if line.row.unread:
            style += self._style("message-list--unread")
        if selected:
            style += self._style("message-list--selected")
        if index == self._cursor:
            style += self._style("message-list--cursor")
        return (line, width, selected, style, now.date(), now.tzinfo)

    def is_drawn(self, index: int) -> bool:
        """Whether the row at ``index`` is in memory and drawn as it would show now."""
        line = self._window.get(index)
        width = self.scrollable_content_region.width
        if line is None:
            return False
        return self._strip_key(index, line, width, self._clock()) in self._strips

    def _row_strip(self, index: int, line: ListRow, width: int, now: datetime) -> Strip:
        """A row drawn, from the cache when it was drawn before in the same state."""
        key = self._strip_key(index, line, width, now)
        strip = self._strips.pop(key, None)
        if strip is None:
            _, _, selected, style, _, _ = key
            row = line.row
            text = row_text(
                row,
                width,
                now,
                selected=selected,
                thread_size=line.thread_size,
                expanded=line.expanded,
                depth=line.depth,
                tag=line.tag,
            )
            strip = self._strip(text, width, style)
            if len(self._strips) >= STRIP_CACHE:
                del self._strips[next(iter(self._strips))]
        self._strips[key] = strip  # (again) the most recently drawn
        return strip

    def _warm_later(self) -> None:
        """Draw the rows in memory but off screen, between keys (``_warm``)."""
        if not self._warm_pending and self.is_mounted:
            self._warm_pending = True
            run_job(self, self._warm, group="warm", exclusive=True, exit_on_error=False)

    async def _warm(self) -> None:
        """Draw, a few at a time, the rows kept around the screen and at the ends of the
        list that were never drawn: the page PgDn shows, the first and last screens g and
        G show, the rows new mail pushed into view. The paint after such a key then takes
        them from the cache instead of laying out ~40 rows (≈ 4 ms)."""
        await asyncio.sleep(0)  # after the paint that is due
        self._warm_pending = False
        generation = self._generation
        top, height, screen = self._top, self._height, self._screen
        order = [
            range(top + height, top + height + screen),  # the next page first
            range(max(0, top - screen), top),
            range(top, top + height),
            *(range(end.start, end.stop) for end in self._window.end_spans()),
        ]
        todo = [i for span in order for i in span if i != self._cursor]
        for start in range(0, len(todo), WARM_CHUNK):
            # Not between a key and its paint: a key's handling hops through several
            # turns of the event loop, and a chunk in each would delay it.
            while (wait := wait_for_quiet(self.app, WARM_QUIET)) > 0:
                await asyncio.sleep(wait)
            if generation != self._generation or not self.is_mounted:
                return
            width = self._warm_width = self.scrollable_content_region.width
            if width <= 0:
                return
            now = self._clock()
            self._paint_styles = {}  # looked up once per chunk, as in a paint
            try:
                for index in todo[start : start + WARM_CHUNK]:
                    line = self._window.get(index)
                    if line is not None:
                        self._row_strip(index, line, width, now)
            finally:
                self._paint_styles = None
            await asyncio.sleep(0)  # a key that came meanwhile goes first

    def _strip(self, text: Text, width: int, style: Style) -> Strip:
        return text_strip(text, width, style, self.app.console)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # -- moving ----------------------------------------------------------------------------

    def move_cursor(self, index: int) -> None:
        self._end_after_reload = False
        if not self.total:
            return
        index = max(0, min(index, self.total - 1))
        old, self._cursor = self._cursor, index
        self._scroll_cursor_into_view()
        self.refresh_line(old)
        self.refresh_line(index)
        self._note_cursor()

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
        self._go_last()
        source = self._source
        listed = (  # a first pass's listing: the list's end is the folder's already
            source is not None
            and self._gaps is not None
            and self._gaps.gaps(source.folder_id) is not None
        )
        if self.stale and source is not None and not listed:
            # The end the list has now, then the end after the reload: whichever reload
            # finishes (a later one replaces this one in the worker group) honours the
            # wish, until the user moves the cursor (``move_cursor``).
            self._end_after_reload = True
            self.reload()

    def _go_last(self) -> None:
        self.scroll_to(y=max(0, self.total - self._height), animate=False)
        self.move_cursor(self.total - 1)

    def action_open(self) -> None:
        row = self.cursor_row
        if row is not None:
            self.post_message(self.Opened(row.id))
        else:
            self.say_pending()

    def jump_to(self, index: int) -> None:
        """Put the line at ``index`` at the top of the screen, under the cursor."""
        self.scroll_to(y=max(0, index), animate=False, immediate=True)
        self.move_cursor(index)
        self._request_rows()

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
