"""What the reader shows, as rich ``Text``: the header block and the body.

Plain logic over the store's ``MessageDetail`` and the parsed body; no Textual. Header
fields come from the envelope (decoded and sanitized by the store), the body and the
attachment list from ``mailtui.mime.parse_message``. Every string passes ``clean_line`` /
``clean_text`` again on its way to the screen.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text

from mailtui.mime.sanitize import clean_line, clean_text
from mailtui.models import Address, MessageDetail
from mailtui.ui import bidi
from mailtui.ui.dates import full_date

MAX_BODY_CHARS = 2_000_000  # beyond this the reader shows the start and says so


@dataclass(frozen=True, slots=True)
class AttachmentLine:
    """One attachment as the header block lists it."""

    filename: str
    content_type: str
    size: int


def human_size(size: int) -> str:
    """``512 B``, ``12 KB``, ``3.4 MB``: short, for the attachment list."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    if size < 1024 * 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{size / (1024 * 1024 * 1024):.1f} GB"


MAX_ADDRESSES = 8  # per header field; a 1000-recipient To line would hide the body


def _addresses(addresses: Iterable[Address]) -> str:
    every = list(addresses)
    shown = []
    for address in every[:MAX_ADDRESSES]:
        name, addr = clean_line(address.name), clean_line(address.addr)
        # A right-to-left name is its own isolate: the address stays after it, in
        # mailtui's left-to-right order, with its angle brackets the right way round.
        name = bidi.isolate(name)
        shown.append(f"{name} <{addr}>" if name and addr else name or addr)
    more = len(every) - MAX_ADDRESSES
    return ", ".join(shown) + (f" and {more:,} more" if more > 0 else "")


@dataclass(frozen=True, slots=True)
class Line:
    """One logical line of the reader: a bold ``label`` ("From: "), then ``text`` in
    ``style``. Kept apart so that right-to-left text can be wrapped and reordered
    without its label (``VisualLines``)."""

    text: str
    label: str = ""
    style: str = ""


def header_lines(
    detail: MessageDetail,
    now: datetime,
    attachments: Iterable[AttachmentLine] = (),
    notes: Iterable[str] = (),
) -> list[Line]:
    """From, To, Cc, Date, Subject and the attachments, one field per line, then (dim)
    the parser's notes about anything malformed it worked around."""
    envelope = detail.envelope
    fields: list[tuple[str, str]] = [
        ("From", _addresses(envelope.from_) or clean_line(detail.row.sender)),
        ("To", _addresses(envelope.to)),
        ("Cc", _addresses(envelope.cc)),
        ("Date", full_date(envelope.date or detail.row.date, now)),
        ("Subject", clean_line(envelope.subject or detail.row.subject) or "(no subject)"),
    ]
    for attachment in attachments:
        fields.append(("Attachment", attachment_label(attachment)))
    lines = [Line(value, f"{label}: ") for label, value in fields if value]
    lines += [Line(f"Note: {clean_line(note)}", style="dim italic") for note in notes]
    return lines


def attachment_label(attachment: AttachmentLine) -> str:
    """``report.pdf (12 KB, application/pdf)``; a right-to-left name is an isolate, so
    that it shows as one unit with the size and type after it (``bidi.visual``)."""
    name = bidi.isolate(clean_line(attachment.filename) or "(unnamed)")
    kind = clean_line(attachment.content_type)
    return f"{name} ({human_size(attachment.size)}, {kind})"


def body_lines(body: str) -> list[Line]:
    """The text body, with quoted lines (``>``) and the signature dimmed."""
    truncated = len(body) > MAX_BODY_CHARS
    clean = clean_text(body[:MAX_BODY_CHARS] if truncated else body)
    lines: list[Line] = []
    in_signature = False
    for line in clean.split("\n"):
        if line == "-- ":
            in_signature = True
        quoted = line.lstrip().startswith(">")
        lines.append(Line(line, style="dim" if quoted or in_signature else ""))
    if truncated:
        lines += [Line(""), Line(f"[the message goes on: {human_size(len(body))} of text in all]")]
    return lines


def as_text(lines: Iterable[Line]) -> Text:
    """The lines as one rich ``Text`` (the terminal wraps nothing; rich does)."""
    text = Text(end="")
    for number, line in enumerate(lines):
        if number:
            text.append("\n")
        if line.label:
            text.append(line.label, style="bold")
        # A left-to-right mark (HTML dir="ltr") steers the terminal's own bidi, if any;
        # when mailtui does the reordering it has done its work and is not drawn.
        text.append(
            line.text.replace(bidi.LRM, "") if bidi.enabled() else line.text, style=line.style
        )
    return text


class VisualLines:
    """Lines holding right-to-left text, each laid out as one bidi paragraph: wrapped to
    the width on its *logical* text, then each screen line reordered with the
    paragraph's direction (``mailtui.ui.bidi.layout``).

    A label stays on the left and wrapped lines hang under the value; every line of a
    paragraph that reads right to left (its first strong letter, or the ``dir`` of the
    HTML it came from) is aligned to the right edge, as its readers expect.
    """

    def __init__(self, lines: Iterable[Line]) -> None:
        self.lines = list(lines)
        # Shaping and reordering is the costly part, and Textual renders a body two or
        # three times at one width when it opens (its height, then its lines): once.
        self._rendered: dict[int, list[Text]] = {}

    @property
    def plain(self) -> str:
        """The logical text (what the message says, in reading order)."""
        text = "\n".join(line.label + line.text for line in self.lines)
        return text.replace(bidi.FSI, "").replace(bidi.PDI, "")

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(1, options.max_width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(1, options.max_width)
        rendered = self._rendered.get(width)
        if rendered is None:
            rendered = [shown for line in self.lines for shown in self._render(line, width)]
            self._rendered = {width: rendered}  # one width at a time (a resize redraws)
        yield from rendered

    @staticmethod
    def _render(line: Line, width: int) -> Iterator[Text]:
        indent = cell_len(line.label) if cell_len(line.label) < width // 2 else 0
        room = max(1, width - indent)
        pieces = bidi.layout(line.text, room).aligned(room)
        for number, piece in enumerate(pieces):
            shown = Text(end="\n", no_wrap=True)
            if number == 0 and line.label:
                shown.append(line.label if indent else line.label.rstrip(), style="bold")
                if not indent:
                    yield shown
                    shown = Text(end="\n", no_wrap=True)
            elif indent:
                shown.append(" " * indent)
            shown.append(piece, style=line.style)
            yield shown


def renderable(lines: list[Line]) -> Text | VisualLines:
    """``VisualLines`` when reordering is on and some line holds right-to-left text or
    is marked right to left (HTML ``dir``), else plain ``Text`` (rich wraps it)."""
    if bidi.enabled() and any(bidi.has_rtl(line.text) or bidi.RLM in line.text for line in lines):
        return VisualLines(lines)
    return as_text(lines)


def header_text(
    detail: MessageDetail,
    now: datetime,
    attachments: Iterable[AttachmentLine] = (),
    notes: Iterable[str] = (),
) -> Text | VisualLines:
    """The header block, ready for the reader."""
    return renderable(header_lines(detail, now, attachments, notes))


def body_text(body: str) -> Text | VisualLines:
    """The body, ready for the reader."""
    return renderable(body_lines(body))
