"""Every header field (``h`` in the reader) or the raw source (``Ctrl+U``), as inert text.

Header fields pass through ``clean_line``. The raw source shows what the message really
contains, so nothing is dropped from it: escape sequences and control characters are
written visibly, as ``\\x1b[31m`` or ``\\x07`` (C1 controls as ``\\x9b``, bidi
controls as ``\\u202e``, bytes that are not UTF-8 as ``\\xff``), in their own style so
they stand apart from text that merely contains a backslash. Tabs and line breaks stay.
None of them reaches the terminal as itself. Very large messages are cut, with a line that
says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from mailtui.mime import clean_line
from mailtui.ui import bidi, keymap
from mailtui.ui.reading import Line, VisualLines, human_size, renderable

MAX_SOURCE_BYTES = 4_000_000

# What is written as an escape in the source view: every C0 control but tab and line feed
# (a CR of CRLF is taken off first), DEL, the C1 controls, the bidi controls that reorder
# text, the Unicode line and paragraph separators, and lone surrogates (bytes that are not
# UTF-8, decoded with ``surrogateescape``).
_SHOWN_ESCAPED = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]"
)
ESCAPE_STYLE = "reverse"


def headers_text(headers: Iterable[tuple[str, str]]) -> Text | VisualLines:
    """Every header field, in message order, ``Name: value`` (name in bold); values in
    right-to-left scripts laid out as the reader lays out its own header block."""
    # A field reads left to right, like its name; right-to-left words in it are reordered
    # as runs within it (the left-to-right mark sets the direction and is not drawn).
    lines = [Line(bidi.LRM + clean_line(value), f"{clean_line(name)}: ") for name, value in headers]
    return renderable(lines) if lines else Text("(no header fields)")


def _escape(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8, carried by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def visible_controls(source: str) -> Text:
    """``source`` with every control character written out as an escape, styled apart."""
    text = Text(end="")
    start = 0
    for match in _SHOWN_ESCAPED.finditer(source):
        text.append(source[start : match.start()])
        text.append(_escape(match.group()), style=ESCAPE_STYLE)
        start = match.end()
    text.append(source[start:])
    return text


def source_text(raw: bytes) -> Text:
    """The message as it came from the server, every control character shown escaped."""
    cut = len(raw) > MAX_SOURCE_BYTES
    decoded = raw[:MAX_SOURCE_BYTES].decode("utf-8", errors="surrogateescape")
    text = visible_controls(decoded.replace("\r\n", "\n"))
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

    def __init__(self, title: str, content: Text | VisualLines) -> None:
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
