"""The status line's left part: where the user is, with counts, the view and the selection.

Inbox · 3 unread of 1,204 · 2 selected        a folder (flat)
Inbox · 310 conversations, 3 unread           a folder's conversations
Inbox · filter "lunch": 4 matches             a filter
Inbox · 2 so far, asking server · filter "lunch"
                                              a filter during a first pass
Inbox · 310 conversations so far · older mail still loading
"""

from __future__ import annotations

from mailtui.sync.server_search import SearchState, ServerFilter
from mailtui.ui.list_sources import FilterSource, InboxFilterSource, ListSource, ThreadSource


def location(name: str, total: int, unread: int | None = None) -> str:
    """A folder's name with its counts."""
    where = name
    if unread:
        where += f" · {unread:,} unread of {total:,}"
    else:
        where += f" · {total:,} messages" if total != 1 else " · 1 message"
    return where


def server_note(search: ServerFilter | None) -> str:
    """What a filter's search of the server is doing (``sync/server_search.py``); empty
    when there is none or it is over."""
    if search is None:
        return ""
    if search.state is SearchState.ASKING:
        return "asking server"  # short: at 80 columns a sync's progress takes half the line
    if search.state is SearchState.LOADING:
        return f"{search.found:,} more coming from the server"
    if search.state is SearchState.FAILED:
        return search.error or "the server could not search"
    return ""


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
    in its first pass, so a filter has searched the part cached so far (unless the
    server searched the rest: ``FilterSource.server_search``), and the conversations
    are those of the part cached so far."""
    if isinstance(source, (FilterSource, InboxFilterSource)):
        found = "1 match" if total == 1 else f"{total:,} matches"
        server = source.server_search
        note = server_note(server)
        if note:  # the count and the server's part first: at 80 columns the rest is cut
            where = f'{name} · {total:,} so far, {note} · filter "{source.query}"'
        else:
            found += " so far" if partial and (server is None or not server.complete) else ""
            where = f'{name} · filter "{source.query}": {found}'
    elif isinstance(source, ThreadSource):
        where = f"{name} · {source.threads:,} conversations"
        where += " so far" if partial else ""
        if unread:
            where += f", {unread:,} unread"
        where += " · older mail still loading" if partial else ""
    else:
        where = location(name, total, unread)
    if selected:
        where += f" · {selected:,} selected"
    return where
