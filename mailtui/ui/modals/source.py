"""Every header field (``h`` in the reader) or the raw source (``Ctrl+U``), as inert text.

The raw bytes are decoded as UTF-8 with replacement and passed through ``clean_text``:
what a message carries in escape sequences and control characters is removed, never
sent to the terminal. Very large messages are cut, with a line that says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from mailtui.mime import clean_line, clean_text
from mailtui.ui import keymap
from mailtui.ui.reading import human_size

MAX_SOURCE_BYTES = 4_000_000


def headers_text(headers: Iterable[tuple[str, str]]) -> Text:
    """Every header field, in message order, ``Name: value`` (name in bold)."""
    text = Text(end="")
    for name, value in headers:
        if text:
            text.append("\n")
        text.append(f"{clean_line(name)}: ", style="bold")
        text.append(clean_line(value))
    return text or Text("(no header fields)")


def source_text(raw: bytes) -> Text:
    """The message as it came from the server, made inert for the terminal."""
    cut = len(raw) > MAX_SOURCE_BYTES
    shown = clean_text(raw[:MAX_SOURCE_BYTES].decode("utf-8", errors="replace"))
    text = Text(shown, end="")
    if cut:
        text.append(f"\n[cut here: the message is {human_size(len(raw))} in all]", style="dim")
    return text


class SourceScreen(ModalScreen[None]):
    """A full-screen, scrollable view of headers or source."""

    BINDINGS: ClassVar[list[BindingType]] = list(keymap.bindings("source"))

    DEFAULT_CSS = """
    SourceScreen {
        & > #source-box {
            border: round $accent;
            background: $surface;
            padding: 0 1;
            scrollbar-size-vertical: 1;
        }
    }
    """

    def __init__(self, title: str, content: Text) -> None:
        super().__init__()
        self.title_text = title
        self.content = content

    def compose(self) -> ComposeResult:
        box = VerticalScroll(id="source-box")
        box.border_title = self.title_text
        box.border_subtitle = "Esc: close"
        with box:
            yield Static(self.content, id="source-text", markup=False)

    @property
    def plain(self) -> str:
        return self.content.plain

    def on_mount(self) -> None:
        self.query_one("#source-box", VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_scroll_lines(self, lines: int) -> None:
        self.query_one("#source-box", VerticalScroll).scroll_relative(y=lines, animate=False)

    def action_scroll_pages(self, pages: int) -> None:
        box = self.query_one("#source-box", VerticalScroll)
        box.scroll_relative(y=pages * max(1, box.scrollable_content_region.height), animate=False)
