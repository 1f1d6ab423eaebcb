"""How one message row is laid out in the list: markers, date, sender, subject.

Plain rich ``Text`` (never markup: a subject like ``[bold]`` is text, not a tag), and every
mail-derived string goes through ``clean_line`` although the store keeps sanitized text
already: an escape sequence that slipped past one layer still never reaches the terminal.

    NF@       14:05 Alice Example     Lunch on Friday?
    ^^^ unread / flagged / attachment

In the unified inbox a short account tag stands between date and sender
(``N  14:05 work Alice Example …``), dim, so that it reads as a column, not a name.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from mailtui.mime.sanitize import clean_line
from mailtui.models import Flag, MessageRow
from mailtui.ui import bidi
from mailtui.ui.dates import list_date

DATE_WIDTH = 10  # "2026-03-04", the widest of the three forms
MARKER_WIDTH = 3


def sender_width(width: int) -> int:
    """The sender column: a quarter of the row, between 8 and 24 cells."""
    return max(8, min(24, width // 4))


def markers(row: MessageRow) -> str:
    """Three one-cell markers, ASCII so that every terminal lines them up."""
    if row.unread:
        state = "N"
    elif row.flags & Flag.ANSWERED:
        state = "r"
    elif row.flags & Flag.FORWARDED:
        state = "f"
    else:
        state = " "
    flagged = "!" if row.flags & Flag.FLAGGED else " "
    attachment = "@" if row.has_attachments else " "
    return state + flagged + attachment


def row_text(
    row: MessageRow,
    width: int,
    now: datetime,
    *,
    selected: bool = False,
    thread_size: int = 1,
    expanded: bool = False,
    depth: int = 0,
    tag: str = "",
) -> Text:
    """One list row, exactly ``width`` cells wide (padded or cut with an ellipsis).

    A selected row shows ``*`` after the markers (readable without colour); in the
    thread view a conversation's subject starts with its size (``[3]``, ``[3-]`` when
    expanded), and its messages are indented under it.
    """
    line = Text(no_wrap=True, end="")
    line.append(markers(row), style="bold")
    line.append("*" if selected else " ")
    line.append(list_date(row.date, now).rjust(DATE_WIDTH))
    line.append(" ")
    if tag:
        line.append(clean_line(tag), style="dim")
        line.append(" ")
    # Right-to-left names and subjects are cut on their logical text, then reordered.
    who = bidi.fit(clean_line(row.sender) or "(nobody)", sender_width(width))
    sender = Text(who, no_wrap=True)
    sender.truncate(sender_width(width), overflow="ellipsis", pad=True)
    line.append_text(sender)
    line.append(" ")
    if depth:
        line.append("  " * depth + "> ", style="dim")
    if thread_size > 1:
        line.append(f"[{thread_size}{'-' if expanded else ''}] ", style="bold")
    subject = clean_line(row.subject) or "(no subject)"
    line.append(bidi.fit(subject, max(1, width - line.cell_len)))
    line.truncate(width, overflow="ellipsis", pad=True)
    return line


def placeholder_text(width: int) -> Text:
    """A row that is still being read from the store."""
    line = Text(" " * (MARKER_WIDTH + 1) + "…".rjust(DATE_WIDTH), no_wrap=True, end="")
    line.truncate(width, pad=True)
    return line
