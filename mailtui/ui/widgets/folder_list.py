"""The folder pane: "All inboxes", then each account's folders, with unread counts.

Few lines (folders, not messages), so the widget holds them all; it draws with the Line
API to right-align the counts at any width. The cursor (j/k) moves over folders and the
unified inbox, skipping account headings (which show the account's unread) and the dim
line that counts an account's unsubscribed folders, drawn greyed below it; Enter posts
``FolderList.Selected`` or ``FolderList.InboxesSelected``. The screen owns the data and
hands it down with ``set_folders``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from mailtui.mime.sanitize import clean_line
from mailtui.models import Account, Folder
from mailtui.ui import keymap
from mailtui.ui.folder_tree import FolderEntry, folder_entries
from mailtui.ui.strips import text_strip


class FolderList(ScrollView, can_focus=True):
    """Accounts and their folders; the open folder is marked, the cursor moves freely."""

    BINDINGS: ClassVar[list[BindingType]] = list(keymap.bindings("folders"))

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "folder-list--account",
        "folder-list--cursor",
        "folder-list--open",
        "folder-list--unread",
        "folder-list--unsubscribed",
    }

    DEFAULT_CSS = """
    FolderList {
        width: 26;
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        background: $panel;
        border-right: vkey $foreground 20%;
        & > .folder-list--account {
            color: $accent;
            text-style: bold;
        }
        & > .folder-list--cursor {
            background: $block-cursor-blurred-background;
        }
        &:focus > .folder-list--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
        }
        & > .folder-list--open {
            color: $primary;
            text-style: underline;
        }
        & > .folder-list--unread {
            text-style: bold;
        }
        & > .folder-list--unsubscribed {
            color: $text-muted;
        }
    }
    """

    class Selected(Message):
        """The user chose a folder to open."""

        def __init__(self, folder: Folder) -> None:
            self.folder = folder
            super().__init__()

    class InboxesSelected(Message):
        """The user chose "All inboxes" (the unified inbox)."""

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._entries: list[FolderEntry] = []
        self._cursor = 0
        self._open_id: int | None = None
        self._open_unified = False

    @property
    def entries(self) -> list[FolderEntry]:
        return list(self._entries)

    @property
    def highlighted(self) -> Folder | None:
        if 0 <= self._cursor < len(self._entries):
            return self._entries[self._cursor].folder
        return None

    @property
    def on_unified(self) -> bool:
        """The cursor is on "All inboxes"."""
        return 0 <= self._cursor < len(self._entries) and self._entries[self._cursor].unified

    @property
    def has_unified(self) -> bool:
        """The pane lists "All inboxes" (two or more accounts have an Inbox)."""
        return any(entry.unified for entry in self._entries)

    def set_folders(self, accounts: Iterable[Account], folders: Iterable[Folder]) -> None:
        """Replace the content, keeping the cursor on the same line."""
        current, unified = self.highlighted, self.on_unified
        self._entries = folder_entries(accounts, folders, unified=True)
        self.virtual_size = Size(0, len(self._entries))
        if unified or (current is None and self._open_unified):
            self._cursor = self._unified_index()
        else:
            target = current.id if current is not None else self._open_id
            self._cursor = self._index_of(target) if target is not None else -1
        if self._cursor < 0:
            self._cursor = self._step(-1, +1)
        self.refresh()

    def set_open(self, folder_id: int) -> None:
        """Mark the folder the message list shows, and put the cursor on it."""
        self._open_id = folder_id
        self._open_unified = False
        index = self._index_of(folder_id)
        if index >= 0:
            self._move(index)
        self.refresh()

    def set_open_unified(self) -> None:
        """Mark "All inboxes" as what the message list shows, and put the cursor on it."""
        self._open_id = None
        self._open_unified = True
        index = self._unified_index()
        if index >= 0:
            self._move(index)
        self.refresh()

    def _index_of(self, folder_id: int) -> int:
        for index, entry in enumerate(self._entries):
            if entry.folder is not None and entry.folder.id == folder_id:
                return index
        return -1

    def _unified_index(self) -> int:
        return next((i for i, entry in enumerate(self._entries) if entry.unified), -1)

    def _step(self, start: int, direction: int) -> int:
        """The next folder (or "All inboxes") line from ``start`` in ``direction``, or
        ``start`` if none."""
        index = start + direction
        while 0 <= index < len(self._entries):
            if self._entries[index].folder is not None or self._entries[index].unified:
                return index
            index += direction
        return start

    def _move(self, index: int) -> None:
        self._cursor = index
        self.scroll_to_region_line(index)
        self.refresh()

    def scroll_to_region_line(self, index: int) -> None:
        top = round(self.scroll_y)
        height = max(1, self.scrollable_content_region.height)
        if index < top:
            self.scroll_to(y=index, animate=False)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False)

    # -- drawing ---------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = round(self.scroll_y) + y
        base = self.rich_style
        if index >= len(self._entries):
            return Strip.blank(width, base)
        entry = self._entries[index]
        folder = entry.folder
        if folder is None and entry.note:
            style = base + self.get_component_rich_style("folder-list--unsubscribed")
            return self._strip(self._counted(" " + entry.note, 0, width), width, style)
        if folder is None and not entry.unified:
            style = base + self.get_component_rich_style("folder-list--account")
            name = clean_line(entry.account.name) if entry.account is not None else ""
            return self._strip(self._counted(name, entry.unread, width), width, style)
        style = base
        if folder is not None and not folder.subscribed:
            style += self.get_component_rich_style("folder-list--unsubscribed")
        if entry.unread or (folder is not None and folder.unread):
            style += self.get_component_rich_style("folder-list--unread")
        if (folder is None and self._open_unified) or (
            folder is not None and folder.id == self._open_id
        ):
            style += self.get_component_rich_style("folder-list--open")
        if index == self._cursor:
            style += self.get_component_rich_style("folder-list--cursor")
        if folder is None:  # "All inboxes"
            return self._strip(self._counted(entry.label, entry.unread, width), width, style)
        name = " " + "  " * entry.indent + clean_line(entry.label or folder.display_name)
        return self._strip(self._counted(name, folder.unread, width), width, style)

    @staticmethod
    def _counted(name: str, unread: int, width: int) -> Text:
        """``name`` cut to fit, with the unread count (if any) at the right edge."""
        count = f" {unread}" if unread else ""
        label = Text(name, end="")
        label.truncate(max(1, width - len(count)), overflow="ellipsis", pad=True)
        label.append(count)
        return label

    def _strip(self, text: Text, width: int, style: Style) -> Strip:
        return text_strip(text, width, style, self.app.console)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # -- keys ------------------------------------------------------------------------------

    def action_cursor_down(self) -> None:
        self._move(self._step(self._cursor, +1))

    def action_cursor_up(self) -> None:
        self._move(self._step(self._cursor, -1))

    def action_first(self) -> None:
        self._move(self._step(-1, +1))

    def action_last(self) -> None:
        self._move(self._step(len(self._entries), -1))

    def action_open(self) -> None:
        folder = self.highlighted
        if folder is not None:
            self.post_message(self.Selected(folder))
        elif self.on_unified:
            self.post_message(self.InboxesSelected())

    def on_click(self, event: events.Click) -> None:
        index = round(self.scroll_y) + event.y
        if 0 <= index < len(self._entries) and (
            self._entries[index].folder is not None or self._entries[index].unified
        ):
            self._move(index)
            self.action_open()
