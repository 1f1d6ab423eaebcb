"""What the message list shows: a folder, a filtered folder, or a folder's conversations.

The list widget only knows positions; a *source* turns positions into rows, reading only
the rows asked for (the store's index walks), so each view of a million-message folder
costs what a small one does. No Textual here: plain async logic, tested directly.

| source        | count                     | rows                                     |
| ------------- | ------------------------- | ---------------------------------------- |
| FolderSource  | store.count (counters)    | store.window                             |
| FilterSource  | the matches (≤ MAX_MATCH) | store.search(folder_id=...), kept; in a  |
|               |                           | first pass the server searched too       |
| ThreadSource  | store.thread_count + open | store.thread_window + thread_messages    |
| InboxSource   | store.inbox_count         | store.inbox_window (every account)       |
| InboxFilter…  | the matches (≤ MAX_MATCH) | store.search per inbox, merged, kept     |

In the conversation view each thread is one row (its newest message, with the number of
messages); an expanded thread is followed by its messages, oldest first. Expanded threads
are few (the user opens them one by one), so positions are mapped with a short list.

The unified inbox (``InboxSource``) lists every account's Inbox as one, newest first; a
line carries its account's short tag when more than one account is listed. Its lines
are messages of several accounts, so it also tells which account each id belongs to
(``accounts_of``): triage wakes each one's worker.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from rich.cells import cell_len, chop_cells

from mailtui.mime.sanitize import clean_line
from mailtui.mime.threading import reply_tree
from mailtui.models import Account, Flag, Folder, FolderRole, MessageRow
from mailtui.sync.server_search import SearchState, ServerFilter
from mailtui.sync.window import FolderGaps
from mailtui.ui.services import ListGaps, MailStore, ServerQuestions

#: A filter keeps at most this many matches (newest first) in memory.
MAX_MATCH = 5000
#: Selecting everything or a range selects at most this many messages.
MAX_SELECT = 50_000
#: What a key on a placeholder line (a message of a first pass not cached yet) says:
#: short, since at 80 columns during a sync a notice may get only 16 cells.
STILL_LOADING = "Still loading…"
#: What an empty filter says while the server searches the part not cached yet.
SEARCHING = "No match so far: the server is searching the messages not loaded yet…"
#: An expanded thread lists at most this many of its (newest) messages.
MAX_THREAD = 1000
# Replies deeper than this are drawn at this depth: the subject keeps room at 80 columns.
MAX_REPLY_DEPTH = 5


@dataclass(frozen=True, slots=True)
class ListRow:
    """One line of the list: a message, or a conversation (its newest message)."""

    row: MessageRow
    thread: bool = False  # a conversation line of the thread view
    thread_size: int = 1
    expanded: bool = False
    depth: int = 0  # 1: a message under its expanded conversation; 2: a reply to it...
    tag: str = ""  # the unified inbox: the message's account, when several are listed
    #: A position of a folder in its first pass whose message is not cached yet, drawn
    #: as a placeholder (``FolderSource``); its row is empty, its id negative.
    pending: bool = False

    @property
    def key(self) -> tuple[int, int]:
        """Identity across reloads: the conversation, or the message."""
        return (1, self.row.thread_id) if self.thread else (0, self.row.id)


def pending_line(folder_id: int, position: int) -> ListRow:
    """The placeholder at ``position`` of a folder in its first pass."""
    row = MessageRow(
        id=-1 - position,
        folder_id=folder_id,
        date=0,
        sender="",
        subject="",
        flags=Flag.SEEN,
        has_attachments=False,
        size=0,
        thread_id=0,
    )
    return ListRow(row, pending=True)


class ListSource(Protocol):
    """Positions → rows for the list widget."""

    @property
    def folder_id(self) -> int: ...

    async def count(self) -> tuple[int, int]:
        """(lines, unread messages); also refreshes what the source keeps."""
        ...

    async def window(self, offset: int, limit: int) -> list[ListRow]: ...

    async def next_unread(self, after: MessageRow | None) -> int | None:
        """The position of the next line with unread mail after ``after``."""
        ...

    async def messages(self, line: ListRow) -> list[int]:
        """The message ids a line stands for (a conversation: all of its messages)."""
        ...

    async def all_ids(self, limit: int) -> list[int]:
        """Every message id of the view, up to ``limit``."""
        ...


def first_before(rows: Sequence[MessageRow], before: int) -> int:
    """The index of the first of ``rows`` (newest first) dated before ``before``."""
    return next((i for i, row in enumerate(rows) if row.date < before), len(rows))


async def ids_of(source: ListSource, lines: Iterable[ListRow]) -> list[int]:
    """The message ids of several lines, in order, without repeats."""
    out: dict[int, None] = {}
    for line in lines:
        for mid in await source.messages(line):
            out[mid] = None
    return list(out)


class FolderSource:
    """A folder, newest first. During its first pass (``gaps``), the folder's whole
    length: the positions not cached yet are placeholders, and the source asks for the
    ones it hands out (``sync/window.py``)."""

    def __init__(self, store: MailStore, folder_id: int, gaps: ListGaps | None = None) -> None:
        self.store = store
        self._folder_id = folder_id
        self._gaps = gaps

    @property
    def folder_id(self) -> int:
        return self._folder_id

    async def count(self) -> tuple[int, int]:
        cached, unread = await self.store.count(self._folder_id)
        gaps = self._gaps.gaps(self._folder_id) if self._gaps is not None else None
        return (cached + gaps.pending if gaps is not None else cached), unread

    async def window(self, offset: int, limit: int) -> list[ListRow]:
        """Rows [offset, offset + limit). During a first pass, a batch committed while
        the cached stretches were read moves rows to other positions: read again with
        the new gaps (a cached row never shows at a position that is not its own)."""
        while True:
            gaps = self._gaps.gaps(self._folder_id) if self._gaps is not None else None
            version = gaps.version if gaps is not None else -1
            lines = await self._window(gaps, offset, limit)
            now = self._gaps.gaps(self._folder_id) if self._gaps is not None else None
            if now is gaps and (now is None or now.version == version):
                return lines

    async def _window(self, gaps: FolderGaps | None, offset: int, limit: int) -> list[ListRow]:
        if gaps is None or self._gaps is None:
            return [ListRow(r) for r in await self.store.window(self._folder_id, offset, limit)]
        lines: list[ListRow] = []
        wanted: list[str] = []
        for pending, start, length in gaps.segments(offset, limit):
            if pending:
                for position in range(start, start + length):
                    lines.append(pending_line(self._folder_id, position))
                    wanted.append(gaps.remote_id(position))
            else:
                rows = await self.store.window(self._folder_id, start, length)
                lines += [ListRow(r) for r in rows]
        if wanted:
            self._gaps.want_window(self._folder_id, wanted)
        return lines

    async def next_unread(self, after: MessageRow | None) -> int | None:
        found = await self.store.next_unread(self._folder_id, after)
        if found is None:
            return None
        gaps = self._gaps.gaps(self._folder_id) if self._gaps is not None else None
        return found[0] if gaps is None else gaps.list_position(found[0])

    async def messages(self, line: ListRow) -> list[int]:
        return [] if line.pending else [line.row.id]

    async def all_ids(self, limit: int) -> list[int]:
        return [r.id for r in await self.store.window(self._folder_id, 0, limit)]


class FilterSource:
    """The messages of a folder that match what the user typed (subject, addresses,
    body), newest first. The last word is a prefix, so matches appear while typing.

    During the folder's first pass (``server``: the sync manager) the server searches
    the part not cached yet and those envelopes are fetched first
    (``sync/server_search.py``); the store's search then finds them with the rest.
    ``server_search`` says how far that is."""

    def __init__(
        self,
        store: MailStore,
        folder_id: int,
        query: str,
        server: ServerQuestions | None = None,
    ) -> None:
        self.store = store
        self._folder_id = folder_id
        self.query = query
        self._rows: list[MessageRow] = []
        self._server = server
        self.server_search: ServerFilter | None = None

    @property
    def folder_id(self) -> int:
        return self._folder_id

    @staticmethod
    def fts_text(query: str) -> str:
        words = query.split()
        if words and not words[-1].endswith("*"):
            words[-1] += "*"
        return " ".join(words)

    async def count(self) -> tuple[int, int]:
        server = self._server
        if server is not None and server.gaps(self._folder_id) is not None:
            self._server = None  # asked once: the worker answers with commits
            self.server_search = server.search_server(self._folder_id, self.query)
        self._rows = await self.store.search(
            self.fts_text(self.query), MAX_MATCH, folder_id=self._folder_id
        )
        return len(self._rows), sum(1 for r in self._rows if r.unread)

    def date_position(self, before: int) -> int:
        """The first match dated before ``before`` (a jump to a date)."""
        return first_before(self._rows, before)

    @property
    def searching(self) -> bool:
        """The server is still searching (or sending) matches not cached yet."""
        search = self.server_search
        return search is not None and search.state in (SearchState.ASKING, SearchState.LOADING)

    async def window(self, offset: int, limit: int) -> list[ListRow]:
        return [ListRow(r) for r in self._rows[max(0, offset) : max(0, offset) + limit]]

    async def next_unread(self, after: MessageRow | None) -> int | None:
        start = 0
        if after is not None:
            start = next((i + 1 for i, r in enumerate(self._rows) if r.id == after.id), 0)
        return next((i for i in range(start, len(self._rows)) if self._rows[i].unread), None)

    async def messages(self, line: ListRow) -> list[int]:
        return [line.row.id]

    async def all_ids(self, limit: int) -> list[int]:
        return [r.id for r in self._rows[:limit]]


@dataclass(slots=True)
class _Open:
    """An expanded conversation: where it is among the threads, and its messages."""

    thread_id: int
    position: int
    rows: list[MessageRow]  # in reply order: each reply under the message it answers
    depths: list[int] = field(default_factory=list)  # how deep each row replies (0: a root)


def _in_reply_order(
    rows: list[MessageRow], replies: list[tuple[int, str, str, tuple[str, ...]]]
) -> tuple[list[MessageRow], list[int]]:
    """``rows`` (oldest first) as a reply tree, with each row's depth in it."""
    headers = {message_id: (mid, irt, refs) for message_id, mid, irt, refs in replies}
    tree = reply_tree([headers.get(row.id, ("", "", ())) for row in rows])
    return [rows[index] for index, _ in tree], [depth for _, depth in tree]


