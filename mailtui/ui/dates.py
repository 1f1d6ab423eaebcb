"""Compact dates for the message list and full dates for the reader.

The clock is a parameter so that tests (and snapshots) can fix "now" and its time zone.
Nothing here imports Textual.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

Clock = Callable[[], datetime]
"""Returns the current time as an *aware* datetime; its tzinfo is the zone dates show in."""


def local_clock() -> datetime:
    """The real clock, in the machine's local time zone."""
    return datetime.now().astimezone()


def _to_zone(timestamp: int, now: datetime) -> datetime | None:
    try:
        return datetime.fromtimestamp(timestamp, tz=now.tzinfo)
    except (OverflowError, OSError, ValueError):
        return None  # a broken Date header can put anything in the store


def list_date(timestamp: int, now: datetime) -> str:
    """A date for the list, at most 10 cells wide.

    ``14:05`` for today, ``Mon 12`` for the past six days, ``2026-03-04`` otherwise
    (older mail, and mail dated in the future by a wrong sender clock).
    """
    when = _to_zone(timestamp, now)
    if when is None or timestamp <= 0:
        return ""
    day = when.date()
    today = now.date()
    if day == today:
        return when.strftime("%H:%M")
    if today - timedelta(days=6) <= day < today:
        return f"{when.strftime('%a')} {when.day}"
    return day.isoformat()


def full_date(timestamp: int, now: datetime) -> str:
    """A date for the reader's header block: ``Wed 2026-03-04 14:05``."""
    when = _to_zone(timestamp, now)
    if when is None or timestamp <= 0:
        return "(no date)"
    return when.strftime("%a %Y-%m-%d %H:%M")
