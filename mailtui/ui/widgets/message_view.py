"""The reader: one message's header block and body, wrapped and scrollable.

The screen fetches and parses; this widget only shows what it is given (``show``) and
scrolls with the reader keys. ``q``/Esc post ``MessageView.Closed`` for the screen. With
the parsed message it also opens the reader's modal screens: links (``l``, copy one),
attachments (``v``, save or open), every header field (``h``), the raw source
(``Ctrl+U``).
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import RenderableType
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from mailtui.mime import ParsedMessage
from mailtui.ui import keymap
from mailtui.ui.modals.attachments import AttachmentsScreen
from mailtui.ui.modals.links import LinksScreen
from mailtui.ui.modals.source import SourceScreen, headers_text, source_text


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
        self.parsed: ParsedMessage | None = None
        self.raw: bytes | None = None

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
        plain = getattr(content, "plain", None)
        return plain if isinstance(plain, str) else str(content)

    def show(
        self,
        message_id: int,
        headers: RenderableType,
        body: RenderableType,
        *,
        parsed: ParsedMessage | None = None,
        raw: bytes | None = None,
    ) -> None:
        """Show a message (or its header block with a "Loading…" body); ``parsed`` and
        ``raw`` (once there) feed the links, attachments, headers and source screens."""
        new = message_id != self.message_id
        self.message_id = message_id
        self.parsed = parsed
        self.raw = raw
        self.query_one("#reader-headers", Static).update(headers)
        self.query_one("#reader-body", Static).update(body)
        if new:
            self.scroll_home(animate=False)

    def clear(self) -> None:
        self.message_id = None
        self.parsed = None
        self.raw = None
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

    def _need_body(self) -> bool:
        if self.parsed is None or self.raw is None:
            self.notify("The message is not downloaded yet.", timeout=3)
            return False
        return True

    def action_links(self) -> None:
        if self._need_body() and self.parsed is not None:
            self.app.push_screen(LinksScreen(self.parsed.links))

    def action_attachments(self) -> None:
        if self._need_body() and self.parsed is not None and self.raw is not None:
            listed = [a for a in self.parsed.attachments if not a.is_inline]
            self.app.push_screen(AttachmentsScreen(self.raw, listed))

    def action_headers(self) -> None:
        if self._need_body() and self.parsed is not None:
            fields = headers_text(self.parsed.headers)
            self.app.push_screen(SourceScreen("All header fields", fields))

    def action_source(self) -> None:
        if self._need_body() and self.raw is not None:
            self.app.push_screen(SourceScreen("Raw source", source_text(self.raw)))