class ThreadSource:
    """A folder's conversations, the most recently active first."""

    def __init__(self, store: MailStore, folder_id: int) -> None:
        self.store = store
        self._folder_id = folder_id
        self._open: dict[int, _Open] = {}
        self.threads = 0  # conversations in the folder, as of the last ``count``

    @property
    def folder_id(self) -> int:
        return self._folder_id

    def is_expanded(self, thread_id: int) -> bool:
        return thread_id in self._open

    def expand(self, thread_id: int) -> None:
        """Open a conversation; its messages are read by the next ``count``."""
        self._open.setdefault(thread_id, _Open(thread_id, -1, []))

    def collapse(self, thread_id: int) -> None:
        self._open.pop(thread_id, None)

    async def count(self) -> tuple[int, int]:
        threads, unread = await self.store.thread_count(self._folder_id)
        self.threads = threads
        for thread_id in list(self._open):
            position = await self.store.thread_position(self._folder_id, thread_id)
            if position is None:  # the conversation left the folder
                del self._open[thread_id]
                continue
            rows = await self.store.thread_messages(self._folder_id, thread_id, MAX_THREAD)
            replies = await self.store.thread_replies(self._folder_id, thread_id, MAX_THREAD)
            rows, depths = _in_reply_order(rows, replies)
            self._open[thread_id] = _Open(thread_id, position, rows, depths)
        return threads + sum(len(o.rows) for o in self._open.values()), unread

    def _layout(self) -> list[_Open]:
        return sorted((o for o in self._open.values() if o.position >= 0), key=lambda o: o.position)

    def line_of(self, position: int) -> int:
        """The line of the thread at ``position`` (open threads above push it down)."""
        return position + sum(len(o.rows) for o in self._layout() if o.position < position)

    def _locate(self, line: int) -> tuple[int, _Open | None, int]:
        """(thread position, open thread if ``line`` is one of its messages, index)."""
        extra = 0
        for o in self._layout():
            root = o.position + extra
            if line <= root:
                break
            if line <= root + len(o.rows):
                return o.position, o, line - root - 1
            extra += len(o.rows)
        return line - extra, None, -1

    async def window(self, offset: int, limit: int) -> list[ListRow]:
        where = [self._locate(line) for line in range(max(0, offset), max(0, offset) + limit)]
        positions = [p for p, o, _ in where if o is None]
        summaries = {}
        if positions:
            first = min(positions)
            found = await self.store.thread_window(
                self._folder_id, first, max(positions) - first + 1
            )
            summaries = {first + i: s for i, s in enumerate(found)}
        out: list[ListRow] = []
        for position, opened, index in where:
            if opened is not None:
                depth = opened.depths[index] if index < len(opened.depths) else 0
                out.append(ListRow(opened.rows[index], depth=1 + min(depth, MAX_REPLY_DEPTH)))
                continue
            summary = summaries.get(position)
            if summary is None:
                break
            out.append(
                ListRow(
                    summary.row,
                    thread=True,
                    thread_size=summary.total,
                    expanded=summary.row.thread_id in self._open,
                )
            )
        return out

    async def next_unread(self, after: MessageRow | None) -> int | None:
        found = await self.store.next_unread_thread(self._folder_id, after)
        return None if found is None else self.line_of(found[0])

    async def messages(self, line: ListRow) -> list[int]:
        if not line.thread or line.thread_size <= 1:
            return [line.row.id]
        rows = await self.store.thread_messages(self._folder_id, line.row.thread_id, MAX_SELECT)
        return [r.id for r in rows]

    async def all_ids(self, limit: int) -> list[int]:
        return [r.id for r in await self.store.window(self._folder_id, 0, limit)]


