"""What the reader shows, as rich ``Text``: the header block and the body.

Plain logic over the store's ``MessageDetail`` and the parsed body; no Textual. Header
fields come from the envelope (decoded and sanitized by the store), the body and the
attachment list from ``mailtui.mime.parse_message``. Every string passes ``clean_line`` /
``clean_text`` again on its way to the screen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text

from mailtui.mime.sanitize import clean_line, clean_text
from mailtui.models import Address, MessageDetail
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
        shown.append(f"{name} <{addr}>" if name and addr else name or addr)
    more = len(every) - MAX_ADDRESSES
    return ", ".join(shown) + (f" and {more:,} more" if more > 0 else "")


def header_text(
    detail: MessageDetail,
    now: datetime,
    attachments: Iterable[AttachmentLine] = (),
    notes: Iterable[str] = (),
) -> Text:
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
        name = clean_line(attachment.filename) or "(unnamed)"
        kind = clean_line(attachment.content_type)
        fields.append(("Attachment", f"{name} ({human_size(attachment.size)}, {kind})"))
    text = Text(end="")
    for label, value in fields:
        if not value:
            continue
        if text:
            text.append("\n")
        text.append(f"{label}: ", style="bold")
        text.append(value)
    for note in notes:
        text.append("\n")
        text.append(f"Note: {clean_line(note)}", style="dim italic")
    return text


def body_text(body: str) -> Text:
    """The text body, with quoted lines (``>``) and the signature dimmed."""
    truncated = len(body) > MAX_BODY_CHARS
    clean = clean_text(body[:MAX_BODY_CHARS] if truncated else body)
    text = Text(end="")
    in_signature = False
    for number, line in enumerate(clean.split("\n")):
        if number:
            text.append("\n")
        if line == "-- ":
            in_signature = True
        quoted = line.lstrip().startswith(">")
        text.append(line, style="dim" if quoted or in_signature else "")
    if truncated:
        text.append(f"\n\n[the message goes on: {human_size(len(body))} of text in all]")
    return text
