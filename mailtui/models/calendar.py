"""Calendar items as a server has them, and the batches a backend syncs them in.

Plain data, like the rest of ``models``. Times are Unix timestamps (UTC); an all-day
item runs from the start of its first day to the start of the day after its last, in
``timezone``. A recurring item is stored once, with its rule (``recurrence``, RFC 5545
RRULE text) and its first occurrence as ``start``/``end``: expanding occurrences is the
reader's business. ``data`` keeps the protocol's own fields (JSON-able).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class CalendarItem:
    remote_id: str
    summary: str
    start: int
    end: int
    all_day: bool = False
    location: str = ""
    description: str = ""
    organizer: str = ""
    timezone: str = ""  # IANA name the item was made in; "" for UTC or unknown
    recurrence: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class CalendarBatch:
    """One batch of changes in one calendar folder, committed in one transaction; the
    same rules as ``ContactBatch`` (written by remote id, ``removed`` by remote id)."""

    folder: str
    added: list[CalendarItem] = field(default_factory=list)
    changed: list[CalendarItem] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    reset: bool = False  # drop every cached item of this folder first
    state: dict[str, Any] | None = None
    account_state: dict[str, Any] | None = None
    progress: tuple[int, int] = (0, 0)
    complete: bool = False