#: ``folder_id`` of the unified inbox's sources (no folder has it: SQLite ids start at 1).
UNIFIED = -1
#: An account tag in the unified inbox is at most this many cells.
TAG_WIDTH = 6


def cut_cells(text: str, width: int) -> str:
    """The start of ``text`` that fits in ``width`` terminal cells, cut between
    characters as the terminal shows them (a wide CJK character or an emoji takes two
    cells; one that would straddle the edge is left out, never halved)."""
    if width <= 0 or not text:
        return ""
    return chop_cells(text, width)[0]


def account_tags(accounts: Sequence[Account], width: int = TAG_WIDTH) -> dict[int, str]:
    """Short, distinct tags for accounts, padded to one width (a column): the name's
    first ``width`` terminal cells; names that would clash end in their place in the
    list instead (``work1``, ``work2``). Widths are cells, not characters, so that a
    name in CJK or with an emoji keeps the column straight."""
    names = {a.id: clean_line(a.name) for a in accounts}
    tags = {k: cut_cells(name, width) for k, name in names.items()}
    clashes = {t for t in tags.values() if list(tags.values()).count(t) > 1}
    for n, account in enumerate(accounts, 1):
        if tags[account.id] in clashes:
            suffix = str(n)
            tags[account.id] = cut_cells(names[account.id], max(1, width - len(suffix))) + suffix
    longest = max((cell_len(t) for t in tags.values()), default=0)
    return {k: t + " " * (longest - cell_len(t)) for k, t in tags.items()}


