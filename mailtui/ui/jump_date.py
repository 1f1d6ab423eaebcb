"""Jump to a date (``@``): the cursor goes to the first message on or before a day.

    @ ──TextPrompt──▶ parse_day ──▶ position in the list ──▶ MessageList.jump_to
                          │ not a date: a notice, nothing moves

What the user may type (``parse_day``): ``2024-03-15``; ``2024-03`` and ``2024`` (the
last day of that month or year: "on or before March" is March's newest message);
``today``, ``yesterday``; ``3 days ago``, ``a week ago``, ``2 months ago``, ``1 year ago``.

Where the day falls, by what the list shows (``position``):

- a folder: a store read (``date_position``, an index count). During the folder's first
  pass with a listing (``ListGaps.gaps``), the part not cached yet may hold it: the sync
  manager asks the server through the account's worker (``date_position``: the newest
  message that arrived on or before the day, its window fetched and committed first), so
  the cursor lands on the right rows, not on the oldest message cached so far. Without
  an answer (offline, no listing) the cached rows decide, and the notice says so.
- conversations: the first conversation whose newest message is on or before the day;
  a filter: its matches; the unified inbox: each Inbox's count, summed.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta
from typing import Protocol

from mailtui.mime import clean_line
from mailtui.ui.dates import Clock
from mailtui.ui.list_sources import (
    FilterSource,
    FolderSource,
    InboxFilterSource,
    InboxSource,
    ListSource,
    ThreadSource,
)
from mailtui.ui.services import MailStore, ServerQuestions

QUESTION = "Go to the date (2024-03-15, 2024-03, 3 weeks ago, yesterday):"
EXAMPLES = "2024-03-15, 2024-03 or 3 weeks ago"
SO_FAR = " (among the messages loaded so far)"

_AGO = re.compile(r"(a|an|one|\d{1,5})\s+(day|week|month|year)s?\s+ago")
_UNIT_DAYS = {"day": 1, "week": 7}


def _months_back(day: date, months: int) -> date:
    """``day`` moved ``months`` back, on the same day of the month or its last."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def parse_day(text: str, today: date) -> date | None:
    """The last day ``text`` stands for (see the module docstring); None when it is not
    a date mailtui reads."""
    words = " ".join(text.lower().split())
    try:
        if words == "today":
            return today
        if words == "yesterday":
            return today - timedelta(days=1)
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", words):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", words):
            year, month = int(m[1]), int(m[2])
            return date(year, month, calendar.monthrange(year, month)[1])
        if m := re.fullmatch(r"(\d{4})", words):
            return date(int(m[1]), 12, 31)
        if m := _AGO.fullmatch(words):
            n = int(m[1]) if m[1].isdigit() else 1
            unit = m[2]
            if unit in _UNIT_DAYS:
                return today - timedelta(days=n * _UNIT_DAYS[unit])
            return _months_back(today, n * (12 if unit == "year" else 1))
    except (ValueError, OverflowError, calendar.IllegalMonthError):
        return None  # 2024-13-01, 2024-02-30, the year 0, 99999 weeks ago
    return None


class Listing(Protocol):
    """The message list, as the jump reads and moves it."""

    @property
    def source(self) -> ListSource | None: ...

    @property
    def total(self) -> int: ...

    def jump_to(self, index: int) -> None: ...


class JumpView(Protocol):
    @property
    def message_list(self) -> Listing: ...

    def say(self, words: str, *, wait: bool = False) -> None:
        """The status bar's notice (``wait``: until the next one)."""


class DateJump:
    """The main screen's jump to a date."""

    def __init__(
        self,
        view: JumpView,
        store: MailStore,
        manager: ServerQuestions | None,
        clock: Clock,
    ) -> None:
        self.view = view
        self.store = store
        self.manager = manager
        self.clock = clock

    async def go(self, text: str | None) -> None:
        """Move the cursor to the first message on or before the day ``text`` names."""
        if not text:
            return
        now = self.clock()
        day = parse_day(text, now.date())
        if day is None:
            self.view.say(f'Not a date: "{clean_line(text)[:30]}". Try {EXAMPLES}')
            return
        listing = self.view.message_list
        source = listing.source
        if source is None or not listing.total:
            self.view.say("No messages here")
            return
        before = int(datetime.combine(day + timedelta(days=1), time(), now.tzinfo).timestamp())
        position, note = await self.position(source, day, before)
        if source is not listing.source:
            self.view.say("")  # the user went elsewhere meanwhile
            return
        if position >= listing.total:
            listing.jump_to(listing.total - 1)
            self.view.say(f"Nothing on or before {day.isoformat()} here: the oldest{note}")
            return
        listing.jump_to(position)
        self.view.say(f"On or before {day.isoformat()}{note}")

    async def position(self, source: ListSource, day: date, before: int) -> tuple[int, str]:
        """(the line of the first message on or before the day, a note for the notice)."""
        manager = self.manager
        folder_id = source.folder_id
        gaps = manager.gaps(folder_id) if manager is not None else None
        if isinstance(source, FolderSource):
            if manager is None or gaps is None:
                return await self.store.date_position(folder_id, before), ""
            self.view.say("Asking server…", wait=True)  # (16 cells at 80 columns)
            found = await manager.date_position(folder_id, day)
            if found is not None:
                return found, ""
            cached = await self.store.date_position(folder_id, before)
            gaps = manager.gaps(folder_id)  # (the pass may have ended meanwhile)
            return (cached, "") if gaps is None else (gaps.list_position(cached), SO_FAR)
        note = SO_FAR if gaps is not None else ""
        if isinstance(source, ThreadSource):
            found = await self.store.thread_date_position(folder_id, before)
            return source.line_of(found), note
        if isinstance(source, (FilterSource, InboxFilterSource)):
            searched = source.server_search is not None and source.server_search.complete
            return source.date_position(before), "" if searched else note
        if isinstance(source, InboxSource):
            counts = [await self.store.date_position(f, before) for f in source.inboxes]
            return sum(counts), ""
        return 0, ""
