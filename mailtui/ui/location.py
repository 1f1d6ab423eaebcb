"""The status line's left part: where the user is, with counts, the view and the selection.

    Inbox · 3 unread of 1,204 · 2 selected        a folder (flat)
    Inbox · 310 conversations, 3 unread           a folder's conversations
    Inbox · filter "lunch": 4 matches             a filter
"""

from __future__ import annotations

from mailtui.ui.list_sources import FilterSource, InboxFilterSource, ListSource, ThreadSource


def location(name: str, total: int, unread: int | None = None) -> str:
    """A folder's name with its counts."""
    where = name
    if unread:
        where += f" · {unread:,} unread of {total:,}"
    else:
        where += f" · {total:,} messages" if total != 1 else " · 1 message"
    return where


def listing_location(
    name: str,
    source: ListSource | None,
    total: int,
    unread: int,
    selected: int,
    partial: bool = False,
) -> str:
    """What the list shows of the folder ``name`` (``source``: filter, conversations or
    the folder itself), with the number of selected messages. ``partial``: the folder is
    in its first pass, so a filter has searched the part cached so far."""
    if isinstance(source, (FilterSource, InboxFilterSource)):
        found = "1 match" if total == 1 else f"{total:,} matches"
        if partial:
            found += " so far"
        where = f"{name} · filter \"{source.query}\": {found}"
    elif isinstance(source, ThreadSource):
        where = f"{name} · {source.threads:,} conversations"
        if unread:
            where += f", {unread:,} unread"
    else:
        where = location(name, total, unread)
    if selected:
        where += f" · {selected:,} selected"
    return where