class InboxSource:
    """The unified inbox: every account's Inbox, newest first (``store.inbox_window``)."""

    def __init__(self, store: MailStore) -> None:
        self.store = store
        self.inboxes: dict[int, Folder] = {}  # inbox folder id -> folder, as of ``count``
        self.tags: dict[int, str] = {}  # inbox folder id -> its account's tag ("" if one)
        self._folder_of: dict[int, int] = {}  # message id -> folder, for ids handed out

    @property
    def folder_id(self) -> int:
        return UNIFIED

    async def _refresh(self) -> None:
        """The inboxes and their accounts' tags (a few rows: folders, not messages)."""
        accounts = await self.store.accounts()
        folders = await self.store.folders()
        self.inboxes = {f.id: f for f in folders if f.role == FolderRole.INBOX}
        owners = {f.account_id for f in self.inboxes.values()}
        listed = [a for a in accounts if a.id in owners]
        tags = account_tags(listed) if len(listed) > 1 else {}
        self.tags = {f.id: tags.get(f.account_id, "") for f in self.inboxes.values()}

    async def count(self) -> tuple[int, int]:
        await self._refresh()
        return await self.store.inbox_count()

    def _line(self, row: MessageRow) -> ListRow:
        return ListRow(row, tag=self.tags.get(row.folder_id, ""))

    async def window(self, offset: int, limit: int) -> list[ListRow]:
        return [self._line(r) for r in await self.store.inbox_window(offset, limit)]

    async def next_unread(self, after: MessageRow | None) -> int | None:
        found = await self.store.inbox_next_unread(after)
        return None if found is None else found[0]

    async def messages(self, line: ListRow) -> list[int]:
        self._folder_of[line.row.id] = line.row.folder_id
        return [line.row.id]

    async def all_ids(self, limit: int) -> list[int]:
        rows = await self.store.inbox_window(0, limit)
        self._folder_of.update((r.id, r.folder_id) for r in rows)
        return [r.id for r in rows]

    def account_of(self, row: MessageRow) -> int | None:
        """The account of a row this source listed (None: not one of its inboxes)."""
        folder = self.inboxes.get(row.folder_id)
        return folder.account_id if folder is not None else None

    async def accounts_of(self, ids: Iterable[int]) -> dict[int, list[int]]:
        """Account id -> its messages among ``ids`` (in order). Ids this source handed
        out are looked up here; others (a conversation selected by thread) in the store."""
        accounts = {f.id: f.account_id for f in self.inboxes.values()}
        out: dict[int, list[int]] = {}
        for mid in ids:
            folder = self._folder_of.get(mid)
            account = accounts.get(folder) if folder is not None else None
            if account is None:
                detail = await self.store.message(mid)
                if detail is None:
                    continue
                account = detail.account_id
            out.setdefault(account, []).append(mid)
        return out


