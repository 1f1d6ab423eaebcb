"""The reader: one message's header block and body, wrapped and scrollable.

The screen fetches and parses; this widget only shows what it is given (``show_*``) and
scrolls with the reader keys. ``q``/Esc post ``MessageView.Closed`` for the screen.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from mailtui.ui import keymap


class MessageView(VerticalScroll, can_focus=True):
    """Header block over the body text."""

    BINDINGS: ClassVar[list[BindingType]] = list(keymap.bindings("reader"))

    DEFAULT_CSS = """
    MessageView {
        height: 1fr;
        scrollbar-size-vertical: 1;
        background: $surface;
        & > #reader-headers {
            background: $panel;
            padding: 0 1;
            border-bottom: solid $foreground 20%;
        }
        & > #reader-body {
            padding: 0 1;
        }
    }
    """

    class Closed(Message):
        """The user is done reading."""

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.message_id: int | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="reader-headers", markup=False)
        yield Static(id="reader-body", markup=False)

    @property
    def headers_plain(self) -> str:
        return self._plain("#reader-headers")

    @property
    def body_plain(self) -> str:
        return self._plain("#reader-body")

    def _plain(self, selector: str) -> str:
        content = self.query_one(selector, Static).content
        return content.plain if isinstance(content, Text) else str(content)

    def show(self, message_id: int, headers: Text, body: Text) -> None:
        """Show a message (or its header block with a "Loading…" body)."""
        new = message_id != self.message_id
        self.message_id = message_id
        self.query_one("#reader-headers", Static).update(headers)
        self.query_one("#reader-body", Static).update(body)
        if new:
            self.scroll_home(animate=False)

    def clear(self) -> None:
        self.message_id = None
        self.query_one("#reader-headers", Static).update("")
        self.query_one("#reader-body", Static).update("")

    def action_line_down(self) -> None:
        self.scroll_down(animate=False)

    def action_line_up(self) -> None:
        self.scroll_up(animate=False)

    def action_page_down(self) -> None:
        self.scroll_page_down(animate=False)

    def action_page_up(self) -> None:
        self.scroll_page_up(animate=False)

    def action_top(self) -> None:
        self.scroll_home(animate=False)

    def action_bottom(self) -> None:
        self.scroll_end(animate=False)

    def action_close(self) -> None:
        self.post_message(self.Closed())
