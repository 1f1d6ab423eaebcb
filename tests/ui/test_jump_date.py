"""A jump to a date (``@``, mailtui/ui/jump_date.py): what the user may type, and where
the cursor lands in a cached folder, its conversations and a filter (Pilot at 80x24).
During a first pass the server is asked: tests/integration/test_imap_window_jump.py."""

from __future__ import annotations

from datetime import date

import pytest

from mailtui.ui.jump_date import parse_day
from mailtui.ui.modals.text_prompt import TextPrompt
from mailtui.ui.widgets import MessageList

from .conftest import FakeManager, MailFixture, make_app, screen_text, typing_goes_to
from .test_main_screen import wait_until

TODAY = date(2026, 3, 12)


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("2024-03-15", date(2024, 3, 15)),
        ("2024-3-5", date(2024, 3, 5)),
        ("2024-03", date(2024, 3, 31)),  # on or before March: March's newest
        ("2024-02", date(2024, 2, 29)),
        ("2023", date(2023, 12, 31)),
        ("today", TODAY),
        (" Yesterday ", date(2026, 3, 11)),
        ("3 days ago", date(2026, 3, 9)),
        ("3 weeks ago", date(2026, 2, 19)),
        ("a week ago", date(2026, 3, 5)),
        ("1 month ago", date(2026, 2, 12)),
        ("2 years ago", date(2024, 3, 12)),
    ],
)
def test_what_the_user_may_type(typed: str, day: date) -> None:
    assert parse_day(typed, TODAY) == day


def test_a_month_back_from_a_long_month_ends_on_the_shorter_ones_last_day() -> None:
    assert parse_day("1 month ago", date(2026, 3, 31)) == date(2026, 2, 28)
    assert parse_day("1 year ago", date(2024, 2, 29)) == date(2023, 2, 28)


@pytest.mark.parametrize(
    "typed",
    ["", "tomorrow", "2024-13-01", "2024-02-30", "0000-01-01", "99999 years ago", "3 weeks",
     "12/03/2024", "2024-03-15 14:00", "-1 days ago"],
)
def test_what_is_not_a_date(typed: str) -> None:
    assert parse_day(typed, TODAY) is None


async def jump(pilot, app, text: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("at")
    await wait_until(pilot, lambda: typing_goes_to(app, TextPrompt))  # mounted, focused
    app.screen.query_one("Input").value = text
    await pilot.press("enter")
    await wait_until(pilot, lambda: app.screen is app.main_screen)


async def test_the_cursor_lands_on_the_first_message_on_or_before_the_day(
    mail: MailFixture,
) -> None:
    # Message i is i * 9 hours older than 2026-03-12 15:30 UTC (the fixed clock): the
    # newest on or before 2026-03-10 is message 5 (2026-03-10 18:30); 4 is on the 11th.
    app = make_app(mail.store, FakeManager())
    async with app.run_test(size=(80, 24)) as pilot:
        messages = app.main_screen.query_one(MessageList)
        bar = app.main_screen.status_bar

        def on(subject: str) -> bool:
            row = messages.cursor_row
            return row is not None and row.subject == subject

        await wait_until(pilot, lambda: "Message 000000" in screen_text(app))
        await jump(pilot, app, "2026-03-10")
        await wait_until(pilot, lambda: on("Message 000005"))
        assert messages.cursor == 5 and bar._notice == "On or before 2026-03-10"
        top = screen_text(app).splitlines()[0]
        assert "Message 000005" in top  # the day's first message heads the screen

        # Bad input: a clear word, the cursor stays.
        await jump(pilot, app, "the 31st of February")
        await wait_until(pilot, lambda: bar._notice.startswith('Not a date: "the 31st'))
        assert "2024-03-15, 2024-03 or 3 weeks ago" in bar._notice and messages.cursor == 5

        # Older than anything: the oldest, said so; a day to come: the newest.
        await jump(pilot, app, "2020")
        await wait_until(pilot, lambda: on("Message 000059"))
        assert bar._notice == "Nothing on or before 2020-12-31 here: the oldest"
        await jump(pilot, app, "2027-01-01")
        await wait_until(pilot, lambda: on("Message 000000"))

        # The conversations: the first whose newest message is on or before the day.
        await pilot.press("T")
        await wait_until(pilot, lambda: "conversations" in bar._location)
        await jump(pilot, app, "2 days ago")
        await wait_until(pilot, lambda: on("Message 000005"))

        # A filter: its matches (here every message).
        await pilot.press("T", "slash", *"Message", "enter")
        await wait_until(pilot, lambda: 'filter "Message"' in bar._location)
        await jump(pilot, app, "2026-03-09")  # message 8 is the newest of the 9th
        await wait_until(pilot, lambda: on("Message 000008"))
        assert messages.cursor == 8