class InboxFilterSource(InboxSource):
    """The unified inbox's messages that match what the user typed: one search per
    inbox (``store.search(folder_id=...)``), merged newest first, at most MAX_MATCH. An
    inbox in its first pass has the server search its part not cached yet, as in
    ``FilterSource``."""

    def __init__(self, store: MailStore, query: str, server: ServerQuestions | None = None) -> None:
        super().__init__(store)
        self.query = query
        self._rows: list[MessageRow] = []
        self._server = server
        self._searches: dict[int, ServerFilter | None] = {}  # inbox → its server search

    @property
    def server_search(self) -> ServerFilter | None:
        """The inboxes' server searches as one: asking while one asks, the matches
        still coming summed, done when all are."""
        searches = [found for found in self._searches.values() if found is not None]
        for state in (SearchState.ASKING, SearchState.FAILED):
            if any(found.state is state for found in searches):
                return next(found for found in searches if found.state is state)
        loading = [found for found in searches if found.state is SearchState.LOADING]
        if loading:
            total = sum(found.found for found in loading)
            return ServerFilter(UNIFIED, (), SearchState.LOADING, found=total)
        return searches[0] if searches else None

    @property
    def searching(self) -> bool:
        found = self.server_search
        return found is not None and found.state in (SearchState.ASKING, SearchState.LOADING)

    async def count(self) -> tuple[int, int]:
        await self._refresh()
        server = self._server
        if server is not None:
            for inbox in self.inboxes:
                if inbox not in self._searches and server.gaps(inbox) is not None:
                    self._searches[inbox] = server.search_server(inbox, self.query)
        text = FilterSource.fts_text(self.query)
        found = [await self.store.search(text, MAX_MATCH, folder_id=f) for f in self.inboxes]
        merged = heapq.merge(*found, key=lambda r: (r.date, r.id), reverse=True)
        self._rows = [row for _, row in zip(range(MAX_MATCH), merged, strict=False)]
        self._folder_of.update((r.id, r.folder_id) for r in self._rows)
        return len(self._rows), sum(1 for r in self._rows if r.unread)

    async def window(self, offset: int, limit: int) -> list[ListRow]:
        return [self._line(r) for r in self._rows[max(0, offset) : max(0, offset) + limit]]

    def date_position(self, before: int) -> int:
        """The first match dated before ``before`` (a jump to a date)."""
        return first_before(self._rows, before)

    async def next_unread(self, after: MessageRow | None) -> int | None:
        start = 0
        if after is not None:
            start = next((i + 1 for i, r in enumerate(self._rows) if r.id == after.id), 0)
        return next((i for i in range(start, len(self._rows)) if self._rows[i].unread), None)

    async def all_ids(self, limit: int) -> list[int]:
        return [r.id for r in self._rows[:limit]]
